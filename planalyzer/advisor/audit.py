"""`audit`: review the indexes a database already has.

Four findings, each with the SQL that acts on it:

- **duplicate**: two indexes with the same method, key (columns, order, NULLS placement),
  INCLUDE list and predicate; every one but the one to keep is pure write and space overhead.
- **redundant**: a non-unique B-tree whose key is a leading prefix of another B-tree's key
  (same directions, neither partial): the longer index serves every lookup the shorter one
  does. The shorter one is smaller, so scans of it can be a little cheaper; that is rarely worth
  a second index.
- **unused**: ``idx_scan = 0`` since the statistics were last reset (the report gives the
  time), neither unique nor primary (those enforce a constraint even when never scanned).
  Caveats: scans on standbys are counted on the standby only, and an index used monthly may
  not have been used yet since the reset.
- **unindexed foreign key**: a foreign key whose columns do not lead any valid, non-partial
  index; deleting or updating a referenced row then scans the referencing table, and joins on
  the key cannot use an index.
- **invalid**: an index left INVALID by a failed ``CREATE INDEX CONCURRENTLY``; it costs
  writes and is never used.

Unique and primary-key indexes are never proposed for dropping: they back constraints (drop the
constraint instead, if that is really meant).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import psycopg
from pydantic import BaseModel, ConfigDict, Field

from planalyzer.advisor.candidates import normalise_predicate
from planalyzer.advisor.dbfacts import read_database_facts
from planalyzer.advisor.migration import create_statements, drop_statements, index_name
from planalyzer.advisor.model import IndexCandidate, KeyColumn
from planalyzer.live.catalog import IndexFacts, TableFacts, catalog

__all__ = ["AuditFinding", "AuditReport", "audit"]


class AuditFinding(BaseModel):
    """One thing the audit found.

    Attributes:
        kind: ``duplicate``, ``redundant``, ``unused``, ``unindexed-fk`` or ``invalid``.
        table: the schema-qualified table.
        index: the index concerned (None for an unindexed foreign key).
        message: one sentence with the figures.
        sql: the statement that acts on it (DROP or CREATE INDEX CONCURRENTLY).
        size_bytes: the index's size (what a drop reclaims).
        related: the other index involved (the one kept, or the longer one).
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    table: str
    index: str | None
    message: str
    sql: str
    size_bytes: int | None = None
    related: str | None = None


class AuditReport(BaseModel):
    """The result of `audit`."""

    model_config = ConfigDict(frozen=True)

    findings: tuple[AuditFinding, ...] = ()
    stats_reset: dt.datetime | None = Field(
        None, description="when index usage counters were last reset (None: never)"
    )

    def by_kind(self, kind: str) -> list[AuditFinding]:
        """The findings of one kind."""
        return [f for f in self.findings if f.kind == kind]

    @property
    def reclaimable_bytes(self) -> int:
        """Size of the duplicate, redundant and invalid indexes (unused ones are a judgement)."""
        return sum(
            f.size_bytes or 0
            for f in self.findings
            if f.kind in ("duplicate", "redundant", "invalid")
        )

    def __str__(self) -> str:
        lines = [f"Index audit: {len(self.findings)} finding(s)"]
        since = self.stats_reset.isoformat() if self.stats_reset else "the statistics began"
        for finding in self.findings:
            lines.append(f"- [{finding.kind}] {finding.message}")
            statements = [line for line in finding.sql.splitlines() if not line.startswith("--")]
            shown = statements[0] if len(statements) == 1 else f"({len(statements)} statements)"
            lines.append(f"    {shown}")
        if self.by_kind("unused"):
            lines.append(
                f"note: 'unused' counts scans since {since}, on this server only (standbys "
                "count their own); check before dropping an index used by rare jobs."
            )
        return "\n".join(lines)


def audit(conn: psycopg.Connection[Any], tables: Iterable[str] | None = None) -> AuditReport:
    """Report duplicate, redundant, unused and invalid indexes and unindexed foreign keys.

    Args:
        conn: a psycopg 3 connection; only reads the catalog and statistics views.
        tables: limit the audit to these tables (default: every user table).

    Returns:
        The findings, each with DROP or CREATE INDEX CONCURRENTLY text.

    Example (needs a server, so not a doctest)::

        report = audit(conn)
        for f in report.by_kind("unindexed-fk"):
            print(f.sql)   # CREATE INDEX CONCURRENTLY "idx_orders_customer_id" ON ...
    """
    facts = catalog(conn, tables)
    db = read_database_facts(conn)
    findings: list[AuditFinding] = []
    for table in facts.tables:
        findings += _invalid(table)
        duplicates = _duplicates(table)
        findings += duplicates
        dropped = {f.index for f in duplicates}
        findings += _redundant(table, dropped)
        table_findings = [f for f in findings if f.table == table.qualified_name]
        dropped |= {f.index for f in table_findings}
        kept = {f.related for f in table_findings if f.related is not None}
        findings += _unused(table, dropped, kept, db.stats_reset)
        findings += _unindexed_foreign_keys(table)
    return AuditReport(findings=tuple(findings), stats_reset=db.stats_reset)


def _signature(index: IndexFacts) -> tuple[Any, ...]:
    keys = tuple((c.expression, c.descending, c.nulls_first) for c in index.columns)
    return (index.method, keys, tuple(index.include), normalise_predicate(index.predicate))


def _droppable(index: IndexFacts) -> bool:
    return not (index.unique or index.primary)


def _drop(table: TableFacts, index: IndexFacts) -> str:
    return drop_statements(table.qualified_name, index.name, partitioned=table.partitioned)


