"""The ``planalyzer`` marker: fail a test whose live plans have findings at a severity or above.

``@pytest.mark.planalyzer(fail_on="warning", ignore=["jit-overhead"])`` on a test, a class or a
module (``pytestmark = pytest.mark.planalyzer(...)``); the ``planalyzer_fail_on`` option is the
default for tests without the marker. The plans checked are those the test obtained from a
database through planalyzer: the ``explain`` and ``plan_checker`` fixtures, `plan_fixture`
helpers, ``captured.assert_plans()``, and ``assert_plan(plan)`` on a plan from ``pa.explain``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planalyzer.rules.finding import Severity
from planalyzer.testing._messages import (
    PlanAssertionError,
    render_findings,
    render_statement,
    render_tree,
)

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan
    from planalyzer.rules.config import RuleConfig

__all__ = ["MARKER_HELP", "MarkerPolicy", "check_plans", "policy_from"]

MARKER_HELP = (
    "planalyzer(fail_on='warning', ignore=()): fail the test when plans it explains through "
    "planalyzer have findings at fail_on or above (None switches the check off); ignore lists "
    "rule ids that never fail."
)

_MAX_PLANS = 5
_TREE_LINES = 20


@dataclass(frozen=True)
class MarkerPolicy:
    """What to check after a test: the severity that fails and the rules ignored."""

    fail_on: Severity
    ignore: frozenset[str] = frozenset()
    source: str = "planalyzer_fail_on"


def policy_from(marker: Any, default: Severity | None) -> MarkerPolicy | None:
    """The policy for a test from its closest ``planalyzer`` marker and the option default.

    Raises:
        ValueError: a bad severity or unknown rule id in the marker.
    """
    from planalyzer.testing.assertions import check_rule_ids

    if marker is None:
        return MarkerPolicy(default) if default is not None else None
    kwargs = dict(marker.kwargs)
    if marker.args:
        kwargs.setdefault("fail_on", marker.args[0])
    unknown = set(kwargs) - {"fail_on", "ignore"}
    if unknown:
        raise ValueError(f"planalyzer marker: unknown arguments {sorted(unknown)}")
    fail_on = kwargs.get("fail_on", default or Severity.WARNING)
    if fail_on is None:
        return None
    ignore = check_rule_ids(kwargs.get("ignore", ()), what="planalyzer marker ignore")
    source = f"@pytest.mark.planalyzer(fail_on={Severity.parse(fail_on).value!r})"
    return MarkerPolicy(Severity.parse(fail_on), ignore, source)


def check_plans(plans: Sequence[Plan], policy: MarkerPolicy, config: RuleConfig) -> None:
    """Raise `PlanAssertionError` listing every plan with findings the policy forbids."""
    __tracebackhide__ = True
    from planalyzer.rules.report import analyze

    failing = []
    for plan in plans:
        bad = [
            f
            for f in analyze(plan, config=config).at_least(policy.fail_on)
            if f.rule not in policy.ignore
        ]
        if bad:
            failing.append((plan, bad))
    if not failing:
        return
    head = (
        f"{policy.source}: {len(failing)} of {len(plans)} plans explained in this test have"
        f" findings at {policy.fail_on.value} or above"
    )
    parts = [head]
    for number, (plan, bad) in enumerate(failing[:_MAX_PLANS], start=1):
        statement = render_statement(plan) or "statement: (not known)"
        parts.append(f"\n[{number}] {statement}")
        mark = next((f.node_id for f in bad if f.node_id is not None), None)
        parts.append(render_tree(plan, mark=mark, max_lines=_TREE_LINES))
        parts.append("findings:\n" + render_findings(bad))
    if len(failing) > _MAX_PLANS:
        parts.append(f"\n... and {len(failing) - _MAX_PLANS} more plans with findings")
    expectation = f"no findings at {policy.fail_on.value} or above in the plans of this test"
    raise PlanAssertionError("\n".join(parts), expectation=expectation)
