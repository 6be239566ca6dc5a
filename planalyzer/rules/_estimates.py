"""Where a row misestimate starts: shared by row-misestimate and nested-loop-blowup.

A wrong estimate propagates upwards: a join fed by a scan that returned 40x more rows than
planned will itself be off by about 40x, and so will everything above it. A DBA fixes the node
where the error starts (its statistics, its correlated columns), so the rules report that one
and link the others to it. The *origin* of a misestimated node is found by descending, as long
as some input (a child that feeds it rows, not an InitPlan/SubPlan; for a CTE Scan, the CTE's
body) is itself misestimated by the same factor in the same direction, into the worst one.

Figures are per loop, as PostgreSQL plans them: ``Plan Rows`` is the estimate for one execution
of the node, ``Actual Rows`` the average per execution (see `planalyzer.plan.metrics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.plan.model import PlanNode

__all__ = [
    "JOIN_TYPES",
    "cte_body",
    "cte_scans",
    "has_consequence",
    "inputs",
    "is_cte_body",
    "is_misestimated",
    "misestimate_origin",
    "nearest_join",
    "stopped_early",
]

JOIN_TYPES = frozenset({"Nested Loop", "Hash Join", "Merge Join"})

# Nodes that read their whole input before returning a row: a Limit above them cannot cut
# the input short.
_BLOCKING = frozenset({"Sort", "Hash", "SetOp", "ModifyTable"})
_NOT_INPUTS = frozenset({"InitPlan", "SubPlan"})
# Nodes whose plan choices or memory sizing depend on their input's row count.
_CONSEQUENTIAL = JOIN_TYPES | {"Aggregate", "Hash", "Memoize", "SetOp"}


def inputs(node: PlanNode) -> list[PlanNode]:
    """The nodes that feed ``node`` its rows and actually ran.

    These are the children other than InitPlans/SubPlans and, for a CTE Scan, the CTE's body
    (an InitPlan elsewhere in the tree) from whose estimate the scan's own is derived.
    """
    found = [c for c in node.children if c.parent_relationship not in _NOT_INPUTS and c.executed]
    if node.node_type == "CTE Scan":
        body = cte_body(node)
        if body is not None and body.executed:
            found.append(body)
    return found


def _root(node: PlanNode) -> PlanNode:
    while node.parent is not None:
        node = node.parent
    return node


def is_cte_body(node: PlanNode) -> bool:
    """True for the InitPlan that computes a CTE (``Subplan Name: CTE <name>``)."""
    return node.parent_relationship == "InitPlan" and (node.subplan_name or "").startswith("CTE ")


def cte_body(scan: PlanNode) -> PlanNode | None:
    """The InitPlan computing the CTE a CTE Scan reads."""
    if not scan.cte_name:
        return None
    name = f"CTE {scan.cte_name}"
    return next((n for n in _root(scan).walk() if n.subplan_name == name), None)


def cte_scans(body: PlanNode) -> list[PlanNode]:
    """The CTE Scans that read a CTE body."""
    name = (body.subplan_name or "")[4:]
    return [n for n in _root(body).walk() if n.node_type == "CTE Scan" and n.cte_name == name]


def _empty_inner(join: PlanNode) -> bool:
    inner = [c for c in join.children if c.parent_relationship == "Inner"]
    return bool(inner) and inner[0].rows_total == 0


def stopped_early(node: PlanNode) -> bool:
    """True when a consumer above may have stopped reading ``node`` before it was exhausted.

    Then fewer rows than planned is not a misestimate. A Limit stops its input after n rows. A
    semi/anti join or an inner-unique nested loop stops the inner side at the first match. A
    merge join stops one side when the other runs out, and a hash join with an empty hash
    table stops its outer side. A SubPlan (EXISTS) may stop at its first row, and a CTE runs
    only as far as its scans read. The walk stops at a node that reads all of its input first
    (Sort, Hash ...).
    """
    pending = [node]
    seen: set[int] = set()
    while pending:  # iterative: a CTE body hands the question to the scans that read it
        start = pending.pop()
        if id(start) in seen:
            continue
        seen.add(id(start))
        if _walk_stops(start, pending):
            return True
    return False


def _walk_stops(node: PlanNode, pending: list[PlanNode]) -> bool:
    """One upward walk of `stopped_early`; CTE scans to check as well go to ``pending``."""
    child, parent = node, node.parent
    while parent is not None:
        if is_cte_body(child):
            pending.extend(cte_scans(child))
            return False
        if child.parent_relationship in _NOT_INPUTS:
            return True
        if parent.node_type in {"Limit", "Merge Join"}:
            return True
        inner = child.parent_relationship == "Inner"
        if parent.node_type == "Hash Join" and not inner and _empty_inner(parent):
            return True
        if parent.node_type in JOIN_TYPES and inner:
            if parent.join_type in {"Semi", "Anti"}:
                return True
            if parent.node_type == "Nested Loop" and parent.inner_unique:
                return True
        if parent.node_type in _BLOCKING or (
            parent.node_type == "Aggregate" and parent.strategy in {"Plain", "Hashed", None}
        ):
            return False
        child, parent = parent, parent.parent
    return False


def has_consequence(node: PlanNode) -> bool:
    """True when some node above chose its plan or memory from ``node``'s row count.

    Joins (method, order, which side is hashed), aggregates (hash or sort), Hash, Memoize and
    SetOp (memory sizing) do. A Sort, Limit or Result on top of the plan does not, so a
    misestimate there changed nothing. A CTE body counts through the scans that read it.
    """
    stack = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if is_cte_body(current):
            stack.extend(cte_scans(current))
            continue
        parent = current.parent
        if parent is None:
            continue
        if parent.node_type in _CONSEQUENTIAL and not (
            parent.node_type == "Aggregate" and parent.strategy == "Plain"
        ):  # a plain aggregate (count(*)) has no strategy to choose
            return True
        stack.append(parent)
    return False


def is_misestimated(node: PlanNode, *, factor: float) -> bool:
    """True when ``node`` ran and its per-loop rows are off by at least ``factor``.

    An overestimate of a node that may have been stopped early does not count.
    """
    if not node.executed or node.estimate_factor is None:
        return False
    if node.estimate_factor < factor:
        return False
    return not (node.estimate_direction == "over" and stopped_early(node))


def misestimate_origin(node: PlanNode, *, factor: float) -> PlanNode:
    """The node where ``node``'s misestimate starts (``node`` itself when its inputs were fine).

    Descends into the worst input misestimated by at least ``factor`` in the same direction;
    iterative, so any depth is fine (a CTE body is visited at most once).
    """
    current = node
    visited = {id(node)}
    while True:
        worse = [
            c
            for c in inputs(current)
            if id(c) not in visited
            and is_misestimated(c, factor=factor)
            and c.estimate_direction == current.estimate_direction
        ]
        if not worse:
            return current
        current = max(worse, key=lambda c: c.estimate_factor or 0.0)
        visited.add(id(current))


def nearest_join(node: PlanNode) -> PlanNode | None:
    """The first join above ``node``: where a wrong row count changes the plan's choices."""
    parent = node.parent
    while parent is not None:
        if parent.node_type in JOIN_TYPES:
            return parent
        parent = parent.parent
    return None
