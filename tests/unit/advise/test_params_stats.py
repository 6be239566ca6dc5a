"""Representative parameter values and pg_stats fractions (no database)."""

from __future__ import annotations

import pytest

from planalyzer.advisor.params import scenarios_for, substitute
from planalyzer.advisor.predicates import TableRef, extract
from planalyzer.advisor.stats import non_mcv_fraction, unknown_value_fraction, value_fraction
from tests.unit.advise.factories import ORDERS_COLUMNS, stats, table

TABLES = {TableRef(None, "orders"): table(columns=ORDERS_COLUMNS)}


def test_equality_parameter_gets_the_most_common_and_a_rare_value():
    shape = extract("SELECT * FROM orders WHERE status = $1")
    common, rare = scenarios_for(shape, TABLES)
    assert common.values == {1: "delivered"}
    assert rare.values == {1: "failed"}  # no histogram: the least common MCV
    assert rare.sql == "SELECT * FROM orders WHERE status = 'failed'"


def test_range_parameter_gets_a_wide_and_a_narrow_range():
    bounds = ORDERS_COLUMNS["created_at"].histogram_bounds
    shape = extract("SELECT * FROM orders WHERE created_at > $1")
    wide, narrow = scenarios_for(shape, TABLES)
    assert wide.values == {1: bounds[len(bounds) // 2]}
    assert narrow.values == {1: bounds[-2]}


def test_unknown_parameters_fall_back_to_the_generic_plan():
    [only] = scenarios_for(extract("SELECT * FROM orders ORDER BY id LIMIT $1"), TABLES)
    assert only.label == "generic plan"
    assert only.sql == "SELECT * FROM orders ORDER BY id LIMIT $1"
    [plain] = scenarios_for(extract("SELECT 1 FROM orders"), TABLES)
    assert plain.label == "as given"


def test_substitute_quotes_values():
    assert substitute("SELECT $1, $2", {1: "it's", 2: "x"}) == "SELECT 'it''s', 'x'"


def test_fractions_follow_the_planner_formulas():
    status = ORDERS_COLUMNS["status"]
    assert value_fraction(status, "failed", 300_000) == 0.01
    # 40,000 distinct, one MCV at 0.5 %: other values share the remaining 99.5 % equally.
    customer = ORDERS_COLUMNS["customer_id"]
    assert non_mcv_fraction(customer, 300_000) == pytest.approx(0.995 / 39_999)
    assert unknown_value_fraction(customer, 300_000) == pytest.approx(1 / 40_000)
    negative = stats(-0.5, null_frac=0.2)
    assert unknown_value_fraction(negative, 1000) == pytest.approx(0.8 / 500)
