"""Text plans as people paste them: PEV2's own parser test cases, read by planalyzer.

`tests/corpus/pev2_text/` holds the text (and psql-framed JSON) inputs of PEV2's test suite,
as that project collected them from its users: psql frames of every border style, DBeaver and
pgAdmin exports, plans hard-wrapped by a terminal or a mail client, localised psql footers,
plans from PostgreSQL 8.x, fragments. Where PEV2 states the plan it expects (``*-expect``),
the tree read here must agree with it node for node on what both readers take from the text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import planalyzer as pa
from planalyzer.plan.text import UNRECOGNISED

CASES = Path(__file__).parents[3] / "corpus" / "pev2_text"
INPUTS = sorted(p for p in CASES.rglob("*") if p.is_file() and p.name.endswith(("-plan", ".plan")))
WITH_EXPECTATION = [p for p in INPUTS if p.parent.name in ("from-text", "12-line-wrapped-plans")]

# Inputs whose text holds lines that are not the plan's, kept verbatim as unrecognised.
NOT_PLAN_LINES = {
    "12-line-wrapped-plans/09-plan": "comment lines ('# ...') written after the plan",
}

# What both readers take from the text, compared node by node.
COMPARED = ("Node Type", "Actual Rows", "Actual Loops", "Total Cost", "Plan Rows")


def _name(path: Path) -> str:
    return str(path.relative_to(CASES))


# PEV2 names some nodes its own way in what it expects; these are PostgreSQL's JSON names.
PEV2_NAMES = {
    "Nested Loop Join": "Nested Loop",
    "GroupAggregate": "Aggregate",
    "HashAggregate": "Aggregate",
    "Merge": "ModifyTable",
}


# "Hash Semi Join": PEV2 keeps the join type in the name; PostgreSQL's JSON has "Join Type"
JOIN_KIND = re.compile(
    r"^(Hash|Merge|Nested Loop) (?:Left|Right|Full|Semi|Anti|Right Semi|Right Anti) Join$"
)


def _pairs(ours: dict[str, Any], theirs: dict[str, Any]) -> list[tuple[dict[str, Any], ...]]:
    """Our nodes beside PEV2's, pre-order; a subtree PEV2 does not state is not compared."""
    pairs: list[tuple[dict[str, Any], ...]] = []
    stack = [(ours, theirs)]
    while stack:
        mine, other = stack.pop()
        pairs.append((mine, other))
        if "Plans" in other:
            assert len(mine.get("Plans", [])) == len(other["Plans"]), mine["Node Type"]
            stack.extend(reversed(list(zip(mine["Plans"], other["Plans"], strict=True))))
    return pairs


def test_the_cases_are_all_here() -> None:
    assert len(INPUTS) == 103
    assert len(WITH_EXPECTATION) == 57


@pytest.mark.parametrize("path", INPUTS, ids=_name)
def test_every_pasted_plan_reads(path: Path) -> None:
    plans = pa.parse_all(path.read_bytes())
    assert plans
    assert all(plan.root.node_type for plan in plans)
    found = [plan for plan in plans if UNRECOGNISED in json.dumps(plan.to_json(), default=str)]
    if _name(path) not in NOT_PLAN_LINES:
        assert not found, [plan.to_json() for plan in found][:1]


@pytest.mark.parametrize("path", WITH_EXPECTATION, ids=_name)
def test_the_tree_is_the_one_pev2_expects(path: Path) -> None:
    expected_file = path.with_name(path.name.removesuffix("-plan") + "-expect")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    (plan,) = pa.parse_all(path.read_bytes())
    document = plan.to_json()
    ours = (document[0] if isinstance(document, list) else document)["Plan"]
    for mine, other in _pairs(ours, expected["Plan"]):
        their_type = other["Node Type"].strip()
        their_type = PEV2_NAMES.get(their_type, their_type)
        their_type = JOIN_KIND.sub(r"\1 Join", their_type).replace(
            "Nested Loop Join", "Nested Loop"
        )
        if their_type.startswith("Subquery Scan "):  # PostgreSQL 8.x: "Subquery Scan alias"
            their_type = "Subquery Scan"
        assert mine["Node Type"] == their_type
        for key in COMPARED[1:]:
            if key in mine and key in other:
                assert mine[key] == pytest.approx(other[key]), (mine["Node Type"], key)
