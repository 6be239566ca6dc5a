"""_expressions: reading EXPLAIN conditions with pglast (columns, constants, join keys)."""

from __future__ import annotations

import pytest

import planalyzer as pa
from planalyzer.rules._expressions import (
    comparisons,
    create_index_sql,
    index_columns,
    node_comparisons,
    quote_ident,
    show_condition,
)


def _shape(text: str) -> list[tuple[str, str, str, str | None, bool]]:
    return [
        (str(c.column), c.operator, c.kind, None if c.other is None else str(c.other), c.in_or)
        for c in comparisons(text)
    ]


def _scan(**keys: object) -> pa.PlanNode:
    return pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", **keys}}).root


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "((city = 'Paris'::text) AND (country = 'FR'::text))",
            [("city", "=", "equality", None, False), ("country", "=", "equality", None, False)],
        ),
        ("(customer_id = 4242)", [("customer_id", "=", "equality", None, False)]),
        ("(created_at >= $1)", [("created_at", ">=", "range", None, False)]),
        ("(4 < a)", [("a", ">", "range", None, False)]),  # constant on the left: flipped
        ("(a BETWEEN 1 AND 3)", [("a", "BETWEEN", "range", None, False)]),
        ("(x = ANY ('{1,2}'::integer[]))", [("x", "= ANY", "equality", None, False)]),
        ("(d IS NULL)", [("d", "IS NULL", "equality", None, False)]),
        ("(d IS NOT NULL)", [("d", "IS NOT NULL", "other", None, False)]),
        ("active", [("active", "= true", "equality", None, False)]),
        ("(NOT deleted)", [("deleted", "= false", "equality", None, False)]),
        ("(status <> 'done'::text)", [("status", "<>", "other", None, False)]),
        ("((note)::text ~~ '%abc%'::text)", [("note", "~~", "other", None, False)]),
        ("(id = o.customer_id)", [("id", "=", "equality", "o.customer_id", False)]),
        (
            "((a = 1) OR (b > 2))",
            [("a", "=", "equality", None, True), ("b", ">", "range", None, True)],
        ),
        # an InitPlan's value is fixed for the execution: a constant for an index
        ("(x = (InitPlan 1).col1)", [("x", "=", "equality", None, False)]),
    ],
)
def test_comparisons_read_columns_operators_and_the_other_side(
    text: str, expected: list[tuple[str, str, str, str | None, bool]]
) -> None:
    assert _shape(text) == expected


def test_a_varchar_relabel_is_the_column_but_a_numeric_cast_is_an_expression() -> None:
    (relabel,) = comparisons("((status)::text = 'x'::text)")
    assert relabel.column.expression is None
    assert relabel.column.index_key == "status"
    (cast,) = comparisons("((amount_cents)::numeric > $0)")
    # an index on amount_cents cannot serve a numeric comparison: only an expression index can
    assert cast.column.expression is not None
    assert cast.column.index_key.startswith("(")
    assert "amount_cents" in cast.column.index_key
    assert "numeric" in cast.column.index_key


def test_expression_keys_drop_the_alias_so_they_fit_create_index() -> None:
    (comp,) = comparisons("(lower(o.email) = 'a@b.c'::text)")
    assert comp.column.qualifier == "o"
    assert comp.column.index_key == "(lower(email))"


@pytest.mark.parametrize(
    "text", ["(SubPlan 1)", "(NOT (hashed SubPlan 1))", "(x = (SubPlan 2))", "", None, "((("]
)
def test_subplans_and_unparsable_text_yield_nothing(text: str | None) -> None:
    assert comparisons(text) == []


def test_node_comparisons_orient_join_keys_to_the_scanned_relation() -> None:
    node = _scan(Alias="c", **{"Index Cond": "(o.customer_id = c.id)"})
    (comp,) = node_comparisons(node, "index_cond")
    assert (str(comp.column), str(comp.other)) == ("c.id", "o.customer_id")
    assert node_comparisons(_scan(Alias="x", Filter="(o.a = 1)"), "filter") == []
    assert len(node_comparisons(_scan(Alias="x", Filter="(o.a = 1)"), "filter", own_only=False))


def test_two_columns_of_the_same_relation_compared_are_not_indexable() -> None:
    (comp,) = node_comparisons(_scan(Filter="(a = b)"), "filter")
    assert comp.kind == "other"
    assert index_columns([comp]) == []


def test_join_filter_read_from_the_join_needs_a_qualified_column() -> None:
    plan = pa.parse(
        {
            "Plan": {
                "Node Type": "Nested Loop",
                "Join Filter": "((s.city = c.city) AND (region = 'EU'::text))",
                "Plans": [
                    {"Node Type": "Seq Scan", "Relation Name": "customers", "Alias": "c"},
                    {"Node Type": "Seq Scan", "Relation Name": "stores", "Alias": "s"},
                ],
            }
        }
    )
    stores = plan.node(2)
    comps = node_comparisons(stores, "join_filter", source=plan.root)
    # s.city belongs to stores; the unqualified `region` could be either side: left out
    assert [(str(c.column), str(c.other)) for c in comps] == [("s.city", "c.city")]


def test_index_columns_put_equality_first_then_range_without_repeats() -> None:
    comps = comparisons(
        "((created_at > $1) AND (account_id = 42) AND (created_at < $2) AND (kind = 'x'::text)"
        " AND ((a = 1) OR (b = 2)) AND (note ~~ 'x%'::text))"
    )
    assert [str(c) for c in index_columns(comps)] == ["account_id", "kind", "created_at"]


def test_index_columns_can_leave_out_join_keys() -> None:
    comps = comparisons("((id = o.customer_id) AND (kind = 'x'::text))")
    assert [str(c) for c in index_columns(comps)] == ["id", "kind"]
    assert [str(c) for c in index_columns(comps, join_keys=False)] == ["kind"]


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("customer_id", "customer_id"),
        ("Order", '"Order"'),
        ("user", '"user"'),  # reserved keyword
        ("select", '"select"'),
        ("name", "name"),  # unreserved keyword: PostgreSQL's quote_ident leaves it bare
        ('a"b', '"a""b"'),
        ("has space", '"has space"'),
        ("_x$1", "_x$1"),
    ],
)
def test_quote_ident_quotes_only_when_needed(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_create_index_sql_quotes_schema_table_and_columns() -> None:
    node = _scan(**{"Relation Name": "Order Lines", "Schema": "Sales", "Filter": '("Qty" > 10)'})
    columns = index_columns(node_comparisons(node, "filter"))
    assert create_index_sql(node, columns) == 'CREATE INDEX ON "Sales"."Order Lines" ("Qty")'


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("(customer_id = 4242)", "customer_id = 4242"),
        ("((a = 1) AND (b = 2))", "(a = 1) AND (b = 2)"),
        ("((a = 1) OR (b = ')'::text))", "(a = 1) OR (b = ')'::text)"),
        ("(a = 1) AND (b = 2)", "(a = 1) AND (b = 2)"),  # outer parens are not a pair
        (None, ""),
    ],
)
def test_show_condition_removes_only_the_outer_parentheses(text: str | None, shown: str) -> None:
    assert show_condition(text) == shown
