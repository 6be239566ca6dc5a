"""explain(): options, parameters, generic plans, refused statements."""

from __future__ import annotations

import pytest

from planalyzer.errors import UnsafeStatementError
from planalyzer.live import explain
from planalyzer.live.explain import explain_options


def test_select_is_analyzed_with_buffers_and_carries_context(conn):
    plan = explain(conn, "SELECT * FROM orders WHERE customer_id = %s", [42])

    assert plan.analyzed
    assert plan.sql == "SELECT * FROM orders WHERE customer_id = %s"
    assert plan.params == [42]
    assert plan.server_version == conn.info.server_version
    scan = plan.find(node_type="Seq Scan", relation="orders")
    assert scan
    assert (
        scan[0].extra.get("Shared Hit Blocks") is not None or scan[0].shared_hit_blocks is not None
    )


def test_named_parameters_are_bound(conn):
    plan = explain(conn, "SELECT * FROM customers WHERE id = %(id)s", {"id": 7})
    assert plan.find(node_type="Index Scan", relation="customers")
    assert plan.root.actual_rows == 1


def test_analyze_false_does_not_execute(conn):
    plan = explain(conn, "SELECT pg_sleep(5)", analyze=False)
    assert not plan.analyzed


def test_settings_option_reports_changed_settings(conn):
    conn.execute("SET LOCAL work_mem = '64MB'")
    plan = explain(conn, "SELECT 1", analyze=False)
    assert plan.settings == {"work_mem": "64MB"}
    conn.rollback()


def test_wal_option_reports_wal_of_a_write(conn):
    plan = explain(conn, "UPDATE orders SET total = 1 WHERE id <= 10", wal=True)
    assert plan.root.wal_records


def test_verbose_adds_output_columns(conn):
    plan = explain(conn, "SELECT code FROM order_statuses", verbose=True, analyze=False)
    assert plan.root.output == ["code"]


def test_dollar_parameters_without_values_give_the_generic_plan(conn):
    plan = explain(conn, "SELECT * FROM orders WHERE customer_id = $1 AND status = $2")

    assert not plan.analyzed  # a generic plan is never executed
    assert plan.find(relation="orders")
    leftover = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert leftover == (0,)


def test_generic_plan_failure_leaves_no_prepared_statement(conn):
    with pytest.raises(Exception, match="no_such_table"):
        explain(conn, "SELECT * FROM no_such_table WHERE id = $1")
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (110000, ["FORMAT JSON"]),
        (150000, ["FORMAT JSON", "BUFFERS", "SETTINGS"]),
        (160000, ["FORMAT JSON", "BUFFERS", "SETTINGS", "GENERIC_PLAN"]),
    ],
)
def test_generic_plan_options_follow_the_server_version(version, expected):
    # This server is 15 (PREPARE path, tested above); GENERIC_PLAN is only asked of 16+.
    options = explain_options(
        version,
        analyze=False,
        buffers=True,
        settings=True,
        verbose=False,
        wal=True,
        generic_plan=True,
    )
    assert options == expected


REFUSED = [
    "DROP TABLE orders",
    "CREATE INDEX ON orders (customer_id)",
    "TRUNCATE orders",
    "BEGIN",
    "COMMIT",
    "COPY orders TO STDOUT",
    "SET work_mem = '1GB'",
    "VACUUM orders",
    "SELECT 1; DROP TABLE orders",
    "SELECT * INTO orders_copy FROM orders",
    "CREATE TABLE orders_copy AS SELECT * FROM orders",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_unsafe_statements_are_refused_before_reaching_the_server(conn, statement):
    with pytest.raises(UnsafeStatementError) as caught:
        explain(conn, statement)

    assert caught.value.statement == statement
    assert conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)
    assert conn.execute("SELECT to_regclass('orders_copy')").fetchone() == (None,)


def test_braces_and_percent_signs_in_sql_are_passed_through(conn):
    plan = explain(conn, """SELECT '{"a": 1}'::jsonb, 'x%' FROM order_statuses""")
    assert plan.root.actual_rows == 5

    plan = explain(conn, "SELECT count(*) FROM customers WHERE email LIKE %s", ["%@example.com"])
    assert plan.params == ["%@example.com"]
