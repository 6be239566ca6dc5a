"""EXPLAIN ANALYZE refuses what a rollback cannot undo and reports what it ran (issue 18)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from planalyzer.errors import UnsafeStatementError
from planalyzer.live import explain

SETUP = """
DROP SCHEMA IF EXISTS pa_side CASCADE;
CREATE SCHEMA pa_side;
CREATE SEQUENCE pa_side.counter;
SELECT setval('pa_side.counter', 10);
CREATE TABLE pa_side.items (id serial PRIMARY KEY, label text);
CREATE TABLE pa_side.tickets (id bigint GENERATED ALWAYS AS IDENTITY, label text);
CREATE FUNCTION pa_side.touch() RETURNS int LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN RETURN 1; END $$;
CREATE FUNCTION pa_side.rewind() RETURNS bigint LANGUAGE sql VOLATILE
    AS $$ SELECT setval('pa_side.counter', 1) $$;
CREATE TABLE pa_side.stamped (id int, mark bigint DEFAULT pa_side.rewind());
CREATE TABLE pa_side.audited (id int);
CREATE TABLE pa_side.audit_log (id int);
CREATE FUNCTION pa_side.log_row() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN INSERT INTO pa_side.audit_log VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER log_insert AFTER INSERT ON pa_side.audited
    FOR EACH ROW EXECUTE FUNCTION pa_side.log_row();
CREATE TABLE pa_side.locked (id int);
CREATE FUNCTION pa_side.lock_row() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN PERFORM pg_advisory_lock(NEW.id); RETURN NEW; END $$;
CREATE TRIGGER lock_insert BEFORE INSERT ON pa_side.locked
    FOR EACH ROW EXECUTE FUNCTION pa_side.lock_row();
CREATE TABLE pa_side.parents (id int PRIMARY KEY);
CREATE TABLE pa_side.children (parent int REFERENCES pa_side.parents ON DELETE CASCADE);
CREATE FUNCTION pa_side.note_delete() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RETURN OLD; END $$;
CREATE TRIGGER child_gone AFTER DELETE ON pa_side.children
    FOR EACH ROW EXECUTE FUNCTION pa_side.note_delete();
