"""explain() never changes the user's data, transaction or session (issue 4, required 2)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from planalyzer.errors import ExplainError
from planalyzer.live import explain

# Row count and the sum of a 64-bit hash of every row's text: any inserted, deleted or changed
# row changes it. (md5 over string_agg(... ORDER BY id) works too, at twice the time.)
CHECKSUM = (
    "SELECT (SELECT (count(*), sum(hashtextextended(t::text, 0)))::text FROM orders t),"
    " (SELECT (count(*), sum(hashtextextended(t::text, 0)))::text FROM order_items t),"
    " (SELECT (count(*), sum(hashtextextended(t::text, 0)))::text FROM order_statuses t)"
)

WRITES = {
    "update": "UPDATE orders SET total = 0, note = 'changed' WHERE customer_id = 42",
    "delete": "DELETE FROM order_items WHERE order_id <= 500",
    "insert": (
        "INSERT INTO orders (customer_id, status, created_at, total, country, city)"
        " SELECT id, 'pending', now(), 1, country, city FROM customers WHERE id <= 100"
    ),
    "merge": (
        "MERGE INTO orders o USING (VALUES (1::bigint, 5.00), (400000, 7.00)) AS v(id, total)"
        " ON o.id = v.id"
        " WHEN MATCHED THEN UPDATE SET total = v.total"
        " WHEN NOT MATCHED THEN INSERT (customer_id, status, created_at, total, country, city)"
        " VALUES (1, 'paid', now(), v.total, 'US', 'Chicago')"
    ),
    "modifying-cte": (
        "WITH gone AS (DELETE FROM order_items WHERE order_id <= 100 RETURNING order_id)"
        " UPDATE orders SET status = 'failed' WHERE id IN (SELECT order_id FROM gone)"
    ),
    "select-with-modifying-cte": (
        "WITH changed AS (UPDATE orders SET total = total + 1 WHERE id <= 1000 RETURNING id)"
        " SELECT count(*) FROM changed"
    ),
}


@pytest.fixture(scope="module")
def checksum_before(demo_dsn):
    with psycopg.connect(demo_dsn) as setup:
        return setup.execute(CHECKSUM).fetchone()


@pytest.mark.parametrize("statement", WRITES.values(), ids=WRITES.keys())
def test_data_unchanged_after_explaining_a_write(conn, checksum_before, statement):
    plan = explain(conn, statement)

    assert plan.analyzed
    assert any((node.actual_rows or 0) > 0 for node in plan.nodes()), "the write did run"
    assert conn.info.transaction_status == TransactionStatus.IDLE
    assert conn.execute(CHECKSUM).fetchone() == checksum_before


def test_sequences_advance_and_that_is_documented(conn):
    # nextval() is not transactional: the rollback cannot give sequence values back.
    before = conn.execute("SELECT last_value FROM orders_id_seq").fetchone()[0]
    explain(conn, WRITES["insert"])
    after = conn.execute("SELECT last_value FROM orders_id_seq").fetchone()[0]
    assert after > before
    assert "nextval" in (explain.__doc__ or "")


def test_users_open_transaction_survives(conn):
    conn.execute("INSERT INTO order_statuses VALUES ('on_hold', 'user row', false)")
    assert conn.info.transaction_status == TransactionStatus.INTRANS

    explain(conn, "UPDATE order_statuses SET description = 'x'")
    with pytest.raises(ExplainError):
        explain(conn, "SELECT 1 / 0")
    with pytest.raises(ExplainError):
        explain(conn, "SELECT pg_sleep(5)", timeout_s=0.1)

    assert conn.info.transaction_status == TransactionStatus.INTRANS
    row = conn.execute("SELECT description FROM order_statuses WHERE code = 'on_hold'").fetchone()
    assert row == ("user row",)
    conn.rollback()


def test_autocommit_connection_stays_autocommit(demo_dsn, checksum_before):
    with psycopg.connect(demo_dsn, autocommit=True) as auto:
        explain(auto, WRITES["update"])
        explain(auto, "SELECT * FROM orders WHERE id = $1")
        with pytest.raises(ExplainError):
            explain(auto, "SELECT 1 / 0")
        assert auto.autocommit
        assert auto.info.transaction_status == TransactionStatus.IDLE
        assert auto.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
        assert auto.execute(CHECKSUM).fetchone() == checksum_before


def test_session_settings_are_restored(conn):
    conn.execute("SET statement_timeout = '123s'")
    conn.execute("SET work_mem = '7MB'")
    conn.commit()

    explain(conn, "SELECT count(*) FROM orders", timeout_s=30)
    explain(conn, "SELECT * FROM orders WHERE id = $1")  # generic plan: plan_cache_mode
    with pytest.raises(ExplainError):
        explain(conn, "SELECT pg_sleep(5)", timeout_s=0.1)

    shown = conn.execute(
        "SELECT current_setting('statement_timeout'), current_setting('work_mem'),"
        " current_setting('plan_cache_mode')"
    ).fetchone()
    assert shown == ("123s", "7MB", "auto")


def test_timeout_interrupts_and_leaves_connection_usable(conn):
    with pytest.raises(ExplainError) as caught:
        explain(conn, "SELECT pg_sleep(5)", timeout_s=0.2)

    assert caught.value.sqlstate == "57014"
    assert "0.2 s timeout" in str(caught.value)
    assert conn.info.transaction_status == TransactionStatus.IDLE
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_failed_transaction_is_refused_and_left_alone(conn):
    with pytest.raises(psycopg.errors.DivisionByZero):
        conn.execute("SELECT 1 / 0")

    with pytest.raises(ExplainError, match="roll it back"):
        explain(conn, "SELECT 1")
    assert conn.info.transaction_status == TransactionStatus.INERROR
    conn.rollback()


def test_server_error_keeps_sqlstate_and_message(conn):
    with pytest.raises(ExplainError) as caught:
        explain(conn, "SELECT no_such_column FROM orders")

    assert caught.value.sqlstate == "42703"
    assert 'column "no_such_column" does not exist' in (caught.value.server_message or "")
    assert isinstance(caught.value.__cause__, psycopg.Error)
    assert conn.info.transaction_status == TransactionStatus.IDLE