def _keep_first(index: IndexFacts) -> tuple[Any, ...]:
    """Which of several identical indexes to keep: constraint-backing, then used, then name."""
    return (not index.primary, not index.unique, -index.idx_scan, index.name)


def _invalid(table: TableFacts) -> list[AuditFinding]:
    return [
        AuditFinding(
            kind="invalid",
            table=table.qualified_name,
            index=index.name,
            message=(
                f"{index.name} on {table.qualified_name} is INVALID (a failed CREATE INDEX "
                "CONCURRENTLY?): never used, still maintained on every write"
            ),
            sql=_drop(table, index),
            size_bytes=index.size_bytes,
        )
        for index in table.indexes
        if not index.valid
    ]


def _duplicates(table: TableFacts) -> list[AuditFinding]:
    groups: dict[tuple[Any, ...], list[IndexFacts]] = {}
    for index in table.indexes:
        if index.valid:
            groups.setdefault(_signature(index), []).append(index)
    found = []
    for members in groups.values():
        if len(members) < 2:
            continue
        keep, *others = sorted(members, key=_keep_first)
        for index in others:
            if not _droppable(index):
                continue
            found.append(
                AuditFinding(
                    kind="duplicate",
                    table=table.qualified_name,
                    index=index.name,
                    related=keep.name,
                    message=(
                        f"{index.name} duplicates {keep.name} on {table.qualified_name} "
                        f"({index.size_bytes:,} bytes, {index.idx_scan:,} scans)"
                    ),
                    sql=_drop(table, index),
                    size_bytes=index.size_bytes,
                )
            )
    return found


def _redundant(table: TableFacts, dropped: set[str | None]) -> list[AuditFinding]:
    found = []
    btrees = [
        i
        for i in table.indexes
        if i.valid and i.method == "btree" and i.predicate is None and i.name not in dropped
    ]
    for short in btrees:
        if not _droppable(short):
            continue
        short_keys = [(c.expression, c.descending, c.nulls_first) for c in short.columns]
        for long in btrees:
            if long is short or len(long.columns) <= len(short.columns):
                continue
            long_keys = [(c.expression, c.descending, c.nulls_first) for c in long.columns]
            if long_keys[: len(short_keys)] != short_keys:
                continue
            found.append(
                AuditFinding(
                    kind="redundant",
                    table=table.qualified_name,
                    index=short.name,
                    related=long.name,
                    message=(
                        f"{short.name} ({', '.join(k[0] for k in short_keys)}) is a prefix of "
                        f"{long.name} ({', '.join(k[0] for k in long_keys)}) on "
                        f"{table.qualified_name}: the longer index serves the same lookups "
                        f"({short.size_bytes:,} bytes, {short.idx_scan:,} scans)"
                    ),
                    sql=_drop(table, short),
                    size_bytes=short.size_bytes,
                )
            )
            break
    return found


def _leads_with(index: IndexFacts, columns: list[str]) -> bool:
    """True when the index's first keys are exactly ``columns`` (in any order)."""
    width = len(columns)
    lead = {c.expression for c in index.columns[:width]}
    return len(index.columns) >= width and lead == set(columns)


def _supports_foreign_key(table: TableFacts, index: IndexFacts, dropped: set[str | None]) -> bool:
    """True when ``index`` is the last remaining index that leads with a foreign key's columns.

    Such an index may show no scans (the referenced table rarely deletes) and still be what
    keeps a DELETE on the referenced table from scanning this one.
    """
    for fk in table.foreign_keys:
        columns = list(fk.columns)
        if not _leads_with(index, columns):
            continue
        others = (i for i in table.indexes if i is not index and i.name not in dropped)
        if not any(_leads_with(other, columns) for other in others):
            return True
    return False


def _unused(
    table: TableFacts,
    dropped: set[str | None],
    kept: set[str],
    stats_reset: dt.datetime | None,
) -> list[AuditFinding]:
    """Indexes never scanned, except those other findings keep or a foreign key relies on."""
    since = f"since {stats_reset:%Y-%m-%d %H:%M}" if stats_reset else "since statistics began"
    dropped_too = set(dropped)
    found = []
    for index in table.indexes:
        if not (index.valid and index.idx_scan == 0 and _droppable(index)):
            continue
        if index.name in dropped_too or index.name in kept:
            continue  # already dropped by another finding, or the one a drop relies on
        if _supports_foreign_key(table, index, dropped_too):
            continue
        dropped_too.add(index.name)
        found.append(
            AuditFinding(
                kind="unused",
                table=table.qualified_name,
                index=index.name,
                message=(
                    f"{index.name} on {table.qualified_name} has not been scanned {since} "
                    f"({index.size_bytes:,} bytes)"
                ),
                sql=_drop(table, index),
                size_bytes=index.size_bytes,
            )
        )
    return found


def _unindexed_foreign_keys(table: TableFacts) -> list[AuditFinding]:
    found = []
    for fk in table.foreign_keys:
        if fk.indexed:
            continue
        candidate = IndexCandidate(
            table=table.qualified_name,
            columns=tuple(KeyColumn(name=c) for c in fk.columns),
            equality_columns=len(fk.columns),
        )
        name = index_name(candidate)
        found.append(
            AuditFinding(
                kind="unindexed-fk",
                table=table.qualified_name,
                index=None,
                message=(
                    f"foreign key {fk.name} ({', '.join(fk.columns)}) → "
                    f"{fk.referenced_schema}.{fk.referenced_table} has no index: deleting or "
                    "updating a referenced row scans the whole table"
                ),
                sql=create_statements(candidate, name, table.partitions),
            )
        )
    return found
