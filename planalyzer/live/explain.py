"""Run EXPLAIN on a live connection without changing the user's data or session.

Every EXPLAIN runs inside a transaction — or a savepoint, when the caller already has a
transaction open — that is always rolled back, so data changes made under ANALYZE disappear and
``SET LOCAL`` settings (the timeout, ``plan_cache_mode``) end with it. Afterwards the connection
is in the state it was in before: same autocommit flag, same transaction status, same settings,
whether EXPLAIN succeeded, failed or timed out.

What a rollback cannot undo is checked before ANALYZE runs anything
(`planalyzer.live.side_effects`): such statements are refused, or run with a warning on
``plan.warnings`` (see docs/safety.md).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.rows import tuple_row

from planalyzer.errors import ExplainError
from planalyzer.live._errors import explain_error
from planalyzer.live._session import check_usable, rolled_back, scoped
from planalyzer.live.classify import Statement, classify
from planalyzer.live.sequences import SequenceState, read_sequences, sequence_warnings
from planalyzer.live.side_effect_catalog import LiveSideEffectCatalog
from planalyzer.live.side_effects import SequenceRef, assess
from planalyzer.plan.model import Plan
from planalyzer.plan.parse import parse

__all__ = ["explain", "explain_options"]

# First server_version_num that accepts each option.
_SETTINGS_SINCE = 120000
_BUFFERS_WITHOUT_ANALYZE_SINCE = 130000
_WAL_SINCE = 130000
_GENERIC_PLAN_SINCE = 160000


def explain_options(
    server_version: int,
    *,
    analyze: bool,
    buffers: bool,
    settings: bool,
    verbose: bool,
    wal: bool,
    generic_plan: bool = False,
) -> list[str]:
    """The EXPLAIN options to request, keeping only those ``server_version`` supports.

    The words come from this fixed list only, never from user input, so they can be composed
    into the statement as SQL.

    Example:
        >>> explain_options(110000, analyze=False, buffers=True, settings=True,
        ...                 verbose=False, wal=True)
        ['FORMAT JSON']
        >>> explain_options(150000, analyze=True, buffers=True, settings=True,
        ...                 verbose=True, wal=True)
        ['FORMAT JSON', 'ANALYZE', 'BUFFERS', 'SETTINGS', 'VERBOSE', 'WAL']
    """
    options = ["FORMAT JSON"]
    if analyze:
        options.append("ANALYZE")
    if buffers and (analyze or server_version >= _BUFFERS_WITHOUT_ANALYZE_SINCE):
        options.append("BUFFERS")
    if settings and server_version >= _SETTINGS_SINCE:
        options.append("SETTINGS")
    if verbose:
        options.append("VERBOSE")
    if wal and analyze and server_version >= _WAL_SINCE:
        options.append("WAL")  # WAL figures are measured, so they need ANALYZE
    if generic_plan and server_version >= _GENERIC_PLAN_SINCE:
        options.append("GENERIC_PLAN")
    return options


def explain(
    conn: psycopg.Connection[Any],
    sql: str,
    params: Any = None,
    *,
    analyze: bool = True,
    buffers: bool = True,
    settings: bool = True,
    verbose: bool = False,
    wal: bool = False,
    timeout_s: float | None = None,
    allow_side_effects: bool = False,
) -> Plan:
    """Explain one statement on ``conn`` and return its parsed `Plan`.

    The statement is parsed with pglast first. Queries (SELECT, VALUES, TABLE) and data changes
    (INSERT, UPDATE, DELETE, MERGE, data-modifying CTEs) are explained inside a transaction, or a
    savepoint inside the caller's open transaction, that is **always rolled back** — even a
    SELECT, because it may call volatile functions. Anything else (DDL, transaction control,
    COPY, SET, several statements) is refused before reaching the server.

    Parameters use psycopg's placeholders (``%s``, ``%(name)s``) and are bound as usual. A
    statement with ``$1``-style placeholders and no ``params`` gets the **generic plan** the
    server would cache for it: ``EXPLAIN (GENERIC_PLAN)`` on PostgreSQL 16+, a prepared
    statement under ``plan_cache_mode = force_generic_plan`` on older servers. A generic plan is
    never executed, so ``analyze`` is ignored for it.

    Options are requested only where the server supports them: SETTINGS from 12, WAL from 13
    (and only with ANALYZE), BUFFERS without ANALYZE from 13.

    What a rollback cannot undo is looked for before ANALYZE runs anything: every function the
    statement calls (also in the views it reads, in SQL function bodies, and in the defaults and
    triggers of the tables it writes) is resolved in the catalog. Functions whose effect
    outlives the rollback — ``setval``, ``pg_terminate_backend``, session advisory locks,
    server file writes, ``dblink`` ... — make it refuse the statement with
    `UnsafeStatementError` unless ``allow_side_effects=True``. Sequences it advances
    (``nextval``, serial and identity columns), transaction advisory locks and user-defined
    VOLATILE functions and triggers are allowed and reported on ``plan.warnings``. Plain
    EXPLAIN (``analyze=False``) executes nothing and is never refused. See docs/safety.md.

    Args:
        conn: a psycopg 3 connection; autocommit or not, idle or inside a transaction (not a
            failed one). It is left as it was found.
        sql: exactly one statement.
        params: values for psycopg placeholders, as for ``conn.execute``.
        analyze: run the statement and report actual times and rows.
        buffers: report buffer usage.
        settings: report planner settings that differ from the defaults.
        verbose: report output columns and schema-qualified names.
        wal: report WAL generated (needs ``analyze``).
        timeout_s: cancel the statement after this many seconds (``SET LOCAL
            statement_timeout``, so the session's own value is untouched).
        allow_side_effects: run a statement under ANALYZE even though it calls a function a
            rollback does not undo; ``plan.warnings`` says what ran.

    Returns:
        The plan, carrying ``sql``, ``params``, the server's ``server_version`` and
        ``warnings`` about what ANALYZE ran that the rollback did not undo.

    Raises:
        UnsafeStatementError: the statement is not one that can be explained safely, or under
            ANALYZE it would call a refused function (``.functions`` and ``.reasons`` say
            which and why).
        ExplainError: the server rejected it or it timed out (``sqlstate`` ``57014``); the
            connection is still usable.

    Example (needs a server, so not a doctest)::

        with psycopg.connect(dsn) as conn:
            plan = explain(conn, "SELECT * FROM orders WHERE customer_id = %s", [42])
            plan = explain(conn, "UPDATE orders SET total = 0 WHERE id = 1")  # rolled back
            plan = explain(conn, "SELECT * FROM orders WHERE id = $1")  # generic plan
    """
    statement = classify(sql, psycopg_params=params is not None)
    version = conn.info.server_version
    generic = statement.has_dollar_params and params is None
    options = explain_options(
        version,
        analyze=analyze and not generic,
        buffers=buffers,
        settings=settings,
        verbose=verbose,
        wal=wal,
        generic_plan=generic,
    )
    check_usable(conn, ExplainError, "explain")
    warnings: list[str] = []
    try:
        if generic and version < _GENERIC_PLAN_SINCE:
            document = _generic_plan_prepared(conn, sql, options, timeout_s)
        elif "ANALYZE" in options:
            document = _analyze_guarded(
                conn,
                sql,
                statement,
                options,
                params,
                timeout_s=timeout_s,
                allow_side_effects=allow_side_effects,
                warnings=warnings,
            )
        else:
            with rolled_back(conn, timeout_s):
                document = _run_explain(conn, _explain_sql(options, pgsql.SQL(sql)), params)
    except psycopg.Error as err:
        raise explain_error(err, sql, timeout_s=timeout_s) from err
    plan = parse(document, sql=sql, params=params, server_version=version)
    plan.warnings.extend(warnings)
    return plan


def _analyze_guarded(
    conn: psycopg.Connection[Any],
    sql: str,
    statement: Statement,
    options: list[str],
    params: Any,
    *,
    timeout_s: float | None,
    allow_side_effects: bool,
    warnings: list[str],
) -> Any:
    """EXPLAIN ANALYZE after checking what it would run; fills ``warnings``.

    The check and the first sequence reading happen inside the same rolled-back block as the
    EXPLAIN; the second reading after it, because the block's transaction may have failed.
    When the EXPLAIN fails, sequences it advanced before failing are added as notes to the
    error.
    """
    before: list[SequenceState] = []
    try:
        with rolled_back(conn, timeout_s):
            if statement.root is not None:
                assessment = assess([statement.root], LiveSideEffectCatalog(conn))
                if assessment.refused and not allow_side_effects:
                    raise assessment.refusal(sql)
                warnings.extend(assessment.warnings())
                before = read_sequences(conn, assessment.sequences)
            document = _run_explain(conn, _explain_sql(options, pgsql.SQL(sql)), params)
    except psycopg.Error as err:
        error = explain_error(err, sql, timeout_s=timeout_s)
        with contextlib.suppress(psycopg.Error):
            for line in _moved(conn, before):
                error.add_note(line)
        raise error from err
    warnings.extend(_moved(conn, before))
    return document


def _moved(conn: psycopg.Connection[Any], before: list[SequenceState]) -> list[str]:
    """Warnings for the sequences that moved since ``before`` was read."""
    if not before or conn.closed:
        return []
    with scoped(conn):
        after = read_sequences(conn, [SequenceRef(s.oid, s.name) for s in before])
    return sequence_warnings(before, after)


def _explain_sql(options: list[str], body: pgsql.Composable) -> pgsql.Composed:
    """``EXPLAIN (options) body``; the options are trusted words from `explain_options`."""
    option_list = pgsql.SQL(", ").join(pgsql.SQL(option) for option in options)
    return pgsql.SQL("EXPLAIN ({}) {}").format(option_list, body)


def _run_explain(conn: psycopg.Connection[Any], query: pgsql.Composed, params: Any) -> Any:
    """Execute an EXPLAIN (FORMAT JSON) and return its single value (a decoded JSON list)."""
    # A cursor of our own: the user's row factory must not change what we read, and
    # prepare=False keeps psycopg from leaving prepared statements in their session.
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(query, params, prepare=False)
        row = cur.fetchone()
    if row is None:
        raise ExplainError("EXPLAIN returned no rows", statement=query.as_string(conn))
    return row[0]


def _generic_plan_prepared(
    conn: psycopg.Connection[Any], sql: str, options: list[str], timeout_s: float | None
) -> Any:
    """Generic plan before PostgreSQL 16: PREPARE, force the generic plan, EXPLAIN EXECUTE.

    Prepared statements are not transactional: a rollback neither removes one nor restores a
    deallocated one, and DEALLOCATE is refused inside a failed transaction. So PREPARE runs in a
    block of its own (it only parses), the EXPLAIN in the rolled-back block, and DEALLOCATE
    after it, whatever happened.
    """
    name = f"planalyzer_generic_{uuid.uuid4().hex}"
    ident = pgsql.Identifier(name)
    with conn.transaction():
        conn.execute(pgsql.SQL("PREPARE {} AS {}").format(ident, pgsql.SQL(sql)), prepare=False)
    try:
        with rolled_back(conn, timeout_s):
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(
                    "SELECT cardinality(parameter_types) FROM pg_prepared_statements"
                    " WHERE name = %s",
                    [name],
                    prepare=False,
                )
                row = cur.fetchone()
            count = int(row[0] or 0) if row is not None else 0
            conn.execute("SET LOCAL plan_cache_mode = force_generic_plan", prepare=False)
            execute = pgsql.SQL("EXECUTE {}").format(ident)
            if count:
                # NULL for every parameter: the generic plan does not look at the values.
                nulls = pgsql.SQL(", ").join([pgsql.NULL] * count)
                execute = pgsql.SQL("{}({})").format(execute, nulls)
            return _run_explain(conn, _explain_sql(options, execute), None)
    finally:
        with contextlib.suppress(psycopg.Error), conn.transaction():
            conn.execute(pgsql.SQL("DEALLOCATE {}").format(ident), prepare=False)
