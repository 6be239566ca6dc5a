"""Statement classification with pglast (no database needed)."""

from __future__ import annotations

import pytest

from planalyzer.errors import UnsafeStatementError
from planalyzer.live.classify import StatementKind, classify


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", StatementKind.READ),
        ("VALUES (1), (2)", StatementKind.READ),
        ("TABLE orders", StatementKind.READ),
        ("SELECT * FROM orders FOR UPDATE", StatementKind.READ),
        ("WITH x AS (SELECT 1) SELECT * FROM x", StatementKind.READ),
        ("INSERT INTO t VALUES (1)", StatementKind.WRITE),
        ("UPDATE t SET a = 1", StatementKind.WRITE),
        ("DELETE FROM t", StatementKind.WRITE),
        ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", StatementKind.WRITE),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", StatementKind.WRITE),
        (
            "SELECT * FROM (SELECT 1) s WHERE EXISTS (WITH d AS (UPDATE t SET a = 1 RETURNING 1)"
            " SELECT 1 FROM d)",
            StatementKind.WRITE,
        ),
        ("-- a comment\nSELECT 1 /* ; DROP TABLE t */;", StatementKind.READ),
    ],
)
def test_kind(sql, kind):
    assert classify(sql).kind is kind


@pytest.mark.parametrize(
    "sql",
    [
        "",
        "-- only a comment",
        "SELECT 1; SELECT 2",
        "DROP TABLE t",
        "ALTER TABLE t ADD COLUMN b int",
        "CREATE INDEX ON t (a)",
        "BEGIN",
        "ROLLBACK",
        "COPY t FROM STDIN",
        "SET search_path = evil",
        "RESET ALL",
        "CALL p()",
        "DO $$ BEGIN END $$",
        "EXPLAIN SELECT 1",
        "EXECUTE s",
        "PREPARE s AS SELECT 1",
        "SELECT * INTO new_t FROM t",
        "CREATE MATERIALIZED VIEW v AS SELECT 1",
        "GRANT ALL ON t TO public",
        "LOCK TABLE t",
        "SELEC 1",
    ],
)
def test_refused(sql):
    with pytest.raises(UnsafeStatementError):
        classify(sql)


def test_dollar_params_detected():
    assert classify("SELECT * FROM t WHERE id = $1").has_dollar_params
    assert not classify("SELECT '$1'").has_dollar_params


def test_psycopg_placeholders_are_understood():
    statement = classify(
        "SELECT * FROM t WHERE a = %s AND b = %(name)s AND c LIKE 'x%%'", psycopg_params=True
    )
    assert statement.kind is StatementKind.READ
    assert not statement.has_dollar_params


def test_deeply_nested_statement_does_not_crash():
    sql = "SELECT " + "(" * 2000 + "1" + ")" * 2000
    try:
        assert classify(sql).kind is StatementKind.READ
    except UnsafeStatementError:
        pass  # refusing is fine; a RecursionError is not
