"""JIT compilation took a large share of the execution time.

Why it matters: PostgreSQL compiles expressions and tuple deforming to machine code with LLVM
when the plan's estimated total cost exceeds ``jit_above_cost`` (default 100,000), and inlines
and optimises that code above ``jit_inline_above_cost`` / ``jit_optimize_above_cost`` (default
500,000 each). Compilation costs tens to hundreds of milliseconds, paid on every execution; it
pays off only for queries that then process millions of rows. A query that is cheap in reality
but costed high (often because the planner overestimated rows) pays the compile time for
nothing. The JIT time is part of the execution time (and of the time of the first nodes that
ran compiled code).

What to do: for OLTP-style statements, ``SET jit = off`` (per session, role or database), or raise
``jit_above_cost``; when most of the JIT time is inlining and optimisation, raising
``jit_inline_above_cost`` and ``jit_optimize_above_cost`` keeps cheap JIT while avoiding the
expensive phases. If the plan's cost is high only because of an overestimate (the finding names
the worst one), fixing the estimate (``ANALYZE``, extended statistics) fixes the JIT decision too.

Not reported: plans without ANALYZE (JIT timing is only printed after running); JIT time below
``min_jit_ms`` or below ``warning_share_ratio`` of the execution time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from planalyzer.plan.model import Plan, PlanNode
from planalyzer.rules._spec import (
    Rule,
    RuleContext,
    Thresholds,
    escalate,
    fmt_ms,
    fmt_pct,
    fmt_rows,
    numeric_setting,
)
from planalyzer.rules.finding import Finding, Severity


class JitOverheadThresholds(Thresholds):
    """How much JIT time, absolute and relative, makes a finding."""

    min_jit_ms: float = Field(
        10.0,
        description="Ignore JIT below this many ms: a few ms of compilation is not worth "
        "tuning (typical expression-only JIT costs 1-5 ms).",
    )
    warning_share_ratio: float = Field(
        0.1,
        description="Warning when JIT takes at least this share of the execution time (the "
        "10 % band of plan visualisers).",
    )
    critical_share_ratio: float = Field(
        0.5,
        description="Critical when JIT takes at least this share of the execution time: the "
        "query spends more time compiling than running.",
    )
    min_overestimate_factor: float = Field(
        10.0,
        description="A node whose rows were overestimated by at least this factor is named as a "
        "likely reason the cost crossed jit_above_cost (the 10x misestimate band).",
    )


# PostgreSQL's built-in defaults (src/backend/jit/jit.c); Settings lists only changed values.
_DEFAULT_COSTS = {
    "jit_above_cost": 100_000.0,
    "jit_inline_above_cost": 500_000.0,
    "jit_optimize_above_cost": 500_000.0,
}


def _phase_ms(timing: dict[str, Any], name: str) -> float:
    """One phase's time; newer releases print ``Generation`` as an object with a ``Total``."""
    value = timing.get(name)
    if isinstance(value, dict):
        value = value.get("Total")
    return float(value) if isinstance(value, int | float) else 0.0


def _cost_setting(plan: Plan, name: str) -> tuple[float, bool]:
    """The setting's value and whether it was changed from the default (listed in Settings)."""
    value = numeric_setting(plan, name)
    if value is None:
        return _DEFAULT_COSTS[name], False
    return value, True


def _worst_overestimate(plan: Plan, factor: float) -> PlanNode | None:
    over = [
        n
        for n in plan.nodes()
        if n.estimate_direction == "over" and (n.estimate_factor or 0.0) >= factor
    ]
    return max(over, key=lambda n: n.total_cost or 0.0, default=None)


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield one statement-level finding when JIT time is a large share of execution time."""
    t: JitOverheadThresholds = ctx.thresholds
    jit = ctx.plan.jit
    total = ctx.plan.total_time_ms
    if jit is None or not total:
        return
    jit_ms = jit.total_ms
    if jit_ms is None or jit_ms < t.min_jit_ms:
        return
    share = min(jit_ms / total, 1.0)
    if share < t.warning_share_ratio:
        return
    timing = jit.timing or {}
    heavy_ms = _phase_ms(timing, "Inlining") + _phase_ms(timing, "Optimization")
    cost = ctx.plan.root.total_cost
    above, above_changed = _cost_setting(ctx.plan, "jit_above_cost")
    inline, _ = _cost_setting(ctx.plan, "jit_inline_above_cost")
    optimize, _ = _cost_setting(ctx.plan, "jit_optimize_above_cost")
    culprit = _worst_overestimate(ctx.plan, t.min_overestimate_factor)
    functions = f"{jit.functions} functions" if jit.functions is not None else "the plan"

    if cost is not None and above_changed and cost < _DEFAULT_COSTS["jit_above_cost"]:
        suggestion = (
            f"JIT ran only because this session set jit_above_cost = {above:g}: the plan's "
            f"cost {cost:,.0f} is far below the default 100,000. RESET jit_above_cost (and "
            "jit_inline_above_cost / jit_optimize_above_cost), or SET jit = off."
        )
    else:
        suggestion = (
            "For short OLTP statements turn JIT off (SET jit = off, or ALTER ROLE/DATABASE ... "
            "SET jit = off), or raise jit_above_cost above the plan's cost"
            + (f" ({cost:,.0f})." if cost is not None else ".")
        )
        if heavy_ms >= jit_ms / 2 and cost is not None and (cost >= inline or cost >= optimize):
            suggestion += (
                f" Inlining and optimisation took {fmt_ms(heavy_ms)}: raising "
                "jit_inline_above_cost and jit_optimize_above_cost above the plan's cost "
                "removes most of it and keeps cheap JIT."
            )
        if cost is not None and culprit is not None:
            suggestion += (
                f" The cost crossed jit_above_cost {above:,.0f} partly because "
                f"{culprit.display_name} was estimated at {fmt_rows(culprit.plan_rows_total)} "
                f"rows but returned {fmt_rows(culprit.rows_total)}: fix that estimate."
            )
    yield ctx.finding(
        None,
        message=(
            f"JIT compilation of {functions} took {fmt_ms(jit_ms)}, {fmt_pct(share)} of the "
            f"{fmt_ms(total)} execution time."
        ),
        evidence={
            "jit_ms": jit_ms,
            "execution_time_ms": total,
            "jit_share_ratio": share,
            "inlining_optimization_ms": heavy_ms,
            "functions_count": jit.functions,
            "plan_total_cost": cost,
            "jit_above_cost": above,
            "jit_inline_above_cost": inline,
            "jit_optimize_above_cost": optimize,
            "overestimated_node_id": None if culprit is None else culprit.id,
        },
        suggestion=suggestion,
        impact_ms=jit_ms,
        severity=escalate(
            share,
            warning_at=t.warning_share_ratio,
            critical_at=t.critical_share_ratio,
            below=Severity.WARNING,
        ),
        related_node_ids=() if culprit is None else (culprit.id,),
    )


RULE = Rule(
    id="jit-overhead",
    severity=Severity.WARNING,
    summary="JIT compilation a large share of execution time",
    check=check,
    thresholds=JitOverheadThresholds,
    needs_analyze=True,
)
