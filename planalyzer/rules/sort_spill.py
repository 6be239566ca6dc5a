"""Sort that spilled to disk because work_mem was too small.

Why it matters: an external merge sort writes its input to temporary files and reads it back;
the same sort in memory is typically several times faster, and temp-file I/O competes with
everything else on the server.

What to do: raise ``work_mem`` for this query or session (``SET LOCAL work_mem = ...``); the
finding states a size that would have fitted, about twice the disk space used, since tuples
take more room in memory than in the temporary file. Or add an index that returns the rows
already in this order, so no sort is needed at all.

Not reported: plans without ANALYZE (the sort method is only known after running); in-memory
sorts; spills smaller than ``min_spill_kb``.
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
    work_mem_kb_for,
)
from planalyzer.rules.finding import Finding, Severity


class SortSpillThresholds(Thresholds):
    """When a disk sort is worth a finding."""

    min_spill_kb: int = Field(
        1024, description="Ignore spills smaller than this (kB): they cost little."
    )
    critical_time_share_ratio: float = Field(
        0.4,
        description="Critical when the sort's own time is at least this share of the total "
        "(the 40 % band of plan visualisers).",
    )
    memory_factor_ratio: float = Field(
        2.0,
        description="Suggested work_mem = disk space used x this factor (in-memory tuples are "
        "larger than their on-disk form).",
    )


def _suggested_work_mem_kb(spill_kb: float, factor: float) -> int:
    """Round ``spill_kb x factor`` up to a power of two MB: a value a DBA would set."""
    return work_mem_kb_for(spill_kb * factor)


def _spills(node_spill_kb: float | None, workers: list[float]) -> float:
    return max([node_spill_kb or 0.0, *workers])


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for every Sort whose method or space type says it went to disk."""
    t: SortSpillThresholds = ctx.thresholds
    for node in ctx.plan.nodes():
        if node.node_type not in ("Sort", "Incremental Sort"):
            continue
        worker_spills = [
            float(w.extra.get("Sort Space Used", 0) or 0)
            for w in node.workers or ()
            if w.extra.get("Sort Space Type") == "Disk"
        ]
        on_disk = node.sort_space_type == "Disk" or bool(worker_spills)
        if not on_disk:
            continue
        spill_kb = _spills(
            float(node.sort_space_used_kb)
            if node.sort_space_type == "Disk" and node.sort_space_used_kb is not None
            else None,
            worker_spills,
        )
        if spill_kb < t.min_spill_kb:
            continue
        work_mem_kb = _suggested_work_mem_kb(spill_kb, t.memory_factor_ratio)
        share = ctx.share_of_total(node.exclusive_time_ms)
        severity = escalate(
            share,
            warning_at=0.0,
            critical_at=t.critical_time_share_ratio,
            below=Severity.WARNING,
        )
        keys = ", ".join(node.sort_key or []) or "its key"
        timing = ""
        if node.exclusive_time_ms is not None and ctx.plan.total_time_ms:
            timing = f", {fmt_part(node.exclusive_time_ms, ctx.plan.total_time_ms)} total"
        yield ctx.finding(
            node,
            message=(
                f"{node.display_name} by {keys} spilled {spill_kb:,.0f} kB to disk "
                f"({node.sort_method or 'external sort'}){timing}."
            ),
            evidence={
                "spill_kb": spill_kb,
                "sort_method": node.sort_method,
                "worker_spill_kb": worker_spills,
                "rows_total": node.rows_total,
                "exclusive_time_ms": node.exclusive_time_ms,
                "time_share_ratio": share,
                "temp_written_blocks": node.exclusive_temp_written_blocks,
                "suggested_work_mem_kb": work_mem_kb,
                "work_mem_setting": (ctx.plan.settings or {}).get("work_mem"),
            },
            suggestion=(
                f"Raise work_mem to about {work_mem_kb // 1024} MB for this query "
                f"(SET LOCAL work_mem = '{work_mem_kb // 1024}MB'), or add an index that "
                f"returns rows ordered by {keys} so the sort disappears."
            ),
            severity=severity,
        )


RULE = Rule(
    id="sort-spill",
    severity=Severity.WARNING,
    summary="Sort spilled to disk",
    check=check,
    thresholds=SortSpillThresholds,
    needs_analyze=True,
)
