"""seq-scan: sequential scans an index would help, and the many that it would not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import planalyzer as pa
from tests.unit.plan.builders import corpus_path
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "seq-scan"
RULE = "seq-scan"


def _seq_scan(
    *,
    rows: float,
    removed: float | None,
    loops: float = 1,
    filter_: str | None = "(customer_id = 4242)",
    relation: str = "orders",
    ms: float | None = 40.0,
    total_ms: float = 43.0,
    analyze: bool = True,
    cost: float = 7454.0,
    plan_rows: float = 3,
    **extra: Any,
) -> pa.Plan:
    node: dict[str, Any] = {
        "Node Type": "Seq Scan",
        "Relation Name": relation,
        "Alias": relation,
        "Startup Cost": 0.0,
        "Total Cost": cost,
        "Plan Rows": plan_rows,
        **extra,
    }
    if filter_ is not None:
        node["Filter"] = filter_
    if analyze:
        node.update({"Actual Rows": rows, "Actual Loops": loops})
        if ms is not None:
            node.update({"Actual Startup Time": 0.01, "Actual Total Time": ms})
        if removed is not None:
            node["Rows Removed by Filter"] = removed
    doc: dict[str, Any] = {"Plan": node}
    if analyze and ms is not None:
        doc["Execution Time"] = total_ms
    return pa.parse(doc)


# --- real PostgreSQL 15 plans -------------------------------------------------------------


def test_filter_removing_almost_every_row_of_orders_is_critical() -> None:
    plan = pa.load(PLANS / "fires--filter-removes-most.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert (node.node_type, node.relation_name) == ("Seq Scan", "orders")
    ev = finding.evidence
    assert ev["rows_removed_total"] == node.rows_removed_by_filter * node.actual_loops
    assert ev["rows_read_total"] == (node.actual_rows + node.rows_removed_by_filter) * 1
    assert ev["removed_ratio"] == pytest.approx(
        node.rows_removed_by_filter / (node.actual_rows + node.rows_removed_by_filter)
    )
    assert ev["selective_filter"] is True
    assert ev["repeated_in_loop"] is False
    # the scan is nearly all of the statement's time: the 40 % band makes it critical
    assert ev["time_share_ratio"] == pytest.approx(node.exclusive_time_ms / plan.execution_time_ms)
    assert finding.severity is pa.Severity.CRITICAL
    assert finding.impact_ms == node.exclusive_time_ms
    assert "read 300,000 rows to return 3" in finding.message
    assert "99.99 % removed by filter `customer_id = 4242`" in finding.message
    assert finding.suggestion.startswith("CREATE INDEX ON orders (customer_id)")


def test_parallel_seq_scan_counts_rows_over_all_processes() -> None:
    plan = pa.load(PLANS / "fires--parallel-filter-removes-most.json")
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert node.parallel_aware
    assert node.actual_loops == 3
    ev = finding.evidence
    read = (node.actual_rows + node.rows_removed_by_filter) * node.actual_loops
    assert ev["rows_read_total"] == read
    # the three processes shared one pass over the table: table size = rows read, not / 3
    assert ev["table_rows"] == read
    assert "Parallel Seq Scan on orders" in finding.message
    assert "CREATE INDEX ON orders (customer_id)" in finding.suggestion


def test_without_analyze_the_finding_is_estimated_from_the_cost() -> None:
    plan = pa.load(PLANS / "fires--filter-removes-most--estimated.json")
    assert not plan.analyzed
    (finding,) = assert_fires(plan, RULE)
    node = plan.node(finding.node_id)
    assert finding.estimated is True
    assert finding.impact_ms is None
    assert finding.impact_cost_share == node.cost_share == 1.0
    # cost / (seq_page_cost + cpu_tuple_cost + 1 qual x cpu_operator_cost), defaults
    assert finding.evidence["estimated_table_min_rows"] == pytest.approx(
        node.total_cost / (1.0 + 0.01 + 0.0025)
    )
    # an estimate is never critical; the whole plan's cost makes it a warning
    assert finding.severity is pa.Severity.WARNING
    assert "CREATE INDEX ON orders (customer_id)" in finding.suggestion


def test_inner_side_of_a_nested_loop_rereads_the_table_every_loop() -> None:
    plan = pa.load(PLANS / "fires--nested-loop-inner.json")
    findings = assert_fires(plan, RULE)
    (stores,) = [f for f in findings if plan.node(f.node_id).relation_name == "stores"]
    node = plan.node(stores.node_id)
    assert node.parent_relationship == "Inner"
    assert node.parent.node_type == "Nested Loop"
    ev = stores.evidence
    assert ev["repeated_in_loop"] is True
    assert ev["actual_loops"] == node.actual_loops == 1250
    assert ev["rows_read_total"] == (node.actual_rows + node.rows_removed_by_filter) * 1250
    assert ev["table_rows"] == node.actual_rows + node.rows_removed_by_filter
    assert stores.severity is pa.Severity.CRITICAL
    assert "ran 1,250 times as the inner side of a Nested Loop" in stores.message
    assert "CREATE INDEX ON stores (city)" in stores.suggestion
    # the outer customers scan is a real but small (3 % of the time) win: info only
    (customers,) = [f for f in findings if f is not stores]
    assert customers.severity is pa.Severity.INFO


@pytest.mark.parametrize(
    "name",
    ["quiet--count-whole-table", "quiet--lookup-table-hash-join", "quiet--primary-key-lookup"],
)
def test_clean_plans_stay_completely_quiet(name: str) -> None:
    assert_quiet(pa.load(PLANS / f"{name}.json"), RULE, min_severity=pa.Severity.INFO)


# --- hand-built edge cases ----------------------------------------------------------------


def test_five_row_table_is_quiet_even_when_filtered() -> None:
    plan = _seq_scan(rows=1, removed=4, relation="order_status", filter_="(id = 3)")
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_count_over_a_whole_table_without_filter_is_quiet() -> None:
    plan = pa.parse(
        {
            "Plan": {
                "Node Type": "Aggregate",
                "Strategy": "Plain",
                "Total Cost": 6000.0,
                "Plan Rows": 1,
                "Actual Total Time": 30.0,
                "Actual Rows": 1,
                "Actual Loops": 1,
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "orders",
                        "Total Cost": 5000.0,
                        "Plan Rows": 300000,
                        "Actual Total Time": 25.0,
                        "Actual Rows": 300000,
                        "Actual Loops": 1,
                    }
                ],
            },
            "Execution Time": 30.0,
        }
    )
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_a_filter_keeping_a_third_of_the_rows_is_quiet() -> None:
    plan = _seq_scan(rows=200_000, removed=100_000, filter_="(status_id <> 5)")
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_never_executed_and_empty_scans_are_quiet() -> None:
    assert_quiet(_seq_scan(rows=0, removed=0, loops=0), RULE, min_severity=pa.Severity.INFO)
    assert_quiet(_seq_scan(rows=0, removed=0), RULE, min_severity=pa.Severity.INFO)


def test_timing_off_still_fires_without_an_impact_and_at_most_a_warning() -> None:
    plan = _seq_scan(rows=3, removed=299_997, ms=None)
    assert plan.analyzed
    assert not plan.timed
    (finding,) = assert_fires(plan, RULE)
    assert finding.impact_ms is None
    assert finding.estimated is False
    assert finding.severity is pa.Severity.WARNING  # cost share 100 %, but no time measured


def test_severity_follows_the_share_of_total_time() -> None:
    def severity(ms: float) -> pa.Severity:
        (finding,) = assert_fires(_seq_scan(rows=3, removed=299_997, ms=ms, total_ms=100), RULE)
        return finding.severity

    assert severity(5) is pa.Severity.INFO  # below 10 %
    assert severity(20) is pa.Severity.WARNING  # 10 % band
    assert severity(50) is pa.Severity.CRITICAL  # 40 % band


def test_matches_on_most_pages_make_an_index_useless() -> None:
    # 1,000 of 10,000 rows kept on a 345-page table: about 3 matches per page (BUFFERS)
    plan = _seq_scan(
        rows=1000,
        removed=9000,
        filter_="(unique1 < 1000)",
        **{"Shared Hit Blocks": 345, "Shared Read Blocks": 0},
    )
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)
    # the same scan keeping 10 rows is worth an index
    plan = _seq_scan(
        rows=10,
        removed=9990,
        filter_="(unique1 < 10)",
        **{"Shared Hit Blocks": 345, "Shared Read Blocks": 0},
    )
    (finding,) = assert_fires(plan, RULE)
    assert finding.evidence["table_pages_blocks"] == 345


def test_cheap_lookup_table_scanned_per_outer_row_is_quiet() -> None:
    plan = _seq_scan(rows=1, removed=4, loops=10_000, filter_="(id = o.status_id)")
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_suggestion_orders_equality_before_range_and_quotes_identifiers() -> None:
    plan = _seq_scan(
        rows=12,
        removed=500_000,
        relation="Order",
        filter_='(("createdAt" > $1) AND (customer_id = 4242))',
    )
    (finding,) = assert_fires(plan, RULE)
    assert finding.suggestion.startswith('CREATE INDEX ON "Order" (customer_id, "createdAt")')


def test_unindexable_filter_gets_advice_instead_of_a_useless_index() -> None:
    plan = _seq_scan(rows=10, removed=299_990, filter_="(note ~~ '%abc%'::text)")
    (finding,) = assert_fires(plan, RULE)
    assert "(note)" not in finding.suggestion  # no useless b-tree on the column
    assert "USING gin (note gin_trgm_ops)" in finding.suggestion


def test_cheap_scan_without_analyze_is_quiet() -> None:
    plan = _seq_scan(rows=0, removed=None, analyze=False, cost=35.5, plan_rows=1)
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)
    # non-selective estimate on a big table: quiet too
    plan = _seq_scan(rows=0, removed=None, analyze=False, cost=7454.0, plan_rows=150_000)
    assert_quiet(plan, RULE, min_severity=pa.Severity.INFO)


def test_thresholds_can_be_tuned() -> None:
    plan = _seq_scan(rows=3, removed=299_997)
    config = pa.RuleConfig(seq_scan={"min_table_rows": 1_000_000})
    assert_quiet(plan, RULE, config=config, min_severity=pa.Severity.INFO)


def test_unanchored_like_suggests_a_trigram_index() -> None:
    """`note LIKE '%abc%'` cannot use a b-tree: the suggestion is a pg_trgm GIN on the column."""
    plan = pa.load(PLANS.parent / "workers-not-launched" / "quiet--all-launched.json")
    (finding,) = pa.analyze(plan).by_rule(RULE)
    node = plan.node(finding.node_id)
    assert "~~ '%abc%'" in node.filter
    assert "USING gin (note gin_trgm_ops)" in finding.suggestion
    assert "CREATE EXTENSION IF NOT EXISTS pg_trgm" in finding.suggestion


def test_regex_filter_in_the_corpus_suggests_a_trigram_index() -> None:
    plan = pa.load(corpus_path("pg_flame/cte_aggregate_analyze.json"))
    (finding,) = pa.analyze(plan).by_rule(RULE)
    assert "USING gin (body gin_trgm_ops)" in finding.suggestion


def _probe_plan(*, other_rows: int, join_rows: int) -> pa.Plan:
    """A hash join whose probe side reads order_items whole (figures from a real PG 15 run)."""
    items = {"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name":
             "order_items", "Alias": "i", "Total Cost": 5626.11, "Plan Rows": 450_000,
             "Actual Total Time": 20.0, "Actual Rows": 450_027, "Actual Loops": 1}  # fmt: skip
    orders = {"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "orders",
              "Alias": "o", "Total Cost": 4835.5, "Plan Rows": 50,
              "Actual Total Time": 5.0, "Actual Rows": other_rows, "Actual Loops": 1}  # fmt: skip
    hash_ = {"Node Type": "Hash", "Parent Relationship": "Inner", "Total Cost": 4835.5,
             "Plan Rows": 50, "Actual Total Time": 5.1, "Actual Rows": other_rows,
             "Actual Loops": 1, "Plans": [orders]}  # fmt: skip
    join = {"Node Type": "Hash Join", "Join Type": "Inner", "Total Cost": 10954.46,
            "Plan Rows": 180, "Actual Total Time": 40.0, "Actual Rows": join_rows,
            "Actual Loops": 1, "Hash Cond": "(i.order_id = o.id)",
            "Plans": [items, hash_]}  # fmt: skip
    return pa.parse({"Plan": join, "Execution Time": 40.5})


def test_hash_join_probe_of_a_whole_table_suggests_the_join_key_index() -> None:
    """A big table read whole to match a few rows of the other side: the unindexed FK."""
    plan = _probe_plan(other_rows=120, join_rows=186)
    (finding,) = assert_fires(plan, RULE)
    scan = plan.node(finding.node_id)
    assert scan.relation_name == "order_items"
    assert finding.evidence["hash_join_probe"] is True
    assert finding.evidence["join_rows_total"] == 186
    assert finding.evidence["join_other_side_rows_total"] == 120
    assert finding.suggestion.startswith("CREATE INDEX ON order_items (order_id)")
    assert "read 450,027 rows so that the Hash Join above it could keep 186" in finding.message
    assert finding.severity is pa.Severity.CRITICAL  # 20 ms of 40.5 ms >= 40 %


def test_hash_join_probe_is_quiet_when_the_join_keeps_many_rows_or_the_other_side_is_big() -> None:
    # a join keeping 10 % of the probe rows: reading the table is the right plan
    assert_quiet(_probe_plan(other_rows=120, join_rows=45_000), RULE, min_severity=pa.Severity.INFO)
    # 50,000 rows on the other side: 50,000 index lookups are no bargain
    assert_quiet(_probe_plan(other_rows=50_000, join_rows=186), RULE, min_severity=pa.Severity.INFO)
