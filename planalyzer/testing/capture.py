"""Record every statement an application runs on a psycopg 3 connection, then check their plans.

``capture_queries(conn)`` swaps the connection's ``cursor_factory`` and ``server_cursor_factory``
for subclasses of the current ones that note each statement and its parameters, then call the
original method unchanged; on exit (also on an exception) the factories are put back. The
application gets the same cursors, rows, row factories and errors as without it.

What is recorded: ``conn.execute``, ``cursor.execute``, ``cursor.executemany`` (one entry per
parameter set, as each is run), ``cursor.stream``, ``cursor.copy`` (the COPY statement; the data
is not), and named (server-side) cursors' ``execute`` (the query behind the ``DECLARE``), also
inside ``conn.pipeline()``. Limits:

- cursors created *before* the block are not instrumented (their class is fixed at creation);
  cursors created inside it stop recording when the block ends;
- transaction control that psycopg sends itself (``conn.commit()``, ``conn.rollback()``,
  ``conn.transaction()``) is not a statement the application wrote and is not recorded;
- async connections (``psycopg.AsyncConnection``) are not supported;
- a statement is recorded when it is sent; whether it then failed is not tracked (in pipeline
  mode errors arrive later, at the sync point).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.pq import TransactionStatus

from planalyzer.errors import ExplainError, UnsafeStatementError
from planalyzer.plan.model import Plan
from planalyzer.rules.config import RuleConfig
from planalyzer.rules.finding import Severity
from planalyzer.testing._messages import (
    MAX_FOUND_LINES,
    PlanAssertionError,
    render_findings,
    render_tree,
)
from planalyzer.testing._record import record
from planalyzer.testing.assertions import DEFAULT_SEQ_SCAN_MIN_ROWS, PlanChecker, check_rule_ids

__all__ = ["CapturedQueries", "CapturedStatement", "CheckedStatement", "capture_queries"]

_MAX_DETAILED = 10  # failing statements shown in full in one error; the rest are counted
_TREE_LINES = 16  # tree lines per failing statement (several share one message)


@dataclass(frozen=True)
class CapturedStatement:
    """One statement the application sent.

    Attributes:
        sql: the statement text (a ``psycopg.sql`` composition rendered as the server gets it).
        params: the parameters it was run with, as passed (None without).
        method: ``execute``, ``executemany``, ``stream``, ``copy`` or ``server-cursor``.
    """

    sql: str
    params: Any
    method: str


@dataclass(frozen=True)
class CheckedStatement:
    """The outcome of `CapturedQueries.assert_plans` for one distinct statement text.

    Attributes:
        statement: its first execution (the parameters explained with).
        count: how many times it was run.
        plan: its plan, or None when it was skipped.
        skipped: why it was not explained (None when it was).
        failures: the expectations it failed, with what was found.
        note: a caveat about the plan (e.g. estimated only, because running it alone failed).
    """

    statement: CapturedStatement
    count: int
    plan: Plan | None
    skipped: str | None = None
    failures: tuple[PlanAssertionError, ...] = ()
    note: str | None = None


@dataclass
class CapturedQueries:
    """The statements recorded by `capture_queries`, in the order they were sent."""

    statements: list[CapturedStatement] = field(default_factory=list)
    active: bool = field(default=True, repr=False)
    _conn: psycopg.Connection[Any] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.statements)

    def __iter__(self) -> Iterator[CapturedStatement]:
        return iter(self.statements)

    @property
    def sql(self) -> list[str]:
        """The statement texts, in order (repeats included)."""
        return [s.sql for s in self.statements]

    def distinct(self) -> list[tuple[CapturedStatement, int]]:
        """Each distinct statement text once, first execution and run count, in first-run order."""
        seen: dict[str, list[Any]] = {}
        for statement in self.statements:
            key = statement.sql.strip()
            if key in seen:
                seen[key][1] += 1
            else:
                seen[key] = [statement, 1]
        return [(first, count) for first, count in seen.values()]

    def _add(self, cursor: Any, query: Any, params: Any, method: str) -> None:
        if self.active:
            self.statements.append(CapturedStatement(_text(cursor, query), params, method))

    def assert_plans(
        self,
        *,
        no_seq_scan: bool = True,
        max_findings: Severity | str | None = Severity.WARNING,
        ignore: Iterable[str] = (),
        max_cost: float | None = None,
        seq_scan_min_rows: float = DEFAULT_SEQ_SCAN_MIN_ROWS,
        config: RuleConfig | None = None,
        analyze: bool = True,
    ) -> list[CheckedStatement]:
        """Explain each distinct captured statement and check its plan; report all failures.

        Every statement text is explained once, with the parameters of its first run, through
        `planalyzer.live.explain.explain`: in a transaction (or savepoint) that is rolled back,
        so a captured INSERT/UPDATE/DELETE changes nothing. Statements that cannot be explained
        — transaction control, SET, DDL, COPY, or ones the server rejects now — are skipped
        with a note. Failing statements are reported together in one `PlanAssertionError`.

        Args:
            no_seq_scan: fail on seq scans reading ``seq_scan_min_rows`` rows or more (see
                `PlanChecker.no_seq_scan`).
            max_findings: fail on ``pa.analyze`` findings at this severity or above
                (``"warning"``: warnings and critical ones fail); None to not check findings.
            ignore: rule ids whose findings never fail.
            max_cost: fail when a plan's total cost is above this.
            seq_scan_min_rows: see ``no_seq_scan``.
            config: rule thresholds (defaults to ``RuleConfig()``).
            analyze: explain with ANALYZE (runs each statement again, rolled back); False gives
                estimated plans, whose seq-scan sizes are bounded from their cost.

        Returns:
            One `CheckedStatement` per distinct statement text, when none fails.

        Raises:
            PlanAssertionError: some statements failed; all of them are in the message.
            ExplainError: the connection cannot be used (closed, or its transaction failed).
        """
        __tracebackhide__ = True
        conn = self._conn
        if conn is None:
            raise ExplainError("these captured queries are not bound to a connection")
        _check_connection(conn)
        ignored = check_rule_ids(ignore)
        floor = Severity.parse(max_findings) if max_findings is not None else None
        was_active, self.active = self.active, False  # our own EXPLAINs are not the app's
        try:
            results = [
                self._check_one(
                    conn,
                    statement,
                    count,
                    config=config,
                    analyze=analyze,
                    checks=(no_seq_scan, seq_scan_min_rows, floor, ignored, max_cost),
                )
                for statement, count in self.distinct()
            ]
        finally:
            self.active = was_active
        failing = [r for r in results if r.failures]
        if failing:
            raise PlanAssertionError(_combined_message(results, failing, len(self.statements)))
        return results

    def _check_one(
        self,
        conn: psycopg.Connection[Any],
        statement: CapturedStatement,
        count: int,
        *,
        config: RuleConfig | None,
        analyze: bool,
        checks: tuple[bool, float, Severity | None, frozenset[str], float | None],
    ) -> CheckedStatement:
        from planalyzer.live.explain import explain

        no_seq_scan, min_rows, floor, ignored, max_cost = checks
        if statement.method == "copy":
            return CheckedStatement(statement, count, None, "COPY cannot be explained")
        note = None
        try:
            plan = explain(conn, statement.sql, statement.params, analyze=analyze)
        except UnsafeStatementError as err:
            return CheckedStatement(statement, count, None, f"not explainable: {err}")
        except ExplainError as err:
            _check_connection(conn)  # a broken connection is an error, not a skip
            # Run alone, a statement can fail where it succeeded in the application's
            # transaction (a DELETE whose referencing rows an earlier statement removed). Its
            # estimated plan needs no execution, so check that rather than nothing.
            try:
                if not analyze:
                    raise
                plan = explain(conn, statement.sql, statement.params, analyze=False)
            except ExplainError:
                _check_connection(conn)
                return CheckedStatement(
                    statement, count, None, f"the server could not explain it: {err}"
                )
            note = f"estimated plan only: running it under ANALYZE failed: {err}"
        record(plan)
        checker = PlanChecker(plan, config=config)
        failures = []
        steps: list[tuple[str, Any]] = []
        if no_seq_scan:
            steps.append(("no_seq_scan", lambda: checker.no_seq_scan(min_rows=min_rows)))
        if floor is not None:
            steps.append(("no_findings", lambda: checker.no_findings(floor, ignore=ignored)))
        if max_cost is not None:
            steps.append(("max_cost", lambda: checker.max_cost(max_cost)))
        for _, step in steps:
            try:
                step()
            except PlanAssertionError as err:
                failures.append(err)
        return CheckedStatement(statement, count, plan, None, tuple(failures), note)


def _check_connection(conn: psycopg.Connection[Any]) -> None:
    if conn.closed:
        raise ExplainError("cannot explain the captured statements: the connection is closed")
    if conn.info.transaction_status == TransactionStatus.INERROR:
        raise ExplainError(
            "cannot explain the captured statements: the connection's transaction has failed"
            " (a statement raised); roll it back first"
        )


def _text(cursor: Any, query: Any) -> str:
    """The statement as text: compositions rendered, bytes decoded with the connection's codec."""
    if isinstance(query, str):
        return query
    if isinstance(query, pgsql.Composable):
        return query.as_string(cursor)
    if isinstance(query, bytes | bytearray | memoryview):
        return bytes(query).decode(cursor.connection.info.encoding, "replace")
    return str(query)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _combined_message(
    results: Sequence[CheckedStatement], failing: Sequence[CheckedStatement], total: int
) -> str:
    """One message for every failing statement: what failed, where, with a small tree each."""
    skipped = [r for r in results if r.skipped]
    head = (
        f"{len(failing)} of {len(results)} distinct captured statements failed their plan"
        f" checks ({total} statements captured, {len(skipped)} skipped)"
    )
    parts = [head]
    for number, result in enumerate(failing[:_MAX_DETAILED], start=1):
        stmt = result.statement
        sql = " ".join(stmt.sql.split())
        sql = sql if len(sql) <= 300 else sql[:299] + "…"
        runs = f"run {result.count} times" if result.count > 1 else "run once"
        params = f"; params: {stmt.params!r}"[:200] if stmt.params is not None else ""
        parts.append(f"\n[{number}] {sql}\n    ({runs}{params})")
        if result.note:
            parts.append(f"    note: {result.note}")
        node_ids: list[int] = []
        for failure in result.failures:
            parts.append(f"    expected: {failure.expectation}")
            found = list(failure.found)
            shown = found[:MAX_FOUND_LINES] + (
                [f"... and {len(found) - MAX_FOUND_LINES} more"]
                if len(found) > MAX_FOUND_LINES
                else []
            )
            if shown:
                parts.append("    found:    " + "\n              ".join(shown))
            node_ids.extend(failure.node_ids)
        if result.plan is None:  # failures only exist for explained plans
            continue
        mark = node_ids[0] if node_ids else None
        title = f"    plan (node {mark} marked):" if mark is not None else "    plan:"
        parts.append(title)
        parts.append(_indent(render_tree(result.plan, mark=mark, max_lines=_TREE_LINES)))
        checker = PlanChecker(result.plan)
        relevant = [f for f in checker.report.findings if f.node_id in set(node_ids)]
        if relevant:
            parts.append("    findings:\n" + _indent(render_findings(relevant, limit=4), "    "))
    if len(failing) > _MAX_DETAILED:
        parts.append(f"\n... and {len(failing) - _MAX_DETAILED} more failing statements")
    if skipped:
        notes = [f"  - {' '.join(r.statement.sql.split())[:120]}: {r.skipped}" for r in skipped]
        parts.append("\nskipped:\n" + "\n".join(notes[:MAX_FOUND_LINES]))
        if len(notes) > MAX_FOUND_LINES:
            parts.append(f"  ... and {len(notes) - MAX_FOUND_LINES} more")
    return "\n".join(parts)


