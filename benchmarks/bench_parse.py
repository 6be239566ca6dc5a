"""Parse, analyse, memory and import costs of planalyzer, against json.loads and dataxplan.

Run: ``python benchmarks/bench_parse.py`` (``--quick`` skips the 100,000-node plan, ``--runs N``
sets the best-of count). Plain Python, no pytest: timings never live in the test suite. Every
figure of a table is measured in the same run, so the ratios hold on a loaded machine too.

1. Parse: ``json.loads(bytes)`` (GC on, and paused as ``pa.parse`` pauses it; the ratio is taken
   against the faster, paused figure), ``pa.parse(bytes)`` (decode, type checks, tree, tree
   metrics) and the same followed by reading every per-node metric of every node (``+ metrics``,
   the issue's "typed parse + metrics"), ``plan.to_json()``, and retained memory (tracemalloc,
   what stays allocated while the result is alive) against ``json.loads``' own.
2. Analyse: ``pa.analyze(pa.parse(bytes))`` (every rule) against ``dataxplan.analyze`` (the peer,
   in the ``test`` extra) on the same text, and the peak memory of ours.
3. A 10,000-partition plan (Append over 10,000 scans): parse, analyse, text and HTML renders.
4. Import: ``import planalyzer`` and loading the pytest plugin, in fresh interpreters.

Plans: a real corpus plan (tests/corpus), two generated deterministically (seed 42) with the
keys PostgreSQL 15 prints under EXPLAIN (ANALYZE, BUFFERS, VERBOSE), 30 keys per node, and
"fixtures": every ``fires--*.json`` plan of fixtures/plans (real PostgreSQL 15 plans, one or
more per rule) under one Append, repeated to 5,000 nodes, so that every rule has work.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic_core

import planalyzer as pa

ROOT = Path(__file__).resolve().parents[1]
SMALL_PLAN = ROOT / "tests" / "corpus" / "pev2" / "aggregate_four_joins.json"
FIXTURES = ROOT / "fixtures" / "plans"

_SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan")
_INNER = ("Hash Join", "Nested Loop", "Merge Join", "Sort", "Aggregate", "Hash", "Append")


def _node(rnd: random.Random, i: int, time_ms: float, loops: int) -> dict[str, Any]:
    """One plan node with the keys PostgreSQL 15 prints under ANALYZE, BUFFERS, VERBOSE."""
    rows = rnd.randint(0, 200_000)
    plan_rows = max(1, int(rows * rnd.uniform(0.1, 10)))
    hit = rnd.randint(0, 50_000)
    read = rnd.randint(0, 5_000)
    node: dict[str, Any] = {
        "Node Type": rnd.choice(_SCANS),
        "Parent Relationship": "Outer",
        "Parallel Aware": False,
        "Async Capable": False,
        "Relation Name": f"table_{i % 500}",
        "Schema": "public",
        "Alias": f"t{i}",
        "Startup Cost": round(rnd.uniform(0, 100), 2),
        "Total Cost": round(rnd.uniform(100, 100_000), 2),
        "Plan Rows": plan_rows,
        "Plan Width": rnd.choice((4, 8, 36, 120)),
        "Actual Startup Time": round(time_ms * rnd.uniform(0, 0.2), 3),
        "Actual Total Time": round(time_ms, 3),
        "Actual Rows": rows,
        "Actual Loops": loops,
        "Output": [f"t{i}.id", f"t{i}.customer_id", f"t{i}.created_at"],
        "Filter": f"(t{i}.status = 'shipped'::text)",
        "Rows Removed by Filter": rnd.randint(0, 10_000),
        "Shared Hit Blocks": hit,
        "Shared Read Blocks": read,
        "Shared Dirtied Blocks": 0,
        "Shared Written Blocks": 0,
        "Local Hit Blocks": 0,
        "Local Read Blocks": 0,
        "Local Dirtied Blocks": 0,
        "Local Written Blocks": 0,
        "Temp Read Blocks": 0,
        "Temp Written Blocks": 0,
        "I/O Read Time": round(read * 0.01, 3),
        "I/O Write Time": 0.0,
    }
    return node


def generate_plan(n_nodes: int, seed: int = 42) -> list[dict[str, Any]]:
    """A deterministic EXPLAIN (ANALYZE, BUFFERS, VERBOSE) document with ``n_nodes`` nodes."""
    rnd = random.Random(seed)
    root = _node(rnd, 0, 10_000.0, 1)
    nodes = [root]
    for i in range(1, n_nodes):
        parent = nodes[rnd.randrange(i)]  # random recursive tree: depth ~ e*ln(n)
        if parent["Node Type"] in _SCANS:
            parent["Node Type"] = rnd.choice(_INNER)
            parent.pop("Relation Name", None)
        kids = parent.setdefault("Plans", [])
        relationship = (
            "Member" if parent["Node Type"] == "Append" else ("Outer", "Inner")[len(kids) % 2]
        )
        child = _node(rnd, i, parent["Actual Total Time"] * rnd.uniform(0.05, 0.5), 1)
        child["Parent Relationship"] = relationship
        kids.append(child)
        nodes.append(child)
    return [
        {
            "Plan": root,
            "Planning": {"Shared Hit Blocks": 120, "Shared Read Blocks": 3},
            "Planning Time": 12.5,
            "Triggers": [],
            "Execution Time": 10_001.2,
        }
    ]


def _count(node: dict[str, Any]) -> int:
    count, stack = 0, [node]
    while stack:
        current = stack.pop()
        count += 1
        stack.extend(current.get("Plans", ()))
    return count


def fixtures_plan(n_nodes: int) -> list[dict[str, Any]]:
    """Every rule's ``fires--*.json`` plan under one Append, repeated to about ``n_nodes``."""
    statements = []
    for path in sorted(FIXTURES.glob("*/fires--*.json")):
        document = json.loads(path.read_bytes())
        statements.append(document[0] if isinstance(document, list) else document)
    members: list[dict[str, Any]] = []
    total = 1
    while total < n_nodes:
        member = json.loads(json.dumps(statements[len(members) % len(statements)]["Plan"]))
        member["Parent Relationship"] = "Member"
        members.append(member)
        total += _count(member)
    time_ms = sum(m.get("Actual Total Time", 0.0) * m.get("Actual Loops", 1) for m in members)
    root = {
        "Node Type": "Append",
        "Parallel Aware": False,
        "Async Capable": False,
        "Startup Cost": 0.0,
        "Total Cost": round(sum(m.get("Total Cost", 0.0) for m in members), 2),
        "Plan Rows": sum(m.get("Plan Rows", 0) for m in members),
        "Plan Width": 8,
        "Actual Startup Time": 0.01,
        "Actual Total Time": round(time_ms, 3),
        "Actual Rows": sum(m.get("Actual Rows", 0) for m in members),
        "Actual Loops": 1,
        "Plans": members,
    }
    statement: dict[str, Any] = {"Plan": root}
    for source in statements:  # settings, triggers, JIT: the first statement that has them
        for key, value in source.items():
            statement.setdefault(key, value)
    statement["Planning Time"] = sum(s.get("Planning Time", 0.0) for s in statements)
    statement["Execution Time"] = round(time_ms + 1.0, 3)
    return [statement]


