"""catalog(): sizes, statistics, indexes, foreign keys and settings of the demo schema."""

from __future__ import annotations

import pytest
from psycopg.pq import TransactionStatus

from planalyzer.errors import DatabaseError
from planalyzer.live import CatalogFacts, TableFacts, catalog


@pytest.fixture
def orders(conn) -> TableFacts:
    table = catalog(conn, tables=["orders"]).table("orders")
    assert table is not None
    return table


def test_table_size_and_rows(orders):
    assert orders.qualified_name == "public.orders"
    assert orders.row_estimate == 300_000
    assert orders.pages > 0
    assert orders.total_size_bytes == orders.table_size_bytes + orders.indexes_size_bytes
    assert orders.owner == "postgres"
    assert orders.owned_by_current_role
    assert not orders.partitioned
    assert orders.activity is not None
    assert orders.activity.n_tup_ins == 300_000
    assert orders.activity.last_analyze is not None


def test_foreign_key_without_index_is_detected(orders):
    fks = {fk.name: fk for fk in orders.foreign_keys}

    customer = fks["orders_customer_id_fkey"]
    assert customer.columns == ["customer_id"]
    assert (customer.referenced_schema, customer.referenced_table) == ("public", "customers")
    assert customer.referenced_columns == ["id"]
    assert not customer.indexed

    status = fks["orders_status_fkey"]
    assert status.indexed
    assert status.covering_index in {"orders_status_idx", "orders_status_created_at_idx"}


def test_column_statistics_show_the_skew(orders):
    status = orders.column("status")
    assert status is not None
    assert status.data_type == "text"
    assert status.not_null
    stats = status.stats
    assert stats is not None
    assert stats.most_common_vals is not None
    assert stats.most_common_freqs is not None
    freqs = dict(zip(stats.most_common_vals, stats.most_common_freqs, strict=True))
    assert freqs["delivered"] > 0.65
    assert 0.005 < freqs["failed"] < 0.02
    assert stats.null_frac == 0

    created = orders.column("created_at")
    assert created is not None
    assert created.stats is not None
    assert created.stats.correlation == pytest.approx(1.0, abs=0.01)
    assert created.stats.histogram_bounds

    note = orders.column("note")
    assert note is not None
    assert note.stats is not None
    assert note.stats.null_frac > 0.9


def test_indexes(orders):
    indexes = {index.name: index for index in orders.indexes}

    pkey = indexes["orders_pkey"]
    assert pkey.primary
    assert pkey.unique
    assert pkey.valid
    assert pkey.method == "btree"
    assert [column.expression for column in pkey.columns] == ["id"]
    assert pkey.size_bytes > 0

    pair = indexes["orders_status_created_at_idx"]
    assert [column.expression for column in pair.columns] == ["status", "created_at"]
    assert pair.key_attnums == (3, 4)
    assert not pair.unique


def test_index_details_desc_expression_include_predicate(conn):
    conn.execute(
        "CREATE INDEX planalyzer_test_idx ON order_items"
        " (product_id DESC, (quantity * 2) NULLS FIRST) INCLUDE (unit_price) WHERE quantity > 1"
    )
    items = catalog(conn, tables=["public.order_items"]).table("order_items")
    assert items is not None
    index = next(index for index in items.indexes if index.name == "planalyzer_test_idx")

    product, expression = index.columns
    assert (product.expression, product.attnum, product.descending) == ("product_id", 3, True)
    assert product.nulls_first  # DESC implies NULLS FIRST
    assert (expression.expression, expression.attnum) == ("(quantity * 2)", None)
    assert not expression.descending
    assert expression.nulls_first
    assert index.include == ["unit_price"]
    assert index.predicate == "quantity > 1"
    conn.rollback()


def test_partitioned_table(conn):
    events = catalog(conn, tables=["events"]).table("events")
    assert events is not None
    assert events.partitioned
    assert events.partitions == [f"public.events_2024_q{q}" for q in range(1, 5)]
    assert events.total_size_bytes > 0  # summed over the partitions
    kind = events.column("kind")
    assert kind is not None
    assert kind.stats is not None
    assert kind.stats.most_common_vals is not None
    assert kind.stats.most_common_vals[0] == "page_view"


def test_all_tables_and_settings(conn):
    facts = catalog(conn)

    assert isinstance(facts, CatalogFacts)
    names = [table.qualified_name for table in facts.tables]
    for name in ("customers", "events", "order_items", "order_statuses", "orders", "products"):
        assert f"public.{name}" in names
    assert "public.events_2024_q1" not in names  # partitions are listed on their parent
    settings = facts.settings
    assert settings.server_version_num == conn.info.server_version
    assert settings.work_mem_bytes == 4 * 1024 * 1024
    assert settings.shown["work_mem"] == "4MB"
    assert settings.random_page_cost == 4
    assert settings.seq_page_cost == 1
    assert isinstance(settings.jit, bool)
    assert settings.default_statistics_target == 100
    assert settings.effective_cache_size_bytes > 0
    assert settings.shared_buffers_bytes > 0


def test_connection_state_is_left_alone(conn):
    catalog(conn, tables=["orders"])
    assert conn.info.transaction_status == TransactionStatus.IDLE


@pytest.mark.parametrize(
    "name", ["orders; DROP TABLE x", 'orders"; DROP TABLE x; --', "nope.orders"]
)
def test_injection_shaped_or_unknown_table_name_is_harmless(conn, name):
    conn.execute("CREATE TABLE x (a int)")
    with pytest.raises(DatabaseError, match="no such table"):
        catalog(conn, tables=[name])
    assert conn.execute("SELECT to_regclass('x') IS NOT NULL").fetchone() == (True,)
    assert conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)
    conn.rollback()
