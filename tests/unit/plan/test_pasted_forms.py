"""Every form people paste a JSON plan in: documents, objects, strings, bytes, psql framings.

The framing functions below mimic psql 15's output; `test_framers_reproduce_real_psql` proves
it against real captures (``psql/``, see its README), and the other tests apply them to real
corpus plans.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.plan.builders import corpus_path

PSQL = Path(__file__).parent / "psql"


# --- framers: JSON text -> what psql prints around it ---------------------------------------


def _header(width: int) -> str:
    left = (width - len("QUERY PLAN")) // 2
    return " " * left + "QUERY PLAN" + " " * (width - len("QUERY PLAN") - left)


def aligned(cell: str, *, unicode: bool = False, footer: bool = True) -> str:
    """The default aligned format of psql, border 1 (``+`` or ``↵`` marks a newline in the cell)."""
    lines = cell.split("\n")
    width = max(len(line) for line in lines)
    mark, rule = ("↵", "─") if unicode else ("+", "-")
    out = [] if not footer else [f" {_header(width)} ", rule * (width + 2)]
    out += [f" {line.ljust(width)}{mark}" for line in lines[:-1]]
    out.append(f" {lines[-1]}")
    out += ["(1 row)", ""] if footer else [""]
    return "\n".join(out) + "\n"


def boxed(cell: str, *, unicode: bool = False) -> str:
    """With ``pset border 2``: a full box around the cell."""
    lines = cell.split("\n")
    width = max(len(line) for line in lines)
    if unicode:
        h, v, mark = "─", "│", "↵"
        top, mid, bottom = f"┌{h * (width + 2)}┐", f"├{h * (width + 2)}┤", f"└{h * (width + 2)}┘"
    else:
        h, v, mark = "-", "|", "+"
        top = mid = bottom = f"+{h * (width + 2)}+"
    out = [top, f"{v} {_header(width)} {v}", mid]
    out += [f"{v} {line.ljust(width)}{mark}{v}" for line in lines[:-1]]
    out.append(f"{v} {lines[-1].ljust(width)} {v}")
    out += [bottom, "(1 row)", ""]
    return "\n".join(out) + "\n"


def unaligned(cell: str) -> str:
    """``psql -A``: the header, the cell as is, the footer."""
    return f"QUERY PLAN\n{cell}\n(1 row)\n"


def csv(cell: str) -> str:
    """``psql --csv``: a header row and the cell quoted, inner quotes doubled."""
    quoted = cell.replace('"', '""')
    return f'QUERY PLAN\n"{quoted}"\n'


def tuples_only(cell: str) -> str:
    """``psql -t``: aligned rows, no header or footer."""
    return aligned(cell, footer=False)


FRAMERS: dict[str, Callable[[str], str]] = {
    "aligned": aligned,
    "unicode": lambda cell: aligned(cell, unicode=True),
    "ascii_b2": boxed,
    "unicode_b2": lambda cell: boxed(cell, unicode=True),
    "unaligned": unaligned,
    "csv": csv,
    "tuples": tuples_only,
}
PSET_MESSAGES = {
    "unicode": "Line style is unicode.\n",
    "unicode_b2": "Line style is unicode.\nBorder style is 2.\n",
    "ascii_b2": "Border style is 2.\n",
}


def _cell() -> str:
    """The JSON text psql printed in the captures (the unaligned output's cell)."""
    lines = (PSQL / "unaligned.txt").read_text().split("\n")
    assert lines[0] == "QUERY PLAN"
    assert lines[-2] == "(1 row)"
    return "\n".join(lines[1:-2])


@pytest.mark.parametrize("name", sorted(FRAMERS))
def test_framers_reproduce_real_psql(name: str) -> None:
    expected = (PSQL / f"{name}.txt").read_text()
    assert PSET_MESSAGES.get(name, "") + FRAMERS[name](_cell()) == expected


@pytest.mark.parametrize("path", sorted(PSQL.glob("*.txt")), ids=lambda p: p.stem)
def test_real_psql_outputs_parse_to_the_same_plan(path: Path) -> None:
    reference = json.loads(_cell())
    plan = pa.parse(path.read_text())
    assert plan.to_json() == reference
    assert plan.root.output == ["'a\"b|+'::text", "n.n"]


CORPUS_PLANS = [
    "pev2/many_ctes.json",  # strings with quotes, 49 nodes
    "pg_store_plans/p05_index_scan_forward_any_array_in_expr_escape.json",  # escapes
    "pev2/delete_modifytable_empty_settings.json",
]


@pytest.mark.parametrize("relative", CORPUS_PLANS)
@pytest.mark.parametrize("name", sorted(FRAMERS))
def test_framed_corpus_plans_parse(relative: str, name: str) -> None:
    document = json.loads(corpus_path(relative).read_bytes())
    cell = json.dumps(document, indent=2, ensure_ascii=False)  # psql prints the server's text
    text = FRAMERS[name](cell)
    assert pa.parse(text).to_json() == document


# --- documents, objects, strings, bytes ---------------------------------------------------------


@pytest.fixture
def document() -> list[dict[str, object]]:
    return json.loads(corpus_path("pev2/aggregate_four_joins.json").read_bytes())


def test_list_document(document: list[dict[str, object]]) -> None:
    plan = pa.parse(json.dumps(document))
    assert plan.to_json() == document
    assert isinstance(plan.to_json(), list)


def test_statement_object(document: list[dict[str, object]]) -> None:
    plan = pa.parse(json.dumps(document[0]))
    assert plan.to_json() == document[0]
    assert plan.execution_time_ms == document[0]["Execution Time"]


def test_bare_node(document: list[dict[str, object]]) -> None:
    root = document[0]["Plan"]
    plan = pa.parse(json.dumps(root))
    assert plan.to_json() == root
    assert plan.execution_time_ms is None
    assert len(plan.nodes()) == 19


def test_already_decoded(document: list[dict[str, object]]) -> None:
    assert pa.parse(document).to_json() == document
    assert pa.parse(document[0]).to_json() == document[0]


def test_json_string_of_json(document: list[dict[str, object]]) -> None:
    twice = json.dumps(json.dumps(document))
    assert pa.parse(twice).to_json() == document


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-8", b""),
    ],
)
def test_bytes_with_bom(document: list[dict[str, object]], encoding: str, bom: bytes) -> None:
    raw = bom + json.dumps(document, ensure_ascii=False, indent=2).encode(encoding)
    assert pa.parse(raw).to_json() == document
    assert pa.parse(bytearray(raw)).to_json() == document


