"""Every plan in the vendored corpus (tests/corpus) parses, walks, round-trips, keeps invariants.

The files are found by glob at collection time, so a plan dropped into the corpus is tested
without any change here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import planalyzer as pa
from tests.unit.plan.builders import CORPUS

JSON_FILES = sorted(CORPUS.glob("*/*.json"))
TEXT_FILES = sorted(p for p in CORPUS.glob("*/*.txt") if p.with_suffix(".json").is_file())


def _params(files: list[Path]) -> list[object]:
    if not files:  # keep one case, so that an emptied corpus fails instead of vanishing
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(f, id=str(f.relative_to(CORPUS))) for f in files]


def _plans(path: Path | None) -> tuple[list[pa.Plan], object]:
    if path is None:
        pytest.fail(f"no *.json plans under {CORPUS}")
    raw = path.read_bytes()
    return pa.parse_all(raw), json.loads(raw)


@pytest.mark.parametrize("path", _params(JSON_FILES))
def test_parses_and_walks(path: Path | None) -> None:
    plans, _ = _plans(path)
    assert plans
    for plan in plans:
        nodes = plan.nodes()
        assert [n.id for n in nodes] == list(range(len(nodes)))
        assert list(plan.root.walk()) == list(nodes)
        assert nodes[0] is plan.root
        assert plan.root.parent is None
        assert plan.root.depth == 0
        seen_as_child = 0
        for n in nodes:
            assert plan.node(n.id) is n
            for child in n.children:
                assert child.parent is n
                assert child.depth == n.depth + 1
                assert child.id > n.id
                assert child.remote or not n.remote  # remote flows down
                seen_as_child += 1
        assert seen_as_child == len(nodes) - 1  # a tree: every node but the root, once


@pytest.mark.parametrize("path", _params(JSON_FILES))
def test_round_trips_exactly(path: Path | None) -> None:
    plans, document = _plans(path)
    if len(plans) == 1:
        assert plans[0].to_json() == document
    else:  # several statements: each gives back its own element
        assert isinstance(document, list)
        assert [p.to_json()[0] for p in plans] == document


@pytest.mark.parametrize("path", _params(JSON_FILES))
def test_metric_invariants(path: Path | None) -> None:
    plans, _ = _plans(path)
    for plan in plans:
        local = [n for n in plan.nodes() if not n.remote]
        for n in plan.nodes():
            if n.exclusive_time_ms is not None:
                assert n.exclusive_time_ms >= 0
            assert n.exclusive_time_clamped_ms >= 0
            if n.actual_rows is not None and n.actual_loops is not None:
                assert n.rows_total == n.actual_rows * n.actual_loops
            if n.estimate_factor is not None:
                assert n.estimate_factor >= 1
                assert n.estimate_direction in ("under", "over", "exact")
            if n.time_share is not None:
                assert 0 <= n.time_share <= 1
            if n.cost_share is not None:
                assert 0 <= n.cost_share <= 1
            if n.exclusive_cost is not None:
                assert n.exclusive_cost >= 0
            for blocks in (n.exclusive_shared_hit_blocks, n.exclusive_shared_read_blocks):
                assert blocks is None or blocks >= 0
            if not plan.analyzed:
                assert n.estimate_factor is None
        root_time = plan.root.inclusive_time_ms
        if root_time is None or any(n.exclusive_time_ms is None for n in local):
            continue
        # every local node's time is counted once: the self times add up to the root's time,
        # plus whatever clamping took away (and any CTE body no scan read, run at the end)
        unread_ctes = _unread_cte_bodies(plan)
        expected = (
            root_time
            + sum(n.exclusive_time_clamped_ms for n in local)
            + sum(n.inclusive_time_ms for n in unread_ctes)
        )
        total = sum(n.exclusive_time_ms for n in local)
        assert math.isclose(total, expected, rel_tol=1e-6, abs_tol=1e-9), (total, expected)
        if plan.execution_time_ms is not None:
            for n in local:
                assert n.exclusive_time_ms <= plan.execution_time_ms, n


def _unread_cte_bodies(plan: pa.Plan) -> list[pa.PlanNode]:
    scanned = {n.cte_name for n in plan.nodes() if n.node_type == "CTE Scan"}
    return [
        n
        for n in plan.nodes()
        if (n.subplan_name or "").startswith("CTE ") and n.subplan_name[4:] not in scanned
    ]


@pytest.mark.parametrize("path", _params(TEXT_FILES))
def test_text_format_beside_json_reads_as_the_same_tree(path: Path | None) -> None:
    """The text-format plan beside a JSON one (same statement, another run) has its tree."""
    if path is None:
        pytest.fail(f"no text-format plans under {CORPUS}")
    from_text = pa.parse(path.read_bytes())
    from_json = pa.parse(path.with_suffix(".json").read_bytes())
    assert [(n.depth, n.display_name) for n in from_text.nodes()] == [
        (n.depth, n.display_name) for n in from_json.nodes()
    ]
