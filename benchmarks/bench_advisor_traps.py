"""Advisor benchmark on a workload with the traps: advice that must never be slower in reality.

Run: ``python benchmarks/bench_advisor_traps.py [--runs 3] [--rows 300000]``. It starts a
throwaway PostgreSQL with HypoPG, generates ``traps.tickets`` (see ``TRAPS_SQL``), and then:

1. ``advise()`` on the 22-statement weighted workload, once with the data checks off (the
   planner's word only) and once with them on (the default);
2. ``Advice.verify()`` of each: builds the indexes for real, measures every statement with
   EXPLAIN ANALYZE (median of ``--runs`` after a warm-up), reports time before/after, the
   workload ratio, and each index's estimated vs built size;
3. applies each proven statistics fix for real and measures the estimate and time of the
   statements it was proven on, then drops it.

The traps: ``urgent AND escalated`` is rare (0.5 %) and sits at the far end of ``created_at``
while the planner expects 1.1 % spread evenly (an index on created_at, chosen for the range
reports, makes that statement walk the whole table); ``city``/``zip`` are correlated (the
planner expects 100× too few rows); ``status = 'failed'`` is a rare literal of a skewed column
(a partial index is due); ``tenant_id`` is uniform (no partial index); a bound parameter.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import psycopg

from planalyzer.advisor.advise import advise
from planalyzer.live.explain import explain
from planalyzer.live.throwaway import throwaway_server

TRAPS_SQL = """
CREATE SCHEMA traps;
CREATE TABLE traps.tickets (
    id int PRIMARY KEY, created_at timestamptz NOT NULL, tenant_id int NOT NULL,
    urgent bool NOT NULL, escalated bool NOT NULL, status text NOT NULL, city int NOT NULL,
    zip int NOT NULL, tags text[] NOT NULL, doc jsonb NOT NULL, body text NOT NULL, note text,
    amount numeric NOT NULL);
INSERT INTO traps.tickets
SELECT i, timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', i % 100,
       i % 10 = 0 OR i > {rows} - 1000, i % 10 = 5 OR i > {rows} - 1000,
       CASE WHEN i % 100 = 7 THEN 'failed' WHEN i % 10 < 3 THEN 'closed' ELSE 'open' END,
       (i % 1000) / 10, i % 1000, ARRAY['t' || (i % 50), 'u' || (i % 7)],
       jsonb_build_object('kind', 'k' || (i % 20), 'n', i % 3), md5(i::text),
       CASE WHEN i % 4 = 0 THEN NULL ELSE 'note ' || (i % 500) END, (i % 1000)::numeric / 10
