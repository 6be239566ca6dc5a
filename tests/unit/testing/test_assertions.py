"""assert_plan(): every check passing and failing on real fixture plans, and its messages."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

import planalyzer as pa
from planalyzer.errors import ConfigError
from planalyzer.testing import PlanAssertionError, PlanChecker, assert_plan
from planalyzer.testing.assertions import DEFAULT_SEQ_SCAN_MIN_ROWS, seq_scan_rows

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
SEQ = PLANS / "seq-scan" / "fires--filter-removes-most.json"
SEQ_ESTIMATED = PLANS / "seq-scan" / "fires--filter-removes-most--estimated.json"
SEQ_PARALLEL = PLANS / "seq-scan" / "fires--parallel-filter-removes-most.json"
NESTED_INNER = PLANS / "seq-scan" / "fires--nested-loop-inner.json"
LOOKUP_HASH_JOIN = PLANS / "seq-scan" / "quiet--lookup-table-hash-join.json"
PK_LOOKUP = PLANS / "seq-scan" / "quiet--primary-key-lookup.json"
BITMAP = PLANS / "lossy-bitmap" / "quiet--exact-bitmap.json"
SORT_SPILL = PLANS / "sort-spill" / "fires--external-merge.json"
SIMPLE_ESTIMATED = PLANS / "_general" / "simple.json"


def fail(call) -> PlanAssertionError:
    with pytest.raises(PlanAssertionError) as info:
        call()
    return info.value


# --- inputs -----------------------------------------------------------------------------------


def test_accepts_plan_path_string_json_text_and_decoded_json():
    text = SEQ.read_text()
    plans = [
        assert_plan(pa.load(SEQ)).plan,
        assert_plan(SEQ).plan,
        assert_plan(str(SEQ)).plan,
        assert_plan(text).plan,
        assert_plan(text.encode()).plan,
        assert_plan(json.loads(text)).plan,
    ]
    assert {p.root.node_type for p in plans} == {"Seq Scan"}
    assert {p.root.rows_removed_by_filter for p in plans} == {plans[0].root.rows_removed_by_filter}


def test_missing_file_is_a_parse_error_naming_the_path(tmp_path):
    with pytest.raises(pa.PlanParseError) as info:
        assert_plan(str(tmp_path / "nope.json"))
    assert "nope.json" in str(info.value)


def test_checks_chain_and_return_the_checker():
    checker = assert_plan(PK_LOOKUP)
    assert isinstance(checker, PlanChecker)
    same = checker.uses_index("orders_pkey", on="orders").no_seq_scan().node_count(1)
    assert same is checker


def test_error_is_an_assertion_error_not_a_planalyzer_error():
    assert issubclass(PlanAssertionError, AssertionError)
    assert not issubclass(PlanAssertionError, pa.PlanalyzerError)


def test_error_pickles_with_its_attributes():
    err = fail(lambda: assert_plan(SEQ).no_seq_scan())
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)
    assert copy.expectation == err.expectation
    assert copy.node_ids == err.node_ids == (0,)
    assert copy.found == err.found
    assert copy.plan.root.node_type == "Seq Scan"


# --- no_seq_scan --------------------------------------------------------------------------------


def test_no_seq_scan_fails_on_big_filtered_scan_with_figures_tree_and_marker():
    plan = pa.load(SEQ)
    node = plan.root
    read = node.rows_total + node.rows_removed_by_filter_total
    err = fail(lambda: assert_plan(plan).no_seq_scan(on="orders"))
    message = str(err)
    lines = message.splitlines()
    assert lines[0] == "expected: no Seq Scan on orders reading 1,000 rows or more"
    assert lines[1].startswith("found:    [0] Seq Scan on orders: cost ")
    assert f"read {read:,.0f} rows, returned {node.rows_total:,.0f}" in lines[1]
    assert f"Filter: {node.filter}" in lines[1]
    assert "plan (node 0 marked):" in message
    assert ">> [0] Seq Scan on orders" in message
    assert err.node_ids == (0,)


def test_no_seq_scan_counts_rows_over_parallel_loops():
    plan = pa.load(SEQ_PARALLEL)
    scan = plan.find(node_type="Seq Scan")[0]
    rows, measured = seq_scan_rows(plan, scan)
    assert measured
    assert rows == scan.rows_total + scan.rows_removed_by_filter_total
    assert rows == (scan.actual_rows + scan.rows_removed_by_filter) * scan.actual_loops
    err = fail(lambda: assert_plan(plan).no_seq_scan())
    assert f"[{scan.id}] Parallel Seq Scan on orders" in err.found[0]
    assert err.node_ids == (scan.id,)


def test_no_seq_scan_ignores_small_lookup_table_but_not_the_big_one():
    plan = pa.load(LOOKUP_HASH_JOIN)
    small = plan.find(node_type="Seq Scan", relation="order_status")[0]
    big = plan.find(node_type="Seq Scan", relation="orders")[0]
    assert small.rows_total < DEFAULT_SEQ_SCAN_MIN_ROWS <= big.rows_total
    assert_plan(plan).no_seq_scan(on="order_status")
    err = fail(lambda: assert_plan(plan).no_seq_scan())
    assert err.node_ids == (big.id,)
    err = fail(lambda: assert_plan(plan).no_seq_scan(on="order_status", min_rows=0))
    assert err.node_ids == (small.id,)
    assert "reading 0 rows or more" in err.expectation


def test_no_seq_scan_counts_a_small_table_read_in_every_loop():
    plan = pa.load(NESTED_INNER)
    inner = plan.find(node_type="Seq Scan", relation="stores")[0]
    per_loop = inner.actual_rows + inner.rows_removed_by_filter
    assert per_loop < 5 * DEFAULT_SEQ_SCAN_MIN_ROWS  # a small table ...
    total = per_loop * inner.actual_loops
    err = fail(lambda: assert_plan(plan).no_seq_scan(on="stores", min_rows=per_loop + 1))
    assert f"read {total:,.0f} rows" in err.found[0]  # ... read in every loop adds up


def test_no_seq_scan_on_estimated_plan_bounds_rows_by_cost():
    plan = pa.load(SEQ_ESTIMATED)
    assert not plan.analyzed
    bound = plan.root.total_cost / 0.01  # default cpu_tuple_cost
    rows, measured = seq_scan_rows(plan, plan.root)
    assert (rows, measured) == (pytest.approx(bound), False)
    err = fail(lambda: assert_plan(plan).no_seq_scan())
    assert f"cost allows up to {bound:,.0f} rows read" in err.found[0]
    assert_plan(plan).no_seq_scan(min_rows=bound + 1)


def test_no_seq_scan_passes_other_tables_and_index_plans():
    assert_plan(SEQ).no_seq_scan(on="customers")
    assert_plan(PK_LOOKUP).no_seq_scan()


# --- uses_index ---------------------------------------------------------------------------------


def test_uses_index_passes_by_name_table_and_bitmap_heap_table():
    assert_plan(PK_LOOKUP).uses_index().uses_index("orders_pkey").uses_index(on="orders")
    assert_plan(PK_LOOKUP).uses_index("public.orders_pkey", on="public.orders")
    index = pa.load(BITMAP).find(node_type="Bitmap Index Scan")[0].index_name
    assert_plan(BITMAP).uses_index(index, on="orders")


def test_uses_index_fails_listing_the_scans_of_the_table():
    err = fail(lambda: assert_plan(SEQ).uses_index(on="orders"))
    assert err.expectation == "an index scan on orders"
    assert err.found[0].startswith("[0] Seq Scan on orders")
    assert err.node_ids == (0,)


def test_uses_index_names_the_index_actually_used():
    err = fail(lambda: assert_plan(PK_LOOKUP).uses_index("orders_customer_id_idx"))
    assert err.expectation == "an index scan using orders_customer_id_idx"
    assert "uses orders_pkey, not orders_customer_id_idx" in err.found[0]


def test_uses_index_says_when_the_table_is_not_read():
    err = fail(lambda: assert_plan(SEQ).uses_index(on="customers"))
    assert err.found == ("customers is not read by this plan (tables: orders)",)
    assert err.node_ids == ()


# --- max_cost, max_time_ms ----------------------------------------------------------------------


def test_max_cost_passes_at_the_limit_and_fails_below():
    plan = pa.load(SEQ)
    cost = plan.root.total_cost
    assert_plan(plan).max_cost(cost)
    err = fail(lambda: assert_plan(plan).max_cost(cost / 2))
    assert err.expectation == f"total cost at most {cost / 2:,.2f}"
    assert err.found[0] == f"total cost {cost:,.2f} (2.0× the limit); costliest nodes:"


def test_max_cost_marks_the_node_with_the_largest_own_cost():
    plan = pa.load(LOOKUP_HASH_JOIN)
    costliest = max(plan.nodes(), key=lambda n: n.exclusive_cost)
    err = fail(lambda: assert_plan(plan).max_cost(1))
    assert err.node_ids[0] == costliest.id
    assert f"own cost {costliest.exclusive_cost:,.2f}" in err.found[1]


def test_max_time_ms_uses_execution_time_and_marks_the_slowest_node():
    plan = pa.load(LOOKUP_HASH_JOIN)
    total = plan.execution_time_ms
    assert_plan(plan).max_time_ms(total)
    err = fail(lambda: assert_plan(plan).max_time_ms(total / 2))
    slowest = max(plan.nodes(), key=lambda n: n.exclusive_time_clamped_ms)
    assert err.found[0].startswith(f"execution time {total:,.3f} ms")
    assert err.node_ids[0] == slowest.id


def test_max_time_ms_needs_timing():
    err = fail(lambda: assert_plan(SIMPLE_ESTIMATED).max_time_ms(1_000))
    assert "no timing" in err.found[0]


# --- max_rows_removed, estimates_within ---------------------------------------------------------


def test_max_rows_removed_by_count_and_ratio():
    plan = pa.load(SEQ)
    removed = plan.root.rows_removed_by_filter_total
    share = removed / (removed + plan.root.rows_total)
    assert_plan(plan).max_rows_removed(removed).max_rows_removed(ratio=share)
    err = fail(lambda: assert_plan(plan).max_rows_removed(removed - 1))
    assert err.expectation == f"no node removing more than {removed - 1:,.0f} rows"
    assert (
        f"removed {removed:,.0f} of {removed + plan.root.rows_total:,.0f} rows read"
        in (err.found[0])
    )
    err = fail(lambda: assert_plan(plan).max_rows_removed(0.5))  # below 1: a ratio
    assert err.expectation == "no node removing more than 50% of the rows read"


def test_max_rows_removed_with_both_fails_only_above_both():
    plan = pa.load(SEQ)
    removed = plan.root.rows_removed_by_filter_total
    assert_plan(plan).max_rows_removed(removed, ratio=0.1)  # ratio exceeded, count not


def test_max_rows_removed_needs_analyze_and_a_limit():
    err = fail(lambda: assert_plan(SEQ_ESTIMATED).max_rows_removed(10))
    assert "EXPLAIN ANALYZE" in err.expectation
    with pytest.raises(TypeError):
        assert_plan(SEQ).max_rows_removed()


def test_estimates_within_marks_where_the_misestimate_starts():
    plan = pa.load(NESTED_INNER)
    factors = {n.id: n.estimate_factor for n in plan.nodes()}
    worst = max(factors.values())
    assert_plan(plan).estimates_within(worst)
    origin = plan.find(node_type="Seq Scan", relation="customers")[0]
    assert origin.estimate_factor > 10
    err = fail(lambda: assert_plan(plan).estimates_within(10))
    assert err.node_ids[0] == origin.id  # not the parents that inherit it
    assert "(starts here)" in err.found[0]
    offending = {n.id for n in plan.nodes() if n.estimate_factor > 10}
    assert set(err.node_ids) == offending


# --- findings -----------------------------------------------------------------------------------


def test_no_findings_lists_findings_with_suggestions():
    plan = pa.load(SORT_SPILL)
    report = pa.analyze(plan)
    spill = report.by_rule("sort-spill")[0]
    err = fail(lambda: assert_plan(plan).no_findings())
    message = str(err)
    assert err.expectation == "no findings at warning or above"
    assert f"  {spill}" in message.splitlines()
    assert f"      suggestion: {spill.suggestion}" in message.splitlines()
    assert err.node_ids[0] == report.at_least("warning")[0].node_id
    bad = report.at_least("warning")
    node = plan.node(spill.node_id)
    assert err.found[0].startswith(f"{len(bad)} finding")
    assert f"sort-spill on [{node.id}] {node.display_name}" in err.found[0]


def test_no_findings_ignore_and_severity_floor():
    plan = pa.load(SORT_SPILL)
    rules = {f.rule for f in pa.analyze(plan).at_least("warning")}
    assert_plan(plan).no_findings(ignore=sorted(rules))
    worst = pa.analyze(plan).worst().severity
    higher = {"info": "warning", "warning": "critical"}.get(worst.value)
    if higher:
        assert_plan(plan).no_findings(higher)


def test_no_findings_with_a_config_that_disables_the_rule():
    plan = pa.load(SORT_SPILL)
    rules = sorted({f.rule for f in pa.analyze(plan).at_least("warning")})
    assert_plan(plan).no_findings(config=pa.RuleConfig(disabled=rules))


def test_unknown_rule_in_ignore_is_a_config_error():
    with pytest.raises(ConfigError, match=r"ignore\.seq_scann"):
        assert_plan(PK_LOOKUP).no_findings(ignore=["seq_scann"])


# --- node_count, has_node, join_strategy ----------------------------------------------------------


def test_node_count_exact_and_range():
    plan = pa.load(LOOKUP_HASH_JOIN)
    count = len(plan.nodes())
    assert_plan(plan).node_count(count).node_count(min=count, max=count)
    err = fail(lambda: assert_plan(plan).node_count(max=count - 1))
    assert err.expectation == f"at most {count - 1} nodes"
    assert err.found[0].startswith(f"{count} nodes: ")
    assert "Seq Scan ×2" in err.found[0]


def test_has_node_by_type_display_name_and_table():
    plan = pa.load(LOOKUP_HASH_JOIN)
    assert_plan(plan).has_node("Hash Join").has_node("HashAggregate").has_node("Aggregate")
    assert_plan(plan).has_node("Seq Scan", on="order_status")
    assert_plan(SEQ_PARALLEL).has_node("Parallel Seq Scan").has_node("Seq Scan", on="orders")
    err = fail(lambda: assert_plan(plan).has_node("Merge Join"))
    assert err.found[0].startswith("node types in the plan: ")
    assert "Hash Join" in err.found[0]
    err = fail(lambda: assert_plan(plan).has_node("Index Scan", on="orders"))
    scan = plan.find(relation="orders")[0]
    assert err.node_ids == (scan.id,)


def test_join_strategy_between_two_tables():
    plan = pa.load(LOOKUP_HASH_JOIN)
    join = plan.find(node_type="Hash Join")[0]
    assert_plan(plan).join_strategy("Hash Join", on=("orders", "order_status"))
    assert_plan(plan).join_strategy("hash", on=("s", "o"))  # aliases
    assert_plan(plan).join_strategy("hash")  # every join
    err = fail(lambda: assert_plan(plan).join_strategy("nestloop", on=("orders", "order_status")))
    assert err.expectation == "orders and order_status joined by a Nested Loop"
    assert err.node_ids == (join.id,)
    assert "joins orders ⋈ order_status" in err.found[0]


def test_join_strategy_when_a_table_is_missing_or_no_join():
    err = fail(lambda: assert_plan(LOOKUP_HASH_JOIN).join_strategy("hash", on=("orders", "x")))
    assert "x is not read by this plan" in err.found
    err = fail(lambda: assert_plan(SEQ).join_strategy("hash"))
    assert err.found == ("the plan has no join",)
    with pytest.raises(ValueError, match="unknown join strategy"):
        assert_plan(SEQ).join_strategy("zigzag")


# --- matches ------------------------------------------------------------------------------------


def test_matches_ignores_figures_but_not_shape(tmp_path):
    plan = pa.load(LOOKUP_HASH_JOIN)
    changed = json.loads(LOOKUP_HASH_JOIN.read_text())
    node = changed[0]["Plan"]
    node["Total Cost"] *= 3
    node["Actual Total Time"] *= 3
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed))
    assert_plan(plan).matches(path).matches(plan)


def test_matches_explains_the_first_difference_and_marks_both_plans():
    plan = pa.load(NESTED_INNER)
    other = json.loads(NESTED_INNER.read_text())
    inner = other[0]["Plan"]["Plans"][1]
    assert inner["Node Type"] == "Seq Scan"
    inner["Node Type"] = "Index Scan"
    inner["Index Name"] = "stores_city_idx"
    err = fail(lambda: assert_plan(plan).matches(json.dumps(other)))
    scan = plan.find(relation="stores")[0]
    assert err.node_ids == (scan.id,)
    assert err.found[0] == (
        "first difference at Nested Loop > Seq Scan: node type 'Index Scan' expected, "
        "'Seq Scan' found; index 'stores_city_idx' expected, None found"
    )
    message = str(err)
    assert "reference plan:" in message
    assert message.count(">> ") == 2  # one marker in each tree


def test_matches_reports_a_missing_child():
    plan = pa.load(NESTED_INNER)
    other = json.loads(NESTED_INNER.read_text())
    del other[0]["Plan"]["Plans"][1]
    err = fail(lambda: assert_plan(plan).matches(other))
    assert "2 children" not in err.found[0]
    assert "1 children expected under [0] Nested Loop, 2 found" in err.found[0]
    assert "is extra" in err.found[0]


# --- message bounds -----------------------------------------------------------------------------


def _deep_plan(depth: int) -> pa.Plan:
    node = {"Node Type": "Seq Scan", "Relation Name": "t", "Total Cost": 1.0, "Plan Rows": 1}
    for i in range(depth):
        node = {
            "Node Type": "Nested Loop",
            "Total Cost": 2.0 + i,
            "Plan Rows": 1,
            "Plans": [
                node,
                {
                    "Node Type": "Seq Scan",
                    "Relation Name": f"s{i}",
                    "Total Cost": 1.0,
                    "Plan Rows": 1,
                },
            ],
        }
    return pa.parse({"Plan": node})


def test_huge_plan_message_is_trimmed_around_the_marked_node():
    plan = _deep_plan(2_000)
    target = plan.find(relation="s1000")[0]
    err = fail(lambda: assert_plan(plan).has_node("Index Scan", on="s1000"))
    message = str(err)
    assert len(message) < 20_000
    assert "lines above" in message
    assert "lines below" in message
    assert any(line.startswith(">>") and f"[{target.id}]" in line for line in message.splitlines())
