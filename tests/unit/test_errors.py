"""Every error class: hierarchy, messages, attributes and pickling."""

from __future__ import annotations

import inspect
import pickle

import pytest

import planalyzer as pa
from planalyzer import errors

ALL_ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, BaseException) and cls.__module__ == "planalyzer"
]


def samples() -> list[errors.PlanalyzerError]:
    return [
        errors.PlanalyzerError("something"),
        errors.PlanParseError('$[0].Plan.Plans[1]["Actual Rows"]', "input should be a number"),
        errors.ConfigError("sort_spill.min_spill_kb", "must be >= 0"),
        errors.DatabaseError(
            "could not connect", sqlstate="08006", server_message="connection refused"
        ),
        errors.ExtensionMissingError.hypopg("not installed", server_major=16),
        errors.ServerVersionError("needs PostgreSQL 16 for EXPLAIN (GENERIC_PLAN)"),
        errors.ExplainError(
            "EXPLAIN failed",
            statement="SELECT nope",
            sqlstate="42703",
            server_message='column "nope" does not exist',
        ),
        errors.UnsafeStatementError(
            "setval is refused",
            statement="SELECT setval('s', 1)",
            functions=("pg_catalog.setval",),
            reasons=("sets a sequence",),
        ),
        errors.AdviceError("the workload is empty"),
        errors.LogReadError("postgresql-*.log: no such log file (nor a glob that matches one)"),
    ]


def test_every_class_has_a_sample() -> None:
    assert sorted(c.__name__ for c in ALL_ERRORS) == sorted(type(e).__name__ for e in samples())
    assert sorted(errors.__all__) == sorted(c.__name__ for c in ALL_ERRORS)


@pytest.mark.parametrize("err", samples(), ids=lambda e: type(e).__name__)
def test_hierarchy_and_module(err: errors.PlanalyzerError) -> None:
    cls = type(err)
    assert isinstance(err, pa.PlanalyzerError)
    assert cls.__module__ == "planalyzer"
    assert getattr(pa, cls.__name__) is cls  # re-exported where the traceback says it lives
    assert str(err)
    assert "\n" not in str(err)


@pytest.mark.parametrize("err", samples(), ids=lambda e: type(e).__name__)
def test_pickles_with_attributes(err: errors.PlanalyzerError) -> None:
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err)
    assert str(again) == str(err)
    assert again.args == err.args
    assert vars(again) == vars(err)


@pytest.mark.parametrize(
    ("cls", "is_value_error"),
    [
        (errors.PlanParseError, True),
        (errors.ConfigError, True),
        (errors.UnsafeStatementError, True),
        (errors.DatabaseError, False),
        (errors.ExplainError, False),
        (errors.AdviceError, False),
        (errors.PlanalyzerError, False),
    ],
)
def test_value_error_where_the_caller_passed_bad_input(cls: type, is_value_error: bool) -> None:
    assert issubclass(cls, ValueError) is is_value_error


def test_database_family() -> None:
    for cls in (errors.ExtensionMissingError, errors.ServerVersionError, errors.ExplainError):
        assert issubclass(cls, errors.DatabaseError)
    assert issubclass(errors.UnsafeStatementError, errors.ExplainError)


def test_plan_parse_error_message_and_attributes() -> None:
    err = errors.PlanParseError("line 3, column 14", "invalid JSON: Expecting ','")
    assert err.path == "line 3, column 14"
    assert err.reason == "invalid JSON: Expecting ','"
    assert str(err) == "cannot read plan at line 3, column 14: invalid JSON: Expecting ','"


def test_config_error_names_the_key() -> None:
    err = errors.ConfigError("seq_scan.min_rows", "unknown key")
    assert err.key == "seq_scan.min_rows"
    assert "'seq_scan.min_rows'" in str(err)


def test_database_error_carries_the_server_message() -> None:
    err = errors.DatabaseError("query failed", sqlstate="57014", server_message="canceled")
    assert err.sqlstate == "57014"
    assert err.server_message == "canceled"
    assert "canceled" in str(err)
    assert "57014" in str(err)
    plain = errors.DatabaseError("query failed")
    assert str(plain) == "query failed"


def test_hypopg_error_says_how_to_fix_it() -> None:
    err = errors.ExtensionMissingError.hypopg(server_major=16)
    assert "postgresql-16-hypopg" in str(err)
    assert "CREATE EXTENSION hypopg" in str(err)


def test_explain_error_keeps_the_statement() -> None:
    err = errors.ExplainError("EXPLAIN failed", statement="SELECT 1/0", sqlstate="22012")
    again = pickle.loads(pickle.dumps(err))
    assert again.statement == "SELECT 1/0"
    assert again.sqlstate == "22012"
