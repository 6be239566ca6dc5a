"""Decide whether a statement may be explained, and how, by parsing it with pglast.

`explain` runs statements under ANALYZE, which executes them, so it must know what a statement
is before sending it: reads are fine, data changes (INSERT/UPDATE/DELETE/MERGE, also inside a
CTE) are fine inside a transaction that is rolled back, and everything else — DDL, transaction
control, COPY, SET, CALL, several statements at once — is refused. The check is done on the
parse tree, never on the text, so comments, quoting and odd spacing cannot fool it.

Example:
    >>> classify("SELECT * FROM orders WHERE id = $1")
    Statement(kind=<StatementKind.READ: 'read'>, has_dollar_params=True)
    >>> classify("WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d").kind.value
    'write'
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

import pglast
from pglast import ast

from planalyzer.errors import UnsafeStatementError
from planalyzer.live.calls import walk

__all__ = ["Statement", "StatementKind", "classify"]

# psycopg's client-side placeholders: %s, %b, %t and their %(name)s forms; %% is a literal %.
_PSYCOPG_PLACEHOLDER = re.compile(r"%%|%(?:\([^)]*\))?[sbt]")

_WRITE_NODES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


class StatementKind(enum.Enum):
    """What running a statement does to the data."""

    READ = "read"
    """SELECT, VALUES, TABLE: explained as is (still in a rolled-back transaction, because a
    query can call volatile functions)."""

    WRITE = "write"
    """INSERT, UPDATE, DELETE, MERGE, or a query with a data-modifying CTE: explained inside a
    transaction that is always rolled back."""


@dataclass(frozen=True)
class Statement:
    """The outcome of `classify`.

    Attributes:
        kind: read or write.
        has_dollar_params: the text uses ``$1``-style parameters; without values these get a
            generic plan.
        root: the statement's pglast node (psycopg placeholders read as ``$1``), for
            `planalyzer.live.side_effects` to look for the functions it calls.
    """

    kind: StatementKind
    has_dollar_params: bool
    root: ast.Node | None = field(default=None, repr=False, compare=False)


def classify(sql: str, *, psycopg_params: bool = False) -> Statement:
    """Classify one SQL statement, refusing what cannot be explained safely.

    Args:
        sql: the statement text.
        psycopg_params: the text uses psycopg placeholders (``%s``, ``%(name)s``) because
            parameters will be bound to it; they are read as ``$n`` parameters for the check.

    Returns:
        What kind of statement it is.

    Raises:
        UnsafeStatementError: the text is not exactly one statement pglast can parse, or the
            statement is not a query or a data change (DDL, transaction control, COPY, SET,
            CALL, EXPLAIN, EXECUTE, SELECT INTO ...).
    """
    text = _PSYCOPG_PLACEHOLDER.sub(_placeholder_to_param, sql) if psycopg_params else sql
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError as err:
        raise UnsafeStatementError(
            f"cannot parse the statement to check that it is safe to explain: {err}",
            statement=sql,
        ) from err
    except RecursionError:
        raise UnsafeStatementError(
            "the statement is nested too deeply to check that it is safe to explain",
            statement=sql,
        ) from None
    if len(statements) != 1:
        raise UnsafeStatementError(
            f"expected exactly one statement, got {len(statements)}; explain them one at a time",
            statement=sql,
        )
    root = statements[0].stmt
    if isinstance(root, _WRITE_NODES):
        kind = StatementKind.WRITE
    elif isinstance(root, ast.SelectStmt):
        if root.intoClause is not None:
            raise UnsafeStatementError(
                "SELECT ... INTO creates a table; explain the SELECT without INTO", statement=sql
            )
        kind = StatementKind.READ
    else:
        raise UnsafeStatementError(
            f"refusing to explain a {_describe(root)} statement: only SELECT, VALUES, TABLE, "
            "INSERT, UPDATE, DELETE and MERGE can be explained safely",
            statement=sql,
        )
    nodes = walk(root)
    if kind is StatementKind.READ and any(isinstance(n, _WRITE_NODES) for n in nodes):
        kind = StatementKind.WRITE  # a data-modifying CTE
    has_params = any(isinstance(n, ast.ParamRef) for n in nodes)
    return Statement(kind=kind, has_dollar_params=has_params and not psycopg_params, root=root)


def _placeholder_to_param(match: re.Match[str]) -> str:
    """Map a psycopg placeholder to a ``$1`` parameter (any number parses) and ``%%`` to ``%``."""
    return "%" if match.group() == "%%" else "$1"


def _describe(node: ast.Node | None) -> str:
    """A readable name for a statement node: ``CreateStmt`` -> ``CREATE``-ish wording."""
    name = type(node).__name__
    special = {
        "TransactionStmt": "transaction control",
        "CopyStmt": "COPY",
        "VariableSetStmt": "SET",
        "ExplainStmt": "EXPLAIN (pass the statement itself)",
        "ExecuteStmt": "EXECUTE",
        "CreateTableAsStmt": "CREATE TABLE AS",
        "CallStmt": "CALL",
        "DoStmt": "DO",
    }
    if name in special:
        return special[name]
    return f"{name.removesuffix('Stmt')} (DDL or utility)"
