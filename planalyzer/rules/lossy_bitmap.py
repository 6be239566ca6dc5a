"""Bitmap Heap Scan whose bitmap went lossy because work_mem was too small.

Why it matters: a bitmap scan first collects the matching row locations in a bitmap of at most
``work_mem``. When it does not fit, PostgreSQL degrades pages to "lossy": it keeps only the page
number, so every row on those pages must be fetched and its condition rechecked
(``Rows Removed by Index Recheck``). The scan then does the work of reading whole pages instead
of the matching rows.

What to do: raise ``work_mem`` for this query (``SET LOCAL work_mem = ...``) to the size the
finding states, which lets the bitmap stay exact. PostgreSQL's TID bitmap budgets 64 bytes per
heap page (``tbm_calculate_entries`` in src/backend/nodes/tidbitmap.c: a 48-byte
``PagetableEntry`` plus two pointers used when the bitmap is read out), so an exact bitmap of
``exact + lossy`` pages needs about ``pages x 64`` bytes. Measured on PostgreSQL 15
(fixtures/plans/schema.sql): 3,195 pages x 64 B = 200 kB, and the scan went exact at exactly
``work_mem = 200kB`` (192 kB still gave 1,552 lossy pages). The finding rounds up to a power of
two MB. A more selective index condition, or an index scan, avoids the big bitmap altogether.

Impact: the scan's own time times the lossy share of its heap pages, since every tuple on a
lossy page is fetched and rechecked, whether the recheck keeps it or not; severity follows that
time's share of the statement.

Not reported: plans without ANALYZE; scans with fewer lossy pages than ``min_lossy_blocks``.
On PostgreSQL 15 and older a Parallel Bitmap Heap Scan reports only the leader's pages, so the
stated size may be low for parallel scans.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.rules._spec import (
    Rule,
    RuleContext,
    Thresholds,
    escalate,
    fmt_part,
    fmt_rows,
    work_mem_kb_for,
)
from planalyzer.rules.finding import Finding, Severity


class LossyBitmapThresholds(Thresholds):
    """When lossy bitmap pages are worth a finding, and how bad they are."""

    min_lossy_blocks: int = Field(
        1,
        description="Report scans with at least this many lossy heap blocks (pages); any lossy "
        "page means rechecking every row on it.",
    )
    warning_time_share_ratio: float = Field(
        0.1,
        description="Info below this share of the total time spent on the lossy pages (the "
        "scan's own time x the lossy share of its pages), warning from it (the 10 % band of "
        "plan visualisers).",
    )
    critical_time_share_ratio: float = Field(
        0.4,
        description="Critical from this share of the total time spent on the lossy pages (the "
        "40 % band of plan visualisers).",
    )
    bytes_per_page_bytes: int = Field(
        64,
        description="Bitmap memory per heap page: sizeof(PagetableEntry) 48 + 2 pointers, from "
        "tbm_calculate_entries() in PostgreSQL's tidbitmap.c.",
    )


def _work_mem_kb(needed_bytes: float) -> int:
    """Round ``needed_bytes`` up to a power of two MB (at least 1 MB)."""
    return work_mem_kb_for(needed_bytes / 1024.0)


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for every Bitmap Heap Scan with lossy heap blocks."""
    t: LossyBitmapThresholds = ctx.thresholds
    for node in ctx.plan.nodes():
        if node.node_type != "Bitmap Heap Scan" or not node.lossy_heap_blocks:
            continue
        lossy = float(node.lossy_heap_blocks)
        exact = float(node.exact_heap_blocks or 0)
        if lossy < t.min_lossy_blocks or exact + lossy <= 0:
            continue
        loops = max(float(node.actual_loops or 1), 1.0)
        # The block counters are totals over rescans; one bitmap holds one loop's pages.
        pages_per_loop = (exact + lossy) / loops
        needed_bytes = pages_per_loop * t.bytes_per_page_bytes
        work_mem_kb = _work_mem_kb(needed_bytes)
        lossy_ratio = lossy / (exact + lossy)
        rechecked = node.rows_removed_by_index_recheck_total or 0.0
        returned = node.rows_total or 0.0
        wasted_ratio = rechecked / (rechecked + returned) if rechecked + returned > 0 else None
        own = node.exclusive_time_ms
        # Every tuple on a lossy page is fetched and rechecked, whether the recheck keeps it or
        # not, so the lossy pages' share of the scan's time is what the lossiness costs (the
        # rows the recheck removed are only the visible part of it).
        impact = None if own is None else own * lossy_ratio
        share = ctx.share_of_total(impact)
        severity = escalate(
            share,
            warning_at=t.warning_time_share_ratio,
            critical_at=t.critical_time_share_ratio,
        )
        timing = ""
        if own is not None and ctx.plan.total_time_ms:
            timing = f", {fmt_part(own, ctx.plan.total_time_ms)} total"
        yield ctx.finding(
            node,
            message=(
                f"{node.display_name} went lossy on {lossy:,.0f} of {exact + lossy:,.0f} heap "
                f"pages and rechecked them, discarding {fmt_rows(rechecked)} rows to return "
                f"{fmt_rows(returned)}{timing}."
            ),
            evidence={
                "lossy_heap_blocks": lossy,
                "exact_heap_blocks": exact,
                "lossy_ratio": lossy_ratio,
                "removed_by_recheck_rows": rechecked,
                "rows_total": returned,
                "wasted_ratio": wasted_ratio,
                "needed_bitmap_bytes": needed_bytes,
                "suggested_work_mem_kb": work_mem_kb,
                "work_mem_setting": (ctx.plan.settings or {}).get("work_mem"),
                "exclusive_time_ms": own,
                "lossy_time_ms": impact,
                "time_share_ratio": share,
            },
            suggestion=(
                f"Raise work_mem to about {work_mem_kb // 1024} MB for this query "
                f"(SET LOCAL work_mem = '{work_mem_kb // 1024}MB'): an exact bitmap of "
                f"{pages_per_loop:,.0f} pages needs about {needed_bytes / 1024:,.0f} kB "
                f"({t.bytes_per_page_bytes} bytes per page); or make the index condition "
                "more selective so fewer pages qualify."
            ),
            impact_ms=impact,
            severity=severity,
        )


RULE = Rule(
    id="lossy-bitmap",
    severity=Severity.WARNING,
    summary="Bitmap heap scan went lossy (work_mem too small)",
    check=check,
    thresholds=LossyBitmapThresholds,
    needs_analyze=True,
)
