"""Plan whose node times exceed the statement's total: edited, merged or mis-pasted input.

Why it matters: every share a finding states ("70 % of the statement") divides by the execution
time. When a node claims more time than the whole statement took, the plan was edited, two
captures were merged, or a log line was cut; shares computed from it are not trustworthy. The
report therefore caps every finding's time at the statement's total and says so once here.

What to do: capture the plan again with ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` and analyze
that, unedited.

Not reported: plans without timing; excesses within ``tolerance_ratio`` of the total (the
root's time and the Execution Time differ slightly in every real plan) or under
``min_excess_ms``; worker plans Citus ran on other servers.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.metrics import inclusive_time_rounding_ms
from planalyzer.rules._spec import Rule, RuleContext, Thresholds, fmt_ms
from planalyzer.rules.finding import Finding, Severity


class InconsistentPlanThresholds(Thresholds):
    """How far node times may exceed the statement's total before the plan is suspect."""

    tolerance_ratio: float = Field(
        0.05,
        description="Allow node times up to this share above the Execution Time (timer and "
        "rounding differences).",
    )
    min_excess_ms: float = Field(
        1.0,
        description="...and at least this many ms above it.",
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield one statement-level info finding when a node claims more than the total time."""
    t: InconsistentPlanThresholds = ctx.thresholds
    total = ctx.plan.execution_time_ms
    if not ctx.timed or not total:
        return
    worst = None
    for node in ctx.plan.nodes():
        if node.remote or node.inclusive_time_ms is None:
            continue
        low = node.inclusive_time_ms - inclusive_time_rounding_ms(node)
        if worst is None or low > worst[1]:
            worst = (node, low)
    if worst is None:
        return
    node, low = worst
    limit = total * (1 + t.tolerance_ratio) + t.min_excess_ms
    if low <= limit:
        return
    yield ctx.finding(
        None,
        message=(
            f"Node {node.id} ({node.display_name}) took {fmt_ms(node.inclusive_time_ms)}, more "
            f"than the statement's {fmt_ms(total)} Execution Time: the plan's figures do not add "
            "up, so every finding's time is capped at the statement's total."
        ),
        evidence={
            "node_id": node.id,
            "node_time_ms": node.inclusive_time_ms,
            "execution_time_ms": total,
            "excess_ratio": node.inclusive_time_ms / total if node.inclusive_time_ms else None,
        },
        suggestion=(
            "Capture the plan again, unedited, with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)."
        ),
        severity=Severity.INFO,
    )


RULE = Rule(
    id="inconsistent-plan",
    severity=Severity.INFO,
    summary="Node times exceed the statement's total (edited or inconsistent plan)",
    check=check,
    thresholds=InconsistentPlanThresholds,
    needs_analyze=True,
)
