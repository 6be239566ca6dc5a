"""Statistics advice, proven: extended statistics for correlated columns, ANALYZE for stale tables.

Many slow plans need statistics, not indexes. The planner multiplies the selectivities of
``city = 5 AND zip = 53`` as if the columns were independent; when zip determines city it expects
100 times too few rows, and picks a nested loop or an index walk for what is really a big set.
``CREATE STATISTICS (dependencies, ndistinct, mcv)`` on the columns fixes the estimate
(PostgreSQL manual, 14.2.2 "Extended Statistics"). A table modified heavily since its last
ANALYZE (``n_mod_since_analyze`` above autovacuum's threshold, 50 rows + 10 % of ``reltuples``)
is estimated from stale histograms; ``ANALYZE`` fixes that.

Proof, the way HypoPG proves an index: inside a transaction that is **always rolled back**,
``CREATE STATISTICS ...; ANALYZE t (columns)`` (or ``ANALYZE t``), then re-plan the statement
and compare the scan's estimate before and after with the real row count (from the given
EXPLAIN ANALYZE plan, else from a bounded sample of the table), and whether the plan changes.
The rollback removes the statistics object and the new ``pg_statistic`` rows. One thing is not
transactional in PostgreSQL: ANALYZE refreshes ``pg_class.reltuples``/``relpages`` in place, to
the table's current size, the same refresh autovacuum makes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import psycopg
from psycopg import sql as pgsql
from psycopg.rows import tuple_row
from pydantic import BaseModel, ConfigDict, Field

from planalyzer.advisor.predicates import PredicateKind, QueryShape, TableRef
from planalyzer.advisor.sample import Sampler
from planalyzer.errors import DatabaseError
from planalyzer.live.catalog import TableFacts
from planalyzer.live.explain import explain
from planalyzer.plan.model import Plan, PlanNode

__all__ = ["StatisticsAdvice", "advise_statistics"]

# An estimate off by this factor or more (either way) is worth a statistics fix.
_MISESTIMATE = 5.0
_SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan")
_MAX_COLUMNS = 8  # CREATE STATISTICS accepts at most 8 columns (STATS_MAX_DIMENSIONS)
# The MCV list of a multi-column statistics object only covers stxstattarget combinations; for a
# value outside it the planner falls back to the independence estimate, so the proof also tries
# functional dependencies without it and keeps what brings the estimate closest to the rows.
_KINDS = (("dependencies", "ndistinct", "mcv"), ("dependencies", "ndistinct"))
_EXPRESSION_STATS_SINCE = 140000
_MCV_PENALTY = 2.0
_STALE_ROWS = 50
_STALE_SHARE = 0.1  # autovacuum_analyze_threshold / autovacuum_analyze_scale_factor defaults


class StatisticsAdvice(BaseModel):
    """One statistics fix and its proof.

    Attributes:
        kind: ``create-statistics`` (extended statistics) or ``analyze`` (stale table).
        table: schema-qualified table.
        columns: the columns the statistics cover (all for a plain ANALYZE).
        name: the statistics object's name (``create-statistics``).
        create_sql: what to run (after the indexes in the migration).
        drop_sql: how to undo it.
        statements: positions of the statements it fixes.
        estimate_before: the planner's rows for the scan before.
        estimate_after: the same inside the rolled-back proof.
        actual_rows: the real row count.
        evidence: ``measured`` (from a given EXPLAIN ANALYZE) or ``sampled``.
        plan_changed: the statement's plan changed shape with the fixed estimate.
        reason: one sentence with the figures.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["create-statistics", "analyze"]
    table: str
    columns: tuple[str, ...]
    name: str | None = None
    create_sql: str
    drop_sql: str | None = None
    statements: tuple[int, ...] = ()
    estimate_before: float
    estimate_after: float
    actual_rows: float
    evidence: Literal["estimated", "sampled", "measured"] = "sampled"
    plan_changed: bool = False
    reason: str = Field("", description="one sentence with the figures")

    @property
    def improved(self) -> bool:
        """The proof brought the estimate closer to the real rows."""
        return _factor(self.estimate_after, self.actual_rows) < _factor(
            self.estimate_before, self.actual_rows
        )


def _factor(estimate: float, actual: float) -> float:
    a, b = max(estimate, 1.0), max(actual, 1.0)
    return max(a / b, b / a)


