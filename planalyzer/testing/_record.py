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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan

__all__ = ["record", "recording"]

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
