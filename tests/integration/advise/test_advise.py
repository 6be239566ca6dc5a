"""advise() on the demo schema: the index an expert would write, proven, and nothing left behind."""

from __future__ import annotations

import importlib

import psycopg
import pytest

from planalyzer.advisor.advise import advise
from planalyzer.errors import AdviceError
from planalyzer.live.explain import explain
from planalyzer.plan.parse import parse
from planalyzer.rules.report import analyze

pytestmark = pytest.mark.hypopg

# ``planalyzer.advisor`` is also the re-exported function, so ``import planalyzer.advisor.advise``
# would resolve the attribute instead of the module; import the module by its full name.
advise_module = importlib.import_module("planalyzer.advisor.advise")

HYPO_COUNT = "SELECT count(*) FROM hypopg_list_indexes"
REAL_INDEXES = "SELECT schemaname, indexname, indexdef FROM pg_indexes ORDER BY 1, 2"


def on_table(advice, table):
    return [r for r in advice.recommendations if r.table == f"public.{table}" and r.verifiable]


def test_equality_column_comes_before_the_sort_column(aconn):
    advice = advise(
        aconn, ["SELECT * FROM orders WHERE customer_id = 1 ORDER BY created_at DESC LIMIT 10"]
    )

    [rec] = on_table(advice, "orders")
    assert rec.key_columns[0].name == "customer_id"
    assert rec.key_columns[1].name == "created_at"
    # A B-tree is read backwards for DESC, so the key itself stays ascending.
    assert not rec.key_columns[1].descending
    query = advice.per_query[0]
    assert query.cost_after < query.cost_before
    assert any(
        n.index_name and n.index_name.endswith("customer_id_created_at")
        for n in query.plan_after.nodes()
    )
    assert "CREATE INDEX CONCURRENTLY" in rec.create_sql
    assert rec.fixes  # names the node it replaces


def test_equality_column_comes_before_the_range_column(aconn):
    advice = advise(
        aconn,
        ["SELECT id, total FROM orders WHERE created_at >= '2024-06-01' AND customer_id = 1"],
    )
    [rec] = on_table(advice, "orders")
    assert [c.name for c in rec.key_columns][:2] == ["customer_id", "created_at"]


def test_partial_index_for_a_rare_value_not_for_a_common_one(aconn):
    rare = advise(
        aconn,
        [
            "SELECT id, created_at FROM customers WHERE segment = 'enterprise' "
            "ORDER BY created_at DESC LIMIT 20"
        ],
    )
    common = advise(
        aconn,
        [
            "SELECT id, created_at FROM customers WHERE segment = 'consumer' "
            "ORDER BY created_at DESC LIMIT 20"
        ],
    )

    [rare_rec] = on_table(rare, "customers")
    assert rare_rec.where == "segment = 'enterprise'"
    assert [c.name for c in rare_rec.key_columns] == ["created_at"]
    assert all(r.where is None for r in common.recommendations)
    assert all(r.candidate.where is None for r in common.rejected)  # not even proposed
    assert on_table(common, "customers")


def test_covering_index_when_it_enables_an_index_only_scan(aconn):
    advice = advise(aconn, ["SELECT sum(total) FROM orders WHERE customer_id = 1"])

    [rec] = on_table(advice, "orders")
    assert rec.include == ("total",)
    plan = advice.per_query[0].plan_after
    assert [n.node_type for n in plan.nodes() if n.index_name] == ["Index Only Scan"]


def test_no_recommendation_when_an_existing_index_serves_the_query(aconn):
    advice = advise(
        aconn, ["SELECT * FROM orders WHERE status = 'failed' ORDER BY created_at LIMIT 10"]
    )
    assert advice.recommendations == ()
    assert any(r.code == "existing-index" for r in advice.rejected)


def test_no_recommendation_on_a_tiny_table(aconn):
    advice = advise(aconn, ["SELECT * FROM order_statuses WHERE is_final"])
    assert advice.recommendations == ()
    assert {r.code for r in advice.rejected} == {"tiny-table"}


def test_budget_is_respected(aconn):
    workload = [
        "SELECT * FROM orders WHERE customer_id = 1 ORDER BY created_at DESC LIMIT 10",
        "SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id < 100",
        "SELECT * FROM order_items WHERE product_id = 500",
    ]
    unlimited = advise(aconn, workload)
    sizes = sorted(r.size_bytes for r in unlimited.recommendations if r.verifiable)
    assert len(sizes) >= 2
    budget = sizes[-1] - 1  # room for some, never for all

    limited = advise(aconn, workload, budget_bytes=budget)

    assert sum(r.size_bytes or 0 for r in limited.recommendations) <= budget
    assert len(limited.recommendations) < len(unlimited.recommendations)
    assert any(r.code == "over-budget" for r in limited.rejected)
    capped = advise(aconn, workload, max_indexes=1)
    assert len(capped.recommendations) == 1


def test_one_shared_index_serves_two_statements(aconn):
    advice = advise(
        aconn,
        [
            "SELECT * FROM orders WHERE customer_id = 1 ORDER BY created_at DESC LIMIT 10",
            "SELECT count(*) FROM orders WHERE customer_id = 1",
        ],
        weights=[10, 1],
    )
    [rec] = on_table(advice, "orders")
    assert rec.key_columns[0].name == "customer_id"
    assert rec.queries == (0, 1)
    assert rec.cost_before == pytest.approx(
        advice.per_query[0].cost_before + advice.per_query[1].cost_before
    )
    assert advice.cost_before == pytest.approx(
        10 * advice.per_query[0].cost_before + advice.per_query[1].cost_before
    )


