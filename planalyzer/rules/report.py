"""`analyze()`: run the enabled rules over a plan and rank what they found."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from planalyzer.plan.model import Plan, PlanNode
from planalyzer.rules._spec import RuleContext
from planalyzer.rules.config import RuleConfig
from planalyzer.rules.finding import Finding, Severity
from planalyzer.rules.problem import Problem, group_findings

__all__ = ["Report", "analyze"]


class Report(BaseModel):
    """The findings for one plan, the one explaining the most time first."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    plan: Plan = Field(repr=False, exclude=True)
    findings: tuple[Finding, ...] = ()
    rules_run: tuple[str, ...] = ()
    rules_skipped: dict[str, str] = Field(default_factory=dict)

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __iter__(self) -> Iterator[Finding]:  # type: ignore[override]
        return iter(self.findings)

    def __len__(self) -> int:
        """The number of findings; a report without any is falsy, like an empty list."""
        return len(self.findings)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s.value}={n}" for s, n in self.counts().items() if n)
        return f"Report(findings={len(self.findings)}{', ' + counts if counts else ''})"

    def __str__(self) -> str:
        from planalyzer.display.text import render_report

        return render_report(self)

    def _repr_html_(self) -> str:
        from planalyzer.display.html import render_report_html

        return render_report_html(self)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """Text and HTML for Jupyter, honouring ``include``/``exclude``."""
        from planalyzer.display.html import mimebundle

        return mimebundle(self, str(self), self._repr_html_, include=include, exclude=exclude)

    def counts(self) -> dict[Severity, int]:
        """How many findings of each severity."""
        out = dict.fromkeys(Severity, 0)
        for f in self.findings:
            out[f.severity] += 1
        return out

    def worst(self) -> Finding | None:
        """The most severe finding (the first-ranked among equals), or None."""
        if not self.findings:
            return None
        return max(self.findings, key=lambda f: f.severity.rank)

    def by_rule(self, rule_id: str) -> list[Finding]:
        """Findings of one rule, in rank order."""
        return [f for f in self.findings if f.rule == rule_id]

    def at_least(self, severity: Severity | str) -> list[Finding]:
        """Findings at or above a severity, in rank order."""
        floor = Severity.parse(severity)
        return [f for f in self.findings if f.severity >= floor]

    def for_node(self, node: PlanNode | int) -> list[Finding]:
        """Findings about one node, given as a `PlanNode` of this plan or its id.

        Example:
            >>> import planalyzer as pa
            >>> report = pa.analyze(pa.parse({"Plan": {"Node Type": "Result"}}))
            >>> report.for_node(report.plan.root), report.for_node(0)
            ([], [])
        """
        node_id = node.id if isinstance(node, PlanNode) else self.plan.node(node).id
        return [f for f in self.findings if f.node_id == node_id]

    def causes(self, finding: Finding) -> list[Finding]:
        """Other findings about the nodes this one names as related (its likely causes)."""
        if not finding.related_node_ids:  # most findings: no scan of every other one
            return []
        related = set(finding.related_node_ids)
        return [f for f in self.findings if f is not finding and f.node_id in related]

    def problems(self) -> list[Problem]:
        """Findings grouped by shared cause, one `Problem` each, ranked by the time explained.

        Example:
            >>> import planalyzer as pa
            >>> pa.analyze(pa.parse({"Plan": {"Node Type": "Result"}})).problems()
            []
        """
        return group_findings(self.findings, self.plan)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the findings with severity as text."""
        return {
            "findings": [f.model_dump(mode="json") for f in self.findings],
            "counts": {s.value: n for s, n in self.counts().items()},
            "rules_run": list(self.rules_run),
            "rules_skipped": dict(self.rules_skipped),
            "analyzed": self.plan.analyzed,
            "total_time_ms": self.plan.total_time_ms,
            "warnings": list(self.plan.warnings),
        }


def analyze(plan: Plan, *, config: RuleConfig | None = None, catalog: Any = None) -> Report:
    """Run every enabled rule on ``plan``; findings ranked by the time (or cost) they explain.

    Rules that need actual figures are skipped for plans without ANALYZE (``rules_skipped``
    says why). A finding explaining less time than ``config.min_warning_impact_ms`` (1 ms by
    default) is lowered to info, with its rule's severity kept in the evidence. A rule that
    fails on an unexpected plan does not stop the others: its error is reported as an
    ``internal-error`` info finding rather than raised. No finding claims more time than the
    statement took: impacts are capped at ``plan.total_time_ms`` (a plan whose node times exceed
    it gets an ``inconsistent-plan`` finding saying so).

    ``catalog`` is optional `planalyzer.CatalogFacts` (from ``pa.catalog(conn, ...)``) for the
    tables of the plan: with it, rules never suggest an index that already exists and can tell
    stale statistics from other causes of a misestimate.

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Result", "Total Cost": 0.01}})
        >>> pa.analyze(plan).findings
        ()
    """
    from planalyzer.rules import ALL_RULES

    config = config or RuleConfig()
    findings: list[Finding] = []
    run: list[str] = []
    skipped: dict[str, str] = {}
    for rule in ALL_RULES:
        if not config.is_enabled(rule.id):
            skipped[rule.id] = "disabled"
            continue
        if rule.needs_analyze and not plan.analyzed:
            skipped[rule.id] = "needs EXPLAIN ANALYZE"
            continue
        ctx = RuleContext(
            plan=plan,
            config=config,
            rule=rule,
            server_version=plan.server_version,
            catalog=catalog,
        )
        try:
            findings.extend(rule.check(ctx))
        except Exception as err:
            findings.append(
                Finding(
                    rule="internal-error",
                    severity=Severity.INFO,
                    node_id=None,
                    message=f"rule {rule.id} failed on this plan: {type(err).__name__}: {err}",
                    evidence={"rule": rule.id},
                    suggestion="Please report this plan to the planalyzer maintainers.",
                )
            )
        run.append(rule.id)
    total = plan.total_time_ms if plan.timed else None
    planning = plan.planning_time_ms or 0.0
    findings = [
        _cap_small_impact(
            # planning happens outside the execution time; only statement findings claim it
            _cap_to_total(
                f, None if total is None else total + (0.0 if f.node_id is not None else planning)
            ),
            config.min_warning_impact_ms,
        )
        for f in findings
    ]
    findings.sort(key=_rank_key)
    return Report(plan=plan, findings=tuple(findings), rules_run=tuple(run), rules_skipped=skipped)


def _cap_to_total(finding: Finding, total_ms: float | None) -> Finding:
    """Never claim more than the statement took (node times can exceed it in edited plans)."""
    if finding.impact_ms is None or total_ms is None or finding.impact_ms <= total_ms:
        return finding
    evidence = {**finding.evidence, "uncapped_impact_ms": finding.impact_ms}
    return finding.model_copy(update={"impact_ms": total_ms, "evidence": evidence})


def _cap_small_impact(finding: Finding, floor_ms: float) -> Finding:
    """Report as info a finding that explains less measured time than ``floor_ms``.

    Relative shares make a 0.1 ms query's problems look critical; a DBA would not act on them.
    The original severity is kept in the evidence so nothing is hidden.
    """
    if finding.impact_ms is None or finding.impact_ms >= floor_ms:
        return finding
    if finding.severity <= Severity.INFO:
        return finding
    evidence = {
        **finding.evidence,
        "rule_severity": finding.severity.value,
        "min_warning_impact_ms": floor_ms,
    }
    return finding.model_copy(update={"severity": Severity.INFO, "evidence": evidence})


def _rank_key(finding: Finding) -> tuple[float, float, int]:
    """Most time explained first; without timing, the largest cost share; then severity."""
    return (
        -(finding.impact_ms or 0.0),
        -(finding.impact_cost_share or 0.0),
        -finding.severity.rank,
    )
