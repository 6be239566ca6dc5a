"""slow-trigger: triggers, foreign-key ones above all, taking much of the execution time."""

from __future__ import annotations

from pathlib import Path

import planalyzer as pa
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet
from tests.unit.rules.test_corpus_no_crash import corpus_plans

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "slow-trigger"
RULE = "slow-trigger"


def _plan(*triggers: dict, execution_ms: float = 100.0) -> pa.Plan:
    return pa.parse(
        {
            "Plan": {
                "Node Type": "ModifyTable",
                "Operation": "Insert",
                "Relation Name": "t",
                "Total Cost": 1.0,
                "Plan Rows": 1,
                "Actual Total Time": 1.0,
                "Actual Rows": 0,
                "Actual Loops": 1,
            },
            "Triggers": list(triggers),
            "Execution Time": execution_ms,
        }
    )


def test_fk_without_index_names_the_referencing_column() -> None:
    plan = pa.load(PLANS / "fires--fk-without-index.json")
    (finding,) = assert_fires(plan, RULE)
    (trigger,) = plan.triggers
    assert finding.node_id is None  # statement-level: triggers run after the nodes
    ev = finding.evidence
    assert ev["trigger_name"] == trigger.trigger_name == "RI_ConstraintTrigger_a_16406"
    assert ev["relation"] == "customers"  # the referenced table the DELETE ran on
    assert ev["trigger_share_ratio"] == trigger.time_ms / plan.execution_time_ms
    assert ev["per_call_ms"] == trigger.time_ms / trigger.calls  # 274 ms / 20 calls
    assert finding.impact_ms == trigger.time_ms
    assert finding.severity is pa.Severity.CRITICAL
    # orders_customer_id_fkey, PostgreSQL's default <table>_<column>_fkey name
    assert "CREATE INDEX CONCURRENTLY ON orders (customer_id)" in finding.suggestion
    assert "conname = 'orders_customer_id_fkey'" in finding.suggestion
    assert "orders_customer_id_fkey" in finding.message


def test_fk_indexed_is_quiet() -> None:
    plan = pa.load(PLANS / "quiet--fk-indexed.json")
    assert_quiet(plan, RULE)
    assert pa.analyze(plan).by_rule(RULE) == []


def test_generic_trigger_and_bands() -> None:
    slow = {"Trigger Name": "audit", "Relation": "t", "Time": 30.0, "Calls": 10}
    fine = {"Trigger Name": "small", "Relation": "t", "Time": 5.0, "Calls": 10}
    (finding,) = assert_fires(_plan(slow, fine), RULE)  # 5 ms < min_trigger_ms 10
    assert finding.evidence["trigger_name"] == "audit"
    assert finding.severity is pa.Severity.WARNING  # 30 % of 100 ms
    assert "Trigger audit on t" in finding.message
    assert "trigger function" in finding.suggestion
    heavy = {"Trigger Name": "audit", "Relation": "t", "Time": 45.0, "Calls": 10}
    assert assert_fires(_plan(heavy), RULE)[0].severity is pa.Severity.CRITICAL
    small_share = {"Trigger Name": "audit", "Relation": "t", "Time": 15.0, "Calls": 10}
    assert not pa.analyze(_plan(small_share, execution_ms=1000.0)).by_rule(RULE)  # 1.5 %


def test_cheap_calls_are_info_only() -> None:
    # 30 ms over 10,000 rows is 3 us per call: the row count is the cost, not the trigger
    cheap = {"Trigger Name": "audit", "Relation": "t", "Time": 30.0, "Calls": 10_000}
    plan = _plan(cheap)
    assert assert_fires(plan, RULE)[0].severity is pa.Severity.INFO
    assert_quiet(plan, RULE)


def test_fk_check_trigger_on_the_referencing_side() -> None:
    check = {
        "Trigger Name": "RI_ConstraintTrigger_c_123",
        "Constraint Name": "items_order_id_fkey",
        "Relation": "items",
        "Time": 60.0,
        "Calls": 100,
    }
    (finding,) = assert_fires(_plan(check), RULE)
    assert finding.message.startswith("Foreign-key check trigger for items_order_id_fkey")
    assert "CREATE INDEX" not in finding.suggestion


def test_corpus_row_triggers_are_info() -> None:
    (plan,) = corpus_plans("pg_store_plans/p01_insert_trigger.json")
    found = assert_fires(plan, RULE)
    assert {f.evidence["trigger_name"] for f in found} == {t.trigger_name for t in plan.triggers}
    assert all(f.severity is pa.Severity.INFO for f in found)  # ~2 us per call
