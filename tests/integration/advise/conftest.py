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
        setup.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
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


# The traps: 200,000 tickets, one per minute of created_at (so created_at follows the physical
# order). urgent and escalated each hold ~10 % of the rows spread evenly, but both only in the
# last 1,000 rows: the planner (independence) expects 1.1 % of rows everywhere. city is a
# function of zip (correlated columns). status is skewed ('failed' 1 %), tenant_id uniform.
TRAPS_SQL = """
DROP SCHEMA IF EXISTS traps CASCADE;
CREATE SCHEMA traps;
CREATE TABLE traps.tickets (
    id int PRIMARY KEY,
    created_at timestamptz NOT NULL,
    tenant_id int NOT NULL,
    urgent bool NOT NULL,
    escalated bool NOT NULL,
    status text NOT NULL,
    city int NOT NULL,
    zip int NOT NULL,
    tags text[] NOT NULL,
    doc jsonb NOT NULL,
    body text NOT NULL,
    note text,
    amount numeric NOT NULL
);
INSERT INTO traps.tickets
SELECT i,
       timestamptz '2024-01-01 00:00+00' + i * interval '1 minute',
       i % 100,
       i % 10 = 0 OR i > 199000,
       i % 10 = 5 OR i > 199000,
       CASE WHEN i % 100 = 7 THEN 'failed' WHEN i % 10 < 3 THEN 'closed' ELSE 'open' END,
       (i % 1000) / 10,
       i % 1000,
       ARRAY['t' || (i % 50), 'u' || (i % 7)],
       jsonb_build_object('kind', 'k' || (i % 20), 'n', i % 3),
       md5(i::text),
       CASE WHEN i % 4 = 0 THEN NULL ELSE 'note ' || (i % 500) END,
       (i % 1000)::numeric / 10
FROM generate_series(1, 200000) i;
CREATE TABLE traps.events (id int PRIMARY KEY, ticket_id int NOT NULL, kind int NOT NULL);
INSERT INTO traps.events SELECT i, (i * 7919) % 200000 + 1, i % 5 FROM generate_series(1, 100000) i;
CHECKPOINT;
VACUUM ANALYZE traps.tickets;
VACUUM ANALYZE traps.events;
"""


@pytest.fixture(scope="session")
def traps_dsn(advise_dsn: str) -> str:
    """The advisor's database with the ``traps.tickets`` table (loaded once per session)."""
    with psycopg.connect(advise_dsn, autocommit=True) as setup:
        setup.execute("CHECKPOINT")
        for statement in TRAPS_SQL.split(";\n"):
            if statement.strip():
                setup.execute(statement)
    return advise_dsn


@pytest.fixture
def tconn(traps_dsn: str, aconn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """A connection to the database holding the traps (autocommit off)."""
    return aconn


@pytest.fixture
def tauto(traps_dsn: str, autocommit_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """An autocommit connection to the traps (builds real indexes)."""
    return autocommit_conn
