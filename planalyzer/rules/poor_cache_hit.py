"""Node that read many pages from outside shared buffers (a poor buffer cache hit ratio).

Why it matters: a page found in PostgreSQL's shared buffers is a "hit"; anything else is a
"read", served by the operating system's page cache (microseconds) or by storage (tenths of a
millisecond or more on SSD, milliseconds on network or spinning disks). A node that reads
thousands of pages is bound by I/O, and its time depends on what happens to be cached. With
``track_io_timing = on`` the plan also says how long the reads took (``I/O Read Time``), which
tells the two apart: the average per 8 kB block is printed in the finding.

What to do: first rerun the query; if the second run hits the cache, it was a cold cache
(after a restart, or the first query of the day), and ``pg_prewarm`` can load hot tables ahead
of time. If it keeps reading, the working set does not fit: read fewer pages (an index that
matches the filter, a covering index, a narrower table), or size ``shared_buffers`` (commonly
~25 % of RAM) and ``effective_cache_size`` for the data. A sequential scan of a table larger
than a quarter of shared buffers always goes through a small ring buffer and reads from
outside shared buffers, whatever their size.

Not reported: plans without ANALYZE and BUFFERS; nodes reading fewer than ``min_read_blocks``
blocks (a one-off cold read of a small table), with a hit ratio of at least
``max_hit_ratio``, or taking less than ``min_time_share_ratio`` of the time. Severity comes
from the share of time spent in reads when ``track_io_timing`` was on, else from the volume.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.metrics import is_cte_body
from planalyzer.plan.model import PlanNode
from planalyzer.rules._spec import Rule, RuleContext, Thresholds, fmt_ms, fmt_part, fmt_pct
from planalyzer.rules.finding import Finding, Severity

BLOCK_KB = 8  # PostgreSQL's default page size (BLCKSZ 8192)


class PoorCacheHitThresholds(Thresholds):
    """How many blocks read, at what hit ratio and time share, make a finding."""

    min_read_blocks: int = Field(
        1024,
        description="Ignore nodes reading fewer blocks than this (8 MB at 8 kB per block): a "
        "cold read of a small table costs a few ms once.",
    )
    max_hit_ratio: float = Field(
        0.9,
        description="Report only below this hit ratio hit / (hit + read): OLTP systems expect "
        "99 % overall (the usual DBA rule of thumb), so under 90 % for one node is clearly poor.",
    )
    min_time_share_ratio: float = Field(
        0.1,
        description="Ignore nodes taking less than this share of the total time (the 10 % "
        "band of plan visualisers).",
    )
    warning_io_share_ratio: float = Field(
        0.1,
        description="With track_io_timing: warning when reads took this share of the total "
        "time (the 10 % band); info below.",
    )
    critical_io_share_ratio: float = Field(
        0.4,
        description="With track_io_timing: critical when reads took this share of the total "
        "time (the 40 % band).",
    )
    warning_read_blocks: int = Field(
        10_000,
        description="Without I/O timing: warning from this many blocks read (about 80 MB); "
        "info below.",
    )
    critical_read_blocks: int = Field(
        131_072,
        description="Without I/O timing: critical from this many blocks read (1 GB) when the "
        "node takes at least 40 % of the time.",
    )
    os_cache_max_block_read_ms: float = Field(
        0.02,
        description="Reads averaging below this per block (20 microseconds) came from the OS "
        "page cache (a memory copy, ~1-5 us); storage is slower (SSD ~0.1 ms).",
    )


def _io_read_ms(node: PlanNode) -> float | None:
    """Read time of this node; PostgreSQL 17 renamed it ``Shared I/O Read Time``."""
    if node.io_read_time_ms is not None:
        return node.io_read_time_ms
    return node.shared_io_read_time_ms


def _exclusive_io_read_ms(node: PlanNode) -> float | None:
    """The node's own read time: I/O timings are cumulative up the tree, like buffers."""
    own = _io_read_ms(node)
    if own is None:
        return None
    for child in node.children:
        if child.remote or is_cte_body(child):
            continue
        own -= _io_read_ms(child) or 0.0
    return max(own, 0.0)


def _severity(
    t: PoorCacheHitThresholds, read: float, io_share: float | None, share: float | None
) -> Severity:
    if io_share is not None:
        if io_share >= t.critical_io_share_ratio:
            return Severity.CRITICAL
        if io_share >= t.warning_io_share_ratio:
            return Severity.WARNING
        return Severity.INFO
    if read >= t.critical_read_blocks and share is not None and share >= 0.4:
        return Severity.CRITICAL
    if read >= t.warning_read_blocks:
        return Severity.WARNING
    return Severity.INFO


