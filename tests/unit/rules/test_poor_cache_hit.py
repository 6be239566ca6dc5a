"""poor-cache-hit: nodes (or the statement) reading many blocks from outside shared buffers."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "poor-cache-hit"
RULE = "poor-cache-hit"


def _scan(*, hit: int, read: int, scan_ms: float, io_ms: float | None, total_ms: float = 100.0):
    scan = {
        "Node Type": "Seq Scan",
        "Relation Name": "big",
        "Total Cost": 10.0,
        "Plan Rows": 10,
        "Actual Total Time": scan_ms,
        "Actual Rows": 10,
        "Actual Loops": 1,
        "Shared Hit Blocks": hit,
        "Shared Read Blocks": read,
    }
    if io_ms is not None:
        scan["I/O Read Time"] = io_ms
    return pa.parse({"Plan": scan, "Execution Time": total_ms})


def test_cold_seq_scan_fires_with_the_io_time() -> None:
    plan = pa.load(PLANS / "fires--cold-seq-scan.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.node_type == "Seq Scan"
    assert node.relation_name == "orders"
    ev = finding.evidence
    read = node.exclusive_shared_read_blocks
    hit = node.exclusive_shared_hit_blocks or 0
    assert ev["shared_read_blocks"] == read == 3704  # the whole table: the data is fixed
    assert ev["hit_ratio"] == hit / (hit + read)
    # the Seq Scan is a leaf, so its I/O time is its own
    io_ms = node.io_read_time_ms
    assert ev["io_read_time_ms"] == io_ms > 0
    assert ev["io_share_ratio"] == io_ms / plan.execution_time_ms
    assert ev["read_per_block_ms"] == io_ms / read
    assert finding.impact_ms == io_ms
    share = io_ms / plan.execution_time_ms
    assert finding.severity is (
        pa.Severity.CRITICAL
        if share >= 0.4
        else pa.Severity.WARNING
        if share >= 0.1
        else pa.Severity.INFO
    )
    assert "shared_buffers" in finding.suggestion
    assert "29 MB" in finding.message  # 3,704 x 8 kB


def test_warm_small_table_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--warm-small-table.json")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


@pytest.mark.parametrize(
    ("hit", "read", "scan_ms", "io_ms", "expected"),
    [
        (0, 500, 90.0, 80.0, None),  # fewer than 1,024 blocks: a small cold read
        (20_000, 1_500, 90.0, 80.0, None),  # 93 % hit ratio
        (0, 5_000, 5.0, 4.0, None),  # 5 % of the time
        (0, 5_000, 90.0, 5.0, pa.Severity.INFO),  # reads 5 % of the time
        (0, 5_000, 90.0, 20.0, pa.Severity.WARNING),
        (0, 5_000, 90.0, 60.0, pa.Severity.CRITICAL),
        (0, 5_000, 90.0, None, pa.Severity.INFO),  # no track_io_timing: by volume
        (0, 20_000, 90.0, None, pa.Severity.WARNING),
        (0, 200_000, 90.0, None, pa.Severity.CRITICAL),
    ],
)
def test_bands(hit, read, scan_ms, io_ms, expected) -> None:
    found = pa.analyze(_scan(hit=hit, read=read, scan_ms=scan_ms, io_ms=io_ms)).by_rule(RULE)
    assert [f.severity for f in found] == ([] if expected is None else [expected])


def test_storage_reads_suggest_a_rerun_and_prewarm() -> None:
    # 80 ms for 400 blocks = 0.2 ms per block: storage, not the OS page cache
    cfg = pa.RuleConfig(poor_cache_hit={"min_read_blocks": 100})
    (finding,) = assert_fires(_scan(hit=0, read=400, scan_ms=90, io_ms=80), RULE, config=cfg)
    assert finding.evidence["read_per_block_ms"] == 80 / 400
    assert "storage" in finding.message
    assert "pg_prewarm" in finding.suggestion


def test_statement_level_when_no_single_node_qualifies() -> None:
    def scan(rel: str) -> dict:
        return {
            "Node Type": "Seq Scan", "Relation Name": rel, "Parent Relationship": "Member",
            "Total Cost": 1.0, "Plan Rows": 1, "Actual Total Time": 10.0, "Actual Rows": 1,
            "Actual Loops": 1, "Shared Hit Blocks": 0, "Shared Read Blocks": 900,
        }  # fmt: skip

    children = [scan(f"part_{i}") for i in range(12)]  # 12 x 900 = 10,800 blocks, each < 1,024
    plan = pa.parse(
        {
            "Plan": {
                "Node Type": "Append", "Total Cost": 12.0, "Plan Rows": 12,
                "Actual Total Time": 121.0, "Actual Rows": 12, "Actual Loops": 1,
                "Shared Hit Blocks": 0, "Shared Read Blocks": 10_800, "Plans": children,
            },
            "Execution Time": 122.0,
        }
    )  # fmt: skip
    (finding,) = assert_fires(plan, RULE)
    assert finding.node_id == plan.root.id
    assert finding.evidence["shared_read_blocks"] == 12 * 900
    assert finding.message.startswith("The statement read 10,800 blocks")
    assert finding.severity is pa.Severity.WARNING  # >= 10,000 blocks without I/O timing
