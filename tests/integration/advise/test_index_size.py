"""The catalog-based size estimate against indexes built for real (within ±25 %)."""

from __future__ import annotations

import pytest
from psycopg import sql

from planalyzer.advisor.dbfacts import read_database_facts
from planalyzer.advisor.size import estimate_btree_size
from planalyzer.live.catalog import catalog

pytestmark = pytest.mark.hypopg

# (key columns, INCLUDE columns, partial predicate, share of rows the predicate keeps)
SHAPES = [
    (["id"], [], None, 1.0),  # unique int4
    (["created_at"], [], None, 1.0),  # unique timestamptz
    (["tenant_id"], [], None, 1.0),  # 100 values: deduplicated posting lists
    (["status"], [], None, 1.0),  # 3 short text values
    (["tenant_id", "created_at"], [], None, 1.0),
    (["urgent", "escalated", "created_at"], [], None, 1.0),
    (["body"], [], None, 1.0),  # 32-character text, unique
    (["note"], [], None, 1.0),  # 25 % NULL
    (["amount"], [], None, 1.0),  # numeric: no deduplication
    (["tenant_id"], ["amount", "status"], None, 1.0),  # INCLUDE: no deduplication
    (["created_at"], [], "status = 'failed'", 0.01),  # partial
]


@pytest.mark.parametrize(("key", "include", "where", "fraction"), SHAPES)
def test_estimate_is_within_a_quarter_of_the_built_size(tauto, key, include, where, fraction):
    facts = catalog(tauto, ["traps.tickets"]).tables[0]
    layouts = read_database_facts(tauto, ["traps.tickets"]).layouts["traps.tickets"]
    estimate = estimate_btree_size(facts, key, include, layouts=layouts, fraction=fraction)
    statement = sql.SQL("CREATE INDEX size_probe ON traps.tickets ({})").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in key)
    )
    if include:
        statement += sql.SQL(" INCLUDE ({})").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in include)
        )
    if where:
        statement += sql.SQL(" WHERE ") + sql.SQL(where)
    tauto.execute(statement)
    try:
        row = tauto.execute("SELECT pg_relation_size('traps.size_probe')").fetchone()
    finally:
        tauto.execute("DROP INDEX traps.size_probe")
    built = row[0]
    assert 0.75 <= estimate / built <= 1.25, f"estimated {estimate:,}, built {built:,}"
