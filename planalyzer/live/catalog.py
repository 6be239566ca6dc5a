"""Catalog facts a DBA looks up next to a plan: sizes, statistics, indexes, foreign keys, settings.

`catalog` reads them in one snapshot into frozen pydantic models, so the advisor and the rules
can reason about a table without a connection. Tables are resolved to OIDs first and every later
query filters by OID, so a table name never becomes SQL text: a name such as
``"orders; DROP TABLE x"`` is just a table that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field

from planalyzer.errors import DatabaseError
from planalyzer.live._errors import database_error
from planalyzer.live._session import check_usable, scoped

__all__ = [
    "CatalogFacts",
    "ColumnFacts",
    "ColumnStats",
    "ForeignKeyFacts",
    "IndexColumn",
    "IndexFacts",
    "PlannerSettings",
    "TableActivity",
    "TableFacts",
    "catalog",
]

# pg_index.indoption bits, from PostgreSQL's catalog/pg_index.h.
_INDOPTION_DESC = 0x0001
_INDOPTION_NULLS_FIRST = 0x0002


class _Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnStats(_Facts):
    """One column's row in ``pg_stats`` (what the planner knows about its values).

    Values are kept as the server's text, because their type is the column's and the planner
    compares them that way anyway.
    """

    null_frac: float
    n_distinct: float = Field(description="> 0: distinct count; < 0: minus the fraction of rows")
    most_common_vals: list[str] | None
    most_common_freqs: list[float] | None
    histogram_bounds: list[str] | None
    correlation: float | None = Field(description="physical vs logical order, -1..1")
    avg_width: int


class ColumnFacts(_Facts):
    """A table column and, when the table has been analyzed, its statistics."""

    name: str
    number: int = Field(description="pg_attribute.attnum")
    data_type: str
    not_null: bool
    stats: ColumnStats | None


class IndexColumn(_Facts):
    """One key column of an index, in index order."""

    expression: str = Field(description="the column name, or the indexed expression")
    attnum: int | None = Field(description="the table column number; None for an expression")
    descending: bool
    nulls_first: bool


class IndexFacts(_Facts):
    """An existing index."""

    name: str
    method: str = Field(description="access method: btree, hash, gin, gist, brin ...")
    columns: list[IndexColumn]
    include: list[str] = Field(description="INCLUDE columns (not part of the key)")
    predicate: str | None = Field(description="WHERE clause of a partial index")
    unique: bool
    primary: bool
    valid: bool = Field(description="False for an index left over by a failed CONCURRENTLY")
    size_bytes: int
    idx_scan: int = Field(description="scans since the statistics were last reset")
    definition: str

    @property
    def key_attnums(self) -> tuple[int | None, ...]:
        """The table column numbers of the key columns, None for expressions."""
        return tuple(column.attnum for column in self.columns)


class ForeignKeyFacts(_Facts):
    """A foreign key of the table and whether an index supports lookups by it."""

    name: str
    columns: list[str]
    referenced_schema: str
    referenced_table: str
    referenced_columns: list[str]
    covering_index: str | None = Field(
        description="a valid, non-partial index whose leading key columns are these columns"
    )

    @property
    def indexed(self) -> bool:
        """Whether deleting or updating a referenced row can find these rows through an index."""
        return self.covering_index is not None


class TableActivity(_Facts):
    """Counters from ``pg_stat_user_tables`` (since the statistics were last reset)."""

    seq_scan: int
    idx_scan: int | None
    n_tup_ins: int
    n_tup_upd: int
    n_tup_del: int
    n_live_tup: int
    n_dead_tup: int
    last_analyze: dt.datetime | None
    last_autoanalyze: dt.datetime | None


class TableFacts(_Facts):
    """Everything `catalog` knows about one table."""

    schema_name: str
    name: str
    partitioned: bool = Field(description="a partitioned parent (relkind 'p')")
    partitions: list[str] = Field(description="direct partitions, schema-qualified")
    row_estimate: float | None = Field(description="pg_class.reltuples; None if never analyzed")
    pages: int = Field(description="pg_class.relpages (8 kB blocks)")
    total_size_bytes: int = Field(description="table, TOAST and indexes; partitions included")
    table_size_bytes: int
    indexes_size_bytes: int
    owner: str
    owned_by_current_role: bool = Field(description="the current role is or acts as the owner")
    activity: TableActivity | None
    columns: list[ColumnFacts]
    indexes: list[IndexFacts]
    foreign_keys: list[ForeignKeyFacts]

    @property
    def qualified_name(self) -> str:
        """``schema.table`` (unquoted, for display and lookups)."""
        return f"{self.schema_name}.{self.name}"

    def column(self, name: str) -> ColumnFacts | None:
        """The column called ``name``, or None."""
        return next((column for column in self.columns if column.name == name), None)


class PlannerSettings(_Facts):
    """The server settings that most change plans, normalised to numbers."""

    server_version_num: int
    work_mem_bytes: int
    shared_buffers_bytes: int
    effective_cache_size_bytes: int
    random_page_cost: float
    seq_page_cost: float
    jit: bool
    jit_above_cost: float
    max_parallel_workers_per_gather: int
    default_statistics_target: int
    shown: dict[str, str] = Field(description="each setting as SHOW prints it, e.g. '4MB'")


class CatalogFacts(_Facts):
    """The result of `catalog`: facts per table plus the planner settings."""

    tables: list[TableFacts]
    settings: PlannerSettings

    def table(self, name: str) -> TableFacts | None:
        """The facts for ``name`` ("orders" or "public.orders"), or None if it was not read."""
        return next(
            (table for table in self.tables if name in (table.qualified_name, table.name)), None
        )


_SETTING_NAMES = (
    "server_version_num",
    "work_mem",
    "shared_buffers",
    "effective_cache_size",
    "random_page_cost",
    "seq_page_cost",
    "jit",
    "jit_above_cost",
    "max_parallel_workers_per_gather",
    "default_statistics_target",
)

_UNIT_BYTES = {"B": 1, "kB": 1024, "8kB": 8192, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def catalog(conn: psycopg.Connection[Any], tables: Iterable[str] | None = None) -> CatalogFacts:
    """Read catalog facts for ``tables`` (default: every user table) in one snapshot.

    Args:
        conn: a psycopg 3 connection; its transaction state is left as found.
        tables: names as ``"orders"`` (found through the search path) or ``"public.orders"``.
            They are matched exactly as stored in the catalog (no case folding, no quoting),
            because they are names, not SQL. None reads every ordinary and partitioned table
            outside the system schemas, partitions excluded (they are listed on their parent).

    Returns:
        Facts per table, in the order asked (or by schema and name), and planner settings.

    Raises:
        DatabaseError: a table does not exist, or the server failed a query.

    Example (needs a server, so not a doctest)::

        facts = catalog(conn, tables=["orders"])
        orders = facts.table("orders")
        [fk.columns for fk in orders.foreign_keys if not fk.indexed]   # [['customer_id']]
        orders.column("status").stats.most_common_vals                  # ['delivered', ...]
    """
    check_usable(conn, DatabaseError, "read catalog facts")
    try:
        with scoped(conn), conn.cursor(row_factory=dict_row) as cur:
            oids = _resolve(cur, tables)
            settings = _settings(cur)
            rows = _fetch(cur, _TABLES_SQL, oids)
            columns = _group(_fetch(cur, _COLUMNS_SQL, oids))
            indexes = _group(_fetch(cur, _INDEXES_SQL, oids))
            fkeys = _group(_fetch(cur, _FKEYS_SQL, oids))
    except psycopg.Error as err:
        raise database_error(err, "reading catalog facts") from err
    by_oid = {row["oid"]: row for row in rows}
    facts = [
        _table(by_oid[oid], columns.get(oid, []), indexes.get(oid, []), fkeys.get(oid, []))
        for oid in oids
        if oid in by_oid
    ]
    return CatalogFacts(tables=facts, settings=settings)


def _resolve(cur: psycopg.Cursor[dict[str, Any]], tables: Iterable[str] | None) -> list[int]:
    """Table names to OIDs, in the order given; raise naming every table not found."""
    if tables is None:
        cur.execute(_ALL_TABLES_SQL, prepare=False)
        return [row["oid"] for row in cur.fetchall()]
    names = [tables] if isinstance(tables, str) else list(tables)
    oids: list[int] = []
    missing: list[str] = []
    for name in names:
        schema, _, table = name.rpartition(".")
        cur.execute(_RESOLVE_SQL, {"schema": schema or None, "table": table}, prepare=False)
        row = cur.fetchone()
        if row is None:
            missing.append(name)
        elif row["oid"] not in oids:
            oids.append(row["oid"])
    if missing:
        raise DatabaseError(
            "no such table (ordinary or partitioned, visible on the search path when not "
            f"schema-qualified): {', '.join(repr(name) for name in missing)}"
        )
    return oids


def _fetch(cur: psycopg.Cursor[dict[str, Any]], query: str, oids: Sequence[int]) -> list[Any]:
    cur.execute(query, {"oids": list(oids)}, prepare=False)
    return cur.fetchall()


def _group(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Rows keyed by their ``relid`` column, keeping query order."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["relid"], []).append(row)
    return grouped


def _settings(cur: psycopg.Cursor[dict[str, Any]]) -> PlannerSettings:
    cur.execute(_SETTINGS_SQL, {"names": list(_SETTING_NAMES)}, prepare=False)
    rows = {row["name"]: row for row in cur.fetchall()}

    def number(name: str) -> float:
        return float(rows[name]["setting"])

    def size_bytes(name: str) -> int:
        row = rows[name]
        return int(row["setting"]) * _UNIT_BYTES.get(row["unit"] or "B", 1)

    return PlannerSettings(
        server_version_num=int(number("server_version_num")),
        work_mem_bytes=size_bytes("work_mem"),
        shared_buffers_bytes=size_bytes("shared_buffers"),
        effective_cache_size_bytes=size_bytes("effective_cache_size"),
        random_page_cost=number("random_page_cost"),
        seq_page_cost=number("seq_page_cost"),
        jit=rows["jit"]["setting"] == "on",
        jit_above_cost=number("jit_above_cost"),
        max_parallel_workers_per_gather=int(number("max_parallel_workers_per_gather")),
        default_statistics_target=int(number("default_statistics_target")),
        shown={name: row["shown"] for name, row in rows.items()},
    )


def _table(
    row: dict[str, Any],
    columns: list[dict[str, Any]],
    indexes: list[dict[str, Any]],
    fkeys: list[dict[str, Any]],
) -> TableFacts:
    index_facts = [_index(index) for index in indexes]
    activity = None
    if row["seq_scan"] is not None:
        activity = TableActivity(**{key: row[key] for key in TableActivity.model_fields})
    return TableFacts(
        schema_name=row["schema_name"],
        name=row["name"],
        partitioned=row["relkind"] == "p",
        partitions=row["partitions"],
        row_estimate=row["reltuples"] if row["reltuples"] >= 0 else None,
        pages=row["relpages"],
        total_size_bytes=row["total_size_bytes"],
        table_size_bytes=row["table_size_bytes"],
        indexes_size_bytes=row["indexes_size_bytes"],
        owner=row["owner"],
        owned_by_current_role=row["owned"],
        activity=activity,
        columns=[_column(column) for column in columns],
        indexes=index_facts,
        foreign_keys=[_foreign_key(fk, index_facts) for fk in fkeys],
    )


def _column(row: dict[str, Any]) -> ColumnFacts:
    stats = None
    if row["null_frac"] is not None:
        stats = ColumnStats(**{key: row[key] for key in ColumnStats.model_fields})
    return ColumnFacts(
        name=row["name"],
        number=row["attnum"],
        data_type=row["data_type"],
        not_null=row["not_null"],
        stats=stats,
    )


def _index(row: dict[str, Any]) -> IndexFacts:
    key_count = row["key_count"]
    definitions: list[str] = row["column_defs"]
    keys: list[int] = row["indkey"]
    # indoption has one entry per key column (INCLUDE columns have no ordering).
    options: list[int] = row["indoption"] or [0] * key_count
    columns = [
        IndexColumn(
            expression=definitions[position],
            attnum=keys[position] or None,  # 0 marks an expression column
            descending=bool(options[position] & _INDOPTION_DESC),
            nulls_first=bool(options[position] & _INDOPTION_NULLS_FIRST),
        )
        for position in range(key_count)
    ]
    return IndexFacts(
        name=row["name"],
        method=row["method"],
        columns=columns,
        include=definitions[key_count:],
        predicate=row["predicate"],
        unique=row["unique"],
        primary=row["primary"],
        valid=row["valid"],
        size_bytes=row["size_bytes"],
        idx_scan=row["idx_scan"],
        definition=row["definition"],
    )


def _foreign_key(row: dict[str, Any], indexes: list[IndexFacts]) -> ForeignKeyFacts:
    wanted = set(row["conkey"])
    covering = next(
        (
            index.name
            for index in indexes
            if index.valid
            and index.predicate is None
            and index.method == "btree"
            and len(index.columns) >= len(wanted)
            # The FK columns may appear in any order, but must be the index's leading columns.
            and set(index.key_attnums[: len(wanted)]) == wanted
        ),
        None,
    )
    return ForeignKeyFacts(
        name=row["name"],
        columns=row["columns"],
        referenced_schema=row["referenced_schema"],
        referenced_table=row["referenced_table"],
        referenced_columns=row["referenced_columns"],
        covering_index=covering,
    )


_ALL_TABLES_SQL = """
SELECT c.oid::int8 AS oid
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
ORDER BY n.nspname, c.relname
"""

_RESOLVE_SQL = """
SELECT c.oid::int8 AS oid
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relname = %(table)s
  AND CASE WHEN %(schema)s::text IS NULL THEN pg_table_is_visible(c.oid)
           ELSE n.nspname = %(schema)s::text END
