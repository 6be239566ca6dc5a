"""memoize-low-hit-rate: Memoize caches that mostly miss or run out of memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "memoize-low-hit-rate"
RULE = "memoize-low-hit-rate"


def _memoize(
    *, hits: int, misses: int, evictions: int = 0, overflows: int = 0, **keys: Any
) -> pa.Plan:
    lookups = hits + misses
    memoize = {
        "Node Type": "Memoize",
        "Parent Relationship": "Inner",
        "Cache Key": "o.customer_id",
        "Cache Mode": "logical",
        "Total Cost": 1.0,
        "Plan Rows": 1,
        "Actual Total Time": 0.002,
        "Actual Rows": 1,
        "Actual Loops": lookups,
        "Cache Hits": hits,
        "Cache Misses": misses,
        "Cache Evictions": evictions,
        "Cache Overflows": overflows,
        **keys,
        "Plans": [
            {
                "Node Type": "Index Scan",
                "Parent Relationship": "Outer",
                "Relation Name": "customers",
                "Alias": "c",
                "Index Cond": "(id = o.customer_id)",
                "Total Cost": 0.9,
                "Plan Rows": 1,
                "Actual Total Time": 0.001,
                "Actual Rows": 1,
                "Actual Loops": misses,
            }
        ],
    }
    root = {
        "Node Type": "Nested Loop",
        "Total Cost": 1500.0,
        "Plan Rows": lookups,
        "Actual Total Time": 60.0,
        "Actual Rows": lookups,
        "Actual Loops": 1,
        "Plans": [
            {
                "Node Type": "Seq Scan",
                "Parent Relationship": "Outer",
                "Relation Name": "orders",
                "Alias": "o",
                "Total Cost": 800.0,
                "Plan Rows": lookups,
                "Actual Total Time": 5.0,
                "Actual Rows": lookups,
                "Actual Loops": 1,
            },
            memoize,
        ],
    }
    return pa.parse({"Plan": root, "Execution Time": 61.0})


def test_distinct_keys_make_every_lookup_miss() -> None:
    plan = pa.load(PLANS / "fires--distinct-keys.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.node_type == "Memoize"
    ev = finding.evidence
    assert ev["cache_lookups"] == node.cache_hits + node.cache_misses == 20000
    assert ev["hit_ratio"] == node.cache_hits / (node.cache_hits + node.cache_misses) == 0
    assert finding.impact_ms == node.exclusive_time_ms
    assert finding.severity is pa.Severity.WARNING
    assert "served 0 of 20,000 lookups" in finding.message
    # the key o.customer_id comes from orders: that is the table to ANALYZE
    assert "ANALYZE orders" in finding.suggestion
    assert "n_distinct" in finding.suggestion
    assert "work_mem" not in finding.suggestion  # no eviction: memory is not the problem


def test_repeated_lookup_keys_are_quiet() -> None:
    plan = pa.load(PLANS / "quiet--lookup-keys.json")
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_evictions_with_a_good_hit_rate_are_info_about_memory() -> None:
    plan = _memoize(hits=8000, misses=2000, evictions=1500)
    (finding,) = assert_fires(plan, RULE)
    assert finding.severity is pa.Severity.INFO
    assert finding.evidence["hit_ratio"] == 8000 / 10000
    assert "work_mem" in finding.suggestion
    assert "hash_mem_multiplier" in finding.suggestion


def test_low_hit_rate_and_evictions_give_both_remedies() -> None:
    plan = _memoize(hits=1000, misses=9000, evictions=8000)
    (finding,) = assert_fires(plan, RULE)
    assert finding.severity is pa.Severity.WARNING
    assert "ANALYZE orders" in finding.suggestion
    assert "work_mem" in finding.suggestion


def test_few_lookups_are_quiet() -> None:
    assert_quiet(_memoize(hits=0, misses=500), RULE, min_severity=pa.Severity.INFO)


def test_parallel_workers_caches_are_added_up() -> None:
    workers = [
        {"Worker Number": 0, "Cache Hits": 0, "Cache Misses": 3000},
        {"Worker Number": 1, "Cache Hits": 100, "Cache Misses": 2900},
    ]
    plan = _memoize(hits=0, misses=500, Workers=workers)
    (finding,) = assert_fires(plan, RULE)
    assert finding.evidence["cache_lookups"] == 500 + 3000 + 100 + 2900
    assert finding.evidence["cache_hits"] == 100


def test_planner_expectation_is_quoted_when_printed() -> None:
    plan = _memoize(hits=100, misses=9900, **{"Estimated Hit Percent": 75.0})
    (finding,) = assert_fires(plan, RULE)
    assert finding.evidence["expected_hit_ratio"] == 0.75
    assert "where the planner expected 75%" in finding.message
