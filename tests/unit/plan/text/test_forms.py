"""Text forms that need their neighbours to be read as JSON has them (planalyzer.plan.text._forms).

The real-server cases (grouping sets, function scans on expressions, per-worker JIT) are twins in
fixtures/twins/pg15 and checked by test_twins; these are the forms a PostgreSQL 15 cannot print
(an extension's node) or prints only in rare runs (a worker whose first line is its JIT block).
"""

from __future__ import annotations

import pytest

import planalyzer as pa
from planalyzer.plan.serialize import node_keys


def test_an_unknown_top_node_without_costs_is_a_node_when_children_follow() -> None:
    plan = pa.parse("Vector Search\n  ->  Seq Scan on items\n        Filter: (a > 1)\n")
    assert [n.node_type for n in plan.nodes()] == ["Vector Search", "Seq Scan"]
    assert plan.nodes()[1].filter == "(a > 1)"


def test_an_unknown_top_node_without_costs_is_a_node_when_properties_follow() -> None:
    plan = pa.parse("Columnar Scan\n  Columnar Projected Columns: a, b\n")
    assert plan.root.node_type == "Columnar Scan"
    assert node_keys(plan.root)["Columnar Projected Columns"] == "a, b"


@pytest.mark.parametrize(
    "text",
    [
        "Vector Search\n",  # alone: a word, not a plan
        "Vector Search\nSomething else\n",  # nothing deeper under it
    ],
)
def test_a_bare_capitalised_line_without_anything_under_it_is_not_a_plan(text: str) -> None:
    with pytest.raises(pa.PlanParseError):
        pa.parse(text)


def test_prose_before_a_plan_fragment_stays_prose() -> None:
    plan = pa.parse("Here is my plan\n  ->  Seq Scan on t\n")
    assert [node.node_type for node in plan.nodes()] == ["Seq Scan"]


def test_a_verbose_function_scan_printed_by_alias_has_no_function_name() -> None:
    plan = pa.parse(
        "Function Scan on r  (cost=0.01..0.03 rows=3 width=8)\n"
        "  Output: r.a, r.b\n"
        "  Function Call: generate_series(1, 2), generate_series(1, 3)\n"
    )
    keys = node_keys(plan.root)
    assert keys["Alias"] == "r"
    assert "Function Name" not in keys
    assert plan.to_text().splitlines()[0].startswith("Function Scan on r  (cost=")


def test_a_verbose_function_scan_with_its_schema_keeps_the_function() -> None:
    plan = pa.parse(
        "Function Scan on pg_catalog.unnest x  (cost=0.00..0.03 rows=3 width=4)\n"
        "  Output: x.x\n"
        "  Function Call: unnest('{1,2,3}'::integer[])\n"
    )
    keys = node_keys(plan.root)
    assert (keys["Function Name"], keys["Schema"], keys["Alias"]) == ("unnest", "pg_catalog", "x")


def test_without_verbose_a_single_name_is_the_function_and_its_alias() -> None:
    # what explain.c prints for generate_series(...) without an alias; ROWS FROM (...) r prints
    # the same line, and text cannot tell them apart (docs/text-format.md)
    keys = node_keys(
        pa.parse("Function Scan on generate_series  (cost=0.00..0.02 rows=2 width=4)").root
    )
    assert (keys["Function Name"], keys["Alias"]) == ("generate_series", "generate_series")


_TIMING = "Generation 0.100 ms, Inlining 0.000 ms, Optimization 0.000 ms, Emission 0.000 ms"
_WORKER_JIT_FIRST = f"""\
Gather  (cost=0.00..1.00 rows=1 width=4) (actual rows=1 loops=1)
  Output: a
  Workers Planned: 2
  Workers Launched: 2
  ->  Parallel Seq Scan on public.t  (cost=0.00..1.00 rows=1 width=4) (actual rows=0 loops=2)
        Output: a
        Worker 0:  actual rows=1 loops=1
        Worker 1:  JIT:
            Functions: 2
            Options: Inlining false, Optimization false, Expressions true, Deforming true
            Timing: {_TIMING}, Total 0.100 ms
          Buffers: shared hit=3
"""


def test_a_worker_whose_entry_opens_with_its_jit_block() -> None:
    plan = pa.parse(_WORKER_JIT_FIRST)
    worker = node_keys(plan.nodes()[1])["Workers"][1]
    assert worker["JIT"] == {
        "Functions": 2,
        "Options": {
            "Inlining": False,
            "Optimization": False,
            "Expressions": True,
            "Deforming": True,
        },
        "Timing": {
            "Generation": 0.1,
            "Inlining": 0.0,
            "Optimization": 0.0,
            "Emission": 0.0,
            "Total": 0.1,
        },
    }
    assert worker["Shared Hit Blocks"] == 3
    assert plan.to_text() == _WORKER_JIT_FIRST


def test_grouping_sets_read_as_explain_c_builds_them() -> None:
    # a MixedAggregate: hashed sets first (one table each), then one sorted rollup without its
    # own Sort (the input is sorted), then a rollup with its Sort Key
    plan = pa.parse(
        "MixedAggregate\n"
        "  Hash Key: a\n"
        "  Hash Key: b\n"
        "  Group Key: c, d\n"
        "  Group Key: c\n"
        "  Group Key: ()\n"
        "  Sort Key: e\n"
        "    Group Key: e\n"
        "  ->  Seq Scan on t\n"
    )
    assert node_keys(plan.root)["Grouping Sets"] == [
        {"Hash Keys": [["a"]]},
        {"Hash Keys": [["b"]]},
        {"Group Keys": [["c", "d"], ["c"], []]},
        {"Sort Key": ["e"], "Group Keys": [["e"]]},
    ]


@pytest.mark.parametrize(
    ("line", "used", "allocated"),
    [
        ("  Memory: used=74kB  allocated=128kB", 74, 128),  # PostgreSQL 17, 18
        ("  Memory: used=75776 bytes  allocated=131072 bytes", 75776, 131072),  # development
    ],
)
def test_planner_memory_reads_in_either_unit(line: str, used: int, allocated: int) -> None:
    plan = pa.parse(f"Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\nPlanning:\n{line}\n")
    assert plan.planning is not None
    assert (plan.planning["Memory Used"], plan.planning["Memory Allocated"]) == (used, allocated)
