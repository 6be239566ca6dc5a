"""``WHERE a = 5 OR b = 7``: a pair of single-column indexes the planner combines with BitmapOr.

No single B-tree serves an OR across two columns, and each index of the pair is useless alone
(the planner still has to scan the table for the other arm), so greedy selection, which judges
one index at a time, never picks either. This step judges the pair (or the whole group) as one:
it plans the statement with every arm indexed, and keeps the arms when the BitmapOr plan uses
them all and saves what an index must save (``min_improvement_ratio``, ``min_cost_saving``),
within the budget. Arms an existing or already chosen index leads with are not proposed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planalyzer.advisor.candidates import served_by
from planalyzer.advisor.model import IndexCandidate, KeyColumn
from planalyzer.advisor.predicates import QueryShape, TableRef
from planalyzer.advisor.validate import Unit, WhatIf
from planalyzer.live.catalog import TableFacts

__all__ = ["or_arms"]


def or_arms(
    whatif: WhatIf,
    units: Sequence[Unit],
    shapes: Mapping[int, QueryShape],
    tables: Mapping[TableRef, TableFacts],
    chosen: Sequence[IndexCandidate],
    *,
    budget_bytes: int | None,
    used_bytes: int,
    min_improvement_ratio: float,
    min_cost_saving: float,
    min_table_pages: int,
) -> list[IndexCandidate]:
    """The single-column indexes to add so that OR conditions can use a BitmapOr.

    Returns:
        The arms to add to the chosen set (possibly none).
    """
    added: list[IndexCandidate] = []
    for position, shape in sorted(shapes.items()):
        for group in shape.or_groups:
            facts = tables.get(group[0].table)
            if facts is None or facts.pages < min_table_pages:
                continue
            arms = []
            for ref in group:
                arm = IndexCandidate(
                    table=facts.qualified_name,
                    columns=(KeyColumn(name=ref.column),),
                    equality_columns=1,
                    reasons=(
                        "BitmapOr arm of "
                        + " OR ".join(f"{r.column} = ..." for r in group)
                        + f" on {facts.qualified_name}",
                    ),
                    statements=(position,),
                )
                if served_by(arm, facts.indexes) is not None:
                    continue
                if any(
                    c.table == arm.table and c.columns[:1] == arm.columns for c in [*chosen, *added]
                ):
                    continue
                arms.append(arm)
            if not arms:
                continue
            size = sum(whatif.size(a) for a in arms)
            if budget_bytes is not None and used_bytes + size > budget_bytes:
                continue
            mine = [u for u in units if u.position == position]
            before = [whatif.outcome(u, [*chosen, *added]) for u in mine]
            after = [whatif.outcome(u, [*chosen, *added, *arms]) for u in mine]
            if not all(any(a.key in o.used for o in after) for a in arms):
                continue
            saving = max(b.cost - a.cost for b, a in zip(before, after, strict=True))
            ratio = max(
                (b.cost - a.cost) / b.cost if b.cost > 0 else 0.0
                for b, a in zip(before, after, strict=True)
            )
            if saving >= min_cost_saving and ratio >= min_improvement_ratio:
                added.extend(arms)
                used_bytes += size
    return added
