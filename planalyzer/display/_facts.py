"""The facts both views print about nodes, statements and findings, worded once.

The text tree and the HTML tree show the same lines under a node (psql's order and wording),
the same statement summary and the same impact figures; keeping them here means a change of
wording shows up in both views and in both sets of snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planalyzer.display._format import fmt_cost, fmt_count, fmt_ms, fmt_share

if TYPE_CHECKING:
    from planalyzer.plan.compare import PlanDiff
    from planalyzer.plan.model import Plan, PlanNode
    from planalyzer.rules.finding import Finding

__all__ = [
    "DiffRow",
    "describe_rejected",
    "diff_headline",
    "diff_rows",
    "diff_value",
    "impact",
    "node_details",
    "skipped_rules",
    "statement_summary",
]


def node_details(node: PlanNode) -> Iterator[str]:
    """The lines psql prints under a node (keys, conditions, methods, buffers), in its order."""
    for label, keys in (
        ("Sort Key", node.sort_key),
        ("Presorted Key", node.presorted_key),
        ("Group Key", node.group_key),
    ):
        if keys:
            yield f"{label}: {', '.join(keys)}"
    loops = node.actual_loops or 0
    for label, cond, removed, removed_total in (
        ("Hash Cond", node.hash_cond, None, None),
        ("Merge Cond", node.merge_cond, None, None),
        ("Join Filter", node.join_filter, None, None),
        ("Index Cond", node.index_cond, None, None),
        ("Recheck Cond", node.recheck_cond, None, None),
        ("Filter", node.filter, None, None),
        ("TID Cond", node.tid_cond, None, None),
        ("Order By", node.order_by, None, None),
        ("Cache Key", node.cache_key, None, None),
        (
            "Rows Removed by Join Filter",
            None,
            node.rows_removed_by_join_filter,
            node.rows_removed_by_join_filter_total,
        ),
        (
            "Rows Removed by Index Recheck",
            None,
            node.rows_removed_by_index_recheck,
            node.rows_removed_by_index_recheck_total,
        ),
        (
            "Rows Removed by Filter",
            None,
            node.rows_removed_by_filter,
            node.rows_removed_by_filter_total,
        ),
    ):
        if cond:
            yield f"{label}: {cond}"
        elif removed:
            # Printed only when non-zero, as psql does. PostgreSQL gives a per-loop average;
            # the total over all loops is what a DBA weighs.
            total = (
                f" ({fmt_count(removed_total)} in {fmt_count(loops)} loops)" if loops > 1 else ""
            )
            yield f"{label}: {fmt_count(removed)}{total}"
    yield from _method_lines(node)
    buffers = _buffers(node)
    if buffers:
        yield buffers


def _method_lines(node: PlanNode) -> Iterator[str]:
    """Sort, hash, memoize, bitmap and parallel facts, worded as psql words them."""
    if node.sort_method:
        space = ""
        if node.sort_space_used_kb is not None:
            space = f"  {node.sort_space_type or 'Space'}: {fmt_count(node.sort_space_used_kb)} kB"
        yield f"Sort Method: {node.sort_method}{space}"
    if node.hash_buckets is not None:
        parts = [f"Buckets: {fmt_count(node.hash_buckets)}"]
        if node.original_hash_buckets not in (None, node.hash_buckets):
            parts[-1] += f" (originally {fmt_count(node.original_hash_buckets)})"
        parts.append(f"Batches: {fmt_count(node.hash_batches)}")
        if node.original_hash_batches not in (None, node.hash_batches):
            parts[-1] += f" (originally {fmt_count(node.original_hash_batches)})"
        if node.peak_memory_usage_kb is not None:
            parts.append(f"Memory Usage: {fmt_count(node.peak_memory_usage_kb)} kB")
        yield "  ".join(parts)
    elif node.hashagg_batches is not None or node.planned_partitions is not None:
        parts = []
        if node.planned_partitions:
            parts.append(f"Planned Partitions: {node.planned_partitions}")
        if node.hashagg_batches is not None:
            parts.append(f"Batches: {node.hashagg_batches}")
        if node.peak_memory_usage_kb is not None:
            parts.append(f"Memory Usage: {fmt_count(node.peak_memory_usage_kb)} kB")
        if node.disk_usage_kb:
            parts.append(f"Disk Usage: {fmt_count(node.disk_usage_kb)} kB")
        yield "  ".join(parts)
    if node.cache_hits is not None or node.cache_misses is not None:
        hits, misses = node.cache_hits or 0, node.cache_misses or 0
        rate = f" ({fmt_share(hits / (hits + misses))} hits)" if hits + misses else ""
        yield (
            f"Hits: {fmt_count(hits)}  Misses: {fmt_count(misses)}{rate}  "
            f"Evictions: {fmt_count(node.cache_evictions or 0)}  "
            f"Overflows: {fmt_count(node.cache_overflows or 0)}"
        )
    if node.exact_heap_blocks is not None or node.lossy_heap_blocks is not None:
        yield (
            f"Heap Blocks: exact={fmt_count(node.exact_heap_blocks or 0)} "
            f"lossy={fmt_count(node.lossy_heap_blocks or 0)}"
        )
    if node.heap_fetches is not None:
        yield f"Heap Fetches: {fmt_count(node.heap_fetches)}"
    if node.workers_planned is not None:
        launched = ""
        if node.workers_launched is not None:
            launched = f"  Workers Launched: {node.workers_launched}"
        yield f"Workers Planned: {node.workers_planned}{launched}"
    if node.subplans_removed:
        yield f"Subplans Removed: {node.subplans_removed}"


def _buffers(node: PlanNode) -> str:
    """The ``Buffers:`` line as psql prints it (inclusive of children, as the server reports it)."""
    groups = []
    for kind in ("shared", "local", "temp"):
        parts = []
        for what in ("hit", "read", "dirtied", "written"):
            value = getattr(node, f"{kind}_{what}_blocks", None)
            if value:
                parts.append(f"{what}={fmt_count(value)}")
        if parts:
            groups.append(f"{kind} {' '.join(parts)}")
    return f"Buffers: {', '.join(groups)}" if groups else ""


def impact(finding: Finding, plan: Plan | None) -> str:
    """How much of the statement a finding explains, in time or else in cost share."""
    if finding.impact_ms is not None:
        total = plan.total_time_ms if plan is not None else None
        share = (
            f" ({fmt_share(min(finding.impact_ms / total, 1.0))} of the statement)" if total else ""
        )
        return f"{fmt_ms(finding.impact_ms)}{share}"
    if finding.impact_cost_share is not None:
        return f"{fmt_share(finding.impact_cost_share)} of the cost (estimated)"
    return ""


def statement_summary(plan: Plan) -> str:
    """One line: execution and planning time (or cost), node count, how the plan was taken."""
    parts = []
    if plan.execution_time_ms is not None:
        parts.append(f"executed in {fmt_ms(plan.execution_time_ms)}")
    elif plan.root.inclusive_time_ms is not None:
        parts.append(f"ran {fmt_ms(plan.root.inclusive_time_ms)}")
    if plan.planning_time_ms is not None:
        parts.append(f"planned in {fmt_ms(plan.planning_time_ms)}")
    if plan.trigger_time_ms:
        parts.append(f"{fmt_ms(plan.trigger_time_ms)} in triggers")
    if plan.root.total_cost is not None:
        parts.append(f"cost {fmt_cost(plan.root.total_cost)}")
    count = len(plan.nodes())
    parts.append(f"{count} node{'s' if count != 1 else ''}")
    kind = "EXPLAIN ANALYZE" if plan.analyzed else "EXPLAIN (estimates only)"
    if plan.analyzed and not plan.timed:
        kind = "EXPLAIN ANALYZE, TIMING OFF"
    return f"Statement: {', '.join(parts)}; {kind}."


def skipped_rules(rules_skipped: dict[str, str]) -> str:
    """Skipped rules grouped by reason: ``a, b (needs EXPLAIN ANALYZE); c (disabled)``."""
    by_reason: dict[str, list[str]] = {}
    for rule_id, reason in rules_skipped.items():
        by_reason.setdefault(reason, []).append(rule_id)
    return "; ".join(f"{', '.join(ids)} ({reason})" for reason, ids in by_reason.items())


def describe_rejected(item: Any) -> str:
    """A rejected candidate in one line, whatever shape the advisor gives it."""
    for attr in ("summary", "description"):
        text = getattr(item, attr, None)
        if isinstance(text, str):
            return text
    sql = getattr(item, "create_sql", None) or getattr(item, "candidate", None) or item
    reason = getattr(item, "reason", None)
    return f"{sql}: {reason}" if reason else str(sql)


# --- plan comparison ------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    """One line of a comparison: a node before and/or after, its figure and the change."""

    kind: str  # "changed", "matched", "vanished" or "added"
    before_label: str
    before_value: str
    after_label: str
    after_value: str
    delta: float
    delta_text: str


def diff_value(value: float | None, measure: str) -> str:
    """A node's figure in a comparison: a duration or a cost."""
    if value is None:
        return ""
    return fmt_ms(value) if measure == "time" else f"cost {fmt_cost(value)}"


