"""Database fixtures: a throwaway PostgreSQL 15 with HypoPG and the demo schema loaded once.

Fixtures:
    pg_server: (session) the running `ThrowawayServer`.
    demo_dsn: (session) conninfo of the ``planalyzer_demo`` database, demo schema loaded,
        ``hypopg`` created.
    conn: (function) a psycopg connection to it, not in autocommit, closed after the test.

When the server binaries or HypoPG are missing, tests using these fixtures are skipped with the
install command — or fail with it when ``CI`` is set, because CI must never silently skip the
database tests. Every test that uses them gets the ``db`` marker, and ``pg("...")`` markers are
checked against the server version.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import psycopg
import pytest
from psycopg import sql

from planalyzer.live.demo import load_demo_schema
from planalyzer.live.throwaway import (
    DEFAULT_MAJOR,
    ThrowawayServer,
    find_pg_bin,
    hypopg_available,
    install_hint,
    throwaway_server,
)

DEMO_DB = "planalyzer_demo"
DB_FIXTURES = frozenset({"pg_server", "demo_dsn", "conn"})

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_PG_SPEC = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(\d+)\s*$")


def running_in_ci() -> bool:
    """True when the ``CI`` environment variable is set to a truthy value."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason: str) -> NoReturn:
    """Skip (or, in CI, fail) because the database cannot be provided; say how to fix it."""
    message = f"{reason}; install it with: {install_hint(DEFAULT_MAJOR)} (or run .ci/setup)"
    if running_in_ci():
        pytest.fail(f"CI is set, so database tests must not be skipped: {message}", pytrace=False)
    pytest.skip(reason=message)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a database fixture with ``db``."""
    for item in items:
        if DB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayServer]:
    """A throwaway PostgreSQL cluster with HypoPG, shared by the whole session."""
    bin_dir = find_pg_bin(DEFAULT_MAJOR)
    if bin_dir is None:
        unavailable(f"PostgreSQL {DEFAULT_MAJOR} server binaries not found")
    if not hypopg_available(bin_dir):
        unavailable(f"the HypoPG extension is not installed for PostgreSQL {DEFAULT_MAJOR}")
    with throwaway_server(hypopg=True) as server:
        yield server


@pytest.fixture(scope="session")
def demo_dsn(pg_server: ThrowawayServer) -> str:
    """Conninfo of a database holding the demo schema (loaded once per session)."""
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DB)))
    dsn = pg_server.dsn_for(DEMO_DB)
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        load_demo_schema(setup)
    return dsn


@pytest.fixture
def conn(demo_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the demo database (autocommit off); closed, uncommitted work discarded."""
    connection = psycopg.connect(demo_dsn)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture(autouse=True)
def _pg_version_marker(request: pytest.FixtureRequest) -> None:
    """Skip a test whose ``pg("<op> <server_version_num or major>")`` marker the server fails."""
    marker = request.node.get_closest_marker("pg")
    if marker is None:
        return
    match = _PG_SPEC.match(str(marker.args[0]) if marker.args else "")
    if match is None:
        pytest.fail(f"bad pg marker {marker.args!r}: expected e.g. pg('>= 16')", pytrace=False)
    op, number = match.group(1), int(match.group(2))
    server: ThrowawayServer = request.getfixturevalue("pg_server")
    with psycopg.connect(server.dsn) as probe:
        version = probe.info.server_version
    actual = version if number >= 10000 else version // 10000
    if not _COMPARISONS[op](actual, number):
        pytest.skip(reason=f"needs PostgreSQL {op} {number}, server is {version}")
