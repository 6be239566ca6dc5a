"""Bad input always raises PlanParseError with a place and a reason, in one readable line."""

from __future__ import annotations

import json
from typing import Any

import pytest

import planalyzer as pa
from tests.unit.plan.builders import corpus_path


def reject(data: Any) -> pa.PlanParseError:
    with pytest.raises(pa.PlanParseError) as info:
        pa.parse(data)
    err = info.value
    message = str(err)
    assert err.path
    assert err.reason
    assert message == f"cannot read plan at {err.path}: {err.reason}"
    assert "\n" not in message
    assert "validation error" not in message.lower()  # no pydantic dump
    assert "pydantic" not in message.lower()
    assert isinstance(err, pa.PlanalyzerError)
    assert isinstance(err, ValueError)
    assert err.__cause__ is None or not isinstance(err.__cause__, RecursionError)
    return err


def test_not_json() -> None:
    err = reject("this is not a plan")
    assert err.path == "line 1, column 1"
    assert "invalid JSON" in err.reason


def test_truncated_json_names_line_and_column() -> None:
    text = json.dumps([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "t"}}], indent=2)
    cut = text[: text.index('"Relation Name"') + 8]
    err = reject(cut)
    line = cut.count("\n") + 1
    assert err.path.startswith(f"line {line}, column ")
    assert "invalid JSON" in err.reason


def test_truncated_psql_output_points_at_the_users_line() -> None:
    text = (
        "     QUERY PLAN\n------------\n [          +\n   {        +\n"
        '     "Plan": {+\n       "Node Type": "Result",+\n'
    )
    err = reject(text)
    assert err.path.startswith("line ")
    assert "invalid JSON" in err.reason


@pytest.mark.parametrize(
    ("data", "path", "reason"),
    [
        ("42", "$", "got a number"),
        ('"just a string"', "line 1, column 1", "invalid JSON"),
        ("[]", "$", "empty list"),
        ("null", "$", "got null"),
        ("true", "$", "got a boolean"),
        ('{"Query Text": "select 1"}', "$", "neither 'Plan' nor 'Node Type'"),
        ("{}", "$", "no keys"),
        ("[1, 2]", "$[0]", "got a number"),
        ('[{"Plan": {"Node Type": "Result"}}, "x"]', "$[1]", "got a string"),
        ('{"Plan": 3}', "$.Plan", "got a number"),
        ('{"Plan": {"Total Cost": 1}}', '$.Plan["Node Type"]', "'Node Type' is missing"),
    ],
)
def test_wrong_shape(data: str, path: str, reason: str) -> None:
    err = reject(data)
    assert err.path == path
    assert reason in err.reason


def test_wrong_type_names_the_json_path() -> None:
    doc = [
        {
            "Plan": {
                "Node Type": "Hash Join",
                "Plans": [
                    {"Node Type": "Seq Scan"},
                    {"Node Type": "Hash", "Actual Rows": "abc"},
                ],
            }
        }
    ]
    err = reject(json.dumps(doc))
    assert err.path == '$[0].Plan.Plans[1]["Actual Rows"]'
    assert "'abc'" in err.reason
    # same from an already-decoded document
    assert reject(doc).path == err.path


def test_wrong_type_deep_in_a_real_plan() -> None:
    doc = json.loads(corpus_path("pev2/aggregate_four_joins.json").read_bytes())
    target = doc[0]["Plan"]["Plans"][0]["Plans"][0]
    target["Shared Hit Blocks"] = {"not": "a number"}
    err = reject(doc)
    assert err.path == '$[0].Plan.Plans[0].Plans[0]["Shared Hit Blocks"]'


def test_several_problems_are_counted_not_dumped() -> None:
    err = reject({"Plan": {"Node Type": "Result", "Actual Rows": "x", "Plan Width": "y"}})
    assert "1 more problem" in err.reason


def test_plans_not_a_list() -> None:
    err = reject({"Plan": {"Node Type": "Append", "Plans": {"Node Type": "Result"}}})
    assert err.path == "$.Plan.Plans"
    assert "expected a list of nodes, got an object" in err.reason


def test_a_node_not_an_object() -> None:
    err = reject([{"Plan": {"Node Type": "Append", "Plans": [{"Node Type": "Result"}, 7]}}])
    assert err.path == "$[0].Plan.Plans[1]"
    assert "expected a plan node object, got a number" in err.reason


def test_wrong_type_in_a_worker_and_a_trigger() -> None:
    err = reject({"Plan": {"Node Type": "Gather", "Workers": [{"Worker Number": "one"}]}})
    assert err.path == '$.Plan.Workers[0]["Worker Number"]'
    err = reject({"Plan": {"Node Type": "Result"}, "Triggers": [{"Calls": "many"}]})
    assert err.path == "$.Triggers[0].Calls"


def test_text_format_explain_is_read() -> None:
    text = (
        "Seq Scan on orders  (cost=0.00..431.00 rows=21000 width=4) "
        "(actual time=0.010..1.2 rows=21000 loops=1)\nPlanning Time: 0.1 ms\n"
    )
    plan = pa.parse(text)
    assert (plan.root.relation_name, plan.root.actual_rows, plan.planning_time_ms) == (
        "orders",
        21000,
        0.1,
    )


def test_text_format_in_psql_frame_is_read() -> None:
    text = (
        "                 QUERY PLAN\n-------------------------------------------\n"
        " Limit  (cost=0.00..0.04 rows=1 width=4)\n"
        "   ->  Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)\n(2 rows)\n"
    )
    assert [n.node_type for n in pa.parse(text).nodes()] == ["Limit", "Seq Scan"]


@pytest.mark.parametrize("data", ["", "   \n\t ", b"", "\ufeff", b"\xef\xbb\xbf  "])
def test_empty_input(data: str | bytes) -> None:
    err = reject(data)
    assert "empty" in err.reason


def test_bad_utf8_bytes() -> None:
    raw = b'[{"Plan": {"Node Type": "Seq \xff Scan"}}]'
    err = reject(raw)
    assert err.path == f"byte {raw.index(bytes([0xFF]))}"
    assert "utf-8" in err.reason


def test_unsupported_type() -> None:
    err = reject(3.5)
    assert "got float" in err.reason


def test_too_deep_is_a_parse_error_not_recursion() -> None:
    deep = "[" * 50_000 + "]" * 50_000
    err = reject(deep)
    assert err.path.startswith("$")
