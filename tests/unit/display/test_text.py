"""The text tree and the DBA-style report: snapshots on real plans, widths, marks, colour."""

from __future__ import annotations

import re

import pytest

import planalyzer as pa
from planalyzer.display.text import (
    WIDTH,
    render_finding,
    render_node_line,
    render_plan,
    render_report,
)
from planalyzer.rules.finding import Finding, Severity
from planalyzer.rules.report import Report
from tests.unit.display.plans import all_fixture_paths, deep_plan, fixture

ANSI = re.compile(r"\x1b\[[0-9;]*m")

SNAPSHOT_PLANS = [
    "seq-scan/fires--filter-removes-most",
    "seq-scan/fires--parallel-filter-removes-most",
    "nested-loop-blowup/fires--underestimated-outer",
    "sort-spill/fires--external-merge",
    "hash-spill/fires--hashagg-disk",
    "correlated-subplan/fires--scalar-subquery-per-row",
    "_general/initplan",
    "_general/estimated",
    "_general/timing-off",
    "slow-trigger/fires--fk-without-index",
]


def hand_report(plan: pa.Plan) -> Report:
    """A report built by hand, so the snapshot does not move when a rule's wording does."""
    findings = (
        Finding(
            rule="seq-scan",
            severity=Severity.CRITICAL,
            node_id=3,
            message="Seq Scan on stores s ran 1,250 times, reading 3,750,000 rows in all.",
            suggestion="CREATE INDEX ON stores (city).",
            impact_ms=plan.node(3).exclusive_time_ms,
            related_node_ids=(2,),
        ),
        Finding(
            rule="row-misestimate",
            severity=Severity.WARNING,
            node_id=2,
            message="Parallel Seq Scan on customers c was estimated at 1 row but returned 625.",
            suggestion="CREATE STATISTICS ON city, country FROM customers; ANALYZE customers;",
            impact_ms=plan.node(2).exclusive_time_ms,
        ),
        Finding(
            rule="slow-planning",
            severity=Severity.INFO,
            node_id=None,
            message="Planning took 0.341 ms.",
        ),
    )
    return Report(
        plan=plan,
        findings=findings,
        rules_run=("seq-scan", "row-misestimate"),
        rules_skipped={"jit-overhead": "disabled"},
    )


@pytest.mark.parametrize("name", SNAPSHOT_PLANS)
def test_plan_tree_snapshot(name, snapshot):
    assert str(fixture(name)) == snapshot


def test_report_snapshot(snapshot):
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    report = hand_report(plan)
    assert render_report(report) == snapshot
    assert render_plan(plan, report=report) == snapshot


