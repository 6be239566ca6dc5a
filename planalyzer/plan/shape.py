"""A plan's shape: what the planner chose, as stable text a test can pin (``plan.shape()``).

One line per node, indented two spaces per level, children in plan order::

    Hash Join
      Seq Scan on orders
      Hash
        Index Scan using customers_pkey on customers

A line holds what EXPLAIN's text format prints as the node's name — node type, aggregate or
set-operation strategy, partial mode, join type, ``Parallel``, scan direction, the index and
the relation, CTE or function read — and ``[SubPlan]`` / ``[InitPlan]`` for nodes hanging from
an expression rather than a join input. The order of children is the join order.

Left out, because they change while the plan stays the same: costs, row estimates, widths,
times, loops and buffers (data and machine); worker counts (``max_parallel_workers*``, table
size); sort and hash methods, memory and batches (``work_mem``, data size); conditions, filters
and output columns (parameter values, and the way each server version deparses expressions);
aliases and subplan names (query text, not plan); schemas (only printed under VERBOSE);
partitions pruned at run time (parameter values).

Example:
    >>> import planalyzer as pa
    >>> plan = pa.parse({"Plan": {"Node Type": "Hash Join", "Join Type": "Left",
    ...     "Total Cost": 99.5, "Plans": [
    ...         {"Node Type": "Seq Scan", "Relation Name": "orders", "Alias": "o"},
    ...         {"Node Type": "Hash", "Plans": [{"Node Type": "Index Scan",
    ...          "Relation Name": "customers", "Index Name": "customers_pkey"}]}]}})
    >>> print(plan.shape())
    Hash Left Join
      Seq Scan on orders
      Hash
        Index Scan using customers_pkey on customers
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan, PlanNode

__all__ = ["INDENT", "PlanShape", "node_label", "plan_shape"]

INDENT = "  "
"""Indentation per tree level in a shape."""

_AGGREGATE = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}
_SETOP = {"Hashed": "HashSetOp", "Sorted": "SetOp"}
_EXPRESSION_PARENTS = ("SubPlan", "InitPlan")


class PlanShape(str):
    """The shape of a plan as text; a `str`, so it compares, prints and snapshots as one.

    ``plan`` keeps the plan it was taken from (not part of equality), so a failed comparison of
    two shapes can show the full structural difference.
    """

    __slots__ = ("plan",)
    plan: Plan | None

    def __new__(cls, text: str, plan: Plan | None = None) -> PlanShape:  # noqa: D102
        made = super().__new__(cls, text)
        made.plan = plan
        return made

    def __reduce__(self) -> tuple[type[PlanShape], tuple[str]]:
        return (PlanShape, (str(self),))

    @property
    def lines(self) -> list[str]:
        """The node lines, in pre-order."""
        return self.splitlines()


def node_label(node: PlanNode) -> str:
    """The shape line of one node, without indentation (see the module docstring).

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Index Only Scan", "Scan Direction":
        ...     "Backward", "Relation Name": "orders", "Index Name": "orders_pkey",
        ...     "Parallel Aware": True, "Alias": "o", "Total Cost": 5}})
        >>> node_label(plan.root)
        'Parallel Index Only Scan Backward using orders_pkey on orders'
    """
    kind = node.node_type
    if kind == "Aggregate" and node.strategy:
        kind = _AGGREGATE.get(node.strategy, kind)
    elif kind == "SetOp" and node.strategy:
        kind = _SETOP.get(node.strategy, kind)
    elif kind == "ModifyTable" and node.operation:
        kind = node.operation  # EXPLAIN prints "Insert on orders"
    elif kind == "Custom Scan" and node.custom_plan_provider:
        kind = f"Custom Scan ({node.custom_plan_provider})"
    if node.join_type and node.join_type != "Inner":
        if kind == "Nested Loop":
            kind = f"Nested Loop {node.join_type} Join"
        elif kind.endswith(" Join"):
            kind = f"{kind.removesuffix(' Join')} {node.join_type} Join"
    if node.partial_mode and node.partial_mode != "Simple":
        kind = f"{node.partial_mode} {kind}"
    if node.parallel_aware:
        kind = f"Parallel {kind}"
    if node.scan_direction == "Backward":
        kind += " Backward"
    if node.command and node.node_type == "SetOp":
        kind += f" {node.command}"
    if node.index_name and node.node_type == "Bitmap Index Scan":
        kind += f" on {node.index_name}"  # as EXPLAIN prints it: the index is what it reads
    elif node.index_name:
        kind += f" using {node.index_name}"
    target = node.relation_name or node.cte_name or node.function_name
    if target is None and node.node_type in ("Subquery Scan", "Values Scan", "Table Function Scan"):
        target = node.alias  # these read no named relation: EXPLAIN names them by alias
    if target:
        kind += f" on {target}"
    if node.parent_relationship in _EXPRESSION_PARENTS:
        kind = f"[{node.parent_relationship}] {kind}"
    return kind


def plan_shape(plan: Plan) -> PlanShape:
    """The shape of ``plan`` (see the module docstring); iterative, so depth does not matter."""
    lines = [f"{INDENT * node.depth}{node_label(node)}" for node in plan.nodes()]
    return PlanShape("\n".join(lines), plan)
