"""``planalyzer explain --format text|json --plan FILE`` converts between the two formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import planalyzer as pa
from planalyzer.cli import main
from tests.unit.plan.text.carried import carried_pair

TWIN = Path(__file__).parents[4] / "fixtures" / "twins" / "pg15" / "hash_joins--analyze_buffers"


def test_json_to_text_prints_what_postgres_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--format", "text", "--plan", f"{TWIN}.json"]) == 0
    text = capsys.readouterr().out
    left, right = carried_pair(pa.parse(text), pa.load(f"{TWIN}.json"))
    assert left == right
    assert text.splitlines()[0].startswith("HashAggregate  (cost=")


def test_text_to_json_gives_an_explain_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--format", "json", "--plan", f"{TWIN}.txt"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert isinstance(document, list)
    assert document[0]["Plan"]["Node Type"] == "Aggregate"
    left, right = carried_pair(pa.parse(document), pa.load(f"{TWIN}.txt"))
    assert left == right


def test_a_plan_file_without_format_is_diagnosed(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["explain", "--plan", f"{TWIN}.txt", "--color", "never"])
    assert status in (0, 1)
    assert "HashAggregate" in capsys.readouterr().out


def test_neither_statement_nor_plan_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--format", "text"]) == 2
    assert "--plan FILE" in capsys.readouterr().err
