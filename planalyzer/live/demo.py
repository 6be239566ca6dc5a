"""Load the deterministic demo schema into a database.

The script ships inside the package (`planalyzer.samples`), so this works from an installed
wheel as well as from a source checkout.
"""

from __future__ import annotations

from typing import Any

import psycopg

from planalyzer.errors import DatabaseError
from planalyzer.samples import demo_schema_sql

__all__ = ["load_demo_schema"]


def load_demo_schema(conn: psycopg.Connection[Any]) -> None:
    """Create and fill the demo tables, then ANALYZE them, and commit.

    The script drops and recreates its own tables, so loading twice is harmless. It takes a few
    seconds on a throwaway server.

    Args:
        conn: a connection to the target database; the work is committed on it.

    Raises:
        DatabaseError: the server rejected the script.
    """
    script = demo_schema_sql()
    try:
        # No parameters, so psycopg sends the whole script as one simple query.
        conn.execute(script.encode())
        if not conn.autocommit:
            conn.commit()
    except psycopg.Error as err:
        if not conn.autocommit:
            conn.rollback()
        raise DatabaseError(
            "loading the demo schema failed",
            sqlstate=err.sqlstate,
            server_message=err.diag.message_primary,
        ) from err
