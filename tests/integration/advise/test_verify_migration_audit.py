"""The migration files, the opt-in real check, and the audit, against the demo schema."""

from __future__ import annotations

import pytest

from planalyzer.advisor.advise import advise
from planalyzer.advisor.audit import audit
from planalyzer.errors import AdviceError

pytestmark = pytest.mark.hypopg

REAL_INDEXES = "SELECT schemaname, indexname, indexdef FROM pg_indexes ORDER BY 1, 2"
WORKLOAD = [
    "SELECT * FROM orders WHERE customer_id = 1 ORDER BY created_at DESC LIMIT 10",
    "SELECT * FROM events WHERE customer_id = 42",
]


def run_file(conn, path):
    """Run a generated migration file statement by statement (they are one per line)."""
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("--"):
            conn.execute(line)


def test_write_migration_numbers_files_and_applies_cleanly(aconn, autocommit_conn, tmp_path):
    advice = advise(aconn, WORKLOAD)
    (tmp_path / "007_existing.up.sql").write_text("-- an older migration\n")

    written = advice.write_migration(tmp_path)

    assert len(written) == 2 * len(advice.recommendations)
    assert written[0].name == f"008_{advice.recommendations[0].name}.up.sql"
    assert written[1].name == f"008_{advice.recommendations[0].name}.down.sql"
    before = autocommit_conn.execute(REAL_INDEXES).fetchall()
    try:
        for path in written[0::2]:  # the .up files, one statement at a time as psql does
            run_file(autocommit_conn, path)
        after = autocommit_conn.execute(REAL_INDEXES).fetchall()
        names = {row[1] for row in after}
        assert {r.name for r in advice.recommendations} <= names
    finally:
        for path in reversed(written[1::2]):
            run_file(autocommit_conn, path)
    assert autocommit_conn.execute(REAL_INDEXES).fetchall() == before


def test_verify_builds_measures_and_drops(aconn, autocommit_conn):
    advice = advise(aconn, WORKLOAD[:1])
    before = autocommit_conn.execute(REAL_INDEXES).fetchall()

    result = advice.verify(autocommit_conn, runs=1)

    assert autocommit_conn.execute(REAL_INDEXES).fetchall() == before
    [build] = result.builds
    assert build.error is None
    assert build.size_bytes is not None
    assert build.size_bytes > 0
    [timing] = result.statements
    assert timing.indexes_used == (advice.recommendations[0].name,)
    assert timing.after_ms is not None
    assert "Verification" in str(result)


def test_verify_refuses_a_transactional_connection(aconn):
    advice = advise(aconn, WORKLOAD[:1])
    with pytest.raises(AdviceError, match="autocommit"):
        advice.verify(aconn)


def test_migration_text_says_how_to_run_and_check_it(aconn):
    advice = advise(aconn, WORKLOAD[:1])
    up, down = advice.migration()
    assert "cannot run inside a transaction block" in up
    assert "EXPLAIN SELECT * FROM orders WHERE customer_id = 1" in up
    assert advice.recommendations[0].create_sql in up
    assert "DROP INDEX CONCURRENTLY IF EXISTS" in down


def test_audit_reports_the_demo_schemas_problems(aconn):
    report = audit(aconn)

    redundant = report.by_kind("redundant")
    assert [(f.index, f.related) for f in redundant] == [
        ("orders_status_idx", "orders_status_created_at_idx")
    ]
    assert redundant[0].sql == 'DROP INDEX CONCURRENTLY IF EXISTS "public"."orders_status_idx";'
    fk_tables = sorted((f.table, f.message.split()[2]) for f in report.by_kind("unindexed-fk"))
    assert fk_tables == [
        ("public.events", "events_customer_id_fkey"),
        ("public.order_items", "order_items_order_id_fkey"),
        ("public.order_items", "order_items_product_id_fkey"),
        ("public.orders", "orders_customer_id_fkey"),
    ]
    events_fk = next(f for f in report.by_kind("unindexed-fk") if f.table == "public.events")
    assert "ON ONLY" in events_fk.sql
    # Constraint-backing indexes are never proposed for dropping.
    dropped = {f.index for f in report.findings if f.kind != "unindexed-fk"}
    assert not any(name.endswith("_pkey") or name.endswith("_key") for name in dropped)
    assert report.reclaimable_bytes == redundant[0].size_bytes


def test_audit_finds_a_duplicate(autocommit_conn):
    autocommit_conn.execute("CREATE INDEX planalyzer_test_dup ON products (category)")
    autocommit_conn.execute("CREATE INDEX planalyzer_test_dup2 ON products (category)")
    try:
        report = audit(autocommit_conn, ["products"])
        [dup] = report.by_kind("duplicate")
        assert (dup.index, dup.related) == ("planalyzer_test_dup2", "planalyzer_test_dup")
    finally:
        autocommit_conn.execute("DROP INDEX planalyzer_test_dup, planalyzer_test_dup2")


def test_audit_never_proposes_dropping_what_a_foreign_key_or_another_drop_relies_on(
    autocommit_conn,
):
    """Indexes a foreign key or another drop relies on are kept, even with zero scans.

    Fresh statistics make every index look unused: the audit must still leave in place the
    index a foreign key needs and the longer index a redundant one is dropped in favour of.
    """
    autocommit_conn.execute(
        "CREATE TABLE planalyzer_audit_parent (id int PRIMARY KEY);"
        "CREATE TABLE planalyzer_audit_child (id int PRIMARY KEY,"
        " parent_id int REFERENCES planalyzer_audit_parent (id), kind text);"
        "CREATE INDEX planalyzer_audit_child_parent ON planalyzer_audit_child (parent_id);"
        "CREATE INDEX planalyzer_audit_child_kind ON planalyzer_audit_child (kind);"
        "CREATE INDEX planalyzer_audit_child_kind_parent"
        " ON planalyzer_audit_child (kind, parent_id);"
    )
    try:
        report = audit(autocommit_conn, ["planalyzer_audit_child"])
        proposed = {f.index for f in report.findings if f.kind in ("unused", "redundant")}
        # kind is a prefix of (kind, parent_id): drop the short one, keep the long one
        assert "planalyzer_audit_child_kind" in proposed
        assert "planalyzer_audit_child_kind_parent" not in proposed
        # the only index leading with the foreign key column stays, scanned or not
        assert "planalyzer_audit_child_parent" not in proposed
        assert report.by_kind("unindexed-fk") == []
    finally:
        autocommit_conn.execute(
            "DROP TABLE planalyzer_audit_child; DROP TABLE planalyzer_audit_parent"
        )
