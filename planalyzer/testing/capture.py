"""Record every statement an application sends to PostgreSQL, then check them.

``capture_queries(target)`` accepts a psycopg 3 ``Connection`` or ``AsyncConnection``, a
SQLAlchemy ``Engine`` or ``Connection`` (sync or asyncio) and a Django connection; how each is
hooked is in `planalyzer.testing._sources`. The application gets the same cursors, rows and
errors as without it. Each statement is recorded with its parameters, a fingerprint (pglast:
the same query with other values has the same one), the call site (the first frame outside
planalyzer, the driver and the ORM) and its method. On the result:

- ``assert_plans()`` explains each distinct statement and checks its plan;
- ``assert_max_queries(n)`` is a query budget;
- ``assert_no_n_plus_one(threshold=...)`` finds one statement run many times from one line.

What is recorded for psycopg: ``conn.execute``, ``cursor.execute``, ``cursor.executemany``
(one entry per parameter set), ``cursor.stream``, ``cursor.copy`` (the COPY statement; the data
is not), and named (server-side) cursors' ``execute``, also inside ``conn.pipeline()``. Limits:

- psycopg cursors created *before* the block are not instrumented (their class is fixed at
  creation); cursors created inside it stop recording when the block ends;
- transaction control that a driver sends itself (``conn.commit()``, SQLAlchemy's and
  Django's implicit BEGIN/COMMIT) is not a statement the application wrote and is not
  recorded (Django's savepoints are: Django sends them as statements);
- a statement is recorded when it is sent; whether it then failed is not tracked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import psycopg
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
        fingerprint: pglast's fingerprint: equal for the same query with other values.
        call_site: the application line that sent it (``app/orders.py:42``), or None.
        function: the function that line is in.
        source: ``psycopg``, ``sqlalchemy`` or ``django``.
    """

    sql: str
    params: Any
    method: str
    fingerprint: str = ""
    call_site: str | None = None
    function: str | None = None
    source: str = "psycopg"


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
    target: Any = field(default=None, repr=False)
    source: str = "psycopg"
    automatic: bool = field(default=False, repr=False)

    def __len__(self) -> int:
        return len(self.statements)

    def __iter__(self) -> Iterator[CapturedStatement]:
        return iter(self.statements)

    @property
    def count(self) -> int:
        """How many statements were sent (repeats included)."""
        return len(self.statements)

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

    def by_fingerprint(self) -> list[tuple[CapturedStatement, int]]:
        """Each fingerprint once (the same query with any values), first run and run count."""
        seen: dict[str, list[Any]] = {}
        for statement in self.statements:
            if statement.fingerprint in seen:
                seen[statement.fingerprint][1] += 1
            else:
                seen[statement.fingerprint] = [statement, 1]
        return [(first, count) for first, count in seen.values()]

    def note(self, sql: str, params: Any, method: str) -> None:
        """Record one statement (what the hooks of `planalyzer.testing._sources` call)."""
        if not self.active:
            return
        from planalyzer.testing._callsite import call_site
        from planalyzer.testing._fingerprint import fingerprint
        from planalyzer.testing._record import record_statement

        site = call_site()
        statement = CapturedStatement(
            sql,
            params,
            method,
            fingerprint(sql, has_params=params is not None),
            str(site) if site else None,
            site.function if site else None,
            self.source,
        )
        self.statements.append(statement)
        record_statement(statement, None if self.automatic else self)

    def assert_max_queries(self, n: int) -> CapturedQueries:
        """A query budget: at most ``n`` statements were sent.

        Raises:
            PlanAssertionError: more were; the message lists them grouped by fingerprint, with
                their counts and call sites, most frequent first.
        """
        __tracebackhide__ = True
        from planalyzer.testing._budget import max_queries_failure

        failure = max_queries_failure(self.statements, n)
        if failure is not None:
            raise failure
        return self

    def assert_no_n_plus_one(self, threshold: int = 5) -> CapturedQueries:
        """No query ran ``threshold`` times or more from one call site (the N+1 pattern).

        The same fingerprint (the same query with other values) sent again and again from one
        line of application code is a loop fetching row by row what one query could fetch.
        Transaction control (SAVEPOINT, RELEASE ...) is not counted.

        Raises:
            PlanAssertionError: naming each such statement, its count, its call site and how to
                batch it.
        """
        __tracebackhide__ = True
        from planalyzer.testing._budget import n_plus_one_failure

        failure = n_plus_one_failure(self.statements, threshold)
        if failure is not None:
            raise failure
        return self

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
        conn: psycopg.Connection[Any] | None = None,
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
            conn: the psycopg 3 connection to explain on. By default the captured one: the
                application's connection (a pooled one for a SQLAlchemy Engine). Needed for
                an ``AsyncConnection`` or an engine on another driver.

        Returns:
            One `CheckedStatement` per distinct statement text, when none fails.

        Raises:
            PlanAssertionError: some statements failed; all of them are in the message.
            ExplainError: the connection cannot be used (closed, or its transaction failed).
        """
        __tracebackhide__ = True
        checks = (no_seq_scan, seq_scan_min_rows, max_findings, ignore, max_cost)
        if conn is not None:
            return self._assert_plans_on(conn, checks, config=config, analyze=analyze)
        if self.target is None:
            raise ExplainError("these captured queries are not bound to a connection")
        from planalyzer.testing._sources import explain_connection

        with explain_connection(self.target) as own:
            return self._assert_plans_on(own, checks, config=config, analyze=analyze)

    def _assert_plans_on(
        self,
        conn: psycopg.Connection[Any],
        checks: tuple[bool, float, Severity | str | None, Iterable[str], float | None],
        *,
        config: RuleConfig | None,
        analyze: bool,
    ) -> list[CheckedStatement]:
        __tracebackhide__ = True
        no_seq_scan, seq_scan_min_rows, max_findings, ignore, max_cost = checks
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
        from planalyzer.testing._record import record_checked

        record_checked(results)
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
        checker = PlanChecker(plan, config=config, conn=conn)
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
        proof = next((f.proof for f in result.failures if f.proof), ())
        if proof:
            parts.append(_indent("\n".join(line for line in proof if line)))
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


class _Capture:
    """`capture_queries`'s context manager, for ``with`` and ``async with`` alike."""

    def __init__(self, target: Any) -> None:
        from planalyzer.testing._sources import source_of

        self.captured = CapturedQueries(target=target, source=source_of(target))
        self._remove: Callable[[], None] | None = None

    def __enter__(self) -> CapturedQueries:
        from planalyzer.testing._sources import install

        self._remove = install(self.captured.target, self.captured.note)
        return self.captured

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.captured.active = False
        if self._remove is not None:
            self._remove()
            self._remove = None

    async def __aenter__(self) -> CapturedQueries:
        return self.__enter__()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(kind, error, traceback)


def capture_queries(target: Any) -> _Capture:
    """Record the statements sent through ``target`` inside the block (see the module docstring).

    Args:
        target: a psycopg 3 ``Connection`` or ``AsyncConnection``, a SQLAlchemy ``Engine`` or
            ``Connection`` (or ``AsyncEngine`` / ``AsyncConnection``), or a Django connection
            (``django.db.connection``).

    Returns:
        A context manager (``with`` or ``async with``) giving the `CapturedQueries`, filled as
        the block runs; check it afterwards (or inside the block: its own EXPLAINs are not
        recorded).

    Raises:
        TypeError: ``target`` is none of those.

    Example (needs a server, so not a doctest)::

        with capture_queries(conn) as captured:
            checkout(conn, cart_id=7)
        captured.assert_max_queries(10).assert_no_n_plus_one(threshold=5)
        captured.assert_plans(no_seq_scan=True, max_findings="warning")
    """
    return _Capture(target)
