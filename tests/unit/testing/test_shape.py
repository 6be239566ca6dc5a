"""plan.shape(): what it keeps, what it leaves out, its tree diff and the snapshot store."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planalyzer as pa
from planalyzer.plan.shape import PlanShape, node_label
from planalyzer.testing import PlanAssertionError
from planalyzer.testing._compare import explain_comparison
from planalyzer.testing._shape import shape_diff_lines, shape_difference
from planalyzer.testing._snapshots import PlanSnapshot

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
PARALLEL = PLANS / "_general" / "parallel-verbose.json"
MEMOIZE = PLANS / "memoize-low-hit-rate" / "quiet--lookup-keys.json"

VOLATILE = (
    "Startup Cost", "Total Cost", "Plan Rows", "Plan Width", "Actual Startup Time",
    "Actual Total Time", "Actual Rows", "Actual Loops", "Workers Planned", "Workers Launched",
    "Shared Hit Blocks", "Shared Read Blocks", "Sort Method", "Sort Space Used", "Filter",
    "Rows Removed by Filter", "Output", "Alias", "Schema", "Index Cond", "Hash Batches",
)  # fmt: skip


def _bump(doc):
    """The same plan with every volatile figure changed (numbers doubled, texts altered)."""
    doc = copy.deepcopy(doc)
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in list(item.items()):
                if key in VOLATILE and isinstance(value, int | float) and value is not True:
                    item[key] = value * 2 + 1
                elif key in VOLATILE and isinstance(value, str):
                    item[key] = value + "_x"
                elif key in VOLATILE and isinstance(value, list):
                    item[key] = [*value, "extra"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return doc


@pytest.mark.parametrize("path", sorted(PLANS.glob("*/*.json")), ids=lambda p: p.stem)
def test_shape_ignores_costs_rows_times_workers_and_conditions(path):
    doc = json.loads(path.read_text())
    plan = pa.parse(doc)
    shape = plan.shape()
    assert shape == pa.parse(_bump(doc)).shape()
    assert len(shape.lines) == len(plan.nodes())
    assert shape == plan.shape()  # deterministic
    for word in ("cost", "rows=", "ms", "Workers"):
        assert word not in shape


def test_parallel_plan_keeps_strategies_partial_modes_and_parallelism():
    assert pa.load(PARALLEL).shape().lines == [
        "Finalize GroupAggregate",
        "  Gather Merge",
        "    Sort",
        "      Partial HashAggregate",
        "        Parallel Seq Scan on orders",
    ]


def test_labels_of_joins_subplans_and_modify_table():
    plan = pa.parse(
        {
            "Plan": {
                "Node Type": "ModifyTable",
                "Operation": "Update",
                "Relation Name": "orders",
                "Plans": [
                    {
                        "Node Type": "Nested Loop",
                        "Join Type": "Anti",
                        "Plans": [
                            {
                                "Node Type": "Index Scan",
                                "Scan Direction": "Backward",
                                "Index Name": "orders_pkey",
                                "Relation Name": "orders",
                            },
                            {"Node Type": "Subquery Scan", "Alias": "sub"},
                        ],
                    },
                    {
                        "Node Type": "Seq Scan",
                        "Parent Relationship": "SubPlan",
                        "Subplan Name": "SubPlan 1",
                        "Relation Name": "customers",
                    },
                ],
            }
        }
    )
    assert plan.shape().lines == [
        "Update on orders",
        "  Nested Loop Anti Join",
        "    Index Scan Backward using orders_pkey on orders",
        "    Subquery Scan on sub",
        "  [SubPlan] Seq Scan on customers",
    ]
    assert node_label(plan.node(1)) == "Nested Loop Anti Join"


def test_a_changed_index_changes_the_shape():
    doc = json.loads(MEMOIZE.read_text())
    other = copy.deepcopy(doc)
    inner = other[0]["Plan"]["Plans"][1]["Plans"][0]
    inner["Node Type"], inner["Index Name"] = "Seq Scan", None
    before, after = pa.parse(doc).shape(), pa.parse(other).shape()
    assert before != after
    where = shape_difference(after, before)
    assert where == (
        "node Nested Loop > Memoize > Seq Scan on order_status: expected "
        "Index Scan using order_status_pkey on order_status"
    )
    assert "-    Index Scan using order_status_pkey on order_status" in shape_diff_lines(
        after, before
    )
    assert "+    Seq Scan on order_status" in shape_diff_lines(after, before)


def test_shape_difference_names_extra_and_missing_children():
    base = "Hash Join\n  Seq Scan on a\n  Hash\n    Seq Scan on b"
    assert shape_difference(base, base) is None
    assert shape_difference(base + "\n    Seq Scan on c", base) == (
        "node Hash Join > Hash: 1 children expected, 2 found; Seq Scan on c is extra"
    )
    assert shape_difference("Hash Join\n  Seq Scan on a", base) == (
        "node Hash Join: 2 children expected, 1 found; Hash is missing"
    )


def test_deep_plan_shape_and_diff_do_not_recurse():
    node: dict = {"Node Type": "Seq Scan", "Relation Name": "t"}
    for _ in range(5000):
        node = {"Node Type": "Materialize", "Plans": [node]}
    plan = pa.parse({"Plan": node})
    shape = plan.shape()
    assert shape.lines[-1].strip() == "Seq Scan on t"
    changed = shape.replace("Seq Scan on t", "Seq Scan on u")
    assert shape_difference(changed, shape).endswith("Seq Scan on u: expected Seq Scan on t")


def test_shape_is_a_str_that_pickles_without_its_plan():
    shape = pa.load(MEMOIZE).shape()
    assert isinstance(shape, str)
    assert shape.plan is not None
    copy_ = pickle.loads(pickle.dumps(shape))
    assert copy_ == shape
    assert isinstance(copy_, PlanShape)


def test_assertrepr_for_two_shapes_shows_tree_diff_and_compare():
    doc = json.loads(MEMOIZE.read_text())
    other = copy.deepcopy(doc)
    other[0]["Plan"]["Plans"][1]["Plans"][0]["Index Name"] = "order_status_code_idx"
    left, right = pa.parse(other).shape(), pa.parse(doc).shape()
    lines = explain_comparison("==", left, right, 0)
    assert lines[1].startswith("plan shape differs: node Nested Loop > Memoize > Index Scan")
    assert "shape diff (- expected, + found):" in lines
    assert "-    Index Scan using order_status_pkey on order_status" in lines
    assert "pa.compare(left, right):" in lines


def test_assertrepr_reads_a_syrupy_snapshot_without_importing_syrupy():
    class Result:
        snapshot_name = "test_x"
        recalled_data = "  '''\n  Hash Join\n    Seq Scan on a\n  '''"

    class FakeSnapshot:
        name = "test_x"
        executions: ClassVar = {0: Result()}

    shape = PlanShape("Hash Join\n  Seq Scan on b")
    lines = explain_comparison("==", shape, FakeSnapshot(), 0)
    assert lines[1] == "plan shape differs: node Hash Join > Seq Scan on b: expected Seq Scan on a"
    assert lines[-1].endswith("run pytest --snapshot-update to accept it")
    Result.recalled_data = None
    lines = explain_comparison("==", shape, FakeSnapshot(), 0)
    assert lines[1] == "snapshot test_x does not exist; run pytest --snapshot-update to write it"
    assert explain_comparison("==", "a", FakeSnapshot(), 0) is None


def test_snapshot_store_missing_update_match_and_differ(tmp_path):
    plan = pa.load(MEMOIZE)
    snap = PlanSnapshot(tmp_path / "__plan_snapshots__" / "test_mod", "test_x[a/b]")
    with pytest.raises(PlanAssertionError, match=r"no plan snapshot at .*test_x\[a_b\]\.txt"):
        snap.assert_match(plan)
    writer = PlanSnapshot(snap.directory, "test_x[a/b]", update=True)
    assert writer == plan.shape()
    assert writer.path().read_text() == plan.shape() + "\n"
    assert PlanSnapshot(snap.directory, "test_x[a/b]") == plan
    other = pa.load(PARALLEL)
    checker = PlanSnapshot(snap.directory, "test_x[a/b]")
    with pytest.raises(PlanAssertionError) as info:
        checker.assert_match(other)
    message = str(info.value)
    assert "first difference: node Finalize GroupAggregate: expected Nested Loop" in message
    assert "+Finalize GroupAggregate" in message
    # a second comparison in the same test uses the next file; a named one its own
    assert checker.path().name == "test_x[a_b].txt"
    checker.matches(plan)
    assert checker.path().name == "test_x[a_b].2.txt"
    assert checker.path("after migration").name == "test_x[a_b].after_migration.txt"
    with pytest.raises(TypeError, match=r"compares a Plan or plan\.shape"):
        checker.matches(42)


_KINDS = ("Seq Scan", "Index Scan", "Hash Join", "Nested Loop", "Hash", "Sort", "Materialize")


@st.composite
def _trees(draw):
    """A random plan tree as EXPLAIN JSON (built iteratively, up to 30 nodes)."""
    count = draw(st.integers(1, 30))
    nodes = []
    for index in range(count):
        node = {
            "Node Type": draw(st.sampled_from(_KINDS)),
            "Total Cost": draw(st.floats(0, 1e6)),
            "Plan Rows": draw(st.integers(0, 10**6)),
        }
        if node["Node Type"].endswith("Scan"):
            node["Relation Name"] = draw(st.sampled_from(("orders", "customers", "items")))
        if index:
            parent = nodes[draw(st.integers(0, index - 1))]
            parent.setdefault("Plans", []).append(node)
        nodes.append(node)
    return {"Plan": nodes[0]}


@settings(max_examples=40, deadline=None)
@given(_trees(), st.data())
def test_shape_properties_on_random_trees(doc, data):
    plan = pa.parse(doc)
    shape = plan.shape()
    assert len(shape.lines) == len(plan.nodes())
    assert [len(line) - len(line.lstrip()) for line in shape.lines] == [
        2 * node.depth for node in plan.nodes()
    ]
    assert shape == pa.parse(_bump(doc)).shape()
    assert shape_difference(shape, shape) is None
    # renaming one node's relation is reported at exactly that node
    victim = data.draw(st.sampled_from(plan.nodes()))
    changed = list(shape.lines)
    changed[victim.id] = changed[victim.id] + " on other_table"
    where = shape_difference("\n".join(changed), shape)
    assert where is not None
    assert where.startswith("node ")
    assert f"expected {node_label(victim)}" in where
