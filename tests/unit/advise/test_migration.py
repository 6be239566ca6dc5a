"""Index names and migration text (no database)."""

from __future__ import annotations

import pytest

from planalyzer.advisor.migration import (
    MAX_NAME_BYTES,
    create_statements,
    drop_statements,
    index_name,
    migration_text,
    write_migration_files,
)
from planalyzer.advisor.model import IndexCandidate, KeyColumn, Recommendation


def candidate(*columns, table="public.orders", **extra):
    return IndexCandidate(table=table, columns=tuple(KeyColumn(name=c) for c in columns), **extra)


def recommendation(cand, name):
    return Recommendation(
        name=name,
        table=cand.table,
        columns=cand.column_names,
        key_columns=cand.columns,
        where=cand.where,
        create_sql=create_statements(cand, name),
        drop_sql=drop_statements(cand.table, name),
        size_bytes=3 * 2**20,
        checks=("SELECT * FROM orders\n WHERE customer_id = 1",),
    )


def test_names_are_readable_and_deterministic():
    partial = candidate("created_at", where="status = 'failed'")
    assert index_name(partial) == "idx_orders_created_at_where_status_failed"
    assert index_name(partial) == index_name(partial.model_copy())
    assert index_name(candidate("customer_id", include=("total",))) == (
        "idx_orders_customer_id_incl"
    )
    trigram = IndexCandidate(
        table="public.customers",
        columns=(KeyColumn(name="name", opclass="gin_trgm_ops"),),
        method="gin",
    )
    assert index_name(trigram) == "idx_customers_name_trgm"


def test_long_names_are_cut_to_63_bytes_with_a_distinguishing_hash():
    long_a = candidate(*(f"a_rather_long_column_name_{i}" for i in range(4)))
    long_b = candidate(*(f"a_rather_long_column_name_{i}" for i in (0, 1, 2, 9)))
    a, b = index_name(long_a), index_name(long_b)
    assert len(a.encode()) == MAX_NAME_BYTES
    assert a != b
    assert a[:40] == b[:40]
    multibyte = candidate("größe_" * 12, table="public.maße")
    assert len(index_name(multibyte).encode()) <= MAX_NAME_BYTES
    index_name(multibyte).encode().decode()  # still valid UTF-8


def test_identifiers_are_quoted():
    odd = candidate('Order "Items"', "select", table="Sales Data.Orders")
    text = create_statements(odd, "idx")
    assert text == (
        'CREATE INDEX CONCURRENTLY "idx" ON "Sales Data"."Orders" USING "btree" '
        '("Order ""Items""", "select");'
    )
    assert drop_statements("Sales Data.Orders", "idx") == (
        'DROP INDEX CONCURRENTLY IF EXISTS "Sales Data"."idx";'
    )


def test_key_options_and_expressions():
    cand = IndexCandidate(
        table="public.orders",
        columns=(
            KeyColumn(name="customer_id"),
            KeyColumn(name="note", descending=True, nulls_first=False),
            KeyColumn(name="lower(email)", expression=True),
        ),
    )
    assert '("customer_id", "note" DESC NULLS LAST, (lower(email)))' in create_statements(cand, "i")


def test_partitioned_parent_uses_on_only_and_attach():
    cand = candidate("customer_id", table="public.events")
    text = create_statements(
        cand, "idx_events_customer_id", ["public.events_q1", "public.events_q2"]
    )
    lines = text.splitlines()
    assert lines[1].startswith('CREATE INDEX "idx_events_customer_id" ON ONLY "public"."events"')
    assert sum("CREATE INDEX CONCURRENTLY" in line for line in lines) == 2
    assert lines[-1] == (
        'ALTER INDEX "public"."idx_events_customer_id" ATTACH PARTITION '
        '"public"."idx_events_customer_id_events_q2";'
    )
    drop = drop_statements("public.events", "idx_events_customer_id", partitioned=True)
    assert drop.splitlines()[-1] == 'DROP INDEX IF EXISTS "public"."idx_events_customer_id";'


def test_migration_text_has_the_warnings_and_the_checks():
    rec = recommendation(candidate("customer_id"), "idx_orders_customer_id")
    up, down = migration_text([rec])
    assert "cannot run inside a transaction block" in up
    assert "--   EXPLAIN SELECT * FROM orders WHERE customer_id = 1" in up
    assert rec.create_sql in up
    assert "(about 3.0 MiB)" in up
    assert down.rstrip().endswith(rec.drop_sql)


def test_write_migration_files_numbers_after_existing_and_never_overwrites(tmp_path):
    (tmp_path / "041_add_orders.up.sql").write_text("")
    recs = [
        recommendation(candidate("customer_id"), "idx_orders_customer_id"),
        recommendation(candidate("status"), "idx_orders_status"),
    ]
    paths = write_migration_files(recs, tmp_path)
    assert [p.name for p in paths] == [
        "042_idx_orders_customer_id.up.sql",
        "042_idx_orders_customer_id.down.sql",
        "043_idx_orders_status.up.sql",
        "043_idx_orders_status.down.sql",
    ]
    assert "CREATE INDEX CONCURRENTLY" in paths[0].read_text()
    with pytest.raises(FileExistsError):
        write_migration_files(recs, tmp_path, start=42)
