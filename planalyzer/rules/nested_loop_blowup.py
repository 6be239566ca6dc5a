"""Nested Loop whose inner side ran so many times that it dominates the query's time.

Why it matters: a nested loop executes its inner side once per outer row. The planner picks it
when it expects few outer rows; when the outer side returns thousands instead (usually a row
underestimate further down), the inner side is repeated thousands of times and a hash or
merge join, which reads each side once, would have been far cheaper.

What to do: first fix the estimate that misled the planner. The finding names the node where
it starts (``evidence["misestimate_node_id"]``, also a related node; the row-misestimate
finding there says how). If the inner side reads a table without a usable index on the join
key, the finding suggests that index: it turns each repetition into a cheap lookup. ``SET
enable_nestloop = off`` in a test session shows what the alternative plan would cost. It is a
diagnostic only, never a fix to leave in place.

Not reported: plans without ANALYZE or without timing (TIMING OFF); inner sides run fewer
than ``min_loops`` times; inner sides taking less than ``min_inner_time_share_ratio`` of the
total time. When the outer row count was estimated well and each repetition is a cheap lookup
(at most ``max_lookup_rows`` rows touched per loop), the planner chose the loop knowingly and
the finding is only info.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.model import PlanNode
from planalyzer.rules._estimates import Estimates
from planalyzer.rules._expressions import (
    Comparison,
    create_index_sql,
    index_columns,
    node_comparisons,
)
from planalyzer.rules._spec import Rule, RuleContext, Thresholds, escalate, fmt_ms, fmt_rows
from planalyzer.rules.finding import Finding, Severity

_INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan", "Bitmap Heap Scan"})


class NestedLoopBlowupThresholds(Thresholds):
    """When a nested loop's repetitions are the problem."""

    min_loops: float = Field(
        1_000,
        description="Report only inner sides executed at least this many times; fewer "
        "repetitions are what nested loops are for.",
    )
    min_inner_time_share_ratio: float = Field(
        0.4,
        description="...and taking at least this share of the total time (the 40 % band of "
        "plan visualisers: the loop dominates the query).",
    )
    critical_time_share_ratio: float = Field(
        0.9,
        description="Critical from this share of the total time (the 90 % band).",
    )
    underestimate_factor: float = Field(
        10.0,
        description="The outer side counts as underestimated when it returned at least this "
        "many times the rows planned (the 10x band used by row-misestimate).",
    )
    max_lookup_rows: float = Field(
        10,
        description="With a well-estimated outer side, repetitions touching at most this "
        "many rows each (an index lookup) are expected work: info only.",
    )


def _inner(node: PlanNode) -> PlanNode | None:
    inner = [c for c in node.children if c.parent_relationship == "Inner"]
    return inner[0] if inner else None


def _outer(node: PlanNode) -> PlanNode | None:
    outer = [c for c in node.children if c.parent_relationship == "Outer"]
    return outer[0] if outer else None


def _inner_scans(inner: PlanNode) -> list[PlanNode]:
    """Nodes of the inner side that read a relation, skipping InitPlans/SubPlans."""
    out = []
    stack = [inner]
    while stack:
        node = stack.pop()
        if node.relation_name:
            out.append(node)
        stack.extend(
            c
            for c in reversed(node.children)
            if c.parent_relationship not in {"InitPlan", "SubPlan"}
        )
    return out


def _rows_touched_per_loop(scans: list[PlanNode], loops: float) -> float:
    """Rows the inner side's scans produced or discarded, per repetition of the inner side."""
    touched = 0.0
    for scan in scans:
        touched += (scan.rows_total or 0.0) + (scan.rows_removed_by_filter_total or 0.0)
        touched += scan.rows_removed_by_index_recheck_total or 0.0
    return touched / loops if loops else 0.0