def advise_statistics(
    conn: psycopg.Connection[Any],
    statements: Sequence[tuple[int, str, Plan | None]],
    baseline: Mapping[int, Plan],
    shapes: Mapping[int, QueryShape],
    tables: Mapping[TableRef, TableFacts],
    sampler: Sampler,
    *,
    timeout_s: float = 10.0,
) -> list[StatisticsAdvice]:
    """Find statements whose scans are misestimated, and prove the statistics that fix them.

    Args:
        conn: the connection (left as found; everything is rolled back).
        statements: ``(position, sql, given EXPLAIN ANALYZE plan or None)``.
        baseline: each statement's plan without any new index (plain EXPLAIN).
        shapes: the statements' shapes.
        tables: catalog facts per table reference.
        sampler: bounded data checks, for statements without a measured plan.
        timeout_s: statement_timeout of each proof.
    """
    found: dict[tuple[str, tuple[str, ...], str], StatisticsAdvice] = {}
    stale = _stale_tables(conn, [f.qualified_name for f in tables.values()])
    for position, text, given in statements:
        shape = shapes.get(position)
        plan = baseline.get(position)
        if shape is None or plan is None:
            continue
        for ref, facts in tables.items():
            if ref not in shape.tables:
                continue
            columns, conditions = _equality_columns(shape, ref)
            if not conditions:
                continue
            node = _scan_of(plan, facts.name)
            if node is None or node.plan_rows is None:
                continue
            actual, evidence = _actual_rows(given, facts, conditions, sampler)
            if actual is None:
                continue
            estimate = float(node.plan_rows)
            if _factor(estimate, actual) < _MISESTIMATE:
                continue
            if facts.qualified_name in stale:
                kind: Literal["create-statistics", "analyze"] = "analyze"
                cols = tuple(c.name for c in facts.columns)
            elif len(columns) >= 2 or (
                any(c.startswith("(") for c in columns)
                and conn.info.server_version >= _EXPRESSION_STATS_SINCE
            ):
                kind, cols = "create-statistics", tuple(columns[:_MAX_COLUMNS])
            else:
                continue
            key = (facts.qualified_name, cols, kind)
            if key in found:
                old = found[key]
                found[key] = old.model_copy(update={"statements": (*old.statements, position)})
                continue
            proofs = [
                _prove(
                    conn,
                    kind,
                    facts,
                    cols,
                    text,
                    plan,
                    node,
                    estimate,
                    actual,
                    evidence,
                    timeout_s,
                    kinds,
                )
                for kinds in (_KINDS if kind == "create-statistics" and len(cols) > 1 else ((),))
            ]
            tried = [p for p in proofs if p is not None]
            # An MCV list covering only some combinations helps or not depending on ANALYZE's
            # random sample; keep it only when it is clearly (2x) closer than the variant
            # without it, so that what was proven is what the migration gets.
            advice = min(
                tried,
                key=lambda p: (
                    _factor(p.estimate_after, actual)
                    * (_MCV_PENALTY if "mcv" in p.create_sql else 1.0)
                ),
                default=None,
            )
            if advice is not None:
                found[key] = advice.model_copy(update={"statements": (position,)})
    return [a for a in found.values() if a.improved]


def _equality_columns(shape: QueryShape, ref: TableRef) -> tuple[list[str], list[str]]:
    """Plain columns compared with constants by equality, and every constant condition's SQL."""
    columns: list[str] = []
    conditions: list[str] = []
    for pred in shape.predicates_on(ref):
        if not pred.kind.btree or not pred.constant or not pred.sql:
            return [], []
        conditions.append(pred.sql)
        if pred.kind is PredicateKind.EQ and pred.expression is None:
            columns.append(pred.column)
        elif pred.kind is PredicateKind.EQ and pred.expression is not None:
            # Expression statistics (PostgreSQL 14+): written "(expr)", as CREATE STATISTICS wants.
            columns.append(f"({pred.expression})")
    return sorted(dict.fromkeys(columns)), list(dict.fromkeys(conditions))


def _scan_of(plan: Plan, table: str) -> PlanNode | None:
    return next(
        (n for n in plan.nodes() if n.node_type in _SCANS and n.relation_name == table), None
    )


def _actual_rows(
    given: Plan | None, facts: TableFacts, conditions: Sequence[str], sampler: Sampler
) -> tuple[float | None, Literal["sampled", "measured"]]:
    if given is not None and given.analyzed:
        node = _scan_of(given, facts.name)
        if node is not None and node.actual_rows is not None:
            return float(node.rows_total or node.actual_rows), "measured"
    rows = facts.row_estimate or 0.0
    sample = sampler.matching(facts.qualified_name, rows, conditions)
    if sample is None or sample.sampled == 0:
        return None, "sampled"
    return sample.fraction * rows, "sampled"


def _stale_tables(conn: psycopg.Connection[Any], names: Sequence[str]) -> set[str]:
    """Tables modified since their last ANALYZE beyond autovacuum's analyze threshold."""
    query = (
        "SELECT format('%%s.%%s', s.schemaname, s.relname) FROM pg_stat_user_tables s "
        "JOIN pg_class c ON c.oid = s.relid "
        "WHERE format('%%s.%%s', s.schemaname, s.relname) = ANY(%s) "
        "AND s.n_mod_since_analyze > %s + %s * greatest(c.reltuples, 0)"
    )
    try:
        with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(query, [list(names), _STALE_ROWS, _STALE_SHARE], prepare=False)
            return {row[0] for row in cur.fetchall()}
    except psycopg.Error as err:
        raise DatabaseError(
            "reading pg_stat_user_tables failed",
            sqlstate=err.sqlstate,
            server_message=err.diag.message_primary or str(err),
        ) from err


