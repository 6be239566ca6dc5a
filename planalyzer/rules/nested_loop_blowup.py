"""Nested Loop that does far more work than the rows it returns: repeated inner reads or pairs.

Why it matters: a nested loop runs its inner side once per outer row and evaluates its Join
Filter on every pair it forms. The planner picks it when it expects few outer rows; when the
outer side returns far more (usually a row underestimate further down), the loop reads the inner
table again and again, or compares millions of pairs to keep a few. A hash or merge join reads
each side once. The loop is judged by that work, not by its loop count: a whole-table inner read
repeated 100 times is as bad as a small one repeated 100,000 times. Its time is its own (the
Join Filter runs there) plus its inner side's.

What to do: first fix the estimate that misled the planner. The finding names the node where
it starts (``evidence["misestimate_node_id"]``, also a related node; the row-misestimate
finding there says how). If the inner side reads a table without a usable index on the join
key, the finding suggests that index: it turns each repetition into a cheap lookup. When the
join condition has no equality a hash or merge join could use (an OR, a range, an expression),
the finding says so: rewrite it (an OR of two keys as a UNION of two joins, an expression of a
column as the column itself). ``SET enable_nestloop = off`` in a test session shows what the
alternative plan would cost. It is a diagnostic only, never a fix to leave in place.

Not reported: plans without ANALYZE or without timing (TIMING OFF); loops whose time (own plus
inner side) is under ``min_time_share_ratio`` of the statement; loops that neither repeat their
inner side ``min_loops`` times nor touch ``min_work_ratio`` rows (inner rows produced, read or
discarded, and pairs its Join Filter discarded) per row returned. Severity: info below
``warning_time_share_ratio``, critical from ``critical_time_share_ratio``, judged on the low end
of the time that the 3-decimal rounding of per-loop times allows. When the outer row count was
estimated well, each repetition is a cheap lookup (at most ``max_lookup_rows`` rows touched per
loop) and the Join Filter discards little, the planner chose the loop knowingly: info only.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.metrics import exclusive_time_rounding_ms, inclusive_time_rounding_ms
from planalyzer.plan.model import PlanNode
from planalyzer.rules._estimates import Estimates
from planalyzer.rules._expressions import (
    Comparison,
    comparisons,
    create_index_sql,
    index_columns,
    node_comparisons,
    show_condition,
)
from planalyzer.rules._spec import (
    Rule,
    RuleContext,
    Thresholds,
    escalate,
    fmt_part,
    fmt_rows,
)
from planalyzer.rules.finding import Finding, Severity

_INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan", "Bitmap Heap Scan"})


class NestedLoopBlowupThresholds(Thresholds):
    """When a nested loop's work is the problem."""

    min_loops: float = Field(
        1_000,
        description="Repeating the inner side at least this many times counts as wasted work "
        "whatever the rows per loop.",
    )
    min_work_ratio: float = Field(
        100.0,
        description="...as does touching at least this many rows (inner rows produced, read "
        "or discarded, plus pairs the Join Filter discarded) per row the loop returns: the "
        "100x band pev2 and explain.depesz.com use for row-count errors.",
    )
    min_work_rows: float = Field(
        100_000,
        description="Ignore loops touching fewer rows than this in all: a few thousand "
        "comparisons take well under a millisecond.",
    )
    min_time_share_ratio: float = Field(
        0.1,
        description="Report loops (own time plus inner side) taking at least this share of "
        "the statement, as info (the 10 % band of plan visualisers).",
    )
    warning_time_share_ratio: float = Field(
        0.4,
        description="Warning from this share (the 40 % band: the loop dominates the query).",
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


def _no_hashable_key(loop: PlanNode) -> str | None:
    """The loop's Join Filter when it has no equality between the two sides to hash on."""
    cond = loop.join_filter
    if not cond:
        return None
    keys = [c for c in comparisons(cond) if c.kind == "equality" and c.other and not c.in_or]
    return None if keys else cond


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for each Nested Loop whose work far exceeds the rows it returns."""
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
        own_ms = node.exclusive_time_ms
        if inner_ms is None or own_ms is None:
            continue
        loop_ms = inner_ms + own_ms
        rounding = exclusive_time_rounding_ms(node) + inclusive_time_rounding_ms(inner)
        share = ctx.share_of_total(loop_ms)
        share_floor = ctx.share_of_total(max(loop_ms - rounding, 0.0))
        if share is None or share_floor is None or share_floor < t.min_time_share_ratio:
            continue
        scans = _inner_scans(inner)
        touched_per_loop = _rows_touched_per_loop(scans, loops)
        discarded = node.rows_removed_by_join_filter_total or 0.0
        pairs = inner.rows_total or 0.0  # every inner row produced meets the Join Filter
        work = max(pairs, touched_per_loop * loops) + discarded
        returned = node.rows_total or 0.0
        work_ratio = work / max(returned, 1.0)
        wasteful = work >= t.min_work_rows and work_ratio >= t.min_work_ratio
        if loops < t.min_loops and not wasteful:
            continue
        underestimated = view.is_misestimated(outer) and outer.estimate_direction == "under"
        origin = view.origin(outer) if underestimated else None
        severity = escalate(
            share_floor,
            warning_at=t.warning_time_share_ratio,
            critical_at=t.critical_time_share_ratio,
        )
        filter_waste = discarded >= t.min_work_rows and discarded >= t.min_work_ratio * returned
        if not underestimated and touched_per_loop <= t.max_lookup_rows and not filter_waste:
            severity = Severity.INFO
        index_sql, join_keys = _index_suggestion(node, scans)
        unhashable = _no_hashable_key(node)

        because = ""
        if underestimated:
            because = (
                f", because the outer side returned {fmt_rows(outer.rows_total)} rows where "
                f"{fmt_rows(outer.plan_rows_total)} "
                f"{'was' if outer.plan_rows_total == 1 else 'were'} planned"
            )
        compared = ""
        if discarded:
            compared = f", its Join Filter discarding {fmt_rows(discarded)} pairs"
        message = (
            f"{node.display_name} ran its inner side ({inner.display_name}) {fmt_rows(loops)} "
            f"times and touched {fmt_rows(work)} rows{compared} to return {fmt_rows(returned)}, "
            f"{fmt_part(loop_ms, ctx.plan.total_time_ms)} with its inner side"
            f"{because}."
        )
        steps = []
        if origin is not None:
            steps.append(
                f"Fix the row estimate where it starts, at node {origin.id} "
                f"({origin.display_name}; see the row-misestimate finding), so the planner "
                f"expects {fmt_rows(outer.rows_total)} outer rows and can choose a hash join"
            )
        if unhashable is not None:
            steps.append(
                f"The join condition `{show_condition(unhashable)}` has no equality between "
                "the two sides, so a hash or merge join cannot run it and every pair is "
                "compared: rewrite it so one exists (an OR of two keys as a UNION of two "
                "joins, an expression of a column as a comparison of the column itself)"
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
                "loop_time_ms": loop_ms,
                "loop_time_rounding_ms": rounding,
                "loop_time_share_ratio": share,
                "loop_time_share_floor_ratio": share_floor,
                "inner_rows_touched_per_loop_rows": touched_per_loop,
                "join_filter_removed_rows": discarded,
                "work_rows": work,
                "rows_total": returned,
                "work_ratio": work_ratio,
                "outer_rows_total": outer.rows_total,
                "outer_plan_rows_total": outer.plan_rows_total,
                "outer_estimate_factor": outer.estimate_factor,
                "outer_underestimated": underestimated,
                "misestimate_node_id": None if origin is None else origin.id,
                "inner_join_key_columns": join_keys,
                "no_hashable_key": unhashable is not None,
                "disabled_nodes": [n.id for n in (node, outer, inner) if n.disabled],
            },
            suggestion="; ".join(steps) + ".",
            impact_ms=loop_ms,
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
