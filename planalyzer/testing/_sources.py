"""Hooks that note each statement an application sends, for every way it talks to PostgreSQL.

- psycopg 3 ``Connection`` and ``AsyncConnection``: the connection's ``cursor_factory`` and
  ``server_cursor_factory`` are swapped for subclasses that note each statement, then call the
  original method unchanged (async methods return the original coroutine);
- SQLAlchemy ``Engine`` / ``Connection`` (and their asyncio wrappers): a
  ``before_cursor_execute`` event listener, removed again on exit;
- Django connections: ``connection.execute_wrapper``.

Each installer takes the target and a ``note(sql, params, method)`` callback and returns a
function that removes the hook. SQLAlchemy and Django are imported only when such an object is
passed, so neither is needed to use planalyzer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = [
    "Note",
    "auto_targets",
    "explain_connection",
    "install",
    "install_auto",
    "source_of",
]

Note = Callable[[Any, Any, str], None]
"""``note(sql_text, params, method)``."""


def _module(target: Any) -> str:
    return type(target).__module__ or ""


def source_of(target: Any) -> str:
    """``psycopg``, ``sqlalchemy`` or ``django`` for a supported target.

    Raises:
        TypeError: anything else, naming what is accepted.
    """
    module = _module(target)
    if module.startswith("psycopg"):
        import psycopg

        if isinstance(target, psycopg.Connection | psycopg.AsyncConnection):
            return "psycopg"
    if module.startswith("sqlalchemy.") and hasattr(target, "dialect"):
        return "sqlalchemy"
    if module.startswith("sqlalchemy.ext.asyncio") and (
        hasattr(target, "sync_engine") or hasattr(target, "sync_connection")
    ):
        return "sqlalchemy"
    if hasattr(target, "execute_wrapper") and hasattr(target, "vendor"):
        return "django"
    raise TypeError(
        "capture_queries() needs a psycopg 3 Connection or AsyncConnection, a SQLAlchemy "
        f"Engine or Connection, or a Django connection; got {type(target).__name__}"
    )


def _text(cursor: Any, query: Any) -> str:
    """The statement as text: compositions rendered, bytes decoded with the connection's codec."""
    from psycopg import sql as pgsql

    if isinstance(query, str):
        return query
    if isinstance(query, pgsql.Composable):
        return query.as_string(cursor)
    if isinstance(query, bytes | bytearray | memoryview):
        return bytes(query).decode(cursor.connection.info.encoding, "replace")
    return str(query)


