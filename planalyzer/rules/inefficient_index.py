"""Index scan whose Filter discards most rows it fetched, or index-only scan visiting the heap.

Why it matters: an Index Scan fetches each matching heap row by its address, usually a random
read, and only then applies the Filter, the conditions the index could not check. When the
filter throws most of those rows away, most of that random I/O was wasted; an index whose
columns include the filtered ones would have returned only the rows kept. An Index Only Scan
answers from the index alone only for pages the visibility map marks all-visible. Every Heap
Fetch is a page it still had to read, so with many of them it is no better than an Index Scan.

What to do: for a discarding filter, create the multi-column index the finding names: the
index condition's columns and the filter's equality columns first, then the range ones. Keep
the existing index's ordering columns after them when the scan also provides an ORDER BY. For
heap fetches, ``VACUUM`` the table so the visibility map is set again; if it recurs, make
autovacuum visit it more often (``autovacuum_vacuum_scale_factor``, and
``autovacuum_vacuum_insert_scale_factor`` for insert-mostly tables on PostgreSQL 13+).

Not reported: plans without ANALYZE; filters discarding less than ``warning_removed_ratio`` of
the fetched rows or fewer than ``min_removed_rows`` rows in all; index-only scans with fewer
than ``min_heap_fetches`` heap fetches or under ``warning_heap_fetch_ratio`` of the rows
returned. Rows removed by a bitmap *recheck* belong to lossy-bitmap. Severity grows with the
wasted share (50/90 % for filters; 40/90 % for heap fetches). It drops to info when the scan
took less than ``min_time_share_ratio`` of the total time.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.model import PlanNode
from planalyzer.rules._expressions import (
    create_index_sql,
    index_columns,
    node_comparisons,
    quote_relation,
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

_FILTERED_SCANS = frozenset({"Index Scan", "Index Only Scan", "Bitmap Heap Scan"})
# Nodes that consume rows in the order they arrive, so an index scan below them may be there
# for its order: keep the index's ordering columns in any replacement.
_ORDER_CONSUMERS = frozenset({"Limit", "Merge Join", "Unique", "WindowAgg"})


class InefficientIndexThresholds(Thresholds):
    """When an index scan wastes most of its work."""

    warning_removed_ratio: float = Field(
        0.5,
        description="Warning when the Filter discards at least this share of the rows the "
        "index returned (the 50 % rows-removed band of pev2 and explain.depesz.com).",
    )
    critical_removed_ratio: float = Field(
        0.9, description="Critical from this share (the 90 % band)."
    )
    min_removed_rows: float = Field(
        500,
        description="Ignore filters that discarded fewer rows than this over all loops: a few "
        "hundred wasted heap visits cost well under a millisecond even when not cached.",
    )
    warning_heap_fetch_ratio: float = Field(
        0.4,
        description="Index Only Scan: warning when heap fetches are at least this share of "
        "the rows returned (pev2/pgMustard bands 0/40/90 %; 0 is a true index-only scan).",
    )
    critical_heap_fetch_ratio: float = Field(
        0.9, description="Index Only Scan: critical from this share (the 90 % band)."
    )
    min_heap_fetches: float = Field(
        1_000,
        description="Ignore index-only scans with fewer heap fetches than this in all.",
    )
    min_time_share_ratio: float = Field(
        0.1,
        description="Info only when the scan took less than this share of the total time "
        "(the 10 % band of plan visualisers).",
    )


def _severity(ctx: RuleContext, node: PlanNode, base: Severity) -> tuple[Severity, float | None]:
    """Lower the magnitude-based severity when the scan is a small part of the query."""
    t: InefficientIndexThresholds = ctx.thresholds
    share = ctx.share_of_total(node.exclusive_time_ms)
    if share is not None and share < t.min_time_share_ratio:
        return Severity.INFO, share
    if share is None and base is Severity.CRITICAL:
        return Severity.WARNING, share  # without timing the magnitude alone is not enough
    return base, share


def _provides_order(node: PlanNode) -> bool:
    """True when the rows go, unsorted, to a node that uses their order (Limit, Merge Join)."""
    parent = node.parent
    while parent is not None:
        if parent.node_type in _ORDER_CONSUMERS or (
            parent.node_type == "Aggregate" and parent.strategy == "Sorted"
        ):
            return True
        if parent.node_type in {"Sort", "Hash", "Aggregate", "Incremental Sort"}:
            return False
        if parent.node_type not in {"Gather Merge", "Result", "Subquery Scan", "Materialize"}:
            return False
        parent = parent.parent
    return False


def _index_cond_field(node: PlanNode) -> str:
    return "recheck_cond" if node.node_type == "Bitmap Heap Scan" else "index_cond"


def _filter_suggestion(node: PlanNode) -> str:
    comps = node_comparisons(node, _index_cond_field(node), "filter")
    filter_columns = index_columns(node_comparisons(node, "filter"))
    columns = index_columns(comps)
    if not filter_columns:
        return (
            f"The filter `{show_condition(node.filter)}` has no column a b-tree can use; a "
            "partial index (CREATE INDEX ... WHERE <that condition>) or an expression index "
            "matching it would return only the rows kept."
        )
    sql = create_index_sql(node, columns)
    order = ""
    if _provides_order(node) and node.index_name:
        order = (
            f" Since this scan also returns rows in the order of {node.index_name}, append "
            "that index's ordering columns after these so the ORDER BY still needs no sort."
        )
    return (
        f"{sql}: the index then checks the filter too and returns only the rows kept "
        f"(equality columns first, then range; CREATE INDEX CONCURRENTLY on a busy table).{order}"
    )


def _check_filter(ctx: RuleContext, node: PlanNode) -> Finding | None:
    t: InefficientIndexThresholds = ctx.thresholds
    removed = node.rows_removed_by_filter_total
    if not node.filter or removed is None or node.rows_total is None:
        return None
    fetched = node.rows_total + removed
    ratio = removed / fetched if fetched else 0.0
    if removed < t.min_removed_rows or ratio < t.warning_removed_ratio:
        return None
    base = escalate(ratio, warning_at=t.warning_removed_ratio, critical_at=t.critical_removed_ratio)
    severity, share = _severity(ctx, node, base)
    timing = ""
    if node.exclusive_time_ms is not None and ctx.plan.total_time_ms:
        timing = f", {fmt_part(node.exclusive_time_ms, ctx.plan.total_time_ms)}"
    fetched_how = "the bitmap" if node.node_type == "Bitmap Heap Scan" else "the index"
    return ctx.finding(
        node,
        message=(
            f"{node.display_name} fetched {fmt_rows(fetched)} rows through {fetched_how} to "
            f"keep {fmt_rows(node.rows_total)} ({ratio:.1%} removed by filter "
            f"`{show_condition(node.filter)}`){timing}."
        ),
        evidence={
            "rows_fetched_total": fetched,
            "rows_total": node.rows_total,
            "rows_removed_total": removed,
            "removed_ratio": ratio,
            "actual_loops": node.actual_loops,
            "exclusive_time_ms": node.exclusive_time_ms,
            "time_share_ratio": share,
        },
        suggestion=_filter_suggestion(node),
        severity=severity,
    )


def _check_heap_fetches(ctx: RuleContext, node: PlanNode) -> Finding | None:
    t: InefficientIndexThresholds = ctx.thresholds
    # Heap Fetches is a total over all loops (explain.c prints ntuples2 undivided), unlike the
    # per-loop Rows Removed figures.
    fetches = node.heap_fetches
    rows = node.rows_total
    if fetches is None or rows is None or fetches < t.min_heap_fetches:
        return None
    ratio = fetches / rows if rows else float("inf")
    if ratio < t.warning_heap_fetch_ratio:
        return None
    base = escalate(
        ratio, warning_at=t.warning_heap_fetch_ratio, critical_at=t.critical_heap_fetch_ratio
    )
    severity, share = _severity(ctx, node, base)
    timing = ""
    if node.exclusive_time_ms is not None and ctx.plan.total_time_ms:
        timing = f", {fmt_part(node.exclusive_time_ms, ctx.plan.total_time_ms)}"
    table = quote_relation(node)
    return ctx.finding(
        node,
        message=(
            f"{node.display_name} had to visit the heap {fmt_rows(fetches)} times for "
            f"{fmt_rows(rows)} rows returned (heap fetches {ratio:.0%} of rows), so it was "
            f"hardly index-only{timing}."
        ),
        evidence={
            "heap_fetches": fetches,
            "rows_total": rows,
            "heap_fetch_ratio": ratio,
            "exclusive_time_ms": node.exclusive_time_ms,
            "time_share_ratio": share,
        },
        suggestion=(
            f"VACUUM (ANALYZE) {table}; sets the visibility map again so the scan can skip the "
            "heap. If it recurs, check that autovacuum runs on this table and make it visit "
            f"more often: ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.02, "
            "autovacuum_vacuum_insert_scale_factor = 0.02);"
        ),
        severity=severity,
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield findings for index scans with a wasteful filter or index-only scans on the heap."""
    for node in ctx.plan.nodes():
        if node.node_type not in _FILTERED_SCANS or not node.executed:
            continue
        for finding in (_check_filter(ctx, node), _check_heap_fetches(ctx, node)):
            if finding is not None:
                yield finding


RULE = Rule(
    id="inefficient-index",
    severity=Severity.WARNING,
    summary="Index scan discards most rows it fetched, or index-only scan visits the heap",
    check=check,
    thresholds=InefficientIndexThresholds,
    needs_analyze=True,
)