FROM generate_series(1, {rows}) i;
CHECKPOINT;
VACUUM ANALYZE traps.tickets
"""

# (weight, SQL, psycopg params or None)
WORKLOAD: list[tuple[float, str, Any]] = [
    *(
        (
            10,
            "SELECT count(*), sum(amount) FROM traps.tickets "
            f"WHERE created_at >= '2024-0{m}-01' AND created_at < '2024-0{m}-03'",
            None,
        )
        for m in (2, 3, 4, 5)
    ),
    # trap 1: the rare flag combination clustered at the far end of the ORDER BY column
    (
        2,
        "SELECT id, created_at FROM traps.tickets WHERE urgent AND escalated "
        "ORDER BY created_at LIMIT 10",
        None,
    ),
    (
        1,
        "SELECT id FROM traps.tickets WHERE status = 'closed' AND urgent AND escalated "
        "ORDER BY created_at LIMIT 5",
        None,
    ),
    (
        2,
        "SELECT id, created_at FROM traps.tickets WHERE urgent AND escalated "
        "ORDER BY created_at DESC LIMIT 10",
        None,
    ),
    # trap 2: correlated columns (zip determines city)
    (5, "SELECT id, amount FROM traps.tickets WHERE city = 5 AND zip = 53", None),
    (3, "SELECT count(*) FROM traps.tickets WHERE city = 12 AND zip = 125", None),
    # the rest of an application's day
    (
        20,
        "SELECT * FROM traps.tickets WHERE tenant_id = %s AND created_at >= '2024-03-01' "
        "ORDER BY created_at LIMIT 50",
        [5],
    ),
    (
        5,
        "SELECT id, created_at FROM traps.tickets WHERE status = 'failed' "
        "ORDER BY created_at DESC LIMIT 20",
        None,
    ),
    (
        5,
        "SELECT id FROM traps.tickets WHERE lower(body) = 'c4ca4238a0b923820dcc509a6f75849b'",
        None,
    ),
    (2, "SELECT id FROM traps.tickets WHERE tags @> ARRAY['t7']", None),
    (2, """SELECT id FROM traps.tickets WHERE doc @> '{"kind": "k3"}'""", None),
    (1, "SELECT id FROM traps.tickets WHERE body ILIKE '%abc12%'", None),
    (30, "SELECT * FROM traps.tickets WHERE id = %s", [12345]),
    (
        3,
        "SELECT * FROM traps.tickets WHERE created_at = '2024-02-01 00:00+00' "
        "OR body = 'c81e728d9d4c2f636f067f89cc14862c'",
        None,
    ),
    (1, "SELECT status, count(*) FROM traps.tickets GROUP BY status", None),
    (10, "SELECT count(*) FROM traps.tickets WHERE tenant_id = %s", [7]),
    (3, "SELECT id FROM traps.tickets WHERE zip = 77 AND amount > 50", None),
    (2, "SELECT id FROM traps.tickets WHERE note IS NULL AND tenant_id = 3", None),
    (
        2,
        "SELECT * FROM traps.tickets WHERE created_at >= '2024-06-01' "
        "ORDER BY created_at LIMIT 100",
        None,
    ),
]


def _statements() -> list[Any]:
    return [(text, params) if params is not None else text for _, text, params in WORKLOAD]


def _short(text: str) -> str:
    short = " ".join(text.split())
    return short if len(short) <= 64 else short[:61] + "..."


def _verify_table(label: str, advice: Any, result: Any) -> list[str]:
    lines = [
        f"### {label}",
        "",
        "| # | w | statement | ms before | ms after | evidence | indexes used |",
        "|---:|---:|---|---:|---:|---|---|",
    ]
    by_position = {q.position: q for q in advice.per_query}
    for timing in result.statements:
        weight = WORKLOAD[timing.position][0]
        after = f"{timing.after_ms:,.2f}" if timing.after_ms is not None else "timeout"
        flag = " ⚠ slower" if timing in result.slower else ""
        lines.append(
            f"| {timing.position} | {weight:g} | `{_short(timing.sql)}` | {timing.before_ms:,.2f} "
            f"| {after}{flag} | {by_position[timing.position].evidence} "
            f"| {', '.join(timing.indexes_used) or '–'} |"
        )
    before = sum(WORKLOAD[t.position][0] * t.before_ms for t in result.statements)
    after_total = sum(WORKLOAD[t.position][0] * (t.after_ms or 0.0) for t in result.statements)
    lines += [
        "",
        f"Weighted workload time: {before:,.1f} ms → {after_total:,.1f} ms "
        f"(ratio {after_total / before:.3f}); unweighted ratio "
        f"{result.workload_ratio or float('nan'):.3f}; statements slower: {len(result.slower)}.",
        "",
        "| index | estimated | built | estimate / built |",
        "|---|---:|---:|---:|",
    ]
    for build in result.builds:
        ratio = build.size_error_ratio
        shown = f"{ratio:.2f}" if ratio is not None else "–"
        lines.append(
            f"| `{build.name}` | {_mib(build.estimated_bytes)} | {_mib(build.size_bytes)} "
            f"| {shown} |"
        )
    return lines


def _mib(size: int | None) -> str:
    return "?" if size is None else f"{size / 2**20:,.2f} MiB"


def _statistics_table(conn: psycopg.Connection[Any], advice: Any, runs: int) -> list[str]:
    lines = [
        "### Statistics advice, applied for real",
        "",
        "| statistics | statement | rows est. before (proof) | after (proof) | after (real) "
        "| actual rows | ms before | ms after | plan changed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for fix in advice.statistics:
        for position in fix.statements:
            text = WORKLOAD[position][1]
            before = _time(conn, text, runs)
            for line in fix.create_sql.splitlines():
                conn.execute(line)
            try:
                plan = explain(conn, text, analyze=True, buffers=False)
                scan = next(n for n in plan.nodes() if n.relation_name == "tickets")
                after = _time(conn, text, runs)
            finally:
                if fix.drop_sql:
                    conn.execute(fix.drop_sql)
                conn.execute("ANALYZE traps.tickets")
            lines.append(
                f"| `{fix.create_sql.splitlines()[0][:60]}...` | {position} "
                f"| {fix.estimate_before:,.0f} | {fix.estimate_after:,.0f} | {scan.plan_rows:,.0f} "
                f"| {scan.rows_total:,.0f} | {before:,.2f} | {after:,.2f} | {fix.plan_changed} |"
            )
    return lines


def _time(conn: psycopg.Connection[Any], text: str, runs: int) -> float:
    explain(conn, text, analyze=True, buffers=False)
    times = sorted(
        explain(conn, text, analyze=True, buffers=False).execution_time_ms or 0.0
        for _ in range(runs)
    )
    return times[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="EXPLAIN ANALYZE runs per statement")
    parser.add_argument("--rows", type=int, default=300_000, help="rows in traps.tickets")
    args = parser.parse_args(argv)
    weights = [w for w, _, _ in WORKLOAD]
    out: list[str] = []
    with throwaway_server(hypopg=True) as server:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for statement in TRAPS_SQL.format(rows=args.rows).split(";\n"):
                conn.execute(statement)  # type: ignore[call-overload]  # our own fixed text
            for label, checks in (("planner only (data_checks=False)", False), ("advisor", True)):
                started = time.perf_counter()
                with psycopg.connect(server.dsn) as work:
                    advice = advise(work, _statements(), weights, data_checks=checks)
                took = time.perf_counter() - started
                print(advice, file=sys.stderr)
                result = advice.verify(conn, runs=args.runs)
                out += _verify_table(f"{label}: advise() {took:.1f} s", advice, result)
                out.append("")
                if checks:
                    out += _statistics_table(conn, advice, args.runs)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
