"""large-offset: a Limit whose input produced many rows it then discarded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "large-offset"
RULE = "large-offset"


def _limit_over_sort(*, returned: int, produced: int, limit_ms: float) -> pa.Plan:
    return pa.parse(
        {
            "Plan": {
                "Node Type": "Limit",
                "Total Cost": 10.0,
                "Plan Rows": returned,
                "Actual Total Time": limit_ms,
                "Actual Rows": returned,
                "Actual Loops": 1,
                "Plans": [
                    {
                        "Node Type": "Sort",
                        "Total Cost": 9.0,
                        "Plan Rows": 100_000,
                        "Actual Total Time": limit_ms - 0.1,
                        "Actual Rows": produced,
                        "Actual Loops": 1,
                        "Sort Key": ["created_at DESC", "id DESC"],
                        "Plans": [
                            {
                                "Node Type": "Seq Scan",
                                "Relation Name": "posts",
                                "Total Cost": 5.0,
                                "Plan Rows": 100_000,
                                "Actual Total Time": 1.0,
                                "Actual Rows": 100_000,
                                "Actual Loops": 1,
                            }
                        ],
                    }
                ],
            },
            "Execution Time": limit_ms + 0.5,
        }
    )


def test_offset_100000_fires_on_the_limit_and_names_the_index() -> None:
    plan = pa.load(PLANS / "fires--offset-100000.json")
    (finding,) = assert_fires(plan, RULE)
    limit = plan.node(finding.node_id)
    child = limit.children[0]
    assert limit.node_type == "Limit"
    ev = finding.evidence
    assert ev["discarded_rows"] == child.rows_total - limit.rows_total == 100_000
    assert ev["discarded_ratio"] == 100_000 / child.rows_total
    assert finding.impact_ms == limit.inclusive_time_ms * 100_000 / child.rows_total
    assert ev["index_name"] == "orders_pkey"
    assert finding.related_node_ids == (child.id,)
    assert finding.severity is pa.Severity.CRITICAL  # >= 100,000 rows, > 40 % of the time
    assert "keyset" in finding.suggestion
    assert "orders_pkey" in finding.suggestion


def test_small_offset_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--small-offset.json")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


def test_sort_key_becomes_the_keyset_condition() -> None:
    plan = _limit_over_sort(returned=20, produced=5020, limit_ms=30.0)
    (finding,) = assert_fires(plan, RULE)
    sort = plan.find(node_type="Sort")[0]
    assert finding.evidence["sort_key"] == ["created_at DESC", "id DESC"]
    assert finding.related_node_ids == (sort.id,)
    # descending order: the next page is below the last row seen
    assert "WHERE (created_at, id) < (<last row's values>)" in finding.suggestion
    assert finding.severity is pa.Severity.WARNING  # 5,000 rows < 100,000


def test_thresholds_rows_ratio_and_time() -> None:
    assert not pa.analyze(_limit_over_sort(returned=20, produced=900, limit_ms=30.0)).by_rule(
        RULE
    )  # 880 < 1,000 rows
    assert not pa.analyze(_limit_over_sort(returned=5000, produced=7000, limit_ms=30.0)).by_rule(
        RULE
    )  # 2,000 discarded is 29 % < 50 % of the input
    assert not pa.analyze(_limit_over_sort(returned=20, produced=5020, limit_ms=0.5)).by_rule(
        RULE
    )  # costs under 1 ms


def _plain_explain(path: Path) -> pa.Plan:
    """The fixture as plain EXPLAIN would print it: costs only."""
    document = json.loads(path.read_text())
    stack = [document[0]["Plan"]]
    while stack:
        node = stack.pop()
        for key in [k for k in node if k.startswith(("Actual", "Shared", "Local", "Temp", "I/O"))]:
            del node[key]
        stack.extend(node.get("Plans", []))
    document[0].pop("Execution Time", None)
    return pa.parse(document)


def test_planned_offset_is_found_from_costs_alone() -> None:
    plan = _plain_explain(PLANS / "fires--offset-100000.json")
    limit = plan.root
    child = limit.children[0]
    (finding,) = assert_fires(plan, RULE)
    assert finding.estimated
    # PostgreSQL charges the skipped rows to the Limit's startup cost, pro rata of its input
    offset = (
        (limit.startup_cost - child.startup_cost)
        / (child.total_cost - child.startup_cost)
        * child.plan_rows
    )
    assert offset == pytest.approx(100_000, rel=1e-3)
    assert finding.evidence["planned_offset_rows"] == pytest.approx(offset)
    assert finding.severity <= pa.Severity.WARNING
    assert_quiet(
        _plain_explain(PLANS / "quiet--small-offset.json"), RULE, min_severity=pa.Severity.INFO
    )


def test_read_ahead_of_parallel_workers_is_not_an_offset() -> None:
    """LIMIT without OFFSET over a Gather: workers queue more rows than the Limit takes."""
    gather = {"Node Type": "Gather", "Workers Planned": 2, "Workers Launched": 2,
              "Startup Cost": 1000.0, "Total Cost": 7000.0, "Plan Rows": 300_000,
              "Actual Total Time": 9.0, "Actual Rows": 5_000, "Actual Loops": 1}  # fmt: skip
    limit = {"Node Type": "Limit", "Startup Cost": 1000.0, "Total Cost": 1000.2,
             "Plan Rows": 10, "Actual Total Time": 9.1, "Actual Rows": 10, "Actual Loops": 1,
             "Plans": [gather]}  # fmt: skip
    plan = pa.parse({"Plan": limit, "Execution Time": 9.5})
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)
