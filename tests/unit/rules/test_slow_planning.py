"""slow-planning: planning time that dominates execution time."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "slow-planning"
RULE = "slow-planning"


def _plan(planning_ms: float, execution_ms: float, **extra) -> pa.Plan:
    return pa.parse(
        {
            "Plan": {
                "Node Type": "Result",
                "Total Cost": 0.01,
                "Plan Rows": 1,
                "Actual Total Time": execution_ms,
                "Actual Rows": 1,
                "Actual Loops": 1,
            },
            "Planning Time": planning_ms,
            "Execution Time": execution_ms,
            **extra,
        }
    )


def test_twelve_table_join_fires_and_names_the_raised_collapse_limit() -> None:
    plan = pa.load(PLANS / "fires--twelve-table-join.json")
    (finding,) = assert_fires(plan, RULE)
    assert finding.node_id is None  # statement-level: planning belongs to no node
    ev = finding.evidence
    planning = plan.planning_time_ms
    assert ev["planning_time_ms"] == planning > plan.execution_time_ms
    assert ev["planning_to_execution_ratio"] == planning / plan.execution_time_ms
    scans = [n for n in plan.nodes() if n.relation_name and "Scan" in n.node_type]
    assert ev["relations_count"] == len(scans) == 12
    assert finding.impact_ms == planning
    assert finding.severity is (pa.Severity.WARNING if planning < 100 else pa.Severity.CRITICAL)
    assert "join_collapse_limit = 12" in finding.suggestion
    assert "prepared statements" in finding.suggestion


def test_simple_query_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--simple-query.json")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


@pytest.mark.parametrize(
    ("planning_ms", "execution_ms", "expected"),
    [
        (8.0, 1.0, None),  # under 10 ms
        (20.0, 30.0, None),  # execution dominates
        (20.0, 20.0, pa.Severity.WARNING),  # ratio exactly 1
        (150.0, 10.0, pa.Severity.CRITICAL),
    ],
)
def test_bands(planning_ms: float, execution_ms: float, expected: pa.Severity | None) -> None:
    found = pa.analyze(_plan(planning_ms, execution_ms)).by_rule(RULE)
    assert [f.severity for f in found] == ([] if expected is None else [expected])


def test_cold_catalog_cache_is_named() -> None:
    plan = _plan(30.0, 1.0, Planning={"Shared Hit Blocks": 100, "Shared Read Blocks": 250})
    (finding,) = assert_fires(plan, RULE)
    assert finding.evidence["planning_read_blocks"] == 250
    assert "cold catalog cache" in finding.suggestion


def test_without_execution_time_it_stays_quiet() -> None:
    plan = pa.parse({"Plan": {"Node Type": "Result", "Total Cost": 0.01}, "Planning Time": 50.0})
    assert pa.analyze(plan).by_rule(RULE) == []
