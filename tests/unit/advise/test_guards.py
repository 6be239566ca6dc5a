"""The pure parts of issue 10: size estimate, partial-index rules, GIN classes, OR groups."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from planalyzer.advisor.candidates import CandidateOptions, generate_candidates, gin_refusal
from planalyzer.advisor.migration import migration_text
from planalyzer.advisor.predicates import TableRef, extract
from planalyzer.advisor.sample import OrderWalk
from planalyzer.advisor.size import ColumnLayout, estimate_btree_size
from planalyzer.advisor.statistics import StatisticsAdvice
from planalyzer.live.catalog import ColumnFacts
from tests.unit.advise.factories import stats, table

ORDERS = TableRef(None, "orders")
INT4 = ColumnLayout(4, "i", "int4")


def facts_with(rows=100_000, **columns):
    return table(rows=rows, pages=rows // 100, columns=columns)


def test_deduplication_makes_a_repetitive_key_much_smaller_than_a_unique_one():
    facts = facts_with(id=stats(-1), flag=stats(2, ["1", "0"], [0.5, 0.5]))
    layouts = {"id": INT4, "flag": INT4}
    unique = estimate_btree_size(facts, ["id"], layouts=layouts)
    repeated = estimate_btree_size(facts, ["flag"], layouts=layouts)
    # 6-byte heap pointers in posting lists against 20 bytes per plain tuple
    assert repeated < 0.5 * unique


def test_include_columns_and_numeric_keys_switch_deduplication_off():
    facts = facts_with(flag=stats(2, ["1", "0"], [0.5, 0.5]), amount=stats(2, width=6))
    layouts = {"flag": INT4, "amount": ColumnLayout(-1, "i", "numeric")}
    plain = estimate_btree_size(facts, ["flag"], layouts=layouts)
    assert estimate_btree_size(facts, ["flag"], ["amount"], layouts=layouts) > 2 * plain
    assert estimate_btree_size(facts, ["amount"], layouts=layouts) > 2 * plain


@given(
    rows=st.integers(min_value=0, max_value=10_000_000),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_size_grows_with_rows_and_a_partial_index_is_never_bigger(rows, fraction):
    facts = facts_with(rows=max(rows, 1), id=stats(-1))
    full = estimate_btree_size(facts, ["id"], layouts={"id": INT4})
    partial = estimate_btree_size(facts, ["id"], layouts={"id": INT4}, fraction=fraction)
    assert 2 * 8192 <= partial <= full
    assert full % 8192 == 0


def generate(sqls, facts, bound=False):
    shapes = []
    for n, sql in enumerate(sqls):
        shape = extract(sql)
        if bound:
            preds = tuple(dataclasses.replace(p, bound=True) for p in shape.predicates)
            shape = dataclasses.replace(shape, predicates=preds)
        shapes.append((n, shape))
    return generate_candidates(shapes, {ORDERS: facts}, CandidateOptions())


SKEWED = facts_with(
    status=stats(3, ["open", "closed", "failed"], [0.7, 0.29, 0.01]),
    tenant=stats(100, [str(i) for i in range(100)], [0.01] * 100),
    created_at=stats(-1, correlation=1.0),
)


def test_rare_literal_of_a_skewed_column_gets_a_partial_index_keyed_on_the_order():
    made, _ = generate(
        ["SELECT id FROM orders WHERE status = 'failed' ORDER BY created_at LIMIT 5"], SKEWED
    )
    partial = [c for c in made if c.where]
    assert partial
    assert all(c.column_names != ("status",) for c in partial)
    assert any(c.column_names == ("created_at",) for c in partial)


def test_no_partial_index_for_a_bound_value_or_a_uniform_column_or_the_pinned_column_alone():
    bound, _ = generate(["SELECT * FROM orders WHERE status = 'failed'"], SKEWED, bound=True)
    uniform, _ = generate(["SELECT * FROM orders WHERE tenant = '5'"], SKEWED)
    alone, _ = generate(["SELECT * FROM orders WHERE status = 'failed'"], SKEWED)
    assert not [c for c in [*bound, *uniform, *alone] if c.where]


def typed(name, data_type):
    return ColumnFacts(name=name, number=1, data_type=data_type, not_null=True, stats=stats(10))


def test_gin_operator_class_follows_the_type_and_is_checked_against_the_catalog():
    facts = table(columns={}).model_copy(
        update={"columns": [typed("tags", "text[]"), typed("doc", "jsonb"), typed("n", "integer")]}
    )
    made, _ = generate(
        [
            "SELECT id FROM orders WHERE tags @> ARRAY['a']",
            """SELECT id FROM orders WHERE doc ? 'k'""",
            "SELECT id FROM orders WHERE n::text ILIKE '%1%'",
        ],
        facts,
    )
    gin = {c.columns[0].name: c for c in made if c.method == "gin"}
    assert gin["tags"].columns[0].opclass == "array_ops"
    assert gin["doc"].columns[0].opclass == "jsonb_ops"
    opclasses = frozenset({("gin", "array_ops", "text[]"), ("gin", "jsonb_ops", "jsonb")})
    assert gin_refusal(gin["tags"], facts, opclasses, frozenset()) is None
    assert gin_refusal(gin["doc"], facts, frozenset(), frozenset()).code == "unsupported"
    trigram = gin_refusal(
        gin["doc"].model_copy(
            update={
                "columns": (gin["doc"].columns[0].model_copy(update={"opclass": "gin_trgm_ops"}),)
            }
        ),
        facts,
        opclasses,
        frozenset(),
    )
    assert trigram.code == "needs-extension"


def test_an_or_across_columns_of_one_table_is_a_group_and_one_column_is_an_in():
    assert [
        tuple(r.column for r in g)
        for g in extract("SELECT * FROM t WHERE a = 5 OR b = 7").or_groups
    ] == [("a", "b")]
    same = extract("SELECT * FROM t WHERE a = 5 OR a = 7")
    assert not same.or_groups
    assert same.predicates[0].operator == "OR"


def test_an_ordered_walk_reads_up_to_the_first_match_then_at_the_match_density():
    early = OrderWalk(sampled=1_000, matched=10, before_first=0, sample_fraction=0.1)
    late = OrderWalk(sampled=1_000, matched=10, before_first=990, sample_fraction=0.1)
    none = OrderWalk(sampled=1_000, matched=0, before_first=1_000, sample_fraction=0.1)
    assert early.rows_read(10) == 1_000  # 10 matches at 1 in 100
    assert late.rows_read(10) == 10_000  # capped at the whole range
    assert none.rows_read(10) == 10_000


def test_statistics_come_after_the_indexes_in_the_migration_and_are_undone_first():
    fix = StatisticsAdvice(
        kind="create-statistics",
        table="public.t",
        columns=("a", "b"),
        name="stx_t_a_b",
        create_sql='CREATE STATISTICS IF NOT EXISTS "public"."stx_t_a_b" (dependencies) '
        'ON "a", "b" FROM "public"."t";',
        drop_sql='DROP STATISTICS IF EXISTS "public"."stx_t_a_b";',
        estimate_before=1,
        estimate_after=100,
        actual_rows=120,
        reason="a, b of public.t are correlated",
    )
    assert fix.improved
    up, down = migration_text([], [fix])
    assert "CREATE STATISTICS" in up
    assert "DROP STATISTICS" in down
