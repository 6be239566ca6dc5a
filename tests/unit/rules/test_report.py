"""analyze() and Report: ranking, filters, causes, plain data, skipped and broken rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import planalyzer as pa
import planalyzer.rules
from planalyzer.rules._spec import Rule, RuleContext, Thresholds

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"


class _NoThresholds(Thresholds):
    """A test rule's (empty) thresholds."""


def _rule(
    rule_id: str, check: Callable[[RuleContext], Iterator[pa.Finding]], *, needs_analyze=False
) -> Rule:
    return Rule(
        id=rule_id,
        severity=pa.Severity.WARNING,
        summary=rule_id,
        check=check,
        thresholds=_NoThresholds,
        needs_analyze=needs_analyze,
    )


@pytest.fixture
def use_rules(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Replace the registry with the given rules for one test."""

    def install(*rules: Rule) -> None:
        monkeypatch.setattr(planalyzer.rules, "ALL_RULES", tuple(rules))

    return install


def _analyzed() -> pa.Plan:
    return pa.load(PLANS / "hash-spill" / "fires--hash-join-batches.json")


def _estimated() -> pa.Plan:
    return pa.load(PLANS / "seq-scan" / "fires--filter-removes-most--estimated.json")


def test_findings_ranked_by_impact_ms(use_rules) -> None:
    plan = _analyzed()

    def check(ctx: RuleContext) -> Iterator[pa.Finding]:
        for node, ms, sev in [(1, 5.0, pa.Severity.CRITICAL), (2, 50.0, pa.Severity.INFO),
                              (3, 20.0, pa.Severity.WARNING)]:  # fmt: skip
            yield ctx.finding(
                ctx.plan.node(node), message=f"n{node}", evidence={}, suggestion=None,
                impact_ms=ms, severity=sev,
            )  # fmt: skip

    use_rules(_rule("fake", check))
    report = pa.analyze(plan)
    assert [f.impact_ms for f in report.findings] == [50.0, 20.0, 5.0]
    assert report.worst().severity is pa.Severity.CRITICAL
    assert [f.node_id for f in report.at_least("warning")] == [3, 1]
    assert [f.node_id for f in report.at_least(pa.Severity.CRITICAL)] == [1]
    assert len(report) == 3
    assert list(report) == list(report.findings)
    assert report.counts() == {pa.Severity.INFO: 1, pa.Severity.WARNING: 1, pa.Severity.CRITICAL: 1}
    assert report.for_node(2)[0].message == "n2"


def test_plain_explain_ranks_by_cost_share_and_marks_estimates(use_rules) -> None:
    plan = _estimated()
    assert not plan.analyzed

    def check(ctx: RuleContext) -> Iterator[pa.Finding]:
        for node in ctx.plan.nodes():
            yield ctx.finding(node, message=node.node_type, evidence={}, suggestion=None)

    use_rules(_rule("fake", check))
    report = pa.analyze(plan)
    shares = [f.impact_cost_share for f in report.findings]
    assert shares == sorted(shares, reverse=True)
    assert shares == sorted((n.cost_share for n in plan.nodes()), reverse=True)
    assert all(f.estimated and f.impact_ms is None for f in report.findings)


def test_rules_needing_analyze_are_skipped_on_plain_explain() -> None:
    report = pa.analyze(_estimated())
    needs = [r.id for r in planalyzer.rules.ALL_RULES if r.needs_analyze]
    assert needs  # e.g. sort-spill, hash-spill, jit-overhead
    for rule_id in needs:
        assert report.rules_skipped[rule_id] == "needs EXPLAIN ANALYZE"
        assert rule_id not in report.rules_run
        assert report.by_rule(rule_id) == []
    assert set(report.rules_run) == {r.id for r in planalyzer.rules.ALL_RULES} - set(needs)


def test_broken_rule_becomes_an_internal_error_finding(use_rules) -> None:
    def broken(ctx: RuleContext) -> Iterator[pa.Finding]:
        raise KeyError("Hash Batches")
        yield  # pragma: no cover - makes this a generator

    def fine(ctx: RuleContext) -> Iterator[pa.Finding]:
        yield ctx.finding(ctx.plan.root, message="ok", evidence={}, suggestion=None)

    use_rules(_rule("broken", broken), _rule("fine", fine))
    report = pa.analyze(_analyzed())
    (error,) = report.by_rule("internal-error")
    assert error.severity is pa.Severity.INFO
    assert error.evidence == {"rule": "broken"}
    assert "rule broken failed" in error.message
    assert "KeyError" in error.message
    assert report.by_rule("fine")  # the other rules still ran
    assert report.rules_run == ("broken", "fine")


def test_causes_follow_related_node_ids(use_rules) -> None:
    def effect(ctx: RuleContext) -> Iterator[pa.Finding]:
        yield ctx.finding(
            ctx.plan.node(0), message="blow-up", evidence={}, suggestion=None,
            impact_ms=30.0, related_node_ids=(3,),
        )  # fmt: skip

    def cause(ctx: RuleContext) -> Iterator[pa.Finding]:
        for node_id in (3, 1):
            yield ctx.finding(
                ctx.plan.node(node_id), message=f"estimate {node_id}", evidence={},
                suggestion=None, impact_ms=1.0,
            )  # fmt: skip

    use_rules(_rule("effect", effect), _rule("cause", cause))
    report = pa.analyze(_analyzed())
    (blow_up,) = report.by_rule("effect")
    assert [f.message for f in report.causes(blow_up)] == ["estimate 3"]
    (estimate,) = [f for f in report.by_rule("cause") if f.node_id == 3]
    assert report.causes(estimate) == []


def test_hash_spill_links_its_join() -> None:
    plan = _analyzed()
    (spill,) = pa.analyze(plan).by_rule("hash-spill")
    assert plan.node(spill.node_id).parent.id in spill.related_node_ids


def test_to_dict_is_plain_json() -> None:
    plan = _analyzed()
    report = pa.analyze(plan)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["analyzed"] is True
    assert data["total_time_ms"] == plan.execution_time_ms
    assert data["rules_run"] == list(report.rules_run)
    (spill,) = [f for f in data["findings"] if f["rule"] == "hash-spill"]
    assert spill["severity"] == "critical"
    assert spill["evidence"]["hash_batches"] == 128
    assert data["counts"]["critical"] == sum(
        1 for f in report.findings if f.severity is pa.Severity.CRITICAL
    )


def test_empty_report() -> None:
    report = pa.analyze(pa.parse({"Plan": {"Node Type": "Result", "Total Cost": 0.01}}))
    assert report.findings == ()
    assert report.worst() is None
    assert bool(report) is False  # falsy like an empty list
    assert repr(report) == "Report(findings=0)"


def test_findings_explaining_under_a_millisecond_are_info() -> None:
    """A 0.1 ms query's problems are real but not worth a warning; the rule's view is kept."""
    plan = pa.load(PLANS / "inefficient-index" / "fires--filter-after-index.json")
    strict = pa.analyze(plan, config=pa.RuleConfig(min_warning_impact_ms=0))
    default = pa.analyze(plan)
    (rule_view,) = strict.by_rule("inefficient-index")
    (reported,) = default.by_rule("inefficient-index")
    assert rule_view.impact_ms < 1.0
    assert rule_view.severity > pa.Severity.INFO
    assert reported.severity is pa.Severity.INFO
    assert reported.evidence["rule_severity"] == rule_view.severity.value
    assert reported.evidence["min_warning_impact_ms"] == 1.0


def test_min_warning_impact_must_be_a_non_negative_number() -> None:
    with pytest.raises(pa.ConfigError) as info:
        pa.RuleConfig(min_warning_impact_ms=-1)
    assert info.value.key == "min_warning_impact_ms"


def test_a_report_is_truthy_only_with_findings() -> None:
    clean = pa.analyze(pa.load(PLANS / "seq-scan" / "quiet--primary-key-lookup.json"))
    noisy = pa.analyze(pa.load(PLANS / "seq-scan" / "fires--filter-removes-most.json"))
    assert not clean
    assert len(clean) == 0
    assert noisy
    assert len(noisy) == len(noisy.findings) >= 1


def test_problems_group_findings_that_share_nodes_and_count_time_once() -> None:
    from planalyzer.rules.finding import Finding, Severity
    from planalyzer.rules.problem import group_findings

    loop = Finding(
        rule="nested-loop-blowup",
        severity=Severity.CRITICAL,
        node_id=1,
        message="loop",
        impact_ms=150.0,
        related_node_ids=(3,),
    )
    scan = Finding(
        rule="seq-scan", severity=Severity.WARNING, node_id=3, message="scan", impact_ms=140.0
    )
    other = Finding(
        rule="sort-spill", severity=Severity.WARNING, node_id=7, message="sort", impact_ms=20.0
    )
    statement = Finding(rule="jit-overhead", severity=Severity.INFO, node_id=None, message="jit")
    problems = group_findings([scan, loop, other, statement])
    assert [p.headline.rule for p in problems] == [
        "nested-loop-blowup",
        "sort-spill",
        "jit-overhead",
    ]
    assert problems[0].related == (scan,)
    assert problems[0].impact_ms == 150.0
    assert problems[0].node_ids == (1, 3)


def _crashing_rules(monkeypatch) -> None:
    """Replace one rule's check with one that raises, as a rule with a bug would."""
    import dataclasses

    import planalyzer.rules as registry

    def boom(ctx):
        raise ZeroDivisionError("bug")
        yield  # pragma: no cover

    crashing = tuple(
        dataclasses.replace(r, check=boom) if r.id == "lossy-bitmap" else r
        for r in registry.ALL_RULES
    )
    monkeypatch.setattr(registry, "ALL_RULES", crashing)


def test_a_crashing_rule_fails_no_findings_and_the_rule_helpers(monkeypatch) -> None:
    from planalyzer.testing import PlanAssertionError, assert_plan
    from tests.unit.rules.rule_helpers import assert_quiet

    plan = pa.load(PLANS / "seq-scan" / "quiet--primary-key-lookup.json")
    assert_plan(plan).no_findings()
    _crashing_rules(monkeypatch)
    report = pa.analyze(plan)
    assert [f.evidence["rule"] for f in report.by_rule("internal-error")] == ["lossy-bitmap"]
    with pytest.raises(PlanAssertionError, match="internal-error"):
        assert_plan(plan).no_findings()
    with pytest.raises(pytest.fail.Exception, match="a rule raised"):
        assert_quiet(plan, "lossy-bitmap")


def test_problem_carries_title_and_suggestion() -> None:
    plan = pa.load(PLANS / "nested-loop-blowup" / "fires--underestimated-outer.json")
    report = pa.analyze(plan)
    problems = report.problems()
    assert problems, "the fixture has findings"
    top = problems[0]
    assert top.title.startswith(
        next(r.summary for r in planalyzer.rules.ALL_RULES if r.id == top.headline.rule)
    )
    assert top.suggestion == top.headline.suggestion or top.headline.suggestion is None
    # time counted once: never the sum of the group's findings, never above the statement
    assert top.impact_ms == max(f.impact_ms or 0.0 for f in top.findings)
    assert all((p.impact_ms or 0.0) <= plan.total_time_ms for p in problems)
    # every finding lands in exactly one problem
    assert sorted(map(id, (f for p in problems for f in p.findings))) == sorted(
        map(id, report.findings)
    )
