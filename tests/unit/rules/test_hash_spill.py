"""hash-spill: multi-batch Hash nodes and spilled hash aggregates, with the work_mem that fits."""

from __future__ import annotations

from pathlib import Path

import planalyzer as pa
from tests.unit.plan.builders import corpus_path
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "hash-spill"
RULE = "hash-spill"


def _load(name: str) -> pa.Plan:
    return pa.load(PLANS / f"{name}.json")


def _hash_join(*, batches: int, original: int, peak_kb: int, planned_rows: int) -> dict:
    return {
        "Plan": {
            "Node Type": "Hash Join",
            "Join Type": "Inner",
            "Total Cost": 100.0,
            "Plan Rows": 1000,
            "Actual Total Time": 500.0,
            "Actual Rows": 1000,
            "Actual Loops": 1,
            "Hash Cond": "(a.id = b.a_id)",
            "Plans": [
                {
                    "Node Type": "Seq Scan",
                    "Parent Relationship": "Outer",
                    "Relation Name": "a",
                    "Total Cost": 10.0,
                    "Plan Rows": 1000,
                    "Actual Total Time": 50.0,
                    "Actual Rows": 1000,
                    "Actual Loops": 1,
                },
                {
                    "Node Type": "Hash",
                    "Parent Relationship": "Inner",
                    "Total Cost": 20.0,
                    "Plan Rows": planned_rows,
                    "Actual Total Time": 300.0,
                    "Actual Rows": 200_000,
                    "Actual Loops": 1,
                    "Hash Batches": batches,
                    "Original Hash Batches": original,
                    "Peak Memory Usage": peak_kb,
                    "Plans": [
                        {
                            "Node Type": "Seq Scan",
                            "Parent Relationship": "Outer",
                            "Relation Name": "b",
                            "Total Cost": 20.0,
                            "Plan Rows": planned_rows,
                            "Actual Total Time": 100.0,
                            "Actual Rows": 200_000,
                            "Actual Loops": 1,
                        }
                    ],
                },
            ],
        },
        "Execution Time": 510.0,
    }


def test_hash_join_batches_fires_on_the_hash_with_the_work_mem_that_fits() -> None:
    plan = _load("fires--hash-join-batches")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    join = node.parent
    assert node.node_type == "Hash"
    assert join is not None
    assert join.node_type == "Hash Join"
    ev = finding.evidence
    assert ev["hash_batches"] == node.hash_batches == 128
    assert ev["needed_memory_kb"] == node.peak_memory_usage_kb * node.hash_batches  # 78 x 128
    # 9,984 kB of hash table / hash_mem_multiplier 2.0 (PG15 default) = 4,992 kB -> 8 MB
    assert ev["hash_mem_multiplier_ratio"] == 2.0
    assert ev["suggested_work_mem_kb"] == 8 * 1024
    assert ev["work_mem_setting"] == "64kB"
    assert ev["batches_grew_at_run_time"] is False
    # impact: the Hash's and the Hash Join's own time, the nodes doing the batched work
    assert finding.impact_ms == node.exclusive_time_ms + join.exclusive_time_ms
    assert ev["time_share_ratio"] == finding.impact_ms / plan.execution_time_ms
    assert finding.severity is pa.Severity.CRITICAL  # > 40 % of the statement
    assert join.id in finding.related_node_ids
    assert "128 batches" in finding.message
    assert "SET LOCAL work_mem = '8MB'" in finding.suggestion


def test_hashagg_disk_fires_with_peak_plus_twice_the_disk_usage() -> None:
    plan = _load("fires--hashagg-disk")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.node_type == "Aggregate"
    assert node.strategy == "Hashed"
    ev = finding.evidence
    assert ev["disk_usage_kb"] == node.disk_usage_kb
    assert ev["hashagg_batches"] == node.hashagg_batches
    # 537 + 2 x 7,144 = 14,825 kB (below 537 x 81), / 2.0 = 7,412 kB -> 8 MB; PostgreSQL 15
    # measured 14,353 kB for this aggregate in memory.
    needed = node.peak_memory_usage_kb + 2 * node.disk_usage_kb
    assert needed < node.peak_memory_usage_kb * node.hashagg_batches
    assert ev["needed_memory_kb"] == needed
    assert ev["suggested_work_mem_kb"] == 8 * 1024
    assert finding.impact_ms == node.exclusive_time_ms
    assert finding.severity is pa.Severity.CRITICAL


def test_single_batch_hash_is_quiet() -> None:
    plan = _load("quiet--single-batch")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