def partitions_plan(n_partitions: int, *, estimated: bool = True) -> list[dict[str, Any]]:
    """An Append over ``n_partitions`` partition scans, as EXPLAIN (ANALYZE, BUFFERS) prints."""
    rnd = random.Random(7)
    scans = []
    for i in range(n_partitions):
        rows = rnd.randint(0, 2_000)
        # estimates within 2x, as ANALYZEd partitions have; estimated=False makes every one off
        # by up to 200x, so that every partition is a finding (the worst case for the faces)
        planned = max(1, int(rows * rnd.uniform(0.5, 2.0))) if estimated else 10
        scans.append(
            {
                "Node Type": "Seq Scan",
                "Parent Relationship": "Member",
                "Parallel Aware": False,
                "Async Capable": False,
                "Relation Name": f"events_p{i}",
                "Alias": f"events_{i + 1}",
                "Startup Cost": 0.0,
                "Total Cost": 35.5,
                "Plan Rows": planned,
                "Plan Width": 44,
                "Actual Startup Time": 0.004,
                "Actual Total Time": 0.05,
                "Actual Rows": rows,
                "Actual Loops": 1,
                "Filter": "(customer_id = 42)",
                "Rows Removed by Filter": rnd.randint(0, 5_000),
                "Shared Hit Blocks": rnd.randint(0, 60),
                "Shared Read Blocks": 0,
                "Shared Dirtied Blocks": 0,
                "Shared Written Blocks": 0,
                "Local Hit Blocks": 0,
                "Local Read Blocks": 0,
                "Local Dirtied Blocks": 0,
                "Local Written Blocks": 0,
                "Temp Read Blocks": 0,
                "Temp Written Blocks": 0,
            }
        )
    root = {
        "Node Type": "Append",
        "Parallel Aware": False,
        "Async Capable": False,
        "Startup Cost": 0.0,
        "Total Cost": 35.5 * n_partitions,
        "Plan Rows": sum(s["Plan Rows"] for s in scans),
        "Plan Width": 44,
        "Actual Startup Time": 0.01,
        "Actual Total Time": 0.06 * n_partitions,
        "Actual Rows": sum(s["Actual Rows"] for s in scans),
        "Actual Loops": 1,
        "Subplans Removed": 0,
        "Plans": scans,
    }
    return [{"Plan": root, "Planning Time": 180.0, "Execution Time": 0.07 * n_partitions}]


