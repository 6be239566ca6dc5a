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

from planalyzer.errors import AdviceError, DatabaseError
from planalyzer.live.explain import explain
from planalyzer.plan.model import Plan

if TYPE_CHECKING:
    from planalyzer.advisor.model import Advice

__all__ = ["IndexBuild", "StatementTiming", "Verification", "verify_advice"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class IndexBuild(_Model):
    """One index built for real during verification."""

    name: str
    build_ms: float
    size_bytes: int | None
    error: str | None = None


class StatementTiming(_Model):
    """Median EXPLAIN ANALYZE execution time of one statement before and after."""

    position: int
    sql: str
    before_ms: float
    after_ms: float | None
    indexes_used: tuple[str, ...]
    plan_before: Plan
    plan_after: Plan | None

    @property
    def speedup(self) -> float | None:
        """``before / after`` (above 1 is faster)."""
        if self.after_ms is None or self.after_ms <= 0:
            return None
        return self.before_ms / self.after_ms


class Verification(_Model):
    """What `verify_advice` measured."""

    builds: tuple[IndexBuild, ...]
    statements: tuple[StatementTiming, ...]

    @property
    def slower(self) -> tuple[StatementTiming, ...]:
        """Statements that got slower by more than 10 % (timing noise below that)."""
        return tuple(
            s for s in self.statements if s.after_ms is not None and s.after_ms > 1.1 * s.before_ms
        )

    def __str__(self) -> str:
        lines = ["Verification (real indexes, EXPLAIN ANALYZE, median of runs):"]
        for build in self.builds:
            size = f"{build.size_bytes / 2**20:,.1f} MiB" if build.size_bytes else "?"
            state = f"failed: {build.error}" if build.error else f"{build.build_ms:,.0f} ms"
            lines.append(f"  built {build.name}: {size}, {state}")
        for s in self.statements:
            after = f"{s.after_ms:,.2f} ms" if s.after_ms is not None else "?"
            used = ", ".join(s.indexes_used) or "no new index"
            lines.append(f"  [{s.position}] {s.before_ms:,.2f} ms → {after} ({used})")
        return "\n".join(lines)


def verify_advice(advice: Advice, conn: psycopg.Connection[Any], *, runs: int = 3) -> Verification:
    """Build, measure, drop. See the module docstring; this creates real indexes.

    Args:
        advice: the advice whose recommendations to build.
        conn: an **autocommit** connection (CONCURRENTLY cannot run in a transaction block)
            whose role may create indexes on the tables.
        runs: EXPLAIN ANALYZE runs per statement and state, after one warm-up run; the median
            is reported.

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
    before = {q.position: _measure(conn, q.sql, runs) for q in advice.per_query}
    builds: list[IndexBuild] = []
    created: list[tuple[str, str]] = []  # (schema-qualified table, index name) as built
    try:
        for rec in advice.recommendations:
            builds.append(_build(conn, rec.create_sql, rec.name, rec.table, created))
        names = {b.name for b in builds if b.error is None}
        timings = []
        for query in advice.per_query:
            after_time, after_plan = _measure(conn, query.sql, runs)
            used = {n.index_name for n in after_plan.nodes() if n.index_name}
            timings.append(
                StatementTiming(
                    position=query.position,
                    sql=query.sql,
                    before_ms=before[query.position][0],
                    after_ms=after_time,
                    indexes_used=tuple(sorted(used & _with_children(names, created))),
                    plan_before=before[query.position][1],
                    plan_after=after_plan,
                )
            )
    except BaseException as err:
        leftovers = _drop_all(conn, advice, created)
        if leftovers:
            err.add_note("verify() could not drop: " + "; ".join(leftovers))
        raise
    leftovers = _drop_all(conn, advice, created)
    if leftovers:
        raise DatabaseError("could not drop every index built by verify(): " + "; ".join(leftovers))
    return Verification(builds=tuple(builds), statements=tuple(timings))


def _with_children(names: set[str], created: list[tuple[str, str]]) -> set[str]:
    return names | {name for _, name in created}


def _measure(conn: psycopg.Connection[Any], text: str, runs: int) -> tuple[float, Plan]:
    """Median execution time over ``runs`` EXPLAIN ANALYZE runs after one warm-up."""
    explain(conn, text, analyze=True, buffers=False)
    plans = [explain(conn, text, analyze=True, buffers=False) for _ in range(runs)]
    times = [p.execution_time_ms or 0.0 for p in plans]
    median = statistics.median(times)
    return median, plans[times.index(min(times, key=lambda t: abs(t - median)))]


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
