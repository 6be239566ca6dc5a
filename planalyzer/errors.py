"""The whole planalyzer exception hierarchy.

`PlanalyzerError` is the root, so ``except pa.PlanalyzerError`` catches everything the library
raises on purpose. Subclasses carry their positional data as attributes (``path``, ``reason``,
``sqlstate`` ...) so tools and tests can use it without parsing the message. Errors raised
because the caller passed bad data also subclass `ValueError`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AdviceError",
    "ConfigError",
    "DatabaseError",
    "ExplainError",
    "ExtensionMissingError",
    "LogReadError",
    "PlanParseError",
    "PlanalyzerError",
    "ServerVersionError",
    "UnsafeStatementError",
]


class PlanalyzerError(Exception):
    """Root of every error planalyzer raises on purpose."""

    __module__ = "planalyzer"


class PlanParseError(PlanalyzerError, ValueError):
    """The input is not a plan planalyzer can read.

    Attributes:
        path: where in the input the problem is: a JSON path such as
            ``$[0].Plan.Plans[1]["Actual Rows"]`` or ``line 3, column 14``.
        reason: why it was rejected, in a few words.
    """

    __module__ = "planalyzer"

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot read plan at {path}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.reason))


class ConfigError(PlanalyzerError, ValueError):
    """A rule configuration names an unknown rule or key, or has a bad value.

    Attributes:
        key: the offending key, dotted (``sort_spill.min_spill_kb``).
        reason: what is wrong with it.
    """

    __module__ = "planalyzer"

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"invalid rule configuration {key!r}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.key, self.reason))


class DatabaseError(PlanalyzerError):
    """Something went wrong while talking to PostgreSQL.

    The psycopg error, when there is one, is kept as ``__cause__``; its SQLSTATE and the
    server's primary message are copied to ``sqlstate`` and ``server_message``.
    """

    __module__ = "planalyzer"

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        server_message: str | None = None,
    ) -> None:
        self.message = message
        self.sqlstate = sqlstate
        self.server_message = server_message
        text = message
        if server_message and server_message not in message:
            text += f" (server said: {server_message}"
            text += f"; SQLSTATE {sqlstate})" if sqlstate else ")"
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_database_error,
            (type(self), self.message, self.sqlstate, self.server_message),
        )


def _rebuild_database_error(
    cls: type[DatabaseError], message: str, sqlstate: str | None, server_message: str | None
) -> DatabaseError:
    """Unpickle helper: rebuild without running subclass constructors."""
    err = cls.__new__(cls)
    DatabaseError.__init__(err, message, sqlstate=sqlstate, server_message=server_message)
    return err


class ExtensionMissingError(DatabaseError):
    """A PostgreSQL extension planalyzer needs is not installed or cannot be created."""

    __module__ = "planalyzer"

    @classmethod
    def hypopg(cls, detail: str = "", *, server_major: int | None = None) -> ExtensionMissingError:
        """The error for a missing HypoPG, with the package and SQL that fix it."""
        major = server_major if server_major is not None else 15
        text = (
            "the HypoPG extension is needed for hypothetical indexes but is not available"
            + (f" ({detail})" if detail else "")
            + f". Install the server package (Debian/Ubuntu: apt-get install postgresql-{major}"
            "-hypopg), then run CREATE EXTENSION hypopg; in the target database as a role "
            "allowed to create extensions."
        )
        return cls(text)


class ServerVersionError(DatabaseError):
    """The server is too old for a requested feature; the message names the version needed."""

    __module__ = "planalyzer"


class ExplainError(DatabaseError):
    """EXPLAIN failed on the server.

    Attributes:
        statement: the statement that was explained.
    """

    __module__ = "planalyzer"

    def __init__(
        self,
        message: str,
        *,
        statement: str = "",
        sqlstate: str | None = None,
        server_message: str | None = None,
    ) -> None:
        self.statement = statement
        super().__init__(message, sqlstate=sqlstate, server_message=server_message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_explain_error,
            (type(self), self.message, self.statement, self.sqlstate, self.server_message),
        )


def _rebuild_explain_error(
    cls: type[ExplainError],
    message: str,
    statement: str,
    sqlstate: str | None,
    server_message: str | None,
) -> ExplainError:
    """Unpickle helper for `ExplainError` and its subclasses."""
    err = cls.__new__(cls)
    ExplainError.__init__(
        err, message, statement=statement, sqlstate=sqlstate, server_message=server_message
    )
    return err


class UnsafeStatementError(ExplainError, ValueError):
    """The statement cannot be explained safely.

    Raised before anything runs: for statements that are not a query or a data change (DDL,
    several statements, transaction control), and for EXPLAIN ANALYZE of a statement that would
    call a function whose effect no rollback undoes (``setval``, ``pg_terminate_backend``,
    session advisory locks, file writes, ``dblink`` ...).

    Attributes:
        statement: the statement that was refused.
        functions: the refused functions, schema-qualified (``pg_catalog.setval``); empty when
            the statement itself was refused.
        reasons: why each of ``functions`` was refused, in the same order.
    """

    __module__ = "planalyzer"

    def __init__(
        self,
        message: str,
        *,
        statement: str = "",
        functions: tuple[str, ...] = (),
        reasons: tuple[str, ...] = (),
    ) -> None:
        self.functions = tuple(functions)
        self.reasons = tuple(reasons)
        super().__init__(message, statement=statement)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_unsafe_statement_error,
            (type(self), self.message, self.statement, self.functions, self.reasons),
        )


def _rebuild_unsafe_statement_error(
    cls: type[UnsafeStatementError],
    message: str,
    statement: str,
    functions: tuple[str, ...],
    reasons: tuple[str, ...],
) -> UnsafeStatementError:
    """Unpickle helper for `UnsafeStatementError`."""
    err = cls.__new__(cls)
    UnsafeStatementError.__init__(
        err, message, statement=statement, functions=functions, reasons=reasons
    )
    return err


class AdviceError(PlanalyzerError):
    """The index advisor could not produce advice (bad workload, nothing to explain)."""

    __module__ = "planalyzer"


class LogReadError(PlanalyzerError):
    """A log file cannot be read at all (missing, unreadable, unknown format).

    A malformed entry inside a readable log is not an error: it is counted and reported with
    its ``file:line`` (`planalyzer.logs.Malformed`), and reading goes on.
    """

    __module__ = "planalyzer"
