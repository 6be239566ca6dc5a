"""The CLI's connections: the one CLI module that touches psycopg, to turn failures into ours.

A connection failure is a usage problem for a command line (wrong DSN, server down), so it is
raised as `DatabaseError` with the server's one-line reason, and the CLI exits with status 2
instead of printing a psycopg traceback.
"""

from __future__ import annotations

from typing import Any

import psycopg

from planalyzer.errors import DatabaseError

__all__ = ["connect", "execute"]


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """Open a connection (``dsn`` may be empty: libpq then reads the PG* variables)."""
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10)
    except psycopg.Error as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DatabaseError(f"cannot connect to PostgreSQL: {reason}") from err


def execute(conn: psycopg.Connection[Any], statement: str) -> None:
    """Run one trusted statement of our own (demo DDL), wrapping server errors."""
    try:
        conn.execute(statement.encode())
    except psycopg.Error as err:
        raise DatabaseError(
            f"statement failed: {statement.splitlines()[0][:80]}",
            sqlstate=err.sqlstate,
            server_message=err.diag.message_primary,
        ) from err
