"""Fingerprints, call sites, query budgets, N+1 detection, marker/ini options and the report."""

from __future__ import annotations

import json
import sys

import pytest

from planalyzer.testing import CapturedStatement
from planalyzer.testing._budget import max_queries_failure, n_plus_one_failure
from planalyzer.testing._callsite import call_site
from planalyzer.testing._fingerprint import fingerprint, to_dollar_params
from planalyzer.testing._marker import check_budgets, policy_from
from planalyzer.testing._report import _captured, write_report
from planalyzer.testing._settings import resolve
from planalyzer.testing.capture import CapturedQueries

BY_ID = "SELECT name FROM customers WHERE id = %s"


def _statements(sql, count, site="app/views.py:42", source="psycopg", params=None):
    fp = fingerprint(sql, has_params=True)
    return [
        CapturedStatement(sql, params or [i], "execute", fp, site, "list_orders", source)
        for i in range(count)
    ]


def test_fingerprint_ignores_values_and_placeholder_style():
    assert fingerprint("SELECT * FROM t WHERE a = 1 AND b IN (1, 2)") == fingerprint(
        "select * from t where a = 7 and b in (3, 4, 5)"
    )
    assert fingerprint(BY_ID, has_params=True) == fingerprint(
        "SELECT name FROM customers WHERE id = $1"
    )
    assert fingerprint(BY_ID, has_params=True) != fingerprint(
        "SELECT name FROM customers WHERE email = $1"
    )
    named = "SELECT * FROM t WHERE a = %(a)s AND b = %(b)s AND c = %(a)s"
    assert to_dollar_params(named) == "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $1"
    # without parameters psycopg sends % as is: no placeholder rewriting
    assert to_dollar_params("SELECT '100%%'") == "SELECT '100%'"
    unparsable = fingerprint("SELEC oops")
    assert unparsable.startswith("text:")
    assert unparsable == fingerprint("  selec   OOPS ")


def test_call_site_is_the_first_frame_outside_the_libraries():
    def app_helper():
        return call_site()

    site = app_helper()
    assert site.file.endswith("test_budget.py")
    assert site.function == "app_helper"
    assert str(site) == f"{site.file}:{site.line}"
    sites = [call_site() for _ in range(1)]  # a comprehension frame names its function
    assert sites[0].function == sys._getframe().f_code.co_name


def test_note_records_fingerprint_call_site_and_source():
    captured = CapturedQueries(source="django")
    captured.note(BY_ID, [1], "execute")
    captured.note(BY_ID, [2], "execute")
    captured.active = False
    captured.note(BY_ID, [3], "execute")
    assert captured.count == 2
    first = captured.statements[0]
    assert first.fingerprint == fingerprint(BY_ID, has_params=True)
    assert "test_budget.py:" in first.call_site
    assert first.function == "test_note_records_fingerprint_call_site_and_source"
    assert first.source == "django"
    assert captured.by_fingerprint() == [(first, 2)]


def test_n_plus_one_names_statement_count_call_site_and_fix():
    statements = _statements("SELECT id FROM orders", 1, "app/views.py:40")
    statements += _statements(BY_ID, 12, source="sqlalchemy")
    assert n_plus_one_failure(statements, 13) is None
    failure = n_plus_one_failure(statements, 12, source="@pytest.mark.planalyzer(n_plus_one=12)")
    lines = str(failure).splitlines()
    assert lines[0] == (
        "@pytest.mark.planalyzer(n_plus_one=12): N+1 queries: 1 statement ran 12 times or more"
        " from one call site (13 statements captured)"
    )
    assert lines[2] == f"[1] 12 × {BY_ID}"
    assert lines[3] == "    call site: app/views.py:42 (in list_orders)"
    assert lines[4] == "    params:    [0], [1], [2] … (9 more)"
    assert "selectinload()" in lines[5]
    assert failure.found == (f"12 × {BY_ID} at app/views.py:42 (in list_orders)",)


