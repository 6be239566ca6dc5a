"""Typed fields, unknown keys, navigation and the statement-level figures."""

from __future__ import annotations

import gc
import json
import pickle

import pytest

import planalyzer as pa
from tests.unit.plan.builders import corpus_path, node, statement


def test_fields_are_typed_and_aliases_are_postgres_keys() -> None:
    plan = pa.load(corpus_path("pev2/aggregate_four_joins.json"))
    raw = json.loads(corpus_path("pev2/aggregate_four_joins.json").read_bytes())[0]["Plan"]
    root = plan.root
    assert root.node_type == raw["Node Type"]
    assert root.total_cost == raw["Total Cost"]
    assert root.actual_loops == raw["Actual Loops"]
    assert root.shared_hit_blocks == raw["Shared Hit Blocks"]
    assert plan.planning_time_ms is not None
    assert plan.execution_time_ms is not None


def test_unknown_keys_are_kept_in_extra_and_written_back() -> None:
    doc = statement(
        node("Seq Scan", raw={"Future Key": {"a": [1, 2]}, "Storage": "Memory"}),
        Serialization={"Time": 0.1, "Output Volume": 3},
        Some_Future_Top={"x": 1},
    )
    plan = pa.parse(doc)
    assert plan.root.extra == {"Future Key": {"a": [1, 2]}, "Storage": "Memory"}
    assert plan.extra == {"Some Future Top": {"x": 1}}
    assert plan.serialization == {"Time": 0.1, "Output Volume": 3}
    assert plan.to_json() == doc


def test_int_and_float_are_kept_as_printed() -> None:
    # PostgreSQL 18 prints "Actual Rows": 1.00; earlier versions 1
    doc = statement(node("Seq Scan", rows=1.0, loops=1, plan_rows=1, total=0.5))
    again = pa.parse(json.dumps(doc)).to_json()[0]["Plan"]
    assert type(again["Actual Rows"]) is float
    assert type(again["Actual Loops"]) is int
    assert type(again["Plan Rows"]) is int


def test_triggers_jit_and_settings() -> None:
    plan = pa.load(corpus_path("pg_store_plans/p01_insert_trigger.json"))
    assert plan.triggers
    assert plan.trigger_time_ms == pytest.approx(sum(t.time_ms for t in plan.triggers))
    jit = pa.load(corpus_path("pganalyze_collector/jit.json")).jit
    assert jit is not None
    assert jit.functions
    assert jit.total_ms
    settings = pa.load(corpus_path("pev2/delete_modifytable_empty_settings.json")).settings
    assert settings == {}


def test_jit_total_without_total_key_sums_phases_pg16_shape() -> None:
    jit = pa.JitInfo.model_validate(
        {
            "Functions": 3,
            "Timing": {
                "Generation": {"Deform": 0.1, "Total": 1.0},
                "Inlining": 2.0,
                "Optimization": 3.0,
                "Emission": 4.0,
            },
        }
    )
    assert jit.total_ms == pytest.approx(1.0 + 2.0 + 3.0 + 4.0)


def test_total_runtime_of_old_servers() -> None:
    plan = pa.parse({"Plan": {"Node Type": "Result"}, "Total Runtime": 4.5})
    assert plan.execution_time_ms == 4.5
    assert plan.total_time_ms == 4.5


def test_find() -> None:
    plan = pa.load(corpus_path("pev2/aggregate_four_joins.json"))
    scans = plan.find(node_type="Seq Scan")
    assert scans
    assert all(n.node_type == "Seq Scan" for n in scans)
    first = scans[0]
    assert first in plan.find(relation=first.relation_name)
    assert first in plan.find(relation=first.relation)
    assert first in plan.find(relation=first.alias)
    assert plan.find(node_type="Seq Scan", predicate=lambda n: False) == []
    indexed = [n for n in plan.nodes() if n.index_name]
    if indexed:
        assert plan.find(index=indexed[0].index_name)[0] is indexed[0]


def test_find_accepts_the_parallel_prefix() -> None:
    plan = pa.load(corpus_path("pev2/parallel_verbose.json"))
    scan = plan.find(node_type="Seq Scan")
    assert scan
    assert scan[0].parallel_aware
    assert plan.find(node_type="Parallel Seq Scan") == scan
    assert plan.find(node_type="Parallel Aggregate") == []  # the partial Aggregate is not aware


def test_display_name() -> None:
    plan = pa.load(corpus_path("pev2/parallel_verbose.json"))
    scan = plan.find(node_type="Seq Scan")[0]
    assert scan.display_name.startswith("Parallel Seq Scan on lineitem")
    agg = pa.parse({"Plan": {"Node Type": "Aggregate", "Strategy": "Hashed"}}).root
    assert agg.display_name == "HashAggregate"
    join = pa.parse({"Plan": {"Node Type": "Hash Join", "Join Type": "Left"}}).root
    assert join.display_name == "Hash Left Join"


def test_relation_is_schema_qualified() -> None:
    n = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Schema": "s"}}).root
    assert n.relation == "s.t"


def test_plans_pickle_and_keep_context() -> None:
    plan = pa.parse(corpus_path("pev2/many_ctes.json").read_bytes(), sql="WITH ...")
    again = pickle.loads(pickle.dumps(plan))
    assert again.to_json() == plan.to_json()
    assert again.sql == "WITH ..."
    assert [n.exclusive_time_ms for n in again.nodes()] == [
        n.exclusive_time_ms for n in plan.nodes()
    ]


def test_nodes_compare_by_identity() -> None:
    doc = {"Plan": {"Node Type": "Result"}}
    assert pa.parse(doc).root != pa.parse(doc).root
    plan = pa.parse(doc)
    assert plan.root == plan.node(0)
    assert len({plan.root, plan.node(0)}) == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_parse_leaves_the_garbage_collector_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        pa.parse({"Plan": {"Node Type": "Result"}})
        assert gc.isenabled() is enabled
        with pytest.raises(pa.PlanParseError):
            pa.parse("nope")
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
