"""What the plugin's fixtures hand to a test, and `plan_fixture` to bind them to a connection.

`plan_fixture` follows pytest-postgresql's factory style: call it at module level (in a test
module or a conftest) with the *name* of a fixture that provides a psycopg connection, and
assign the result to the name the tests will request::

    from planalyzer.testing import plan_fixture

    plans = plan_fixture("postgresql")        # pytest-postgresql's connection fixture

    def test_lookup(plans):
        plans("SELECT * FROM orders WHERE id = %s", [1]).uses_index("orders_pkey")
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from planalyzer.plan.model import Plan
from planalyzer.rules.config import RuleConfig
from planalyzer.testing._record import record
from planalyzer.testing.assertions import PlanChecker
from planalyzer.testing.capture import CapturedQueries, capture_queries

__all__ = ["ConnectionPlans", "explain_recorded", "plan_fixture"]


def explain_recorded(
    conn: Any, sql: str, params: Any = None, *, analyze: bool = True, **options: Any
) -> Plan:
    """``pa.explain`` (always rolled back) whose plan the ``planalyzer`` marker will check.

    ``options`` go to `planalyzer.explain` (``allow_side_effects=True``, ``timeout_s`` ...).
    """
    from planalyzer.live.explain import explain

    plan = explain(conn, sql, params, analyze=analyze, **options)
    record(plan)
    return plan


class ConnectionPlans:
    """Explain and check statements on one connection; what ``plan_checker`` returns.

    Calling it explains a statement and starts a chain of checks on the plan.

    Attributes:
        conn: the psycopg connection.
        config: the rule configuration for findings (the session's ``planalyzer_config``).
    """

    def __init__(self, conn: Any, *, config: RuleConfig | None = None) -> None:
        self.conn = conn
        self.config = config

    def __repr__(self) -> str:
        return f"ConnectionPlans({self.conn!r})"

    def explain(self, sql: str, params: Any = None, *, analyze: bool = True) -> Plan:
        """The plan of ``sql`` on this connection (EXPLAIN in a rolled-back transaction)."""
        return explain_recorded(self.conn, sql, params, analyze=analyze)

    def __call__(self, sql: str, params: Any = None, *, analyze: bool = True) -> PlanChecker:
        """Explain ``sql`` and return the checker for its plan."""
        plan = self.explain(sql, params, analyze=analyze)
        return PlanChecker(plan, config=self.config, conn=self.conn)

    def capture(self) -> contextlib.AbstractContextManager[CapturedQueries]:
        """`capture_queries` on this connection."""
        return capture_queries(self.conn)


def plan_fixture(
    connection_fixture: str, *, scope: str = "function"
) -> Callable[..., ConnectionPlans]:
    """Build a fixture giving `ConnectionPlans` bound to the connection fixture named.

    Args:
        connection_fixture: name of a fixture returning a psycopg 3 connection (such as
            pytest-postgresql's ``postgresql``, or your own).
        scope: the new fixture's scope; it must not be wider than the connection fixture's.

    Returns:
        A pytest fixture; assign it to a module-level name, which becomes the fixture name.

    Example:
        >>> plans = plan_fixture("postgresql")
        >>> callable(plans)
        True
    """

    def _plans(request: pytest.FixtureRequest) -> ConnectionPlans:
        conn = request.getfixturevalue(connection_fixture)
        try:
            config = request.getfixturevalue("planalyzer_config")
        except pytest.FixtureLookupError:  # the plugin is disabled (-p no:planalyzer)
            config = None
        return ConnectionPlans(conn, config=config)

    _plans.__doc__ = f"Explain and check plans on the connection of fixture {connection_fixture!r}."
    return pytest.fixture(scope=scope)(_plans)  # type: ignore[call-overload,no-any-return]
