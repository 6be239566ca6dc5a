"""Hash table that did not fit in memory: a Hash split into batches, a hash aggregate spilled.

Why it matters: when the hash table of a Hash Join does not fit in ``work_mem`` x
``hash_mem_multiplier``, PostgreSQL splits both join inputs into batches written to temporary
files and joins them one batch at a time; a HashAggregate (PostgreSQL 13+) writes the groups it
cannot hold to disk and aggregates them in further passes. Either way every row is written and
read back at least once more, often making the node several times slower.

What to do: raise ``work_mem`` for this query (``SET LOCAL work_mem = ...``): the finding states
a size that would have held the whole hash table, computed from the plan's own figures
(see below). When the batches grew at run time (``Hash Batches`` above ``Original Hash
Batches``) or a hash aggregate was not planned to spill (``Planned Partitions`` 0), the planner
expected fewer rows: fix that estimate (``ANALYZE``, extended statistics), which the finding links
to, or the next plan may still be chosen on wrong numbers.

How the size is computed: a Hash holds one batch at a time, so the whole table needs about
``Peak Memory Usage x Hash Batches``. For a hash aggregate that figure overshoots (its batches
are recursive re-partitions), so it uses ``Peak Memory Usage + 2 x Disk Usage`` (spilled tuples
take about twice their on-disk size in memory), capped by the first figure. Measured on
PostgreSQL 15 (fixtures/plans/schema.sql): a join at 64 kB showed 78 kB x 128 batches = 9,984 kB,
and ran in one batch needing 9,665 kB; an aggregate at 256 kB showed 537 kB + 2 x 7,144 kB =
14,825 kB, and ran in memory needing 14,353 kB. The needed size is divided by
``hash_mem_multiplier`` (the plan's Settings when listed; otherwise 2.0 from PostgreSQL 15,
1.0 before) and rounded up to a power of two MB.

Not reported: plans without ANALYZE (batches and spills are only known after running); hash
tables that fitted (one batch, no disk usage); spills smaller than ``min_spill_kb``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from planalyzer.plan.model import Plan, PlanNode
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


class HashSpillThresholds(Thresholds):
    """When a multi-batch hash or a spilled hash aggregate is worth a finding."""

    min_spill_kb: int = Field(
        1024,
        description="Ignore hash tables smaller than this (kB; for aggregates, disk usage): "
        "like sort-spill's 1 MB, a spill this small costs little.",
    )
    critical_time_share_ratio: float = Field(
        0.4,
        description="Critical when the hashing nodes' own time is at least this share of the "
        "total (the 40 % band of plan visualisers).",
    )
    disk_memory_factor_ratio: float = Field(
        2.0,
        description="Memory a spilled aggregate tuple needs per byte of Disk Usage (measured "
        "1.9-2.1 on PostgreSQL 15, see the rule text).",
    )


_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB)?\s*$")
_KB_PER_UNIT = {"B": 1 / 1024, "kB": 1, "MB": 1024, "GB": 1024**2, "TB": 1024**3, None: 1}


def _setting_kb(value: Any) -> float | None:
    """A memory setting as printed in Settings (``'64kB'``, ``'4MB'``) in kB, or None."""
    match = _MEMORY.match(str(value)) if value is not None else None
    if not match:
        return None
    return float(match.group(1)) * _KB_PER_UNIT[match.group(2)]


def _hash_mem_multiplier(plan: Plan, server_version: int | None) -> float:
    """``hash_mem_multiplier`` in effect: the plan's Settings, else the server's default.

    Settings lists only values that differ from the built-in default, which is 2.0 from
    PostgreSQL 15 and 1.0 on 13/14 (the setting does not exist before 13). Without a known
    version the current default (2.0) is assumed.
    """
    raw = (plan.settings or {}).get("hash_mem_multiplier")
    try:
        if raw is not None:
            return max(float(raw), 1.0)
    except (TypeError, ValueError):
        pass
    if server_version is not None and server_version < 150000:
        return 1.0
    return 2.0


def _work_mem_kb(needed_kb: float, multiplier: float) -> int:
    """Round ``needed_kb / multiplier`` up to a power of two MB (at least 1 MB)."""
    return work_mem_kb_for(needed_kb / multiplier)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _aggregate_spills(node: PlanNode) -> list[tuple[float, float, float]]:
    """(batches, peak kB, disk kB) of every process that spilled: the leader, then workers."""
    spills = []
    figures = [(node.hashagg_batches, node.peak_memory_usage_kb, node.disk_usage_kb)]
    for w in node.workers or ():
        extra = w.extra
        figures.append(
            (extra.get("HashAgg Batches"), extra.get("Peak Memory Usage"), extra.get("Disk Usage"))
        )
    for batches, peak, disk in figures:
        b, p, d = _num(batches), _num(peak), _num(disk)
        if b is not None and b > 1 and d is not None and d > 0:
            spills.append((b, p or 0.0, d))
    return spills


def _time_of(*nodes: PlanNode | None) -> float | None:
    times = [n.exclusive_time_ms for n in nodes if n is not None]
    known = [t for t in times if t is not None]
    return sum(known) if known else None


def _check_hash(
    ctx: RuleContext, node: PlanNode, t: HashSpillThresholds, multiplier: float
) -> Finding | None:
    batches = node.hash_batches
    peak = _num(node.peak_memory_usage_kb)
    if batches is None or batches <= 1 or peak is None:
        return None
    needed_kb = peak * batches  # one batch in memory at a time, batches of similar size
    if needed_kb < t.min_spill_kb:
        return None
    original = node.original_hash_batches
    grew = original is not None and batches > original
    join = node.parent if node.parent is not None and "Join" in node.parent.node_type else None
    source = node.children[0] if node.children else None
    related: tuple[int, ...] = ()
    cause = ""
    if grew and source is not None and source.estimate_direction == "under":
        related = (source.id,)
        cause = (
            f"; the planner expected {fmt_rows(source.plan_rows_total)} rows from "
            f"{source.display_name}, not {fmt_rows(source.rows_total)}"
        )
    impact = _time_of(node, join)
    share = ctx.share_of_total(impact)
    work_mem_kb = _work_mem_kb(needed_kb, multiplier)
    planned = f" ({original} planned)" if original is not None else ""
    timing = ""
    if impact is not None and ctx.plan.total_time_ms:
        timing = f", {fmt_part(impact, ctx.plan.total_time_ms)} total"
    what = f"Hash for {join.display_name}" if join is not None else node.display_name
    cond = f" on {join.hash_cond}" if join is not None and join.hash_cond else ""
    return ctx.finding(
        node,
        message=(
            f"{what}{cond} split {fmt_rows(node.rows_total)} rows into {batches:,} batches"
            f"{planned} of {peak:,.0f} kB in memory{timing}{cause}."
        ),
        evidence={
            "hash_batches": batches,
            "original_hash_batches": original,
            "peak_memory_kb": peak,
            "needed_memory_kb": needed_kb,
            "hash_mem_multiplier_ratio": multiplier,
            "suggested_work_mem_kb": work_mem_kb,
            "work_mem_setting": (ctx.plan.settings or {}).get("work_mem"),
            "rows_total": node.rows_total,
            "exclusive_time_ms": impact,
            "time_share_ratio": share,
            "temp_written_blocks": _blocks(node, join),
            "batches_grew_at_run_time": grew,
        },
        suggestion=_suggestion(work_mem_kb, multiplier, needed_kb, grew_or_unplanned=grew),
        impact_ms=impact,
        severity=escalate(
            share, warning_at=0.0, critical_at=t.critical_time_share_ratio, below=Severity.WARNING
        ),
        related_node_ids=related + ((join.id,) if join is not None else ()),
    )


def _check_aggregate(
    ctx: RuleContext, node: PlanNode, t: HashSpillThresholds, multiplier: float
) -> Finding | None:
    spills = _aggregate_spills(node)
    if not spills:
        return None
    disk_kb = sum(d for _, _, d in spills)
    if max(d for _, _, d in spills) < t.min_spill_kb:
        return None
    # Per process: peak + factor x disk (what spilled, as it would sit in memory), capped by
    # peak x batches, which bounds it from above; the largest process decides work_mem.
    needed_kb = max(
        min(p + t.disk_memory_factor_ratio * d, p * b) if p > 0 else t.disk_memory_factor_ratio * d
        for b, p, d in spills
    )
    batches = int(max(b for b, _, _ in spills))
    unplanned = node.planned_partitions == 0
    cause = ""
    if unplanned and node.estimate_direction == "under":
        cause = (
            f"; the planner expected {fmt_rows(node.plan_rows_total)} groups, not "
            f"{fmt_rows(node.rows_total)}"
        )
    impact = node.exclusive_time_ms
    share = ctx.share_of_total(impact)
    work_mem_kb = _work_mem_kb(needed_kb, multiplier)
    keys = ", ".join(node.group_key or []) or (
        "grouping sets" if "Grouping Sets" in node.extra else "its grouping keys"
    )
    timing = ""
    if impact is not None and ctx.plan.total_time_ms:
        timing = f", {fmt_part(impact, ctx.plan.total_time_ms)} total"
    return ctx.finding(
        node,
        message=(
            f"{node.display_name} by {keys} spilled {disk_kb:,.0f} kB to disk in {batches:,} "
            f"batches{timing}{cause}."
        ),
        evidence={
            "hashagg_batches": batches,
            "planned_partitions": node.planned_partitions,
            "peak_memory_kb": max(p for _, p, _ in spills),
            "disk_usage_kb": disk_kb,
            "worker_count": len(spills),
            "needed_memory_kb": needed_kb,
            "hash_mem_multiplier_ratio": multiplier,
            "suggested_work_mem_kb": work_mem_kb,
            "work_mem_setting": (ctx.plan.settings or {}).get("work_mem"),
            "rows_total": node.rows_total,
            "plan_rows_total": node.plan_rows_total,
            "exclusive_time_ms": impact,
            "time_share_ratio": share,
        },
        suggestion=_suggestion(work_mem_kb, multiplier, needed_kb, grew_or_unplanned=unplanned),
        impact_ms=impact,
        severity=escalate(
            share, warning_at=0.0, critical_at=t.critical_time_share_ratio, below=Severity.WARNING
        ),
    )


def _blocks(*nodes: PlanNode | None) -> int | None:
    found = [n.exclusive_temp_written_blocks for n in nodes if n is not None]
    known = [b for b in found if b is not None]
    return sum(known) if known else None


def _suggestion(
    work_mem_kb: int, multiplier: float, needed_kb: float, *, grew_or_unplanned: bool
) -> str:
    mb = work_mem_kb // 1024
    text = (
        f"Raise work_mem to about {mb} MB for this query (SET LOCAL work_mem = '{mb}MB'): "
        f"the hash table needs about {needed_kb:,.0f} kB and may use work_mem x "
        f"hash_mem_multiplier ({multiplier:g})"
    )
    if grew_or_unplanned:
        text += "; the planner did not expect this many rows, so also fix that estimate"
    return text + "."


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for every multi-batch Hash and every hash aggregate that spilled."""
    t: HashSpillThresholds = ctx.thresholds
    multiplier = _hash_mem_multiplier(ctx.plan, ctx.server_version)
    for node in ctx.plan.nodes():
        finding = None
        if node.node_type == "Hash":
            finding = _check_hash(ctx, node, t, multiplier)
        elif node.node_type == "Aggregate" and node.strategy in ("Hashed", "Mixed"):
            finding = _check_aggregate(ctx, node, t, multiplier)
        if finding is not None:
            yield finding


RULE = Rule(
    id="hash-spill",
    severity=Severity.WARNING,
    summary="Hash table spilled to disk (batches)",
    check=check,
    thresholds=HashSpillThresholds,
    needs_analyze=True,
)