def _recording_class(base: type, note: Note, method: str) -> type:
    """A subclass of a psycopg cursor class that notes each statement before running it.

    The callback is held in a closure rather than a class attribute, so nested captures on one
    connection each record into their own list. For async cursors the overridden methods hand
    back the original coroutine (or async generator / context manager) unawaited.
    """

    class Recording(base):  # type: ignore[misc]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            note(_text(self, query), params, method)
            return super().execute(query, params, **kwargs)

        def executemany(self, query: Any, params_seq: Iterable[Any], **kwargs: Any) -> Any:
            params_list = list(params_seq)  # a generator can be read once: keep what is sent
            text = _text(self, query)
            for params in params_list:
                note(text, params, "executemany")
            return super().executemany(query, params_list, **kwargs)

        def stream(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            note(_text(self, query), params, "stream")
            return super().stream(query, params, **kwargs)

        def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
            note(_text(self, statement), params, "copy")
            return super().copy(statement, params, **kwargs)

    Recording.__name__ = Recording.__qualname__ = f"Capturing{base.__name__}"
    return Recording


def _install_psycopg(conn: Any, note: Note) -> Callable[[], None]:
    original, original_server = conn.cursor_factory, conn.server_cursor_factory
    ours = _recording_class(original, note, "execute")
    ours_server = _recording_class(original_server, note, "server-cursor")
    conn.cursor_factory, conn.server_cursor_factory = ours, ours_server

    def remove() -> None:
        # put back what we replaced, unless the application installed its own factory since
        if conn.cursor_factory is ours:
            conn.cursor_factory = original
        if conn.server_cursor_factory is ours_server:
            conn.server_cursor_factory = original_server

    return remove


def _sync_sqlalchemy(target: Any) -> Any:
    """The sync Engine/Connection behind an asyncio one (events live there)."""
    for attribute in ("sync_connection", "sync_engine"):
        inner = getattr(target, attribute, None)
        if inner is not None:
            return inner
    return target


def _install_sqlalchemy(target: Any, note: Note) -> Callable[[], None]:
    from sqlalchemy import event

    target = _sync_sqlalchemy(target)

    def listener(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: Any
    ) -> None:
        if executemany and isinstance(parameters, list | tuple):
            for params in parameters:
                note(statement, params, "executemany")
        else:
            note(statement, parameters if parameters else None, "execute")

    event.listen(target, "before_cursor_execute", listener)
    return lambda: event.remove(target, "before_cursor_execute", listener)


def _install_django(connection: Any, note: Note) -> Callable[[], None]:
    def wrapper(execute: Any, sql: str, params: Any, many: Any, context: Any) -> Any:
        if many and params is not None:
            params = list(params)  # may be a generator: keep what is sent
            for one in params:
                note(sql, one, "executemany")
        else:
            note(sql, params, "execute")
        return execute(sql, params, many, context)

    stack = contextlib.ExitStack()
    stack.enter_context(connection.execute_wrapper(wrapper))
    return stack.close


def install(target: Any, note: Note) -> Callable[[], None]:
    """Start noting statements sent through ``target``; returns the function that stops it."""
    source = source_of(target)
    if source == "psycopg":
        return _install_psycopg(target, note)
    if source == "sqlalchemy":
        return _install_sqlalchemy(target, note)
    return _install_django(target, note)


@contextlib.contextmanager
def explain_connection(target: Any) -> Iterator[Any]:
    """A psycopg 3 (sync) connection on which to explain what ``target`` ran.

    The application's own connection where there is one (its transaction, its temp tables);
    for a SQLAlchemy Engine, a pooled connection returned afterwards.

    Raises:
        TypeError: the target cannot give a sync psycopg 3 connection (an AsyncConnection, a
            SQLAlchemy engine on another driver); the message says what to pass instead.
    """
    import psycopg

    source = source_of(target)
    hint = "pass a psycopg 3 connection to the same database: assert_plans(conn=...)"
    if source == "psycopg":
        if not isinstance(target, psycopg.Connection):
            raise TypeError(f"an AsyncConnection cannot run the plan checks; {hint}")
        yield target
        return
    if source == "django":
        target.ensure_connection()
        raw = target.connection
        if not isinstance(raw, psycopg.Connection):
            raise TypeError(f"this Django connection does not use psycopg 3; {hint}")
        yield raw
        return
    sync = _sync_sqlalchemy(target)
    if hasattr(sync, "raw_connection"):  # an Engine: borrow a pooled connection
        pooled = sync.raw_connection()
        try:
            raw = pooled.driver_connection
            if not isinstance(raw, psycopg.Connection):
                raise TypeError(f"this engine's driver is not psycopg 3; {hint}")
            yield raw
        finally:
            pooled.close()
        return
    raw = sync.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"this connection's driver is not psycopg 3; {hint}")
    yield raw


def auto_targets() -> list[Any]:
    """What the plugin hooks for a whole test: every SQLAlchemy engine and Django connection.

    SQLAlchemy's ``Engine`` class (its events reach every engine) and each configured Django
    connection — only for libraries the test process has already imported, so neither is
    loaded for nothing.
    """
    import sys

    targets: list[Any] = []
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.engine import Engine

        targets.append(Engine)
    if "django" in sys.modules:
        import importlib

        # through importlib: Django ships no type information
        if importlib.import_module("django.conf").settings.configured:
            connections = importlib.import_module("django.db").connections
            targets.extend(connections[alias] for alias in connections)
    return targets


def install_auto(target: Any, note: Note) -> Callable[[], None]:
    """`install` for an `auto_targets` entry (the Engine class is hooked like an engine)."""
    if isinstance(target, type):
        return _install_sqlalchemy(target, note)
    return install(target, note)
