"""The few database facts only the advisor needs, beyond `planalyzer.live.catalog`.

Read-only, parameters bound, run in ``conn.transaction()`` (which leaves the connection's state as
found):
whether the database sorts in the C collation (then a plain B-tree serves ``LIKE 'abc%'``),
which extensions exist (``pg_trgm`` for trigram indexes), how much of each table the visibility
map marks all-visible (index-only scans need it), and when the statistics were last reset (an
"unused" index is only unused since then).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from planalyzer.advisor.size import ColumnLayout
from planalyzer.errors import DatabaseError

__all__ = ["DatabaseFacts", "read_database_facts"]


@dataclass(frozen=True)
class DatabaseFacts:
    """Database-wide facts for the advisor and the audit."""

    c_collation: bool
    extensions: frozenset[str]
    stats_reset: dt.datetime | None
    all_visible_fraction: dict[str, float] = field(default_factory=dict)
    """Per schema-qualified table: ``relallvisible / relpages`` (1.0 for an empty table)."""
    layouts: dict[str, dict[str, ColumnLayout]] = field(default_factory=dict)
    """Per schema-qualified table and column: ``typlen``, ``typalign``, type name (for sizes)."""
    opclasses: frozenset[tuple[str, str, str]] = frozenset()
    """Operator classes as ``(access method, opclass, input type)`` for the tables' column types,
    so a suggested index can be checked to build before it is recommended."""


_DATABASE_SQL = """
SELECT datcollate, (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
       ARRAY(SELECT extname::text FROM pg_extension)
FROM pg_database WHERE datname = current_database()
"""

_VISIBLE_SQL = """
SELECT format('%%s.%%s', n.nspname, c.relname),
       CASE WHEN c.relpages > 0 THEN c.relallvisible::float8 / c.relpages ELSE 1.0 END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE format('%%s.%%s', n.nspname, c.relname) = ANY(%s)
"""


_LAYOUT_SQL = """
SELECT format('%%s.%%s', n.nspname, c.relname), a.attname::text, t.typlen::int, t.typalign::text,
       t.typname::text
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
WHERE format('%%s.%%s', n.nspname, c.relname) = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
"""

# Every opclass whose input type is one of the tables' column types, or a pseudo-type that
# accepts it (anyarray for arrays): enough to tell whether "USING gin (col opclass)" builds.
_OPCLASS_SQL = """
SELECT DISTINCT am.amname::text, oc.opcname::text, format_type(a.atttypid, NULL)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_opclass oc ON oc.opcintype = a.atttypid
    OR (oc.opcintype = 'anyarray'::regtype AND t.typelem <> 0 AND t.typlen = -1)
    OR (oc.opcintype = 'text'::regtype AND a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype))
JOIN pg_am am ON am.oid = oc.opcmethod
WHERE format('%%s.%%s', n.nspname, c.relname) = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
"""


def read_database_facts(conn: psycopg.Connection[Any], tables: Iterable[str] = ()) -> DatabaseFacts:
    """Read collation, extensions, stats reset time and visibility for ``tables``.

    Raises:
        DatabaseError: a query failed.
    """
    names = sorted(set(tables))
    try:
        with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(_DATABASE_SQL, prepare=False)
            row = cur.fetchone()
            visible: dict[str, float] = {}
            if names:
                cur.execute(_VISIBLE_SQL, [names], prepare=False)
                visible = {name: float(fraction) for name, fraction in cur.fetchall()}
            layouts: dict[str, dict[str, ColumnLayout]] = {}
            opclasses: set[tuple[str, str, str]] = set()
            if names:
                cur.execute(_LAYOUT_SQL, [names], prepare=False)
                for table, column, typlen, typalign, typname in cur.fetchall():
                    layouts.setdefault(table, {})[column] = ColumnLayout(typlen, typalign, typname)
                cur.execute(_OPCLASS_SQL, [names], prepare=False)
                opclasses = {(am, name, typ) for am, name, typ in cur.fetchall()}
    except psycopg.Error as err:
        raise DatabaseError(
            "reading database facts for the advisor failed",
            sqlstate=err.sqlstate,
            server_message=err.diag.message_primary or str(err),
        ) from err
    collation, reset, extensions = row if row is not None else ("", None, [])
    return DatabaseFacts(
        c_collation=collation in ("C", "POSIX"),
        extensions=frozenset(extensions or ()),
        stats_reset=reset,
        all_visible_fraction=visible,
        layouts=layouts,
        opclasses=frozenset(opclasses),
    )