def test_batches_grown_at_run_time_link_to_the_underestimated_input() -> None:
    plan = pa.parse(_hash_join(batches=32, original=1, peak_kb=4000, planned_rows=1000))
    (finding,) = assert_fires(plan, RULE)
    hash_node = plan.find(node_type="Hash")[0]
    source = plan.find(node_type="Seq Scan", relation="b")[0]
    assert finding.node_id == hash_node.id
    assert finding.evidence["batches_grew_at_run_time"] is True
    assert source.id in finding.related_node_ids
    assert "expected 1,000 rows" in finding.message
    # 4,000 kB x 32 batches = 128,000 kB / 2.0 = 64,000 kB = 62.5 MB -> 64 MB
    assert finding.evidence["suggested_work_mem_kb"] == 64 * 1024


def test_hash_mem_multiplier_from_settings_and_from_the_server_version() -> None:
    doc = _hash_join(batches=4, original=4, peak_kb=3000, planned_rows=200_000)
    # 3,000 x 4 = 12,000 kB; with multiplier 1.0 -> 11.7 MB -> 16 MB; with 2.0 -> 8 MB
    pg14 = pa.parse(doc, server_version=140010)
    assert assert_fires(pg14, RULE)[0].evidence["suggested_work_mem_kb"] == 16 * 1024
    pg15 = pa.parse(doc, server_version=150004)
    assert assert_fires(pg15, RULE)[0].evidence["suggested_work_mem_kb"] == 8 * 1024
    doc["Settings"] = {"hash_mem_multiplier": "4"}
    four = pa.parse(doc, server_version=140010)
    found = assert_fires(four, RULE)[0]
    assert found.evidence["hash_mem_multiplier_ratio"] == 4.0
    assert found.evidence["suggested_work_mem_kb"] == 4 * 1024  # 12,000 / 4 = 2.9 MB -> 4 MB


def test_small_multi_batch_hash_is_below_min_spill() -> None:
    plan = pa.parse(_hash_join(batches=2, original=2, peak_kb=400, planned_rows=200_000))
    assert pa.analyze(plan).by_rule(RULE) == []  # 800 kB < 1,024 kB
    cfg = pa.RuleConfig(hash_spill={"min_spill_kb": 512})
    assert_fires(plan, RULE, config=cfg)


def test_parallel_hashagg_counts_the_workers_spills() -> None:
    doc = {
        "Plan": {
            "Node Type": "Aggregate",
            "Strategy": "Hashed",
            "Partial Mode": "Partial",
            "Total Cost": 10.0,
            "Plan Rows": 10,
            "Actual Total Time": 90.0,
            "Actual Rows": 50_000,
            "Actual Loops": 3,
            "Group Key": ["k"],
            "Planned Partitions": 4,
            "HashAgg Batches": 1,
            "Peak Memory Usage": 100,
            "Disk Usage": 0,
            "Workers": [
                {"Worker Number": 0, "Actual Loops": 1, "HashAgg Batches": 5,
                 "Peak Memory Usage": 1000, "Disk Usage": 3000},
                {"Worker Number": 1, "Actual Loops": 1, "HashAgg Batches": 9,
                 "Peak Memory Usage": 2000, "Disk Usage": 5000},
            ],
        },
        "Execution Time": 100.0,
    }  # fmt: skip
    (finding,) = assert_fires(pa.parse(doc), RULE)
    assert finding.evidence["disk_usage_kb"] == 3000 + 5000
    assert finding.evidence["worker_count"] == 2
    # the largest process decides: min(2,000 + 2 x 5,000, 2,000 x 9) = 12,000 kB / 2 -> 8 MB
    assert finding.evidence["needed_memory_kb"] == 12_000
    assert finding.evidence["suggested_work_mem_kb"] == 8 * 1024


def test_needs_analyze() -> None:
    plan = pa.parse({"Plan": {"Node Type": "Hash", "Total Cost": 1.0, "Hash Batches": 64}})
    report = pa.analyze(plan)
    assert report.by_rule(RULE) == []
    assert report.rules_skipped[RULE] == "needs EXPLAIN ANALYZE"


def test_corpus_grouping_sets_spill_names_the_misestimate() -> None:
    plan = pa.load(corpus_path("pganalyze_collector/groupingset_hashagg.json"))
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.strategy == "Mixed"
    assert node.planned_partitions == 0
    assert "grouping sets" in finding.message
    assert f"expected {node.plan_rows:,} groups" in finding.message
