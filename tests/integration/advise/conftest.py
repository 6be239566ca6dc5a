"""A demo database of the advisor's own, vacuumed, so it can build real indexes in verify().

The shared ``demo_dsn`` database is read by other suites; verify() creates and drops real
indexes, so the advisor tests use a copy loaded into ``planalyzer_advise``. It is VACUUMed once
so the visibility map is set, as autovacuum would have done on a live database; without that,
index-only scans can never win and covering indexes could not be judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from planalyzer.live.demo import load_demo_schema
from planalyzer.live.throwaway import ThrowawayServer

ADVISE_DB = "planalyzer_advise"


@pytest.fixture(scope="session")
def advise_dsn(pg_server: ThrowawayServer) -> str:
    """Conninfo of the advisor's demo database (loaded and vacuumed once per session)."""
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(ADVISE_DB)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(ADVISE_DB)))
    dsn = pg_server.dsn_for(ADVISE_DB)
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        load_demo_schema(setup)
        # The throwaway server commits asynchronously: until the WAL is flushed, hint bits
        # cannot be set and VACUUM cannot mark pages all-visible. CHECKPOINT flushes it.
        setup.execute("CHECKPOINT")
        setup.execute("VACUUM")
        row = setup.execute(
            "SELECT relallvisible FROM pg_class WHERE oid = 'public.orders'::regclass"
        ).fetchone()
        assert row is not None
        assert row[0] > 0, "VACUUM did not set the visibility map"
    return dsn


@pytest.fixture
def aconn(advise_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the advisor's database (autocommit off)."""
    connection = psycopg.connect(advise_dsn)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def autocommit_conn(advise_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection, as verify() needs for CREATE INDEX CONCURRENTLY."""
    connection = psycopg.connect(advise_dsn, autocommit=True)
    try:
        yield connection
    finally:
        connection.close()
