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

__all__ = [
    "ShapeDifference",
    "first_difference",
    "node_shape",
    "path_to",
    "shape_diff_lines",
    "shape_difference",
]

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


def _parse_shape(text: str) -> list[tuple[int, str]]:
    """``(depth, label)`` per line of a shape text; indentation is `INDENT` per level."""
    from planalyzer.plan.shape import INDENT

    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        stripped = line.lstrip(" ")
        out.append(((len(line) - len(stripped)) // len(INDENT), stripped.rstrip()))
    return out


def _children(nodes: list[tuple[int, str]]) -> list[list[int]]:
    """For each line, the indexes of its child lines (one pass with a stack, no recursion)."""
    children: list[list[int]] = [[] for _ in nodes]
    stack: list[int] = []
    for index, (depth, _) in enumerate(nodes):
        while stack and nodes[stack[-1]][0] >= depth:
            stack.pop()
        if stack:
            children[stack[-1]].append(index)
        stack.append(index)
    return children


def _path(nodes: list[tuple[int, str]], index: int) -> str:
    """``Hash Join > Hash > Seq Scan on orders``: the labels from the root down to a line."""
    names = [nodes[index][1]]
    depth = nodes[index][0]
    for back in range(index - 1, -1, -1):
        if nodes[back][0] < depth:
            names.append(nodes[back][1])
            depth = nodes[back][0]
    return " > ".join(reversed(names))


def shape_difference(actual: str, expected: str) -> str | None:
    r"""Where two shape texts first differ, walking both trees in pre-order; None when equal.

    Example:
        >>> print(shape_difference("Hash Join\n  Seq Scan on orders\n  Hash",
        ...                        "Hash Join\n  Index Scan using o_idx on orders\n  Hash"))
        node Hash Join > Seq Scan on orders: expected Index Scan using o_idx on orders
    """
    a_nodes, e_nodes = _parse_shape(actual), _parse_shape(expected)
    if not a_nodes or not e_nodes:
        if a_nodes == e_nodes:
            return None
        return "the expected shape is empty" if not e_nodes else "the plan's shape is empty"
    a_children, e_children = _children(a_nodes), _children(e_nodes)
    stack = [(0, 0)]
    while stack:
        a, e = stack.pop()
        if a_nodes[a][1] != e_nodes[e][1]:
            return f"node {_path(a_nodes, a)}: expected {e_nodes[e][1]}"
        a_kids, e_kids = a_children[a], e_children[e]
        if len(a_kids) != len(e_kids):
            common = min(len(a_kids), len(e_kids))
            where = _path(a_nodes, a)
            if len(a_kids) > common:
                return (
                    f"node {where}: {len(e_kids)} children expected, {len(a_kids)} found;"
                    f" {a_nodes[a_kids[common]][1]} is extra"
                )
            return (
                f"node {where}: {len(e_kids)} children expected, {len(a_kids)} found;"
                f" {e_nodes[e_kids[common]][1]} is missing"
            )
        stack.extend(reversed(list(zip(a_kids, e_kids, strict=True))))
    return None


def shape_diff_lines(actual: str, expected: str, *, context: int = 40) -> list[str]:
    """A unified diff of two shapes (``-`` expected, ``+`` found), whole trees when short."""
    import difflib

    diff = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "expected", "found", n=context, lineterm=""
    )
    return [line for line in diff if not line.startswith(("---", "+++", "@@"))]