@pytest.mark.parametrize("path", all_fixture_paths(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_fixture_fits_100_columns_with_its_findings(path):
    plan = pa.load(path)
    report = pa.analyze(plan)
    for text in (render_plan(plan, report=report), render_report(report)):
        too_wide = [line for line in text.splitlines() if len(line) > WIDTH]
        assert not too_wide, too_wide


def test_header_shows_self_time_share_rows_estimate_and_loops():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    inner = plan.node(3)
    line = render_node_line(inner)
    assert line.startswith(f"[3] {inner.display_name}  self ")
    assert f"{inner.time_share * 100:.0f}%" in line
    assert f"rows {inner.actual_rows:,} (est {inner.plan_rows:,})" in line
    assert f"loops {inner.actual_loops:,}" in line


def test_misestimate_factor_is_printed_with_its_direction():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    root = plan.root
    factor = root.actual_rows / root.plan_rows  # 31,250 actual for 25 planned
    assert f"×{factor:,.0f} under" in render_node_line(root)


def test_rows_removed_shows_total_over_loops():
    plan = fixture("seq-scan/fires--parallel-filter-removes-most")
    scan = plan.find(node_type="Seq Scan")[0] if plan.find(node_type="Seq Scan") else plan.node(1)
    per_loop = scan.rows_removed_by_filter
    total = per_loop * scan.actual_loops
    assert f"Rows Removed by Filter: {per_loop:,} ({total:,} in {scan.actual_loops} loops)" in str(
        plan
    )


def test_conditions_are_shown_under_their_node():
    plan = fixture("seq-scan/fires--filter-removes-most")
    lines = str(plan).splitlines()
    assert lines[0].startswith("[0] Seq Scan on orders")
    assert lines[1].strip() == f"Filter: {plan.root.filter}"


def test_long_condition_is_wrapped_and_shortened():
    condition = " OR ".join(f"(customer_id = {i})" for i in range(400))
    plan = pa.parse(
        {"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders", "Filter": condition}}
    )
    lines = str(plan).splitlines()
    filter_lines = [line for line in lines[1:] if not line.startswith("Statement")]
    assert filter_lines[0].lstrip().startswith("Filter: (customer_id = 0) OR")
    assert 1 < len(filter_lines) <= 4
    assert filter_lines[-1].endswith("…")
    assert all(len(line) <= WIDTH for line in lines)


def test_long_node_name_moves_figures_to_the_next_line():
    name = "a_table_with_a_really_long_name_" * 3
    plan = pa.parse(
        {
            "Plan": {
                "Node Type": "Index Scan",
                "Relation Name": name,
                "Index Name": name + "_idx",
                "Total Cost": 1.0,
                "Plan Rows": 1,
            }
        }
    )
    lines = str(plan).splitlines()
    assert all(len(line) <= WIDTH for line in lines)
    assert any(line.lstrip().startswith("cost 1.00") for line in lines[1:])


def test_mark_flags_one_node_in_the_margin():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    lines = render_plan(plan, mark=2).splitlines()
    marked = [line for line in lines if line.startswith(">>")]
    assert len(marked) == 1
    assert "[2] Parallel Seq Scan on customers c" in marked[0]


def test_report_marks_nodes_by_their_worst_severity_and_prints_messages():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    report = hand_report(plan)
    lines = render_plan(plan, report=report).splitlines()
    assert next(line for line in lines if "[3] Seq Scan" in line).startswith("!! ")
    assert next(line for line in lines if "[2] Parallel" in line).startswith("!  ")
    assert next(line for line in lines if "[0] Nested Loop" in line).startswith("   ")
    assert any("CRITICAL seq-scan: Seq Scan on stores s ran 1,250 times" in line for line in lines)


def test_report_reads_like_a_note_ranked_with_impact_and_suggestion():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    text = render_report(hand_report(plan))
    first, second = text.index("1. CRITICAL seq-scan"), text.index("2. INFO slow-planning")
    assert first < second
    share = plan.node(3).exclusive_time_ms / plan.total_time_ms
    assert (
        f"impact {plan.node(3).exclusive_time_ms:.0f} ms ({share * 100:.0f}% of the statement)"
        in (text)
    )
    assert "the node's own time (children excluded)" in text
    assert "→ CREATE INDEX ON stores (city)." in text
    # the misestimate shares the scan's node: evidence of the same problem, its time not re-added
    assert "Evidence (related findings; their time is counted above):" in text
    assert "- warning row-misestimate at node [2]: Parallel Seq Scan" in text
    assert "2 problems (3 findings: 1 critical, 1 warning, 1 info)" in text
    assert "Not checked: jit-overhead (disabled)" in text
    assert text.startswith(f"Statement: executed in {plan.execution_time_ms:.0f} ms")


def test_report_without_findings_says_so():
    plan = fixture("seq-scan/quiet--primary-key-lookup")
    report = Report(plan=plan, findings=())
    assert "No findings" in render_report(report)


def test_estimated_finding_states_cost_share():
    finding = Finding(
        rule="seq-scan",
        severity=Severity.WARNING,
        node_id=0,
        message="m",
        impact_cost_share=0.42,
        estimated=True,
    )
    assert "42% of the cost (estimated)" in render_finding(finding)


def test_str_is_never_coloured_but_color_true_is_and_keeps_widths():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    report = hand_report(plan)
    assert "\x1b[" not in str(plan)
    assert "\x1b[" not in str(report)
    coloured = render_plan(plan, report=report, color=True)
    assert "\x1b[" in coloured
    assert ANSI.sub("", coloured) == render_plan(plan, report=report)


def test_deep_plan_renders_without_recursion():
    plan = deep_plan(3000)
    text = str(plan)
    assert text.count("Materialize") == 3000


def test_deep_plan_text_grows_linearly_not_with_the_square_of_its_depth():
    """Indentation stops at MAX_INDENT_LEVELS; deeper nodes print their level instead."""
    from planalyzer.display.text import MAX_INDENT_LEVELS

    plan = deep_plan(3000)
    lines = str(plan).splitlines()
    longest = max(len(line) for line in lines)
    assert longest < len("   ") * MAX_INDENT_LEVELS + 200
    assert sum("(level 3000)" in line for line in lines) == 1  # the label, once per node
    deepest = next(line for line in lines if "(level 3000)" in line)
    assert "Seq Scan on leaf" in deepest


def test_never_executed_node():
    plan = pa.parse(
        {
            "Plan": {
                "Node Type": "Nested Loop",
                "Actual Total Time": 1.0,
                "Actual Rows": 0,
                "Actual Loops": 1,
                "Plans": [
                    {"Node Type": "Seq Scan", "Relation Name": "a", "Actual Total Time": 1.0,
                     "Actual Rows": 0, "Actual Loops": 1},
                    {"Node Type": "Seq Scan", "Relation Name": "b", "Actual Total Time": 0.0,
                     "Actual Rows": 0, "Actual Loops": 0},
                ],
            }
        }
    )  # fmt: skip
    assert "[2] Seq Scan on b  (never executed)" in str(plan)
