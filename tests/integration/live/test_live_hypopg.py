"""The HypoPG session: creates, explains, and always cleans up, never a real index."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql
from psycopg.pq import TransactionStatus

from planalyzer.errors import DatabaseError, ExtensionMissingError, UnsafeStatementError
from planalyzer.live import IndexSpec, hypothetical

pytestmark = pytest.mark.hypopg

REAL_INDEXES = "SELECT count(*) FROM pg_index"
HYPO_INDEXES = "SELECT count(*) FROM hypopg_list_indexes"


def test_hypothetical_index_is_used_sized_and_removed(conn):
    real_before = conn.execute(REAL_INDEXES).fetchone()

    with hypothetical(conn) as hypo:
        index = hypo.create("CREATE INDEX ON orders (customer_id)")
        plan = hypo.explain("SELECT * FROM orders WHERE customer_id = 42")

        assert index.table == "public.orders"
        assert index.columns == ["customer_id"]
        assert index.size_bytes > 0
        assert index.name.endswith("btree_orders_customer_id")
        assert not plan.analyzed
        assert any(node.index_name == index.name for node in plan.nodes())
        assert hypo.indexes == (index,)
        assert conn.execute(HYPO_INDEXES).fetchone() == (1,)

    assert conn.execute(HYPO_INDEXES).fetchone() == (0,)
    assert conn.execute(REAL_INDEXES).fetchone() == real_before
    conn.rollback()


def test_index_spec_is_rendered_with_quoted_names(conn):
    spec = IndexSpec(
        table="public.order_items",
        columns=[{"name": "order_id", "descending": True, "nulls_first": False}, "product_id"],
        include=["quantity"],
        where="quantity > 1",
    )
    with hypothetical(conn) as hypo:
        index = hypo.create(spec)
        assert index.columns == ["order_id", "product_id"]
        assert index.create_sql == (
            'CREATE INDEX ON "public"."order_items" USING "btree"'
            ' ("order_id" DESC NULLS LAST, "product_id") INCLUDE ("quantity") WHERE quantity > 1'
        )
        plan = hypo.explain("SELECT quantity FROM order_items WHERE order_id = 7 AND quantity > 1")
        assert any(node.index_name == index.name for node in plan.nodes())
    assert conn.execute(HYPO_INDEXES).fetchone() == (0,)


def test_indexes_removed_after_an_exception(conn):
    def fail_inside_session():
        with hypothetical(conn) as hypo:
            hypo.create("CREATE INDEX ON orders (customer_id)")
            hypo.create("CREATE INDEX ON order_items (order_id)")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside_session()

    assert conn.execute(HYPO_INDEXES).fetchone() == (0,)


def test_only_its_own_indexes_are_removed(conn):
    conn.execute("SELECT * FROM hypopg_create_index('CREATE INDEX ON products (category)')")
    with hypothetical(conn) as hypo:
        hypo.create("CREATE INDEX ON orders (customer_id)")
    assert conn.execute("SELECT table_name FROM hypopg_list_indexes").fetchall() == [("products",)]
    conn.execute("SELECT hypopg_reset()")


def test_remove(conn):
    with hypothetical(conn) as hypo:
        first = hypo.create("CREATE INDEX ON orders (customer_id)")
        second = hypo.create("CREATE INDEX ON orders (status, created_at)")
        hypo.remove(first)
        assert hypo.indexes == (second,)
        assert conn.execute(HYPO_INDEXES).fetchone() == (1,)


def test_transaction_state_is_kept(conn, demo_dsn):
    with hypothetical(conn) as hypo:
        hypo.create("CREATE INDEX ON orders (customer_id)")
        hypo.explain("SELECT * FROM orders WHERE customer_id = %s", [3])
    assert conn.info.transaction_status == TransactionStatus.IDLE

    with psycopg.connect(demo_dsn, autocommit=True) as auto, hypothetical(auto) as hypo:
        hypo.create("CREATE INDEX ON orders (customer_id)")
        assert auto.autocommit
        assert auto.info.transaction_status == TransactionStatus.IDLE


@pytest.mark.parametrize(
    "text",
    [
        "DROP TABLE orders",
        "CREATE INDEX ON orders (id); DROP TABLE orders",
        "SELECT hypopg_reset()",
        "CREATE INDEX ON",
    ],
)
def test_only_a_single_create_index_is_accepted(conn, text):
    with hypothetical(conn) as hypo, pytest.raises(UnsafeStatementError):
        hypo.create(text)
    assert conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)


@pytest.mark.parametrize(
    "spec",
    [
        IndexSpec(table="orders; DROP TABLE x", columns=["id"]),
        IndexSpec(table="orders", columns=['id"); DROP TABLE x; --']),
        IndexSpec(table="orders", columns=["id"], include=["x; DROP TABLE x"]),
    ],
    ids=["table", "column", "include"],
)
def test_injection_shaped_names_are_harmless(conn, spec):
    conn.execute("CREATE TABLE x (a int)")
    with hypothetical(conn) as hypo, pytest.raises(DatabaseError) as caught:
        hypo.create(spec)
    assert "does not exist" in (caught.value.server_message or "")
    assert conn.execute("SELECT to_regclass('x') IS NOT NULL").fetchone() == (True,)
    conn.rollback()


def test_predicate_cannot_smuggle_a_second_statement(conn):
    spec = IndexSpec(table="orders", columns=["id"], where="true; DROP TABLE orders")
    with hypothetical(conn) as hypo, pytest.raises(UnsafeStatementError):
        hypo.create(spec)
    assert conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)


def test_missing_extension_is_created_when_allowed(pg_server):
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute("CREATE DATABASE planalyzer_fresh")
    try:
        with psycopg.connect(pg_server.dsn_for("planalyzer_fresh")) as fresh:
            with hypothetical(fresh) as hypo:
                hypo.create("CREATE INDEX ON pg_class (relname)")
            assert fresh.execute(
                "SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'"
            ).fetchone() == (1,)
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            admin.execute("DROP DATABASE planalyzer_fresh")


def test_extension_that_cannot_be_created_gives_an_actionable_error(pg_server):
    role = sql.Identifier("planalyzer_plain")
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute("CREATE DATABASE planalyzer_nohypo")
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    try:
        dsn = pg_server.dsn_for("planalyzer_nohypo").replace(
            "user=postgres", "user=planalyzer_plain"
        )
        with psycopg.connect(dsn) as plain, pytest.raises(ExtensionMissingError) as caught:
            with hypothetical(plain):
                pass
        message = str(caught.value)
        assert "apt-get install postgresql-15-hypopg" in message
        assert "CREATE EXTENSION hypopg" in message
        assert "permission denied" in message
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            admin.execute("DROP DATABASE planalyzer_nohypo")
            admin.execute(sql.SQL("DROP ROLE {}").format(role))
