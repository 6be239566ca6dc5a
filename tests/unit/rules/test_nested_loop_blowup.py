"""nested-loop-blowup: inner sides repeated so often they dominate, linked to the misestimate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
PLANS = FIXTURES / "nested-loop-blowup"
RULE = "nested-loop-blowup"


def _loop(
    *,
    loops: float = 5000,
    inner_ms_per_loop: float = 0.02,
    outer_planned: float = 5000,
    inner: dict[str, Any] | None = None,
    total_ms: float | None = None,
    timing: bool = True,
) -> pa.Plan:
    inner_node = inner or {
        "Node Type": "Index Scan",
        "Relation Name": "customers",
        "Alias": "c",
        "Index Name": "customers_pkey",
        "Index Cond": "(id = o.customer_id)",
    }
    inner_node = {
        "Parent Relationship": "Inner",
        "Total Cost": 8.4,
        "Plan Rows": 1,
        "Actual Total Time": inner_ms_per_loop,
        "Actual Rows": 1,
        "Actual Loops": loops,
        **inner_node,
    }
    inner_total = inner_ms_per_loop * loops
    root = {
        "Node Type": "Nested Loop",
        "Join Type": "Inner",
        "Total Cost": 5000.0,
        "Plan Rows": outer_planned,
        "Actual Total Time": inner_total + 5,
        "Actual Rows": loops,
        "Actual Loops": 1,
        "Plans": [
            {
                "Node Type": "Seq Scan",
                "Parent Relationship": "Outer",
                "Relation Name": "orders",
                "Alias": "o",
                "Total Cost": 100.0,
                "Plan Rows": outer_planned,
                "Actual Total Time": 4.0,
                "Actual Rows": loops,
                "Actual Loops": 1,
            },
            inner_node,
        ],
    }
    if not timing:
        for node in (root, *root["Plans"]):
            node.pop("Actual Total Time")
    doc: dict[str, Any] = {"Plan": root}
    if timing:
        doc["Execution Time"] = total_ms if total_ms is not None else inner_total + 6
    return pa.parse(doc)


def test_underestimated_outer_side_links_the_misestimate_origin() -> None:
    plan = pa.load(PLANS / "fires--underestimated-outer.json")
    (finding,) = assert_fires(plan, RULE)
    loop = plan.node(finding.node_id)
    assert loop.node_type == "Nested Loop"
    outer, inner = loop.children
    ev = finding.evidence
    assert ev["inner_loops"] == inner.actual_loops >= 1000
    assert ev["inner_time_ms"] == inner.inclusive_time_ms
    # the loop's time is its own (the Join Filter runs there) plus its inner side's
    assert (
        ev["loop_time_ms"] == finding.impact_ms == inner.inclusive_time_ms + loop.exclusive_time_ms
    )
    assert ev["loop_time_share_ratio"] == finding.impact_ms / plan.execution_time_ms
    assert ev["outer_rows_total"] == outer.actual_rows * outer.actual_loops
    assert ev["outer_underestimated"] is True
    # the misestimate starts at the customers scan under the Gather, not at the Gather
    origin = plan.node(ev["misestimate_node_id"])
    assert (origin.node_type, origin.relation_name) == ("Seq Scan", "customers")
    assert finding.related_node_ids == (origin.id, inner.id)
    # and row-misestimate reports exactly that node, so Report.causes links the two findings
    report = pa.analyze(plan)
    causes = {(f.rule, f.node_id) for f in report.causes(finding)}
    assert ("row-misestimate", origin.id) in causes
    assert ("seq-scan", inner.id) in causes
    floor = ev["loop_time_share_floor_ratio"]
    assert floor <= ev["loop_time_share_ratio"]
    assert finding.severity is (pa.Severity.CRITICAL if floor >= 0.9 else pa.Severity.WARNING)
    assert "CREATE INDEX ON stores (city)" in finding.suggestion
    assert "enable_nestloop = off" in finding.suggestion
    assert "not a fix" in finding.suggestion


def test_primary_key_lookup_join_is_quiet() -> None:
    assert_quiet(pa.load(PLANS / "quiet--pk-lookup-join.json"), RULE, min_severity=pa.Severity.INFO)


def test_memoized_lookups_with_a_right_outer_estimate_are_only_info() -> None:
    plan = pa.load(FIXTURES / "memoize-low-hit-rate" / "fires--distinct-keys.json")
    (finding,) = assert_fires(plan, RULE)
    assert finding.severity is pa.Severity.INFO
    assert finding.evidence["outer_underestimated"] is False
    assert finding.evidence["misestimate_node_id"] is None


def test_well_estimated_index_lookups_are_info_but_underestimated_ones_warn() -> None:
    (finding,) = assert_fires(_loop(), RULE)
    assert finding.severity is pa.Severity.INFO
    assert finding.evidence["inner_rows_touched_per_loop_rows"] == 1
    # outer side planned at 10 rows, returned 5,000; inner side 100 ms of 200 ms (50 %)
    (finding,) = assert_fires(_loop(outer_planned=10, total_ms=200), RULE)
    assert finding.severity is pa.Severity.WARNING
    assert finding.evidence["misestimate_node_id"] == 1
    loop_ms = finding.evidence["loop_time_ms"]
    assert finding.evidence["loop_time_share_ratio"] == loop_ms / 200
    assert loop_ms >= 5000 * 0.02  # at least the inner side's 100 ms
    # the same at 100 ms of 106 ms: over the 90 % band
    (finding,) = assert_fires(_loop(outer_planned=10), RULE)
    assert finding.severity is pa.Severity.CRITICAL


def test_too_few_loops_or_too_little_time_is_quiet() -> None:
    assert_quiet(_loop(loops=500, outer_planned=1), RULE, min_severity=pa.Severity.INFO)
    # inner side 100 ms of a 1 s statement: 10 %, under the 40 % band
    assert_quiet(_loop(outer_planned=1, total_ms=1000), RULE, min_severity=pa.Severity.INFO)


def test_timing_off_is_quiet() -> None:
    assert_quiet(_loop(outer_planned=1, timing=False), RULE, min_severity=pa.Severity.INFO)


def test_seq_scan_inner_side_gets_an_index_on_its_join_key() -> None:
    inner = {
        "Node Type": "Seq Scan",
        "Relation Name": "payments",
        "Alias": "p",
        "Filter": "((p.order_id = o.id) AND (p.kind = 'card'::text))",
        "Rows Removed by Filter": 20000,
    }
    plan = _loop(loops=2000, inner_ms_per_loop=1.0, outer_planned=20, inner=inner)
    (finding,) = assert_fires(plan, RULE)
    assert "CREATE INDEX ON payments (order_id, kind)" in finding.suggestion
    assert finding.evidence["inner_join_key_columns"] == ["p.order_id"]
    assert finding.severity is pa.Severity.CRITICAL
