"""Judge every statement under the final index set, and check the risky plans against the data.

Greedy selection scores an index by the statements it helps, but an index chosen for some
statements changes the plans of every statement on its table. The classic harm: a range index
chosen for reports also offers ``WHERE <rare flags> ORDER BY <that column> LIMIT n`` a walk
along the index that stops after ``n`` matches. The planner assumes the matches are spread
evenly; when they sit at the far end the walk reads most of the table, 10× slower than before.

`guard_selection` therefore re-plans every statement with the final set and looks at the nodes
that scan a chosen index, in the plan shapes whose price rests on an assumption:

- **ordered walk**: ``Limit`` over an index scan with a ``Filter``: `Sampler.order_walk` finds
  where the first matching rows sit along the index order;
- **row estimate**: an index or bitmap scan, or the outer side of a nested loop whose inner side
  scans a chosen index: `Sampler.matching` counts the rows that really satisfy the statement's
  conditions on that table (correlated columns make the planner's product of selectivities far
  too small).

The node's cost is scaled by the ratio of real to estimated rows read (planner cost is close to
linear in rows for these nodes), which gives the statement a *sampled* cost. When that exceeds
the statement's cost with no new index, the risk is real: the guard adds the candidate that makes
the statement safe (cheapest safe plan, e.g. equality columns then the ORDER BY column, or a
partial index) when the budget allows, or else drops the offending index; then it judges the
whole set again. Each decision is recorded with its figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planalyzer.advisor.model import IndexCandidate, Rejection
from planalyzer.advisor.predicates import PredicateKind, QueryShape, TableRef
from planalyzer.advisor.sample import Sampler
from planalyzer.advisor.validate import Key, Outcome, Unit, WhatIf
from planalyzer.live.catalog import TableFacts
from planalyzer.plan.model import Plan, PlanNode

__all__ = ["GuardResult", "Risk", "guard_selection", "sampled_risks"]

# A sampled cost within this factor of the planner's is not a finding.
_RATIO = 3.0
_PASS_THROUGH = frozenset({"Limit", "Result", "Gather", "Gather Merge", "Subquery Scan"})
_INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})
_MAX_ROUNDS = 6


@dataclass(frozen=True)
class Risk:
    """A plan node the data says the planner misjudged, with the figures."""

    position: int
    label: str
    key: Key | None
    node_id: int
    kind: str
    estimated_rows: float
    sampled_rows: float
    cost: float
    sampled_cost: float
    baseline_cost: float

    @property
    def real(self) -> bool:
        """The statement would be slower than with no new index at all."""
        return self.sampled_cost > self.baseline_cost

    def describe(self) -> str:
        """One sentence with the figures."""
        what = (
            "an ordered index walk stopping at LIMIT"
            if self.kind == "ordered-walk"
            else "a scan whose row estimate the sample contradicts"
        )
        return (
            f"statement {self.position} ({self.label}): {what} reads about "
            f"{self.sampled_rows:,.0f} rows, not the {self.estimated_rows:,.0f} the planner "
            f"expects (sampled); cost {self.cost:,.0f} becomes about {self.sampled_cost:,.0f} "
            f"against {self.baseline_cost:,.0f} with no new index"
        )


@dataclass
class GuardResult:
    """The guarded set and what the guard did."""

    chosen: list[IndexCandidate]
    outcomes: dict[tuple[int, str], Outcome]
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sampled: set[tuple[int, str]] = field(default_factory=set)
    """Units whose final plan was checked against the data."""
    risks: list[Risk] = field(default_factory=list)
    """Risks found in the final plans (none real once the guard is done)."""
    added: list[Key] = field(default_factory=list)


def guard_selection(
    whatif: WhatIf,
    units: Sequence[Unit],
    chosen: Sequence[IndexCandidate],
    baseline: Mapping[tuple[int, str], Outcome],
    shapes: Mapping[int, QueryShape],
    tables: Mapping[str, tuple[TableRef, TableFacts]],
    pool: Sequence[IndexCandidate],
    sampler: Sampler,
    *,
    size_of: Callable[[IndexCandidate], int],
    budget_bytes: int | None,
) -> GuardResult:
    """Make the chosen set safe for every statement (see the module docstring).

    Args:
        whatif: the planning engine.
        units: every statement scenario.
        chosen: the selected indexes.
        baseline: outcomes with no new index.
        shapes: statement shapes by position (their constant conditions feed the samples).
        tables: per schema-qualified table, its reference and catalog facts.
        pool: every verifiable candidate, to find one that makes a statement safe.
        sampler: the bounded data checks.
        size_of: a candidate's estimated size.
        budget_bytes: the size budget, if any.
    """
    current = list(chosen)
    result = GuardResult(chosen=current, outcomes={})
    for _ in range(_MAX_ROUNDS):
        outcomes = {(u.position, u.scenario.label): whatif.outcome(u, current) for u in units}
        real: list[Risk] = []
        result.risks = []
        for unit in units:
            ident = (unit.position, unit.scenario.label)
            risks = sampled_risks(
                unit, outcomes[ident], baseline[ident], current, shapes, tables, sampler
            )
            if risks is not None:
                result.sampled.add(ident)
                result.risks.extend(risks)
                real.extend(r for r in risks if r.real)
        result.outcomes = outcomes
        if not real:
            break
        risk = max(real, key=lambda r: r.sampled_cost - r.baseline_cost)
        unit = next(
            u for u in units if (u.position, u.scenario.label) == (risk.position, risk.label)
        )
        safe = _safe_candidate(
            whatif, unit, current, pool, baseline, shapes, tables, sampler, size_of, budget_bytes
        )
        offending = next((c for c in current if c.key == risk.key), None)
        if safe is not None:
            current.append(safe)
            result.added.append(safe.key)
            result.notes.append(
                f"{risk.describe()}; added {safe.definition}, which gives it a safe plan"
            )
            continue
        if offending is None:
            result.notes.append(f"{risk.describe()}; no index of the set to drop")
            break
        current.remove(offending)
        result.rejected.append(
            Rejection(
                candidate=offending,
                code="side-effect",
                reason=f"{risk.describe()}; no safe alternative fits, so it is dropped",
                size_bytes=size_of(offending),
            )
        )
    result.chosen = current
    return result


def _safe_candidate(
    whatif: WhatIf,
    unit: Unit,
    current: Sequence[IndexCandidate],
    pool: Sequence[IndexCandidate],
    baseline: Mapping[tuple[int, str], Outcome],
    shapes: Mapping[int, QueryShape],
    tables: Mapping[str, tuple[TableRef, TableFacts]],
    sampler: Sampler,
    size_of: Callable[[IndexCandidate], int],
    budget_bytes: int | None,
) -> IndexCandidate | None:
    """The cheapest-planned candidate for this statement whose plan the data finds safe."""
    ident = (unit.position, unit.scenario.label)
    used = sum(size_of(c) for c in current)
    keys = {c.key for c in current}
    best: tuple[float, IndexCandidate] | None = None
    for candidate in pool:
        if candidate.key in keys or unit.position not in candidate.statements:
            continue
        if budget_bytes is not None and used + size_of(candidate) > budget_bytes:
            continue
        trial = [*current, candidate]
        outcome = whatif.outcome(unit, trial)
        if candidate.key not in outcome.used:
            continue
        risks = sampled_risks(unit, outcome, baseline[ident], trial, shapes, tables, sampler)
        if risks is None or any(r.real for r in risks):
            continue
        cost = max([outcome.cost, *(r.sampled_cost for r in risks)])
        if best is None or cost < best[0]:
            best = (cost, candidate)
    return best[1] if best else None


def sampled_risks(
    unit: Unit,
    outcome: Outcome,
    baseline: Outcome,
    chosen: Sequence[IndexCandidate],
    shapes: Mapping[int, QueryShape],
    tables: Mapping[str, tuple[TableRef, TableFacts]],
    sampler: Sampler,
) -> list[Risk] | None:
    """The misjudged nodes of ``outcome``'s plan that scan a chosen index (None: not checked).

    Returns an empty list when the plan was checked and nothing was misjudged, and None when no
    node of the plan needed a check or the sample gave no answer.
    """
    shape = shapes.get(unit.position)
    if shape is None or unit.scenario.values:
        return None  # ``$n`` statements: the conditions are not constants to sample with
    by_key = {c.key: c for c in chosen}
    plan = outcome.plan
    checked = False
    risks: list[Risk] = []
    for key, node_ids in outcome.nodes.items():
        candidate = by_key.get(key)
        if candidate is None:
            continue
        entry = tables.get(candidate.table)
        if entry is None:
            continue
        ref, facts = entry
        for node_id in node_ids:
            node = _node(plan, node_id)
            if node is None:
                continue
            found = _ordered_walk(unit, node, candidate, shape, ref, facts, sampler, plan)
            if found is None:
                found = _loop_outer(node, shape, tables, sampler, plan)
            if found is None:
                found = _row_estimate(unit, node, shape, ref, facts, sampler, plan)
            if found is None:
                continue
            checked = True
            if isinstance(found, dict):
                risks.append(
                    Risk(
                        position=unit.position,
                        label=unit.scenario.label,
                        key=key,
                        baseline_cost=baseline.cost,
                        **found,
                    )
                )
    return risks if checked else None


def _node(plan: Plan, node_id: int) -> PlanNode | None:
    return next((n for n in plan.nodes() if n.id == node_id), None)


def _conditions(shape: QueryShape, ref: TableRef, skip: set[str] | None = None) -> list[str] | None:
    """The statement's constant B-tree conditions on ``ref`` as SQL (None if some are not)."""
    found = []
    for pred in shape.predicates_on(ref):
        if skip is not None and pred.column in skip and pred.expression is None:
            continue
        if not pred.kind.btree or not pred.sql:
            return None
        if not pred.constant:
            return None
        found.append(pred.sql)
    return list(dict.fromkeys(found))


