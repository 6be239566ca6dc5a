"""Query budgets and N+1 detection over captured statements, with failure texts that say where.

An N+1 is the same query (same fingerprint, other values) sent again and again from one line
of application code: a loop over rows, each fetching its related row. The failure names that
line, the statement and the count, and says how to fetch everything in one query for the
library that sent it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from planalyzer.testing._messages import PlanAssertionError

__all__ = ["DEFAULT_N_PLUS_ONE", "max_queries_failure", "n_plus_one_failure", "repeated_groups"]

DEFAULT_N_PLUS_ONE = 5
"""Runs of one query from one call site that count as an N+1 by default (a loop over a page of
rows; 2-3 repeats are often a legitimate retry or a before/after read)."""

_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "START", "END")
_MAX_GROUPS = 8
_MAX_SQL = 300

_BATCH_HINTS = {
    "sqlalchemy": (
        "load the related rows with the first query: selectinload() / joinedload() on the "
        "relationship (or lazy='selectin'), or one query with WHERE id = ANY(:ids)"
    ),
    "django": (
        "load the related rows with the first query: select_related() for foreign keys, "
        "prefetch_related() for reverse and many-to-many relations, or filter(id__in=ids)"
    ),
    "psycopg": (
        "fetch them in one statement: a JOIN, or WHERE id = ANY(%s) with the list of keys; "
        "for writes, executemany() in pipeline mode or one multi-row INSERT/COPY"
    ),
}


def _sql(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_SQL else flat[: _MAX_SQL - 1] + "…"


def _params(statements: Sequence[Any], limit: int = 3) -> str:
    shown = [repr(s.params)[:80] for s in statements[:limit] if s.params is not None]
    if not shown:
        return ""
    more = f" … ({len(statements) - limit} more)" if len(statements) > limit else ""
    return ", ".join(shown) + more


def _is_transaction_control(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in _TRANSACTION_CONTROL if sql.strip() else True


def repeated_groups(statements: Sequence[Any], threshold: int) -> list[list[Any]]:
    """Statements grouped by (fingerprint, call site): groups of ``threshold`` or more.

    Largest first; transaction control is left out.
    """
    groups: dict[tuple[str, str | None], list[Any]] = {}
    for statement in statements:
        if _is_transaction_control(statement.sql):
            continue
        groups.setdefault((statement.fingerprint, statement.call_site), []).append(statement)
    found = [group for group in groups.values() if len(group) >= threshold]
    return sorted(found, key=lambda g: -len(g))


def _site(statement: Any) -> str:
    if statement.call_site is None:
        return "unknown call site"
    return f"{statement.call_site} (in {statement.function})"


def n_plus_one_failure(
    statements: Sequence[Any], threshold: int, *, source: str = ""
) -> PlanAssertionError | None:
    """The N+1 failure for these statements, or None.

    Args:
        statements: `CapturedStatement` objects, in the order sent.
        threshold: runs of one query from one call site that fail.
        source: what set the threshold (named in the message), e.g. the marker.
    """
    if threshold < 2:
        raise ValueError(f"the N+1 threshold must be 2 or more, got {threshold}")
    groups = repeated_groups(statements, threshold)
    if not groups:
        return None
    setter = f"{source}: " if source else ""
    head = (
        f"{setter}N+1 queries: {len(groups)} statement{'s' if len(groups) != 1 else ''} ran"
        f" {threshold} times or more from one call site ({len(statements)} statements captured)"
    )
    parts = [head]
    for number, group in enumerate(groups[:_MAX_GROUPS], start=1):
        first = group[0]
        parts.append(f"\n[{number}] {len(group)} × {_sql(first.sql)}")
        parts.append(f"    call site: {_site(first)}")
        params = _params(group)
        if params:
            parts.append(f"    params:    {params}")
        hint = _BATCH_HINTS.get(first.source, _BATCH_HINTS["psycopg"])
        parts.append(f"    fix:       {hint}")
    if len(groups) > _MAX_GROUPS:
        parts.append(f"\n... and {len(groups) - _MAX_GROUPS} more repeated statements")
    expectation = f"no statement run {threshold} times or more from one call site"
    found = [f"{len(g)} × {_sql(g[0].sql)} at {_site(g[0])}" for g in groups]
    return PlanAssertionError("\n".join(parts), expectation=expectation, found=found)


def max_queries_failure(
    statements: Sequence[Any], limit: int, *, source: str = ""
) -> PlanAssertionError | None:
    """The query-budget failure when more than ``limit`` statements were sent, or None."""
    if len(statements) <= limit:
        return None
    groups: dict[str, list[Any]] = {}
    for statement in statements:
        groups.setdefault(statement.fingerprint, []).append(statement)
    ordered = sorted(groups.values(), key=lambda g: -len(g))
    setter = f"{source}: " if source else ""
    parts = [
        f"{setter}{len(statements)} statements were sent, the budget is {limit}"
        f" ({len(statements) - limit} over); by query, most frequent first:"
    ]
    for group in ordered[:_MAX_GROUPS]:
        sites = sorted({_site(s) for s in group})
        where = sites[0] if len(sites) == 1 else f"{sites[0]} and {len(sites) - 1} more sites"
        parts.append(f"  {len(group):>4} × {_sql(group[0].sql)}\n         from {where}")
    if len(ordered) > _MAX_GROUPS:
        rest = sum(len(g) for g in ordered[_MAX_GROUPS:])
        parts.append(f"  ... {rest} more statements of {len(ordered) - _MAX_GROUPS} other queries")
    repeated = repeated_groups(statements, DEFAULT_N_PLUS_ONE)
    if repeated:
        parts.append(
            f"the biggest repeat, {len(repeated[0])} × from {_site(repeated[0][0])}, looks like"
            " an N+1: see assert_no_n_plus_one()"
        )
    return PlanAssertionError(
        "\n".join(parts),
        expectation=f"at most {limit} statements",
        found=[f"{len(statements)} statements"],
    )