def _recording_class(base: type, captured: CapturedQueries, method: str) -> type:
    """A subclass of the connection's cursor class that notes each statement in ``captured``.

    The capture is held in a closure rather than a class attribute, so nested captures on one
    connection each record into their own `CapturedQueries`.
    """

    class Recording(base):  # type: ignore[misc]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            captured._add(self, query, params, method)
            return super().execute(query, params, **kwargs)

        def executemany(self, query: Any, params_seq: Iterable[Any], **kwargs: Any) -> Any:
            params_list = list(params_seq)  # a generator can be read once: keep what is sent
            for params in params_list:
                captured._add(self, query, params, "executemany")
            return super().executemany(query, params_list, **kwargs)

        def stream(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            captured._add(self, query, params, "stream")
            return super().stream(query, params, **kwargs)

        def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
            captured._add(self, statement, params, "copy")
            return super().copy(statement, params, **kwargs)

    Recording.__name__ = Recording.__qualname__ = f"Capturing{base.__name__}"
    return Recording


@contextlib.contextmanager
def capture_queries(conn: psycopg.Connection[Any]) -> Iterator[CapturedQueries]:
    """Record the statements run on ``conn`` inside the block (see the module docstring).

    Args:
        conn: a psycopg 3 (sync) connection.

    Yields:
        The `CapturedQueries`, filled as the block runs; call ``assert_plans()`` on it
        afterwards (or inside the block: its own EXPLAINs are not recorded).

    Raises:
        TypeError: ``conn`` is not a ``psycopg.Connection``.

    Example (needs a server, so not a doctest)::

        with capture_queries(conn) as captured:
            checkout(conn, cart_id=7)
        captured.assert_plans(no_seq_scan=True, max_findings="warning")
    """
    if not isinstance(conn, psycopg.Connection):
        raise TypeError(
            f"capture_queries() needs a psycopg 3 Connection, got {type(conn).__name__}"
            " (async connections are not supported)"
        )
    captured = CapturedQueries(_conn=conn)
    original = conn.cursor_factory
    original_server = conn.server_cursor_factory
    ours = _recording_class(original, captured, "execute")
    ours_server = _recording_class(original_server, captured, "server-cursor")
    conn.cursor_factory = ours
    conn.server_cursor_factory = ours_server
    try:
        yield captured
    finally:
        captured.active = False
        # put back what we replaced, unless the application installed its own factory since
        if conn.cursor_factory is ours:
            conn.cursor_factory = original
        if conn.server_cursor_factory is ours_server:
            conn.server_cursor_factory = original_server
