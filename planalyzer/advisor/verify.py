"""The opt-in real check: build the recommended indexes, measure, and drop them again.

HypoPG proves that the planner *would* use an index and how much cheaper it *estimates* the
plan; only a real index shows the real runtime (planner costs can lie: the classic case is an
``ORDER BY x LIMIT n`` scan that has to walk most of the index to find ``n`` rare rows).
`verify_advice` therefore builds every recommendation for real with ``CREATE INDEX
CONCURRENTLY`` (writes are not blocked), runs each statement with EXPLAIN ANALYZE before and
after (in rolled-back transactions, so data changes never persist), and drops what it built at
the end, whatever happens.

It creates real objects and takes real time and I/O: run it on a copy of production.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from typing import TYPE_CHECKING, Any

import pglast
import psycopg
from pglast import ast
from psycopg import sql
from pydantic import BaseModel, ConfigDict

from planalyzer.errors import AdviceError, DatabaseError, ExplainError
from planalyzer.live.explain import explain
from planalyzer.plan.model import Plan

if TYPE_CHECKING:
    from planalyzer.advisor.model import Advice

__all__ = ["IndexBuild", "StatementTiming", "Verification", "verify_advice"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class IndexBuild(_Model):
    """One index built for real during verification.

    Attributes:
        name: the index name.
        build_ms: time ``CREATE INDEX CONCURRENTLY`` took.
        size_bytes: the built size (``pg_relation_size``, partitions summed).
        estimated_bytes: the advisor's estimate it was chosen with.
        error: the server's message when the build failed.
        reverted: dropped again because a statement got slower with it.
    """

    name: str
    build_ms: float
    size_bytes: int | None
    estimated_bytes: int | None = None
    error: str | None = None
    reverted: bool = False

    @property
    def size_error_ratio(self) -> float | None:
        """``estimated / built`` (1.0 is exact), or None when either is unknown."""
        if not self.size_bytes or self.estimated_bytes is None:
            return None
        return self.estimated_bytes / self.size_bytes


class StatementTiming(_Model):
    """Median EXPLAIN ANALYZE execution time of one statement before and after.

    ``after_ms`` is None when the statement did not finish within the timeout afterwards.
    """

    position: int
    sql: str
    before_ms: float
    after_ms: float | None
    indexes_used: tuple[str, ...]
    plan_before: Plan
    plan_after: Plan | None
    evidence: str = "measured"

    @property
    def speedup(self) -> float | None:
        """``before / after`` (above 1 is faster)."""
        if self.after_ms is None or self.after_ms <= 0:
            return None
        return self.before_ms / self.after_ms


class Verification(_Model):
    """What `verify_advice` measured.

    Attributes:
        builds: every index built, with estimated and built size.
        statements: final per-statement timings (after any reverts).
        reverted: indexes dropped because they made a statement slower.
        tolerance: the relative slowdown tolerated (0.1 = 10 %).
        kept: the indexes were left in place (``keep=True``) rather than dropped at the end.
    """

    builds: tuple[IndexBuild, ...]
    statements: tuple[StatementTiming, ...]
    reverted: tuple[str, ...] = ()
    tolerance: float = 0.1
    noise_ms: float = 0.5
    kept: bool = False

    @property
    def slower(self) -> tuple[StatementTiming, ...]:
        """Statements whose new plan is slower by more than the tolerance and ``noise_ms``.

        A statement whose plan did not change is never counted (its difference is noise), and
        one that timed out after the build always is.
        """
        return tuple(s for s in self.statements if _regressed(s, self.tolerance, self.noise_ms))

    @property
    def workload_ratio(self) -> float | None:
        """Σ time after / Σ time before over every statement (below 1 is faster)."""
        before = sum(s.before_ms for s in self.statements)
        if before <= 0 or any(s.after_ms is None for s in self.statements):
            return None
        return sum(s.after_ms or 0.0 for s in self.statements) / before

    def __str__(self) -> str:
        lines = ["Verification (real indexes, EXPLAIN ANALYZE, median of runs; measured):"]
        for build in self.builds:
            size = f"{build.size_bytes / 2**20:,.2f} MiB" if build.size_bytes else "?"
            if build.estimated_bytes is not None:
                size += f" built vs {build.estimated_bytes / 2**20:,.2f} MiB estimated"
            state = f"failed: {build.error}" if build.error else f"{build.build_ms:,.0f} ms"
            if build.reverted:
                state += ", REVERTED (made a statement slower)"
            lines.append(f"  built {build.name}: {size}, {state}")
        for s in self.statements:
            after = f"{s.after_ms:,.2f} ms" if s.after_ms is not None else "timed out"
            used = ", ".join(s.indexes_used) or "no new index"
            flag = "  SLOWER" if _regressed(s, self.tolerance, self.noise_ms) else ""
            lines.append(f"  [{s.position}] {s.before_ms:,.2f} ms → {after} ({used}){flag}")
        ratio = self.workload_ratio
        if ratio is not None:
            lines.append(f"  workload: {ratio:.2f} of the time before")
        return "\n".join(lines)


def _regressed(timing: StatementTiming, tolerance: float, noise_ms: float) -> bool:
    """Slower beyond the tolerance with a different plan (the same plan slower is noise)."""
    if timing.after_ms is None:
        return True
    if timing.plan_after is not None and _shape(timing.plan_after) == _shape(timing.plan_before):
        return False
    return timing.after_ms > timing.before_ms * (1 + tolerance) + noise_ms


def _shape(plan: Plan) -> list[tuple[str, str | None, str | None]]:
    return [(n.node_type, n.relation_name, n.index_name) for n in plan.nodes()]


def verify_advice(
    advice: Advice,
    conn: psycopg.Connection[Any],
    *,
    runs: int = 3,
    revert_regressions: bool = False,
    tolerance: float = 0.1,
    noise_ms: float = 0.5,
    timeout_s: float | None = 60.0,
    keep: bool = False,
) -> Verification:
    """Build, measure, revert what made a statement slower, drop. This creates real indexes.

    Args:
        advice: the advice whose recommendations to build.
        conn: an **autocommit** connection (CONCURRENTLY cannot run in a transaction block)
            whose role may create indexes on the tables.
        runs: EXPLAIN ANALYZE runs per statement and state, after one warm-up run; the median
            is reported.
        revert_regressions: drop each index used by a statement that got slower by more than
            ``tolerance`` (and ``noise_ms``), then measure again, until none is slower.
        tolerance: relative slowdown tolerated, 0.1 = 10 %.
        noise_ms: absolute slowdown always tolerated (timer noise on sub-millisecond plans).
        timeout_s: statement_timeout for each run (a run that times out after the build counts
            as slower).
        keep: leave the (non-reverted) indexes in place instead of dropping them at the end.

    Raises:
        AdviceError: the connection is not in autocommit mode, or ``runs`` < 1.
    """
    if not conn.autocommit:
        raise AdviceError(
            "verify() builds indexes with CREATE INDEX CONCURRENTLY, which cannot run inside a "
            "transaction block: pass a connection opened with autocommit=True"
        )
    if runs < 1:
        raise AdviceError("runs must be at least 1")
    before = {q.position: _measure(conn, q.sql, runs, timeout_s) for q in advice.per_query}
    for position, (took, _) in before.items():
        if took is None:
            raise AdviceError(
                f"statement {position} did not finish within timeout_s = {timeout_s} s before "
                "any index was built; raise timeout_s"
            )
    builds: dict[str, IndexBuild] = {}
    created: list[tuple[str, str]] = []  # (schema-qualified table, index name) as built
    reverted: list[str] = []
    try:
        for rec in advice.recommendations:
            build = _build(conn, rec.create_sql, rec.name, rec.table, created)
            builds[rec.name] = build.model_copy(update={"estimated_bytes": rec.size_bytes})
        timings = _measure_all(conn, advice, before, builds, created, runs, timeout_s)
        while revert_regressions:
            culprits = {
                name
                for t in timings
                if _regressed(t, tolerance, noise_ms)
                for name in t.indexes_used
                if name not in reverted
            }
            if not culprits:
                break
            for rec in advice.recommendations:
                if rec.name in culprits:
                    _drop(conn, rec)
                    reverted.append(rec.name)
                    builds[rec.name] = builds[rec.name].model_copy(update={"reverted": True})
            timings = _measure_all(conn, advice, before, builds, created, runs, timeout_s)
    except BaseException as err:
        leftovers = _drop_all(conn, advice, created)
        if leftovers:
            err.add_note("verify() could not drop: " + "; ".join(leftovers))
        raise
    if not keep:
        leftovers = _drop_all(conn, advice, created)
        if leftovers:
            raise DatabaseError(
                "could not drop every index built by verify(): " + "; ".join(leftovers)
            )
    return Verification(
        builds=tuple(builds.values()),
        statements=tuple(timings),
        reverted=tuple(reverted),
        tolerance=tolerance,
        noise_ms=noise_ms,
        kept=keep,
    )


def _measure_all(
    conn: psycopg.Connection[Any],
    advice: Advice,
    before: dict[int, tuple[float | None, Plan | None]],
    builds: dict[str, IndexBuild],
    created: list[tuple[str, str]],
    runs: int,
    timeout_s: float | None,
) -> list[StatementTiming]:
    names = {b.name for b in builds.values() if b.error is None and not b.reverted}
    timings = []
    for query in advice.per_query:
        after_time, after_plan = _measure(conn, query.sql, runs, timeout_s)
        used = {n.index_name for n in after_plan.nodes() if n.index_name} if after_plan else set()
        before_time, before_plan = before[query.position]
        assert before_time is not None
        assert before_plan is not None
        timings.append(
            StatementTiming(
                position=query.position,
                sql=query.sql,
                before_ms=before_time,
                after_ms=after_time,
                indexes_used=tuple(sorted(used & _with_children(names, created))),
                plan_before=before_plan,
                plan_after=after_plan,
            )
        )
    return timings


def _drop(conn: psycopg.Connection[Any], rec: Any) -> None:
    for statement in _statements(rec.drop_sql):
        conn.execute(sql.SQL(statement))  # our own composed text


def _with_children(names: set[str], created: list[tuple[str, str]]) -> set[str]:
    return names | {name for _, name in created}


def _measure(
    conn: psycopg.Connection[Any], text: str, runs: int, timeout_s: float | None = None
) -> tuple[float | None, Plan | None]:
    """Median execution time over ``runs`` EXPLAIN ANALYZE runs after one warm-up.

    Each run goes through `planalyzer.live.explain.explain`: rolled back, guarded, under
    ``timeout_s``. Returns ``(None, None)`` when a run timed out.
    """
    try:
        explain(conn, text, analyze=True, buffers=False, timeout_s=timeout_s)
        plans = [
            explain(conn, text, analyze=True, buffers=False, timeout_s=timeout_s)
            for _ in range(runs)
        ]
    except ExplainError as err:
        if err.sqlstate == _QUERY_CANCELED:
            return None, None
        raise
    times = [p.execution_time_ms or 0.0 for p in plans]
    median = statistics.median(times)
    return median, plans[times.index(min(times, key=lambda t: abs(t - median)))]


_QUERY_CANCELED = "57014"


def _statements(text: str) -> list[str]:
    """The statements of generated migration text (one per line, comments skipped)."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith("--")]


