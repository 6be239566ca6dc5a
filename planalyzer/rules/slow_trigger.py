"""Triggers, often foreign-key checks, took a large share of the statement's time.

Why it matters: trigger time is not part of any plan node; EXPLAIN ANALYZE lists it separately
(``Triggers``), so it is easy to miss that a fast-looking plan spent most of its time there.
The classic case is a foreign key: deleting or updating a row of the referenced table fires
``RI_ConstraintTrigger_a_...`` on that table, which looks for referencing rows in the other
table, once per row. Without an index on the referencing column every lookup is a sequential
scan of the referencing table. PostgreSQL indexes the referenced key (it must be unique) but
never the referencing column.

What to do: for such a foreign-key trigger, index the referencing column (``CREATE INDEX
CONCURRENTLY ON child (fk_column)``). EXPLAIN names the constraint, not the referencing table: the
finding reads it from PostgreSQL's default constraint name ``<table>_<column>_fkey`` when it has
that shape, and gives the catalog query that resolves it for certain; with a catalog
(``pa.analyze(plan, catalog=pa.catalog(conn))``) the finding names the referencing table and columns
itself, or the index that already covers them. Any trigger with a constraint name other than the
referencing side's check is treated as such a foreign-key action (the index, not a statement-level
trigger, is the fix). For other triggers, look at the trigger function: work done per row that could
be done once per statement (a statement-level trigger with transition tables), or queries inside it
that need an index of their own.

Not reported: plans without ANALYZE (triggers are only timed then); triggers taking less than
``min_trigger_ms`` in all or less than ``warning_share_ratio`` of the execution time. Info only
when each call is cheap (``cheap_call_ms``): then the row count, not the trigger, is the cost. The
finding is statement-level (no node): triggers run after the plan's nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from planalyzer.plan.model import Trigger
from planalyzer.rules._catalog import referencing_index
from planalyzer.rules._spec import (
    Rule,
    RuleContext,
    Thresholds,
    escalate,
    fmt_ms,
    fmt_pct,
    fmt_rows,
)
from planalyzer.rules.finding import Finding, Severity


class SlowTriggerThresholds(Thresholds):
    """How much trigger time, absolute and relative, makes a finding."""

    min_trigger_ms: float = Field(
        10.0,
        description="Ignore a trigger whose calls took less than this many ms in all.",
    )
    warning_share_ratio: float = Field(
        0.1,
        description="Warning when one trigger takes at least this share of the execution time "
        "(the 10 % band of plan visualisers).",
    )
    critical_share_ratio: float = Field(
        0.4,
        description="Critical from this share of the execution time (the 40 % band).",
    )
    cheap_call_ms: float = Field(
        0.05,
        description="Info only when a call averages below this (50 microseconds): an empty "
        "PL/pgSQL row trigger costs a few microseconds and an indexed FK check tens, so the "
        "time comes from the number of rows, not from work that could be indexed away.",
    )


_RI_ACTION = "RI_ConstraintTrigger_a_"  # on the referenced table: fires on its DELETE/UPDATE
_RI_CHECK = "RI_ConstraintTrigger_c_"  # on the referencing table: fires on its INSERT/UPDATE
_DEFAULT_FK_NAME = re.compile(r"^([^_]+)_(.+)_fkey\d*$")


def _guess_referencing(constraint: str | None) -> tuple[str, str] | None:
    """(table, column) from a default FK name ``orders_customer_id_fkey``; a guess only."""
    if not constraint:
        return None
    match = _DEFAULT_FK_NAME.match(constraint)
    return (match.group(1), match.group(2)) if match else None


def _describe(trigger: Trigger, catalog: Any = None) -> tuple[str, str]:
    """The trigger's subject for the message and the suggestion for its kind."""
    name = trigger.trigger_name or "trigger"
    constraint = trigger.constraint_name
    on = f" on {trigger.relation}" if trigger.relation else ""
    table, columns, covering = referencing_index(catalog, constraint)
    if table and not name.startswith(_RI_CHECK):
        # The catalog names the referencing side for certain (a renamed or non-default FK too).
        label = f"Foreign-key trigger for {constraint}{on}"
        cols = ", ".join(columns)
        if covering:
            return label, (
                f"{table} ({cols}) is already indexed by {covering}: the time comes from the "
                "number of rows deleted or updated, or from lock waits on the referencing rows."
            )
        return label, (
            f"Each row deleted or updated in {trigger.relation or 'the referenced table'} makes "
            f"PostgreSQL look for referencing rows in {table}, which has no index on ({cols}): a "
            f"scan per row. Index the referencing column: CREATE INDEX CONCURRENTLY ON {table} "
            f"({cols})."
        )
    # A constraint name marks a constraint trigger; unless it is the FK check on the
    # referencing side (RI_ConstraintTrigger_c_), it is the FK action on the referenced table.
    if name.startswith(_RI_ACTION) or (constraint and not name.startswith(_RI_CHECK)):
        label = f"Foreign-key trigger for {constraint or name}{on}"
        quoted = (constraint or "").replace("'", "''")
        # Text for the user to run by hand, never executed here; the literal is quoted.
        lookup = (
            "SELECT conrelid::regclass AS referencing_table, conkey FROM pg_constraint "  # noqa: S608
            f"WHERE conname = '{quoted}'"
            if constraint
            else "pg_constraint (confrelid = the referenced table)"
        )
        guess = _guess_referencing(constraint)
        if guess is not None:
            table, column = guess
            target = (
                f"by PostgreSQL's default naming the referencing side is probably "
                f"{table}({column}): CREATE INDEX CONCURRENTLY ON {table} ({column})"
            )
        else:
            target = "CREATE INDEX CONCURRENTLY ON <referencing table> (<its FK column>)"
        return label, (
            f"Each row deleted or updated in {trigger.relation or 'the referenced table'} "
            "makes PostgreSQL look for referencing rows; without an index on the referencing "
            f"column that is a scan per row. Index it: {target} (confirm with {lookup})."
        )
    if name.startswith(_RI_CHECK):
        label = f"Foreign-key check trigger for {constraint or name}{on}"
        return label, (
            "Each inserted or updated row looks up its referenced row; that is usually an "
            "index probe, so slowness here points to very many rows (load in bulk with the "
            "constraint added afterwards) or lock waits on the referenced rows."
        )
    return f"Trigger {name}{on}", (
        "Look at the trigger function: move per-row work to a statement-level trigger with "
        "transition tables, and check that queries inside it have the indexes they need."
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a statement-level finding for each trigger taking a large share of the time."""
    t: SlowTriggerThresholds = ctx.thresholds
    total = ctx.plan.total_time_ms
    if not total:
        return
    for trigger in ctx.plan.triggers or ():
        ms = trigger.time_ms
        if ms is None or ms < t.min_trigger_ms:
            continue
        share = min(ms / total, 1.0)
        if share < t.warning_share_ratio:
            continue
        calls = trigger.calls
        per_call = ms / calls if calls else None
        label, suggestion = _describe(trigger, ctx.catalog)
        per = f" ({fmt_ms(per_call)} per call)" if per_call is not None else ""
        count = f" over {fmt_rows(calls)} calls" if calls is not None else ""
        yield ctx.finding(
            None,
            message=(
                f"{label} took {fmt_ms(ms)}{count}{per}, {fmt_pct(share)} of the "
                f"{fmt_ms(total)} execution time."
            ),
            evidence={
                "trigger_name": trigger.trigger_name,
                "constraint_name": trigger.constraint_name,
                "relation": trigger.relation,
                "trigger_time_ms": ms,
                "calls_count": calls,
                "per_call_ms": per_call,
                "execution_time_ms": total,
                "trigger_share_ratio": share,
            },
            suggestion=suggestion,
            impact_ms=ms,
            severity=(
                Severity.INFO
                if per_call is not None and per_call < t.cheap_call_ms
                else escalate(
                    share,
                    warning_at=t.warning_share_ratio,
                    critical_at=t.critical_share_ratio,
                    below=Severity.WARNING,
                )
            ),
        )


RULE = Rule(
    id="slow-trigger",
    severity=Severity.WARNING,
    summary="Triggers (often foreign-key checks) take much of the time",
    check=check,
    thresholds=SlowTriggerThresholds,
    needs_analyze=True,
)