def _delta_text(delta: float, measure: str) -> str:
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    magnitude = fmt_ms(abs(delta)) if measure == "time" else fmt_cost(abs(delta))
    return f"{sign}{magnitude}"


def diff_rows(diff: PlanDiff, *, limit: int = 12) -> list[DiffRow]:
    """The nodes worth telling about, biggest change first.

    Changed, vanished and added nodes always qualify; a node done the same way qualifies when
    its figure moved by at least 5 % of the larger statement total (smaller moves are noise
    between two runs).
    """
    measure = diff.measure
    totals = (
        (diff.time_before_ms, diff.time_after_ms)
        if measure == "time"
        else (diff.cost_before, diff.cost_after)
    )
    noise = 0.05 * max((t for t in totals if t is not None), default=0.0)
    rows: list[DiffRow] = []
    for match in diff.matches:
        delta = match.delta or 0.0
        if not match.changed and abs(delta) < noise:
            continue
        rows.append(
            DiffRow(
                kind="changed" if match.changed else "matched",
                before_label=f"#{match.before.id} {match.before.display_name}",
                before_value=diff_value(match.value_before, measure),
                after_label=f"#{match.after.id} {match.after.display_name}",
                after_value=diff_value(match.value_after, measure),
                delta=delta,
                delta_text=_delta_text(delta, measure) if match.delta is not None else "",
            )
        )
    for node in diff.vanished:
        value = _node_value(node, measure)
        rows.append(
            DiffRow(
                kind="vanished",
                before_label=f"#{node.id} {node.display_name}",
                before_value=diff_value(value, measure),
                after_label="(gone)",
                after_value="",
                delta=-(value or 0.0),
                delta_text="",
            )
        )
    for node in diff.added:
        value = _node_value(node, measure)
        rows.append(
            DiffRow(
                kind="added",
                before_label="(new)",
                before_value="",
                after_label=f"#{node.id} {node.display_name}",
                after_value=diff_value(value, measure),
                delta=value or 0.0,
                delta_text="",
            )
        )
    # Structural changes first (they are the story), then by size of the change.
    order = {"changed": 0, "vanished": 1, "added": 1, "matched": 2}
    rows.sort(key=lambda r: (order[r.kind], -abs(r.delta)))
    return rows[:limit]


