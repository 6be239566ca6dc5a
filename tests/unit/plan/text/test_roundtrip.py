"""``parse(plan.to_text())`` equals ``plan``: on every fixture and corpus plan, and on random trees.

"Equals" is `carried_pair`: every key of every node and of the statement, except what the text
format never prints (zero counters, false flags, ...; listed in `carried`). Mutated text plans
(a line dropped, cut short, or shifted) either still parse or raise `PlanParseError`, never
anything else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import planalyzer as pa
from planalyzer.testing.strategies import GeneratedPlan, plan_documents
from tests.unit.plan.builders import CORPUS
from tests.unit.plan.text.carried import carried_pair

ROOT = Path(__file__).parents[4]
JSON_PLANS = sorted(
    path
    for path in [
        *CORPUS.glob("*/*.json"),
        *(ROOT / "fixtures" / "plans").glob("**/*.json"),
        *(ROOT / "fixtures" / "twins").glob("pg*/*.json"),
    ]
    if '"Node Type"' in path.read_text()  # fixtures/plans also holds catalog snapshots
)
TEXT_PLANS = sorted((ROOT / "fixtures" / "twins").glob("pg*/*.txt"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_there_are_plans_to_round_trip() -> None:
    assert len(JSON_PLANS) > 150


@pytest.mark.parametrize("path", JSON_PLANS, ids=[_id(p) for p in JSON_PLANS])
def test_json_to_text_and_back_keeps_every_printed_field(path: Path) -> None:
    for plan in pa.parse_all(path.read_bytes()):
        text = plan.to_text()
        again = pa.parse(text)
        left, right = carried_pair(plan, again)
        assert left == right, text


# explain.c prints "Rows Removed by Filter: 0" when fewer than half a row per loop was removed
# (1 row over 100 loops); the value is 0 in JSON too, and to_text() leaves zero counters out.
_ROUNDED_TO_ZERO = re.compile(r"^ *Rows Removed by [A-Za-z ]+: 0\n", re.MULTILINE)


@pytest.mark.parametrize("path", TEXT_PLANS, ids=[_id(p) for p in TEXT_PLANS])
def test_to_text_reprints_what_postgres_printed(path: Path) -> None:
    """Text in, text out: the layout is explain.c's, line for line, for the plans it can carry."""
    original = path.read_text()
    assert pa.parse(original).to_text() == _ROUNDED_TO_ZERO.sub("", original)


def _shape(plan: pa.Plan) -> list[tuple[object, ...]]:
    return [
        (
            n.depth,
            n.node_type,
            n.relation_name,
            n.alias,
            n.subplan_name,
            n.startup_cost,
            n.total_cost,
            n.plan_rows,
            n.actual_rows,
            n.actual_loops,
            n.actual_total_time,
            n.shared_hit_blocks or 0,
            n.temp_written_blocks or 0,
        )
        for n in plan.nodes()
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_documents())
def test_random_trees_survive_the_text_round_trip(generated: GeneratedPlan) -> None:
    plan = pa.parse(generated.document)
    text = plan.to_text()
    # One line without figures whose node type the text vocabulary does not know, with nothing
    # under it, cannot be told from prose (with children or properties it is a node): known limit.
    assume(len(text.splitlines()) > 1 or generated.costs or generated.analyze)
    again = pa.parse(text)
    assert _shape(again) == _shape(plan), text
    # text prints statement times with three decimals, as PostgreSQL measures them
    for ms in ("planning_time_ms", "execution_time_ms"):
        assert getattr(again, ms) == pytest.approx(getattr(plan, ms), abs=5e-4)


_MUTABLE = [p for p in TEXT_PLANS if p.stat().st_size < 4000][:40]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(_MUTABLE),
    st.sampled_from(("drop", "truncate", "indent", "dedent", "swap")),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
)
def test_mutated_text_plans_parse_or_raise_plan_parse_error(
    path: Path, how: str, line_seed: int, cut_seed: int
) -> None:
    lines = path.read_text().splitlines()
    i = line_seed % len(lines)
    line = lines[i]
    if how == "drop":
        del lines[i]
    elif how == "truncate":
        lines[i] = line[: cut_seed % (len(line) + 1)]
    elif how == "indent":
        lines[i] = " " * (1 + cut_seed % 7) + line
    elif how == "dedent":
        lines[i] = line[min(len(line) - len(line.lstrip()), 1 + cut_seed % 7) :]
    else:
        j = cut_seed % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
    error: pa.PlanParseError | None = None
    try:
        plan = pa.parse("\n".join(lines))
    except pa.PlanParseError as err:
        error = err
    if error is not None:
        assert error.path.startswith(("line ", "$"))
    else:
        assert plan.nodes()
