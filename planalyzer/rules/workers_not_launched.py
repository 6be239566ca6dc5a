"""Gather or Gather Merge that got fewer parallel workers than the planner counted on.

Why it matters: the planner chose a parallel plan assuming ``Workers Planned`` helpers. Workers
come from a server-wide pool; when ``max_parallel_workers`` (or ``max_worker_processes``, or the
background-worker slots other features use) is exhausted at that moment, the query runs with
fewer, down to the leader alone. It then takes up to ``(planned + 1) / (launched + 1)`` times
longer than planned, and a serial plan might have been better.

What to do: check ``max_parallel_workers`` and ``max_worker_processes`` against the parallel load
(how many parallel queries run at once, and ``max_parallel_workers_per_gather`` each may ask
for), and the other users of worker slots (logical replication, extensions). If the pool is
deliberately small, lower ``max_parallel_workers_per_gather`` so plans do not count on workers
that will not come.

The time lost is estimated as the parallel section's time x ``1 - (launched + 1) / (planned +
1)``, assuming the leader takes part and the work divides evenly (an upper bound).

Not reported: plans without ANALYZE (``Workers Launched`` is only known after running); Gathers
whose every planned worker started. Info only when few workers are missing
(``warning_missing_ratio``) or the parallel section takes little of the time
(``min_time_share_ratio``).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.rules._spec import Rule, RuleContext, Thresholds, fmt_part
from planalyzer.rules.finding import Finding, Severity


class WorkersNotLaunchedThresholds(Thresholds):
    """How many missing workers, over how much of the time, make a finding serious."""

    warning_missing_ratio: float = Field(
        0.5,
        description="Warning when at least this fraction of the planned workers did not start "
        "(half the planned parallelism lost); info below.",
    )
    min_time_share_ratio: float = Field(
        0.1,
        description="Info only when the Gather's whole subtree takes less than this share of "
        "the total time (the 10 % band of plan visualisers).",
    )
    critical_time_share_ratio: float = Field(
        0.4,
        description="Critical when no worker started and the Gather's subtree takes at least "
        "this share of the total (the 40 % band of plan visualisers).",
    )


_SETTINGS = ("max_parallel_workers", "max_worker_processes", "max_parallel_workers_per_gather")


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for every Gather / Gather Merge with Workers Launched < Workers Planned."""
    t: WorkersNotLaunchedThresholds = ctx.thresholds
    settings = ctx.plan.settings or {}
    for node in ctx.plan.nodes():
        if node.node_type not in ("Gather", "Gather Merge"):
            continue
        planned, launched = node.workers_planned, node.workers_launched
        if planned is None or launched is None or planned <= 0 or launched >= planned:
            continue
        launched = max(launched, 0)
        missing_ratio = (planned - launched) / planned
        section_ms = node.inclusive_time_ms
        share = ctx.share_of_total(section_ms)
        # Time the section would have saved with all planned processes (leader + workers).
        impact = None
        if section_ms is not None:
            impact = section_ms * (1.0 - (launched + 1) / (planned + 1))
        if share is not None and share < t.min_time_share_ratio:
            severity = Severity.INFO
        elif missing_ratio < t.warning_missing_ratio:
            severity = Severity.INFO
        elif launched == 0 and (share is None or share >= t.critical_time_share_ratio):
            severity = Severity.CRITICAL
        else:
            severity = Severity.WARNING
        known = {k: settings[k] for k in _SETTINGS if k in settings}
        timing = ""
        if section_ms is not None and ctx.plan.total_time_ms:
            timing = f"; its subtree took {fmt_part(section_ms, ctx.plan.total_time_ms)}"
        noted = ""
        if known:
            noted = " (this session has " + ", ".join(f"{k} = {v}" for k, v in known.items()) + ")"
        yield ctx.finding(
            node,
            message=(
                f"{node.display_name} launched {launched} of {planned} planned parallel workers"
                f"{timing}."
            ),
            evidence={
                "workers_planned": planned,
                "workers_launched": launched,
                "missing_ratio": missing_ratio,
                "section_time_ms": section_ms,
                "time_share_ratio": share,
                "lost_time_ms": impact,
                "settings": known,
            },
            suggestion=(
                "The parallel worker pool was exhausted when this query started"
                f"{noted}: check max_parallel_workers and max_worker_processes against the "
                "number of parallel queries running at once (and other users of worker slots), "
                "or lower max_parallel_workers_per_gather so plans do not count on workers that "
                "are not available."
            ),
            impact_ms=impact,
            severity=severity,
        )


RULE = Rule(
    id="workers-not-launched",
    severity=Severity.WARNING,
    summary="Fewer parallel workers launched than planned",
    check=check,
    thresholds=WorkersNotLaunchedThresholds,
    needs_analyze=True,
)
