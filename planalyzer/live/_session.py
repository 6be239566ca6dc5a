"""Blocks that leave the caller's connection exactly as they found it.

psycopg's ``Connection.transaction()`` chooses BEGIN or SAVEPOINT from the connection's state and
restores that state on exit, which is what every live call needs: a user in autocommit mode stays
in autocommit, an idle connection ends idle, and an open transaction stays open with its work
intact. These helpers add the checks and the rollback policy on top.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from planalyzer.errors import DatabaseError

__all__ = ["check_usable", "rolled_back", "scoped"]


def check_usable(conn: psycopg.Connection[Any], error: type[DatabaseError], what: str) -> None:
    """Refuse a connection whose state could not be restored (failed or busy transaction).

    Args:
        conn: the caller's connection.
        error: the exception class to raise (built with a message only).
        what: what we were about to do, for the message.
    """
    if conn.closed:
        raise error(f"cannot {what}: the connection is closed")
    status = conn.info.transaction_status
    if status == TransactionStatus.INERROR:
        raise error(f"cannot {what}: the connection's transaction has failed; roll it back first")
    if status not in (TransactionStatus.IDLE, TransactionStatus.INTRANS):
        raise error(f"cannot {what}: the connection is busy (status {status.name})")


@contextlib.contextmanager
def scoped(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """A transaction or savepoint that commits or releases on success.

    Used for reads and for session-level calls (HypoPG functions), so that an idle
    non-autocommit connection is not left inside an implicit transaction afterwards.
    """
    with conn.transaction():
        yield


@contextlib.contextmanager
def rolled_back(conn: psycopg.Connection[Any], timeout_s: float | None = None) -> Iterator[None]:
    """A transaction or savepoint that is always rolled back, with an optional local timeout.

    Rolling back to a savepoint also undoes ``SET LOCAL`` made after it, so the caller's
    settings survive inside their own transaction too.
    """
    with conn.transaction(force_rollback=True):
        if timeout_s is not None:
            milliseconds = max(1, round(timeout_s * 1000))
            conn.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [str(milliseconds)],
                prepare=False,
            )
        yield
