"""sort-spill: sorts that went to disk, with the work_mem that would have fitted."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "sort-spill"
RULE = "sort-spill"


def _sort(*, space_kb: int, method: str = "external merge", sort_ms: float = 80.0) -> pa.Plan:
    return pa.parse(
        {
            "Plan": {
                "Node Type": "Sort",
                "Total Cost": 10.0,
                "Plan Rows": 1000,
                "Actual Total Time": sort_ms,
                "Actual Rows": 1000,
                "Actual Loops": 1,
                "Sort Key": ["t.a", "t.b DESC"],
                "Sort Method": method,
                "Sort Space Used": space_kb,
                "Sort Space Type": "Disk" if method.startswith("external") else "Memory",
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "t",
                        "Total Cost": 5.0,
                        "Plan Rows": 1000,
                        "Actual Total Time": 10.0,
                        "Actual Rows": 1000,
                        "Actual Loops": 1,
                    }
                ],
            },
            "Execution Time": 100.0,
        }
    )


def test_parallel_external_merge_uses_the_largest_process_spill() -> None:
    plan = pa.load(PLANS / "fires--external-merge.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.node_type == "Sort"
    assert node.sort_space_type == "Disk"
    ev = finding.evidence
    workers = [float(w.extra["Sort Space Used"]) for w in node.workers]
    assert ev["worker_spill_kb"] == workers == [10800.0, 5648.0]
    # each process has its own work_mem: the largest spill (worker 0) decides
    assert ev["spill_kb"] == max(node.sort_space_used_kb, *workers) == 10800
    # 10,800 kB x 2 = 21,600 kB = 21.1 MB -> 32 MB
    assert ev["suggested_work_mem_kb"] == 32 * 1024
    assert ev["work_mem_setting"] == "64kB"
    assert "SET LOCAL work_mem = '32MB'" in finding.suggestion
    assert "amount_cents" in finding.message


def test_parallel_sort_time_is_within_the_statement() -> None:
    """A Workers array with only sort figures must not make the Sort look single-process."""
    plan = pa.load(PLANS / "fires--external-merge.json")
    sort = plan.find(node_type="Sort")[0]
    assert sort.exclusive_time_ms <= plan.execution_time_ms


@pytest.mark.parametrize("name", ["quiet--in-memory", "quiet--external-merge--estimated"])
def test_quiet_fixtures(name: str) -> None:
    plan = pa.load(PLANS / f"{name}.json")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


def test_estimated_plan_is_skipped_not_guessed() -> None:
    report = pa.analyze(pa.load(PLANS / "quiet--external-merge--estimated.json"))
    assert report.rules_skipped[RULE] == "needs EXPLAIN ANALYZE"


def test_severity_and_size_from_a_hand_built_sort() -> None:
    (finding,) = assert_fires(_sort(space_kb=3000), RULE)
    # self time 70 of 100 ms >= 40 % -> critical; 3,000 x 2 = 5.9 MB -> 8 MB
    assert finding.severity is pa.Severity.CRITICAL
    assert finding.evidence["suggested_work_mem_kb"] == 8 * 1024
    assert finding.impact_ms == 80.0 - 10.0
    light = _sort(space_kb=3000, sort_ms=30.0)  # 20 % of the time
    assert assert_fires(light, RULE)[0].severity is pa.Severity.WARNING


def test_small_and_in_memory_sorts_are_quiet() -> None:
    assert not pa.analyze(_sort(space_kb=500)).by_rule(RULE)  # < min_spill_kb 1,024
    assert not pa.analyze(_sort(space_kb=50_000, method="quicksort")).by_rule(RULE)
