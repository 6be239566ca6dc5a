"""A HypoPG session: try indexes the planner can see without building them.

HypoPG keeps hypothetical indexes in the memory of one backend (one connection); plain EXPLAIN
on that connection plans as if they existed, and nothing is written to disk. `hypothetical`
wraps that in a context manager that removes every index it made when the block ends, also on
an exception, and leaves indexes the user made on their own alone.

Usage (needs a server with HypoPG, so not a doctest)::

    with hypothetical(conn) as hypo:
        idx = hypo.create("CREATE INDEX ON orders (customer_id)")
        plan = hypo.explain("SELECT * FROM orders WHERE customer_id = 42")
        plan.find(node_type="Index Scan")   # uses idx.name; idx.size_bytes is its estimated size
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import pglast
import psycopg
from pglast import ast
from pglast.stream import RawStream
from psycopg import sql as pgsql
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from pydantic import BaseModel, ConfigDict, Field, field_validator

from planalyzer.errors import DatabaseError, ExtensionMissingError, UnsafeStatementError
from planalyzer.live._errors import database_error
from planalyzer.live._session import check_usable, scoped
from planalyzer.live.explain import explain
from planalyzer.plan.model import Plan

__all__ = [
    "HypotheticalIndex",
    "HypotheticalSession",
    "IndexColumnSpec",
    "IndexSpec",
    "hypothetical",
]


class IndexColumnSpec(BaseModel):
    """One key column of an `IndexSpec`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="column name as stored in the catalog (not SQL text)")
    descending: bool = False
    nulls_first: bool | None = Field(None, description="None: the default for the direction")


