"""Deep and huge plans parse, walk and round-trip whatever the caller's recursion limit."""

from __future__ import annotations

import json
import pickle
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import planalyzer as pa
from planalyzer.plan.parse import MAX_PLAN_DEPTH
from tests.unit.plan.builders import chain, chain_text, same_json


@contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def check_chain(plan: pa.Plan, depth: int) -> None:
    nodes = plan.nodes()
    assert len(nodes) == depth + 1
    assert nodes[-1].depth == depth
    assert nodes[-1].node_type == "Seq Scan"
    assert [n.id for n in plan.root.walk()] == list(range(depth + 1))
    assert all(n.parent is nodes[n.id - 1] for n in nodes[1:])
    # every Limit's self time is the 0.001 ms step, the leaf keeps its 1.0 ms
    assert nodes[-1].exclusive_time_ms == pytest.approx(1.0)
    assert nodes[0].exclusive_time_ms == pytest.approx(0.001, abs=1e-9)
    assert sum(n.exclusive_time_clamped_ms for n in nodes) == pytest.approx(0.0, abs=1e-6)
    graph = plan.to_networkx()
    assert graph.number_of_nodes() == depth + 1
    assert graph.number_of_edges() == depth


@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_deep_plan_from_text(depth: int) -> None:
    text = chain_text(depth)
    with recursion_limit(200):
        plan = pa.parse(text)
        check_chain(plan, depth)
        document = plan.to_json()
    decoded = json.loads(text) if depth < 400 else None  # stdlib would recurse too deeply
    assert decoded is None or same_json(document, decoded)
    with recursion_limit(200):
        again = pa.parse(document)  # the dict form of the same document
        assert same_json(again.to_json(), document)
        check_chain(again, depth)


@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_deep_plan_from_dict(depth: int) -> None:
    root = chain(depth)
    with recursion_limit(200):
        plan = pa.parse({"Plan": root, "Execution Time": 9.0})
        check_chain(plan, depth)
        assert same_json(plan.to_json()["Plan"], root)


def test_deep_text_round_trip_matches_the_text() -> None:
    depth = 1_000
    text = chain_text(depth)
    with recursion_limit(200):
        plan = pa.parse(text)
        from planalyzer.plan._json import loads_iterative

        assert same_json(plan.to_json(), loads_iterative(text))


@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_deep_plan_pickles(depth: int) -> None:
    """Pickle recurses into nested containers: a deep plan is pickled as flat node data."""
    plan = pa.parse({"Plan": chain(depth), "Execution Time": 9.0}, sql="SELECT 1")
    again = pickle.loads(pickle.dumps(plan))
    check_chain(again, depth)
    assert again.sql == "SELECT 1"
    assert same_json(again.to_json(), plan.to_json())


def test_nesting_beyond_the_limit_is_a_parse_error() -> None:
    depth = MAX_PLAN_DEPTH + 1
    with recursion_limit(200), pytest.raises(pa.PlanParseError) as info:
        pa.parse({"Plan": chain(depth, analyze=False)})
    assert f"deeper than {MAX_PLAN_DEPTH}" in info.value.reason
    assert info.value.path.startswith("$.Plan.Plans[0]")
    assert info.value.path.count("Plans[0]") == depth


def test_deep_json_that_is_not_a_plan_is_a_parse_error() -> None:
    with recursion_limit(200), pytest.raises(pa.PlanParseError):
        pa.parse('{"Plan": ' + "[" * 10_000 + "]" * 10_000 + "}")


def wide_document(n: int) -> list[dict[str, object]]:
    """A bushy plan of ``n`` nodes: an Append of Hash Joins (four nodes each), then scans."""
    members = []
    count = 1
    while count < n:
        size = min(4, n - count)
        scan = {
            "Node Type": "Seq Scan",
            "Relation Name": f"p{count}",
            "Actual Total Time": 0.5,
            "Actual Rows": 10,
            "Actual Loops": 1,
            "Shared Hit Blocks": 2,
            "Parent Relationship": "Outer",
        }
        if size == 4:
            hashed = dict(scan, **{"Parent Relationship": "Inner"})
            hash_node = {
                "Node Type": "Hash",
                "Parent Relationship": "Inner",
                "Actual Total Time": 0.6,
                "Actual Rows": 10,
                "Actual Loops": 1,
                "Shared Hit Blocks": 2,
                "Plans": [hashed],
            }
            join = {
                "Node Type": "Hash Join",
                "Parent Relationship": "Member",
                "Actual Total Time": 1.5,
                "Actual Rows": 10,
                "Actual Loops": 1,
                "Shared Hit Blocks": 5,
                "Plans": [dict(scan), hash_node],
            }
            members.append(join)
        else:
            members.extend(dict(scan, **{"Parent Relationship": "Member"}) for _ in range(size))
        count += size
    total = sum(m["Actual Total Time"] for m in members) + 1.0
    root = {
        "Node Type": "Append",
        "Actual Total Time": total,
        "Actual Rows": 1,
        "Actual Loops": 1,
        "Plans": members,
    }
    return [{"Plan": root, "Execution Time": total + 1}]


@pytest.mark.slow
def test_hundred_thousand_nodes() -> None:
    n = 100_000
    document = wide_document(n)
    text = json.dumps(document)
    plan = pa.parse(text)
    nodes = plan.nodes()
    assert len(nodes) == n
    assert [node.id for node in nodes[:5]] == [0, 1, 2, 3, 4]
    assert plan.to_json() == document
    assert sum(1 for _ in plan.root.walk()) == n
    assert plan.root.exclusive_time_ms == pytest.approx(1.0)
    joins = plan.find(node_type="Hash Join")
    assert len(joins) == (n - 1) // 4
    assert joins[0].exclusive_shared_hit_blocks == 5 - 2 - 2
    assert joins[0].exclusive_time_ms == pytest.approx(1.5 - 0.5 - 0.6)
