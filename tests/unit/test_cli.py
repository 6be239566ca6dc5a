"""The command line through a real subprocess: output, --json, exit codes, errors, --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import planalyzer as pa
from planalyzer.rules.docs import render_rules_markdown
from tests.unit.display.html_check import assert_well_formed

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "fixtures" / "plans"
SPILL = PLANS / "sort-spill" / "fires--external-merge.json"
QUIET = PLANS / "seq-scan" / "quiet--primary-key-lookup.json"


def run(*args: str, stdin: str | None = None, env: dict[str, str | None] | None = None):
    """The CLI in a subprocess; ``env`` values of None remove the variable."""
    environ = {**os.environ, "NO_COLOR": ""}
    environ.pop("COLUMNS", None)
    environ.pop("FORCE_COLOR", None)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return subprocess.run(
        [sys.executable, "-m", "planalyzer", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=120,
        check=False,
    )


def test_analyze_prints_the_tree_then_the_findings():
    result = run("analyze", str(SPILL))
    assert result.returncode == 0, result.stderr
    report = pa.analyze(pa.load(SPILL))
    out = result.stdout
    assert out.index("[1] Sort") < out.index("most time first.")
    for problem in report.problems():
        assert f"{problem.severity.value.upper()} {problem.headline.rule}" in out
        for finding in problem.related:
            assert f"- {finding.severity.value} {finding.rule}" in out
    assert "\x1b[" not in out  # a pipe is not a terminal


@pytest.mark.parametrize("path", [SPILL, QUIET], ids=["spill", "quiet"])
@pytest.mark.parametrize("level", ["info", "warning", "critical"])
def test_fail_on_exit_code_follows_the_findings(path, level):
    expected = 1 if pa.analyze(pa.load(path)).at_least(level) else 0
    result = run("analyze", str(path), "--fail-on", level)
    assert result.returncode == expected, result.stderr


def test_fail_on_critical_fails_on_the_spill():
    assert pa.analyze(pa.load(SPILL)).at_least("critical")  # the premise of the next line
    assert run("analyze", str(SPILL), "--fail-on", "critical").returncode == 1


def test_json_output_holds_the_report():
    result = run("analyze", str(SPILL), "--json")
    assert result.returncode == 0
    document = json.loads(result.stdout)
    report = pa.analyze(pa.load(SPILL))
    assert document["source"] == str(SPILL)
    (statement,) = document["statements"]
    findings = statement["findings"]
    for added in findings:
        added.pop("node_name")
        added.pop("problem")
    assert findings == json.loads(json.dumps(report.to_dict()["findings"]))
    assert document["counts"] == {s.value: n for s, n in report.counts().items()}


def test_disable_switches_a_rule_off():
    result = run("analyze", str(SPILL), "--json", "--disable", "sort-spill,jit-overhead")
    statement = json.loads(result.stdout)["statements"][0]
    assert all(f["rule"] != "sort-spill" for f in statement["findings"])
    assert statement["rules_skipped"]["sort-spill"] == "disabled"


def test_reads_standard_input():
    result = run("analyze", "-", "--no-tree", stdin=SPILL.read_text())
    assert result.returncode == 0
    assert result.stdout.startswith("Statement: executed in")


def test_several_statements_in_one_document():
    both = json.dumps([json.loads(SPILL.read_text())[0], json.loads(QUIET.read_text())[0]])
    result = run("analyze", "-", stdin=both)
    assert "== Statement 1 of 2 ==" in result.stdout
    assert "== Statement 2 of 2 ==" in result.stdout


def test_html_report_is_written(tmp_path):
    target = tmp_path / "report.html"
    result = run("analyze", str(SPILL), "--html", str(target))
    assert result.returncode == 0
    page = target.read_text()
    body = page[page.index("<body") :]
    body = body[body.index(">") + 1 : body.rindex("</body>")].strip()
    assert_well_formed(body)


def test_color_always_paints_and_keeps_the_text():
    plain = run("analyze", str(SPILL)).stdout
    painted = run("analyze", str(SPILL), "--color", "always").stdout
    assert "\x1b[" in painted
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", painted) == plain


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["analyze", "-"], '{"Plan": ', "planalyzer: error: cannot read plan at line 1"),
        (["analyze", "/no/such/plan.json"], None, "cannot read file"),
        (["analyze", str(QUIET), "--disable", "no-such-rule"], None, "no such rule"),
        (["explain", "--dsn", "host=127.0.0.1 port=1", "SELECT 1"], None, "cannot connect"),
        (["advise", "--dsn", "", "x.sql", "--budget", "lots"], None, "cannot read"),
    ],
    ids=["bad-json", "missing-file", "unknown-rule", "no-server", "bad-budget"],
)
def test_input_errors_exit_2_with_one_line_and_no_traceback(args, stdin, message):
    result = run(*args, stdin=stdin)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("planalyzer: error: ")
    assert message in lines[0]


def test_usage_error_exits_2():
    result = run()
    assert result.returncode == 2
    assert "usage: planalyzer" in result.stderr


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("analyze", ["EXPLAIN (FORMAT JSON)", "--fail-on", "--json", "--disable"]),
        ("explain", ["rolled back", "--dsn", "--no-analyze"]),
        ("advise", ["HypoPG", "--budget", "--max-indexes", "--migrations"]),
        ("audit", ["unused", "--dsn"]),
        ("rules", ["Markdown"]),
        ("demo", ["throwaway", "--offline"]),
    ],
)
def test_help_of_each_command(command, words):
    result = run(command, "--help")
    assert result.returncode == 0
    for word in words:
        assert word in result.stdout


def test_rules_prints_the_reference():
    result = run("rules")
    assert result.returncode == 0
    assert result.stdout == render_rules_markdown()


def test_console_script_module_matches_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'planalyzer = "planalyzer.cli:main"' in text
    from planalyzer.cli import main

    assert callable(main)


def test_demo_offline_analyses_the_bundled_plans():
    result = run("demo", "--offline")
    assert result.returncode == 0, result.stderr
    from planalyzer.cli._demo import BUNDLED

    for name, _story in BUNDLED:
        assert f"sample {name!r}" in result.stdout
    assert "Live part skipped (--offline)" in result.stdout


def test_demo_without_server_binaries_says_what_it_skipped(monkeypatch, capsys):
    import planalyzer.live.throwaway as throwaway
    from planalyzer.cli import main

    monkeypatch.setattr(throwaway, "find_pg_bin", lambda major=15: None)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Skipped: the PostgreSQL 15 server binaries are not installed" in out
    assert "apt-get install -y postgresql-15 postgresql-15-hypopg" in out


def test_parse_size_units():
    from planalyzer.cli._advise import parse_size

    assert parse_size("500MB") == 500 * 2**20
    assert parse_size("2 GB") == 2 * 2**30
    assert parse_size("800kB") == 800 * 2**10
    assert parse_size("1024") == 1024
    with pytest.raises(pa.ConfigError):
        parse_size("many")


BIG = ROOT / "tests" / "corpus" / "pev2" / "very_large_plan_object_form.json"


def test_json_findings_carry_their_node_name_and_problem():
    result = run("analyze", str(BIG), "--json")
    assert result.returncode == 0, result.stderr
    (statement,) = json.loads(result.stdout)["statements"]
    report = pa.analyze(pa.load(BIG))
    problems = report.problems()
    assert len(statement["problems"]) == len(problems)
    for number, problem in enumerate(problems, start=1):
        entry = statement["problems"][number - 1]
        assert entry["impact_ms"] == problem.impact_ms
        assert statement["findings"][entry["headline"]]["rule"] == problem.headline.rule
        for index in [entry["headline"], *entry["related"]]:
            assert statement["findings"][index]["problem"] == number
    for data in statement["findings"]:
        if data["node_id"] is not None:
            assert data["node_name"] == report.plan.node(data["node_id"]).display_name
    assert statement["warnings"] == []


def _widths(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [50, 64, 80, 140])
def test_width_applies_to_every_line(width):
    for args in (["analyze", str(BIG)], ["analyze", str(SPILL)], ["demo", "--offline"]):
        result = run(*args, "--width", str(width))
        assert result.returncode == 0, result.stderr
        assert _widths(result.stdout) <= width, args


def test_width_follows_columns_then_defaults_to_100_off_a_terminal():
    assert _widths(run("analyze", str(BIG), env={"COLUMNS": "72"}).stdout) <= 72
    wide = run("analyze", str(BIG)).stdout
    assert 90 < _widths(wide) <= 100  # a pipe is not a terminal: 100 columns
    assert _widths(run("analyze", str(BIG), "--width", "64", env={"COLUMNS": "200"}).stdout) <= 64


@pytest.mark.parametrize("value", ["20", "49", "0", "-5", "wide"])
def test_width_too_small_or_not_a_number_is_refused(value):
    result = run("analyze", str(SPILL), "--width", value)
    assert result.returncode == 2
    assert "argument --width" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("env", "painted"),
    [
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": "0"}, False),
        ({"FORCE_COLOR": ""}, False),
        ({"NO_COLOR": "1"}, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),
    ],
)
def test_force_color_and_no_color_are_honoured(env, painted):
    out = run("analyze", str(SPILL), env=env).stdout
    assert ("\x1b[" in out) is painted
    assert "\x1b[" not in run("analyze", str(SPILL), "--color", "never", env=env).stdout


def test_html_error_names_the_html_option(tmp_path):
    result = run("analyze", str(SPILL), "--html", str(tmp_path / "missing" / "r.html"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("planalyzer: error: --html: cannot write")
    assert "rule configuration" not in line


_SPILL_JSON = json.dumps(json.loads(SPILL.read_text()), indent=2)


def _aligned(text: str) -> str:
    """``text`` as psql's aligned format prints a one-cell result, with '+' continuations."""
    lines = text.splitlines()
    width = max(len(line) for line in lines)
    body = [f" {line:<{width}} +" for line in lines[:-1]] + [f" {lines[-1]}"]
    return "\n".join([f"{'QUERY PLAN':^{width + 2}}", "-" * (width + 2), *body, "(1 row)", ""])


