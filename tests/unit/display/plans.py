"""Plans for the display tests: fixture files and generated ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import planalyzer as pa

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "plans"


def fixture(name: str) -> pa.Plan:
    return pa.load(FIXTURES / f"{name}.json")


def all_fixture_paths() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.json"))


def scan(relation: str, *, ms: float, rows: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "Node Type": "Seq Scan",
        "Relation Name": relation,
        "Alias": relation,
        "Startup Cost": 0.0,
        "Total Cost": 100.0,
        "Plan Rows": rows,
        "Plan Width": 8,
        "Actual Startup Time": 0.01,
        "Actual Total Time": ms,
        "Actual Rows": rows,
        "Actual Loops": 1,
        **extra,
    }


def wide_plan(children: int) -> pa.Plan:
    """An Append over ``children`` scans; child i takes i/1000 ms."""
    kids = [scan(f"part_{i}", ms=(i + 1) / 1000) for i in range(children)]
    total = sum((i + 1) / 1000 for i in range(children)) + 1.0
    root = {
        "Node Type": "Append",
        "Startup Cost": 0.0,
        "Total Cost": 100.0 * children + 1,
        "Plan Rows": 10 * children,
        "Plan Width": 8,
        "Actual Startup Time": 0.01,
        "Actual Total Time": total,
        "Actual Rows": 10 * children,
        "Actual Loops": 1,
        "Plans": kids,
    }
    return pa.parse({"Plan": root, "Execution Time": total})


def deep_plan(depth: int) -> pa.Plan:
    """A chain of ``depth`` Materialize nodes over one scan, each adding 0.01 ms."""
    node: dict[str, Any] = scan("leaf", ms=1.0)
    for level in range(depth):
        node = {
            "Node Type": "Materialize",
            "Total Cost": 100.0 + level,
            "Plan Rows": 10,
            "Actual Startup Time": 0.0,
            "Actual Total Time": 1.0 + (level + 1) * 0.01,
            "Actual Rows": 10,
            "Actual Loops": 1,
            "Plans": [node],
        }
    return pa.parse({"Plan": node, "Execution Time": 1.0 + depth * 0.01})