def _index_suggestion(loop: PlanNode, scans: list[PlanNode]) -> tuple[str | None, list[str]]:
    """``CREATE INDEX`` for the first inner scan that lacks one on its join key; key columns."""
    for scan in scans:
        comps: list[Comparison] = node_comparisons(scan, "index_cond", "filter", "recheck_cond")
        comps += node_comparisons(scan, "join_filter", source=loop)
        keys = [str(c.column) for c in comps if c.other is not None and c.kind != "other"]
        indexed = {
            c.column.index_key
            for c in node_comparisons(scan, "index_cond", "recheck_cond")
            if c.kind != "other"
        }
        columns = index_columns(comps)
        if scan.node_type in _INDEX_SCANS and all(c.index_key in indexed for c in columns):
            continue  # already an index lookup on everything it compares
        if columns:
            return create_index_sql(scan, columns), keys
    return None, []


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for each Nested Loop whose repeated inner side dominates the time."""
    t: NestedLoopBlowupThresholds = ctx.thresholds
    if not ctx.timed:
        return
    view = Estimates(ctx.plan, factor=t.underestimate_factor)
    for node in ctx.plan.nodes():
        if node.node_type != "Nested Loop" or not node.executed:
            continue
        inner, outer = _inner(node), _outer(node)
        if inner is None or outer is None or not inner.executed:
            continue
        loops = float(inner.actual_loops or 0)
        inner_ms = inner.inclusive_time_ms
        share = ctx.share_of_total(inner_ms)
        if loops < t.min_loops or share is None or share < t.min_inner_time_share_ratio:
            continue
        underestimated = view.is_misestimated(outer) and outer.estimate_direction == "under"
        origin = view.origin(outer) if underestimated else None
        scans = _inner_scans(inner)
        touched = _rows_touched_per_loop(scans, loops)
        severity = escalate(
            share,
            warning_at=t.min_inner_time_share_ratio,
            critical_at=t.critical_time_share_ratio,
        )
        if not underestimated and touched <= t.max_lookup_rows:
            severity = Severity.INFO
        index_sql, join_keys = _index_suggestion(node, scans)

        because = ""
        if underestimated:
            because = (
                f", because the outer side returned {fmt_rows(outer.rows_total)} rows where "
                f"{fmt_rows(outer.plan_rows_total)} "
                f"{'was' if outer.plan_rows_total == 1 else 'were'} planned"
            )
        message = (
            f"{node.display_name} ran its inner side ({inner.display_name}) {fmt_rows(loops)} "
            f"times, {fmt_ms(inner_ms)} of {fmt_ms(ctx.plan.total_time_ms)}{because}."
        )
        steps = []
        if origin is not None:
            steps.append(
                f"Fix the row estimate where it starts, at node {origin.id} "
                f"({origin.display_name}; see the row-misestimate finding), so the planner "
                f"expects {fmt_rows(outer.rows_total)} outer rows and can choose a hash join"
            )
        if index_sql is not None:
            steps.append(
                f"{index_sql} so each of the {fmt_rows(loops)} repetitions is an index lookup"
            )
        if not steps:
            steps.append(
                "The inner side is already an index lookup: if this many outer rows are "
                "normal, a hash join reading each side once is likely cheaper; ANALYZE the "
                "tables of the outer side so the planner sees the real row count"
            )
        steps.append(
            "SET enable_nestloop = off in a test session shows the alternative plan's time "
            "(a diagnostic, not a fix)"
        )
        related = tuple(n.id for n in (origin, inner) if n is not None)
        yield ctx.finding(
            node,
            message=message,
            evidence={
                "inner_loops": loops,
                "inner_time_ms": inner_ms,
                "inner_time_share_ratio": share,
                "inner_rows_touched_per_loop_rows": touched,
                "outer_rows_total": outer.rows_total,
                "outer_plan_rows_total": outer.plan_rows_total,
                "outer_estimate_factor": outer.estimate_factor,
                "outer_underestimated": underestimated,
                "misestimate_node_id": None if origin is None else origin.id,
                "inner_join_key_columns": join_keys,
            },
            suggestion="; ".join(steps) + ".",
            impact_ms=inner_ms,
            severity=severity,
            related_node_ids=related,
        )


RULE = Rule(
    id="nested-loop-blowup",
    severity=Severity.WARNING,
    summary="Nested loop repeated its inner side so often that it dominates the time",
    check=check,
    thresholds=NestedLoopBlowupThresholds,
    needs_analyze=True,
)