def _finding(
    ctx: RuleContext,
    t: PoorCacheHitThresholds,
    node: PlanNode,
    *,
    hit: float,
    read: float,
    io_ms: float | None,
    time_ms: float | None,
    statement: bool,
) -> Finding:
    ratio = hit / (hit + read) if hit + read > 0 else 1.0
    share = ctx.share_of_total(time_ms)
    io_share = ctx.share_of_total(io_ms) if ctx.timed else None
    per_block_ms = io_ms / read if io_ms is not None and read > 0 else None
    from_os = per_block_ms is not None and per_block_ms < t.os_cache_max_block_read_ms
    where = "The statement" if statement else node.display_name
    io_text = ""
    if io_ms is not None:
        source = "the OS page cache" if from_os else "storage"
        io_text = (
            f"; the reads took {fmt_ms(io_ms)} ({per_block_ms * 1000:,.1f} µs per block, "
            f"likely {source})"
            if per_block_ms is not None
            else ""
        )
    timing = ""
    if time_ms is not None and ctx.plan.total_time_ms and not statement:
        timing = f", {fmt_part(time_ms, ctx.plan.total_time_ms)} total"
    if from_os:
        advice = (
            "The pages came from the OS cache, so the data fits in RAM but not in shared "
            "buffers: consider a larger shared_buffers (commonly ~25 % of RAM), or read fewer "
            "pages with an index that matches the filter."
        )
    else:
        advice = (
            "Rerun the query: if the second run hits the cache this was a cold cache (pg_prewarm "
            "can preload hot tables). If it keeps reading, the working set does not fit: read "
            "fewer pages (an index matching the filter, a covering index) or size "
            "shared_buffers / effective_cache_size for the data."
        )
    return ctx.finding(
        node,
        message=(
            f"{where} read {read:,.0f} blocks ({read * BLOCK_KB / 1024:,.0f} MB) from outside "
            f"shared buffers and found {hit:,.0f} there ({fmt_pct(ratio)} hit ratio)"
            f"{timing}{io_text}."
        ),
        evidence={
            "shared_read_blocks": read,
            "shared_hit_blocks": hit,
            "hit_ratio": ratio,
            "io_read_time_ms": io_ms,
            "io_share_ratio": io_share,
            "read_per_block_ms": per_block_ms,
            "exclusive_time_ms": time_ms,
            "time_share_ratio": share,
        },
        suggestion=advice,
        impact_ms=io_ms if io_ms is not None else time_ms,
        severity=_severity(t, read, io_share, share),
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for each node reading many blocks from outside shared buffers.

    When no single node qualifies but the statement as a whole does (many nodes each reading
    a little), one finding about the root says so.
    """
    t: PoorCacheHitThresholds = ctx.thresholds
    found = False
    for node in ctx.plan.nodes():
        read = node.exclusive_shared_read_blocks
        hit = node.exclusive_shared_hit_blocks or 0
        if not read or read < t.min_read_blocks or hit / (hit + read) >= t.max_hit_ratio:
            continue
        share = ctx.share_of_total(node.exclusive_time_ms)
        if share is not None and share < t.min_time_share_ratio:
            continue
        found = True
        yield _finding(
            ctx,
            t,
            node,
            hit=float(hit),
            read=float(read),
            io_ms=_exclusive_io_read_ms(node),
            time_ms=node.exclusive_time_ms,
            statement=False,
        )
    root = ctx.plan.root
    read_total = root.shared_read_blocks or 0
    hit_total = root.shared_hit_blocks or 0
    if (
        found
        or read_total <= 0
        or read_total < max(t.min_read_blocks, t.warning_read_blocks)
        or hit_total / (hit_total + read_total) >= t.max_hit_ratio
    ):
        return
    yield _finding(
        ctx,
        t,
        root,
        hit=float(hit_total),
        read=float(read_total),
        io_ms=_io_read_ms(root),
        time_ms=root.inclusive_time_ms,
        statement=True,
    )


RULE = Rule(
    id="poor-cache-hit",
    severity=Severity.WARNING,
    summary="Many pages read from outside shared buffers",
    check=check,
    thresholds=PoorCacheHitThresholds,
    needs_analyze=True,
)
