"""Every kind of index the advisor suggests builds for real; partial indexes only where due."""

from __future__ import annotations

import pytest

from planalyzer.advisor.advise import advise

pytestmark = pytest.mark.hypopg


def test_a_bound_parameter_never_becomes_a_partial_index(tconn):
    advice = advise(tconn, [("SELECT * FROM traps.tickets WHERE tenant_id = %s", [5])])
    assert advice.recommendations, advice
    assert all(r.where is None for r in advice.recommendations)
    assert all(r.candidate.where is None for r in advice.rejected)


def test_one_of_many_equally_common_literals_is_not_rare(tconn):
    advice = advise(tconn, ["SELECT * FROM traps.tickets WHERE tenant_id = 5"])
    considered = [*advice.recommendations, *(r.candidate for r in advice.rejected)]
    assert all(c.where is None for c in considered)


def test_a_rare_literal_of_a_skewed_column_gets_a_partial_index_on_what_else_is_needed(tconn):
    advice = advise(
        tconn,
        [
            "SELECT id, created_at FROM traps.tickets WHERE status = 'failed' "
            "ORDER BY created_at DESC LIMIT 20"
        ],
    )
    partial = [r for r in advice.recommendations if r.where]
    assert partial, advice
    assert all("status" not in r.columns for r in partial)
    considered = [r.candidate for r in advice.recommendations] + [
        r.candidate for r in advice.rejected
    ]
    # never keyed on the pinned column alone
    assert not [c for c in considered if c.where and c.column_names == ("status",)]


def test_gin_operator_class_follows_the_column_type(tconn):
    advice = advise(
        tconn,
        [
            "SELECT id FROM traps.tickets WHERE tags @> ARRAY['t7']",
            """SELECT id FROM traps.tickets WHERE doc @> '{"kind": "k3"}'""",
            "SELECT id FROM traps.tickets WHERE doc ? 'kind'",
            "SELECT id FROM traps.tickets WHERE body ILIKE '%abc1%'",
        ],
    )
    gin = {r.key_columns[0].name: r for r in advice.recommendations if r.method == "gin"}
    assert gin["tags"].key_columns[0].opclass == "array_ops"
    assert gin["doc"].key_columns[0].opclass == "jsonb_ops"  # ? needs jsonb_ops
    assert gin["body"].key_columns[0].opclass == "gin_trgm_ops"


def test_every_kind_of_suggested_index_builds(tconn, tauto):
    advice = advise(
        tconn,
        [
            "SELECT * FROM traps.tickets WHERE tenant_id = 3 AND created_at >= '2024-03-01' "
            "AND created_at < '2024-03-02'",  # B-tree, equality then range
            "SELECT id FROM traps.tickets WHERE lower(body) = 'abc'",  # expression
            "SELECT id, created_at FROM traps.tickets WHERE status = 'failed' "
            "ORDER BY created_at DESC LIMIT 20",  # partial
            "SELECT id FROM traps.tickets WHERE tags @> ARRAY['t7']",  # GIN array_ops
            """SELECT id FROM traps.tickets WHERE doc @> '{"kind": "k3"}'""",  # jsonb_path_ops
            "SELECT id FROM traps.tickets WHERE body ILIKE '%abc1%'",  # trigram
        ],
    )
    kinds = {
        "btree": any(r.method == "btree" and not r.where for r in advice.recommendations),
        "expression": any(c.expression for r in advice.recommendations for c in r.key_columns),
        "partial": any(r.where for r in advice.recommendations),
        "gin": {r.key_columns[0].opclass for r in advice.recommendations if r.method == "gin"},
    }
    assert kinds["btree"]
    assert kinds["expression"]
    assert kinds["partial"]
    assert kinds["gin"] == {"array_ops", "jsonb_path_ops", "gin_trgm_ops"}
    try:
        for rec in advice.recommendations:
            for line in rec.create_sql.splitlines():
                if line.strip() and not line.startswith("--"):
                    tauto.execute(line)
    finally:
        for rec in advice.recommendations:
            for line in rec.drop_sql.splitlines():
                if line.strip() and not line.startswith("--"):
                    tauto.execute(line)


def test_trigram_is_not_recommended_without_pg_trgm(tconn):
    with tconn.transaction(force_rollback=True):
        tconn.execute("DROP EXTENSION pg_trgm")
        advice = advise(tconn, ["SELECT id FROM traps.tickets WHERE body ILIKE '%abc1%'"])
    assert not [r for r in advice.recommendations if r.method == "gin"]
    [refused] = [r for r in advice.rejected if r.code == "needs-extension"]
    assert "CREATE EXTENSION pg_trgm" in refused.reason


def test_an_or_across_two_columns_gets_the_pair_a_bitmap_or_uses(tconn):
    sql = (
        "SELECT * FROM traps.tickets WHERE created_at = '2024-02-01 00:00+00' "
        "OR body = 'c4ca4238a0b923820dcc509a6f75849b'"
    )
    advice = advise(tconn, [sql])
    keys = {r.columns for r in advice.recommendations}
    assert {("created_at",), ("body",)} <= keys, advice
    plan = advice.per_query[0].plan_after
    assert plan is not None
    assert plan.find(node_type="BitmapOr")
