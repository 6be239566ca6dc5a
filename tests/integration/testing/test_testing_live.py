"""assert_plan on live plans of the demo schema, and the plugin's fixtures against the server."""

from __future__ import annotations

import pytest

from planalyzer.live.explain import explain
from planalyzer.testing import PlanAssertionError, assert_plan

BY_CUSTOMER = "SELECT * FROM orders WHERE customer_id = %s"


def test_issue_example_on_the_demo_schema(conn):
    """The issue's first example: orders.customer_id has no index in the demo schema."""
    plan = explain(conn, BY_CUSTOMER, [42])
    with pytest.raises(PlanAssertionError) as info:
        assert_plan(plan).uses_index(on="orders").no_seq_scan(on="orders").max_cost(1_000)
    err = info.value
    scan = plan.find(node_type="Seq Scan", relation="orders")[0]
    assert err.expectation == "an index scan on orders"
    assert err.node_ids == (scan.id,)
    message = str(err)
    assert f"statement: {BY_CUSTOMER}" in message
    assert "params:    [42]" in message
    assert f"[{scan.id}] " in err.found[0]
    assert f"Filter: {scan.filter}" in err.found[0]


def test_primary_key_lookup_passes_every_check(conn):
    plan = explain(conn, "SELECT * FROM orders WHERE id = %s", [42])
    root_cost = plan.root.total_cost
    (
        assert_plan(plan)
        .uses_index("orders_pkey", on="orders")
        .no_seq_scan()
        .max_cost(root_cost)
        .max_rows_removed(0)
        .estimates_within(1)
        .node_count(1)
        .no_findings("warning")
    )


def test_join_strategy_and_has_node_on_a_real_join(conn):
    plan = explain(
        conn,
        "SELECT o.id, s.description FROM orders o JOIN order_statuses s ON s.code = o.status"
        " WHERE o.customer_id = %s",
        [42],
    )
    join = next(
        n for n in plan.nodes() if n.node_type in ("Hash Join", "Nested Loop", "Merge Join")
    )
    assert_plan(plan).join_strategy(join.node_type, on=("orders", "order_statuses"))
    other = "Merge Join" if join.node_type != "Merge Join" else "Hash Join"
    with pytest.raises(PlanAssertionError) as info:
        assert_plan(plan).join_strategy(other, on=("orders", "order_statuses"))
    assert info.value.node_ids == (join.id,)


def test_matches_same_query_with_other_parameters(conn):
    first = explain(conn, BY_CUSTOMER, [42])
    second = explain(conn, BY_CUSTOMER, [43])
    assert_plan(second).matches(first)
    lookup = explain(conn, "SELECT * FROM orders WHERE id = %s", [42])
    with pytest.raises(PlanAssertionError, match="first difference at"):
        assert_plan(lookup).matches(first)


PLUGIN_TESTS = """
import pytest
from planalyzer.testing import assert_plan, capture_queries

def test_checker(plan_checker):
    plan_checker("SELECT * FROM orders WHERE id = %s", [1]).uses_index("orders_pkey")

def test_checker_fails(plan_checker):
    plan_checker("SELECT * FROM orders WHERE customer_id = %s", [42]).no_seq_scan(on="orders")

def test_explain_fixture(explain, planalyzer_conn):
    plan = explain(planalyzer_conn, "UPDATE orders SET total = 0 WHERE id = %s", [1])
    assert plan.root.node_type == "ModifyTable"
    assert planalyzer_conn.execute("SELECT total FROM orders WHERE id = 1").fetchone()[0] != 0

@pytest.mark.planalyzer(fail_on="warning")
def test_marker_on_captured(planalyzer_conn):
    with capture_queries(planalyzer_conn) as captured:
        planalyzer_conn.execute("SELECT * FROM orders WHERE customer_id = %s", [42]).fetchall()
    captured.assert_plans(no_seq_scan=False, max_findings=None)  # the marker still checks
"""


def test_plugin_fixtures_against_the_server(pytester, demo_dsn, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_live=PLUGIN_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "planalyzer", "-p", "no:cacheprovider", f"--planalyzer-dsn={demo_dsn}"
    )
    result.assert_outcomes(passed=2, failed=2)
    out = result.stdout.str()
    assert "planalyzer: dsn=" in out
    assert "(PostgreSQL 15." in out
    assert "E       planalyzer.testing.PlanAssertionError: expected: no Seq Scan on orders" in out
    assert "@pytest.mark.planalyzer(fail_on='warning'): 1 of 1 plans explained" in out
    assert "seq-scan" in out
