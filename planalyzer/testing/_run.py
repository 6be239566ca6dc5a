"""One test's call phase under the plugin: what it records, what it checks afterwards.

The plugin's ``pytest_runtest_call`` wraps the test in `checked_run`, which, as the options and
the ``planalyzer`` marker ask:

- collects the plans the test explained through planalyzer (for ``fail_on``);
- collects the statements its ``capture_queries`` blocks saw and, when a query budget or N+1
  threshold applies, hooks every SQLAlchemy engine and Django connection for the whole test;
- makes failing plan checks prove an index with HypoPG (``planalyzer_prove_fixes``);
- adds the test's statements, plans and verdicts to the JSON report and JUnit properties.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan
    from planalyzer.testing._marker import MarkerPolicy
    from planalyzer.testing._record import RunningTestQueries
    from planalyzer.testing._settings import PluginSettings

__all__ = ["REPORT_KEY", "TestRunChecks", "checked_run"]

REPORT_KEY = pytest.StashKey[list[dict[str, Any]]]()
"""Where the session keeps the report entries of the tests run so far."""


class TestRunChecks:
    """What one test recorded, and the checks to run on it once it has finished."""

    __test__ = False  # not a test class, whatever pytest's name matching thinks

    def __init__(
        self,
        policy: MarkerPolicy | None,
        settings: PluginSettings | None,
        plans: list[Plan],
        queries: RunningTestQueries,
    ) -> None:
        self.policy = policy
        self.settings = settings
        self.plans = plans
        self.queries = queries
        self.failure_text: str | None = None
        """Set when the test has finished: the after-test checks' failure, or None."""

    def failure(self) -> str | None:
        """The failure text of the after-test checks, or None when they pass."""
        from planalyzer.testing._marker import check_budgets, check_plans

        if self.policy is None:
            return None
        messages = []
        config = self.settings.rule_config() if self.settings else None
        if config is None:
            from planalyzer.rules.config import RuleConfig

            config = RuleConfig()
        try:
            check_plans(self.plans, self.policy, config)
        except AssertionError as failure:
            messages.append(str(failure))
        if self.policy.budgets:
            messages.extend(check_budgets(self.queries.statements, self.policy))
        return "\n\n".join(messages) or None


def _policy(marker: Any, settings: PluginSettings | None) -> MarkerPolicy | None:
    from planalyzer.testing._marker import policy_from

    try:
        return policy_from(
            marker,
            settings.fail_on if settings else None,
            max_queries=settings.max_queries if settings else None,
            n_plus_one=settings.n_plus_one if settings else None,
        )
    except ValueError as err:
        pytest.fail(str(err), pytrace=False)


def _hook_everything(stack: contextlib.ExitStack) -> frozenset[str]:
    """Hook every SQLAlchemy engine and Django connection until ``stack`` closes."""
    from planalyzer.testing._sources import auto_targets, install_auto
    from planalyzer.testing.capture import CapturedQueries

    sources = set()
    for target in auto_targets():
        source = "sqlalchemy" if isinstance(target, type) else "django"
        sink = CapturedQueries(source=source, automatic=True)
        stack.callback(install_auto(target, sink.note))
        sources.add(source)
    return frozenset(sources)


@contextlib.contextmanager
def checked_run(
    item: pytest.Item, marker: Any, settings: PluginSettings | None
) -> Iterator[TestRunChecks]:
    """Record what the test sends and explains; the caller runs `TestRunChecks.failure` after."""
    from planalyzer.testing._record import recording, recording_queries

    policy = _policy(marker, settings)
    with contextlib.ExitStack() as stack:
        auto = _hook_everything(stack) if policy is not None and policy.budgets else frozenset()
        plans = stack.enter_context(recording())
        queries = stack.enter_context(recording_queries(auto))
        if settings is not None and settings.prove_fixes:
            from planalyzer.testing._proof import proving

            stack.enter_context(proving(settings.dsn))
        run = TestRunChecks(policy, settings, plans, queries)
        outcome = "failed"
        try:
            yield run
            run.failure_text = run.failure()
            outcome = "failed" if run.failure_text else "passed"
        except pytest.skip.Exception:
            outcome = "skipped"
            raise
        finally:
            if settings is not None and settings.report:
                from planalyzer.testing._report import add_test

                add_test(item, run, outcome)
