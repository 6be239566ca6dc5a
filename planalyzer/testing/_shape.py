"""Plan shape: the structure a plan-regression test pins, and the first place two plans differ.

The shape of a node is what the planner *chose*: node type and strategy, join type, the
relation, index, CTE or function it reads, whether it runs in parallel, how it hangs from its
parent (Outer/Inner/SubPlan/InitPlan), and its children, in order. Costs, row counts, times,
worker counts and buffer figures are left out: they change from run to run and from machine to
machine while the plan stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan, PlanNode

__all__ = ["ShapeDifference", "first_difference", "node_shape", "path_to"]

_SHAPE_FIELDS = (
    ("node_type", "node type"),
    ("strategy", "strategy"),
    ("join_type", "join type"),
    ("operation", "operation"),
    ("relation_name", "relation"),
    ("index_name", "index"),
    ("cte_name", "CTE"),
    ("function_name", "function"),
    ("parent_relationship", "parent relationship"),
    ("parallel_aware", "parallel"),
)


def node_shape(node: PlanNode) -> tuple[object, ...]:
    """The fields of a node that make up its shape (see the module docstring)."""
    return (*(getattr(node, field) for field, _ in _SHAPE_FIELDS), len(node.children))


@dataclass(frozen=True)
class ShapeDifference:
    """Where two plans first differ, walking both in pre-order.

    Attributes:
        actual: the node of the checked plan (None when it lacks a child the reference has).
        expected: the node of the reference plan (None when the checked plan has an extra one).
        parent_id: the id, in the checked plan, of the node whose children differ.
        reason: what differs, in words.
    """

    actual: PlanNode | None
    expected: PlanNode | None
    parent_id: int | None
    reason: str

    @property
    def mark(self) -> int | None:
        """The node of the checked plan to point at."""
        return self.actual.id if self.actual is not None else self.parent_id


def path_to(node: PlanNode) -> str:
    """``Gather > Hash Join > Hash``: the node types from the root down to ``node``."""
    names = []
    current: PlanNode | None = node
    while current is not None:
        names.append(current.node_type)
        current = current.parent
    return " > ".join(reversed(names))


def _field_differences(actual: PlanNode, expected: PlanNode) -> list[str]:
    out = []
    for field, label in _SHAPE_FIELDS:
        a, e = getattr(actual, field), getattr(expected, field)
        if a != e:
            out.append(f"{label} {e!r} expected, {a!r} found")
    return out


def first_difference(actual: Plan, expected: Plan) -> ShapeDifference | None:
    """The first node, in pre-order, where ``actual`` and ``expected`` differ in shape.

    Iterative, so plan depth does not matter.

    Example:
        >>> import planalyzer as pa
        >>> a = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders"}})
        >>> b = pa.parse({"Plan": {"Node Type": "Index Scan", "Relation Name": "orders",
        ...                        "Index Name": "orders_pkey"}})
        >>> print(first_difference(a, b).reason)
        node type 'Index Scan' expected, 'Seq Scan' found; index 'orders_pkey' expected, None found
        >>> first_difference(a, a) is None
        True
    """
    stack: list[tuple[PlanNode, PlanNode]] = [(actual.root, expected.root)]
    while stack:
        a, e = stack.pop()
        fields = _field_differences(a, e)
        if fields:
            return ShapeDifference(a, e, a.parent.id if a.parent else None, "; ".join(fields))
        if len(a.children) != len(e.children):
            common = min(len(a.children), len(e.children))
            if len(a.children) > common:
                extra = a.children[common]
                reason = (
                    f"{len(e.children)} children expected under [{a.id}] {a.node_type}, "
                    f"{len(a.children)} found: [{extra.id}] {extra.display_name} is extra"
                )
                return ShapeDifference(extra, None, a.id, reason)
            missing = e.children[common]
            reason = (
                f"{len(e.children)} children expected under [{a.id}] {a.node_type}, "
                f"{len(a.children)} found: {missing.display_name} is missing"
            )
            return ShapeDifference(None, missing, a.id, reason)
        stack.extend(reversed(list(zip(a.children, e.children, strict=True))))
    return None
