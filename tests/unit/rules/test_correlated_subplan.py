"""correlated-subplan: SubPlans executed once per outer row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "correlated-subplan"
RULE = "correlated-subplan"


def _with_subplan(
    *,
    loops: float,
    sub_ms_per_loop: float = 0.01,
    total_ms: float | None = None,
    name: str = "SubPlan 1",
    relationship: str = "SubPlan",
    parent_filter: str | None = None,
    inner: dict[str, Any] | None = None,
) -> pa.Plan:
    scan = inner or {
        "Node Type": "Index Scan",
        "Relation Name": "payments",
        "Alias": "p",
        "Index Cond": "(order_id = o.id)",
    }
    sub_total = sub_ms_per_loop * loops
    root: dict[str, Any] = {
        "Node Type": "Seq Scan",
        "Relation Name": "orders",
        "Alias": "o",
        "Total Cost": 1000.0,
        "Plan Rows": loops,
        "Actual Total Time": sub_total + 2,
        "Actual Rows": loops,
        "Actual Loops": 1,
        "Plans": [
            {
                "Node Type": "Aggregate",
                "Strategy": "Plain",
                "Parent Relationship": relationship,
                "Subplan Name": name,
                "Total Cost": 8.0,
                "Plan Rows": 1,
                "Actual Total Time": sub_ms_per_loop,
                "Actual Rows": 1,
                "Actual Loops": loops,
                "Plans": [
                    {
                        "Parent Relationship": "Outer",
                        "Total Cost": 8.0,
                        "Plan Rows": 1,
                        "Actual Total Time": sub_ms_per_loop * 0.9,
                        "Actual Rows": 1,
                        "Actual Loops": loops,
                        **scan,
                    }
                ],
            }
        ],
    }
    if parent_filter:
        root["Filter"] = parent_filter
    return pa.parse({"Plan": root, "Execution Time": total_ms or sub_total + 2.5})


def test_scalar_subquery_run_per_order_is_reported_on_the_subplan() -> None:
    plan = pa.load(PLANS / "fires--scalar-subquery-per-row.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.parent_relationship == "SubPlan"
    assert node.subplan_name == "SubPlan 1"
    ev = finding.evidence
    assert ev["subplan_loops"] == node.actual_loops == 5000
    assert ev["subplan_time_ms"] == node.inclusive_time_ms == finding.impact_ms
    assert ev["time_per_loop_ms"] == pytest.approx(node.inclusive_time_ms / 5000)
    assert ev["time_share_ratio"] == pytest.approx(node.inclusive_time_ms / plan.execution_time_ms)
    assert finding.severity is pa.Severity.CRITICAL  # over 40 % of the time
    assert "ran 5,000 times" in finding.message
    assert "LATERAL" in finding.suggestion
    # the lookup already uses payments_order_id_idx: no index to suggest
    assert "CREATE INDEX" not in finding.suggestion


def test_the_rewritten_join_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--rewritten-as-join.json")
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_unindexed_correlated_lookup_gets_an_index_suggestion() -> None:
    inner = {
        "Node Type": "Seq Scan",
        "Relation Name": "payments",
        "Alias": "p",
        "Filter": "(p.order_id = o.id)",
        "Rows Removed by Filter": 9999,
    }
    plan = _with_subplan(loops=2000, sub_ms_per_loop=0.5, inner=inner)
    (finding,) = assert_fires(plan, RULE)
    assert "CREATE INDEX ON payments (order_id)" in finding.suggestion


def test_severity_follows_the_share_of_time() -> None:
    (finding,) = assert_fires(_with_subplan(loops=2000, total_ms=1000), RULE)  # 20 of 1000 ms
    assert finding.severity is pa.Severity.INFO
    (finding,) = assert_fires(_with_subplan(loops=2000, total_ms=100), RULE)  # 20 %
    assert finding.severity is pa.Severity.WARNING


def test_few_executions_hashed_subplans_and_initplans_are_quiet() -> None:
    assert_quiet(_with_subplan(loops=500), RULE, min_severity=pa.Severity.INFO)
    hashed = _with_subplan(loops=2000, name="hashed SubPlan 1")
    assert_quiet(hashed, RULE, min_severity=pa.Severity.INFO)
    # up to PostgreSQL 16 the hashing shows only in the parent's condition
    hashed = _with_subplan(loops=2000, parent_filter="(NOT (hashed SubPlan 1))")
    assert_quiet(hashed, RULE, min_severity=pa.Severity.INFO)
    initplan = _with_subplan(loops=2000, name="InitPlan 1 (returns $0)", relationship="InitPlan")
    assert_quiet(initplan, RULE, min_severity=pa.Severity.INFO)


def _without_analyze(document: list[dict[str, object]]) -> list[dict[str, object]]:
    """The same plan as plain EXPLAIN would print it: no actual figures, no buffers."""
    stack = [document[0]["Plan"]]
    while stack:
        node = stack.pop()
        assert isinstance(node, dict)
        for key in [k for k in node if k.startswith(("Actual", "Shared", "Local", "Temp"))]:
            del node[key]
        node.pop("Rows Removed by Filter", None)
        node.pop("Heap Fetches", None)
        stack.extend(node.get("Plans", []))
    document[0].pop("Execution Time", None)
    return document


def test_per_row_subplan_is_found_from_estimates_alone() -> None:
    path = PLANS / "fires--scalar-subquery-per-row.json"
    plan = pa.parse(_without_analyze(json.loads(path.read_text())))
    assert not plan.analyzed
    (finding,) = assert_fires(plan, RULE)
    subplan = plan.node(finding.node_id)
    host = subplan.parent
    assert finding.estimated
    assert finding.evidence["estimated_loops"] == host.plan_rows
    expected_share = min(subplan.total_cost * host.plan_rows / plan.root.total_cost, 1.0)
    assert finding.impact_cost_share == pytest.approx(expected_share)
    assert finding.severity <= pa.Severity.WARNING  # estimates never make it critical
    assert "estimated, no ANALYZE" in finding.message


def test_rewritten_join_stays_quiet_without_analyze_too() -> None:
    path = PLANS / "quiet--rewritten-as-join.json"
    plan = pa.parse(_without_analyze(json.loads(path.read_text())))
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)
