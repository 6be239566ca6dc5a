"""Prove candidates with HypoPG: does the planner use the index, and what does it save?

`WhatIf` plans every statement scenario under a *configuration* (a set of candidates made
hypothetical in one HypoPG session) and caches the result, keyed by the statement and the part of
the configuration on the tables the statement touches — an index on another table cannot change
its plan. `validate_candidates` then checks each candidate alone against the baseline:

- the chosen plan must reference the hypothetical index (``Index Name`` shows HypoPG's
  ``<oid>btree_...`` name), otherwise the planner did not want it;
- its best relative saving on a statement that uses it must reach ``min_improvement_ratio``.

Everything is plain EXPLAIN (no ANALYZE): hypothetical indexes cannot be executed, so the figures
are planner costs. The real check is `planalyzer.advisor.verify`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql as pgsql

from planalyzer.advisor.model import IndexCandidate, Rejection
from planalyzer.advisor.params import Scenario
from planalyzer.errors import DatabaseError
from planalyzer.live.hypopg import HypotheticalIndex, HypotheticalSession
from planalyzer.plan.model import Plan

__all__ = ["Outcome", "Unit", "Validation", "WhatIf", "validate_candidates", "weighted_cost"]

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Unit:
    """One plannable unit of the workload: a statement under one parameter scenario.

    Attributes:
        position: the statement's position in the workload.
        scenario: how it is planned (SQL text and values).
        weight: the statement's weight divided among its scenarios.
        tables: schema-qualified tables it touches.
    """

    position: int
    scenario: Scenario
    weight: float
    tables: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    """The plan of one unit under one configuration."""

    cost: float
    plan: Plan
    used: frozenset[Key]
    """Keys of the configuration's candidates that the plan uses."""
    nodes: Mapping[Key, tuple[int, ...]] = field(default_factory=dict)
    """Per used candidate, the ids of the plan nodes that scan it."""


class WhatIf:
    """Plans units under configurations of hypothetical indexes, with a cache.

    The session keeps the indexes of the current configuration; switching configuration only
    creates and removes the difference.
    """

    def __init__(self, session: HypotheticalSession, render: Any) -> None:
        self._session = session
        self._render = render
        self.sizer: Any = None
        """Returns a candidate's catalog-based size estimate, or None (then HypoPG's is used)."""
        self._live: dict[Key, HypotheticalIndex] = {}
        self._candidates: dict[Key, IndexCandidate] = {}
        self._sizes: dict[Key, int] = {}  # HypoPG's estimates
        self._estimates: dict[Key, int] = {}
        self._cache: dict[tuple[int, str, frozenset[Key]], Outcome] = {}
        self.explains = 0

    def size(self, candidate: IndexCandidate) -> int:
        """The size estimate for ``candidate``: the ``sizer``'s, else HypoPG's.

        The sizer is the catalog-based estimate (`planalyzer.advisor.size`); HypoPG's is used
        when it has none (creating the index once).
        """
        if candidate.key in self._estimates:
            return self._estimates[candidate.key]
        estimate = self.sizer(candidate) if self.sizer is not None else None
        if estimate is None:
            if candidate.key not in self._sizes:
                self._configure([*self._current_candidates(), candidate])
            estimate = self._sizes[candidate.key]
        self._estimates[candidate.key] = int(estimate)
        return int(estimate)

    def row_fraction(self, table: str, where: str) -> float:
        """The planner's share of ``table``'s rows that satisfy ``where`` (plain EXPLAIN)."""
        schema, _, name = table.rpartition(".")
        target = pgsql.Identifier(schema, name) if schema else pgsql.Identifier(name)
        count = pgsql.SQL("SELECT 1 FROM {}").format(target)
        every = self._session.explain(count.as_string(None))
        some = self._session.explain(
            pgsql.SQL("{} WHERE {}").format(count, pgsql.SQL(where)).as_string(None)
        )
        total = every.root.plan_rows or 0.0
        return min(1.0, (some.root.plan_rows or 0.0) / total) if total > 0 else 1.0

    def outcome(self, unit: Unit, configuration: Sequence[IndexCandidate]) -> Outcome:
        """Plan ``unit`` with exactly ``configuration`` present (restricted to its tables)."""
        relevant = [c for c in configuration if c.table in unit.tables]
        cache_key = (unit.position, unit.scenario.label, frozenset(c.key for c in relevant))
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        self._configure(relevant)
        plan = self._session.explain(unit.scenario.sql, unit.scenario.params)
        self.explains += 1
        names = {index.name: key for key, index in self._live.items()}
        nodes: dict[Key, tuple[int, ...]] = {}
        for node in plan.nodes():
            if node.index_name in names:
                key = names[node.index_name]
                nodes[key] = (*nodes.get(key, ()), node.id)
        result = Outcome(
            cost=float(plan.root.total_cost or 0.0), plan=plan, used=frozenset(nodes), nodes=nodes
        )
        self._cache[cache_key] = result
        return result

    def _current_candidates(self) -> list[IndexCandidate]:
        return list(self._candidates.values())

    def _configure(self, wanted: Iterable[IndexCandidate]) -> None:
        """Make the session hold exactly ``wanted``."""
        wanted_by_key = {c.key: c for c in wanted}
        for key in [k for k in self._live if k not in wanted_by_key]:
            self._session.remove(self._live.pop(key))
            self._candidates.pop(key, None)
        for key, candidate in wanted_by_key.items():
            if key in self._live:
                continue
            index = self._session.create(self._render(candidate))
            self._live[key] = index
            self._candidates[key] = candidate
            self._sizes.setdefault(key, index.size_bytes)


