"""Plans as networkx graphs, for users who want graph algorithms or their own drawings."""

from __future__ import annotations

import networkx

from planalyzer.plan.model import Plan

__all__ = ["plan_to_networkx"]


def plan_to_networkx(plan: Plan) -> networkx.DiGraph[int]:
    """A DiGraph with an edge parent -> child for every link, keyed by pre-order node id.

    Each graph node carries ``node`` (the `PlanNode`) and the most used figures as plain
    attributes (``node_type``, ``relation``, ``exclusive_time_ms``, ``total_cost``, ``rows_total``,
    ``estimate_factor``); each edge carries ``relationship`` (``Outer``, ``Inner``, ``InitPlan``,
    ``SubPlan`` ..., or ``Remote`` for a Citus worker plan).

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Limit", "Plans": [
        ...     {"Node Type": "Seq Scan", "Relation Name": "t", "Parent Relationship": "Outer"}]}})
        >>> g = plan.to_networkx()
        >>> list(g.edges(data="relationship"))
        [(0, 1, 'Outer')]
    """
    graph: networkx.DiGraph[int] = networkx.DiGraph()
    for node in plan.nodes():
        graph.add_node(
            node.id,
            node=node,
            node_type=node.node_type,
            relation=node.relation,
            exclusive_time_ms=node.exclusive_time_ms,
            total_cost=node.total_cost,
            rows_total=node.rows_total,
            estimate_factor=node.estimate_factor,
        )
        if node.parent is not None:
            relationship = "Remote" if node.remote else node.parent_relationship
            graph.add_edge(node.parent.id, node.id, relationship=relationship)
    return graph
