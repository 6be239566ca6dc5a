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
from planalyzer.testing._settings import MARKER_HELP

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan
    from planalyzer.rules.config import RuleConfig

__all__ = ["MARKER_HELP", "MarkerPolicy", "check_budgets", "check_plans", "policy_from"]


_MAX_PLANS = 5
_TREE_LINES = 20
_KEYS = {"fail_on", "ignore", "max_queries", "n_plus_one"}


@dataclass(frozen=True)
class MarkerPolicy:
    """What to check after a test: findings (severity, ignored rules) and the query budgets."""

    fail_on: Severity | None
    ignore: frozenset[str] = frozenset()
    source: str = "planalyzer_fail_on"
    max_queries: int | None = None
    n_plus_one: int | None = None
    budget_source: str = "planalyzer_max_queries"

    @property
    def budgets(self) -> bool:
        """A query budget or N+1 threshold applies."""
        return self.max_queries is not None or self.n_plus_one is not None


def policy_from(
    marker: Any,
    default: Severity | None,
    *,
    max_queries: int | None = None,
    n_plus_one: int | None = None,
) -> MarkerPolicy | None:
    """The policy for a test from its closest ``planalyzer`` marker and the option defaults.

    A marker with only budget arguments leaves the findings check to ``planalyzer_fail_on``.

    Raises:
        ValueError: a bad severity, unknown rule id or bad budget in the marker.
    """
    from planalyzer.testing._settings import count_option
    from planalyzer.testing.assertions import check_rule_ids

    if marker is None:
        if default is None and max_queries is None and n_plus_one is None:
            return None
        return MarkerPolicy(
            default, max_queries=max_queries, n_plus_one=n_plus_one, budget_source="ini"
        )
    kwargs = dict(marker.kwargs)
    if marker.args:
        kwargs.setdefault("fail_on", marker.args[0])
    unknown = set(kwargs) - _KEYS
    if unknown:
        raise ValueError(f"planalyzer marker: unknown arguments {sorted(unknown)}")
    budget_only = "fail_on" not in kwargs and ("max_queries" in kwargs or "n_plus_one" in kwargs)
    fail_on = kwargs.get("fail_on", default if budget_only else default or Severity.WARNING)
    ignore = check_rule_ids(kwargs.get("ignore", ()), what="planalyzer marker ignore")
    severity = Severity.parse(fail_on) if fail_on is not None else None
    source = f"@pytest.mark.planalyzer(fail_on={severity.value!r})" if severity else ""
    limits = {
        key: count_option(f"planalyzer marker {key}", kwargs[key], least)
        if key in kwargs
        else default_value
        for key, least, default_value in (
            ("max_queries", 0, max_queries),
            ("n_plus_one", 2, n_plus_one),
        )
    }
    given = ", ".join(f"{k}={kwargs[k]!r}" for k in ("max_queries", "n_plus_one") if k in kwargs)
    policy = MarkerPolicy(
        severity,
        ignore,
        source,
        limits["max_queries"],
        limits["n_plus_one"],
        f"@pytest.mark.planalyzer({given})" if given else "ini",
    )
    return policy if policy.fail_on is not None or policy.budgets else None


def check_budgets(statements: Sequence[Any], policy: MarkerPolicy) -> list[str]:
    """Failure texts for the query budget and the N+1 threshold of ``policy`` (empty: passed)."""
    from planalyzer.testing._budget import max_queries_failure, n_plus_one_failure

    source = policy.budget_source
    if source == "ini":
        source = "planalyzer_max_queries / planalyzer_n_plus_one"
    failures = []
    if policy.max_queries is not None:
        failure = max_queries_failure(statements, policy.max_queries, source=source)
        if failure is not None:
            failures.append(str(failure))
    if policy.n_plus_one is not None:
        failure = n_plus_one_failure(statements, policy.n_plus_one, source=source)
        if failure is not None:
            failures.append(str(failure))
    return failures


def check_plans(plans: Sequence[Plan], policy: MarkerPolicy, config: RuleConfig) -> None:
    """Raise `PlanAssertionError` listing every plan with findings the policy forbids."""
    __tracebackhide__ = True
    from planalyzer.rules.report import analyze

    if policy.fail_on is None:
        return

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
