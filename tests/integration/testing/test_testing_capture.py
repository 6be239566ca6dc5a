"""capture_queries() and assert_plans() on the real server with the demo schema."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from planalyzer.testing import (
    CapturedQueries,
    PlanAssertionError,
    assert_plan,
    capture_queries,
)

BY_CUSTOMER = "SELECT id, total FROM orders WHERE customer_id = %s ORDER BY id"
BY_ID = "SELECT id, total FROM orders WHERE id = %s"
STATUS = "SELECT code FROM order_statuses ORDER BY code"


def checksum(conn) -> tuple:
    """A fingerprint of the tables the tests write to (as another session sees them)."""
    info = conn.info
    dsn = psycopg.conninfo.make_conninfo(
        host=info.host, port=info.port, dbname=info.dbname, user=info.user
    )
    with psycopg.connect(dsn, autocommit=True) as other:
        row = other.execute(
            "SELECT (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o"
            "          WHERE id <= 50 OR customer_id = 42),"
            "       (SELECT md5(string_agg(i::text, ',' ORDER BY id)) FROM order_items i"
            "          WHERE order_id <= 50),"
            "       (SELECT count(*) FROM orders),"
            "       (SELECT sum(total) FROM orders)"
        ).fetchone()
    return tuple(row)


def app_flow(conn) -> dict:
    """What an application might run: every way psycopg sends statements."""
    seen = {}
    seen["by_customer"] = conn.execute(BY_CUSTOMER, [42]).fetchall()
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(BY_ID, (7,))
        seen["by_id"] = cur.fetchall()
        cur.executemany(BY_ID, [(1,), (2,), (3,)], returning=True)
        many = []
        while True:
            many.extend(cur.fetchall())
            if not cur.nextset():
                break
        seen["many"] = many
    seen["stream"] = list(conn.cursor().stream(STATUS))
    with conn.cursor("planalyzer_named") as named:
        named.execute(BY_CUSTOMER, [7])
        seen["named"] = named.fetchall()
    seen["composed"] = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE status = %s").format(sql.Identifier("orders")),
        ["failed"],
    ).fetchone()
    conn.rollback()
    return seen


def test_records_every_statement_with_params_and_app_sees_the_same(conn):
    expected = app_flow(conn)
    with capture_queries(conn) as captured:
        seen = app_flow(conn)
    assert seen == expected
    assert [(s.sql, s.params, s.method) for s in captured.statements] == [
        (BY_CUSTOMER, [42], "execute"),
        (BY_ID, (7,), "execute"),
        (BY_ID, (1,), "executemany"),
        (BY_ID, (2,), "executemany"),
        (BY_ID, (3,), "executemany"),
        (STATUS, None, "stream"),
        (BY_CUSTOMER, [7], "server-cursor"),
        ('SELECT count(*) FROM "orders" WHERE status = %s', ["failed"], "execute"),
    ]


def test_factories_are_restored_even_when_the_block_raises(conn):
    before = (conn.cursor_factory, conn.server_cursor_factory)
    seen: list[CapturedQueries] = []

    def app() -> None:
        with capture_queries(conn) as captured:
            seen.append(captured)
            conn.execute("SELECT 1")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        app()
    [captured] = seen
    assert (conn.cursor_factory, conn.server_cursor_factory) == before
    conn.execute("SELECT 2")
    assert captured.sql == ["SELECT 1"]


def test_cursor_made_inside_stops_recording_after_the_block(conn):
    with capture_queries(conn) as captured:
        cur = conn.cursor()
        cur.execute("SELECT 1")
    cur.execute("SELECT 2")
    assert captured.sql == ["SELECT 1"]


def test_nested_captures_both_record(conn):
    with capture_queries(conn) as outer:
        conn.execute("SELECT 1")
        with capture_queries(conn) as inner:
            conn.execute("SELECT 2")
    assert outer.sql == ["SELECT 1", "SELECT 2"]
    assert inner.sql == ["SELECT 2"]


def test_copy_is_recorded_and_skipped(conn):
    with capture_queries(conn) as captured:
        with conn.cursor().copy("COPY (SELECT code FROM order_statuses) TO STDOUT") as copy:
            rows = list(copy.rows())
    assert rows
    assert [(s.sql, s.method) for s in captured.statements] == [
        ("COPY (SELECT code FROM order_statuses) TO STDOUT", "copy")
    ]
    [result] = captured.assert_plans()
    assert result.plan is None
    assert result.skipped == "COPY cannot be explained"


def test_a_foreign_object_is_refused():
    with pytest.raises(TypeError, match="psycopg 3 Connection"), capture_queries(object()):
        pass


# --- assert_plans ---------------------------------------------------------------------------


def test_assert_plans_reports_all_failing_statements_once_each(conn):
    with capture_queries(conn) as captured:
        for customer in (42, 43, 44):
            conn.execute(BY_CUSTOMER, [customer]).fetchall()
        conn.execute(BY_ID, [1]).fetchall()
        conn.execute("SELECT * FROM order_items WHERE order_id = %s", [5]).fetchall()
        conn.execute("SET LOCAL work_mem = '8MB'")
    conn.rollback()
    with pytest.raises(PlanAssertionError) as info:
        captured.assert_plans(no_seq_scan=True, max_findings=None)
    message = str(info.value)
    lines = message.splitlines()
    assert lines[0] == (
        "2 of 4 distinct captured statements failed their plan checks"
        " (6 statements captured, 1 skipped)"
    )
    # deduplicated by text: the customer query appears once, with its run count
    assert message.count(BY_CUSTOMER) == 1
    assert "[1] " + BY_CUSTOMER in lines
    assert "    (run 3 times; params: [42])" in lines
    assert "[2] SELECT * FROM order_items WHERE order_id = %s" in lines
    assert "    expected: no Seq Scan reading 1,000 rows or more" in lines
    assert BY_ID not in message  # the primary-key lookup passed
    assert "skipped:" in lines
    assert any(line.startswith("  - SET LOCAL work_mem = '8MB': not explainable") for line in lines)
    assert sum(line.lstrip().startswith(">>") for line in lines) == 2  # one marked tree each


def test_assert_plans_returns_results_when_all_pass(conn):
    with capture_queries(conn) as captured:
        conn.execute(BY_ID, [1]).fetchall()
        conn.execute(BY_ID, [2]).fetchall()
        conn.execute(STATUS).fetchall()  # five rows: below the seq-scan floor
    conn.rollback()
    results = captured.assert_plans(no_seq_scan=True, max_findings="critical")
    assert [(r.statement.sql, r.count, r.skipped) for r in results] == [
        (BY_ID, 2, None),
        (STATUS, 1, None),
    ]
    assert results[0].plan.params == [1]
    assert_plan(results[0].plan).uses_index("orders_pkey")


def test_assert_plans_max_cost_and_ignore(conn):
    with capture_queries(conn) as captured:
        conn.execute(BY_CUSTOMER, [42]).fetchall()
    conn.rollback()
    with pytest.raises(PlanAssertionError, match=r"expected: total cost at most 10\.00"):
        captured.assert_plans(no_seq_scan=False, max_findings=None, max_cost=10)
    plan = captured.assert_plans(no_seq_scan=False, max_findings=None)[0].plan
    rules = sorted({f.rule for f in assert_plan(plan).report.at_least("info")})
    captured.assert_plans(no_seq_scan=False, max_findings="info", ignore=rules)


def test_dml_is_explained_without_changing_data(conn):
    conn.autocommit = True
    before = checksum(conn)
    with capture_queries(conn) as captured:
        with conn.transaction(force_rollback=True):
            conn.execute("UPDATE orders SET total = total + 1 WHERE customer_id = %s", [42])
            conn.execute("DELETE FROM order_items WHERE order_id <= %s", [50])
            conn.execute("DELETE FROM orders WHERE id <= %s", [50])
            conn.execute(
                "INSERT INTO orders (customer_id, status, created_at, total, country, city)"
                " SELECT customer_id, status, created_at, total, country, city FROM orders"
                " WHERE id = %s",
                [60],
            )
    assert checksum(conn) == before
    results = captured.assert_plans(no_seq_scan=False, max_findings=None)
    assert [r.plan.root.node_type for r in results] == ["ModifyTable"] * 4
    # Run alone, the DELETE from orders violates the foreign key from order_items (whose rows
    # the previous statement deleted in the app's transaction): its estimated plan is checked.
    analyzed = [r.plan.analyzed for r in results]
    assert analyzed == [True, True, False, True]
    assert "estimated plan only" in results[2].note
    assert "order_items_order_id_fkey" in results[2].note
    assert checksum(conn) == before  # explaining under ANALYZE was rolled back too
    with pytest.raises(PlanAssertionError) as info:
        captured.assert_plans(no_seq_scan=True, max_findings=None)
    assert "UPDATE orders SET total = total + 1 WHERE customer_id = %s" in str(info.value)
    assert checksum(conn) == before


def test_assert_plans_inside_the_block_does_not_record_its_own_explains(conn):
    with capture_queries(conn) as captured:
        conn.execute(BY_ID, [1]).fetchall()
        captured.assert_plans()
        conn.execute(BY_ID, [2]).fetchall()
    assert [s.params for s in captured.statements] == [[1], [2]]


def test_assert_plans_on_a_failed_transaction_is_an_error_not_a_pass(conn):
    from planalyzer.errors import ExplainError

    with capture_queries(conn) as captured:
        conn.execute(BY_ID, [1]).fetchall()
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
    with pytest.raises(ExplainError, match="transaction has failed"):
        captured.assert_plans()
    conn.rollback()
    assert isinstance(captured, CapturedQueries)
