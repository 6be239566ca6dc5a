"""``planalyzer demo``: the whole job in well under a minute, on bundled plans and a real server.

Part 1 needs nothing but the package: it analyses a few bundled plans that each show a classic
problem. Part 2 needs the Debian PostgreSQL 15 server and HypoPG packages: it starts a
throwaway cluster, loads the demo shop, diagnoses a slow query, asks the advisor for indexes,
builds them for real (``CREATE INDEX CONCURRENTLY``) and compares the plans before and after.
The cluster lives in a temporary directory that is deleted at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from planalyzer.cli._console import Console
from planalyzer.display.text import render_plan, render_report
from planalyzer.errors import AdviceError, PlanalyzerError
from planalyzer.plan.model import Plan
from planalyzer.plan.parse import load
from planalyzer.rules.report import analyze
from planalyzer.samples import SOURCES, sample_path

__all__ = ["BUNDLED", "SLOW_QUERY", "WORKLOAD", "run_demo"]

BUNDLED: tuple[tuple[str, str], ...] = (
    (
        "nested-loop-blowup",
        "A misestimate that starts low in the tree: the planner expected 1 customer and chose a "
        "nested loop; 1,250 came back, so the inner Seq Scan ran 1,250 times.",
    ),
    (
        "sort-spill",
        "A sort that did not fit in work_mem and spilled to disk.",
    ),
    (
        "seq-scan",
        "A whole table read to keep 3 rows of 300,000: the classic missing index.",
    ),
)
"""Sample plans (`planalyzer.samples`) the demo analyses, with one line on what each shows."""

SLOW_QUERY = (
    "SELECT o.id, o.created_at, i.product_id, i.quantity "
    "FROM orders o JOIN order_items i ON i.order_id = o.id "
    "WHERE o.customer_id = 42"
)
"""The demo's slow query: one customer's order lines, with no index on either join path."""

WORKLOAD: tuple[tuple[str, float], ...] = (
    (SLOW_QUERY, 100.0),
    ("SELECT * FROM orders WHERE customer_id = 1234 ORDER BY created_at DESC LIMIT 10", 50.0),
    ("SELECT * FROM orders WHERE status = 'failed' ORDER BY created_at DESC LIMIT 50", 10.0),
)
"""Statements (with their relative frequency) the advisor is asked about."""


def run_demo(args: argparse.Namespace, console: Console) -> int:
    """Run both parts; part 2 is skipped, with the reason and the remedy, when it cannot run."""
    _bundled_plans(args, console)
    if args.offline:
        _heading(console, "Live part skipped (--offline)")
        return 0
    _live(args, console)
    return 0


def _heading(console: Console, text: str) -> None:
    console.print("")
    console.print(f"\x1b[1m{text}\x1b[0m" if console.color else text)
    console.print("=" * len(text))


def _show_plan(title: str, plan: Plan, args: argparse.Namespace, console: Console) -> None:
    """A plan's tree with its findings marked, then the findings as a note."""
    report = analyze(plan)
    console.print(title)
    console.print("")
    console.print(render_plan(plan, report=report, width=args.width, color=console.color))
    console.print("")
    console.print(render_report(report, width=args.width, color=console.color))


def _bundled_plans(args: argparse.Namespace, console: Console) -> None:
    """Part 1: analyse the sample plans shipped in the package."""
    _heading(console, "Part 1 — bundled plans from a real PostgreSQL 15")
    for number, (name, story) in enumerate(BUNDLED, start=1):
        console.print("")
        console.print(f"--- {number}. sample {name!r} (a copy of {SOURCES[name]})")
        _show_plan(story, load(sample_path(name)), args, console)


