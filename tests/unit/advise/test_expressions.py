"""Expression indexes: extraction, candidates, matching existing indexes, names and migration."""

from __future__ import annotations

import pytest

from planalyzer.advisor.candidates import (
    CandidateOptions,
    generate_candidates,
    normalise_expression,
    served_by,
)
from planalyzer.advisor.migration import (
    create_statements,
    drop_statements,
    index_name,
    migration_text,
)
from planalyzer.advisor.model import IndexCandidate, KeyColumn, Recommendation
from planalyzer.advisor.predicates import PredicateKind, TableRef, extract
from planalyzer.live.catalog import IndexColumn, IndexFacts
from tests.unit.advise.factories import ORDERS_COLUMNS, stats, table

ORDERS = TableRef(None, "orders")
CUSTOMERS = TableRef(None, "customers")
CUSTOMER_COLUMNS = {
    "id": stats(-1),
    "email": stats(-1, width=24),
    "city": stats(500),
    "segment": stats(3, ["consumer", "smb", "enterprise"], [0.8, 0.18, 0.02]),
}


def generate(sqls, ref=ORDERS, facts=None):
    facts = facts or table(columns=ORDERS_COLUMNS)
    shapes = [(n, extract(sql)) for n, sql in enumerate(sqls)]
    return generate_candidates(shapes, {ref: facts}, CandidateOptions())


def customers(indexes=()):
    return table("customers", rows=50_000, pages=600, columns=CUSTOMER_COLUMNS, indexes=indexes)


def expression_index(name, text):
    return IndexFacts(
        name=name,
        method="btree",
        columns=[IndexColumn(expression=text, attnum=None, descending=False, nulls_first=False)],
        include=[],
        predicate=None,
        unique=False,
        primary=False,
        valid=True,
        size_bytes=8192,
        idx_scan=0,
        definition=f"CREATE INDEX {name} ON public.customers USING btree ({text})",
    )


def keys(candidate):
    return [(c.name, c.expression) for c in candidate.columns]


# --- extraction --------------------------------------------------------------------------------


def test_function_of_a_column_is_kept_with_its_deparsed_unqualified_expression():
    [pred] = extract("SELECT * FROM customers c WHERE lower(c.email) = 'a@b.c'").predicates
    assert (pred.table, pred.column, pred.kind, pred.operator) == (
        CUSTOMERS,
        "email",
        PredicateKind.EQ,
        "=",
    )
    assert pred.expression == "lower(email)"
    assert pred.on_expression
    assert pred.values[0].text == "a@b.c"
    assert pred.sql == "lower(email) = 'a@b.c'"


def test_json_field_on_the_right_is_flipped_and_plain_columns_are_unchanged():
    shape = extract("SELECT id FROM events WHERE 'ios' = payload->>'device' AND kind = 'refund'")
    device, kind = shape.predicates
    assert (device.column, device.expression, device.operator) == (
        "payload",
        "payload ->> 'device'",
        "=",
    )
    assert (kind.column, kind.expression, kind.on_expression) == ("kind", None, False)


def test_casts_ranges_in_lists_and_like_prefix_on_expressions():
    shape = extract(
        "SELECT 1 FROM orders WHERE created_at::date BETWEEN '2024-01-01' AND '2024-02-01' "
        "AND upper(city) IN ('PARIS', 'LYON') AND lower(note) LIKE 'gift%' "
        "AND (total)::int > 10"
    )
    found = [(p.expression, p.kind, p.operator) for p in shape.predicates]
    assert found == [
        ("CAST(created_at AS date)", PredicateKind.RANGE, "BETWEEN"),
        ("upper(city)", PredicateKind.EQ, "IN"),
        ("lower(note)", PredicateKind.LIKE_PREFIX, "LIKE"),
        ("CAST(total AS integer)", PredicateKind.RANGE, ">"),  # pglast spells the type out
    ]


@pytest.mark.parametrize(
    "condition",
    [
        "total * 2 > 100",  # arithmetic: out of scope
        "coalesce(city, country) = 'x'",  # two columns
        "date_trunc($1, created_at) = '2024-03-01'",  # a parameter inside the expression
        "lower(city) = lower(country)",  # a comparison of two columns, not a join either
        "lower(city) ILIKE '%par%'",  # needs a trigram GIN index on the expression
        "count(*) OVER () > 1",  # a window call
    ],
)
def test_what_is_not_an_indexable_one_column_expression(condition):
    shape = extract(f"SELECT 1 FROM orders WHERE {condition}")
    assert shape.predicates == ()
    assert shape.joins == ()


def test_expression_over_a_join_resolves_the_right_table():
    shape = extract(
        "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE lower(c.email) = 'x'"
    )
    [pred] = shape.predicates
    assert (pred.table, pred.expression) == (CUSTOMERS, "lower(email)")
    assert len(shape.joins) == 1


# --- candidates --------------------------------------------------------------------------------


def test_an_expression_condition_gives_an_expression_key_and_no_useless_column_key():
    candidates, _ = generate(
        ["SELECT * FROM customers WHERE lower(email) = 'a@b.c'"], CUSTOMERS, customers()
    )
    assert [keys(c) for c in candidates] == [[("lower(email)", True)]]
    assert candidates[0].equality_columns == 1
    assert candidates[0].definition == "public.customers ((lower(email)))"


