"""Memoize whose cache rarely hits, or runs out of memory.

Why it matters: the planner puts a Memoize above the inner side of a nested loop when it
expects the same lookup keys to repeat, so a cached result can replace a repeated inner scan.
When most keys are distinct, every lookup misses: the inner side runs anyway and the cache only
adds hashing, copying and memory. A low hit rate also means the planner's estimate of distinct
keys was wrong, so the loop was likely costed as much cheaper than it is. Evictions and
overflows say the cache (``work_mem`` x ``hash_mem_multiplier``) was too small to hold the
entries it needed.

What to do: for a low hit rate, correct the distinct-key estimate of the cache key's column:
``ANALYZE`` the table, remove a wrong ``n_distinct`` override, raise the column's statistics
target. ``SET enable_memoize = off`` in a test session shows the plan without it (a diagnostic).
For evictions, raise ``work_mem`` or ``hash_mem_multiplier`` for the query.

Not reported: plans without ANALYZE; Memoize nodes with fewer than ``min_lookups`` lookups;
hit rates of at least ``min_hit_ratio`` with no evictions or overflows. A good hit rate
that still evicts is info only. It is info as well when the Memoize's own time is below
``min_time_share_ratio`` of the total. It is never critical: a cache that never hits costs
about its own bookkeeping on top of the plain nested loop.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.model import Plan, PlanNode
from planalyzer.rules._expressions import comparisons, quote_relation
from planalyzer.rules._spec import Rule, RuleContext, Thresholds, fmt_part, fmt_rows
from planalyzer.rules.finding import Finding, Severity


class MemoizeLowHitRateThresholds(Thresholds):
    """When a Memoize cache is not earning its keep."""

    min_hit_ratio: float = Field(
        0.5,
        description="Report caches serving fewer than this share of lookups: below half, a "
        "cache misses more often than it hits and mostly adds overhead.",
    )
    min_lookups: float = Field(
        1_000,
        description="Ignore caches with fewer lookups (hits + misses) than this: the same "
        "loop count nested-loop-blowup and correlated-subplan use.",
    )
    min_time_share_ratio: float = Field(
        0.1,
        description="Info only when the Memoize's own time is below this share of the total "
        "(the 10 % band of plan visualisers).",
    )
    min_eviction_ratio: float = Field(
        0.1,
        description="Evictions count as the cache being too small from this share of the "
        "misses (every miss beyond capacity evicts an entry).",
    )


def _counter(node: PlanNode, field: str, key: str) -> int | None:
    """A cache counter summed over the leader and any parallel workers (each has a cache)."""
    own = getattr(node, field)
    workers = [w.extra.get(key) for w in node.workers or ()]
    values = [v for v in (own, *workers) if isinstance(v, int | float)]
    return int(sum(values)) if values else None


def _key_table(plan: Plan, memoize: PlanNode) -> str | None:
    """The table the cache key comes from (``o.customer_id`` -> the relation aliased o)."""
    for comp in comparisons(memoize.cache_key) or ():
        qualifier = comp.column.qualifier
        if qualifier is None:
            continue
        for node in plan.nodes():
            if node.relation_name and qualifier in {node.alias, node.relation_name}:
                return quote_relation(node)
    return None


def _planner_expectation(node: PlanNode) -> float | None:
    """The hit percentage the planner expected (printed from PostgreSQL 18), as a ratio."""
    value = node.extra.get("Estimated Hit Percent")
    try:
        return float(value) / 100.0 if value is not None else None
    except (TypeError, ValueError):
        return None


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for each Memoize whose cache mostly misses or overflows."""
    t: MemoizeLowHitRateThresholds = ctx.thresholds
    for node in ctx.plan.nodes():
        if node.node_type != "Memoize" or not node.executed:
            continue
        hits = _counter(node, "cache_hits", "Cache Hits")
        misses = _counter(node, "cache_misses", "Cache Misses")
        if hits is None or misses is None or hits + misses < t.min_lookups:
            continue
        evictions = _counter(node, "cache_evictions", "Cache Evictions") or 0
        overflows = _counter(node, "cache_overflows", "Cache Overflows") or 0
        lookups = hits + misses
        hit_ratio = hits / lookups
        too_small = overflows > 0 or (misses > 0 and evictions / misses >= t.min_eviction_ratio)
        low = hit_ratio < t.min_hit_ratio
        if not (low or too_small):
            continue
        share = ctx.share_of_total(node.exclusive_time_ms)
        severity = Severity.WARNING if low else Severity.INFO
        if share is not None and share < t.min_time_share_ratio:
            severity = Severity.INFO
        expected = _planner_expectation(node)
        key = node.cache_key or "its key"
        timing = ""
        if node.exclusive_time_ms is not None and ctx.plan.total_time_ms:
            timing = (
                f", {fmt_part(node.exclusive_time_ms, ctx.plan.total_time_ms)} "
                "spent on the cache itself"
            )
        planner = f" where the planner expected {expected:.0%}" if expected is not None else ""
        message = (
            f"Memoize on {key} served {fmt_rows(hits)} of {fmt_rows(lookups)} lookups from "
            f"its cache ({hit_ratio:.0%} hits{planner}; {fmt_rows(evictions)} evictions, "
            f"{fmt_rows(overflows)} overflows){timing}."
        )
        steps = []
        if low:
            table = _key_table(ctx.plan, node)
            analyze = f"ANALYZE {table}" if table else "ANALYZE the outer side's tables"
            steps.append(
                f"The planner chose Memoize expecting {key} to repeat, but the values were "
                f"mostly distinct: correct its distinct-value estimate ({analyze}; remove any "
                "n_distinct override on that column; raise its statistics target); SET "
                "enable_memoize = off in a test session shows the plan without the cache"
            )
        if too_small:
            steps.append(
                "The cache ran out of memory: raise work_mem or hash_mem_multiplier for this "
                "query (SET LOCAL), since Memoize may use work_mem x hash_mem_multiplier"
            )
        yield ctx.finding(
            node,
            message=message,
            evidence={
                "cache_hits": hits,
                "cache_misses": misses,
                "cache_lookups": lookups,
                "hit_ratio": hit_ratio,
                "expected_hit_ratio": expected,
                "cache_evictions": evictions,
                "cache_overflows": overflows,
                "exclusive_time_ms": node.exclusive_time_ms,
                "time_share_ratio": share,
            },
            suggestion="; ".join(steps) + ".",
            severity=severity,
        )


RULE = Rule(
    id="memoize-low-hit-rate",
    severity=Severity.WARNING,
    summary="Memoize cache with a low hit rate or too little memory",
    check=check,
    thresholds=MemoizeLowHitRateThresholds,
    needs_analyze=True,
)
