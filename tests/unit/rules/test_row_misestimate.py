"""row-misestimate: large estimate errors, reported once where they start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
PLANS = FIXTURES / "row-misestimate"
RULE = "row-misestimate"


def _node(node_type: str, planned: float, actual: float, **keys: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "Node Type": node_type,
        "Total Cost": 100.0,
        "Plan Rows": planned,
        "Actual Total Time": 1.0,
        "Actual Rows": actual,
        "Actual Loops": 1,
    }
    node.update(keys)
    return node


def _plan(root: dict[str, Any], total_ms: float = 50.0) -> pa.Plan:
    return pa.parse({"Plan": root, "Execution Time": total_ms})


def _inherited_three_times(*, timing: bool = True) -> pa.Plan:
    """Sort <- Hash Join <- (Seq Scan a fine, Hash <- Seq Scan b off by 100x)."""
    scan_b = _node(
        "Seq Scan",
        50,
        5000,
        **{
            "Relation Name": "b",
            "Alias": "b",
            "Filter": "((city = 'Paris'::text) AND (country = 'FR'::text))",
            "Parent Relationship": "Outer",
        },
    )
    root = _node(
        "Sort",
        50,
        5000,
        Plans=[
            _node(
                "Hash Join",
                50,
                5000,
                **{"Parent Relationship": "Outer", "Hash Cond": "(a.id = b.a_id)"},
                Plans=[
                    _node("Seq Scan", 10000, 10000, **{"Relation Name": "a", "Alias": "a"}),
                    _node("Hash", 50, 5000, **{"Parent Relationship": "Inner"}, Plans=[scan_b]),
                ],
            )
        ],
    )
    root["Plans"][0]["Plans"][0]["Parent Relationship"] = "Outer"
    if not timing:
        for node in _walk(root):
            node.pop("Actual Total Time", None)
    return _plan(root)


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.get("Plans", []))
    return out


# --- real PostgreSQL 15 plans -------------------------------------------------------------


def test_correlated_columns_are_reported_once_on_the_customers_scan() -> None:
    plan = pa.load(PLANS / "fires--correlated-columns.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert (node.node_type, node.relation_name) == ("Seq Scan", "customers")
    assert node.filter is not None
    ev = finding.evidence
    assert ev["estimate_factor"] == pytest.approx(node.actual_rows / node.plan_rows)
    assert ev["estimate_direction"] == "under"
    assert ev["rows_total"] == node.actual_rows * node.actual_loops
    # the Parallel Hash, the Parallel Hash Join and the Gather inherit it: linked, not repeated
    heirs = [plan.node(i).node_type for i in finding.related_node_ids]
    assert sorted(heirs) == ["Gather", "Hash", "Hash Join"]
    assert ev["worst_inherited_factor"] == pytest.approx(
        plan.root.actual_rows / plan.root.plan_rows
    )
    assert finding.severity is pa.Severity.WARNING  # 10x <= 40x < 1000x
    # impact: the join above it (the choice the estimate fed), its own time
    join = plan.node(ev["nearest_join_node_id"])
    assert join.node_type == "Hash Join"
    assert finding.impact_ms == join.exclusive_time_ms
    assert "CREATE STATISTICS" in finding.suggestion
    assert "ON city, country FROM customers" in finding.suggestion
    assert "ANALYZE customers" in finding.suggestion


def test_well_estimated_plan_is_quiet() -> None:
    assert_quiet(pa.load(PLANS / "quiet--well-estimated.json"), RULE, min_severity=pa.Severity.INFO)


def test_outer_side_of_the_nested_loop_blowup_is_critical() -> None:
    plan = pa.load(FIXTURES / "nested-loop-blowup" / "fires--underestimated-outer.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert (node.node_type, node.relation_name) == ("Seq Scan", "customers")
    # the error reaches 1,250x at the Gather and the Nested Loop: the 1000x band
    assert finding.evidence["worst_inherited_factor"] >= 1000
    assert finding.severity is pa.Severity.CRITICAL
    # the loop's inner side ran once per unexpected row: that time is what it cost
    loop = plan.root
    inner = loop.children[1]
    assert finding.evidence["impact_basis"] == "nested_loop_inner"
    assert finding.impact_ms == pytest.approx(loop.exclusive_time_ms + inner.inclusive_time_ms)


# --- hand-built edge cases ----------------------------------------------------------------


def test_a_misestimate_inherited_by_three_parents_is_reported_once_at_its_origin() -> None:
    plan = _inherited_three_times()
    (finding,) = assert_fires(plan, RULE)
    origin = plan.node(finding.node_id)
    assert origin.relation_name == "b"
    assert sorted(plan.node(i).node_type for i in finding.related_node_ids) == [
        "Hash",
        "Hash Join",
        "Sort",
    ]
    assert finding.evidence["estimate_factor"] == 5000 / 50
    assert "3 nodes above inherit it" in finding.message


def test_timing_off_still_reports_without_impact() -> None:
    plan = _inherited_three_times(timing=False)
    (finding,) = assert_fires(plan, RULE)
    assert plan.node(finding.node_id).relation_name == "b"
    assert finding.impact_ms is None


def test_fewer_rows_under_a_limit_are_not_a_misestimate() -> None:
    plan = _plan(
        _node(
            "Limit",
            10,
            10,
            Plans=[
                _node(
                    "Seq Scan",
                    100_000,
                    10,
                    **{"Relation Name": "t", "Filter": "(a > 1)", "Parent Relationship": "Outer"},
                )
            ],
        )
    )
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_small_absolute_counts_are_noise() -> None:
    scan = _node("Seq Scan", 1, 12, **{"Relation Name": "t", "Filter": "(a = 1)"})
    plan = _plan(_node("Hash Join", 1, 12, Plans=[scan, _node("Seq Scan", 5, 5)]))
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_never_executed_nodes_are_skipped() -> None:
    never = _node("Seq Scan", 5000, 0, **{"Relation Name": "t", "Actual Loops": 0})
    plan = _plan(_node("Nested Loop", 10, 10, Plans=[_node("Seq Scan", 10, 10), never]))
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_plans_without_analyze_skip_the_rule() -> None:
    plan = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Plan Rows": 5}})
    report = pa.analyze(plan)
    assert report.by_rule(RULE) == []
    assert report.rules_skipped[RULE] == "needs EXPLAIN ANALYZE"


def test_single_column_filter_suggests_a_finer_statistics_target() -> None:
    scan = _node(
        "Seq Scan",
        10,
        4000,
        **{
            "Relation Name": "orders",
            "Filter": "(status = 'late'::text)",
            "Parent Relationship": "Outer",
        },
    )
    other = _node("Seq Scan", 100, 100, **{"Relation Name": "c", "Parent Relationship": "Inner"})
    plan = _plan(_node("Nested Loop", 10, 4000, Plans=[scan, other]))
    (finding,) = assert_fires(plan, RULE)
    assert "ALTER TABLE orders ALTER COLUMN status SET STATISTICS 1000" in finding.suggestion
    assert "CREATE STATISTICS" not in finding.suggestion


def test_a_join_whose_inputs_were_right_is_its_own_origin() -> None:
    plan = _plan(
        _node(
            "HashAggregate",
            100,
            100,
            Strategy="Hashed",
            **{"Node Type": "Aggregate"},
            Plans=[
                _node(
                    "Hash Join",
                    100,
                    90_000,
                    **{"Parent Relationship": "Outer", "Hash Cond": "(a.x = b.x)"},
                    Plans=[
                        _node(
                            "Seq Scan",
                            1000,
                            1000,
                            **{"Relation Name": "a", "Parent Relationship": "Outer"},
                        ),
                        _node("Hash", 900, 900, **{"Parent Relationship": "Inner"}),
                    ],
                )
            ],
        )
    )
    (finding,) = assert_fires(plan, RULE)
    assert plan.node(finding.node_id).node_type == "Hash Join"
    assert finding.related_node_ids == ()
    assert "join on `a.x = b.x`" in finding.message
    assert "join columns" in finding.suggestion


def test_an_error_nothing_above_depends_on_is_only_info() -> None:
    # a scan at the top of the plan: no join or aggregate chose anything from its count
    plan = _plan(_node("Seq Scan", 5000, 2, **{"Relation Name": "t", "Filter": "(a = 1)"}))
    (finding,) = assert_fires(plan, RULE)
    assert finding.severity is pa.Severity.INFO
    assert_quiet(plan, RULE)


def test_factor_threshold_can_be_raised() -> None:
    plan = _inherited_three_times()
    assert_quiet(
        plan,
        RULE,
        config=pa.RuleConfig(row_misestimate={"warning_factor": 1000}),
        min_severity=pa.Severity.INFO,
    )


def test_a_plan_thousands_of_levels_deep_finds_the_origin_at_the_bottom() -> None:
    node = _node("Seq Scan", 10, 100_000, **{"Relation Name": "t", "Filter": "(a = 1)"})
    for _ in range(3000):
        node["Parent Relationship"] = "Outer"
        node = _node("Hash Join", 10, 100_000, Plans=[node])
    plan = _plan(node)
    (finding,) = assert_fires(plan, RULE)
    assert plan.node(finding.node_id).relation_name == "t"
    assert len(finding.related_node_ids) == 3000
