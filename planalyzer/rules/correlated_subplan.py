"""Correlated SubPlan executed once per outer row.

Why it matters: a subquery that refers to the outer query (``(SELECT sum(...) FROM payments p
WHERE p.order_id = o.id)``) and that the planner could not turn into a join runs as a SubPlan:
once for every row of the node it hangs from. Thousands of small executions add up, each one
paying executor start-up and an index descent, where a join would read the inner table once,
or in one ordered pass.

What to do: rewrite the subquery as a join: a ``LEFT JOIN`` to a grouped derived table, a
``LEFT JOIN LATERAL`` or, for existence tests, ``EXISTS``/``NOT EXISTS``, which the planner
turns into semi/anti joins. If it must stay correlated, make each execution cheap: the finding
names the index for the inner lookup when the SubPlan reads its table without one.

Not reported: InitPlans and *hashed* SubPlans (they run once); SubPlans executed fewer than
``min_loops`` times. Severity follows the SubPlan's share of the total time: info below
``warning_time_share_ratio``, warning from it, critical from ``critical_time_share_ratio``;
without timing (TIMING OFF) it stays info. Without ANALYZE the executions are estimated as the
rows the node it hangs from is expected to produce (a lower bound when the SubPlan sits in a
filter), and the SubPlan's cost times those executions, as a share of the statement's cost,
stands in for time: such findings are marked estimated and are at most a warning.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.model import PlanNode
from planalyzer.rules._expressions import create_index_sql, index_columns, node_comparisons
from planalyzer.rules._spec import (
    Rule,
    RuleContext,
    Thresholds,
    escalate,
    fmt_ms,
    fmt_part,
    fmt_rows,
)
from planalyzer.rules.finding import Finding, Severity


class CorrelatedSubplanThresholds(Thresholds):
    """When a per-row SubPlan is worth a finding."""

    min_loops: float = Field(
        1_000,
        description="Report SubPlans executed at least this many times (once per outer row); "
        "the same loop count nested-loop-blowup uses.",
    )
    warning_time_share_ratio: float = Field(
        0.1,
        description="Warning when the SubPlan takes at least this share of the total time "
        "(the 10 % band of plan visualisers); info below.",
    )
    critical_time_share_ratio: float = Field(
        0.4, description="Critical from this share of the total time (the 40 % band)."
    )


def _is_hashed(node: PlanNode) -> bool:
    """True for a hashed SubPlan (built once into a hash table, then probed)."""
    name = (node.subplan_name or "").lower()
    if name.startswith("hashed"):
        return True
    parent = node.parent
    if parent is None or not node.subplan_name:
        return False
    # Up to PostgreSQL 16 the hashing shows only where the parent uses it: "(hashed SubPlan 2)".
    texts = (parent.filter, parent.join_filter, parent.index_cond, *(parent.output or ()))
    marker = f"hashed {node.subplan_name}".lower()
    return any(marker in (text or "").lower() for text in texts)


def _lookup_index(subplan: PlanNode) -> str | None:
    """``CREATE INDEX`` for a scan in the SubPlan that filters on an outer column unindexed."""
    stack = [subplan]
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.children))
        if not node.relation_name or node.node_type in {"Index Scan", "Index Only Scan"}:
            continue
        if node.node_type == "Bitmap Heap Scan":
            continue
        comps = node_comparisons(node, "filter")
        if any(c.other is not None for c in comps):  # correlated to an outer column
            columns = index_columns(comps)
            if columns:
                return create_index_sql(node, columns)
    return None


def _suggestion(node: PlanNode) -> str:
    suggestion = (
        "Rewrite the correlated subquery as a join the planner can run in one pass: a "
        "LEFT JOIN to a grouped derived table or LEFT JOIN LATERAL for a value, EXISTS / NOT "
        "EXISTS (a semi/anti join) for an existence test."
    )
    index_sql = _lookup_index(node)
    if index_sql is not None:
        suggestion += f" If it stays correlated, index its lookup: {index_sql}."
    return suggestion


def _check_estimated(ctx: RuleContext, node: PlanNode) -> Finding | None:
    """A per-row SubPlan judged from the plan alone: expected executions x its cost."""
    t: CorrelatedSubplanThresholds = ctx.thresholds
    host = node.parent
    root_cost = ctx.plan.root.total_cost
    if host is None or host.plan_rows is None or node.total_cost is None or not root_cost:
        return None
    loops = float(host.plan_rows)
    if loops < t.min_loops:
        return None
    cost = node.total_cost * loops
    share = min(cost / root_cost, 1.0)
    severity = escalate(share, warning_at=t.critical_time_share_ratio, critical_at=float("inf"))
    name = node.subplan_name or "SubPlan"
    return ctx.finding(
        node,
        message=(
            f"{name} ({node.display_name}) is expected to run about {fmt_rows(loops)} times, "
            f"once per row of {host.display_name}, for about {share:.0%} of the statement's "
            "cost (estimated, no ANALYZE)."
        ),
        evidence={
            "estimated_loops": loops,
            "subplan_cost": node.total_cost,
            "estimated_cost": cost,
            "cost_share_ratio": share,
        },
        suggestion=_suggestion(node),
        severity=severity,
        impact_cost_share=share,
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for each SubPlan run once per outer row often enough to matter."""
    t: CorrelatedSubplanThresholds = ctx.thresholds
    for node in ctx.plan.nodes():
        if node.parent_relationship != "SubPlan" or _is_hashed(node):
            continue
        if not ctx.plan.analyzed:
            estimated = _check_estimated(ctx, node)
            if estimated is not None:
                yield estimated
            continue
        if not node.executed:
            continue
        loops = float(node.actual_loops or 0)
        if loops < t.min_loops:
            continue
        spent = node.inclusive_time_ms
        share = ctx.share_of_total(spent)
        severity = escalate(
            share,
            warning_at=t.warning_time_share_ratio,
            critical_at=t.critical_time_share_ratio,
        )
        host = node.parent
        where = f" for {host.display_name}" if host is not None else ""
        per_loop = (spent / loops) if spent is not None and loops else None
        timing = ""
        if spent is not None and ctx.plan.total_time_ms:
            timing = (
                f", {fmt_part(spent, ctx.plan.total_time_ms)} ({fmt_ms(per_loop)} per execution)"
            )
        name = node.subplan_name or "SubPlan"
        yield ctx.finding(
            node,
            message=(
                f"{name} ({node.display_name}) ran {fmt_rows(loops)} times, once per row"
                f"{where}{timing}."
            ),
            evidence={
                "subplan_loops": loops,
                "subplan_time_ms": spent,
                "time_per_loop_ms": per_loop,
                "time_share_ratio": share,
                "rows_per_loop_rows": node.actual_rows,
            },
            suggestion=_suggestion(node),
            impact_ms=spent,
            severity=severity,
        )


RULE = Rule(
    id="correlated-subplan",
    severity=Severity.WARNING,
    summary="Correlated SubPlan executed once per outer row",
    check=check,
    thresholds=CorrelatedSubplanThresholds,
    needs_analyze=False,
)
