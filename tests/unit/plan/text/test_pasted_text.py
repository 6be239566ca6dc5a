"""Text-format EXPLAIN in every form people paste it: real psql framings and auto_explain logs."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa

PSQL = Path(__file__).parent / "psql"
FILTER = '((n > 1) AND ((n)::text <> ALL (\'{"a, \\"b\\"|+",c}\'::text[])))'


@pytest.mark.parametrize(
    "name",
    ["aligned", "unaligned", "csv", "unicode_b2", "ascii_b2", "wrapped"],
)
def test_every_psql_framing_reads_the_same_plan(name: str) -> None:
    plan = pa.parse((PSQL / f"{name}.txt").read_text())
    node = plan.root
    assert (node.node_type, node.function_name, node.alias) == (
        "Function Scan",
        "generate_series",
        "n",
    )
    assert (node.actual_rows, node.actual_loops, node.actual_total_time) == (2, 1, None)
    assert node.filter == FILTER
    assert node.rows_removed_by_filter == 1
    assert plan.planning is not None
    assert plan.planning["Shared Hit Blocks"] > 0
    assert plan.analyzed
    assert not plan.timed


@pytest.mark.parametrize("name", ["echo_timing", "two_statements"])
def test_two_statements_with_echo_and_timing_lines(name: str) -> None:
    plans = pa.parse_all((PSQL / f"{name}.txt").read_text())
    assert [p.root.node_type for p in plans] == ["Function Scan", "Aggregate"]
    assert [n.display_name for n in plans[1].nodes()] == ["Aggregate", "Seq Scan on pg_class c"]
    assert plans[1].nodes()[1].filter == "(relname ~~ 'pg_%'::text)"
    with pytest.raises(pa.PlanParseError, match="parse_all"):
        pa.parse((PSQL / f"{name}.txt").read_text())


def test_auto_explain_text_log_entries() -> None:
    log = (PSQL / "auto_explain.log").read_text()
    plans = pa.parse_all(log)
    entries = log.count("  plan:")
    assert len(plans) == entries
    assert all(p.query_text and p.query_text.startswith("EXPLAIN") for p in plans)
    assert {p.root.node_type for p in plans} == {"Function Scan", "Aggregate"}
    timed = [p for p in plans if p.root.node_type == "Function Scan"]
    assert all(p.timed and p.root.filter == FILTER for p in timed)


def test_one_auto_explain_entry_without_its_log_prefix() -> None:
    entry = (
        "Query Text: SELECT *\n  FROM t\nSeq Scan on t  (cost=0.00..1.10 rows=10 width=4) "
        "(actual time=0.01..0.02 rows=10 loops=1)\n"
    )
    plan = pa.parse(entry)
    assert plan.query_text == "SELECT *\n  FROM t"
    assert plan.root.relation_name == "t"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Seq Scan on t", ("Seq Scan", "t", None)),
        (
            "Index Scan using orders_2024_idx_1 on orders o",
            ("Index Scan", "orders", "orders_2024_idx_1"),
        ),
        ('Index Only Scan Backward using "Odd""Idx" on s.t', ("Index Only Scan", "t", 'Odd"Idx')),
        ("Bitmap Index Scan on t_a_b_idx", ("Bitmap Index Scan", None, "t_a_b_idx")),
    ],
)
def test_costs_off_without_analyze_and_index_names(
    line: str, expected: tuple[str, str | None, str | None]
) -> None:
    """COSTS OFF plans have no figures at all; names with digits, underscores, quotes."""
    plan = pa.parse(f"Limit\n  ->  {line}\n        Filter: (a > 1)\n")
    node = plan.nodes()[1]
    assert (node.node_type, node.relation_name, node.index_name) == expected
    assert pa.parse(line).root.node_type == expected[0]


def test_indentation_and_arrows_of_any_width() -> None:
    text = (
        "Hash Join  (cost=1.0..2.0 rows=1 width=8)\n"
        "\tHash Cond: (a.id = b.id)\n"
        "\t->Seq Scan on a  (cost=0.00..1.00 rows=1 width=4)\n"
        "\t->Hash  (cost=1.0..1.0 rows=1 width=4)\n"
        "\t\t  ->   Seq Scan on b  (cost=0.00..1.00 rows=1 width=4)\n"
    )
    plan = pa.parse(text.replace("\t", "    "))
    assert [(n.depth, n.node_type) for n in plan.nodes()] == [
        (0, "Hash Join"),
        (1, "Seq Scan"),
        (1, "Hash"),
        (2, "Seq Scan"),
    ]
    assert [n.parent_relationship for n in plan.nodes()[1:]] == ["Outer", "Inner", "Outer"]


def test_a_statement_echoed_right_after_a_plan_is_not_joined_to_it() -> None:
    text = (
        "                QUERY PLAN\n"
        "------------------------------------------\n"
        " Seq Scan on a  (cost=0.00..1.01 rows=1 width=4)\n"
        "   Output: x, y\n"
        "   Sort Key: x\n"
        "   Filter: (x > 1)\n"
        "EXPLAIN SELECT * FROM b;\n"
        "SET\n"
        "                QUERY PLAN\n"
        "------------------------------------------\n"
        " Seq Scan on b  (cost=0.00..1.01 rows=1 width=4)\n"
        "   Filter: (x > 2)\n"
        "   Output: x, y\n"
        "   Sort Key: x\n"
    )
    plans = pa.parse_all(text)
    assert [plan.root.relation_name for plan in plans] == ["a", "b"]
    assert [plan.root.filter for plan in plans] == ["(x > 1)", "(x > 2)"]


def test_a_row_broken_by_the_window_is_joined_back() -> None:
    text = (
        "                QUERY PLAN\n"
        "------------------------------------------\n"
        " Seq Scan on a  (cost=0.00..1.01 rows=1 width=4) (actual time=0.0\n"
        "10..0.011 rows=1 loops=1)\n"
        "   Filter: (x >\n"
        " 1)\n"
        " Planning Time: 0.1 ms\n"
        "(3 rows)\n"
    )
    plan = pa.parse(text)
    assert plan.root.actual_startup_time == 0.01
    assert plan.root.filter == "(x > 1)"
