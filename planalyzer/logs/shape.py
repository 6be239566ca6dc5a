"""A plan's shape: the structure a plan change alters, without the figures that vary per run.

Two plans have the same shape when they have the same nodes in the same tree positions, with
the same join and aggregate strategies, relations, indexes and child relationships; costs, row
counts, timings, aliases and filter constants are left out. A query whose shape changes within
a day's log had its plan changed (new statistics, a new index, a different parameter).
"""

from __future__ import annotations

import hashlib

from planalyzer.plan.model import Plan, PlanNode

__all__ = ["node_label", "plan_shape"]

_OUTLINE_NODES = 12  # nodes spelled out in the outline; the digest covers all of them


def node_label(node: PlanNode) -> str:
    """Node type with strategy, join type, index and relation (``Index Scan using i on t``)."""
    label = node.node_type
    if node.strategy and node.node_type == "Aggregate":
        label = f"{node.strategy} {label}"
    if node.join_type and node.join_type != "Inner":
        label = f"{label} ({node.join_type})"
    if node.parallel_aware:
        label = f"Parallel {label}"
    if node.index_name:
        label += f" using {node.index_name}"
    target = node.relation_name or node.cte_name or node.function_name
    if target:
        label += f" on {target}"
    return label


def plan_shape(plan: Plan) -> tuple[str, str]:
    """The shape's digest (16 hex digits) and a short readable outline of it.

    The outline lists the first nodes in pre-order with their depth as ``>`` marks, e.g.
    ``Hash Join; >Seq Scan on orders; >Hash; >>Seq Scan on customers``.
    """
    depth: dict[int, int] = {}
    parts: list[str] = []
    for node in plan.nodes():
        level = 0 if node.parent is None else depth[node.parent.id] + 1
        depth[node.id] = level
        role = node.subplan_name or node.parent_relationship or ""
        parts.append(f"{level}|{role}|{node_label(node)}")
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()
    outline = "; ".join(
        ">" * int(p.split("|", 1)[0]) + p.rsplit("|", 1)[1] for p in parts[:_OUTLINE_NODES]
    )
    if len(parts) > _OUTLINE_NODES:
        outline += f"; … {len(parts) - _OUTLINE_NODES} more nodes"
    return digest, outline
