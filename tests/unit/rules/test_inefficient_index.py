"""inefficient-index: index scans whose filter wastes the fetch, index-only scans on the heap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "inefficient-index"
RULE = "inefficient-index"


def _scan(node_type: str, *, ms: float = 9.0, total_ms: float = 10.0, **keys: Any) -> pa.Plan:
    node: dict[str, Any] = {
        "Node Type": node_type,
        "Relation Name": "events",
        "Alias": "events",
        "Total Cost": 100.0,
        "Plan Rows": 100,
        "Actual Total Time": ms,
        "Actual Rows": 100,
        "Actual Loops": 1,
        **keys,
    }
    return pa.parse({"Plan": node, "Execution Time": total_ms})


def test_filter_after_index_suggests_the_multicolumn_index() -> None:
    plan = pa.load(PLANS / "fires--filter-after-index.json")
    # the fixture query takes 0.1 ms: judge the rule itself, without the report's 1 ms floor
    (finding,) = assert_fires(plan, RULE, config=pa.RuleConfig(min_warning_impact_ms=0))
    node = plan.node(finding.node_id)
    assert (node.node_type, node.index_name) == ("Index Scan", "events_account_id_created_at_idx")
    ev = finding.evidence
    assert ev["rows_removed_total"] == node.rows_removed_by_filter * node.actual_loops
    assert ev["rows_fetched_total"] == node.actual_rows + node.rows_removed_by_filter
    assert ev["removed_ratio"] == pytest.approx(
        node.rows_removed_by_filter / (node.actual_rows + node.rows_removed_by_filter)
    )
    assert finding.severity is pa.Severity.CRITICAL  # >= 90 % removed, most of the time
    assert "fetched 951 rows through the index to keep 20" in finding.message
    # index condition column, then the filter's equality column
    assert finding.suggestion.startswith("CREATE INDEX ON events (account_id, kind)")
    # the scan feeds a Limit in index order (ORDER BY created_at): keep those columns
    assert "ordering columns" in finding.suggestion


def test_index_only_scan_with_heap_fetches_suggests_vacuum() -> None:
    plan = pa.load(PLANS / "fires--index-only-heap-fetches.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.node_type == "Index Only Scan"
    ev = finding.evidence
    assert ev["heap_fetches"] == node.heap_fetches
    assert ev["heap_fetch_ratio"] == node.heap_fetches / (node.actual_rows * node.actual_loops)
    assert finding.severity is pa.Severity.CRITICAL  # >= 90 % of rows went to the heap
    assert finding.suggestion.startswith("VACUUM (ANALYZE) ledger;")
    assert "autovacuum" in finding.suggestion


def test_selective_index_scan_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--selective-index-scan.json")
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_bitmap_heap_scan_filter_uses_the_recheck_condition_columns() -> None:
    plan = _scan(
        "Bitmap Heap Scan",
        **{
            "Recheck Cond": "(account_id = 42)",
            "Filter": "((created_at > $1) AND (kind = 'refund'::text))",
            "Rows Removed by Filter": 1900,
        },
    )
    (finding,) = assert_fires(plan, RULE)
    assert finding.evidence["removed_ratio"] == 1900 / 2000
    assert "through the bitmap" in finding.message
    assert finding.suggestion.startswith("CREATE INDEX ON events (account_id, kind, created_at)")


def test_moderate_waste_is_a_warning_and_small_waste_is_quiet() -> None:
    plan = _scan(
        "Index Scan",
        **{"Index Cond": "(a = 1)", "Filter": "(b = 2)", "Rows Removed by Filter": 150},
    )
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)  # 150 rows wasted: too few
    plan = _scan(
        "Index Scan",
        **{
            "Index Cond": "(a = 1)",
            "Filter": "(b = 2)",
            "Rows Removed by Filter": 60,
            "Actual Loops": 20,
        },
    )
    # 60 x 20 loops = 1,200 rows wasted of 3,200 fetched: 37.5 %, under the 50 % band
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)
    plan = _scan(
        "Index Scan",
        **{
            "Index Cond": "(a = 1)",
            "Filter": "(b = 2)",
            "Rows Removed by Filter": 200,
            "Actual Loops": 20,
        },
    )
    (finding,) = assert_fires(plan, RULE)
    assert finding.evidence["rows_removed_total"] == 200 * 20
    assert finding.evidence["removed_ratio"] == pytest.approx(4000 / 6000)
    assert finding.severity is pa.Severity.WARNING  # between the 50 % and 90 % bands


def test_a_scan_that_is_a_small_part_of_the_time_is_info() -> None:
    plan = _scan(
        "Index Scan",
        ms=0.5,
        total_ms=100,
        **{"Index Cond": "(a = 1)", "Filter": "(b = 2)", "Rows Removed by Filter": 9000},
    )
    (finding,) = assert_fires(plan, RULE)
    assert finding.severity is pa.Severity.INFO


def test_index_only_scan_without_heap_fetches_is_quiet() -> None:
    plan = _scan(
        "Index Only Scan", **{"Index Cond": "(a > 1)", "Heap Fetches": 0, "Actual Rows": 50000}
    )
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)
    plan = _scan(
        "Index Only Scan", **{"Index Cond": "(a > 1)", "Heap Fetches": 5000, "Actual Rows": 50000}
    )
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)  # 10 %: under the 40 % band


def test_plans_without_analyze_skip_the_rule() -> None:
    plan = pa.parse(
        {
            "Plan": {
                "Node Type": "Index Scan",
                "Relation Name": "t",
                "Filter": "(b = 2)",
                "Plan Rows": 1,
            }
        }
    )
    assert pa.analyze(plan).rules_skipped[RULE] == "needs EXPLAIN ANALYZE"
