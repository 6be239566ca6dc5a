"""Planning took as long as, or longer than, executing the query.

Why it matters: PostgreSQL plans every statement that is not a prepared one, every time it runs.
For short queries run often, planning can be most of the cost: joins of many tables (the
number of join orders grows factorially up to ``join_collapse_limit`` / ``from_collapse_limit``,
default 8, then GEQO takes over at ``geqo_threshold``, default 12), tables with many
partitions (each one planned unless pruned), many indexes or extended statistics to consider.
A new connection also plans slowly its first time, while it loads the catalog caches.

What to do: use prepared statements (server-side, through the driver) so the plan is reused; a
generic plan is cached after five executions (``plan_cache_mode``). Keep ``join_collapse_limit``
and ``from_collapse_limit`` at their defaults unless a query needs more, cut partitions that
are never pruned, drop unused indexes. When the planner read catalog pages from outside
shared buffers (the plan's ``Planning`` buffers), a cold cache in a fresh connection is part of
it: use a connection pool and rerun to see the warm figure.

Not reported: plans without ANALYZE (no execution time to compare with) or without a Planning
Time (``SUMMARY`` off); planning below ``min_planning_ms``, or below
``planning_to_execution_ratio`` x the execution time. The finding is statement-level (no
node), since planning belongs to no node.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.rules._spec import Rule, RuleContext, Thresholds, fmt_ms
from planalyzer.rules.finding import Finding, Severity


class SlowPlanningThresholds(Thresholds):
    """How slow planning must be, absolutely and relative to execution, to report it."""

    min_planning_ms: float = Field(
        10.0,
        description="Ignore planning below this many ms: simple statements plan in well under "
        "1 ms, so 10 ms is already a lot for OLTP.",
    )
    planning_to_execution_ratio: float = Field(
        1.0,
        description="Report when planning time is at least this multiple of the execution time "
        "(planning dominates).",
    )
    critical_planning_ms: float = Field(
        100.0,
        description="Critical from this much planning time: a tenth of a second per call "
        "before any row is read.",
    )
    many_relations_count: int = Field(
        8,
        description="Name the join size as a cause from this many scanned relations "
        "(join_collapse_limit's default, 8).",
    )
    many_partitions_count: int = Field(
        100,
        description="Name partitioning as a cause from this many children of one Append "
        "(PostgreSQL's partitioning best practices: planning time grows with the partitions "
        "left after pruning).",
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield one statement-level finding when planning time dominates execution time."""
    t: SlowPlanningThresholds = ctx.thresholds
    planning = ctx.plan.planning_time_ms
    execution = ctx.plan.execution_time_ms
    if planning is None or execution is None or planning < t.min_planning_ms:
        return
    if planning < execution * t.planning_to_execution_ratio:
        return
    nodes = ctx.plan.nodes()
    relations = sum(1 for n in nodes if n.relation_name and "Scan" in n.node_type)
    appends = [n for n in nodes if n.node_type in ("Append", "Merge Append")]
    partitions = max((len(n.children) + (n.subplans_removed or 0) for n in appends), default=0)
    settings = ctx.plan.settings or {}
    planning_buffers = ctx.plan.planning or {}
    catalog_reads = planning_buffers.get("Shared Read Blocks")
    causes = []
    if relations >= t.many_relations_count:
        raised = {
            k: settings[k] for k in ("join_collapse_limit", "from_collapse_limit") if k in settings
        }
        limits = ", ".join(f"{k} = {v}" for k, v in raised.items())
        causes.append(
            f"the join of {relations} relations"
            + (f" with {limits} (default 8)" if limits else "")
            + ": keep join_collapse_limit / from_collapse_limit at 8 or lower"
        )
    if partitions >= t.many_partitions_count:
        causes.append(
            f"an Append over {partitions} partitions: prune at plan time (constant partition "
            "key conditions) or use fewer partitions"
        )
    if isinstance(catalog_reads, int | float) and catalog_reads > 0:
        causes.append(
            f"a cold catalog cache (the planner read {catalog_reads:,.0f} blocks): rerun in the "
            "same connection and use a connection pool"
        )
    suggestion = (
        "Use prepared statements so the plan is reused (server-side prepare in the driver; "
        "generic plans are cached after five executions)"
    )
    if causes:
        suggestion += "; likely causes: " + "; ".join(causes)
    else:
        suggestion += "; otherwise check for many indexes or extended statistics to consider"
    yield ctx.finding(
        None,
        message=(
            f"Planning took {fmt_ms(planning)}, {planning / max(execution, 1e-3):,.1f}x the "
            f"{fmt_ms(execution)} execution time."
        ),
        evidence={
            "planning_time_ms": planning,
            "execution_time_ms": execution,
            "planning_to_execution_ratio": planning / execution if execution else None,
            "relations_count": relations,
            "max_partitions_count": partitions,
            "planning_read_blocks": catalog_reads,
        },
        suggestion=suggestion + ".",
        impact_ms=planning,
        severity=Severity.CRITICAL if planning >= t.critical_planning_ms else Severity.WARNING,
    )


RULE = Rule(
    id="slow-planning",
    severity=Severity.WARNING,
    summary="Planning time dominates execution time",
    check=check,
    thresholds=SlowPlanningThresholds,
    needs_analyze=True,
)