def _expanded(text: str) -> str:
    """``text`` as psql prints it in expanded display mode."""
    lines = text.splitlines()
    body = [f"QUERY PLAN | {lines[0]:<40} +"]
    body += [f"           | {line:<40} +" for line in lines[1:-1]]
    body += [f"           | {lines[-1]}"]
    return "\n".join(["-[ RECORD 1 ]" + "-" * 40, *body])


@pytest.mark.parametrize(
    "paste",
    [
        "shop=# EXPLAIN (ANALYZE, FORMAT JSON) SELECT ...;\n"
        + _aligned(_SPILL_JSON)
        + "\nTime: 143.512 ms\nshop=# ",
        _aligned(_SPILL_JSON) + "\nTime: 1,143.512 ms (00:01.144)\n",
        "shop=# \\x\nExpanded display is on.\nshop=# EXPLAIN (FORMAT JSON) ...\n"
        + _expanded(_SPILL_JSON)
        + "\n\nTime: 143.512 ms\nshop=> ",
    ],
    ids=["aligned-timing-prompt", "aligned-timing", "expanded"],
)
def test_psql_session_pastes_are_read(paste):
    result = run("analyze", "-", "--json", stdin=paste)
    assert result.returncode == 0, result.stderr
    (statement,) = json.loads(result.stdout)["statements"]
    expected = pa.analyze(pa.load(SPILL))
    assert [f["rule"] for f in statement["findings"]] == [f.rule for f in expected.findings]
    assert statement["total_time_ms"] == expected.plan.total_time_ms
