"""The facts both views print about nodes, statements and findings, worded once.

The text tree and the HTML tree show the same lines under a node (psql's order and wording),
the same statement summary and the same impact figures; keeping them here means a change of
wording shows up in both views and in both sets of snapshots.
"""

from __future__ import annotations

import re
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
    "cost_line",
    "describe_rejected",
    "diff_headline",
    "diff_rows",
    "diff_value",
    "impact",
    "impact_basis",
    "io_timing_line",
    "node_details",
    "node_role",
    "readable_names",
    "skipped_rules",
    "statement_summary",
    "timing_line",
    "worker_lines",
]


_HYPO_NAME = re.compile(r"<\d+>(?:btree|hash|gist|gin|brin|spgist)_([A-Za-z0-9_$]+)")


def readable_names(text: str) -> str:
    """HypoPG's internal index names (``<13566>btree_orders_customer_id``) made readable.

    They are what the planner printed while an index was hypothetical; a reader needs the
    table and columns part, and to know the index does not exist.

    Example:
        >>> readable_names("Index Scan using <13566>btree_orders_customer_id on orders")
        'Index Scan using hypothetical index orders_customer_id on orders'
    """
    if "<" not in text:
        return text
    return _HYPO_NAME.sub(lambda m: f"hypothetical index {m.group(1)}", text)


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
        if parts:  # a plain "Planned Partitions: 0" (EXPLAIN without ANALYZE) says nothing
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


def timing_line(node: PlanNode) -> str:
    """Actual startup and total time per loop, and the inclusive time over all loops."""
    if node.actual_total_time is None or not node.actual_loops:
        return ""
    loops = node.actual_loops
    processes = node.parallel_processes
    per, whole = "", "in all"
    if processes > 1:
        # Loops of a parallel node run side by side: the sum is not time the statement waited.
        per = f" per loop ({fmt_count(loops)} loops in {processes} parallel processes)"
        whole = "of wall time"
    elif loops != 1:
        per = f" per loop (× {fmt_count(loops)} loops)"
    text = (
        f"Actual Time: startup {fmt_ms(node.actual_startup_time)}, "
        f"total {fmt_ms(node.actual_total_time)}{per}"
    )
    if node.inclusive_time_ms is not None and loops != 1:
        text += f"; {fmt_ms(node.inclusive_time_ms)} {whole}"
    return text


def cost_line(node: PlanNode) -> str:
    """The planner's estimate, printed for analysed plans too: cost range, rows, width."""
    if node.total_cost is None:
        return ""
    parts = [f"Cost: {fmt_cost(node.startup_cost)}..{fmt_cost(node.total_cost)}"]
    if node.plan_rows is not None:
        parts.append(f"est rows {fmt_count(node.plan_rows)}")
    if node.plan_width is not None:
        parts.append(f"width {node.plan_width}")
    return ", ".join(parts)


def io_timing_line(node: PlanNode) -> str:
    """``I/O Timings`` as psql prints them (track_io_timing), inclusive of children."""
    groups = []
    for kind, read, write in (
        ("", node.io_read_time_ms, node.io_write_time_ms),
        ("shared ", node.shared_io_read_time_ms, node.shared_io_write_time_ms),
        ("local ", node.local_io_read_time_ms, node.local_io_write_time_ms),
        ("temp ", node.temp_io_read_time_ms, node.temp_io_write_time_ms),
    ):
        parts = []
        if read:
            parts.append(f"read={read:,.3f}")
        if write:
            parts.append(f"write={write:,.3f}")
        if parts:
            groups.append(kind + " ".join(parts))
    return f"I/O Timings: {', '.join(groups)} ms" if groups else ""


def worker_lines(node: PlanNode) -> Iterator[str]:
    """One line per parallel worker (EXPLAIN VERBOSE prints them): its time, rows and loops."""
    for worker in node.workers or ():
        parts = []
        if worker.actual_total_time is not None:
            parts.append(
                f"time {fmt_ms(worker.actual_startup_time)}..{fmt_ms(worker.actual_total_time)}"
            )
        if worker.actual_rows is not None:
            parts.append(f"rows {fmt_count(worker.actual_rows)}")
        if worker.actual_loops is not None and worker.actual_loops != 1:
            parts.append(f"loops {fmt_count(worker.actual_loops)}")
        number = "?" if worker.worker_number is None else worker.worker_number
        if parts:
            yield f"Worker {number}: {'  '.join(parts)}"


