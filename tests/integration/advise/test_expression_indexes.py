"""Expression indexes on the demo schema: proposed, proven with HypoPG, real, and nothing left."""

from __future__ import annotations

import pytest

from planalyzer.advisor.advise import advise

pytestmark = pytest.mark.hypopg

HYPO_COUNT = "SELECT count(*) FROM hypopg_list_indexes"
REAL_INDEXES = "SELECT schemaname, indexname, indexdef FROM pg_indexes ORDER BY 1, 2"
LOOKUP = "SELECT * FROM customers WHERE lower(email) = %s"


def test_lower_email_lookup_gets_an_expression_index_the_planner_uses(aconn):
    before = aconn.execute(REAL_INDEXES).fetchall()

    advice = advise(aconn, [(LOOKUP, ["customer42@example.com"])])

    [rec] = advice.recommendations
    assert rec.name == "idx_customers_lower_email"
    assert [(c.name, c.expression) for c in rec.key_columns] == [("lower(email)", True)]
    assert rec.create_sql == (
        'CREATE INDEX CONCURRENTLY "idx_customers_lower_email" ON "public"."customers" '
        'USING "btree" ((lower(email)));'
    )
    # The unique index on email cannot serve lower(email): the seq scan is what it replaces.
    query = advice.per_query[0]
    assert [n.node_type for n in query.plan_before.nodes()] == ["Seq Scan"]
    scans = [n for n in query.plan_after.nodes() if n.index_name is not None]
    assert scans
    assert all(n.index_cond is not None and "lower(email)" in n.index_cond for n in scans)
    assert query.indexes_used == (rec.name,)
    assert query.cost_after < query.cost_before
    assert (rec.cost_before, rec.cost_after) == (query.cost_before, query.cost_after)
    assert any("no statistics exist for lower(email)" in note for note in rec.notes)
    up, _ = advice.migration()
    assert 'ANALYZE "public"."customers";' in up
    # Nothing hypothetical or real is left behind.
    assert aconn.execute(HYPO_COUNT).fetchone() == (0,)
    assert aconn.execute(REAL_INDEXES).fetchall() == before


def test_the_deparsed_expression_index_is_used_by_the_real_planner(aconn, autocommit_conn):
    advice = advise(aconn, [(LOOKUP, ["customer42@example.com"])])
    before = autocommit_conn.execute(REAL_INDEXES).fetchall()

    result = advice.verify(autocommit_conn, runs=1)

    assert autocommit_conn.execute(REAL_INDEXES).fetchall() == before
    [build] = result.builds
    assert build.error is None
    [timing] = result.statements
    assert timing.indexes_used == (advice.recommendations[0].name,)
    assert timing.plan_after is not None
    assert timing.plan_after.root.actual_rows == 1  # the one customer, found through the index


def test_a_stable_function_is_rejected_as_not_immutable_with_the_reason(aconn):
    # date_trunc(text, timestamptz) is STABLE: its result depends on the TimeZone setting.
    advice = advise(
        aconn, ["SELECT * FROM orders WHERE date_trunc('day', created_at) = '2024-03-01'"]
    )

    assert not [r for r in advice.recommendations if any(c.expression for c in r.key_columns)]
    [refused] = [r for r in advice.rejected if r.code == "not-immutable"]
    assert refused.candidate.columns[0].name == "date_trunc('day', created_at)"
    assert "IMMUTABLE" in refused.reason
    assert aconn.execute(HYPO_COUNT).fetchone() == (0,)


def test_an_existing_expression_index_is_recognised(aconn, autocommit_conn):
    autocommit_conn.execute("CREATE INDEX test_customers_lower_email ON customers (lower(email))")
    try:
        advice = advise(aconn, [(LOOKUP, ["customer42@example.com"])])
    finally:
        autocommit_conn.execute("DROP INDEX test_customers_lower_email")

    assert advice.recommendations == ()
    [served] = [r for r in advice.rejected if r.code == "existing-index"]
    assert "test_customers_lower_email" in served.reason
