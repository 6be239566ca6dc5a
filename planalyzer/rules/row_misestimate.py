"""Row estimate far from the actual row count, reported at the node where the error starts.

Why it matters: the planner chooses join methods, join order, memory sizes and parallelism
from its row estimates. An estimate off by 10x or more is the usual root cause of a nested loop
run a million times, a hash join that spills, or a sort that should have been a top-N. The
error propagates upwards, so the finding sits on the node whose own estimate is wrong while its
inputs were estimated well; the parents that inherit it are listed as related nodes.

What to do: depends on where the error starts. A scan whose filter combines two or more
columns of one table that are correlated (city and country) needs extended statistics:
``CREATE STATISTICS ... (dependencies, ndistinct, mcv) ON a, b FROM t`` then ``ANALYZE t``. A
single-column filter needs fresh or finer statistics: ``ANALYZE t``, or ``ALTER TABLE t ALTER
COLUMN c SET STATISTICS 1000`` for a skewed column. A join whose inputs were right but whose
output is wrong points at the join keys' statistics (``ANALYZE``, a higher statistics target,
correlated multi-column keys). A grouping estimate points at n_distinct; a set-returning
function at its ``ROWS`` setting.

Not reported: plans without ANALYZE; nodes that never ran; errors below ``warning_factor``;
nodes where both the planned and the actual rows over all loops stay under ``min_rows`` (one
row against twelve is noise); fewer rows than planned under a Limit, a semi/anti join, a merge
join or an EXISTS SubPlan, which stop reading their input early; and any node whose error is
inherited from an input (it is named in the origin's ``related_node_ids`` instead). Only info:
errors nothing above depended on (no join, aggregate, Hash or Memoize above the node) and
recursive-CTE iterations, whose estimates are fixed guesses no statistics can correct.
Severity otherwise follows the worst factor the error reaches: warning from
``warning_factor``, critical from ``critical_factor``.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.model import PlanNode
from planalyzer.rules._estimates import JOIN_TYPES, Estimates, nearest_join
from planalyzer.rules._expressions import (
    Column,
    node_comparisons,
    quote_ident,
    quote_relation,
    show_condition,
)
from planalyzer.rules._spec import Rule, RuleContext, Thresholds, escalate, fmt_ms, fmt_rows
from planalyzer.rules.finding import Finding, Severity


class RowMisestimateThresholds(Thresholds):
    """How far off an estimate must be, and on how many rows, to be worth a finding."""

    warning_factor: float = Field(
        10.0,
        description="Report when actual and planned rows per loop differ by at least this "
        "factor (either direction): the 10x band of pev2 and explain.depesz.com.",
    )
    critical_factor: float = Field(
        1000.0,
        description="Critical from this factor (the 1000x band of the same visualisers); it "
        "applies to the worst node the error propagates to.",
    )
    min_rows: float = Field(
        100.0,
        description="Ignore a node when both its actual and its planned rows over all loops "
        "are below this: a misestimate of a handful of rows cannot change a plan much.",
    )


def _actionable(view: Estimates, node: PlanNode) -> bool:
    """False for estimates no statistics can fix: a recursive CTE's iterations are guessed."""
    if node.node_type in {"WorkTable Scan", "Recursive Union"}:
        return False
    body = view.cte_body(node)
    return body is None or body.node_type != "Recursive Union"


def _is_significant(view: Estimates, node: PlanNode, t: RowMisestimateThresholds) -> bool:
    if not view.is_misestimated(node):
        return False
    larger = max(node.rows_total or 0.0, node.plan_rows_total or 0.0)
    return larger >= t.min_rows