def test_text_with_bom_and_whitespace(document: list[dict[str, object]]) -> None:
    text = "\ufeff \n\t" + json.dumps(document, indent=4) + "\n\n  \r\n"
    assert pa.parse(text).to_json() == document


def test_one_line_json(document: list[dict[str, object]]) -> None:
    text = json.dumps(document, separators=(",", ":"))
    assert "\n" not in text
    assert pa.parse(text).to_json() == document


def test_non_ascii_survives(document: list[dict[str, object]]) -> None:
    doc = json.loads(json.dumps(document))
    doc[0]["Plan"]["Alias"] = "zählung_東京"
    for text in (json.dumps(doc), json.dumps(doc, ensure_ascii=False)):
        assert pa.parse(aligned(text)).root.alias == "zählung_東京"


def test_parse_all_two_statements() -> None:
    first = {"Plan": {"Node Type": "Result", "Total Cost": 0.01}, "Planning Time": 0.1}
    second = {"Plan": {"Node Type": "Seq Scan", "Relation Name": "t"}}
    plans = pa.parse_all(json.dumps([first, second]))
    assert [p.root.node_type for p in plans] == ["Result", "Seq Scan"]
    assert plans[0].planning_time_ms == 0.1
    assert plans[1].to_json() == [second]


def test_parse_rejects_two_statements_naming_parse_all() -> None:
    doc = [{"Plan": {"Node Type": "Result"}}, {"Plan": {"Node Type": "Result"}}]
    with pytest.raises(pa.PlanParseError, match=r"parse_all\(\)") as info:
        pa.parse(json.dumps(doc))
    assert info.value.path == "$"
    assert "2 statements" in info.value.reason


def test_parse_passes_statement_context() -> None:
    plan = pa.parse('{"Plan": {"Node Type": "Result"}}', sql="SELECT 1", server_version=150004)
    assert plan.sql == "SELECT 1"
    assert plan.server_version == 150004
    assert "sql" not in json.dumps(plan.to_json())


def test_load_reads_a_file(tmp_path: Path, document: list[dict[str, object]]) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(aligned(json.dumps(document, indent=2)))
    assert pa.load(path).to_json() == document
    assert [p.to_json() for p in pa.load_all(path)] == [document]
    assert pa.load(str(path)).root.node_type == document[0]["Plan"]["Node Type"]


def test_load_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(pa.PlanParseError, match="cannot read file") as info:
        pa.load(tmp_path / "nope.json")
    assert info.value.path.endswith("nope.json")


def test_auto_explain_log_line_with_prefix_and_trailing_lines(
    document: list[dict[str, object]],
) -> None:
    """auto_explain (log_format = json) writes the plan after a log prefix on the same entry."""
    statement = document[0]
    log = (
        "2024-05-01 10:00:00.123 UTC [4242] LOG:  duration: 15.786 ms  plan:\n"
        + json.dumps(statement, indent=2)
        + "\n2024-05-01 10:00:01.000 UTC [4242] LOG:  checkpoint starting: time\n"
    )
    assert pa.parse(log).to_json() == statement


def test_plan_pasted_between_sentences(document: list[dict[str, object]]) -> None:
    text = "Why is this slow?\n" + json.dumps(document, indent=2) + "\nThanks {in advance}"
    assert pa.parse(text).to_json() == document


@pytest.mark.parametrize("as_text", [False, True], ids=["decoded-cell", "text-cell"])
def test_client_result_export_keyed_by_column_name(
    document: list[dict[str, object]], *, as_text: bool
) -> None:
    """pgAdmin/DBeaver/psql JSON exports: one row per statement, keyed by "QUERY PLAN"."""
    cell: object = json.dumps(document) if as_text else document
    exported = json.dumps([{"QUERY PLAN": cell}])
    assert pa.parse(exported).to_json() == document
    two_rows = json.dumps([{"QUERY PLAN": cell}, {"QUERY PLAN": cell}])
    assert len(pa.parse_all(two_rows)) == 2


def test_text_with_braces_is_a_text_plan_and_braces_alone_are_a_clear_error() -> None:
    text = "Seq Scan on orders  (cost=0.00..7454.00 rows=3 width=40)\n  Filter: (tags @> '{a}')"
    assert pa.parse(text).root.filter == "(tags @> '{a}')"
    with pytest.raises(pa.PlanParseError):
        pa.parse('see {"not": "a plan"} here')
