"""Plain-text rendering of `Advice` (what ``print(advice)`` shows).

It reads as a DBA's note: per index what to create, why, what it fixes ("Seq Scan on orders →
Index Scan, cost 9,800 → 12"), how big it is and what it costs in writes; then the statements
with their cost before and after, and a count of what was rejected and why.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.advisor.model import Advice, QueryAdvice, Recommendation

__all__ = ["format_bytes", "render_advice"]


def format_bytes(size: int | None) -> str:
    """A size as a person reads it.

    Example:
        >>> format_bytes(15671296), format_bytes(900), format_bytes(None)
        ('14.9 MiB', '900 B', 'size unknown')
    """
    if size is None:
        return "size unknown"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TiB"  # pragma: no cover - the loop always returns


def _plan_label(plan_root_type: str | None) -> str:
    return plan_root_type or "?"


def _recommendation(number: int, rec: Recommendation) -> list[str]:
    lines = [f"{number}. {rec.create_sql.splitlines()[-1] if rec.table else rec.create_sql}"]
    if "\n" in rec.create_sql:
        lines = [f"{number}. {rec.name} on {rec.table} (partitioned; per-partition migration)"]
    facts = [format_bytes(rec.size_bytes)]
    if rec.cost_before is not None and rec.cost_after is not None:
        facts.append(
            f"cost of the statements it serves {rec.cost_before:,.0f} → "
            f"{rec.cost_after:,.0f} (unweighted)"
        )
    if rec.queries:
        facts.append(
            "serves statement"
            + ("s " if len(rec.queries) > 1 else " ")
            + ", ".join(str(q + 1) for q in rec.queries)  # numbered from 1, like the list
        )
    if not rec.verifiable:
        facts.append("NOT VERIFIED (HypoPG cannot build it)")
    facts.append(rec.evidence)
    lines.append("   " + "; ".join(facts))
    lines += [f"   why: {reason}" for reason in rec.reasons[:2]]
    lines += [f"   fixes: {fix}" for fix in rec.fixes]
    if rec.write_activity is not None:
        w = rec.write_activity
        lines.append(
            f"   write price: {w.writes:,} rows written since the stats reset "
            f"(ins {w.n_tup_ins:,}, upd {w.n_tup_upd:,}, del {w.n_tup_del:,})"
        )
    lines += [f"   note: {note}" for note in rec.notes]
    return lines


def _query(query: QueryAdvice) -> str:
    before = query.plan_before.root.node_type if query.plan_before is not None else "?"
    after = query.plan_after.root.node_type if query.plan_after is not None else "?"
    text = " ".join(query.sql.split())
    if len(text) > 70:
        text = text[:67] + "..."
    ratio = query.improvement_ratio
    change = f"×{ratio:,.1f} cheaper" if ratio > 1.0001 else "unchanged"
    line = (
        f"  [{query.position + 1}] w={query.weight:g} cost {query.cost_before:,.0f} → "
        f"{query.cost_after:,.0f} ({change}; {_plan_label(before)} → {_plan_label(after)}; "
        f"{query.evidence})"
    )
    if query.time_before_ms is not None:
        line += f", measured {query.time_before_ms:,.1f} ms before"
    line += f"\n      {text}"
    for note in query.notes:
        line += f"\n      note: {note}"
    return line


def render_advice(advice: Advice) -> str:
    """The whole advice as text."""
    lines: list[str] = []
    count = len(advice.recommendations)
    verified = [r for r in advice.recommendations if r.verifiable]
    header = f"Index advice: {count} recommendation{'s' if count != 1 else ''}"
    if verified:
        header += (
            f", {format_bytes(advice.total_size_bytes)}; weighted workload cost "
            f"{advice.cost_before:,.0f} → {advice.cost_after:,.0f}"
        )
    lines.append(header)
    limits = []
    if advice.budget_bytes is not None:
        limits.append(f"budget {format_bytes(advice.budget_bytes)}")
    if advice.max_indexes is not None:
        limits.append(f"at most {advice.max_indexes} indexes")
    if limits:
        lines.append("limits: " + ", ".join(limits))
    for number, rec in enumerate(advice.recommendations, start=1):
        lines.append("")
        lines += _recommendation(number, rec)
    if advice.per_query:
        lines += ["", "Statements:"]
        lines += [_query(q) for q in advice.per_query]
    if advice.statistics:
        lines += ["", "Statistics (applied after the indexes in the migration):"]
        for fix in advice.statistics:
            lines.append(f"  {fix.create_sql.splitlines()[0]}")
            lines.append(f"      {fix.evidence}: {fix.reason}")
    if advice.rejected:
        codes = Counter(r.code for r in advice.rejected)
        summary = ", ".join(f"{n} {code}" for code, n in sorted(codes.items()))
        lines += ["", f"Rejected {len(advice.rejected)} candidates ({summary}); see .rejected"]
    lines += [f"note: {note}" for note in advice.notes]
    return "\n".join(lines)
