"""Assertions on query plans for pytest (and any test runner), plus a pytest plugin.

Example:
    >>> import planalyzer as pa
    >>> from planalyzer.testing import assert_plan
    >>> plan = pa.parse({"Plan": {"Node Type": "Index Scan", "Relation Name": "orders",
    ...                           "Index Name": "orders_pkey", "Total Cost": 8.44}})
    >>> _ = assert_plan(plan).uses_index(on="orders").no_seq_scan().max_cost(100)
    >>> assert_plan(plan).has_node("Seq Scan")
    Traceback (most recent call last):
    ...
    planalyzer.testing.PlanAssertionError: expected: a Seq Scan node
    ...

The pytest plugin (``planalyzer.testing.plugin``, loaded through the ``pytest11`` entry point)
adds the ``explain``, ``planalyzer_config``, ``planalyzer_conn``, ``plan_checker`` and
``plan_snapshot`` fixtures, the ``planalyzer`` marker (findings, ``max_queries``,
``n_plus_one``) and the ``planalyzer_dsn`` / ``planalyzer_fail_on`` / ``planalyzer_disable`` /
``planalyzer_max_queries`` / ``planalyzer_n_plus_one`` / ``planalyzer_prove_fixes`` /
``planalyzer_report`` options (docs/pytest.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planalyzer.testing._messages import PlanAssertionError
    from planalyzer.testing.assertions import (
        DEFAULT_SEQ_SCAN_MIN_ROWS,
        PlanChecker,
        assert_plan,
    )
    from planalyzer.testing.capture import (
        CapturedQueries,
        CapturedStatement,
        CheckedStatement,
        capture_queries,
    )
    from planalyzer.testing.fixtures import ConnectionPlans, plan_fixture

# Loaded on first use (PEP 562), so that pytest loading the plugin (a submodule of this
# package) in every run does not import the library: name -> defining module.
_LAZY: dict[str, str] = {
    "PlanAssertionError": "planalyzer.testing._messages",
    "DEFAULT_SEQ_SCAN_MIN_ROWS": "planalyzer.testing.assertions",
    "PlanChecker": "planalyzer.testing.assertions",
    "assert_plan": "planalyzer.testing.assertions",
    "CapturedQueries": "planalyzer.testing.capture",
    "CapturedStatement": "planalyzer.testing.capture",
    "CheckedStatement": "planalyzer.testing.capture",
    "capture_queries": "planalyzer.testing.capture",
    "ConnectionPlans": "planalyzer.testing.fixtures",
    "plan_fixture": "planalyzer.testing.fixtures",
}

__all__ = [
    "DEFAULT_SEQ_SCAN_MIN_ROWS",
    "CapturedQueries",
    "CapturedStatement",
    "CheckedStatement",
    "ConnectionPlans",
    "PlanAssertionError",
    "PlanChecker",
    "assert_plan",
    "capture_queries",
    "plan_fixture",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access and cache the name here (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'planalyzer.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
