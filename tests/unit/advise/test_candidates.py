"""Candidate generation from statement shapes and catalog facts (no database)."""

from __future__ import annotations

from planalyzer.advisor.candidates import (
    CandidateOptions,
    generate_candidates,
    order_equality_columns,
    served_by,
)
from planalyzer.advisor.model import IndexCandidate, KeyColumn
from planalyzer.advisor.predicates import TableRef, extract
from tests.unit.advise.factories import ORDERS_COLUMNS, index, table

ORDERS = TableRef(None, "orders")


def generate(sqls, facts=None, **options):
    facts = facts or table(columns=ORDERS_COLUMNS)
    shapes = [(n, extract(sql)) for n, sql in enumerate(sqls)]
    return generate_candidates(shapes, {ORDERS: facts}, CandidateOptions(**options))


def definitions(candidates):
    return {c.definition for c in candidates}


def test_equality_columns_most_selective_first_then_the_sort_column():
    candidates, _ = generate(
        [
            "SELECT * FROM orders WHERE status = 'paid' AND customer_id = 7 "
            "ORDER BY created_at DESC LIMIT 10"
        ]
    )
    # customer_id keeps 1/40,000 of the rows, status 'paid' 8 %: customer_id leads.
    assert "public.orders (customer_id, status, created_at)" in definitions(candidates)
    assert "public.orders (customer_id, status)" in definitions(candidates)


def test_order_of_equality_columns_uses_fractions_then_names():
    assert order_equality_columns(["b", "a", "c"], {"a": 0.5, "b": 0.5, "c": 0.1}) == [
        "c",
        "a",
        "b",
    ]


def test_one_range_column_after_the_equality_columns():
    candidates, _ = generate(
        ["SELECT * FROM orders WHERE customer_id = 7 AND total > 100 AND created_at > '2024-02-01'"]
    )
    found = definitions(candidates)
    assert "public.orders (customer_id, total)" in found
    assert "public.orders (customer_id, created_at)" in found
    assert not any("total, created_at" in d or "created_at, total" in d for d in found)


def test_partial_index_for_a_rare_status_only():
    rare, _ = generate(
        ["SELECT id FROM orders WHERE status = 'failed' ORDER BY created_at LIMIT 5"]
    )
    common, _ = generate(
        ["SELECT id FROM orders WHERE status = 'delivered' ORDER BY created_at LIMIT 5"]
    )
    assert "public.orders (created_at) WHERE status = 'failed'" in definitions(rare)
    assert not any(c.where for c in common)


def test_no_partial_index_on_a_key_like_column():
    candidates, _ = generate(["SELECT * FROM orders WHERE customer_id = 7"])
    assert not any(c.where for c in candidates)  # 1/40,000 is rare, but customer_id is a key


def test_rare_is_not_null_gets_a_partial_index():
    candidates, _ = generate(
        ["SELECT id FROM orders WHERE note IS NOT NULL ORDER BY created_at DESC LIMIT 5"]
    )
    assert "public.orders (created_at) WHERE note IS NOT NULL" in definitions(candidates)


def test_covering_variant_lists_the_other_columns_read():
    candidates, _ = generate(["SELECT id, total FROM orders WHERE customer_id = 7"])
    assert "public.orders (customer_id) INCLUDE (id, total)" in definitions(candidates)
    star, _ = generate(["SELECT * FROM orders WHERE customer_id = 7"])
    assert not any(c.include for c in star)


def test_covering_variant_respects_the_column_limit():
    candidates, _ = generate(
        ["SELECT id, total, note, status, created_at FROM orders WHERE customer_id = 7"],
        max_include_columns=2,
    )
    assert not any(c.include for c in candidates)


def test_descending_order_uses_an_ascending_key_unless_nulls_differ():
    candidates, _ = generate(
        [
            "SELECT id FROM orders WHERE customer_id = 1 ORDER BY created_at DESC LIMIT 5",
            "SELECT id FROM orders WHERE customer_id = 2 ORDER BY created_at DESC, total LIMIT 5",
        ]
    )
    found = definitions(candidates)
    assert "public.orders (customer_id, created_at)" in found
    assert "public.orders (customer_id, created_at, total DESC)" in found


def test_nulls_last_on_a_nullable_column_is_kept():
    facts = table(columns=ORDERS_COLUMNS)
    nullable = facts.model_copy(
        update={
            "columns": [c.model_copy(update={"not_null": c.name != "note"}) for c in facts.columns]
        }
    )
    candidates, _ = generate(
        ["SELECT id FROM orders WHERE customer_id = 1 ORDER BY note DESC NULLS LAST LIMIT 5"],
        nullable,
    )
    # DESC NULLS LAST is ASC NULLS FIRST read backwards (keys are normalised to start ASC).
    assert "public.orders (customer_id, note NULLS FIRST)" in definitions(candidates)


