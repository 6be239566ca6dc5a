"""pytest_assertrepr_compare's logic: early exit for foreign types, bounded output."""

from __future__ import annotations

from pathlib import Path

import planalyzer as pa
from planalyzer.testing._compare import explain_comparison, is_planalyzer_object

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
SEQ = PLANS / "seq-scan" / "fires--filter-removes-most.json"
SORT_SPILL = PLANS / "sort-spill" / "fires--external-merge.json"


def test_foreign_operands_are_left_to_pytest():
    assert explain_comparison("==", 1, 2, 0) is None
    assert explain_comparison("==", [1], (), 0) is None
    assert explain_comparison("==", "Plan", {"Plan": {}}, 0) is None
    assert not is_planalyzer_object([])


def test_findings_one_per_line_with_suggestions():
    report = pa.analyze(pa.load(SORT_SPILL))
    lines = explain_comparison("==", report, (), 0)
    assert lines[0] == f"{report!r} == ()"
    assert lines[1] == f"left: {len(report.findings)} findings"
    assert lines[2] == f"  {report.findings[0]}"
    assert lines[3] == f"      suggestion: {report.findings[0].suggestion}"
    assert lines[-1] == "right: no findings"


def test_two_plans_same_shape_say_so_and_point_to_matches():
    a, b = pa.load(SEQ), pa.load(SEQ)
    lines = explain_comparison("==", a, b, 0)
    assert "the plans have the same shape (node types, relations, indexes, joins);" in lines
    assert "Plan == compares identity: use assert_plan(a).matches(b) for shapes" in lines


def test_output_is_a_screenful_unless_verbose():
    many = [
        pa.Finding(rule="seq-scan", severity="warning", node_id=0, message=f"m{i}")
        for i in range(60)
    ]
    lines = explain_comparison("==", many, [], 0)
    assert len(lines) == 25
    assert lines[-1] == f"... {63 - 24} more lines (use -v or -vv to see them)"
    assert len(explain_comparison("==", many, [], 1)) == 63
    assert len(explain_comparison("==", many, [], 2)) == 63
