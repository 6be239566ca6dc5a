"""lossy-bitmap: Bitmap Heap Scans that went lossy, with the work_mem for an exact bitmap."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "lossy-bitmap"
RULE = "lossy-bitmap"


def _bitmap(*, exact: int, lossy: int, loops: int = 1, node_ms: float = 50.0) -> dict:
    return {
        "Plan": {
            "Node Type": "Bitmap Heap Scan",
            "Relation Name": "t",
            "Total Cost": 100.0,
            "Plan Rows": 10,
            "Actual Total Time": node_ms,
            "Actual Rows": 100,
            "Actual Loops": loops,
            "Rows Removed by Index Recheck": 900,
            "Exact Heap Blocks": exact,
            "Lossy Heap Blocks": lossy,
            "Plans": [
                {
                    "Node Type": "Bitmap Index Scan",
                    "Index Name": "t_idx",
                    "Total Cost": 10.0,
                    "Plan Rows": 10,
                    "Actual Total Time": 1.0,
                    "Actual Rows": 100,
                    "Actual Loops": loops,
                }
            ],
        },
        "Execution Time": 100.0,
    }


def test_lossy_heap_blocks_fire_with_the_exact_bitmap_size() -> None:
    plan = pa.load(PLANS / "fires--lossy-heap-blocks.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.node_type == "Bitmap Heap Scan"
    assert node.relation_name == "orders"
    ev = finding.evidence
    lossy, exact = node.lossy_heap_blocks, node.exact_heap_blocks
    assert ev["lossy_heap_blocks"] == lossy > 0
    assert ev["exact_heap_blocks"] == exact
    # 64 bytes per page (tidbitmap.c): (exact + lossy) x 64; PG15 went exact at 200kB here
    assert ev["needed_bitmap_bytes"] == (exact + lossy) * 64
    assert ev["suggested_work_mem_kb"] >= ev["needed_bitmap_bytes"] / 1024
    assert ev["lossy_ratio"] == lossy / (exact + lossy)
    removed = node.rows_removed_by_index_recheck_total
    assert ev["removed_by_recheck_rows"] == removed
    # every tuple on a lossy page is rechecked: the lossy share of the scan's own time
    assert finding.impact_ms == pytest.approx(node.exclusive_time_ms * lossy / (exact + lossy))
    share = finding.impact_ms / plan.total_time_ms
    expected = (
        pa.Severity.CRITICAL if share >= 0.4 else pa.Severity.WARNING if share >= 0.1 else None
    )
    assert finding.severity is (expected or pa.Severity.INFO)
    assert f"{lossy:,} of {exact + lossy:,} heap pages" in finding.message


def test_mostly_lossy_bitmap_is_a_warning_even_when_the_recheck_removes_few_rows() -> None:
    # 70 % of the pages lossy, the scan most of the statement, the recheck removing 1 % of
    # the rows: the cost is rechecking every tuple on the lossy pages, not the rows removed.
    doc = _bitmap(exact=3_000, lossy=7_000, node_ms=90.0)
    doc["Plan"]["Rows Removed by Index Recheck"] = 100
    doc["Plan"]["Actual Rows"] = 10_000
    (finding,) = assert_fires(pa.parse(doc), RULE)
    assert finding.severity >= pa.Severity.WARNING
    assert finding.evidence["lossy_ratio"] == pytest.approx(0.7)


def test_exact_bitmap_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--exact-bitmap.json")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


def test_large_bitmap_rounds_up_to_a_power_of_two_mb() -> None:
    # 40,000 pages x 64 B = 2.44 MB -> 4 MB
    (finding,) = assert_fires(pa.parse(_bitmap(exact=10_000, lossy=30_000)), RULE)
    assert finding.evidence["suggested_work_mem_kb"] == 4 * 1024


def test_rescanned_bitmap_sizes_one_loop() -> None:
    # Block counters are totals over 10 loops; one bitmap holds 40,000 / 10 pages -> 1 MB.
    (finding,) = assert_fires(pa.parse(_bitmap(exact=10_000, lossy=30_000, loops=10)), RULE)
    assert finding.evidence["needed_bitmap_bytes"] == 40_000 / 10 * 64
    assert finding.evidence["suggested_work_mem_kb"] == 1024


def test_severity_follows_the_time_share() -> None:
    # The time on lossy pages is the scan's own time x the lossy share of its pages (75 %):
    # 89 ms x 0.75 = 67 % of 100 ms -> critical; 24 ms x 0.75 = 18 % -> warning; 4 ms -> info
    doc = _bitmap(exact=100, lossy=300, node_ms=90.0)
    assert assert_fires(pa.parse(doc), RULE)[0].severity is pa.Severity.CRITICAL
    doc["Plan"]["Actual Total Time"] = 25.0
    assert assert_fires(pa.parse(doc), RULE)[0].severity is pa.Severity.WARNING
    doc["Plan"]["Actual Total Time"] = 5.0
    quiet = pa.parse(doc)
    assert assert_fires(quiet, RULE)[0].severity is pa.Severity.INFO
    assert_quiet(quiet, RULE)


def test_min_lossy_blocks_threshold() -> None:
    plan = pa.parse(_bitmap(exact=100, lossy=30))
    assert_fires(plan, RULE)
    assert not pa.analyze(
        plan, config=pa.RuleConfig(lossy_bitmap={"min_lossy_blocks": 31})
    ).by_rule(RULE)
