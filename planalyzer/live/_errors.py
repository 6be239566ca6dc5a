"""Turn psycopg errors into planalyzer's `DatabaseError` family, keeping what the server said.

Callers always ``raise translate(...) from err`` so the psycopg error stays the ``__cause__``.
"""

from __future__ import annotations

import psycopg

from planalyzer.errors import DatabaseError, ExplainError

__all__ = ["QUERY_CANCELED", "database_error", "explain_error"]

QUERY_CANCELED = "57014"
"""SQLSTATE of a statement stopped by statement_timeout or a cancel request."""


def _server_message(err: psycopg.Error) -> str:
    """The server's primary message, or psycopg's own text for client-side errors."""
    return err.diag.message_primary or str(err).strip() or type(err).__name__


def database_error(err: psycopg.Error, action: str) -> DatabaseError:
    """Wrap ``err`` as a `DatabaseError` whose message says what we were doing.

    Example:
        >>> import psycopg
        >>> str(database_error(psycopg.OperationalError("connection lost"), "reading pg_stats"))
        'reading pg_stats failed (server said: connection lost)'
    """
    return DatabaseError(
        f"{action} failed", sqlstate=err.sqlstate, server_message=_server_message(err)
    )


def explain_error(
    err: psycopg.Error, statement: str, *, timeout_s: float | None = None
) -> ExplainError:
    """Wrap ``err`` raised while explaining ``statement`` as an `ExplainError`.

    A cancellation (SQLSTATE 57014) under a timeout we set gets a message naming the timeout,
    because "canceling statement due to statement timeout" alone does not say whose timeout.
    """
    if err.sqlstate == QUERY_CANCELED and timeout_s is not None:
        message = f"EXPLAIN was cancelled after the {timeout_s:g} s timeout (timeout_s)"
    else:
        message = "EXPLAIN failed"
    return ExplainError(
        message,
        statement=statement,
        sqlstate=err.sqlstate,
        server_message=_server_message(err),
    )