@dataclass
class Validation:
    """Single-index results: the baseline and each surviving candidate's effect."""

    baseline: dict[tuple[int, str], Outcome]
    accepted: list[IndexCandidate] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    single: dict[Key, dict[tuple[int, str], Outcome]] = field(default_factory=dict)
    sizes: dict[Key, int] = field(default_factory=dict)


def validate_candidates(
    whatif: WhatIf,
    units: Sequence[Unit],
    candidates: Sequence[IndexCandidate],
    *,
    min_improvement_ratio: float,
    min_cost_saving: float = 0.0,
) -> Validation:
    """Check each verifiable candidate alone against the baseline plans.

    Args:
        whatif: the planning engine.
        units: every statement scenario of the workload.
        candidates: verifiable candidates (B-tree).
        min_improvement_ratio: least relative cost saving, on at least one statement that uses
            the index, for it to be kept (0.1 = the cost drops by 10 %).
        min_cost_saving: least absolute saving (planner cost units) on that statement.

    Returns:
        The baseline outcomes, the accepted candidates with their per-unit outcomes and sizes,
        and the rejected ones with the reason.
    """
    baseline = {(u.position, u.scenario.label): whatif.outcome(u, []) for u in units}
    result = Validation(baseline=baseline)
    for candidate in candidates:
        affected = [u for u in units if candidate.table in u.tables]
        try:
            outcomes = {
                (u.position, u.scenario.label): whatif.outcome(u, [candidate]) for u in affected
            }
            size = whatif.size(candidate)
        except DatabaseError as err:
            result.rejected.append(_refused(candidate, err))
            continue
        users = {k: o for k, o in outcomes.items() if candidate.key in o.used}
        if not users:
            result.rejected.append(
                Rejection(
                    candidate=candidate,
                    code="not-used",
                    reason="the planner did not choose it for any statement",
                    size_bytes=size,
                )
            )
            continue
        best = max(
            (baseline[k].cost - o.cost) / baseline[k].cost if baseline[k].cost > 0 else 0.0
            for k, o in users.items()
        )
        saving = max(baseline[k].cost - o.cost for k, o in users.items())
        if saving < min_cost_saving:
            result.rejected.append(
                Rejection(
                    candidate=candidate,
                    code="below-threshold",
                    reason=(
                        f"used, but saves at most {saving:,.1f} cost units on a statement "
                        f"(min_cost_saving = {min_cost_saving:g}): the statement is cheap already"
                    ),
                    size_bytes=size,
                )
            )
            continue
        if best < min_improvement_ratio:
            result.rejected.append(
                Rejection(
                    candidate=candidate,
                    code="below-threshold",
                    reason=(
                        f"used, but saves at most {best:.1%} of a statement's cost "
                        f"(min_improvement_ratio = {min_improvement_ratio:.0%})"
                    ),
                    size_bytes=size,
                )
            )
            continue
        result.accepted.append(candidate)
        result.single[candidate.key] = outcomes
        result.sizes[candidate.key] = size
    return result


# SQLSTATE 42P17 invalid_object_definition: what CREATE INDEX (and HypoPG, which runs the same
# CheckMutability test) raises for an index expression calling a function not marked IMMUTABLE.
_INVALID_OBJECT_DEFINITION = "42P17"


def _refused(candidate: IndexCandidate, err: DatabaseError) -> Rejection:
    """The rejection for a candidate HypoPG would not build, naming the usual cause plainly."""
    expressions = [c.name for c in candidate.columns if c.expression]
    if expressions and err.sqlstate == _INVALID_OBJECT_DEFINITION:
        return Rejection(
            candidate=candidate,
            code="not-immutable",
            reason=(
                f"{', '.join(expressions)} cannot be indexed: an index expression may only call "
                "IMMUTABLE functions, and the server says this one calls a function that is not "
                "(date_trunc() or a ::date cast of a timestamptz, for example, depend on the "
                "TimeZone setting); write the condition on the column itself (created_at >= "
                "'2024-03-01' AND created_at < '2024-03-02'), or use an immutable form such as "
                f"date_trunc('day', created_at AT TIME ZONE 'UTC'). Server: {err.server_message}"
            ),
        )
    return Rejection(candidate=candidate, code="hypopg-error", reason=str(err))


def weighted_cost(units: Sequence[Unit], outcomes: Mapping[tuple[int, str], Outcome]) -> float:
    """Σ weight × cost over ``units`` (each unit's weight is already its scenario share)."""
    return sum(u.weight * outcomes[(u.position, u.scenario.label)].cost for u in units)
