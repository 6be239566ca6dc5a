"""The log summary as text, notebook HTML and through ``planalyzer logs``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import planalyzer as pa
from tests.unit.display.html_check import assert_well_formed
from tests.unit.logs.logdata import FILES

ROOT = Path(__file__).resolve().parents[3]


def test_text_lists_groups_in_rank_order_with_their_figures():
    summary = pa.summarize_log(FILES["jsonlog"])
    text = str(summary)
    positions = [text.index(f"#{rank} ") for rank in range(1, len(summary.groups) + 1)]
    assert positions == sorted(positions)
    assert f"{summary.entries} auto_explain entries" in text
    (group, problem) = next(
        (g, p) for g in summary.groups for p in g.problems if p.rule == "seq-scan"
    )
    assert f"seq-scan in {problem.plans} of {group.count} plans" in text
    assert "the plan changed" in text
    assert summary.groups[0].worst.source in text
    assert "Malformed" not in text  # none in the sample


def test_html_is_well_formed_and_escapes_statements(tmp_path):
    # A real entry with a hostile literal in its statement.
    line = next(line for line in FILES["jsonlog"].read_text().splitlines() if "ms  plan:" in line)
    record = json.loads(line)
    head, body = record["message"].split("plan:\n", 1)
    plan = json.loads(body)
    # An identifier, not a constant, so it survives normalisation into the group's text.
    plan["Query Text"] = plan["Query Text"].replace(
        "SELECT * FROM", 'SELECT id AS "<script>x</script>" FROM'
    )
    record["message"] = head + "plan:\n" + json.dumps(plan)
    hostile = json.dumps(record)
    path = tmp_path / "hostile.json"
    path.write_text(hostile + "\n")
    summary = pa.summarize_log(path)
    assert "<script>" in summary.groups[0].worst.query
    html = summary._repr_html_()
    assert "<script>" not in html
    parsed = assert_well_formed(html)
    assert "&lt;script&gt;" in html
    assert "<script>x</script>" in parsed.text
    bundle = summary._repr_mimebundle_(exclude=["text/html"])
    assert bundle == {"text/plain": str(summary)}


def test_html_shows_every_group_and_the_malformed_entries():
    summary = pa.summarize_log(FILES["stderr"])
    parsed = assert_well_formed(summary._repr_html_())
    assert parsed.tags.count("details") >= len(summary.groups)
    assert "Malformed" not in parsed.text


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "planalyzer", "logs", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_cli_prints_the_top_groups_and_json(tmp_path):
    result = run(str(FILES["csvlog"]), "--top", "2", "--html", str(tmp_path / "s.html"))
    assert result.returncode == 0, result.stderr
    assert "#2 " in result.stdout
    assert "#3 " not in result.stdout
    assert_well_formed((tmp_path / "s.html").read_text().split("<title>planalyzer logs</title>")[1])
    result = run(str(FILES["jsonlog"]), "--json")
    data = json.loads(result.stdout)
    assert data["entries"] == sum(g["count"] for g in data["groups"])
    assert data["engine"] == "local"


def test_cli_reports_a_missing_file_in_one_line():
    result = run("no-such-file.log")
    assert result.returncode == 2
    assert "no such log file" in result.stderr
    assert "Traceback" not in result.stderr