def _statistics_name(facts: TableFacts, columns: Sequence[str]) -> str:
    words = [re.sub(r"[^a-z0-9]+", "_", c.lower()).strip("_") for c in columns]
    base = f"stx_{facts.name}_{'_'.join(words)}"
    if len(base) <= 63:
        return base
    digest = hashlib.sha1("_".join(columns).encode()).hexdigest()[:8]
    return f"{base[:54]}_{digest}"


def _table(facts: TableFacts) -> pgsql.Identifier:
    return pgsql.Identifier(facts.schema_name, facts.name)


def _statements_for(
    kind: str,
    facts: TableFacts,
    columns: Sequence[str],
    name: str | None,
    kinds: Sequence[str] = _KINDS[0],
) -> tuple[list[pgsql.Composed], str, str | None]:
    """The statements to prove with, and the migration's up and down text."""
    if kind == "analyze":
        analyze = pgsql.SQL("ANALYZE {}").format(_table(facts))
        return [analyze], analyze.as_string(None) + ";", None
    assert name is not None
    target = pgsql.Identifier(facts.schema_name, name)
    # An expression is the statement's own text, deparsed by pglast, as in expression indexes.
    column_list = pgsql.SQL(", ").join(
        pgsql.SQL(c) if c.startswith("(") else pgsql.Identifier(c) for c in columns
    )
    plain = [c for c in columns if not c.startswith("(")]
    what: pgsql.Composable = pgsql.SQL(" ({})").format(
        pgsql.SQL(", ").join(pgsql.SQL(k) for k in kinds)
    )
    if not kinds:
        what = pgsql.SQL("")  # one expression: no kinds may be named
    create = pgsql.SQL("CREATE STATISTICS {}{} ON {} FROM {}").format(
        target, what, column_list, _table(facts)
    )
    analyze = pgsql.SQL("ANALYZE {}").format(_table(facts))
    if len(plain) == len(columns):
        analyze = pgsql.SQL("ANALYZE {} ({})").format(_table(facts), column_list)
    up = (
        pgsql.SQL("CREATE STATISTICS IF NOT EXISTS {}{} ON {} FROM {};")
        .format(target, what, column_list, _table(facts))
        .as_string(None)
        + "\n"
        + analyze.as_string(None)
        + ";"
    )
    down = pgsql.SQL("DROP STATISTICS IF EXISTS {};").format(target).as_string(None)
    return [create, analyze], up, down


def _prove(
    conn: psycopg.Connection[Any],
    kind: Literal["create-statistics", "analyze"],
    facts: TableFacts,
    columns: tuple[str, ...],
    text: str,
    before: Plan,
    node: PlanNode,
    estimate: float,
    actual: float,
    evidence: Literal["sampled", "measured"],
    timeout_s: float,
    kinds: Sequence[str],
) -> StatisticsAdvice | None:
    """Apply the fix in an always-rolled-back transaction and re-plan the statement."""
    name = _statistics_name(facts, columns) if kind == "create-statistics" else None
    statements, up, down = _statements_for(kind, facts, columns, name, kinds)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [str(max(1, round(timeout_s * 1000)))],
                prepare=False,
            )
            for statement in statements:
                conn.execute(statement, prepare=False)
            after = explain(conn, text, analyze=False, buffers=False)
    except (psycopg.Error, DatabaseError):
        return None
    scan = _scan_of(after, facts.name)
    if scan is None or scan.plan_rows is None:
        return None
    shape_before = [n.node_type for n in before.nodes()]
    shape_after = [n.node_type for n in after.nodes()]
    changed = shape_before != shape_after
    if kind == "analyze":
        what = f"{facts.qualified_name} is stale (modified since its last ANALYZE)"
    else:
        what = f"{', '.join(columns)} of {facts.qualified_name} are correlated"
        if len(columns) == 1:
            what = f"the planner has no statistics on {columns[0]} of {facts.qualified_name}"
    reason = (
        f"{what}: the planner expects {estimate:,.0f} rows where there are about "
        f"{actual:,.0f} ({evidence}); with "
        + (f"statistics ({', '.join(kinds) or 'expression'})" if name else "ANALYZE")
        + " it expects "
        f"{float(scan.plan_rows):,.0f}" + (", and the plan changes" if changed else "")
    )
    return StatisticsAdvice(
        kind=kind,
        table=facts.qualified_name,
        columns=columns,
        name=name,
        create_sql=up,
        drop_sql=down,
        estimate_before=estimate,
        estimate_after=float(scan.plan_rows),
        actual_rows=actual,
        evidence=evidence,
        plan_changed=changed,
        reason=reason,
    )
