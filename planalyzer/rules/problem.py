"""`Problem`: findings that share one cause, reported once with their time counted once.

A slow nested loop typically yields three findings (the misestimate that chose it, the inner
scan it repeats, the loop itself), each claiming most of the statement. A reader wants one
headline with the others as evidence; `Report.problems()` builds these groups.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from planalyzer.rules.finding import Finding, Severity

__all__ = ["Problem", "group_findings"]


class Problem(BaseModel):
    """One problem in a plan: a headline finding and the related findings that explain it.

    Attributes:
        headline: the finding that names the problem (the most severe, then the largest impact).
        related: the other findings of the same cause, as evidence, in rank order.
        node_ids: every node involved, sorted.
        impact_ms: the time the problem explains, counted once (the largest of its findings'
            impacts, never their sum, since they describe the same time).
        severity: the headline's severity.
    """

    model_config = ConfigDict(frozen=True)

    headline: Finding
    related: tuple[Finding, ...] = ()
    node_ids: tuple[int, ...] = ()
    impact_ms: float | None = None
    severity: Severity

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


def group_findings(findings: tuple[Finding, ...] | list[Finding]) -> list[Problem]:
    """Group findings linked through shared nodes (own node or related nodes) into problems.

    Two findings belong together when one names the other's node, or both name the same node
    (union-find over node ids). Statement-level findings (no node) stay alone. Problems are
    ranked like findings: most time explained first, then severity.
    """
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    for f in findings:
        if f.node_id is None:
            continue
        find(f.node_id)
        for other in f.related_node_ids:
            union(f.node_id, other)

    groups: dict[object, list[Finding]] = {}
    for index, f in enumerate(findings):
        key: object = ("node", find(f.node_id)) if f.node_id is not None else ("alone", index)
        groups.setdefault(key, []).append(f)

    problems = []
    for members in groups.values():
        ranked = sorted(members, key=lambda f: (-f.severity.rank, -(f.impact_ms or 0.0)))
        headline, *related = ranked
        impacts = [f.impact_ms for f in members if f.impact_ms is not None]
        nodes = {f.node_id for f in members if f.node_id is not None}
        nodes.update(n for f in members for n in f.related_node_ids)
        problems.append(
            Problem(
                headline=headline,
                related=tuple(related),
                node_ids=tuple(sorted(nodes)),
                impact_ms=max(impacts) if impacts else None,
                severity=headline.severity,
            )
        )
    problems.sort(key=lambda p: (-(p.impact_ms or 0.0), -p.severity.rank))
    return problems