"""

_TABLES_SQL = """
SELECT c.oid::int8 AS oid, n.nspname AS schema_name, c.relname AS name, c.relkind::text AS relkind,
       c.reltuples::float8 AS reltuples, c.relpages::int8 AS relpages,
       pg_get_userbyid(c.relowner) AS owner, pg_has_role(c.relowner, 'USAGE') AS owned,
       COALESCE(tree.total, pg_total_relation_size(c.oid))::int8 AS total_size_bytes,
       COALESCE(tree.heap, pg_table_size(c.oid))::int8 AS table_size_bytes,
       COALESCE(tree.idx, pg_indexes_size(c.oid))::int8 AS indexes_size_bytes,
       ARRAY(SELECT format('%%s.%%s', pn.nspname, pc.relname)
             FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhrelid
             JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE i.inhparent = c.oid ORDER BY pn.nspname, pc.relname) AS partitions,
       s.seq_scan, s.idx_scan, s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.n_live_tup,
       s.n_dead_tup, s.last_analyze, s.last_autoanalyze
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
-- A partitioned parent stores nothing itself: its sizes are the sum over the partition tree
-- (which has no rows for a table that is not partitioned).
CROSS JOIN LATERAL (
    SELECT sum(pg_total_relation_size(t.relid)) AS total,
           sum(pg_table_size(t.relid)) AS heap,
           sum(pg_indexes_size(t.relid)) AS idx
    FROM pg_partition_tree(c.oid) t
) tree
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.oid = ANY(%(oids)s::oid[])
"""

_COLUMNS_SQL = """
SELECT a.attrelid::int8 AS relid, a.attnum::int AS attnum, a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null,
       s.null_frac::float8 AS null_frac, s.n_distinct::float8 AS n_distinct,
       s.most_common_vals::text::text[] AS most_common_vals,
       s.most_common_freqs::float8[] AS most_common_freqs,
       s.histogram_bounds::text::text[] AS histogram_bounds,
       s.correlation::float8 AS correlation, s.avg_width AS avg_width
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
-- A partitioned table only has statistics over its whole tree (inherited = true).
LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
    AND s.attname = a.attname AND s.inherited = (c.relkind = 'p')
