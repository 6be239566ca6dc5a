"""Plan snapshots of a live plan: created, matched, broken by dropping an index, accepted.

The user's test file snapshots the plan of one query twice, with syrupy's ``snapshot`` and with
the plugin's ``plan_snapshot`` (files in ``__plan_snapshots__``). In-process pytester runs with
only those two plugins loaded keep it quick.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

import planalyzer as pa
from planalyzer.testing._shape import shape_difference

TABLE = "i17_snapshot_items"

USER_TESTS = f"""
import planalyzer as pa

def lookup_plan(conn):
    return pa.explain(conn, "SELECT * FROM {TABLE} WHERE grp = %s", [7], analyze=False)

def test_with_syrupy(planalyzer_conn, snapshot):
    assert lookup_plan(planalyzer_conn).shape() == snapshot

def test_with_plan_snapshot(planalyzer_conn, plan_snapshot):
    assert lookup_plan(planalyzer_conn).shape() == plan_snapshot
"""


@pytest.fixture
def table(demo_dsn):
    with psycopg.connect(demo_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(TABLE)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} AS SELECT g AS id, g % 2000 AS grp, md5(g::text) AS v"
                " FROM generate_series(1, 40000) AS g"
            ).format(sql.Identifier(TABLE))
        )
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} (grp)").format(
                sql.Identifier(f"{TABLE}_grp_idx"), sql.Identifier(TABLE)
            )
        )
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(TABLE)))
    try:
        yield f"{TABLE}_grp_idx"
    finally:
        with psycopg.connect(demo_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(TABLE)))


def test_snapshot_lifecycle_on_a_live_plan(pytester, demo_dsn, monkeypatch, table):
    monkeypatch.setenv("PLANALYZER_DSN", demo_dsn)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makepyfile(test_queries=USER_TESTS)

    def run(*args):
        return pytester.runpytest(
            "-p", "planalyzer", "-p", "syrupy", "-p", "no:cacheprovider", "-vv", *args
        )

    run().assert_outcomes(failed=2)  # no snapshot yet: a CI run must not accept one silently
    run("--snapshot-update").assert_outcomes(passed=2)
    stored = pytester.path / "__plan_snapshots__" / "test_queries" / "test_with_plan_snapshot.txt"
    assert table in stored.read_text()
    run().assert_outcomes(passed=2)

    query = f"SELECT * FROM {TABLE} WHERE grp = %s"
    with psycopg.connect(demo_dsn, autocommit=True) as conn:
        before = pa.explain(conn, query, [7], analyze=False).shape()
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(table)))
        after = pa.explain(conn, query, [7], analyze=False).shape()
    assert f"Seq Scan on {TABLE}" in after
    broken = run()
    broken.assert_outcomes(failed=2)
    out = broken.stdout.str()
    # both snapshots fail naming the node that changed and what was expected there
    where = shape_difference(after, before)
    assert f"Seq Scan on {TABLE}" in where
    assert f"plan shape differs: {where}" in out  # syrupy's snapshot
    assert f"first difference: {where}" in out  # plan_snapshot
    assert f"-{before.lines[-1]}" in out.replace("E         ", "")
    assert "if the new plan is intended, run pytest --snapshot-update to accept it" in out

    run("--snapshot-update").assert_outcomes(passed=2)
    run().assert_outcomes(passed=2)
    assert table not in stored.read_text()
