"""The catalog lookups behind `planalyzer.live.side_effects.assess`, on a live connection.

Every query reads ``pg_catalog`` only, with names passed as parameters (never pasted into the
SQL), and runs inside the caller's rolled-back block, so nothing here changes the database.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from planalyzer.live.calls import WriteTarget
from planalyzer.live.side_effects import FunctionInfo, SequenceRef, TableFacts, TriggerInfo

__all__ = ["LiveSideEffectCatalog"]

_SQL_BODY_SINCE = 140000  # BEGIN ATOMIC / RETURN bodies (prosqlbody) exist from PostgreSQL 14

# Every function with one of the names, with its extension (the columns of `FunctionInfo`).
_FUNCTIONS = """
SELECT p.oid::int8, n.nspname, p.proname, p.provolatile::text, l.lanname, e.extname,
    p.pronargs::int, p.pronargdefaults::int, p.provariadic <> 0
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
LEFT JOIN pg_catalog.pg_depend d
    ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    AND d.refclassid = 'pg_catalog.pg_extension'::regclass
LEFT JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
WHERE p.proname = ANY(%s::text[])
"""

# Names as the parser wrote them are resolved along search_path, as the statement would.
_VIEWS = """
SELECT pg_catalog.format('%%I.%%I', n.nspname, c.relname), pg_catalog.pg_get_viewdef(c.oid)
FROM unnest(%s::text[], %s::text[]) AS t(sch, rel)
JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(CASE WHEN t.sch IS NULL
    THEN pg_catalog.quote_ident(t.rel)
    ELSE pg_catalog.quote_ident(t.sch) || '.' || pg_catalog.quote_ident(t.rel) END)
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v'
"""

_SEQUENCES = """
SELECT t.name, c.oid::int8, pg_catalog.format('%%I.%%I', n.nspname, c.relname)
FROM unnest(%s::text[]) AS t(name)
JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(t.name)
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S'
"""

_TABLE = """
SELECT c.oid::int8, pg_catalog.format('%%I.%%I', n.nspname, c.relname)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = pg_catalog.to_regclass(CASE WHEN %(schema)s::text IS NULL
    THEN pg_catalog.quote_ident(%(rel)s::text)
    ELSE pg_catalog.quote_ident(%(schema)s::text) || '.' || pg_catalog.quote_ident(%(rel)s::text)
    END)
"""

_DEFAULTS = """
SELECT a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
FROM pg_catalog.pg_attrdef d
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = %s::oid AND NOT a.attisdropped
ORDER BY a.attnum
"""

# Sequences owned by the table's columns: identity (deptype 'i') and serial/OWNED BY ('a').
_OWNED_SEQUENCES = """
SELECT s.oid::int8, pg_catalog.format('%%I.%%I', n.nspname, s.relname)
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace
WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
  AND d.refobjid = %s::oid AND d.deptype IN ('a', 'i')
ORDER BY s.oid
"""

# Enabled triggers of the table and of its partitions / child tables (a partition's clone of a
# parent trigger is reported once, under the nearest table). Internal foreign-key triggers are
# returned too; their functions live in pg_catalog, which the caller skips.
_TRIGGERS = """
WITH RECURSIVE tree(oid, level) AS (
    SELECT %s::oid, 0
    UNION
    SELECT i.inhrelid, tree.level + 1 FROM pg_catalog.pg_inherits i
    JOIN tree ON i.inhparent = tree.oid WHERE tree.level < 100
)
SELECT DISTINCT ON (t.tgname, t.tgfoid)
    t.tgname, pg_catalog.format('%%I.%%I', tn.nspname, tc.relname), t.tgtype::int,
    p.oid::int8, n.nspname, p.proname, p.provolatile::text, l.lanname, e.extname,
    p.pronargs::int, p.pronargdefaults::int, p.provariadic <> 0
FROM pg_catalog.pg_trigger t
JOIN tree ON tree.oid = t.tgrelid
JOIN pg_catalog.pg_class tc ON tc.oid = t.tgrelid
JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
LEFT JOIN pg_catalog.pg_depend d
    ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    AND d.refclassid = 'pg_catalog.pg_extension'::regclass
