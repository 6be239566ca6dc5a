"""jit-overhead: JIT compile time a large share of the execution time."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet
from tests.unit.rules.test_corpus_no_crash import corpus_plans

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "jit-overhead"
RULE = "jit-overhead"


def _plan(
    *, jit_ms: float, execution_ms: float, cost: float = 150_000.0, settings: dict | None = None
) -> pa.Plan:
    doc = {
        "Plan": {
            "Node Type": "Seq Scan",
            "Relation Name": "t",
            "Total Cost": cost,
            "Plan Rows": 1_000_000,
            "Actual Total Time": execution_ms - 1,
            "Actual Rows": 100,
            "Actual Loops": 1,
        },
        "JIT": {
            "Functions": 3,
            "Options": {"Inlining": False, "Optimization": False},
            "Timing": {"Generation": 1.0, "Inlining": 0.0, "Optimization": 0.0,
                       "Emission": jit_ms - 1.0, "Total": jit_ms},
        },
        "Execution Time": execution_ms,
    }  # fmt: skip
    if settings is not None:
        doc["Settings"] = settings
    return pa.parse(doc)


def test_jit_on_fast_query_is_critical_and_blames_the_lowered_setting() -> None:
    plan = pa.load(PLANS / "fires--jit-on-fast-query.json")
    (finding,) = assert_fires(plan, RULE)
    assert finding.node_id is None  # statement-level: JIT compiles for the whole plan
    ev = finding.evidence
    jit_ms = plan.jit.total_ms
    assert ev["jit_ms"] == jit_ms > 0
    assert ev["jit_share_ratio"] == jit_ms / plan.execution_time_ms
    timing = plan.jit.timing
    assert ev["inlining_optimization_ms"] == pytest.approx(
        timing["Inlining"] + timing["Optimization"]
    )
    assert ev["plan_total_cost"] == plan.root.total_cost
    assert ev["jit_above_cost"] == 0.0  # from the plan's Settings
    assert finding.impact_ms == jit_ms
    share = jit_ms / plan.execution_time_ms
    assert finding.severity is (pa.Severity.CRITICAL if share >= 0.5 else pa.Severity.WARNING)
    assert "jit_above_cost = 0" in finding.suggestion
    assert f"{plan.jit.functions} functions" in finding.message
    assert f"{share * 100:.3g} %" in finding.message


def test_jit_off_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--jit-off.json")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


@pytest.mark.parametrize(
    ("jit_ms", "execution_ms", "expected"),
    [
        (5.0, 20.0, None),  # below min_jit_ms 10
        (12.0, 200.0, None),  # 6 % < 10 %
        (30.0, 200.0, pa.Severity.WARNING),  # 15 %
        (120.0, 200.0, pa.Severity.CRITICAL),  # 60 %
    ],
)
def test_bands(jit_ms: float, execution_ms: float, expected: pa.Severity | None) -> None:
    found = pa.analyze(_plan(jit_ms=jit_ms, execution_ms=execution_ms)).by_rule(RULE)
    assert [f.severity for f in found] == ([] if expected is None else [expected])


def test_default_settings_suggest_raising_jit_above_cost_and_name_an_overestimate() -> None:
    plan = _plan(jit_ms=60.0, execution_ms=100.0)
    (finding,) = assert_fires(plan, RULE)
    root = plan.root  # planned 1,000,000 rows, returned 100: a 10,000x overestimate
    assert finding.evidence["jit_above_cost"] == 100_000.0
    assert finding.evidence["overestimated_node_id"] == root.id
    assert finding.related_node_ids == (root.id,)
    assert "SET jit = off" in finding.suggestion
    assert "estimated at 1,000,000 rows but returned 100" in finding.suggestion


def test_corpus_small_jit_on_long_query_is_quiet() -> None:
    (plan,) = corpus_plans("pganalyze_collector/jit.json")
    assert plan.jit is not None
    assert plan.jit.total_ms < 10
    assert pa.analyze(plan).by_rule(RULE) == []