def best_of(runs: int, func: Callable[[], Any], *, gc_paused: bool = False) -> float:
    """Best wall-clock time of ``runs`` calls, in seconds."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        if gc_paused:
            gc.disable()
        try:
            start = time.perf_counter()
            func()
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        best = min(best, elapsed)
    return best


def retained_and_peak(func: Callable[[], Any]) -> tuple[int, int]:
    """(bytes still allocated while the result is alive, peak bytes) of ``func()``."""
    gc.collect()
    tracemalloc.start()
    result = func()
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return current, peak


def read_every_metric(plan: pa.Plan) -> None:
    """Read every derived figure of every node (those computed on first read included)."""
    for node in plan.nodes():
        _ = (
            node.exclusive_time_ms,
            node.time_share,
            node.cost_share,
            node.rows_total,
            node.plan_rows_total,
            node.rows_removed_by_filter_total,
            node.estimate_factor,
            node.estimate_direction,
            node.exclusive_shared_hit_blocks,
            node.exclusive_shared_read_blocks,
            node.parallel_processes,
        )


def parse_row(name: str, raw: bytes, runs: int) -> dict[str, Any]:
    """Every figure of one row of the parse table."""
    plan = pa.parse(raw)
    n = len(plan.nodes())
    loads_gc_s = best_of(runs, lambda: json.loads(raw))
    loads_s = best_of(runs, lambda: json.loads(raw), gc_paused=True)
    parse_s = best_of(runs, lambda: pa.parse(raw))
    full_s = best_of(runs, lambda: read_every_metric(pa.parse(raw)))
    to_json_s = best_of(runs, plan.to_json)
    assert json.dumps(plan.to_json()) == json.dumps(json.loads(raw))  # values and key order
    loads_kept, _ = retained_and_peak(lambda: json.loads(raw))
    parse_kept, _ = retained_and_peak(lambda: pa.parse(raw))
    return {
        "plan": name,
        "nodes": n,
        "bytes": len(raw),
        "loads_gc_ms": loads_gc_s * 1e3,
        "loads_ms": loads_s * 1e3,
        "parse_ms": parse_s * 1e3,
        "ratio": parse_s / loads_s,
        "full_ms": full_s * 1e3,
        "full_ratio": full_s / loads_s,
        "us_per_node": full_s * 1e6 / n,
        "to_json_ms": to_json_s * 1e3,
        "loads_kept": loads_kept / n,
        "parse_kept": parse_kept / n,
        "memory_ratio": parse_kept / loads_kept,
    }


def analyze_row(name: str, raw: bytes, runs: int) -> dict[str, Any]:
    """Parse + analyse, ours against dataxplan's on the same text."""
    import dataxplan

    text = raw.decode()
    loads_s = best_of(runs, lambda: json.loads(raw), gc_paused=True)
    ours_s = best_of(runs, lambda: pa.analyze(pa.parse(raw)))
    peer_s = best_of(runs, lambda: dataxplan.analyze(text))
    _, peak = retained_and_peak(lambda: pa.analyze(pa.parse(raw)))
    report = pa.analyze(pa.parse(raw))
    return {
        "plan": name,
        "nodes": len(pa.parse(raw).nodes()),
        "loads_ms": loads_s * 1e3,
        "ours_ms": ours_s * 1e3,
        "peer_ms": peer_s * 1e3,
        "ratio": ours_s / peer_s,
        "findings": len(report.findings),
        "rules": len({f.rule for f in report.findings}),
        "peak_mb": peak / 2**20,
    }


def partitions_row(n: int, runs: int, *, estimated: bool = True) -> dict[str, float]:
    """Parse, analyse and render (text and HTML) a plan with ``n`` partition scans."""
    raw = json.dumps(partitions_plan(n, estimated=estimated), indent=2).encode()
    loads_s = best_of(runs, lambda: json.loads(raw), gc_paused=True)
    steps: dict[str, float] = {}

    def once() -> None:
        start = time.perf_counter()
        plan = pa.parse(raw)
        t1 = time.perf_counter()
        report = pa.analyze(plan)
        t2 = time.perf_counter()
        str(plan)
        str(report)
        t3 = time.perf_counter()
        plan._repr_html_()
        report._repr_html_()
        t4 = time.perf_counter()
        figures = {
            "parse": t1 - start,
            "analyze": t2 - t1,
            "text": t3 - t2,
            "html": t4 - t3,
            "total": t4 - start,
        }
        if not steps or figures["total"] < steps["total"]:
            steps.update(figures)

    for _ in range(runs):
        gc.collect()
        once()
    steps["json.loads"] = loads_s
    return steps


