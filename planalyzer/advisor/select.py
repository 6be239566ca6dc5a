"""Choose the set of indexes that lowers the weighted workload cost most, within the limits.

Why greedy with re-evaluation (and not an exact search): the problem is a knapsack whose item
values interact — one two-column index can serve two statements, a second index on the same
column adds nothing once the first exists — so an exact answer needs the cost of every subset,
i.e. an exponential number of EXPLAINs. Greedy selection that re-plans the workload with the
already chosen indexes present is the method of the established what-if advisors (Chaudhuri &
Narasayya, "An Efficient, Cost-Driven Index Selection Tool for Microsoft SQL Server", VLDB 1997;
Dexter and HypoPG-based advisors for PostgreSQL) and sees exactly those interactions, at a
cost of one plan per affected statement per evaluation.

Details:

- **Score**: with a size budget, weighted benefit per byte (the knapsack ratio); without one,
  the weighted benefit itself, so the most valuable index comes first.
- **Lazy evaluation**: a candidate's benefit can only shrink as other indexes are added (in
  practice; see the caveat below), so each round re-plans only the top candidate and takes it
  when its fresh score still beats every other candidate's last known score (Minoux's
  accelerated greedy). That turns rounds × candidates plans into a few per round.
- **Best single index**: under a budget, ratio greedy can miss one large index worth more than
  all the small ones together; the result is compared with the best single index that fits, and
  the better one is kept (the standard fix that bounds greedy knapsack at half the optimum).
- **Pruning**: an index chosen early that a later, better index made unused is dropped again.
- **Merging**: two chosen indexes on one table where one key is a prefix of the other (say
  ``(customer_id) INCLUDE (total)`` and ``(customer_id, created_at)``) are replaced by one
  (``(customer_id, created_at) INCLUDE (total)``) when that is smaller than both together and
  gives back at most 2 % of the weighted cost the two saved (the index-merging step of
  Chaudhuri & Narasayya, "Index Merging", ICDE 1999).

Caveat: two indexes that only help together (a BitmapAnd of two single-column indexes) are each
under-rated alone; the generator proposes the composite index instead, which the planner
prefers anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from planalyzer.advisor.model import IndexCandidate, Rejection
from planalyzer.advisor.validate import Key, Outcome, Unit, Validation, WhatIf

__all__ = ["Selection", "select_indexes"]

_TIE = 0.02
_SMALLER = 0.75


@dataclass
class Selection:
    """The chosen indexes, their marginal benefits, the final outcomes, and the rest."""

    chosen: list[IndexCandidate] = field(default_factory=list)
    benefits: dict[Key, float] = field(default_factory=dict)
    outcomes: dict[tuple[int, str], Outcome] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)


def select_indexes(
    whatif: WhatIf,
    units: Sequence[Unit],
    validation: Validation,
    *,
    budget_bytes: int | None,
    max_indexes: int | None,
    min_improvement_ratio: float,
    min_cost_saving: float = 0.0,
) -> Selection:
    """Pick indexes greedily among the validated candidates (see the module docstring).

    Args:
        whatif: the planning engine (its cache makes re-planning cheap).
        units: the workload's statement scenarios with their weights.
        validation: baseline and single-candidate results.
        budget_bytes: total estimated size allowed, or None.
        max_indexes: number of indexes allowed, or None.
        min_improvement_ratio: least relative saving an index must still bring, given the
            indexes chosen before it, on some statement that uses it.
        min_cost_saving: least absolute saving it must still bring there.

    Returns:
        The selection; every validated candidate not chosen is in ``rejected`` with a reason.
    """
    sizes = validation.sizes
    pool = {c.key: c for c in validation.accepted}
    bound = {
        key: _benefit(units, validation.baseline, validation.single[key], key)[0] for key in pool
    }

    def score(key: Key, benefit: float) -> float:
        return benefit / max(1, sizes[key]) if budget_bytes is not None else benefit

    chosen: list[IndexCandidate] = []
    benefits: dict[Key, float] = {}
    current = dict(validation.baseline)
    used_bytes = 0
    rejected: dict[Key, Rejection] = {}
    while pool:
        if max_indexes is not None and len(chosen) >= max_indexes:
            for key, candidate in pool.items():
                rejected[key] = _reject(
                    candidate, "max-indexes", f"max_indexes = {max_indexes} reached", sizes, bound
                )
            break
        fitting = [k for k in pool if budget_bytes is None or used_bytes + sizes[k] <= budget_bytes]
        for key in [k for k in pool if k not in fitting]:
            rejected[key] = _reject(
                pool.pop(key),
                "over-budget",
                f"needs {sizes[key]:,} bytes; {used_bytes:,} of budget_bytes = "
                f"{budget_bytes:,} already used",
                sizes,
                bound,
            )
        if not fitting:
            break
        ranked = sorted(fitting, key=lambda k: (-score(k, bound[k]), _order(pool[k])))
        # Near-ties (within 2 %) go to a clearly smaller index (under 3/4 of the leader's
        # size): the planner's cost difference is noise at that point, and the bytes are not.
        leader = score(ranked[0], bound[ranked[0]])
        close = [k for k in ranked if score(k, bound[k]) >= leader - abs(leader) * _TIE]
        smaller = [k for k in close if sizes[k] < _SMALLER * sizes[ranked[0]]]
        top = min(smaller, key=lambda k: (sizes[k], _order(pool[k]))) if smaller else ranked[0]
        ranked.remove(top)
        ranked.insert(0, top)
        candidate = pool[top]
        fresh = {
            (u.position, u.scenario.label): whatif.outcome(u, [*chosen, candidate])
            for u in units
            if candidate.table in u.tables
        }
        benefit, best_ratio = _benefit(
            units, current, fresh, top, validation.baseline, min_cost_saving
        )
        bound[top] = benefit
        if best_ratio < min_improvement_ratio or benefit <= 0:
            rejected[top] = _reject(
                pool.pop(top),
                "superseded",
                "the indexes chosen before it already give most of its benefit (it would "
                f"remove {max(best_ratio, 0):.1%} of a statement's original cost; "
                f"min_improvement_ratio = {min_improvement_ratio:.0%})",
                sizes,
                bound,
            )
            continue
        others = [score(k, bound[k]) for k in ranked[1:]]
        if others and score(top, benefit) < max(others) - abs(max(others)) * _TIE:
            continue  # its score fell below another's last known score: re-rank first
        chosen.append(pool.pop(top))
        benefits[top] = benefit
        used_bytes += sizes[top]
        current.update(fresh)

    chosen, current = _prune(whatif, units, chosen, current, rejected, sizes, bound)
    chosen, current = _merge(whatif, units, chosen, current, rejected, sizes, bound, benefits)
    if budget_bytes is not None:
        chosen, current, benefits = _best_single(
            units, validation, chosen, current, benefits, rejected, budget_bytes, bound
        )
    return Selection(
        chosen=chosen, benefits=benefits, outcomes=current, rejected=list(rejected.values())
    )


def _order(candidate: IndexCandidate) -> tuple[object, ...]:
    """Deterministic tie-break: narrower indexes first, then by definition text."""
    return (len(candidate.columns) + len(candidate.include), candidate.definition)


def _benefit(
    units: Sequence[Unit],
    before: dict[tuple[int, str], Outcome],
    after: dict[tuple[int, str], Outcome],
    key: Key,
    reference: dict[tuple[int, str], Outcome] | None = None,
    min_saving: float = 0.0,
) -> tuple[float, float]:
    """Weighted cost saved, and the best saving on a unit whose plan uses ``key``.

    The best saving is relative to ``reference`` (the baseline without any index), so an
    index chosen late must still remove a real share of a statement's original cost: taking
    a statement from 5 to 1 after another index took it from 1,300 to 5 is not worth an index.
    Statements where it saves less than ``min_saving`` cost units do not count for that.
    """
    reference = reference or before
    total = 0.0
    best = 0.0
    for unit in units:
        ident = (unit.position, unit.scenario.label)
        if ident not in after:
            continue
        old, new = before[ident].cost, after[ident].cost
        total += unit.weight * (old - new)
        original = reference[ident].cost
        if key in after[ident].used and original > 0 and old - new >= min_saving:
            best = max(best, (old - new) / original)
    return total, best


def _reject(
    candidate: IndexCandidate,
    code: str,
    reason: str,
    sizes: dict[Key, int],
    bound: dict[Key, float],
) -> Rejection:
    return Rejection(
        candidate=candidate,
        code=code,
        reason=reason,
        size_bytes=sizes.get(candidate.key),
        benefit=bound.get(candidate.key),
    )


def _prune(
    whatif: WhatIf,
    units: Sequence[Unit],
    chosen: list[IndexCandidate],
    current: dict[tuple[int, str], Outcome],
    rejected: dict[Key, Rejection],
    sizes: dict[Key, int],
    bound: dict[Key, float],
) -> tuple[list[IndexCandidate], dict[tuple[int, str], Outcome]]:
    """Drop chosen indexes that no final plan uses (a later choice superseded them)."""
    while True:
        used = set().union(*(o.used for o in current.values())) if current else set()
        idle = [c for c in chosen if c.key not in used]
        if not idle:
            return chosen, current
        for candidate in idle:
            rejected[candidate.key] = _reject(
                candidate,
                "superseded",
                "chosen first, but no final plan uses it once the later indexes exist",
                sizes,
                bound,
            )
        chosen = [c for c in chosen if c.key in used]
        current = {(u.position, u.scenario.label): whatif.outcome(u, chosen) for u in units}


def _merge(
    whatif: WhatIf,
    units: Sequence[Unit],
    chosen: list[IndexCandidate],
    current: dict[tuple[int, str], Outcome],
    rejected: dict[Key, Rejection],
    sizes: dict[Key, int],
    bound: dict[Key, float],
    benefits: dict[Key, float],
) -> tuple[list[IndexCandidate], dict[tuple[int, str], Outcome]]:
    """Replace prefix-compatible pairs of chosen indexes by one merged index when it pays."""
    merged_any = True
    while merged_any:
        merged_any = False
        total = sum(u.weight * current[(u.position, u.scenario.label)].cost for u in units)
        for a in chosen:
            for b in chosen:
                merged = _merged(a, b)
                if merged is None:
                    continue
                trial = [c for c in chosen if c is not a and c is not b] + [merged]
                size = whatif.size(merged)
                if size >= sizes[a.key] + sizes[b.key]:
                    continue
                outcomes = {(u.position, u.scenario.label): whatif.outcome(u, trial) for u in units}
                cost = sum(u.weight * outcomes[(u.position, u.scenario.label)].cost for u in units)
                # Affordable when it gives back at most 2 % of what the two indexes saved.
                saved = benefits.get(a.key, 0.0) + benefits.get(b.key, 0.0)
                if cost - total > _TIE * saved:
                    continue
                sizes[merged.key] = size
                benefits[merged.key] = benefits.get(a.key, 0.0) + benefits.get(b.key, 0.0)
                for old in (a, b):
                    rejected[old.key] = _reject(
                        old,
                        "merged",
                        f"merged with another chosen index into {merged.definition}",
                        sizes,
                        bound,
                    )
                chosen, current = trial, outcomes
                merged_any = True
                break
            if merged_any:
                break
    return chosen, current


def _merged(a: IndexCandidate, b: IndexCandidate) -> IndexCandidate | None:
    """``b``'s key with ``a``'s INCLUDE columns when ``a``'s key is a proper prefix of ``b``'s."""
    if (
        a is b
        or a.table != b.table
        or a.where != b.where
        or a.method != "btree"
        or b.method != "btree"
        or len(a.columns) >= len(b.columns)
        or b.columns[: len(a.columns)] != a.columns
    ):
        return None
    keys = set(b.column_names)
    include = tuple(sorted((set(a.include) | set(b.include)) - keys))
    return b.model_copy(
        update={
            "include": include,
            "reasons": tuple(dict.fromkeys(b.reasons + a.reasons)),
            "statements": tuple(sorted(set(a.statements + b.statements))),
        }
    )


def _best_single(
    units: Sequence[Unit],
    validation: Validation,
    chosen: list[IndexCandidate],
    current: dict[tuple[int, str], Outcome],
    benefits: dict[Key, float],
    rejected: dict[Key, Rejection],
    budget_bytes: int,
    bound: dict[Key, float],
) -> tuple[list[IndexCandidate], dict[tuple[int, str], Outcome], dict[Key, float]]:
    """Keep the best single fitting index instead of the greedy set when it is worth more."""
    total = sum(
        u.weight
        * (
            validation.baseline[(u.position, u.scenario.label)].cost
            - current[(u.position, u.scenario.label)].cost
        )
        for u in units
    )
    best_key, best_value = None, total
    for candidate in validation.accepted:
        if validation.sizes[candidate.key] > budget_bytes:
            continue
        value = _benefit(units, validation.baseline, validation.single[candidate.key], ())[0]
        if value > best_value * 1.0001:
            best_key, best_value = candidate.key, value
    if best_key is None:
        return chosen, current, benefits
    single = next(c for c in validation.accepted if c.key == best_key)
    for candidate in chosen:
        rejected[candidate.key] = _reject(
            candidate,
            "over-budget",
            f"the single index {single.definition} saves more within budget_bytes than the "
            "greedy set that included this one",
            validation.sizes,
            bound,
        )
    rejected.pop(best_key, None)
    outcomes = dict(validation.baseline)
    outcomes.update(validation.single[best_key])
    return [single], outcomes, {best_key: best_value}
