"""Plain-text renderings: the plan tree as psql shows it, enriched with derived figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan, PlanNode
    from planalyzer.rules.report import Report

__all__ = ["render_node_line", "render_plan", "render_report"]


def render_node_line(node: PlanNode) -> str:
    """One node's line: name, cost, rows estimated vs actual, loops, self time and share."""
    parts = [node.display_name]
    if node.total_cost is not None:
        parts.append(f"(cost={node.total_cost:,.2f} rows={node.plan_rows:,})")
    if node.actual_loops is not None:
        if node.actual_loops == 0:
            parts.append("(never executed)")
        else:
            actual = f"actual rows={node.actual_rows:,} loops={node.actual_loops:,}"
            if node.estimate_factor and node.estimate_factor >= 2:
                arrow = "↓" if node.estimate_direction == "under" else "↑"
                actual += f" est {arrow}{node.estimate_factor:,.0f}x"
            parts.append(f"({actual})")
    if node.exclusive_time_ms is not None:
        share = f" {node.time_share:.0%}" if node.time_share is not None else ""
        parts.append(f"self {node.exclusive_time_ms:,.3f} ms{share}")
    return " ".join(parts)


def render_plan(plan: Plan, *, mark: int | None = None) -> str:
    """The plan as an indented tree; the node with id ``mark`` is flagged with ``>>``."""
    lines = []
    for node in plan.nodes():
        indent = "   " * node.depth
        arrow = "-> " if node.depth else ""
        flag = ">> " if node.id == mark else ""
        label = f"[{node.id}] {render_node_line(node)}"
        if node.subplan_name:
            lines.append(f"{indent}{node.subplan_name}")
        lines.append(f"{flag}{indent}{arrow}{label}")
    if plan.planning_time_ms is not None:
        lines.append(f"Planning Time: {plan.planning_time_ms:,.3f} ms")
    if plan.execution_time_ms is not None:
        lines.append(f"Execution Time: {plan.execution_time_ms:,.3f} ms")
    return "\n".join(lines)


def render_report(report: Report) -> str:
    """The findings, one paragraph each, most important first."""
    if not report.findings:
        return "No findings."
    out = []
    for f in report.findings:
        out.append(str(f))
        if f.suggestion:
            out.append(f"    -> {f.suggestion}")
    return "\n".join(out)