def _live(args: argparse.Namespace, console: Console) -> None:
    """Part 2: throwaway server, slow query, advice, real indexes, before/after."""
    from planalyzer.live.throwaway import find_pg_bin, hypopg_available, install_hint

    _heading(console, "Part 2 — a throwaway PostgreSQL: diagnose, advise, fix, compare")
    bin_dir = find_pg_bin()
    if bin_dir is None:
        console.print(
            "Skipped: the PostgreSQL 15 server binaries are not installed (looked in "
            "$PLANALYZER_PG_BIN and /usr/lib/postgresql/15/bin).\n"
            f"Install them to see the advisor at work:\n  {install_hint()}"
        )
        return
    if not hypopg_available(bin_dir):
        console.print(
            f"Skipped: the HypoPG extension is not installed for the server in {bin_dir}.\n"
            f"Install it with:\n  {install_hint()}"
        )
        return
    try:
        _live_session(args, console)
    except PlanalyzerError as err:
        console.print(f"The live part stopped: {err}")
        raise


def _live_session(args: argparse.Namespace, console: Console) -> None:
    from planalyzer.cli._db import connect, execute
    from planalyzer.live.demo import load_demo_schema
    from planalyzer.live.explain import explain
    from planalyzer.live.throwaway import throwaway_server
    from planalyzer.plan.compare import compare

    with contextlib.ExitStack() as stack:
        # Runs last (callbacks unwind in reverse): after the server is stopped and deleted.
        stack.callback(console.note, "the throwaway server is stopped and its files deleted")
        with console.progress("starting a throwaway PostgreSQL 15 with HypoPG"):
            server = stack.enter_context(throwaway_server(hypopg=True))
        conn = stack.enter_context(connect(server.dsn, autocommit=True))
        with console.progress("loading the demo shop (300,000 orders, 450,000 order lines)"):
            load_demo_schema(conn)
        console.print(f"\nThe slow query:\n  {SLOW_QUERY}\n")
        before = explain(conn, SLOW_QUERY)
        _show_plan("Its plan, EXPLAIN (ANALYZE, BUFFERS):", before, args, console)

        advice = _advise(conn, console)
        if advice is None or not advice.recommendations:
            console.print("\nNo index to build, so nothing to compare.")
            return
        up, _down = advice.migration()
        console.print("\nThe migration it writes (advice.migration()[0]):\n")
        console.print(up.rstrip(), fold=False)  # SQL stays exactly as written

        console.print("\nBuilding the recommended indexes for real on the throwaway database:")
        for rec in advice.recommendations:
            for statement in _statements(rec.create_sql):
                console.print(f"  {statement}")
                execute(conn, statement)
        after = explain(conn, SLOW_QUERY)
        console.print("")
        _show_plan("The same query now:", after, args, console)
        console.print("")
        console.print(str(compare(before, after)))


def _statements(create_sql: str) -> list[str]:
    """Each statement of a recommendation's SQL, run one at a time.

    ``CREATE INDEX CONCURRENTLY`` refuses to run in a transaction block, and several
    statements sent in one query string form an implicit one; a partitioned table's
    recommendation has several statements, so they are sent separately.
    """
    import pglast

    return [s.strip() for s in pglast.split(create_sql) if s.strip()]


def _advise(conn: Any, console: Console) -> Any:
    """Ask the advisor about `WORKLOAD`; None (with a note) when this build has no advisor."""
    from planalyzer.cli._advise import advisor_function, call_advisor

    try:
        advise = advisor_function("advise")
    except AdviceError as err:
        console.print(f"\nSkipped the advice: {err}.")
        return None
    statements = [sql for sql, _ in WORKLOAD]
    weights = [weight for _, weight in WORKLOAD]
    console.print("\nAsking the advisor about a small workload (statement × relative frequency):")
    for sql, weight in WORKLOAD:
        console.print(f"  {weight:>5g} × {sql}")
    advice = call_advisor(
        advise,
        conn,
        statements,
        weights=weights,
        budget_bytes=None,
        max_indexes=None,
        console=console,
    )
    console.print("")
    console.print(str(advice))
    return advice
