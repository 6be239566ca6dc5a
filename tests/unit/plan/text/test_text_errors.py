"""Typed errors for text plans and for input that is neither format; salvage is said out loud."""

from __future__ import annotations

import pytest

import planalyzer as pa


def _error(text: str) -> pa.PlanParseError:
    with pytest.raises(pa.PlanParseError) as info:
        pa.parse(text)
    return info.value


def test_malformed_figures_name_the_line_and_what_was_expected() -> None:
    err = _error(
        "Limit  (cost=0.00..1.00 rows=1 width=4)\n"
        "  ->  Seq Scan on t  (cost=0.00..35.50 rows=2550\n"
    )
    assert err.path == "line 2"
    assert "expected a plan node such as '->  Seq Scan on t  (cost=" in err.reason


def test_an_arrow_line_outside_every_node_names_its_line() -> None:
    err = _error("  Limit  (cost=0.00..1.00 rows=1 width=4)\n->  Seq Scan on t\n")
    assert err.path == "line 2"
    assert "not indented under any node" in err.reason


def test_an_unknown_line_is_kept_on_its_node_not_dropped() -> None:
    plan = pa.parse(
        "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
        "  Filter: (a > 1)\n"
        "  Fancy Extension Figure: 42 widgets\n"
        "  something without a label\n"
    )
    assert plan.root.extra["Fancy Extension Figure"] == "42 widgets"
    assert plan.root.extra["Unrecognised Lines"] == ["something without a label"]
    again = pa.parse(plan.to_text())
    assert again.root.extra == plan.root.extra


def test_neither_json_nor_text_names_both_formats() -> None:
    err = _error("this is not a plan at all")
    assert "invalid JSON" in err.reason
    assert "text-format EXPLAIN" in err.reason


@pytest.mark.parametrize(
    "sql", ["SELECT * FROM orders WHERE id = 1", "explain analyze select 1", "WITH x AS (..."]
)
def test_a_statement_without_its_plan_says_what_to_run(sql: str) -> None:
    err = _error(sql)
    assert "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)" in err.reason
    assert err.path == "line 1, column 1"


def test_invalid_json_with_one_plan_inside_is_kept_with_a_warning() -> None:
    plan = pa.parse('[ "Plan": {"Node Type": "Seq Scan", "Relation Name": "t"} ]')
    assert plan.root.relation_name == "t"
    (warning,) = plan.warnings
    assert "not valid JSON" in warning
    assert "line 1, column 11" in warning
    assert "Warning: The input was not valid JSON" in str(plan)


def test_invalid_json_with_several_plans_is_refused() -> None:
    err = _error('["Plan": {"Node Type": "Result"}, "Plan": {"Node Type": "Sort"}]')
    assert "more than one plan" in err.reason


def test_auto_explain_json_entry_needs_no_warning() -> None:
    entry = 'LOG:  duration: 1.0 ms  plan:\n{"Query Text": "x", "Plan": {"Node Type": "Result"}}'
    assert pa.parse(entry).warnings == []
