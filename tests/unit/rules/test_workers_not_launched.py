"""workers-not-launched: Gather / Gather Merge that got fewer workers than planned."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet
from tests.unit.rules.test_corpus_no_crash import corpus_plans

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "workers-not-launched"
RULE = "workers-not-launched"


def _gather(*, planned: int, launched: int, gather_ms: float, total_ms: float = 100.0) -> pa.Plan:
    return pa.parse(
        {
            "Plan": {
                "Node Type": "Gather",
                "Total Cost": 10.0,
                "Plan Rows": 10,
                "Actual Total Time": gather_ms,
                "Actual Rows": 10,
                "Actual Loops": 1,
                "Workers Planned": planned,
                "Workers Launched": launched,
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Parallel Aware": True,
                        "Relation Name": "t",
                        "Total Cost": 9.0,
                        "Plan Rows": 4,
                        "Actual Total Time": gather_ms - 1,
                        "Actual Rows": 10,
                        "Actual Loops": launched + 1,
                    }
                ],
            },
            "Execution Time": total_ms,
        }
    )


def test_no_worker_launched_is_critical_with_the_lost_time() -> None:
    plan = pa.load(PLANS / "fires--max-parallel-workers-zero.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.node_type == "Gather"
    assert (node.workers_planned, node.workers_launched) == (2, 0)
    ev = finding.evidence
    assert ev["missing_ratio"] == 1.0
    # (planned + 1) processes would have shared the section; only the leader ran it
    assert finding.impact_ms == pytest.approx(node.inclusive_time_ms * (1 - 1 / 3))
    assert ev["settings"] == {"max_parallel_workers": "0"}
    assert "max_parallel_workers = 0" in finding.suggestion
    assert finding.severity is pa.Severity.CRITICAL
    assert "launched 0 of 2" in finding.message


def test_all_launched_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--all-launched.json")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


@pytest.mark.parametrize(
    ("planned", "launched", "gather_ms", "expected"),
    [
        (4, 2, 80.0, pa.Severity.WARNING),  # half missing, 80 % of the time
        (4, 3, 80.0, pa.Severity.INFO),  # a quarter missing
        (2, 0, 5.0, pa.Severity.INFO),  # none launched, but 5 % of the time
        (2, 0, 30.0, pa.Severity.WARNING),  # none launched, 30 % < 40 %
        (2, 0, 50.0, pa.Severity.CRITICAL),
    ],
)
def test_severity_by_missing_fraction_and_time_share(
    planned: int, launched: int, gather_ms: float, expected: pa.Severity
) -> None:
    (finding,) = assert_fires(
        _gather(planned=planned, launched=launched, gather_ms=gather_ms), RULE
    )
    assert finding.severity is expected
    assert finding.evidence["lost_time_ms"] == pytest.approx(
        gather_ms * (1 - (launched + 1) / (planned + 1))
    )


def test_corpus_parallel_plans() -> None:
    (plan,) = corpus_plans("pev2/parallel_verbose.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.node_type in ("Gather", "Gather Merge")
    assert (finding.evidence["workers_planned"], finding.evidence["workers_launched"]) == (
        node.workers_planned,
        node.workers_launched,
    )