def test_existing_index_serves_prefix_and_permuted_equality_columns():
    facts = table(
        columns=ORDERS_COLUMNS,
        indexes=[index("orders_status_customer_created", "status", "customer_id", "created_at")],
    )
    candidates, rejected = generate(
        ["SELECT * FROM orders WHERE customer_id = 7 AND status = 'paid' ORDER BY created_at"],
        facts,
    )
    assert "public.orders (customer_id, status, created_at)" not in definitions(candidates)
    assert "public.orders (customer_id, status)" not in definitions(candidates)
    assert {r.code for r in rejected} == {"existing-index"}


def test_served_by_checks_order_direction_predicate_and_include():
    existing = index("i", "customer_id", "created_at DESC")
    same = IndexCandidate(
        table="public.orders",
        columns=(KeyColumn(name="customer_id"), KeyColumn(name="created_at", descending=True)),
        equality_columns=1,
    )
    reversed_order = same.model_copy(
        update={"columns": (KeyColumn(name="customer_id"), KeyColumn(name="created_at"))}
    )
    wrong_column = same.model_copy(
        update={"columns": (KeyColumn(name="customer_id"), KeyColumn(name="total"))}
    )
    partial = same.model_copy(update={"where": "status = 'failed'"})
    covering = same.model_copy(update={"include": ("total",)})
    assert served_by(same, [existing]) is existing
    # ASC NULLS LAST is exactly DESC NULLS FIRST read backwards.
    assert served_by(reversed_order, [existing]) is existing
    assert served_by(wrong_column, [existing]) is None
    assert served_by(partial, [existing]) is None
    assert served_by(covering, [existing]) is None
    pred = "(status = 'failed'::text)"
    assert served_by(partial, [index("p", "customer_id", "created_at DESC", predicate=pred)])


def test_tiny_tables_get_nothing():
    tiny = table(pages=3, rows=100, columns=ORDERS_COLUMNS)
    candidates, rejected = generate(["SELECT * FROM orders WHERE customer_id = 7"], tiny)
    assert candidates == []
    assert {r.code for r in rejected} == {"tiny-table"}


def test_order_by_limit_with_a_rare_clustered_filter_is_refused():
    candidates, rejected = generate(
        ["SELECT * FROM orders WHERE created_at < '2024-01-05' ORDER BY total DESC LIMIT 10"]
    )
    assert "public.orders (total)" not in definitions(candidates)
    [risky] = [r for r in rejected if r.code == "risky-order"]
    assert "clustered" in risky.reason
    # The filter column itself is still proposed.
    assert "public.orders (created_at)" in definitions(candidates)


def test_join_keys_and_statements_are_merged():
    facts = table(columns=ORDERS_COLUMNS)
    items = table(
        "order_items",
        rows=450_000,
        pages=3_700,
        columns={"order_id": ORDERS_COLUMNS["customer_id"], "quantity": ORDERS_COLUMNS["total"]},
    )
    shapes = [
        (
            0,
            extract(
                "SELECT i.quantity FROM orders o JOIN order_items i ON i.order_id = o.id "
                "WHERE o.customer_id = 1"
            ),
        ),
        (1, extract("SELECT * FROM order_items WHERE order_id = 5")),
    ]
    candidates, _ = generate_candidates(
        shapes, {ORDERS: facts, TableRef(None, "order_items"): items}
    )
    by_definition = {c.definition: c for c in candidates}
    join_index = by_definition["public.order_items (order_id)"]
    assert join_index.statements == (0, 1)
    assert any("join key order_id" in reason for reason in join_index.reasons)


def test_gin_for_what_no_btree_serves():
    candidates, _ = generate(
        [
            "SELECT id FROM orders WHERE note ILIKE '%wrap%'",
            """SELECT id FROM orders WHERE note::jsonb @> '{"a": 1}'""",
        ]
    )
    gin = [c for c in candidates if c.method == "gin"]
    assert [c.definition for c in gin] == ["public.orders USING gin (note gin_trgm_ops)"]
    assert not gin[0].verifiable


def test_like_prefix_uses_text_pattern_ops_outside_the_c_collation():
    c_locale, _ = generate(["SELECT id FROM orders WHERE note LIKE 'gift%'"])
    other, _ = generate(["SELECT id FROM orders WHERE note LIKE 'gift%'"], c_collation=False)
    assert "public.orders (note)" in definitions(c_locale)
    assert "public.orders (note text_pattern_ops)" in definitions(other)


def test_shared_prefix_variant_lets_one_index_serve_two_statements():
    candidates, _ = generate(
        [
            "SELECT * FROM orders WHERE status = 'paid'",
            "SELECT * FROM orders WHERE status = 'paid' AND customer_id = 7",
        ]
    )
    shared = [c for c in candidates if any(r.startswith("shared") for r in c.reasons)]
    assert [c.definition for c in shared] == ["public.orders (status, customer_id)"]
    assert shared[0].statements == (0, 1)