def _impact_ms(origin: PlanNode) -> tuple[float | None, str]:
    """The time the misestimate plausibly cost, and how it was chosen (for the evidence).

    A wrong row count hurts where the plan made a choice from it: the first join above. When
    the origin is on the outer side of a Nested Loop, the loop's inner side ran once per
    (unexpected) outer row, so the inner side's time plus the loop's own counts; for any other
    join, the join's own time; with no join above, the node's own time.
    """
    child, parent = origin, origin.parent
    while parent is not None and parent.node_type not in JOIN_TYPES:
        child, parent = parent, parent.parent
    if parent is None:
        return origin.exclusive_time_ms, "node_exclusive"
    if parent.node_type == "Nested Loop" and child.parent_relationship == "Outer":
        inner = [c for c in parent.children if c.parent_relationship == "Inner"]
        times = [parent.exclusive_time_ms, *(c.inclusive_time_ms for c in inner)]
        if any(t is None for t in times):
            return None, "nested_loop_inner"
        return sum(t for t in times if t is not None), "nested_loop_inner"
    return parent.exclusive_time_ms, "join_exclusive"


def _scan_columns(node: PlanNode) -> list[Column]:
    """Distinct plain columns of ``node``'s own table compared with constants in its quals."""
    seen: dict[str, Column] = {}
    for comp in node_comparisons(node, "filter", "index_cond", "recheck_cond"):
        if comp.column.expression is None and comp.against_constant and comp.kind != "other":
            seen.setdefault(comp.column.name, comp.column)
    return list(seen.values())


def _statistics_name(node: PlanNode, columns: list[Column]) -> str:
    raw = "_".join([node.relation_name or "t", *(c.name for c in columns), "stats"])
    return quote_ident(raw[:63])  # NAMEDATALEN - 1


def _suggestion(node: PlanNode) -> str:
    """What fixes a misestimate starting at this kind of node."""
    if node.relation_name:
        table = quote_relation(node)
        cols = _scan_columns(node)
        if len(cols) >= 2:
            names = ", ".join(c.index_key for c in cols)
            return (
                f"The filter combines {len(cols)} columns of {node.relation_name} that the "
                f"planner treats as independent; tell it they are correlated: CREATE STATISTICS "
                f"{_statistics_name(node, cols)} (dependencies, ndistinct, mcv) ON {names} "
                f"FROM {table}; ANALYZE {table};"
            )
        if len(cols) == 1:
            col = cols[0].index_key
            return (
                f"Refresh the statistics (ANALYZE {table};); if {cols[0].name} is skewed, "
                f"sample it more finely: ALTER TABLE {table} ALTER COLUMN {col} SET STATISTICS "
                f"1000; ANALYZE {table};"
            )
        if node.index_cond or node.filter:
            return (
                f"The condition is not a plain column comparison the planner can estimate; run "
                f"ANALYZE {table}; and consider an expression index or CREATE STATISTICS on the "
                "expression (PostgreSQL 14+) so it gets statistics of its own."
            )
        return f"The table's statistics look stale: ANALYZE {table};"
    if node.node_type in JOIN_TYPES:
        cond = node.hash_cond or node.merge_cond or node.join_filter
        on = f" on `{show_condition(cond)}`" if cond else ""
        return (
            f"Both inputs were estimated well but the join{on} was not: ANALYZE the joined "
            "tables and raise the statistics target of the join columns (ALTER TABLE ... ALTER "
            "COLUMN ... SET STATISTICS 1000); the planner assumes join keys are independent of "
            "the filters, so correlated keys or filters may need the query restructured."
        )
    if node.node_type in {"Aggregate", "Group", "Unique", "SetOp"}:
        keys = ", ".join(node.group_key or []) or "the grouping columns"
        return (
            f"The number of groups by {keys} was misjudged: ANALYZE the table; for several "
            "columns of one table CREATE STATISTICS ... (ndistinct) ON them; for one column "
            "ALTER TABLE ... ALTER COLUMN ... SET (n_distinct = ...) when ANALYZE's sample keeps "
            "getting it wrong."
        )
    if node.node_type == "Function Scan" and node.function_name:
        return (
            f"The planner assumes a fixed row count for {node.function_name}(); declare a "
            f"realistic one: ALTER FUNCTION {node.function_name} ROWS <typical count>."
        )
    return "ANALYZE the tables below this node so the planner works from current statistics."


