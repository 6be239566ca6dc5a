"""Load the deterministic demo schema (``fixtures/demo/schema.sql``) into a database.

The schema lives in the repository's ``fixtures/`` directory, outside the installed package, so
it is found relative to this file and is only available from a source checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from planalyzer.errors import DatabaseError

__all__ = ["demo_schema_path", "load_demo_schema"]


def demo_schema_path() -> Path:
    """Return the path of ``fixtures/demo/schema.sql`` in the source checkout.

    Raises:
        DatabaseError: the file is absent (an installed wheel has no ``fixtures/``).
    """
    path = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "schema.sql"
    if not path.is_file():
        raise DatabaseError(
            f"demo schema not found at {path}; it ships with the planalyzer source checkout, "
            "not with the installed package"
        )
    return path


def load_demo_schema(conn: psycopg.Connection[Any]) -> None:
    """Create and fill the demo tables, then ANALYZE them, and commit.

    The script drops and recreates its own tables, so loading twice is harmless. It takes a few
    seconds on a throwaway server.

    Args:
        conn: a connection to the target database; the work is committed on it.

    Raises:
        DatabaseError: the script is missing or the server rejected it.
    """
    script = demo_schema_path().read_text(encoding="utf-8")
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
