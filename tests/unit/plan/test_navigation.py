"""The Python API for finding one's way in a plan: len, iter, node(), find(), print(node)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import planalyzer as pa
from tests.unit.plan.builders import corpus_path

_AGG = {
    "Plan": {
        "Node Type": "Aggregate",
        "Strategy": "Sorted",
        "Partial Mode": "Finalize",
        "Total Cost": 10.0,
        "Plan Rows": 1,
        "Plans": [
            {
                "Node Type": "Gather Merge",
                "Total Cost": 9.0,
                "Plan Rows": 2,
                "Plans": [
                    {
                        "Node Type": "Aggregate",
                        "Strategy": "Hashed",
                        "Partial Mode": "Partial",
                        "Total Cost": 8.0,
                        "Plan Rows": 2,
                        "Plans": [
                            {
                                "Node Type": "Seq Scan",
                                "Parallel Aware": True,
                                "Relation Name": "orders",
                                "Total Cost": 5.0,
                                "Plan Rows": 100,
                            }
                        ],
                    }
                ],
            }
        ],
    }
}


@pytest.fixture(scope="module")
def big() -> pa.Plan:
    return pa.load(corpus_path("pev2/very_large_plan_object_form.json"))


def test_len_is_the_node_count_and_iter_is_pre_order(big):
    assert len(big) == len(big.nodes()) == 72
    assert [n.id for n in big] == list(range(72))
    assert list(big) == list(big.root.walk())


@pytest.mark.parametrize("bad", [72, 99, -1, -72])
def test_node_raises_key_error_naming_the_valid_range(big, bad):
    with pytest.raises(KeyError, match=rf"no node {bad} in this plan: node ids run from 0 to 71"):
        big.node(bad)


@given(st.integers(min_value=-10, max_value=80))
def test_node_returns_the_node_with_that_id_or_raises(node_id):
    plan = pa.parse(_AGG)
    if 0 <= node_id < len(plan):
        assert plan.node(node_id).id == node_id
    else:
        with pytest.raises(KeyError):
            plan.node(node_id)


@pytest.mark.parametrize("spelling", ["Seq Scan", "seq scan", "SeqScan", "SEQ_SCAN", " seq  scan"])
def test_find_ignores_case_and_spaces(big, spelling):
    expected = [n for n in big.nodes() if n.node_type == "Seq Scan"]
    assert expected
    assert big.find(node_type=spelling) == expected


@pytest.mark.parametrize("spelling", ["Seq Scn", "Frobnicate Scan", "Hash Joins"])
def test_find_raises_on_a_node_type_postgresql_does_not_have(big, spelling):
    with pytest.raises(ValueError, match="PostgreSQL has no plan node type"):
        big.find(node_type=spelling)


def test_find_accepts_the_text_formats_names():
    plan = pa.parse(_AGG)
    assert [n.id for n in plan.find(node_type="HashAggregate")] == [2]
    assert [n.id for n in plan.find(node_type="group aggregate")] == [0]
    assert [n.id for n in plan.find(node_type="Parallel Seq Scan")] == [3]
    assert [n.id for n in plan.find(node_type="Aggregate")] == [0, 2]


def test_find_accepts_a_node_type_the_plan_has_even_if_unknown_here():
    plan = pa.parse({"Plan": {"Node Type": "Shiny New Scan", "Total Cost": 1.0}})
    assert plan.find(node_type="shiny new scan") == [plan.root]


def test_display_name_keeps_partial_and_finalize():
    names = [n.display_name for n in pa.parse(_AGG)]
    assert names[0] == "Finalize GroupAggregate"
    assert names[2] == "Partial HashAggregate"
    assert names[3] == "Parallel Seq Scan on orders"


def test_print_node_prints_its_lines_not_its_repr(big):
    node = big.node(3)
    text = str(node)
    assert text.startswith(f"[3] {node.display_name}")
    assert "Hash Cond: " + str(node.hash_cond) in text
    assert "PlanNode(" not in text
    assert repr(node).startswith("PlanNode(id=3")


def test_report_for_node_takes_a_node_or_an_id(big):
    report = pa.analyze(big)
    finding = report.findings[0]
    assert finding.node_id is not None
    node = big.node(finding.node_id)
    assert report.for_node(node) == report.for_node(node.id)
    assert finding in report.for_node(node)
    with pytest.raises(KeyError):
        report.for_node(1000)
