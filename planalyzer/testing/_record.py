"""Plans obtained from a database during the running test, for the ``planalyzer`` marker.

The pytest plugin opens a recording around each test's call phase; the fixtures, ``assert_plan``
(for plans that came from a live EXPLAIN) and ``CapturedQueries.assert_plans`` add the plans
they see. Outside a recording nothing is kept, so using the library outside pytest costs
nothing and holds no references.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan

__all__ = [
    "RunningTestQueries",
    "record",
    "record_checked",
    "record_statement",
    "recording",
    "recording_queries",
    "running_test_queries",
]

_current: ContextVar[list[Plan] | None] = ContextVar("planalyzer_recorded_plans", default=None)


def record(plan: Plan) -> None:
    """Remember ``plan`` for the running test, once (plans compare by identity)."""
    plans = _current.get()
    if plans is not None and all(p is not plan for p in plans):
        plans.append(plan)


@contextlib.contextmanager
def recording() -> Iterator[list[Plan]]:
    """Collect the plans recorded inside the block into the yielded list."""
    plans: list[Plan] = []
    token = _current.set(plans)
    try:
        yield plans
    finally:
        _current.reset(token)


class RunningTestQueries:
    """Statements sent during the running test, for the marker's budgets and the report.

    Attributes:
        statements: every statement recorded, in order.
        auto_sources: sources the plugin hooks itself for the whole test (``sqlalchemy``,
            ``django``); explicit captures of those are then not counted twice.
    """

    def __init__(self, auto_sources: frozenset[str] = frozenset()) -> None:
        self.statements: list[Any] = []
        self.auto_sources = auto_sources
        self.checked: list[Any] = []


_queries: ContextVar[RunningTestQueries | None] = ContextVar(
    "planalyzer_test_queries", default=None
)


def record_statement(statement: Any, capture: Any) -> None:
    """Add a statement an explicit or automatic capture saw to the running test's list."""
    queries = _queries.get()
    if queries is None:
        return
    if capture is not None and getattr(capture, "source", None) in queries.auto_sources:
        return  # the plugin's own hook for this source already saw it
    queries.statements.append(statement)


def record_checked(results: Any) -> None:
    """Add `CheckedStatement` results of ``assert_plans`` to the running test's list."""
    queries = _queries.get()
    if queries is not None:
        queries.checked.extend(results)


def running_test_queries() -> RunningTestQueries | None:
    """The running test's statements, when the plugin is recording them."""
    return _queries.get()


@contextlib.contextmanager
def recording_queries(auto_sources: frozenset[str] = frozenset()) -> Iterator[RunningTestQueries]:
    """Collect the statements sent inside the block."""
    queries = RunningTestQueries(auto_sources)
    token = _queries.set(queries)
    try:
        yield queries
    finally:
        _queries.reset(token)