def test_expression_ranks_at_the_planners_default_against_known_columns():
    # customer_id keeps 1/40,000 of the rows (< 0.5 %): it leads; status 'paid' keeps 8 %
    # (> 0.5 %): the expression leads it.
    selective, _ = generate(["SELECT * FROM orders WHERE customer_id = 7 AND lower(city) = 'x'"])
    common, _ = generate(["SELECT * FROM orders WHERE status = 'paid' AND lower(city) = 'x'"])
    both = [keys(c) for c in selective if any(k.expression for k in c.columns)]
    assert [("customer_id", False), ("lower(city)", True)] in both
    assert [("lower(city)", True), ("customer_id", False)] not in both
    common_keys = [keys(c) for c in common if any(k.expression for k in c.columns)]
    assert [("lower(city)", True), ("status", False)] in common_keys


def test_range_after_the_equality_expression_and_a_range_expression_after_columns():
    candidates, _ = generate(
        [
            "SELECT * FROM orders WHERE lower(city) = 'x' AND created_at >= '2024-06-01'",
            "SELECT * FROM orders WHERE customer_id = 7 AND created_at::date > '2024-06-01'",
        ]
    )
    assert {c.definition for c in candidates} >= {
        "public.orders ((lower(city)), created_at)",
        "public.orders (customer_id, (CAST(created_at AS date)))",
    }


def test_partial_variant_on_a_rare_constant_keeps_the_expression_key():
    candidates, _ = generate(["SELECT * FROM orders WHERE status = 'failed' AND lower(city) = 'x'"])
    partial = [(keys(c), c.where) for c in candidates if c.where]
    # status 'failed' keeps 1 % of the rows: the expression key restricted to those rows.
    assert ([("lower(city)", True)], "status = 'failed'") in partial
    assert all(where == "status = 'failed'" for _, where in partial)


def test_existing_expression_index_as_the_server_prints_it_serves_the_candidate():
    existing = expression_index("customers_lower_email", "lower((email)::text)")
    candidates, rejected = generate(
        ["SELECT * FROM customers WHERE lower(email) = 'a@b.c'"], CUSTOMERS, customers([existing])
    )
    assert candidates == []
    assert [(r.code, r.candidate.definition) for r in rejected] == [
        ("existing-index", "public.customers ((lower(email)))")
    ]


def test_a_plain_column_index_never_serves_an_expression_and_vice_versa():
    cast_candidate = IndexCandidate(
        table="public.orders",
        columns=(KeyColumn(name="CAST(created_at AS date)", expression=True),),
        equality_columns=1,
    )
    plain = IndexFacts(
        name="orders_created_at_idx",
        method="btree",
        columns=[
            IndexColumn(expression="created_at", attnum=4, descending=False, nulls_first=False)
        ],
        include=[],
        predicate=None,
        unique=False,
        primary=False,
        valid=True,
        size_bytes=8192,
        idx_scan=0,
        definition="",
    )
    assert served_by(cast_candidate, [plain]) is None
    column_candidate = IndexCandidate(
        table="public.customers", columns=(KeyColumn(name="email"),), equality_columns=1
    )
    assert served_by(column_candidate, [expression_index("e", "lower(email)")]) is None


def test_normalise_expression_matches_server_text_and_keeps_real_differences():
    assert normalise_expression("(payload ->> 'device'::text)") == normalise_expression(
        "payload ->> 'device'"
    )
    assert normalise_expression("btrim(email)") == normalise_expression("pg_catalog.btrim(email)")
    assert normalise_expression("(created_at)::date") == normalise_expression(
        "CAST(created_at AS date)"
    )
    assert normalise_expression("lower(email)") != normalise_expression("upper(email)")
    assert normalise_expression("payload ->> 'device'") != normalise_expression(
        "payload ->> 'path'"
    )


# --- names and migration -----------------------------------------------------------------------


def expression_candidate(*names, table="public.customers"):
    return IndexCandidate(
        table=table,
        columns=tuple(KeyColumn(name=n, expression="(" in n or " " in n) for n in names),
    )


def test_expression_names_are_the_expressions_words():
    assert index_name(expression_candidate("lower(email)")) == "idx_customers_lower_email"
    assert (
        index_name(expression_candidate("payload ->> 'device'", table="public.events"))
        == "idx_events_payload_device"
    )
    assert (
        index_name(expression_candidate("lower(pg_catalog.btrim(email))", "segment"))
        == "idx_customers_lower_btrim_email_segment"
    )


def test_create_sql_puts_the_expression_in_its_own_parentheses_and_quotes_identifiers():
    cand = expression_candidate("lower(email)", "segment")
    assert create_statements(cand, "idx_customers_lower_email_segment") == (
        'CREATE INDEX CONCURRENTLY "idx_customers_lower_email_segment" ON "public"."customers" '
        'USING "btree" ((lower(email)), "segment");'
    )


def test_migration_says_to_analyze_after_an_expression_index_only():
    expression = expression_candidate("lower(email)")
    plain = IndexCandidate(table="public.orders", columns=(KeyColumn(name="customer_id"),))
    recommendations = []
    for cand in (expression, plain):
        name = index_name(cand)
        recommendations.append(
            Recommendation(
                name=name,
                table=cand.table,
                columns=tuple(c.sql_hint for c in cand.columns),
                key_columns=cand.columns,
                create_sql=create_statements(cand, name),
                drop_sql=drop_statements(cand.table, name),
            )
        )
    up, _ = migration_text(recommendations)
    analyze = [line for line in up.splitlines() if "ANALYZE" in line]
    assert analyze == [
        '-- Then run ANALYZE "public"."customers"; so the planner has statistics on lower(email);'
    ]
    # The ANALYZE advice follows the expression index's CREATE, not the plain one's.
    lines = up.splitlines()
    create = lines.index(recommendations[0].create_sql)
    assert lines[create + 1] == analyze[0]
