"""Zero-downtime migration text for recommended indexes.

``CREATE INDEX CONCURRENTLY`` builds an index without blocking writes (it takes a SHARE UPDATE
EXCLUSIVE lock instead of SHARE), and ``DROP INDEX CONCURRENTLY`` removes one without blocking
reads and writes; both refuse to run inside a transaction block. A partitioned parent accepts
neither, so for it the documented per-partition form is emitted (PostgreSQL manual, CREATE
INDEX, "Building Indexes Concurrently" and the ``ON ONLY`` note): create the parent's index
``ON ONLY`` (invalid until complete), build each partition's index concurrently, and attach each
one; the parent's index becomes valid when the last partition is attached.

Every identifier is composed with `psycopg.sql.Identifier`; the only SQL text taken as is, a
partial index's predicate or an index expression (in its own parentheses), comes from the
statement's own parse tree, deparsed by pglast, never from the statement's text. Names are
deterministic (derived from the index definition) and at most 63 bytes, PostgreSQL's
NAMEDATALEN - 1: a longer name is cut and ends with a short hash of the full one, so two long
names stay distinct.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from psycopg import sql

from planalyzer.advisor.model import IndexCandidate, KeyColumn, Recommendation
from planalyzer.advisor.statistics import StatisticsAdvice

__all__ = [
    "MAX_NAME_BYTES",
    "create_statements",
    "drop_statements",
    "index_name",
    "migration_text",
    "render_create",
    "write_migration_files",
]

MAX_NAME_BYTES = 63
"""PostgreSQL truncates identifiers to NAMEDATALEN - 1 = 63 bytes."""

_HASH_CHARS = 8

_HEADER = """\
-- {what}
-- CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block: run this with
-- autocommit (psql without -1/--single-transaction; disable your migration tool's transaction).
-- Send one statement at a time (psql -f does; a tool that sends the whole file as one query
-- string makes it one implicit transaction). A failed CONCURRENTLY build leaves an INVALID
-- index behind: drop it, then run the step again.
"""


def index_name(candidate: IndexCandidate, *, suffix: str = "") -> str:
    """A deterministic index name of at most 63 bytes.

    ``idx_<table>_<key columns>[_incl][_where_<predicate words>][_<method>]``, an expression
    key column contributing its words (``lower(email)`` → ``lower_email``); when longer than
    63 bytes it is cut at a character boundary and ends with ``_`` and 8 hex digits of the SHA-1
    of the full name.

    Example:
        >>> index_name(IndexCandidate(table="public.orders", columns=(
        ...     KeyColumn(name="customer_id"), KeyColumn(name="created_at", descending=True))))
        'idx_orders_customer_id_created_at'
        >>> len(index_name(IndexCandidate(table="public.t", columns=tuple(
        ...     KeyColumn(name="a_very_long_column_name_%d" % i) for i in range(4)))))
        63
    """
    table = candidate.table.rpartition(".")[2]
    parts = ["idx", table, *(_slug(_short(c)) for c in candidate.columns)]
    if candidate.include:
        parts.append("incl")
    if candidate.where:
        parts += ["where", _slug(candidate.where)]
    if candidate.method != "btree":
        opclass = next((c.opclass for c in candidate.columns if c.opclass), None)
        parts.append("trgm" if opclass == "gin_trgm_ops" else candidate.method)
    if suffix:
        parts.append(_slug(suffix))
    full = "_".join(p for p in parts if p)
    return _fit(full)


def _short(column: KeyColumn) -> str:
    """The key column's text for a name: an expression without ``pg_catalog.`` qualifiers."""
    return column.name.replace("pg_catalog.", "") if column.expression else column.name


def _fit(full: str) -> str:
    if len(full.encode()) <= MAX_NAME_BYTES:
        return full
    digest = hashlib.sha1(full.encode(), usedforsecurity=False).hexdigest()[:_HASH_CHARS]
    room = MAX_NAME_BYTES - _HASH_CHARS - 1
    cut = full.encode()[:room].decode(errors="ignore").rstrip("_")
    return f"{cut}_{digest}"


def _slug(text: str) -> str:
    """Lower-case words of ``text`` joined by ``_`` (``status = 'failed'`` → ``status_failed``)."""
    return "_".join(re.findall(r"[0-9a-z]+", text.lower()))


def _qualified(name: str) -> sql.Identifier:
    schema, _, relation = name.rpartition(".")
    return sql.Identifier(schema, relation) if schema else sql.Identifier(relation)


def _key(column: KeyColumn) -> sql.Composable:
    if column.expression:
        parts: list[sql.Composable] = [sql.SQL("({})").format(sql.SQL(column.name))]
    else:
        parts = [sql.Identifier(column.name)]
    if column.opclass:
        parts.append(sql.Identifier(column.opclass))
    if column.descending:
        parts.append(sql.SQL("DESC"))
    if column.nulls_first is not None:
        parts.append(sql.SQL("NULLS FIRST" if column.nulls_first else "NULLS LAST"))
    return sql.SQL(" ").join(parts)


def render_create(
    candidate: IndexCandidate,
    *,
    name: str | None = None,
    table: str | None = None,
    concurrently: bool = False,
    only: bool = False,
) -> sql.Composed:
    """One CREATE INDEX statement for ``candidate`` (unnamed unless ``name`` is given).

    Args:
        candidate: the index.
        name: the index name; None lets the server (or HypoPG) choose.
        table: build it on this table instead (a partition of the candidate's table).
        concurrently: add CONCURRENTLY.
        only: ``ON ONLY`` (the partitioned parent's own index).

    Example:
        >>> c = IndexCandidate(table="public.orders", columns=(KeyColumn(name="customer_id"),),
        ...                    include=("total",), where="status = 'failed'")
        >>> print(render_create(c, name="idx_x", concurrently=True).as_string())
        CREATE INDEX CONCURRENTLY "idx_x" ON "public"."orders" USING "btree" ("customer_id") INCLUDE ("total") WHERE status = 'failed'
    """  # noqa: E501
    parts: list[sql.Composable] = [sql.SQL("CREATE INDEX")]
    if concurrently:
        parts.append(sql.SQL("CONCURRENTLY"))
    if name is not None:
        parts.append(sql.Identifier(name))
    parts.append(sql.SQL("ON ONLY") if only else sql.SQL("ON"))
    parts.append(_qualified(table or candidate.table))
    parts.append(sql.SQL("USING {}").format(sql.Identifier(candidate.method)))
    parts.append(sql.SQL("({})").format(sql.SQL(", ").join(_key(c) for c in candidate.columns)))
    if candidate.include:
        names = sql.SQL(", ").join(sql.Identifier(n) for n in candidate.include)
        parts.append(sql.SQL("INCLUDE ({})").format(names))
    if candidate.where:
        parts.append(sql.SQL("WHERE {}").format(sql.SQL(candidate.where)))
    return sql.SQL(" ").join(parts)


def create_statements(candidate: IndexCandidate, name: str, partitions: Sequence[str] = ()) -> str:
    """The CREATE text: one CONCURRENTLY statement, or the per-partition form.

    Example:
        >>> c = IndexCandidate(table="public.events", columns=(KeyColumn(name="customer_id"),))
        >>> print(create_statements(c, "idx_events_customer_id", ["public.events_q1"]))
        -- public.events is partitioned: CONCURRENTLY is built per partition, then attached.
        CREATE INDEX "idx_events_customer_id" ON ONLY "public"."events" USING "btree" ("customer_id");
        CREATE INDEX CONCURRENTLY "idx_events_customer_id_events_q1" ON "public"."events_q1" USING "btree" ("customer_id");
        ALTER INDEX "public"."idx_events_customer_id" ATTACH PARTITION "public"."idx_events_customer_id_events_q1";
    """  # noqa: E501
    if not partitions:
        return render_create(candidate, name=name, concurrently=True).as_string() + ";"
    schema = candidate.table.rpartition(".")[0]
    lines = [
        f"-- {candidate.table} is partitioned: CONCURRENTLY is built per partition, then attached.",
        render_create(candidate, name=name, only=True).as_string() + ";",
    ]
    for partition in partitions:
        part_schema, _, part_name = partition.rpartition(".")
        child = index_name(candidate, suffix=part_name)
        lines.append(
            render_create(candidate, name=child, table=partition, concurrently=True).as_string()
            + ";"
        )
        lines.append(
            sql.SQL("ALTER INDEX {} ATTACH PARTITION {};")
            .format(
                sql.Identifier(schema, name) if schema else sql.Identifier(name),
                sql.Identifier(part_schema, child) if part_schema else sql.Identifier(child),
            )
            .as_string()
        )
    return "\n".join(lines)


def drop_statements(table: str, name: str, *, partitioned: bool = False) -> str:
    """The DROP text: CONCURRENTLY, except for a partitioned parent's index (not allowed).

    Example:
        >>> drop_statements("public.orders", "idx_orders_customer_id")
        'DROP INDEX CONCURRENTLY IF EXISTS "public"."idx_orders_customer_id";'
    """
    schema = table.rpartition(".")[0]
    target = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    if partitioned:
        return (
            "-- A partitioned index cannot be dropped CONCURRENTLY; this drops the partitions'\n"
            "-- indexes with it and briefly locks the tables.\n"
            + sql.SQL("DROP INDEX IF EXISTS {};").format(target).as_string()
        )
    return sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {};").format(target).as_string()


def _check_lines(recommendation: Recommendation) -> list[str]:
    if not recommendation.checks:
        return []
    lines = [f"-- Afterwards, check that the planner uses {recommendation.name}:"]
    lines += [f"--   EXPLAIN {_one_line(check)}" for check in recommendation.checks]
    return lines


def _analyze_lines(recommendation: Recommendation) -> list[str]:
    """For an expression index: ANALYZE gathers the statistics of the indexed expression.

    The planner can use the index at once, but estimates rows for ``lower(email) = ...`` with
    default selectivities until ANALYZE has sampled the expression's values (PostgreSQL
    manual, 11.7 "Indexes on Expressions", and ANALYZE: expression indexes get statistics).
    """
    expressions = [c.name for c in recommendation.key_columns if c.expression]
    if not expressions:
        return []
    table = sql.SQL("ANALYZE {};").format(_qualified(recommendation.table)).as_string()
    return [
        f"-- Then run {table} so the planner has statistics on {', '.join(expressions)};",
        "-- it uses the index right away, but estimates the expression's rows with default",
        "-- selectivities until then.",
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _block(recommendation: Recommendation) -> str:
    why = f"-- {recommendation.name} on {recommendation.table}"
    if recommendation.size_bytes:
        why += f" (about {recommendation.size_bytes / 2**20:,.1f} MiB)"
    lines = [why]
    if not recommendation.verifiable:
        lines.append("-- Not verified with HypoPG (it cannot build this index type): test it.")
    lines += [f"-- Note: {note}" for note in recommendation.notes]
    lines.append(recommendation.create_sql)
    lines += _analyze_lines(recommendation)
    lines += _check_lines(recommendation)
    return "\n".join(lines)


def migration_text(
    recommendations: Sequence[Recommendation], statistics: Sequence[StatisticsAdvice] = ()
) -> tuple[str, str]:
    """``(up, down)`` for all recommendations, then the statistics; the down side reversed.

    Example:
        >>> up, down = migration_text([])
        >>> up.splitlines()[0]
        '-- planalyzer: no index to create.'
    """
    if not recommendations and not statistics:
        return "-- planalyzer: no index to create.\n", "-- planalyzer: no index to drop.\n"
    what = f"planalyzer: {len(recommendations)} index(es) recommended."
    blocks = [_block(r) for r in recommendations]
    for fix in statistics:
        blocks.append(f"-- Statistics ({fix.evidence}): {_one_line(fix.reason)}\n{fix.create_sql}")
    up = _HEADER.format(what=what) + "\n" + "\n\n".join(blocks)
    down = _HEADER.format(what=f"planalyzer: drop the {len(recommendations)} index(es).")
    undo = [fix.drop_sql for fix in reversed(statistics) if fix.drop_sql]
    down += "\n" + "\n".join([*undo, *(r.drop_sql for r in reversed(recommendations))])
    return up + "\n", down + "\n"


def write_migration_files(
    recommendations: Sequence[Recommendation], directory: Path, *, start: int | None = None
) -> list[Path]:
    """Write ``NNN_<index name>.up.sql`` and ``.down.sql`` per recommendation.

    Numbering continues after the highest ``NNN_`` prefix already in ``directory`` (created
    if missing) unless ``start`` is given; existing files are never overwritten.

    Raises:
        FileExistsError: a file of the same name already exists.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if start is None:
        numbers = [
            int(match.group(1))
            for path in directory.iterdir()
            if (match := re.match(r"^(\d+)_", path.name))
        ]
        start = max(numbers, default=0) + 1
    written: list[Path] = []
    for offset, recommendation in enumerate(recommendations):
        stem = f"{start + offset:03d}_{recommendation.name}"
        up, down = migration_text([recommendation])
        for suffix, text in ((".up.sql", up), (".down.sql", down)):
            path = directory / f"{stem}{suffix}"
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
            written.append(path)
    return written
