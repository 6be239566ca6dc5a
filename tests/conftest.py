"""Test-suite wiring: fixture plugins only, as psycopg's suite does."""

pytest_plugins = ["tests.fixtures_db", "pytester"]
