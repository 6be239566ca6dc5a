"""The detectors: one module per rule, registered explicitly in `ALL_RULES` (order = doc order).

A rule module holds its user documentation (the module docstring), a thresholds model, a
``check(ctx)`` function and a ``RULE`` spec. `get_rule` finds one by id.
"""

from __future__ import annotations

import dataclasses

from planalyzer.rules import (
    correlated_subplan,
    hash_spill,
    inconsistent_plan,
    inefficient_index,
    jit_overhead,
    large_offset,
    lossy_bitmap,
    memoize_low_hit_rate,
    nested_loop_blowup,
    poor_cache_hit,
    post_join_filter,
    row_misestimate,
    seq_scan,
    slow_planning,
    slow_trigger,
    sort_spill,
    workers_not_launched,
)
from planalyzer.rules._spec import Rule

__all__ = ["ALL_RULES", "get_rule"]

_MODULES = (
    seq_scan,
    row_misestimate,
    nested_loop_blowup,
    inefficient_index,
    sort_spill,
    hash_spill,
    lossy_bitmap,
    workers_not_launched,
    jit_overhead,
    large_offset,
    poor_cache_hit,
    slow_planning,
    slow_trigger,
    correlated_subplan,
    memoize_low_hit_rate,
    post_join_filter,
    inconsistent_plan,
)


def _documented(module: object) -> Rule:
    """The module's RULE with its docstring attached as the user documentation."""
    rule: Rule = module.RULE  # type: ignore[attr-defined]
    return dataclasses.replace(rule, doc=(module.__doc__ or "").strip())


ALL_RULES: tuple[Rule, ...] = tuple(_documented(m) for m in _MODULES)
"""Every built-in rule, in the order the reference lists them."""


def get_rule(rule_id: str) -> Rule:
    """The rule with this id (``"sort-spill"``); `KeyError`-free: raises ConfigError."""
    for rule in ALL_RULES:
        if rule.id == rule_id:
            return rule
    from planalyzer.errors import ConfigError

    raise ConfigError(rule_id, "no such rule")
