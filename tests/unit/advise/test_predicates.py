"""Predicate, join, ordering and column extraction from SQL (pglast, no database)."""

from __future__ import annotations

import pytest

from planalyzer.advisor.predicates import PredicateKind, TableRef, extract, referenced_tables
from planalyzer.errors import AdviceError

ORDERS = TableRef(None, "orders")
ITEMS = TableRef(None, "order_items")
COLUMNS = {
    "orders": {"id", "customer_id", "status", "created_at", "total", "note"},
    "order_items": {"id", "order_id", "product_id", "quantity"},
    "customers": {"id", "name", "email", "segment"},
}


def columns_of(table):
    return COLUMNS.get(table.name)


def kinds(shape):
    return [(p.table.name, p.column, p.kind, p.operator) for p in shape.predicates]


def test_equality_in_range_null_and_like_prefix():
    shape = extract(
        "SELECT id FROM orders WHERE customer_id = 42 AND status IN ('paid', 'failed') "
        "AND created_at BETWEEN '2024-01-01' AND '2024-02-01' AND total > 10 "
        "AND note IS NULL AND status LIKE 'pa%'"
    )
    assert kinds(shape) == [
        ("orders", "customer_id", PredicateKind.EQ, "="),
        ("orders", "status", PredicateKind.EQ, "IN"),
        ("orders", "created_at", PredicateKind.RANGE, "BETWEEN"),
        ("orders", "total", PredicateKind.RANGE, ">"),
        ("orders", "note", PredicateKind.IS_NULL, "IS NULL"),
        ("orders", "status", PredicateKind.LIKE_PREFIX, "LIKE"),
    ]
    status_in = shape.predicates[1]
    assert [v.text for v in status_in.values] == ["paid", "failed"]
    assert status_in.sql == "status IN ('paid', 'failed')"


def test_constant_on_the_left_is_flipped():
    [pred] = extract("SELECT 1 FROM orders WHERE 10 < total").predicates
    assert (pred.column, pred.operator, pred.values[0].text) == ("total", ">", "10")


def test_patterns_jsonb_and_full_text_are_not_btree_kinds():
    shape = extract(
        "SELECT 1 FROM customers WHERE name ILIKE 'ab%' AND email LIKE '%x%' "
        "AND email ~ 'y' AND to_tsvector('english', name) @@ to_tsquery('z')"
    )
    assert [p.kind for p in shape.predicates] == [
        PredicateKind.PATTERN,
        PredicateKind.PATTERN,
        PredicateKind.PATTERN,
        PredicateKind.FULL_TEXT,
    ]
    assert not any(p.kind.btree for p in shape.predicates)
    assert shape.predicates[3].expression == "to_tsvector('english', name)"
    jsonb = extract("""SELECT 1 FROM events WHERE payload @> '{"a": 1}'""").predicates[0]
    assert jsonb.kind is PredicateKind.JSONB


def test_aliases_schema_and_join_keys_resolve_to_tables():
    shape = extract(
        "SELECT o.id FROM shop.orders AS o JOIN order_items i ON i.order_id = o.id "
        "WHERE o.customer_id = $1"
    )
    shop_orders = TableRef("shop", "orders")
    assert shape.tables == (shop_orders, ITEMS)
    [join] = shape.joins
    assert join.side(ITEMS)[0].column == "order_id"
    assert join.side(shop_orders)[1].column == "order_id"
    [pred] = shape.predicates
    assert (pred.table, pred.values[0].param) == (shop_orders, 1)
    assert shape.params == frozenset({1})


def test_using_and_correlated_exists_give_join_keys():
    shape = extract(
        "SELECT count(*) FROM orders o WHERE EXISTS "
        "(SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.quantity > 3)",
    )
    [join] = shape.joins
    assert {join.left.table, join.right.table} == {ORDERS, ITEMS}
    using = extract("SELECT 1 FROM orders JOIN order_items USING (id)", columns_of)
    assert len(using.joins) == 1


