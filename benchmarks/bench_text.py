"""Text-format EXPLAIN parse speed against JSON parse of the same plan.

Run: ``python benchmarks/bench_text.py`` (``--nodes N`` to change the plan size, default 5,000).

The plan is bench_parse's deterministic generated plan (PostgreSQL 15 keys under ANALYZE,
BUFFERS, VERBOSE). It is parsed once from JSON, written with ``plan.to_text()``, and then both
forms are parsed, best of N runs each:
- ``pa.parse(json bytes)``: the JSON path (decode + validation + tree + metrics);
- ``pa.parse(text)``: text reading into the JSON shape, then the same path;
- ``text -> JSON shape`` alone (`planalyzer.plan.text.read_text`), and ``plan.to_text()``.
The issue's target: text parse no slower than JSON parse of the same plan (ratio <= 1.0).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_parse import best_of, generate_plan

import planalyzer as pa
from planalyzer.plan.text import read_text


def main(argv: list[str] | None = None) -> int:
    """Print the timings and the text/JSON ratio; exit 1 when text is slower."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    raw = json.dumps(generate_plan(args.nodes)).encode()
    plan = pa.parse(raw)
    text = plan.to_text()
    assert len(pa.parse(text).nodes()) == len(plan.nodes())

    json_s = best_of(args.runs, lambda: pa.parse(raw))
    text_s = best_of(args.runs, lambda: pa.parse(text))
    read_s = best_of(args.runs, lambda: read_text(text), gc_paused=True)
    write_s = best_of(args.runs, plan.to_text)
    print(
        f"plan: {len(plan.nodes())} nodes, JSON {len(raw) / 1e6:.1f} MB, "
        f"text {len(text) / 1e6:.1f} MB"
    )
    print(f"pa.parse(JSON)          {json_s * 1000:8.1f} ms")
    print(f"pa.parse(text)          {text_s * 1000:8.1f} ms   ratio {text_s / json_s:.2f}x")
    print(f"  text -> JSON shape    {read_s * 1000:8.1f} ms")
    print(f"plan.to_text()          {write_s * 1000:8.1f} ms")
    met = "met" if text_s <= json_s else "NOT met"
    print(f"target (text parse no slower than JSON parse): {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