def _limit_above(node: PlanNode) -> PlanNode | None:
    parent = node.parent
    while parent is not None and parent.node_type in _PASS_THROUGH:
        if parent.node_type == "Limit":
            return parent
        parent = parent.parent
    return None


def _ordered_walk(
    unit: Unit,
    node: PlanNode,
    candidate: IndexCandidate,
    shape: QueryShape,
    ref: TableRef,
    facts: TableFacts,
    sampler: Sampler,
    plan: Plan,
) -> dict[str, Any] | bool | None:
    """Figures for a LIMIT walk along the index that filters rows (None: not this shape)."""
    if node.node_type not in ("Index Scan", "Index Only Scan") or not node.filter:
        return None
    limit = _limit_above(node)
    if limit is None or not node.plan_rows or not limit.plan_rows:
        return None
    pinned = {
        p.column
        for p in shape.predicates_on(ref)
        if p.kind in (PredicateKind.EQ, PredicateKind.IS_NULL) and p.expression is None
    }
    leading: list[str] = []
    order_column = None
    for column in candidate.columns:
        if column.expression:
            return None
        if column.name in pinned and order_column is None:
            leading.append(column.name)
            continue
        order_column = column.name
        break
    if order_column is None:
        return None
    range_conditions = [
        p.sql for p in shape.predicates_on(ref) if p.column in leading and p.sql and p.constant
    ]
    filters = _conditions(shape, ref, skip=set(leading))
    if filters is None or not filters:
        return None
    first = next(c for c in candidate.columns if c.name == order_column)
    backward = (node.scan_direction or "Forward") == "Backward"
    walk = sampler.order_walk(
        candidate.table,
        facts.row_estimate or 0.0,
        range_conditions,
        filters,
        order_column,
        descending=first.descending != backward,
    )
    if walk is None:
        return None
    in_range = walk.sampled / walk.sample_fraction
    expected = min(in_range, limit.plan_rows * in_range / max(node.plan_rows, 1.0))
    real = walk.rows_read(limit.plan_rows)
    if facts.row_estimate:
        real = min(real, facts.row_estimate)  # a page sample scales up to a little over
    if real <= _RATIO * max(expected, 1.0):
        return False
    cost = float(plan.root.total_cost or 0.0)
    walk_cost = float(limit.total_cost or 0.0)
    sampled_cost = cost + walk_cost * (real / max(expected, 1.0) - 1.0)
    return {
        "node_id": node.id,
        "kind": "ordered-walk",
        "estimated_rows": expected,
        "sampled_rows": real,
        "cost": cost,
        "sampled_cost": sampled_cost,
    }