def _build(
    conn: psycopg.Connection[Any],
    create_sql: str,
    name: str,
    table: str,
    created: list[tuple[str, str]],
) -> IndexBuild:
    schema = table.rpartition(".")[0]
    started = time.perf_counter()
    try:
        for statement in _statements(create_sql):
            index = _created_name(statement)
            if index is not None:
                created.append((schema, index))
            conn.execute(sql.SQL(statement))  # our own composed text
    except psycopg.Error as err:
        return IndexBuild(
            name=name,
            build_ms=(time.perf_counter() - started) * 1000,
            size_bytes=None,
            error=err.diag.message_primary or str(err),
        )
    elapsed = (time.perf_counter() - started) * 1000
    # The index itself plus, for a partitioned index, its attached partitions' indexes.
    qualified = sql.Identifier(schema, name).as_string(conn) if schema else name
    row = conn.execute(
        "SELECT sum(pg_relation_size(c.oid))::int8 FROM pg_class c WHERE c.oid = %s::regclass"
        " OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
        [qualified, qualified],
    ).fetchone()
    return IndexBuild(name=name, build_ms=elapsed, size_bytes=row[0] if row else None)


def _created_name(statement: str) -> str | None:
    """The index name a CREATE INDEX statement creates (None for other statements)."""
    try:
        parsed = pglast.parse_sql(statement)
    except pglast.parser.ParseError:
        return None
    stmt = parsed[0].stmt if parsed else None
    return stmt.idxname if isinstance(stmt, ast.IndexStmt) else None


def _drop_all(
    conn: psycopg.Connection[Any], advice: Advice, created: list[tuple[str, str]]
) -> list[str]:
    """Drop everything built, parents first (that drops attached children), then the rest.

    Returns:
        The server's messages for drops that failed (empty when all went well).
    """
    errors = []
    for rec in advice.recommendations:
        for statement in _statements(rec.drop_sql):
            try:
                conn.execute(sql.SQL(statement))
            except psycopg.Error as err:
                errors.append(err.diag.message_primary or str(err))
    for schema, name in reversed(created):
        target = sql.Identifier(schema, name) if schema else sql.Identifier(name)
        with contextlib.suppress(psycopg.Error):
            conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(target))
    return errors