class IndexSpec(BaseModel):
    """An index described as data; rendered to SQL with every name quoted by psycopg.

    Names are taken literally, so ``"orders; DROP TABLE x"`` is a (missing) table, never SQL.
    Only ``where`` is SQL text; the rendered statement is still checked to be exactly one
    CREATE INDEX before it reaches the server.

    Example:
        >>> spec = IndexSpec(table="public.orders", columns=["customer_id", "created_at"])
        >>> spec.columns[0]
        IndexColumnSpec(name='customer_id', descending=False, nulls_first=None)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = Field(description='"orders" or "public.orders"')
    columns: list[IndexColumnSpec] = Field(min_length=1)
    include: list[str] = Field(default_factory=list)
    where: str | None = Field(None, description="predicate of a partial index (SQL text)")
    method: str = "btree"
    unique: bool = False

    @field_validator("columns", mode="before")
    @classmethod
    def _names_to_specs(cls, value: Any) -> Any:
        """Accept plain column names as shorthand for ascending columns."""
        if isinstance(value, list | tuple):
            return [IndexColumnSpec(name=item) if isinstance(item, str) else item for item in value]
        return value

    def compose(self) -> pgsql.Composed:
        """The CREATE INDEX statement, names composed with `psycopg.sql.Identifier`."""
        schema, _, table = self.table.rpartition(".")
        target = pgsql.Identifier(schema, table) if schema else pgsql.Identifier(table)
        keys = pgsql.SQL(", ").join(_key(column) for column in self.columns)
        query = pgsql.SQL("CREATE {}INDEX ON {} USING {} ({})").format(
            pgsql.SQL("UNIQUE " if self.unique else ""),
            target,
            pgsql.Identifier(self.method),
            keys,
        )
        if self.include:
            names = pgsql.SQL(", ").join(pgsql.Identifier(name) for name in self.include)
            query = pgsql.SQL("{} INCLUDE ({})").format(query, names)
        if self.where is not None:
            query = pgsql.SQL("{} WHERE {}").format(query, pgsql.SQL(self.where))
        return query


def _key(column: IndexColumnSpec) -> pgsql.Composed:
    parts: list[pgsql.Composable] = [pgsql.Identifier(column.name)]
    if column.descending:
        parts.append(pgsql.SQL("DESC"))
    if column.nulls_first is not None:
        parts.append(pgsql.SQL("NULLS FIRST" if column.nulls_first else "NULLS LAST"))
    return pgsql.SQL(" ").join(parts)


class HypotheticalIndex(BaseModel):
    """A hypothetical index made by a `HypotheticalSession`.

    Attributes:
        indexrelid: the OID HypoPG gave it (only meaningful on this connection).
        name: HypoPG's generated name, as plans show it in ``Index Name``.
        table: the indexed table, schema-qualified.
        columns: key columns or expressions, in index order.
        create_sql: the CREATE INDEX statement that would build it for real.
        size_bytes: HypoPG's estimate of the index size.
    """

    model_config = ConfigDict(frozen=True)

    indexrelid: int
    name: str
    table: str
    columns: list[str]
    create_sql: str
    size_bytes: int


class HypotheticalSession:
    """Hypothetical indexes on one connection; use through `hypothetical`.

    Every call leaves the connection's transaction state as it was (HypoPG's functions run in
    a block that commits or releases a savepoint, and change nothing but backend memory).
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._schema: str | None = None
        self._created: list[HypotheticalIndex] = []

    @property
    def indexes(self) -> tuple[HypotheticalIndex, ...]:
        """The indexes this session made and has not removed, oldest first."""
        return tuple(self._created)

    def __enter__(self) -> Self:
        check_usable(self._conn, DatabaseError, "start a HypoPG session")
        self._schema = _ensure_extension(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._created:
            return
        if self._conn.closed:
            self._created.clear()  # HypoPG's memory went with the backend
            return
        if self._conn.info.transaction_status == TransactionStatus.INERROR:
            message = (
                f"{len(self._created)} hypothetical index(es) could not be removed because the "
                "connection's transaction had failed; they stay in this backend until it "
                "disconnects or hypopg_reset() is called"
            )
            if exc is not None:
                exc.add_note(message)
                return
            raise DatabaseError(message)
        for index in list(self._created):
            self.remove(index)

    def create(self, index: str | IndexSpec) -> HypotheticalIndex:
        """Create one hypothetical index from CREATE INDEX text or an `IndexSpec`.

        Raises:
            UnsafeStatementError: the text is not exactly one CREATE INDEX statement.
            DatabaseError: HypoPG refused it (unknown table or column, unsupported method...).
        """
        text = index.compose().as_string(self._conn) if isinstance(index, IndexSpec) else index
        columns = _index_columns(text)
        query = pgsql.SQL("SELECT indexrelid::int8, indexname FROM {}(%s)").format(
            self._function("hypopg_create_index")
        )
        size_query = pgsql.SQL("SELECT {}(%s)::int8").format(self._function("hypopg_relation_size"))
        list_query = pgsql.SQL(
            "SELECT format('%%s.%%s', schema_name, table_name) FROM {} WHERE indexrelid = %s"
        ).format(self._function("hypopg_list_indexes"))
        try:
            with scoped(self._conn), self._conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(query, [text], prepare=False)
                row = cur.fetchone()
                if row is None:  # HypoPG skips statements it cannot use, without an error
                    raise DatabaseError(f"HypoPG created no index for: {text}")
                oid, name = row
                cur.execute(size_query, [oid], prepare=False)
                size = cur.fetchone()
                cur.execute(list_query, [oid], prepare=False)
                table = cur.fetchone()
        except psycopg.Error as err:
            raise database_error(err, f"creating the hypothetical index {text!r}") from err
        created = HypotheticalIndex(
            indexrelid=oid,
            name=name,
            table=table[0] if table else "",
            columns=columns,
            create_sql=text,
            size_bytes=size[0] if size else 0,
        )
        self._created.append(created)
        return created

    def remove(self, index: HypotheticalIndex) -> None:
        """Drop one hypothetical index made by this session."""
        query = pgsql.SQL("SELECT {}(%s)").format(self._function("hypopg_drop_index"))
        try:
            with scoped(self._conn):
                self._conn.execute(query, [index.indexrelid], prepare=False)
        except psycopg.Error as err:
            raise database_error(err, f"dropping hypothetical index {index.name}") from err
        self._created = [made for made in self._created if made.indexrelid != index.indexrelid]

    def explain(self, sql: str, params: Any = None) -> Plan:
        """Plain EXPLAIN (never ANALYZE: a hypothetical index cannot be executed).

        The statement goes through the same checks as `planalyzer.live.explain.explain`.
        """
        return explain(self._conn, sql, params, analyze=False, buffers=False)

    def _function(self, name: str) -> pgsql.Identifier:
        """A HypoPG function or view, qualified by the schema the extension lives in."""
        if self._schema is None:
            raise DatabaseError("the HypoPG session is not open; use it in a with block")
        return pgsql.Identifier(self._schema, name)


def hypothetical(conn: psycopg.Connection[Any]) -> HypotheticalSession:
    """Open a HypoPG session on ``conn``; use it as a context manager.

    On entry the ``hypopg`` extension must exist in the database; if it does not,
    ``CREATE EXTENSION IF NOT EXISTS hypopg`` is tried (the one real object this may create,
    and only if the role may). On exit every hypothetical index the session made is dropped,
    also when the block raised.

    Raises:
        ExtensionMissingError: HypoPG is not installed or cannot be created; the message says
            which package and statement fix it.
    """
    return HypotheticalSession(conn)


def _ensure_extension(conn: psycopg.Connection[Any]) -> str:
    """Return the schema holding HypoPG's functions, creating the extension if needed."""
    lookup = (
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'hypopg'"
    )
    major = conn.info.server_version // 10000
    try:
        with scoped(conn), conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(lookup, prepare=False)
            row = cur.fetchone()
    except psycopg.Error as err:
        raise database_error(err, "looking for the hypopg extension") from err
    if row is not None:
        return str(row[0])
    try:
        with scoped(conn), conn.cursor(row_factory=tuple_row) as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS hypopg", prepare=False)
            cur.execute(lookup, prepare=False)
            row = cur.fetchone()
    except psycopg.Error as err:
        detail = err.diag.message_primary or str(err)
        raise ExtensionMissingError.hypopg(
            f"CREATE EXTENSION hypopg failed: {detail}", server_major=major
        ) from err
    if row is None:
        raise ExtensionMissingError.hypopg("the extension was not created", server_major=major)
    return str(row[0])


def _index_columns(text: str) -> list[str]:
    """Check ``text`` is exactly one CREATE INDEX and return its key columns/expressions."""
    try:
        statements = pglast.parse_sql(text)
    except (pglast.parser.ParseError, RecursionError) as err:
        raise UnsafeStatementError(
            f"not a valid CREATE INDEX statement: {err}", statement=text
        ) from err
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.IndexStmt):
        raise UnsafeStatementError(
            "a hypothetical index needs exactly one CREATE INDEX statement", statement=text
        )
    stmt = statements[0].stmt
    columns = []
    for elem in stmt.indexParams or ():
        columns.append(elem.name if elem.name is not None else RawStream()(elem.expr))
    return columns
