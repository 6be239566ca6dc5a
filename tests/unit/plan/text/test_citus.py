"""Citus's distributed-plan sections in text format read as the ``Distributed Query`` JSON has.

The twins in tests/corpus/handwritten (``*.txt`` beside a Citus ``*.json``) are the same plan in
both formats, written as Citus's multi_explain.c prints them: the text parse must equal the JSON
parse field by field, and ``to_text()`` of either must print the text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planalyzer as pa
from planalyzer.plan.serialize import node_keys
from planalyzer.plan.text._reader import read_text
from planalyzer.testing.strategies import GeneratedPlan, plan_documents
from tests.unit.plan.builders import CORPUS
from tests.unit.plan.text.carried import carried_pair

TWINS = sorted(
    p
    for p in (CORPUS / "handwritten").glob("*.txt")
    if "Distributed Query" in p.with_suffix(".json").read_text()
)


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_there_are_citus_twins() -> None:
    assert len(TWINS) >= 5


@pytest.mark.parametrize("path", TWINS, ids=_ids(TWINS))
def test_text_reads_as_its_json_twin(path: Path) -> None:
    from_text = pa.parse(path.read_text())
    from_json = pa.parse(path.with_suffix(".json").read_text())
    left, right = carried_pair(from_text, from_json)
    assert left == right
    # the worker plans are child nodes, marked remote, in both
    assert [(n.depth, n.node_type, n.remote) for n in from_text.nodes()] == [
        (n.depth, n.node_type, n.remote) for n in from_json.nodes()
    ]


@pytest.mark.parametrize("path", TWINS, ids=_ids(TWINS))
def test_to_text_prints_what_citus_prints(path: Path) -> None:
    text = path.read_text()
    assert pa.parse(path.with_suffix(".json").read_text()).to_text() == text
    assert pa.parse(text).to_text() == text


def _distributed_query(text: str) -> dict[str, object]:
    plan = pa.parse(text)
    scan = next(n for n in plan.nodes() if n.node_type == "Custom Scan")
    keys = node_keys(scan)
    assert "Task Count" not in keys  # the job's lines are not left on the node
    return keys["Distributed Query"]  # type: ignore[no-any-return]


def test_a_task_without_a_remote_plan_keeps_its_error() -> None:
    query = _distributed_query(
        "Custom Scan (Citus Adaptive)  (cost=0.00..0.00 rows=0 width=0)\n"
        "  Task Count: 1\n"
        "  Tasks Shown: All\n"
        "  ->  Task\n"
        "        Error: Could not get remote plan.\n"
    )
    assert query == {
        "Job": {
            "Task Count": 1,
            "Tasks Shown": "All",
            "Tasks": [{"Error": "Could not get remote plan."}],
        }
    }


def test_a_remote_plan_is_a_statement_of_its_own() -> None:
    (statement,) = read_text(
        "Custom Scan (Citus Adaptive) (actual rows=1 loops=1)\n"
        "  Task Count: 1\n"
        "  Tasks Shown: All\n"
        "  ->  Task\n"
        "        Node: host=w port=5432 dbname=d\n"
        "        ->  Seq Scan on t_1 t (actual rows=1 loops=1)\n"
        "              Filter: (a > 1)\n"
        "            Planning Time: 0.050 ms\n"
        "            Execution Time: 0.020 ms\n"
        "Planning Time: 1.000 ms\n"
    )
    (task,) = statement["Plan"]["Distributed Query"]["Job"]["Tasks"]
    (remote,) = task["Remote Plan"][0]
    assert remote["Plan"]["Node Type"] == "Seq Scan"
    assert "Parent Relationship" not in remote["Plan"]  # the worker plan's root
    assert remote["Plan"]["Rows Removed by Filter"] == 0  # suppressed zero, as JSON prints it
    assert (remote["Planning Time"], remote["Execution Time"]) == (0.05, 0.02)
    assert statement["Planning Time"] == 1.0
    assert "Execution Time" not in statement


def test_headings_outside_a_custom_scan_stay_nodes() -> None:
    plan = pa.parse("Append\n  ->  Task\n  ->  Seq Scan on t\n")
    assert [n.node_type for n in plan.nodes()] == ["Append", "Task", "Seq Scan"]


def test_a_distributed_query_of_another_shape_is_written_as_json() -> None:
    document = [
        {
            "Plan": {
                "Node Type": "Custom Scan",
                "Custom Plan Provider": "Citus Adaptive",
                "Distributed Query": {"Job": {"Task Count": 1}, "Future Section": [1]},
            }
        }
    ]
    text = pa.parse(document).to_text()
    assert 'Distributed Query: {"Job": {"Task Count": 1}, "Future Section": [1]}' in text
    again = pa.parse(text)
    assert node_keys(again.root)["Distributed Query"] == document[0]["Plan"]["Distributed Query"]


def test_a_merge_through_the_coordinator_nests_its_source_query() -> None:
    text = (
        "Custom Scan (Citus MERGE INTO ...)\n"
        "  MERGE INTO target method: pull to coordinator\n"
        "  ->  Custom Scan (Citus Adaptive)\n"
        "        Task Count: 1\n"
        "        Tasks Shown: All\n"
        "        ->  Task\n"
        "              Node: host=w port=5432 dbname=d\n"
        "              ->  Seq Scan on source_4000 source\n"
    )
    (statement,) = read_text(text)
    plan = statement["Plan"]
    assert plan["MERGE INTO target method"] == "pull to coordinator"
    (source,) = plan["Source Query"]
    assert "Plans" not in plan
    assert "Parent Relationship" not in source["Plan"]
    assert source["Plan"]["Distributed Query"]["Job"]["Task Count"] == 1
    parsed = pa.parse(text)
    assert [(n.node_type, n.remote) for n in parsed.nodes()] == [
        ("Custom Scan", False),
        ("Custom Scan", True),
        ("Seq Scan", True),
    ]
    assert parsed.to_text() == text


def _shape(plan: pa.Plan) -> list[tuple[object, ...]]:
    return [
        (n.depth, n.remote, n.node_type, n.alias, n.total_cost, n.actual_rows, n.actual_loops)
        for n in plan.nodes()
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_documents(max_nodes=8), plan_documents(max_nodes=8), st.booleans())
def test_random_worker_and_subplan_plans_survive_the_text_round_trip(
    task: GeneratedPlan, subplan: GeneratedPlan, with_subplan: bool
) -> None:
    job = {
        "Task Count": 3,
        "Tasks Shown": "One of 3",
        "Tasks": [{"Node": "host=w1 port=5432 dbname=d", "Remote Plan": [task.document]}],
    }
    query: dict[str, object] = {"Job": job}
    if with_subplan:
        section = {"Intermediate Data Size": "18 bytes", "PlannedStmt": subplan.document}
        query = {"Subplans": [section], "Job": job}
    custom = {"Node Type": "Custom Scan", "Custom Plan Provider": "Citus Adaptive"}
    plan = pa.parse([{"Plan": {**custom, "Distributed Query": query}}])
    text = plan.to_text()
    again = pa.parse(text)
    assert _shape(again) == _shape(plan), text
    left, right = carried_pair(plan, again)
    assert left[1][0]["Distributed Query"].keys() == right[1][0]["Distributed Query"].keys()
