"""`Problem`: findings that share one cause, reported once with their time counted once.

A slow nested loop typically yields three findings (the misestimate that chose it, the inner
scan it repeats, the loop itself), each claiming most of the statement. A reader wants one
headline with the others as evidence; `Report.problems()` builds these groups.

Two findings share a cause when one names the other's node (``related_node_ids``: the loop
names the misestimate that made the planner choose it and its inner side), when both are about
the same node, or when one sits inside the inner side of a nested loop the other reports (the
inner scan the loop repeats). A compounding misestimate is the exception to "same node": a join
whose own estimate adds to the error its input brought is a second error beside the loop it
feeds, with its own fix, so it joins a group only through the links above. Findings of one
rule that say the same thing about the children of one Append (the same misestimate on each of
3,000 partitions) are one problem listing every node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from planalyzer.rules.finding import Finding, Severity

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan, PlanNode

__all__ = ["Problem", "group_findings"]

# Nodes whose children are parallel alternatives of one query (partitions, UNION ALL arms).
_APPENDS = frozenset({"Append", "Merge Append"})


class Problem(BaseModel):
    """One problem in a plan: a headline finding and the related findings that explain it.

    Attributes:
        headline: the finding that names the problem (the most severe, then the largest impact).
        related: the other findings of the same cause, as evidence, in rank order.
        node_ids: every node involved, sorted.
        impact_ms: the time the problem explains, counted once (the largest of its findings'
            impacts, never their sum, since they describe the same time).
        severity: the headline's severity.
        title: a short title for a list of problems (the headline rule's summary, where).
        suggestion: what to do: the headline's suggestion, else the first related one's.
    """

    model_config = ConfigDict(frozen=True)

    headline: Finding
    related: tuple[Finding, ...] = ()
    node_ids: tuple[int, ...] = ()
    impact_ms: float | None = None
    severity: Severity
    title: str = ""
    suggestion: str | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The headline first, then the related findings."""
        return (self.headline, *self.related)

    @property
    def rules(self) -> tuple[str, ...]:
        """The distinct rule ids involved, headline's first."""
        return tuple(dict.fromkeys(f.rule for f in self.findings))

    def __str__(self) -> str:
        extra = f" (+{len(self.related)} related)" if self.related else ""
        return f"{self.headline}{extra}"


class _Union:
    """Union-find over hashable keys (path halving, no recursion)."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, x: object) -> object:
        parent = self.parent
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: object, b: object) -> None:
        self.parent[self.find(a)] = self.find(b)


def _append_child(node: PlanNode) -> PlanNode | None:
    """The child of the nearest Append/Merge Append above ``node`` that contains it."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.node_type in _APPENDS:
            return child
        child, parent = parent, parent.parent
    return None


def _inner_side(node: PlanNode) -> PlanNode | None:
    return next((c for c in node.children if c.parent_relationship == "Inner"), None)


def _key(finding: Finding) -> object:
    """The union-find key of a finding's own node (a misestimate keeps a key of its own)."""
    compounding = finding.rule == "row-misestimate" and finding.evidence.get(
        "own_estimate_factor", 0.0
    ) < finding.evidence.get("estimate_factor", 0.0)
    return ("estimate" if compounding else "node", finding.node_id)


def _link_inner_sides(plan: Plan, findings: Sequence[Finding], links: _Union) -> None:
    """A finding inside the inner side of a reported nested loop shares the loop's cause."""
    loops = [
        f.node_id for f in findings if f.rule == "nested-loop-blowup" and f.node_id is not None
    ]
    if not loops:
        return
    owner: dict[int, int] = {}
    for loop_id in loops:
        inner = _inner_side(plan.node(loop_id))
        if inner is None:
            continue
        stack = [inner]
        while stack:
            current = stack.pop()
            owner.setdefault(current.id, loop_id)
            stack.extend(current.children)
    for f in findings:
        if f.node_id is not None and f.node_id in owner:
            links.union(_key(f), ("node", owner[f.node_id]))


def _condition_shape(node: PlanNode) -> str:
    """The node's type and conditions with its own table's names blanked out."""
    parts = [node.node_type]
    for cond in (node.filter, node.index_cond, node.recheck_cond, node.hash_cond):
        if cond:
            for name in (node.relation_name, node.alias):
                if name:
                    cond = cond.replace(name, "<rel>")
            parts.append(cond)
    return "|".join(parts)


def _link_partitions(plan: Plan, findings: Sequence[Finding], links: _Union) -> None:
    """Findings of one rule about alike nodes (type, conditions) under one Append are one.

    A partitioned table scanned with the same condition on every partition has the same
    misestimate (or missing index) on each: one cause, one fix, however many partitions.
    """
    first: dict[tuple[str, int, str], object] = {}
    for f in findings:
        if f.node_id is None:
            continue
        node = plan.node(f.node_id)
        arm = _append_child(node)
        if arm is None or arm.parent is None:
            continue
        key = (f.rule, arm.parent.id, _condition_shape(node))
        if key in first:
            links.union(_key(f), first[key])
        else:
            first[key] = _key(f)


def group_findings(findings: Sequence[Finding], plan: Plan | None = None) -> list[Problem]:
    """Group findings that share a cause into problems, ranked by the time they explain.

    Without ``plan`` only shared and named nodes link findings; with it, findings inside a
    reported nested loop's inner side join the loop, and findings of one rule with the same
    message shape on the arms of one Append (partitions) join each other. Statement-level
    findings (no node) stay alone.
    """
    links = _Union()
    for f in findings:
        if f.node_id is None:
            continue
        links.find(_key(f))
        for other in f.related_node_ids:
            # a named node links both what is about that node and the misestimate there
            links.union(_key(f), ("node", other))
            links.union(_key(f), ("estimate", other))
    if plan is not None:
        _link_inner_sides(plan, findings, links)
        _link_partitions(plan, findings, links)

    groups: dict[object, list[Finding]] = {}
    for index, f in enumerate(findings):
        key = links.find(_key(f)) if f.node_id is not None else ("alone", index)
        groups.setdefault(key, []).append(f)

    problems = [_problem(members, plan) for members in groups.values()]
    problems.sort(key=lambda p: (-(p.impact_ms or 0.0), -p.severity.rank))
    return problems


def _problem(members: list[Finding], plan: Plan | None) -> Problem:
    ranked = sorted(members, key=lambda f: (-f.severity.rank, -(f.impact_ms or 0.0)))
    headline, *related = ranked
    impacts = [f.impact_ms for f in members if f.impact_ms is not None]
    nodes = {f.node_id for f in members if f.node_id is not None}
    nodes.update(n for f in members for n in f.related_node_ids)
    suggestion = next((f.suggestion for f in ranked if f.suggestion), None)
    return Problem(
        headline=headline,
        related=tuple(related),
        node_ids=tuple(sorted(nodes)),
        impact_ms=max(impacts) if impacts else None,
        severity=headline.severity,
        title=_title(headline, len({f.node_id for f in members}), plan),
        suggestion=suggestion,
    )


def _title(headline: Finding, node_count: int, plan: Plan | None) -> str:
    """``"<rule summary> at <node>"``, or ``"… on N nodes"`` for a partition-wide problem."""
    from planalyzer.rules import ALL_RULES

    summary = next((r.summary for r in ALL_RULES if r.id == headline.rule), headline.rule)
    if headline.node_id is None:
        return summary
    if node_count > 1 and plan is not None and headline.rule != "nested-loop-blowup":
        where = f"{plan.node(headline.node_id).display_name} and {node_count - 1} more"
    elif plan is not None:
        where = plan.node(headline.node_id).display_name
    else:
        where = f"node {headline.node_id}"
    return f"{summary} at {where}"
