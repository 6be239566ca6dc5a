"""Where a row misestimate starts: shared by row-misestimate and nested-loop-blowup.

A wrong estimate propagates upwards: a join fed by a scan that returned 40x more rows than
planned will itself be off by about 40x, and so will everything above it. A DBA fixes the node
where the error starts (its statistics, its correlated columns), so the rules report that one
and link the others to it. The *origin* of a misestimated node is found by descending, as long
as some input (a child that feeds it rows, not an InitPlan/SubPlan; for a CTE Scan, the CTE's
body) is itself misestimated in the same direction and explains the node's error (the node adds
less than ``factor`` on top of it), into the worst one. A node that multiplies its input's error
by ``factor`` or more is an origin of its own: two errors, two causes, two fixes.

Figures are per loop, as PostgreSQL plans them: ``Plan Rows`` is the estimate for one execution
of the node, ``Actual Rows`` the average per execution (see `planalyzer.plan.metrics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan, PlanNode

__all__ = ["JOIN_TYPES", "Estimates", "is_cte_body", "nearest_join"]

JOIN_TYPES = frozenset({"Nested Loop", "Hash Join", "Merge Join"})

# Nodes that read their whole input before returning a row: a Limit above them cannot cut
# the input short.
_BLOCKING = frozenset({"Sort", "Hash", "SetOp", "ModifyTable"})
_NOT_INPUTS = frozenset({"InitPlan", "SubPlan"})
# BitmapAnd/BitmapOr always report 0 actual rows (explain.c counts no tuples for them).
_NO_ROW_COUNT = frozenset({"BitmapAnd", "BitmapOr"})
# Nodes whose plan choices or memory sizing depend on their input's row count.
_CONSEQUENTIAL = JOIN_TYPES | {"Aggregate", "Hash", "Memoize", "SetOp"}


class Estimates:
    """Misestimate questions about one plan, each node answered once.

    Plans can be thousands of nodes deep and every node may be misestimated, so the answers
    (stopped early? where does the error start?) are memoised: a rule builds one view per
    plan and asks it about any number of nodes in time linear in the plan's size.
    """

    def __init__(self, plan: Plan, *, factor: float) -> None:
        """A view of ``plan`` where estimates off by ``factor`` or more count as wrong."""
        self.factor = factor
        self._bodies: dict[str, PlanNode] = {}
        self._scans: dict[str, list[PlanNode]] = {}
        for node in plan.nodes():
            if is_cte_body(node):
                self._bodies.setdefault((node.subplan_name or "")[4:], node)
            if node.node_type == "CTE Scan" and node.cte_name:
                self._scans.setdefault(node.cte_name, []).append(node)
        self._stopped: dict[int, bool] = {}
        self._origin: dict[int, PlanNode] = {}

    def cte_body(self, scan: PlanNode) -> PlanNode | None:
        """The InitPlan computing the CTE a CTE Scan reads."""
        return self._bodies.get(scan.cte_name or "") if scan.node_type == "CTE Scan" else None

    def cte_scans(self, body: PlanNode) -> list[PlanNode]:
        """The CTE Scans that read a CTE body."""
        return self._scans.get((body.subplan_name or "")[4:], [])

    def inputs(self, node: PlanNode) -> list[PlanNode]:
        """The nodes that feed ``node`` its rows and actually ran.

        These are the children other than InitPlans/SubPlans and, for a CTE Scan, the CTE's
        body (an InitPlan elsewhere in the tree) from whose estimate the scan's own derives.
        """
        found = [
            c for c in node.children if c.parent_relationship not in _NOT_INPUTS and c.executed
        ]
        body = self.cte_body(node)
        if body is not None and body.executed:
            found.append(body)
        return found

    def stopped_early(self, node: PlanNode) -> bool:
        """True when a consumer above may have stopped reading ``node`` before it was done.

        Then fewer rows than planned is not a misestimate. A Limit stops its input after n
        rows. A semi/anti join or an inner-unique nested loop stops the inner side at the first
        match. A merge join stops one side when the other runs out, and a hash join with an
        empty hash table stops its outer side. A SubPlan (EXISTS) may stop at its first row,
        and a CTE runs only as far as its scans read. The walk up ends at a node that reads
        all of its input first (Sort, Hash, a hashed or plain Aggregate ...).
        """
        chain: list[PlanNode] = []
        current: PlanNode | None = node
        result = False
        while current is not None:
            known = self._stopped.get(id(current))
            if known is not None:
                result = known
                break
            chain.append(current)
            if is_cte_body(current):
                self._stopped[id(current)] = False  # guard: a CTE cannot read itself
                # recursion depth is bounded by how deeply CTEs read other CTEs
                result = any(self.stopped_early(scan) for scan in self.cte_scans(current))
                break
            decided = _decides(current)
            if decided is not None:
                result = decided
                break
            current = current.parent
        for item in chain:  # undecided nodes share the answer of the node that decided
            self._stopped[id(item)] = result
        return result

    def is_misestimated(self, node: PlanNode) -> bool:
        """True when ``node`` ran and its per-loop rows are off by at least ``factor``.

        An overestimate of a node that may have been stopped early does not count.
        """
        if not node.executed or node.estimate_factor is None:
            return False
        if node.node_type in _NO_ROW_COUNT:
            return False
        if node.estimate_factor < self.factor:
            return False
        return not (node.estimate_direction == "over" and self.stopped_early(node))

    def origin(self, node: PlanNode) -> PlanNode:
        """The node where ``node``'s misestimate starts (``node`` itself if its inputs were fine).

        Descends into the worst input misestimated by at least ``factor`` in the same
        direction. Every node on the way down has the same origin, so all are memoised.
        """
        path: list[PlanNode] = []
        current = node
        seen: set[int] = set()
        while True:
            known = self._origin.get(id(current))
            if known is not None:
                origin = known
                break
            path.append(current)
            seen.add(id(current))
            worse = [
                c
                for c in self.inputs(current)
                if id(c) not in seen
                and self.is_misestimated(c)
                and c.estimate_direction == current.estimate_direction
                and self.own_factor(current, c) < self.factor
            ]
            if not worse:
                origin = current
                break
            current = max(worse, key=lambda c: c.estimate_factor or 0.0)
        for item in path:
            self._origin[id(item)] = origin
        return origin

    def own_factor(self, node: PlanNode, source: PlanNode | None = None) -> float:
        """How much ``node`` adds to the error it inherits: its factor over its input's.

        A scan 20x under feeding a join 200,000x under leaves the join 10,000x of its own (its
        selectivity), a second error with a cause and a fix of its own. ``source`` is the input
        compared with (default: the worst input misestimated in the same direction).
        """
        factor = node.estimate_factor or 1.0
        if source is None:
            same = [
                c
                for c in self.inputs(node)
                if self.is_misestimated(c) and c.estimate_direction == node.estimate_direction
            ]
            if not same:
                return factor
            source = max(same, key=lambda c: c.estimate_factor or 0.0)
        return factor / max(source.estimate_factor or 1.0, 1.0)

    def has_consequence(self, node: PlanNode) -> bool:
        """True when some node above chose its plan or memory from ``node``'s row count.

        Joins (method, order, which side is hashed), grouping aggregates (hash or sort), Hash,
        Memoize and SetOp (memory sizing) do. A Sort, Limit, plain Aggregate or Result on top
        of the plan does not, so a misestimate there changed nothing. A CTE body counts
        through the scans that read it.
        """
        stack = [node]
        seen: set[int] = set()
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            if is_cte_body(current):
                stack.extend(self.cte_scans(current))
                continue
            parent = current.parent
            if parent is None:
                continue
            if parent.node_type in _CONSEQUENTIAL and not (
                parent.node_type == "Aggregate" and parent.strategy == "Plain"
            ):
                return True
            stack.append(parent)
        return False


def is_cte_body(node: PlanNode) -> bool:
    """True for the InitPlan that computes a CTE (``Subplan Name: CTE <name>``)."""
    return node.parent_relationship == "InitPlan" and (node.subplan_name or "").startswith("CTE ")


def _empty_inner(join: PlanNode) -> bool:
    inner = [c for c in join.children if c.parent_relationship == "Inner"]
    return bool(inner) and inner[0].rows_total == 0


def _decides(child: PlanNode) -> bool | None:
    """Whether ``child``'s parent stops it early (True), reads it all (False), or passes on."""
    parent = child.parent
    if parent is None:
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
    return None


def nearest_join(node: PlanNode) -> PlanNode | None:
    """The first join above ``node``: where a wrong row count changes the plan's choices."""
    parent = node.parent
    while parent is not None:
        if parent.node_type in JOIN_TYPES:
            return parent
        parent = parent.parent
    return None