def _node_value(node: PlanNode, measure: str) -> float | None:
    return node.inclusive_time_ms if measure == "time" else node.total_cost


def diff_headline(diff: PlanDiff) -> str:
    """The comparison in one sentence: totals before → after, the factor on the measure used."""
    speedup = diff.speedup
    verdict = ""
    if speedup is not None:
        better, worse = ("faster", "slower") if diff.measure == "time" else ("cheaper", "dearer")
        if speedup >= 1.05:
            verdict = f" ({_factor(speedup)} {better})"
        elif speedup <= 1 / 1.05:
            verdict = f" ({_factor(1 / speedup)} {worse})"
        else:
            verdict = " (about the same)"
    parts = []
    if diff.time_before_ms is not None and diff.time_after_ms is not None:
        parts.append(f"time {fmt_ms(diff.time_before_ms)} → {fmt_ms(diff.time_after_ms)}")
        if diff.measure == "time":
            parts[-1] += verdict
    if diff.cost_before is not None and diff.cost_after is not None:
        parts.append(f"cost {fmt_cost(diff.cost_before)} → {fmt_cost(diff.cost_after)}")
        if diff.measure == "cost":
            parts[-1] += verdict
    text = "; ".join(parts) if parts else "no totals to compare"
    return f"Plan comparison: {text}."


def _factor(value: float) -> str:
    return f"{value:,.1f}×" if value < 10 else f"{value:,.0f}×"