def test_nothing_remains_after_advise(aconn):
    before = aconn.execute(REAL_INDEXES).fetchall()
    advise(aconn, ["SELECT * FROM orders WHERE customer_id = 1"])
    assert aconn.execute(HYPO_COUNT).fetchone() == (0,)
    assert aconn.execute(REAL_INDEXES).fetchall() == before


def test_nothing_remains_after_an_error_inside_advise(aconn, monkeypatch):
    before = aconn.execute(REAL_INDEXES).fetchall()
    seen = {}

    def explode(whatif, units, validation, **kwargs):
        seen["hypothetical"] = aconn.execute(HYPO_COUNT).fetchone()[0]
        raise RuntimeError("boom")

    monkeypatch.setattr(advise_module, "select_indexes", explode)
    with pytest.raises(RuntimeError, match="boom"):
        advise(aconn, ["SELECT * FROM orders WHERE customer_id = 1"])

    assert seen["hypothetical"] > 0  # the failure happened with hypothetical indexes present
    assert aconn.execute(HYPO_COUNT).fetchone() == (0,)
    assert aconn.execute(REAL_INDEXES).fetchall() == before


def test_parameters_use_representative_values(aconn):
    advice = advise(aconn, ["SELECT * FROM customers WHERE segment = $1"])
    query = advice.per_query[0]
    labels = [s.label for s in query.scenarios]
    assert labels == ["common values", "rare values"]
    assert query.scenarios[0].values == {1: "consumer"}  # the most common value
    assert query.value_dependent
    assert "depends on the parameter values" in query.notes[0]


def test_psycopg_parameters_and_plans_are_accepted(aconn):
    plan = explain(aconn, "SELECT * FROM orders WHERE customer_id = %s", [1])
    report = analyze(plan)
    advice = advise(aconn, [plan, report, ("SELECT * FROM orders WHERE customer_id = %s", [1])])
    [rec] = on_table(advice, "orders")
    assert rec.queries == (0, 1, 2)
    assert any("Seq Scan on orders" in fix for fix in rec.fixes)
    assert advice.per_query[0].time_before_ms == plan.execution_time_ms


def test_gin_suggestions_are_marked_unverifiable(aconn):
    advice = advise(
        aconn,
        [
            "SELECT id FROM customers WHERE name ILIKE '%mer 12%'",
            """SELECT id FROM events WHERE payload @> '{"device": "tablet"}'""",
        ],
    )
    gin = {r.table: r for r in advice.recommendations if r.method == "gin"}
    assert set(gin) == {"public.customers", "public.events"}
    assert all(not r.verifiable and r.size_bytes is None for r in gin.values())
    assert gin["public.customers"].key_columns[0].opclass == "gin_trgm_ops"
    assert gin["public.events"].key_columns[0].opclass == "jsonb_path_ops"


def test_partitioned_parent_gets_the_per_partition_migration(aconn):
    advice = advise(aconn, ["SELECT * FROM events WHERE customer_id = 42"])
    [rec] = on_table(advice, "events")
    assert "ON ONLY" in rec.create_sql
    assert rec.create_sql.count("ATTACH PARTITION") == 4
    assert rec.create_sql.count("CREATE INDEX CONCURRENTLY") == 4
    assert any("partitioned" in note for note in rec.notes)


def test_bad_workloads_are_refused(aconn):
    with pytest.raises(AdviceError, match="empty"):
        advise(aconn, [])
    with pytest.raises(AdviceError, match="weights"):
        advise(aconn, ["SELECT 1", "SELECT 2"], weights=[1])
    with pytest.raises(AdviceError, match="statement 1"):  # numbered from 1, as printed
        advise(aconn, ["DROP TABLE orders"])


def test_connection_state_is_left_as_found(aconn):
    aconn.execute("SELECT 1")  # open a transaction
    status = aconn.info.transaction_status
    advise(aconn, ["SELECT * FROM orders WHERE customer_id = 1"])
    assert aconn.info.transaction_status == status
    aconn.rollback()
    assert isinstance(aconn, psycopg.Connection)


def test_prefix_compatible_choices_are_merged_into_one_index(aconn):
    advice = advise(
        aconn,
        [
            "SELECT * FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
            "SELECT count(*), sum(total) FROM orders WHERE customer_id = 1",
        ],
        weights=[100, 50],
    )
    [rec] = on_table(advice, "orders")
    assert [c.name for c in rec.key_columns] == ["customer_id", "created_at"]
    assert rec.include == ("total",)
    assert rec.queries == (0, 1)
    merged = [r for r in advice.rejected if r.code == "merged"]
    assert len(merged) == 2


def test_a_text_format_plan_gets_the_same_advice_as_its_json_twin(aconn):
    sql = "SELECT * FROM orders WHERE customer_id = 1"
    rows = aconn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) {sql}").fetchall()
    text_plan = parse("\n".join(row[0] for row in rows), sql=sql)
    json_plan = explain(aconn, sql)
    assert text_plan.root.node_type == json_plan.root.node_type

    from_text = advise(aconn, [text_plan, analyze(text_plan)])
    from_json = advise(aconn, [json_plan])
    [rec] = on_table(from_text, "orders")
    [twin] = on_table(from_json, "orders")
    assert [c.name for c in rec.key_columns] == [c.name for c in twin.key_columns]
    assert rec.create_sql == twin.create_sql
    assert any("Seq Scan on orders" in fix for fix in rec.fixes)
    assert from_text.per_query[0].time_before_ms == text_plan.execution_time_ms
