"""Assertions on query plans for pytest (and any test runner)."""