WHERE a.attrelid = ANY(%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_INDEXES_SQL = """
SELECT i.indrelid::int8 AS relid, ic.relname AS name, am.amname AS method,
       i.indisunique AS unique, i.indisprimary AS primary, i.indisvalid AS valid,
       i.indnkeyatts::int AS key_count,
       i.indkey::int2[] AS indkey, i.indoption::int2[] AS indoption,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnatts) k ORDER BY k) AS column_defs,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       pg_get_indexdef(i.indexrelid) AS definition,
       pg_relation_size(i.indexrelid)::int8 AS size_bytes,
       COALESCE(st.idx_scan, 0)::int8 AS idx_scan
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_stat_user_indexes st ON st.indexrelid = i.indexrelid
WHERE i.indrelid = ANY(%(oids)s::oid[])
ORDER BY i.indrelid, ic.relname
"""

_FKEYS_SQL = """
SELECT con.conrelid::int8 AS relid, con.conname AS name, con.conkey::int[] AS conkey,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord)::text[] AS columns,
       rn.nspname AS referenced_schema, rc.relname AS referenced_table,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord)::text[] AS referenced_columns
FROM pg_constraint con
JOIN pg_class rc ON rc.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.contype = 'f' AND con.conrelid = ANY(%(oids)s::oid[])
  AND con.conparentid = 0
ORDER BY con.conrelid, con.conname
"""

_SETTINGS_SQL = """
SELECT name, setting, unit, current_setting(name) AS shown
FROM pg_settings WHERE name = ANY(%(names)s)
"""
