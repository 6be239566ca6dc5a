"""Text and JSON twins from a real PostgreSQL 15 (fixtures/twins/generate.py) parse alike.

Plain EXPLAIN is deterministic, so the two parses must carry the same keys and values on every
node and on the statement (see `carried` for what "the same" leaves out: only what the text
format never prints). ANALYZE twins come from two runs, so only the tree, rows and loops must
match.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.plan.text.carried import carried, carried_pair, shape

TWINS = Path(__file__).parents[4] / "fixtures" / "twins"
TEXT_FILES = sorted(TWINS.glob("pg*/*.txt"))
PLAIN = [p for p in TEXT_FILES if "--analyze" not in p.name]
ANALYZED = [p for p in TEXT_FILES if "--analyze" in p.name]


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in paths]


def test_twins_exist() -> None:
    assert len(PLAIN) >= 40
    assert len(ANALYZED) >= 60


@pytest.mark.parametrize("path", PLAIN, ids=_ids(PLAIN))
def test_plain_explain_twins_are_equal_field_by_field(path: Path) -> None:
    from_text = pa.parse(path.read_text())
    from_json = pa.parse(path.with_suffix(".json").read_text())
    left, right = carried_pair(from_text, from_json)
    assert left == right


@pytest.mark.parametrize("path", ANALYZED, ids=_ids(ANALYZED))
def test_analyze_twins_have_the_same_tree_rows_and_loops(path: Path) -> None:
    from_text = pa.parse(path.read_text())
    from_json = pa.parse(path.with_suffix(".json").read_text())
    assert from_text.analyzed
    assert shape(from_text) == shape(from_json)
    # the statement-level sections are all there (times differ between the two runs)
    assert set(carried(from_text)[0]) == set(carried(from_json)[0])


@pytest.mark.parametrize("path", ANALYZED, ids=_ids(ANALYZED))
def test_analyze_twins_give_the_same_findings(path: Path) -> None:
    from_text = pa.analyze(pa.parse(path.read_text()))
    from_json = pa.analyze(pa.parse(path.with_suffix(".json").read_text()))
    assert {(f.rule, f.node_id) for f in from_text.findings} == {
        (f.rule, f.node_id) for f in from_json.findings
    }


# Without VERBOSE, "Function Scan on r" is a function r or an expression aliased r: text cannot
# tell (docs/text-format.md, Known limits), and the faces name the node by what was read.
FACE_TWINS = [
    p
    for p in PLAIN
    if p.stem not in ("function_scan_expressions--plain", "function_scan_expressions--costs_off")
]


@pytest.mark.parametrize("path", FACE_TWINS, ids=_ids(FACE_TWINS))
def test_plain_twins_look_the_same_in_every_face(path: Path) -> None:
    from planalyzer.display.html import render_plan_html, render_report_html

    from_text = pa.analyze(pa.parse(path.read_text()))
    from_json = pa.analyze(pa.parse(path.with_suffix(".json").read_text()))
    assert str(from_text) == str(from_json)
    assert render_report_html(from_text) == render_report_html(from_json)
    assert render_plan_html(from_text.plan) == render_plan_html(from_json.plan)
