"""A failing plan check that carries a proven fix: the advisor's index, with HypoPG's costs.

Opt-in (``planalyzer_prove_fixes = true``, or ``assert_plan(plan, prove_fixes=True)``) because
it costs a few hundred milliseconds per failure and needs the ``hypopg`` extension. For a plan
that came from a live EXPLAIN (so its statement and parameters are known), `proof_lines` asks
`planalyzer.advise` for the best index on the checker's connection (else on a connection to
``planalyzer_dsn``) and writes the ``CREATE INDEX`` with the statement's planner cost before and
after it, as HypoPG measured them. Where the plan's trouble starts with a row misestimate, the
statistics advice of the ``row-misestimate`` finding is added: an index will not help a plan
the planner mis-costs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan
    from planalyzer.rules.report import Report

__all__ = ["ProofSettings", "enabled", "proof_lines", "proving"]


@dataclass(frozen=True)
class ProofSettings:
    """Proof is on for the running test; ``dsn`` is the fallback connection."""

    dsn: str | None = None


_current: ContextVar[ProofSettings | None] = ContextVar("planalyzer_prove_fixes", default=None)


@contextlib.contextmanager
def proving(dsn: str | None) -> Iterator[None]:
    """Make failing plan checks inside the block prove a fix (the plugin's option)."""
    token = _current.set(ProofSettings(dsn))
    try:
        yield
    finally:
        _current.reset(token)


def enabled(*, explicit: bool | None) -> bool:
    """An explicit ``prove_fixes`` wins; None follows the plugin option."""
    return explicit if explicit is not None else _current.get() is not None


@contextlib.contextmanager
def _connection(conn: Any) -> Iterator[Any]:
    if conn is not None:
        yield conn
        return
    settings = _current.get()
    if settings is None or not settings.dsn:
        yield None
        return
    import psycopg

    with psycopg.connect(settings.dsn) as own:
        yield own


def _statistics_advice(report: Report) -> list[str]:
    # every severity: a misestimate too small to warn about on its own still explains why the
    # advisor could not prove an index (its costs rest on the same estimates)
    lines = []
    for finding in report.findings:
        if finding.rule == "row-misestimate" and finding.suggestion:
            lines.append(f"  statistics: {finding.message}")
            lines.append(f"    do: {finding.suggestion}")
    return lines[:4]


def _cost(value: float | None) -> str:
    return "?" if value is None else f"{value:,.2f}"


def _index_lines(conn: Any, plan: Plan) -> list[str]:
    from planalyzer.advisor.advise import advise
    from planalyzer.errors import PlanalyzerError

    try:
        advice = advise(conn, [plan])
    except PlanalyzerError as err:
        return [f"  no index proposed: {str(err).splitlines()[0]}"]
    proven = [r for r in advice.recommendations if r.verifiable]
    if not proven:
        lines = ["  no index proven to help this statement"]
        for rejection in advice.rejected[:2]:
            reason = " ".join(rejection.reason.split())
            reason = reason if len(reason) <= 240 else reason[:239] + "…"
            lines.append(f"    {rejection.candidate.definition}: {rejection.code}: {reason}")
        return lines
    lines = []
    for rec in proven[:2]:
        ratio = (
            f", {rec.cost_before / rec.cost_after:,.1f}× cheaper"
            if rec.cost_before and rec.cost_after
            else ""
        )
        lines.append(f"  {rec.create_sql.strip()}")
        lines.append(
            f"    planner cost {_cost(rec.cost_before)} → {_cost(rec.cost_after)} with it"
            f" (HypoPG{ratio})"
        )
    return lines


def proof_lines(plan: Plan, conn: Any, report: Report) -> list[str]:
    """The proven-fix section of a failure message for ``plan`` (empty when not applicable).

    Args:
        plan: the checked plan; needs its ``sql`` (a plan from ``pa.explain``).
        conn: the psycopg connection to prove on, or None for the plugin's ``planalyzer_dsn``.
        report: the plan's findings (for the statistics advice).
    """
    lines = ["", "proven fix (planalyzer advisor, HypoPG; nothing was created):"]
    if plan.sql is None:
        return [*lines, "  not available: the plan carries no statement (use pa.explain)"]
    with contextlib.ExitStack() as stack:
        try:
            live = stack.enter_context(_connection(conn))
        except Exception as err:  # a connection failure must not hide the test's own failure
            return [*lines, f"  not available: cannot connect: {str(err).strip()[:200]}"]
        if live is None:
            return [
                *lines,
                "  not available: no connection; pass conn= to assert_plan or set planalyzer_dsn",
            ]
        lines.extend(_index_lines(live, plan))
    lines.extend(_statistics_advice(report))
    return lines