LEFT JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
WHERE t.tgenabled <> 'D'
ORDER BY t.tgname, t.tgfoid, tree.level
"""

# Foreign keys referencing the table, with their actions (pg_constraint.confdeltype/confupdtype:
# c cascade, n set null, d set default; a no action and r restrict write nothing).
_REFERENCING = """
SELECT n.nspname, c.relname, f.confdeltype::text, f.confupdtype::text
FROM pg_catalog.pg_constraint f
JOIN pg_catalog.pg_class c ON c.oid = f.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE f.contype = 'f' AND f.confrelid = %s::oid
ORDER BY n.nspname, c.relname
"""

# Bits of pg_trigger.tgtype (src/include/catalog/pg_trigger.h).
_TRIGGER_EVENTS = {4: "INSERT", 8: "DELETE", 16: "UPDATE", 32: "TRUNCATE"}


class LiveSideEffectCatalog:
    """`SideEffectCatalog` reading pg_proc, pg_class, pg_trigger ... on ``conn``.

    Args:
        conn: the connection the statement will run on (its search_path is the one used).
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _rows(self, query: str, params: Any) -> list[tuple[Any, ...]]:
        with self._conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(query, params, prepare=False)
            return cur.fetchall()

    def search_path(self) -> tuple[str, ...]:
        """``current_schemas(true)`` without the temporary schema (never searched for functions)."""
        rows = self._rows("SELECT pg_catalog.current_schemas(true)", None)
        schemas: list[str] = rows[0][0] if rows else []
        return tuple(s for s in schemas if not s.startswith("pg_temp"))

    def functions(self, names: Collection[str]) -> list[FunctionInfo]:
        """Every pg_proc row with one of the names, with its extension."""
        return [_function(row) for row in self._rows(_FUNCTIONS, [sorted(names)])]

    def function_bodies(self, oids: Collection[int]) -> dict[int, str]:
        """Body text of the SQL and PL/pgSQL functions among ``oids``.

        SQL functions give ``prosrc`` (the whole definition for SQL-standard bodies); PL/pgSQL
        ones their whole ``CREATE FUNCTION`` text, which is what pglast's PL/pgSQL parser reads.
        """
        if self._conn.info.server_version >= _SQL_BODY_SINCE:
            sql_text = "CASE WHEN p.prosqlbody IS NULL THEN p.prosrc ELSE {whole} END"
        else:
            sql_text = "p.prosrc"
        whole = "pg_catalog.pg_get_functiondef(p.oid)"
        text = f"CASE WHEN l.lanname = 'sql' THEN {sql_text.format(whole=whole)} ELSE {whole} END"
        query = (
            f"SELECT p.oid::int8, {text} FROM pg_catalog.pg_proc p"  # noqa: S608 - fixed text
            " JOIN pg_catalog.pg_language l ON l.oid = p.prolang"
            " WHERE p.oid = ANY(%s::oid[]) AND l.lanname IN ('sql', 'plpgsql')"
        )
        return {int(oid): body for oid, body in self._rows(query, [sorted(oids)]) if body}

    def sequences(self, names: Collection[str]) -> dict[str, SequenceRef]:
        """The sequences the texts name, resolved as ``nextval(text)`` would resolve them."""
        rows = self._rows(_SEQUENCES, [sorted(names)])
        return {name: SequenceRef(int(oid), qualified) for name, oid, qualified in rows}

    def views(self, names: Collection[tuple[str | None, str]]) -> dict[str, str]:
        """Qualified name -> query of each plain view among the relations."""
        ordered = sorted(names, key=lambda n: (n[0] or "", n[1]))
        schemas = [schema for schema, _ in ordered]
        relations = [relation for _, relation in ordered]
        return {str(name): str(text) for name, text in self._rows(_VIEWS, [schemas, relations])}

    def table(self, target: WriteTarget) -> TableFacts | None:
        """Defaults, owned sequences and triggers of the written table, or None if not found."""
        rows = self._rows(_TABLE, {"schema": target.schema, "rel": target.table})
        if not rows:
            return None
        oid, name = int(rows[0][0]), str(rows[0][1])
        defaults = tuple((str(c), str(e)) for c, e in self._rows(_DEFAULTS, [oid]) if e)
        sequences = tuple(
            SequenceRef(int(o), str(q)) for o, q in self._rows(_OWNED_SEQUENCES, [oid])
        )
        triggers = tuple(
            TriggerInfo(
                name=str(row[0]),
                table=str(row[1]),
                events=frozenset(e for bit, e in _TRIGGER_EVENTS.items() if int(row[2]) & bit),
                function=_function(row[3:]),
            )
            for row in self._rows(_TRIGGERS, [oid])
        )
        cascades = tuple(
            (event, write)
            for schema, table, on_delete, on_update in self._rows(_REFERENCING, [oid])
            for event, action in (("DELETE", on_delete), ("UPDATE", on_update))
            if (write := _cascade(schema, table, event, action)) is not None
        )
        return TableFacts(name, defaults, sequences, triggers, cascades)


def _cascade(schema: str, table: str, event: str, action: str) -> WriteTarget | None:
    """The write a foreign-key action makes on the referencing table, or None."""
    if action == "c":
        return WriteTarget(schema, table, frozenset({event}))
    if action in ("n", "d"):  # SET NULL / SET DEFAULT update the referencing rows
        return WriteTarget(schema, table, frozenset({"UPDATE"}), set_default=action == "d")
    return None


def _function(row: tuple[Any, ...]) -> FunctionInfo:
    oid, schema, name, volatility, language, extension, nargs, ndefaults, variadic = row
    return FunctionInfo(
        oid=int(oid),
        schema=str(schema),
        name=str(name),
        volatility=str(volatility),
        language=str(language),
        extension=extension,
        nargs=int(nargs),
        nargdefaults=int(ndefaults),
        variadic=bool(variadic),
    )
