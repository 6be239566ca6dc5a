"""Small helpers that build plan documents by hand, with PostgreSQL's JSON keys.

Shared by the plan tests; each returns plain dicts/lists, the shape EXPLAIN (FORMAT JSON) prints.
Nothing here recurses, so the deep-plan tests can use them under a low recursion limit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
"""Real plans published by other projects, vendored with their sources and licences
(tests/corpus/SOURCES.md); the tests read nothing outside the repository."""


def corpus_path(relative: str) -> Path:
    """A corpus file; a missing one fails the test (it is part of the repository)."""
    path = CORPUS / relative
    if not path.exists():
        pytest.fail(f"corpus file {relative} is missing from {CORPUS}")
    return path


def load_json(relative: str) -> Any:
    """The decoded JSON of a corpus file."""
    return json.loads(corpus_path(relative).read_bytes())


def node(node_type: str, *children: dict[str, Any], **keys: Any) -> dict[str, Any]:
    """A plan node: keyword arguments use snake-ish names mapped to PostgreSQL's keys.

    ``node("Hash Join", a, b, total=10.0, rows=5, loops=1, cost=3.5)`` gives a node with
    ``Actual Total Time`` 10.0 and so on; any key can also be passed verbatim via ``raw``.
    """
    mapping = {
        "total": "Actual Total Time",
        "startup": "Actual Startup Time",
        "rows": "Actual Rows",
        "loops": "Actual Loops",
        "cost": "Total Cost",
        "startup_cost": "Startup Cost",
        "plan_rows": "Plan Rows",
        "rel": "Parent Relationship",
        "relation": "Relation Name",
        "subplan": "Subplan Name",
        "cte": "CTE Name",
        "hit": "Shared Hit Blocks",
        "read": "Shared Read Blocks",
        "temp_written": "Temp Written Blocks",
        "temp_read": "Temp Read Blocks",
        "workers_planned": "Workers Planned",
        "workers_launched": "Workers Launched",
        "filtered": "Rows Removed by Filter",
    }
    out: dict[str, Any] = {"Node Type": node_type}
    raw = keys.pop("raw", {})
    for name, value in keys.items():
        out[mapping[name]] = value
    out.update(raw)
    if children:
        out["Plans"] = list(children)
    return out


def statement(root: dict[str, Any], **top: Any) -> list[dict[str, Any]]:
    """The full EXPLAIN document around ``root``; ``top`` keys are PostgreSQL's verbatim."""
    stmt: dict[str, Any] = {"Plan": root}
    stmt.update({k.replace("_", " "): v for k, v in top.items()})
    return [stmt]


def chain(depth: int, *, analyze: bool = True) -> dict[str, Any]:
    """A plan ``depth`` levels deep (depth + 1 nodes), built without recursion.

    Each level is a Limit over the next with times shrinking by 0.001 ms per level, so the
    exclusive time of every node but the leaf is 0.001 ms.
    """
    leaf: dict[str, Any] = {"Node Type": "Seq Scan", "Relation Name": "t", "Total Cost": 1.0}
    if analyze:
        leaf.update({"Actual Total Time": 1.0, "Actual Rows": 1, "Actual Loops": 1})
    current = leaf
    for level in range(depth):
        parent: dict[str, Any] = {
            "Node Type": "Limit",
            "Total Cost": 1.0 + level + 1,
            "Plans": [dict(current, **{"Parent Relationship": "Outer"})],
        }
        if analyze:
            parent.update(
                {
                    "Actual Total Time": round(1.0 + 0.001 * (level + 1), 3),
                    "Actual Rows": 1,
                    "Actual Loops": 1,
                }
            )
        current = parent
    return current


def chain_text(depth: int) -> str:
    """The JSON text of `chain` ``depth`` levels deep, written without recursion."""
    opening = []
    closing = []
    for level in range(depth, 0, -1):
        total_time = round(1.0 + 0.001 * level, 3)
        opening.append(
            f'{{"Node Type": "Limit", "Total Cost": {1.0 + level}, '
            f'"Actual Total Time": {total_time}, "Actual Rows": 1, "Actual Loops": 1, "Plans": ['
        )
        closing.append("]}")
    leaf = (
        '{"Node Type": "Seq Scan", "Relation Name": "t", "Total Cost": 1.0, '
        '"Actual Total Time": 1.0, "Actual Rows": 1, "Actual Loops": 1}'
    )
    return '[{"Plan": ' + "".join(opening) + leaf + "".join(closing) + ', "Execution Time": 9.5}]'


def same_json(a: Any, b: Any) -> bool:
    """Deep equality of two JSON values without recursion (``==`` on deep dicts recurses)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if isinstance(x, dict):
            if not isinstance(y, dict) or x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if not isinstance(y, list) or len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif type(x) is not type(y) or x != y:
            return False
    return True
