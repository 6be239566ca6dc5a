"""The throwaway server launcher and the skip/fail policy of the database fixtures."""

from __future__ import annotations

import psycopg
import pytest

from planalyzer.errors import DatabaseError
from planalyzer.live.throwaway import find_pg_bin, install_hint, throwaway_server
from tests.fixtures_db import running_in_ci, unavailable


def test_server_listens_on_localhost_with_quick_settings(pg_server):
    assert pg_server.host == "127.0.0.1"
    assert pg_server.major == 15
    assert f"port={pg_server.port}" in pg_server.dsn
    with psycopg.connect(pg_server.dsn) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                [["listen_addresses", "fsync", "synchronous_commit", "full_page_writes"]],
            ).fetchall()
        )
        extensions = conn.execute("SELECT extname FROM pg_extension").fetchall()
    assert settings == {
        "listen_addresses": "127.0.0.1",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    assert ("hypopg",) in extensions


def test_missing_binaries_raise_with_the_install_command(monkeypatch):
    monkeypatch.delenv("PLANALYZER_PG_BIN", raising=False)
    assert find_pg_bin(major=99) is None
    with pytest.raises(
        DatabaseError, match="apt-get install -y postgresql-99 postgresql-99-hypopg"
    ):
        with throwaway_server(major=99):
            pass


def test_install_hint_names_both_packages():
    assert install_hint(15).endswith("apt-get install -y postgresql-15 postgresql-15-hypopg")


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("", False)])
def test_ci_detection(monkeypatch, value, expected):
    monkeypatch.setenv("CI", value)
    assert running_in_ci() is expected


def test_unavailable_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"must not be skipped.*apt-get install"):
        unavailable("PostgreSQL 15 server binaries not found")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        unavailable("PostgreSQL 15 server binaries not found")
