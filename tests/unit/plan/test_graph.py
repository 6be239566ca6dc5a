"""to_networkx(): the plan as a DiGraph keyed by node id, a tree rooted at node 0."""

from __future__ import annotations

import networkx
import pytest

import planalyzer as pa
from tests.unit.plan.builders import corpus_path

PLANS = [
    "pev2/very_large_plan_object_form.json",
    "handwritten/pg9_initplan_subplan_analyze.json",
    "handwritten/distributed_join_count_costs_off_pg18.json",
]


@pytest.mark.parametrize("relative", PLANS)
def test_graph_mirrors_the_tree(relative: str) -> None:
    plan = pa.load(corpus_path(relative))
    graph = plan.to_networkx()
    assert isinstance(graph, networkx.DiGraph)
    assert list(graph.nodes) == [n.id for n in plan.nodes()]
    assert networkx.is_arborescence(graph)
    assert [v for v, d in graph.in_degree() if d == 0] == [0]
    expected = {(n.parent.id, n.id) for n in plan.nodes() if n.parent is not None}
    assert set(graph.edges) == expected
    for n in plan.nodes():
        data = graph.nodes[n.id]
        assert data["node"] is n
        assert data["node_type"] == n.node_type
        assert data["relation"] == n.relation
        assert data["exclusive_time_ms"] == n.exclusive_time_ms
        assert data["rows_total"] == n.rows_total
        if n.parent is not None:
            relationship = graph.edges[n.parent.id, n.id]["relationship"]
            assert relationship == ("Remote" if n.remote else n.parent_relationship)


def test_edge_relationships_name_init_and_sub_plans() -> None:
    plan = pa.load(corpus_path("handwritten/pg9_initplan_subplan_analyze.json"))
    graph = plan.to_networkx()
    assert sorted(graph.edges(data="relationship")) == [(0, 1, "InitPlan"), (0, 2, "SubPlan")]


def test_remote_edges() -> None:
    plan = pa.load(corpus_path("handwritten/distributed_join_count_costs_off_pg18.json"))
    graph = plan.to_networkx()
    remote_edges = [(u, v) for u, v, r in graph.edges(data="relationship") if r == "Remote"]
    assert remote_edges
    assert {v for _, v in remote_edges} == {n.id for n in plan.nodes() if n.remote}
    # the boundary: a local Custom Scan holding the distributed plan
    boundary = [u for u, v in remote_edges if not plan.node(u).remote]
    assert boundary
    assert all("Distributed Query" in plan.node(u).extra for u in boundary)


def test_single_node_graph() -> None:
    graph = pa.parse({"Plan": {"Node Type": "Result"}}).to_networkx()
    assert list(graph.nodes) == [0]
    assert graph.number_of_edges() == 0
    assert networkx.is_arborescence(graph)