def _rows(rows: float | None) -> str:
    return f"{fmt_rows(rows)} row{'' if rows == 1 else 's'}"


def _where(node: PlanNode) -> str:
    cond = node.filter or node.index_cond or node.recheck_cond
    if cond:
        return f" (condition `{show_condition(cond)}`)"
    cond = node.hash_cond or node.merge_cond or node.join_filter
    if cond:
        return f" (join on `{show_condition(cond)}`)"
    return ""


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield one finding per misestimate origin, linked to the nodes that inherit it."""
    t: RowMisestimateThresholds = ctx.thresholds
    view = Estimates(ctx.plan, factor=t.warning_factor)
    inherited: dict[int, list[PlanNode]] = {}
    origins: dict[int, PlanNode] = {}
    for node in ctx.plan.nodes():
        if not _is_significant(view, node, t):
            continue
        origin = view.origin(node)
        origins[origin.id] = origin
        bucket = inherited.setdefault(origin.id, [])
        if node is not origin:
            bucket.append(node)
    for origin_id in sorted(origins):
        origin = origins[origin_id]
        heirs = sorted(inherited[origin_id], key=lambda n: n.id)
        factor = origin.estimate_factor or 1.0
        worst = max([factor, *(h.estimate_factor or 1.0 for h in heirs)])
        severity = escalate(
            worst,
            warning_at=t.warning_factor,
            critical_at=t.critical_factor,
            below=Severity.WARNING,
        )
        actionable = _actionable(view, origin)
        consequence = view.has_consequence(origin)
        if not actionable or not consequence:
            severity = Severity.INFO
        impact, impact_basis = _impact_ms(origin)
        direction = origin.estimate_direction or "exact"
        loops = origin.actual_loops or 0
        per_loop = " per loop" if loops > 1 else ""
        inherit = ""
        if heirs:
            inherit = (
                f"; {len(heirs)} node{'s' if len(heirs) > 1 else ''} above "
                f"inherit{'' if len(heirs) > 1 else 's'} it "
                f"(up to {worst:,.0f}x)"
            )
        timing = ""
        if impact is not None and ctx.plan.total_time_ms:
            spent = f"{fmt_ms(impact)} of {fmt_ms(ctx.plan.total_time_ms)}"
            timing = {
                "nested_loop_inner": f"; the nested loop it feeds spent {spent} on its inner side",
                "join_exclusive": f"; the join above it took {spent}",
            }.get(impact_basis, f", {spent}")
        yield ctx.finding(
            origin,
            message=(
                f"{origin.display_name} was estimated at {_rows(origin.plan_rows)}{per_loop} "
                f"but returned {fmt_rows(origin.actual_rows)} ({direction}estimated "
                f"{factor:,.0f}x){_where(origin)}{inherit}{timing}."
            ),
            evidence={
                "plan_rows": origin.plan_rows,
                "actual_rows": origin.actual_rows,
                "actual_loops": origin.actual_loops,
                "rows_total": origin.rows_total,
                "plan_rows_total": origin.plan_rows_total,
                "estimate_factor": factor,
                "estimate_direction": direction,
                "worst_inherited_factor": worst,
                "inherited_by_node_ids": [h.id for h in heirs],
                "impact_basis": impact_basis,
                "nearest_join_node_id": getattr(nearest_join(origin), "id", None),
                "actionable": actionable,
                "has_consequence": consequence,
            },
            suggestion=_suggestion(origin),
            impact_ms=impact,
            severity=severity,
            related_node_ids=tuple(h.id for h in heirs),
        )


RULE = Rule(
    id="row-misestimate",
    severity=Severity.WARNING,
    summary="Row estimate far off, at the node where the error starts",
    check=check,
    thresholds=RowMisestimateThresholds,
    needs_analyze=True,
)
