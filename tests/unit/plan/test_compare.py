"""compare(): node matching, deltas, vanished/added nodes, text and HTML."""

from __future__ import annotations

from typing import Any

import pytest

import planalyzer as pa
from planalyzer.plan.compare import PlanDiff, compare
from tests.unit.display.html_check import assert_well_formed
from tests.unit.display.plans import deep_plan, fixture


def node(node_type: str, *, cost: float, ms: float | None = None, **keys: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Node Type": node_type, "Total Cost": cost, "Plan Rows": 10, **keys}
    if ms is not None:
        out.update({"Actual Total Time": ms, "Actual Rows": 10, "Actual Loops": 1})
    return out


def test_seq_scan_replaced_by_index_scan_is_one_changed_match():
    before = fixture("seq-scan/fires--filter-removes-most")
    after = fixture("seq-scan/quiet--primary-key-lookup")
    diff = compare(before, after)
    assert isinstance(diff, PlanDiff)
    assert len(diff.matches) == 1
    match = diff.matches[0]
    assert (match.before.node_type, match.after.node_type) == ("Seq Scan", "Index Scan")
    assert match.changed
    assert diff.changed == (match,)
    assert diff.vanished == diff.added == ()
    assert diff.measure == "time"
    assert match.delta == pytest.approx(
        after.root.inclusive_time_ms - before.root.inclusive_time_ms
    )
    assert diff.speedup == pytest.approx(before.execution_time_ms / after.execution_time_ms)
    assert match.rows_delta == after.root.rows_total - before.root.rows_total


def test_gather_vanishes_when_a_parallel_scan_becomes_an_index_scan():
    before = fixture("seq-scan/fires--parallel-filter-removes-most")
    after = fixture("seq-scan/quiet--primary-key-lookup")
    diff = compare(before, after)
    assert [n.node_type for n in diff.vanished] == ["Gather"]
    assert diff.added == ()
    (match,) = diff.matches
    assert match.before.display_name == "Parallel Seq Scan on orders"
    assert diff.match_after(0) is match
    assert diff.match_before(0) is None  # the Gather


def test_text_tells_the_seq_scan_to_index_scan_story():
    before = fixture("seq-scan/fires--filter-removes-most")
    after = fixture("seq-scan/quiet--primary-key-lookup")
    text = str(compare(before, after))
    speedup = before.execution_time_ms / after.execution_time_ms
    assert text.splitlines()[0] == (
        f"Plan comparison: time {before.execution_time_ms:.2f} ms → "
        f"{after.execution_time_ms:.3f} ms ({speedup:,.0f}× faster); "
        f"cost {before.root.total_cost:,.2f} → {after.root.total_cost:,.2f}."
    )
    assert "changed  #0 Seq Scan on orders  15.74 ms" in text
    assert "→ #0 Index Scan using orders_pkey on orders  0.018 ms" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_join_strategy_change_matches_the_join_and_both_scans():
    scans = [
        node("Seq Scan", cost=10, ms=5, **{"Relation Name": "orders", "Alias": "o"}),
        node("Seq Scan", cost=10, ms=5, **{"Relation Name": "customers", "Alias": "c"}),
    ]
    before = pa.parse(
        {"Plan": node("Hash Join", cost=50, ms=30, Plans=[scans[0], node(
            "Hash", cost=12, ms=6, Plans=[scans[1]])])}
    )  # fmt: skip
    after = pa.parse(
        {"Plan": node("Nested Loop", cost=40, ms=12, Plans=[scans[0], node(
            "Index Scan", cost=1, ms=1, **{"Relation Name": "customers", "Alias": "c",
                                          "Index Name": "customers_pkey"})])}
    )  # fmt: skip
    diff = compare(before, after)
    pairs = {(m.before.display_name, m.after.display_name) for m in diff.matches}
    assert ("Hash Join", "Nested Loop") in pairs
    assert ("Seq Scan on orders o", "Seq Scan on orders o") in pairs
    assert ("Seq Scan on customers c", "Index Scan using customers_pkey on customers c") in pairs
    assert [n.node_type for n in diff.vanished] == ["Hash"]
    assert diff.added == ()
    assert {m.before.node_type for m in diff.changed} == {"Hash Join", "Seq Scan"}
    assert diff.speedup == pytest.approx(30 / 12)


def test_self_join_scans_match_by_alias():
    def plan(first: str, second: str) -> pa.Plan:
        return pa.parse(
            {"Plan": node("Hash Join", cost=50, Plans=[
                node(first, cost=10, **{"Relation Name": "orders", "Alias": "a"}),
                node("Hash", cost=10, Plans=[
                    node(second, cost=10, **{"Relation Name": "orders", "Alias": "b"})])])}
        )  # fmt: skip

    diff = compare(plan("Seq Scan", "Seq Scan"), plan("Seq Scan", "Index Scan"))
    by_alias = {m.before.alias: m.after for m in diff.matches if m.before.alias}
    assert by_alias["a"].alias == "a"
    assert by_alias["b"].alias == "b"
    assert by_alias["b"].node_type == "Index Scan"
    assert diff.measure == "cost"  # neither plan was timed


def test_bitmap_scan_replacing_a_seq_scan_brings_a_new_index_node():
    before = pa.parse({"Plan": node("Seq Scan", cost=100, **{"Relation Name": "orders"})})
    after = pa.parse(
        {"Plan": node("Bitmap Heap Scan", cost=20, **{"Relation Name": "orders"}, Plans=[
            node("Bitmap Index Scan", cost=5, **{"Index Name": "orders_status_idx"})])}
    )  # fmt: skip
    diff = compare(before, after)
    assert [(m.before.node_type, m.after.node_type) for m in diff.matches] == [
        ("Seq Scan", "Bitmap Heap Scan")
    ]
    assert [n.node_type for n in diff.added] == ["Bitmap Index Scan"]
    assert [n.node_type for n in diff.added_scans] == ["Bitmap Index Scan"]
    assert diff.vanished_scans == ()
    text = str(diff)
    assert "added    #1 Bitmap Index Scan using orders_status_idx  cost 5.00" in text
    assert "(5.0× cheaper)" in text


def test_identical_plans_match_everything_unchanged():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    diff = compare(plan, plan)
    assert len(diff.matches) == len(plan.nodes())
    assert all(m.before is m.after and not m.changed for m in diff.matches)
    assert diff.vanished == diff.added == ()
    assert "(about the same)" in str(diff)


def test_scan_of_another_table_is_not_matched():
    before = pa.parse({"Plan": node("Seq Scan", cost=100, **{"Relation Name": "orders"})})
    after = pa.parse({"Plan": node("Seq Scan", cost=100, **{"Relation Name": "customers"})})
    diff = compare(before, after)
    assert diff.matches == ()
    assert [n.relation_name for n in diff.vanished_scans] == ["orders"]
    assert [n.relation_name for n in diff.added_scans] == ["customers"]


def test_deep_plans_compare_without_recursion():
    plan = deep_plan(3000)
    diff = compare(plan, plan)
    assert len(diff.matches) == len(plan.nodes())


def test_html_is_well_formed_and_shows_both_sides():
    before = fixture("seq-scan/fires--parallel-filter-removes-most")
    after = fixture("seq-scan/quiet--primary-key-lookup")
    diff = compare(before, after)
    parsed = assert_well_formed(diff._repr_html_())
    assert "Parallel Seq Scan on orders" in parsed.text
    assert "Index Scan using orders_pkey on orders" in parsed.text
    assert "#0 Gather" in parsed.text
    assert "Plan before" in parsed.text
    assert "Plan after" in parsed.text
    bundle = diff._repr_mimebundle_(exclude=["text/html"])
    assert bundle == {"text/plain": str(diff)}
