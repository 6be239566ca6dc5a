"""Paired helpers for rule tests: `assert_fires` and `assert_quiet` (each names the other)."""

from __future__ import annotations

import pytest

import planalyzer as pa
from planalyzer.display.text import render_plan


def _findings(plan: pa.Plan, rule_id: str, config: pa.RuleConfig | None) -> list[pa.Finding]:
    """The rule's findings; fails when any rule raised (an ``internal-error`` finding).

    A rule that crashes yields no findings of its own, so without this a broken rule would
    pass every quiet test.
    """
    __tracebackhide__ = True
    report = pa.analyze(plan, config=config)
    crashed = report.by_rule("internal-error")
    if crashed:
        pytest.fail("a rule raised on this plan:\n" + "\n".join(f"  {f}" for f in crashed))
    return report.by_rule(rule_id)


def assert_fires(
    plan: pa.Plan, rule_id: str, *, config: pa.RuleConfig | None = None
) -> list[pa.Finding]:
    """The rule's findings on ``plan``; fails with the plan tree when there are none.

    The opposite check is `assert_quiet`.
    """
    __tracebackhide__ = True
    found = _findings(plan, rule_id, config)
    if not found:
        pytest.fail(
            f"expected rule {rule_id!r} to fire, but it found nothing "
            f"(assert_quiet checks the opposite).\nPlan:\n{render_plan(plan)}"
        )
    return found


def assert_quiet(
    plan: pa.Plan,
    rule_id: str,
    *,
    config: pa.RuleConfig | None = None,
    min_severity: pa.Severity = pa.Severity.WARNING,
) -> None:
    """Fails, with the findings and the plan tree, when the rule reports at/above a severity.

    The opposite check is `assert_fires`.
    """
    __tracebackhide__ = True
    loud = [f for f in _findings(plan, rule_id, config) if f.severity >= min_severity]
    if loud:
        lines = "\n".join(f"  {f}" for f in loud)
        marked = render_plan(plan, mark=loud[0].node_id)
        pytest.fail(
            f"expected rule {rule_id!r} to stay quiet at {min_severity.value} and above, "
            f"but it reported (assert_fires checks the opposite):\n{lines}\nPlan:\n{marked}"
        )