def node_role(node: PlanNode) -> str:
    """What kind of input a node is to its parent when it is not an ordinary one.

    A CTE body, an InitPlan (run once, its result used as a value) and a SubPlan (run per row
    of its parent, or hashed) are not inputs the parent reads row by row; PostgreSQL names them
    in ``Subplan Name`` (``CTE big``, ``InitPlan 1 (returns $0)``, ``SubPlan 2``).
    """
    name = node.subplan_name or ""
    if name.startswith("CTE "):
        return f"CTE {name[4:]}"
    if name.startswith(("InitPlan", "SubPlan", "hashed SubPlan")):
        return name
    if node.parent_relationship in ("InitPlan", "SubPlan"):
        return node.parent_relationship
    return ""


# Where each rule's impact figure comes from (the rules' own definitions, see their modules).
_IMPACT_BASIS = {
    "correlated-subplan": "the SubPlan's time over all its runs",
    "hash-spill": "the time of the node that spilled",
    "jit-overhead": "time spent compiling with JIT",
    "large-offset": "the Limit input's time spent on rows the OFFSET threw away",
    "lossy-bitmap": "the heap scan's own time, in proportion to the rows rechecked and dropped",
    "nested-loop-blowup": "the inner side's time over all loops",
    "poor-cache-hit": "time spent reading blocks (I/O timing; else the node's own time)",
    "slow-planning": "planning time",
    "slow-trigger": "time spent in the trigger",
    "workers-not-launched": "the parallel section's time lost to workers that did not start",
}
_MISESTIMATE_BASIS = {
    "nested_loop_inner": "the Nested Loop's own time plus its inner side's, which ran once per "
    "misestimated outer row",
    "join_exclusive": "the own time of the join planned from the estimate",
}


def impact_basis(finding: Finding) -> str:
    """Where a finding's impact figure comes from, in a few words.

    A finding's time is not its node's self time but what the rule holds the problem
    responsible for; saying which keeps a reader from adding the figures up.
    """
    if finding.impact_ms is None:
        if finding.impact_cost_share is not None:
            return "the node's share of the plan's estimated cost"
        return ""
    if finding.rule == "row-misestimate":
        basis = str(finding.evidence.get("impact_basis", ""))
        return _MISESTIMATE_BASIS.get(basis, "the node's own time (children excluded)")
    return _IMPACT_BASIS.get(finding.rule, "the node's own time (children excluded)")


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
    before_id: int | None = None
    after_id: int | None = None
    changes: tuple[str, ...] = ()


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
    between two runs), or when it works differently (sort method, batches, lossy blocks,
    loops, workers) whatever its time did.
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
        changes = tuple(match.changes())
        telling = any(c.startswith(_TELLING) for c in changes)
        if not match.changed and abs(delta) < noise and not telling:
            continue
        rows.append(
            DiffRow(
                kind="changed" if match.changed else "matched",
                before_label=f"#{match.before.id} {readable_names(match.before.display_name)}",
                before_value=diff_value(match.value_before, measure),
                after_label=f"#{match.after.id} {readable_names(match.after.display_name)}",
                after_value=diff_value(match.value_after, measure),
                delta=delta,
                delta_text=_delta_text(delta, measure) if match.delta is not None else "",
                before_id=match.before.id,
                after_id=match.after.id,
                changes=changes,
            )
        )
    for node in diff.vanished:
        value = _node_value(node, measure)
        rows.append(
            DiffRow(
                kind="vanished",
                before_label=f"#{node.id} {readable_names(node.display_name)}",
                before_value=diff_value(value, measure),
                after_label="(gone)",
                after_value="",
                delta=-(value or 0.0),
                delta_text="",
                before_id=node.id,
            )
        )
    for node in diff.added:
        value = _node_value(node, measure)
        rows.append(
            DiffRow(
                kind="added",
                before_label="(new)",
                before_value="",
                after_label=f"#{node.id} {readable_names(node.display_name)}",
                after_value=diff_value(value, measure),
                delta=value or 0.0,
                delta_text="",
                after_id=node.id,
            )
        )
    # Structural changes first (they are the story), then by size of the change.
    order = {"changed": 0, "vanished": 1, "added": 1, "matched": 2}
    rows.sort(key=lambda r: (order[r.kind], -abs(r.delta)))
    return rows[:limit]


_TELLING = ("sort ", "lossy", "hash batches", "loops", "workers", "disk")


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