"""


@pytest.fixture(scope="module")
def side_schema(demo_dsn):
    with psycopg.connect(demo_dsn, autocommit=True) as admin:
        admin.execute(SETUP)
    yield
    with psycopg.connect(demo_dsn, autocommit=True) as admin:
        admin.execute("DROP SCHEMA pa_side CASCADE")


@pytest.fixture
def db(conn, side_schema):
    return conn


def counter(conn) -> int:
    with conn.transaction():
        return conn.execute("SELECT last_value FROM pa_side.counter").fetchone()[0]


def test_setval_is_refused_and_the_sequence_unchanged(db):
    before = counter(db)

    with pytest.raises(UnsafeStatementError) as caught:
        explain(db, "SELECT setval('pa_side.counter', 1000)")

    assert caught.value.functions == ("pg_catalog.setval",)
    assert "sequence" in caught.value.reasons[0]
    assert "pg_catalog.setval" in str(caught.value)
    assert counter(db) == before == 10
    assert db.info.transaction_status == TransactionStatus.IDLE


def test_terminate_backend_of_another_session_is_refused_and_it_survives(db, demo_dsn):
    with psycopg.connect(demo_dsn) as other:
        pid = other.info.backend_pid

        with pytest.raises(UnsafeStatementError) as caught:
            explain(db, "SELECT pg_terminate_backend(%s)", [pid])

        assert caught.value.functions == ("pg_catalog.pg_terminate_backend",)
        assert other.execute("SELECT 1").fetchone() == (1,)


def test_session_advisory_lock_is_refused_and_no_lock_is_left(db):
    with pytest.raises(UnsafeStatementError) as caught:
        explain(db, "SELECT pg_advisory_lock(4242)")

    assert caught.value.functions == ("pg_catalog.pg_advisory_lock",)
    held = db.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    ).fetchone()
    assert held == (0,)


def test_transaction_advisory_lock_runs_with_a_warning_and_is_released(db):
    plan = explain(db, "SELECT pg_advisory_xact_lock(4243)")

    assert plan.analyzed
    assert any("pg_advisory_xact_lock" in w and "released" in w for w in plan.warnings)
    held = db.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    ).fetchone()
    assert held == (0,)


@pytest.mark.parametrize(
    ("table", "sequence"),
    [("items", "pa_side.items_id_seq"), ("tickets", "pa_side.tickets_id_seq")],
    ids=["serial", "identity"],
)
def test_insert_into_a_generated_key_reports_the_values_consumed(db, table, sequence):
    read = f"SELECT last_value, is_called FROM {sequence}"
    with db.transaction():
        last, called = db.execute(read).fetchone()
    rows = 5

    plan = explain(
        db, f"INSERT INTO pa_side.{table} (label) SELECT 'x' FROM generate_series(1, {rows})"
    )

    with db.transaction():
        after, _ = db.execute(read).fetchone()
    assert after == (last if called else last - 1) + rows  # the values really were drawn
    mentions = [w for w in plan.warnings if sequence in w]
    assert len(mentions) == 1
    assert f"by {rows} values" in mentions[0]
    assert f"-> {after}" in mentions[0]
    with db.transaction():
        assert db.execute(f"SELECT count(*) FROM pa_side.{table}").fetchone() == (0,)


def test_explicit_keys_consume_nothing_and_warn_nothing(db):
    plan = explain(db, "INSERT INTO pa_side.items (id, label) VALUES (100000, 'x')")
    assert plan.warnings == []


def test_user_volatile_function_is_listed(db):
    plan = explain(db, "SELECT pa_side.touch()")

    assert plan.analyzed
    assert [w for w in plan.warnings if "pa_side.touch" in w]
    assert "VOLATILE" in plan.warnings[0]


def test_opt_in_runs_a_refused_statement_and_says_so(db):
    try:
        plan = explain(db, "SELECT setval('pa_side.counter', 1000)", allow_side_effects=True)

        assert plan.analyzed
        assert any(
            w.startswith("allow_side_effects=True") and "pg_catalog.setval" in w
            for w in plan.warnings
        )
        assert counter(db) == 1000  # it really ran: that is what the user asked for
    finally:
        with db.transaction():
            db.execute("SELECT setval('pa_side.counter', 10)")


def test_function_hidden_in_a_column_default_is_found(db):
    with pytest.raises(UnsafeStatementError) as caught:
        explain(db, "INSERT INTO pa_side.stamped (id) VALUES (1)")

    assert caught.value.functions == ("pg_catalog.setval",)
    assert "pa_side.rewind()" in str(caught.value)
    assert "default of pa_side.stamped.mark" in str(caught.value)
    assert counter(db) == 10


def test_trigger_of_the_written_table_is_listed(db):
    plan = explain(db, "INSERT INTO pa_side.audited VALUES (1)")

    listed = [w for w in plan.warnings if "pa_side.log_row" in w]
    assert len(listed) == 1
    assert "trigger log_insert on pa_side.audited" in listed[0]
    assert explain(db, "DELETE FROM pa_side.audited").warnings == []  # fires on INSERT only


def test_refused_call_inside_a_plpgsql_trigger_is_found(db):
    with pytest.raises(UnsafeStatementError) as caught:
        explain(db, "INSERT INTO pa_side.locked VALUES (7)")

    assert caught.value.functions == ("pg_catalog.pg_advisory_lock",)
    assert "run by trigger lock_insert on pa_side.locked" in str(caught.value)
    held = db.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    ).fetchone()
    assert held == (0,)


def test_trigger_reached_through_a_foreign_key_cascade_is_listed(db):
    plan = explain(db, "DELETE FROM pa_side.parents")

    listed = [w for w in plan.warnings if "pa_side.note_delete" in w]
    assert len(listed) == 1
    assert "trigger child_gone on pa_side.children" in listed[0]


def test_plain_explain_is_never_refused_and_runs_nothing(db):
    plan = explain(db, "SELECT setval('pa_side.counter', 1000)", analyze=False)

    assert not plan.analyzed
    assert plan.warnings == []
    assert counter(db) == 10


def test_refusal_inside_an_open_transaction_keeps_the_callers_work(db):
    db.execute("CREATE TEMP TABLE mine (x int)")
    db.execute("INSERT INTO mine VALUES (1)")

    with pytest.raises(UnsafeStatementError):
        explain(db, "SELECT pg_reload_conf()")

    assert db.info.transaction_status == TransactionStatus.INTRANS
    assert db.execute("SELECT count(*) FROM mine").fetchone() == (1,)
    db.rollback()


def test_warnings_show_in_the_text_of_the_plan(db):
    plan = explain(db, "SELECT pa_side.touch()")
    assert "pa_side.touch" in str(plan)