def test_ctes_are_not_tables_and_their_queries_are_read():
    shape = extract(
        "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day') "
        "SELECT * FROM recent WHERE recent.total > 5"
    )
    assert shape.tables == (ORDERS,)
    [pred] = shape.predicates
    assert pred.column == "created_at"
    assert pred.values[0].text is None  # an expression, not a constant
    assert not pred.constant


def test_unqualified_columns_need_the_catalog_when_several_tables():
    sql = "SELECT 1 FROM orders o JOIN order_items i ON i.order_id = o.id WHERE quantity = 2"
    assert extract(sql).predicates == ()
    assert "quantity" in extract(sql).unresolved
    [pred] = extract(sql, columns_of).predicates
    assert (pred.table, pred.column) == (ITEMS, "quantity")


def test_order_by_direction_nulls_alias_position_and_limit():
    shape = extract(
        "SELECT id, created_at AS c FROM orders WHERE customer_id = 1 "
        "ORDER BY c DESC NULLS LAST, 1 LIMIT 10"
    )
    [ordering] = shape.orderings
    assert [(k.column, k.descending, k.nulls_first) for k in ordering.keys] == [
        ("created_at", True, False),
        ("id", False, None),
    ]
    assert ordering.limit == 10
    assert ordering.keys[1].effective_nulls_first is False
    assert extract("SELECT 1 FROM orders ORDER BY id LIMIT $1").orderings[0].limit == -1


def test_order_by_an_expression_gives_no_usable_ordering():
    assert extract("SELECT 1 FROM orders ORDER BY total * 2 LIMIT 5").orderings == ()


def test_group_by_is_an_unordered_ordering():
    [ordering] = extract("SELECT status, count(*) FROM orders GROUP BY status").orderings
    assert ordering.grouping
    assert ordering.keys[0].column == "status"


def test_columns_and_star():
    shape = extract("SELECT o.id, sum(total) FROM orders o WHERE customer_id = 1 GROUP BY o.id")
    assert shape.needed_columns(ORDERS) == {"id", "total", "customer_id"}
    assert extract("SELECT * FROM orders").needed_columns(ORDERS) is None
    assert extract("SELECT o.* FROM orders o").needed_columns(ORDERS) is None


def test_or_on_one_column_is_an_in_list():
    [pred] = extract("SELECT 1 FROM orders WHERE status = 'a' OR status = 'b'").predicates
    assert (pred.kind, [v.text for v in pred.values]) == (PredicateKind.EQ, ["a", "b"])
    assert extract("SELECT 1 FROM orders WHERE status = 'a' OR total = 1").predicates == ()


def test_update_and_delete():
    update = extract("UPDATE orders SET total = 0 WHERE customer_id = $1 RETURNING id")
    assert [p.column for p in update.predicates] == ["customer_id"]
    assert update.needed_columns(ORDERS) == {"customer_id", "id"}
    delete = extract(
        "DELETE FROM orders o USING customers c WHERE o.customer_id = c.id AND c.segment = 'x'"
    )
    assert len(delete.joins) == 1
    assert delete.predicates[0].table == TableRef(None, "customers")


def test_boolean_column_alone_is_equality_with_true():
    [pred] = extract("SELECT 1 FROM products WHERE active").predicates
    assert (pred.kind, pred.sql, pred.values[0].text) == (PredicateKind.EQ, "active", "true")


def test_referenced_tables_and_parse_errors():
    assert referenced_tables("SELECT 1 FROM a, b.c") == [TableRef(None, "a"), TableRef("b", "c")]
    with pytest.raises(AdviceError, match="cannot parse"):
        extract("SELEC 1")
    with pytest.raises(AdviceError, match="exactly one"):
        extract("SELECT 1; SELECT 2")


def test_deeply_nested_expression_does_not_recurse():
    sql = "SELECT 1 FROM orders WHERE " + " AND ".join(f"total > {i}" for i in range(2000))
    assert len(extract(sql).predicates) == 2000
