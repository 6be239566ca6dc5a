"""The proven-fix section without a server: when it applies, and the statistics advice."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from planalyzer.testing import PlanAssertionError, assert_plan
from planalyzer.testing._proof import _statistics_advice, enabled, proof_lines, proving

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
MISESTIMATE = sorted((PLANS / "row-misestimate").glob("fires--*.json"))[0]
SEQ = PLANS / "seq-scan" / "fires--filter-removes-most.json"


def test_opt_in_by_option_or_argument():
    assert not enabled(explicit=None)
    with proving(None):
        assert enabled(explicit=None)
        assert not enabled(explicit=False)
    assert enabled(explicit=True)


def test_statistics_advice_comes_from_the_misestimate_finding():
    plan = pa.load(MISESTIMATE)
    report = pa.analyze(plan)
    [finding, *_] = [f for f in report.findings if f.rule == "row-misestimate"]
    lines = _statistics_advice(report)
    assert lines[0] == f"  statistics: {finding.message}"
    assert lines[1] == f"    do: {finding.suggestion}"
    assert not any("statistics:" in line for line in _statistics_advice(pa.analyze(pa.load(SEQ))))


def test_without_statement_or_connection_the_message_says_why():
    plan = pa.load(SEQ)
    lines = proof_lines(plan, None, pa.analyze(plan))
    assert lines[-1] == "  not available: the plan carries no statement (use pa.explain)"
    live = plan.model_copy(update={"sql": "SELECT * FROM orders WHERE status = 'x'"})
    lines = proof_lines(live, None, pa.analyze(live))
    assert lines[-1].startswith("  not available: no connection; pass conn= to assert_plan")


def test_failing_no_seq_scan_carries_the_section_only_when_asked():
    plan = pa.load(SEQ)
    with pytest.raises(PlanAssertionError) as plain:
        assert_plan(plan).no_seq_scan()
    assert "proven fix" not in str(plain.value)
    assert plain.value.proof == ()
    with pytest.raises(PlanAssertionError) as asked:
        assert_plan(plan, prove_fixes=True).no_seq_scan()
    assert "proven fix (planalyzer advisor, HypoPG; nothing was created):" in str(asked.value)
    assert asked.value.proof[-1].startswith("  not available")