def _inner_loop(node: PlanNode) -> PlanNode | None:
    """The Nested Loop whose inner (second) side ``node`` is in, or None."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.node_type == "Nested Loop":
            return parent if len(parent.children) > 1 and parent.children[1] is child else None
        child, parent = parent, parent.parent
    return None


def _loop_outer(
    node: PlanNode,
    shape: QueryShape,
    tables: Mapping[str, tuple[TableRef, TableFacts]],
    sampler: Sampler,
    plan: Plan,
) -> dict[str, Any] | bool | None:
    """Figures for a nested loop over the chosen index whose outer row estimate is wrong.

    The planner prices the loop at (outer rows) × (one inner index probe); a small outer
    estimate (often 1 row from multiplied selectivities) makes it look cheap. The outer scan's
    real rows come from a sample of its table with the statement's conditions on it.
    """
    loop = _inner_loop(node)
    if loop is None:
        return None
    outer = loop.children[0]
    scan = next((n for n in _subtree(outer) if n.relation_name and n.node_type in _SCANS), None)
    if scan is None or scan.plan_rows is None:
        return None
    entry = next(
        (e for e in tables.values() if e[1].name == scan.relation_name and e[0] in shape.tables),
        None,
    )
    if entry is None:
        return None
    ref, facts = entry
    real = _sampled_rows(shape, ref, facts, sampler)
    if real is None:
        return None
    estimated = float(outer.plan_rows or scan.plan_rows)
    if real <= _RATIO * max(estimated, 1.0):
        return False
    cost = float(plan.root.total_cost or 0.0)
    # Only the inner side runs once per outer row; the outer scan's own cost does not grow.
    inner = max(0.0, float(loop.total_cost or 0.0) - float(outer.total_cost or 0.0))
    sampled_cost = cost + inner * (real / max(estimated, 1.0) - 1.0)
    return {
        "node_id": loop.id,
        "kind": "row-estimate",
        "estimated_rows": estimated,
        "sampled_rows": real,
        "cost": cost,
        "sampled_cost": sampled_cost,
    }


def _subtree(node: PlanNode) -> list[PlanNode]:
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        found.append(item)
        stack.extend(reversed(item.children))
    return found


_SCANS = frozenset({"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"})


def _sampled_rows(
    shape: QueryShape, ref: TableRef, facts: TableFacts, sampler: Sampler
) -> float | None:
    """Rows of ``ref``'s table matching the statement's conditions on it, from a sample.

    None when there is nothing to sample (no condition, an empty table) or the sample failed.
    """
    conditions = _conditions(shape, ref)
    rows = facts.row_estimate or 0.0
    if not conditions or rows <= 0:
        return None
    sample = sampler.matching(facts.qualified_name, rows, conditions)
    if sample is None or sample.sampled == 0:
        return None
    return sample.fraction * rows


def _row_estimate(
    unit: Unit,
    node: PlanNode,
    shape: QueryShape,
    ref: TableRef,
    facts: TableFacts,
    sampler: Sampler,
    plan: Plan,
) -> dict[str, Any] | bool | None:
    """Figures for a scan (or the loop around it) whose row estimate the sample contradicts."""
    if node.node_type not in _INDEX_SCANS:
        return None
    real = _sampled_rows(shape, ref, facts, sampler)
    if real is None:
        return None
    scan = node.parent if node.node_type == "Bitmap Index Scan" and node.parent else node
    estimated = float(scan.plan_rows or 0.0)
    if real <= _RATIO * max(estimated, 1.0):
        return False
    ratio = real / max(estimated, 1.0)
    cost = float(plan.root.total_cost or 0.0)
    # The costs that grow with these rows: the scan's own, and, on the outer side of a nested
    # loop, every inner loop run once per outer row.
    grown = float(scan.total_cost or 0.0)
    parent = scan.parent
    if parent is not None and parent.node_type == "Nested Loop" and parent.children[0] is scan:
        grown = float(parent.total_cost or 0.0)  # the scan, and each inner run per its row
    sampled_cost = cost + grown * (ratio - 1.0)
    return {
        "node_id": scan.id,
        "kind": "row-estimate",
        "estimated_rows": estimated,
        "sampled_rows": real,
        "cost": cost,
        "sampled_cost": sampled_cost,
    }