def test_n_plus_one_needs_one_call_site_and_skips_transaction_control():
    spread = _statements(BY_ID, 3, "a.py:1") + _statements(BY_ID, 3, "b.py:2")
    assert n_plus_one_failure(spread, 4) is None
    savepoints = _statements("SAVEPOINT s1", 10)
    assert n_plus_one_failure(savepoints, 2) is None
    with pytest.raises(ValueError, match="2 or more"):
        n_plus_one_failure(spread, 1)


def test_query_budget_groups_by_query_most_frequent_first():
    statements = _statements("SELECT id FROM orders", 1, "app/views.py:40") + _statements(BY_ID, 6)
    assert max_queries_failure(statements, 7) is None
    failure = max_queries_failure(statements, 5)
    lines = str(failure).splitlines()
    assert lines[0] == (
        "7 statements were sent, the budget is 5 (2 over); by query, most frequent first:"
    )
    assert lines[1] == f"     6 × {BY_ID}"
    assert lines[2] == "         from app/views.py:42 (in list_orders)"
    assert lines[3] == "     1 × SELECT id FROM orders"
    assert lines[-1].startswith("the biggest repeat, 6 × from app/views.py:42")
    captured = CapturedQueries(statements=statements)
    captured.assert_max_queries(7).assert_no_n_plus_one(threshold=7)
    with pytest.raises(AssertionError, match="N\\+1 queries"):
        captured.assert_no_n_plus_one(threshold=6)


def test_marker_and_ini_budgets():
    marker = pytest.mark.planalyzer(max_queries=3, n_plus_one=4).mark
    policy = policy_from(marker, None)
    assert (policy.fail_on, policy.max_queries, policy.n_plus_one) == (None, 3, 4)
    messages = check_budgets(_statements(BY_ID, 5), policy)
    assert len(messages) == 2
    assert messages[0].startswith("@pytest.mark.planalyzer(max_queries=3, n_plus_one=4): 5 stat")
    # a marker with only budgets leaves findings to the option; with fail_on it checks both
    assert policy_from(marker, None).fail_on is None
    both = policy_from(pytest.mark.planalyzer(fail_on="critical", max_queries=1).mark, None)
    assert (both.fail_on.value, both.max_queries) == ("critical", 1)
    ini = policy_from(None, None, max_queries=10, n_plus_one=None)
    assert (ini.max_queries, ini.budget_source) == (10, "ini")
    assert policy_from(None, None) is None
    with pytest.raises(ValueError, match="n_plus_one must be 2 or more"):
        policy_from(pytest.mark.planalyzer(n_plus_one=1).mark, None)
    with pytest.raises(ValueError, match="max_queries must be a whole number"):
        policy_from(pytest.mark.planalyzer(max_queries="many").mark, None)


def test_options_resolve_budgets_proof_and_report():
    settings = resolve(
        {"planalyzer_max_queries": "20", "planalyzer_prove_fixes": "true"},
        {"planalyzer_n_plus_one": "6", "planalyzer_report": "out/report.json"},
        {},
    )
    assert (settings.max_queries, settings.n_plus_one, settings.prove_fixes) == (20, 6, True)
    assert settings.report == "out/report.json"
    assert settings.configured
    with pytest.raises(ValueError, match="planalyzer_prove_fixes must be true or false"):
        resolve({"planalyzer_prove_fixes": "maybe"}, {}, {})
    with pytest.raises(ValueError, match="planalyzer_n_plus_one must be 2 or more"):
        resolve({}, {"planalyzer_n_plus_one": "1"}, {})


def test_report_groups_captured_statements_and_is_stable(tmp_path):
    statements = _statements(BY_ID, 3) + _statements(BY_ID, 1, "app/other.py:7")
    statements += _statements("SELECT now()", 1, params=[object()])
    [by_id, now] = _captured(statements)
    assert by_id["count"] == 4
    assert by_id["call_sites"] == {"app/views.py:42": 3, "app/other.py:7": 1}
    assert now["params"].startswith("[<object object")  # not JSON: its repr
    path = write_report(tmp_path / "r" / "report.json", [{"test": "b"}, {"test": "a"}])
    document = json.loads(path.read_text())
    assert [t["test"] for t in document["tests"]] == ["a", "b"]