def _fresh(code: str, runs: int) -> float:
    """Median seconds reported by ``code`` in fresh interpreters (it prints its own timing)."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def import_rows(runs: int) -> list[tuple[str, float]]:
    """Import costs in fresh interpreters (median of ``runs``)."""
    timed = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
    return [
        ("import planalyzer", _fresh(timed.format("import planalyzer"), runs)),
        (
            "load the pytest plugin (pytest already imported)",
            _fresh(
                "import pytest\n"
                + timed.format(
                    "import planalyzer.testing.plugin as p; "
                    "from planalyzer.testing._settings import resolve; resolve({}, {}, {})"
                ),
                runs,
            ),
        ),
        (
            "import planalyzer + first pa.parse/pa.analyze",
            _fresh(
                timed.format(
                    "import planalyzer as pa; "
                    "pa.analyze(pa.parse({'Plan': {'Node Type': 'Result'}}))"
                ),
                runs,
            ),
        ),
        ("import dataxplan (peer)", _fresh(timed.format("import dataxplan"), runs)),
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure and print the tables (Markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-node plan")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (best is kept)")
    args = parser.parse_args(argv)

    cases: list[tuple[str, bytes, int]] = [
        (f"corpus pev2/{SMALL_PLAN.name}", SMALL_PLAN.read_bytes(), 200),
        ("generated 5,000 nodes", json.dumps(generate_plan(5_000), indent=2).encode(), 0),
        ("fixtures 5,000 nodes", json.dumps(fixtures_plan(5_000), indent=2).encode(), 0),
    ]
    if not args.quick:
        cases.append(
            ("generated 100,000 nodes", json.dumps(generate_plan(100_000), indent=2).encode(), 0)
        )

    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}, {datetime.date.today().isoformat()}, "
        f"pydantic-core {pydantic_core.__version__}"
    )
    print()
    print(
        "| plan | nodes | JSON bytes | json.loads ms (GC on) | json.loads ms (GC paused) "
        "| pa.parse ms | ratio | + every metric read ms | ratio | µs/node | to_json ms "
        "| json.loads kept B/node | pa.parse kept B/node | memory ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, raw, runs in cases:
        r = parse_row(name, raw, runs or args.runs)
        print(
            f"| {r['plan']} | {r['nodes']:,} | {r['bytes']:,} | {r['loads_gc_ms']:.2f} "
            f"| {r['loads_ms']:.2f} | {r['parse_ms']:.2f} | {r['ratio']:.2f}x "
            f"| {r['full_ms']:.2f} | {r['full_ratio']:.2f}x | {r['us_per_node']:.1f} "
            f"| {r['to_json_ms']:.2f} | {r['loads_kept']:,.0f} | {r['parse_kept']:,.0f} "
            f"| {r['memory_ratio']:.2f}x |",
            flush=True,
        )
    print()
    print(
        "| plan | json.loads ms | pa.parse + pa.analyze ms | dataxplan.analyze ms "
        "| ours / peer | findings (rules) | our peak MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, raw, runs in cases:
        r = analyze_row(name, raw, max(1, min(runs or args.runs, 20 if runs else 3)))
        print(
            f"| {r['plan']} | {r['loads_ms']:.2f} | {r['ours_ms']:.2f} | {r['peer_ms']:.2f} "
            f"| {r['ratio']:.2f}x | {r['findings']} ({r['rules']}) | {r['peak_mb']:.0f} |",
            flush=True,
        )
    print()
    print(
        "| 10,000 partitions | json.loads | parse | analyze | text (plan + report) "
        "| HTML (plan + report) | total |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, estimated in (("estimates within 2x", True), ("every one misestimated", False)):
        steps = partitions_row(10_000, 3, estimated=estimated)
        figures = ("json.loads", "parse", "analyze", "text", "html", "total")
        print(f"| {label} (s) | " + " | ".join(f"{steps[k]:.2f}" for k in figures) + " |")
    print()
    print("| import (fresh interpreter, median of 7) | seconds |")
    print("|---|---:|")
    for name, seconds in import_rows(7):
        print(f"| {name} | {seconds:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
