"""Index advisor benchmark: advise() against a naive baseline on the demo schema, measured for real.

Run: ``python benchmarks/bench_advisor.py [--runs 5] [--markdown]``. It starts a throwaway
PostgreSQL 15 with HypoPG (``planalyzer.live.throwaway``), loads the demo schema, VACUUMs it,
and then, in the same run and on the same data:

1. measures every workload statement with no extra index (planner cost, and the median
   execution time of ``--runs`` EXPLAIN ANALYZE runs after a warm-up run);
2. runs ``advise()`` on the weighted workload (wall time), builds its recommendations for real,
   measures again, drops them;
3. builds the naive baseline — one single-column B-tree per column that a statement filters,
   joins or sorts on (what the simple advisors propose), unless an index already leads with it
   — measures again, drops it.

It prints per-statement figures (so a statement made slower is visible; ``=`` marks an
unchanged plan, whose time difference is noise; ``⚠`` a new plan more than 10 % slower) and the
totals. Times are real, costs are the planner's; weighted figures are Σ weight × value.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from planalyzer.advisor.advise import advise
from planalyzer.advisor.predicates import PredicateKind, extract
from planalyzer.live.catalog import catalog
from planalyzer.live.demo import load_demo_schema
from planalyzer.live.explain import explain
from planalyzer.live.throwaway import throwaway_server

# (weight, SQL, psycopg params or None). Weights are relative frequencies.
WORKLOAD: list[tuple[float, str, Any]] = [
    (100, "SELECT * FROM orders WHERE customer_id = %s ORDER BY created_at DESC LIMIT 10", [42]),
    (50, "SELECT count(*), sum(total) FROM orders WHERE customer_id = %s", [1]),
    (
        40,
        "SELECT o.id, i.product_id, i.quantity FROM orders o "
        "JOIN order_items i ON i.order_id = o.id WHERE o.customer_id = %s",
        [7],
    ),
    (30, "SELECT * FROM order_items WHERE order_id = %s", [123456]),
    (
        20,
        "SELECT id, created_at, total FROM orders WHERE status = 'failed' "
        "ORDER BY created_at DESC LIMIT 20",
        None,
    ),
    (
        20,
        "SELECT id, name, created_at FROM customers WHERE segment = 'enterprise' "
        "ORDER BY created_at DESC LIMIT 20",
        None,
    ),
    (
        10,
        "SELECT * FROM customers WHERE country = 'FR' AND city = 'Paris' "
        "ORDER BY created_at DESC LIMIT 50",
        None,
    ),
    (25, "SELECT * FROM events WHERE customer_id = %s ORDER BY created_at DESC", [4242]),
    (
        10,
        "SELECT id, customer_id, created_at FROM events WHERE kind = 'refund' "
        "AND created_at >= '2024-10-01' ORDER BY created_at DESC LIMIT 50",
        None,
    ),
    (
        5,
        "SELECT p.category, sum(i.quantity) FROM order_items i "
        "JOIN products p ON p.id = i.product_id WHERE i.product_id = %s GROUP BY p.category",
        [900],
    ),
    # The trap from the issue: a rare, clustered filter ordered by another column, with LIMIT.
    (
        10,
        "SELECT id, total FROM orders WHERE created_at < '2024-01-06' ORDER BY total DESC LIMIT 10",
        None,
    ),
    (10, "SELECT id, created_at FROM orders WHERE note IS NOT NULL AND customer_id = %s", [42]),
    (
        5,
        "SELECT count(*) FROM orders WHERE created_at >= '2024-12-01' "
        "AND created_at < '2024-12-08'",
        None,
    ),
    (5, "SELECT status, count(*) FROM orders GROUP BY status", None),
    (20, "SELECT * FROM customers WHERE email = %s", ["customer77@example.com"]),
    (5, "SELECT * FROM products WHERE category = 'category-07' AND active", None),
    (2, "SELECT id, name FROM customers WHERE name ILIKE %s", ["%mer 4242%"]),
    (
        8,
        "SELECT o.* FROM orders o WHERE o.customer_id = %s AND o.created_at >= '2024-06-01' "
        "AND o.status IN ('paid', 'pending')",
        [1],
    ),
]


@dataclass
class Measured:
    """One statement under one index configuration."""

    cost: float
    ms: float
    plan_nodes: list[str] = field(default_factory=list)


def measure(conn: psycopg.Connection[Any], text: str, params: Any, runs: int) -> Measured:
    estimated = explain(conn, text, params, analyze=False, buffers=False)
    explain(conn, text, params, analyze=True, buffers=False)  # warm-up: caches, hint bits
    times = [
        explain(conn, text, params, analyze=True, buffers=False).execution_time_ms or 0.0
        for _ in range(runs)
    ]
    return Measured(
        cost=float(estimated.root.total_cost or 0.0),
        ms=statistics.median(times),
        plan_nodes=[n.display_name for n in estimated.nodes() if n.relation_name or n.index_name],
    )


def measure_all(conn: psycopg.Connection[Any], runs: int) -> list[Measured]:
    return [measure(conn, text, params, runs) for _, text, params in WORKLOAD]


def build(conn: psycopg.Connection[Any], statements: list[str]) -> tuple[float, int, list[str]]:
    """Run CREATE statements (one per line); return build seconds, total size, index names."""
    started = time.perf_counter()
    names: list[str] = []
    for text in statements:
        for line in text.splitlines():
            if line.strip() and not line.startswith("--"):
                conn.execute(sql.SQL(line))  # type: ignore[arg-type]  # generated text
                if line.startswith("CREATE INDEX"):
                    names.append(line.split('"')[1])
    elapsed = time.perf_counter() - started
    size = conn.execute(
        "SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::int8 FROM pg_class c "
        "WHERE c.relkind IN ('i', 'I') AND c.relname = ANY(%s)",
        [names],
    ).fetchone()
    return elapsed, int(size[0]) if size else 0, names


def drop(conn: psycopg.Connection[Any], names: list[str]) -> None:
    # In creation order: a partitioned parent's index goes first and takes its children along.
    for name in names:
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier("public", name)))


def naive_statements(conn: psycopg.Connection[Any]) -> list[str]:
    """One single-column index per filtered, joined or sorted column not already leading one."""
    facts = {t.name: t for t in catalog(conn).tables}
    wanted: dict[tuple[str, str], None] = {}
    for _, text, _params in WORKLOAD:
        shape = extract(
            text.replace("%s", "$1"),
            lambda t: {c.name for c in facts[t.name].columns} if t.name in facts else None,
        )
        for pred in shape.predicates:
            if pred.kind.btree and pred.kind is not PredicateKind.IS_NOT_NULL:
                wanted[(pred.table.name, pred.column)] = None
        for join in shape.joins:
            for side in (join.left, join.right):
                wanted[(side.table.name, side.column)] = None
        for ordering in shape.orderings:
            for key in ordering.keys:
                wanted[(key.table.name, key.column)] = None
    statements = []
    for table, column in wanted:
        leading = {i.columns[0].expression for i in facts[table].indexes if i.columns}
        if column in leading:
            continue
        name = f"naive_{table}_{column}"
        statements.append(
            sql.SQL("CREATE INDEX {} ON {} ({})")
            .format(sql.Identifier(name), sql.Identifier("public", table), sql.Identifier(column))
            .as_string()
        )
    return statements


def slower(after: Measured, before: Measured) -> bool:
    """Slower by more than 10 % (and 0.05 ms) with a different plan.

    With the same plan a difference is timing noise (other processes, cache state), not the
    indexes' doing, so it is not counted.
    """
    return after.plan_nodes != before.plan_nodes and after.ms > 1.1 * before.ms + 0.05


def weighted(values: list[float]) -> float:
    return sum(w * v for (w, _, _), v in zip(WORKLOAD, values, strict=True))


def report(
    base: list[Measured],
    adv: list[Measured],
    naive: list[Measured],
    summary: dict[str, Any],
) -> str:
    lines = [
        "| # | w | statement | cost before | cost advisor | cost naive "
        "| ms before | ms advisor | ms naive |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, ((weight, text, _), b, a, v) in enumerate(zip(WORKLOAD, base, adv, naive, strict=True)):
        short = " ".join(text.split())
        short = short if len(short) <= 60 else short[:57] + "..."
        flag_a = " ⚠" if slower(a, b) else ("" if a.plan_nodes != b.plan_nodes else " =")
        flag_v = " ⚠" if slower(v, b) else ("" if v.plan_nodes != b.plan_nodes else " =")
        lines.append(
            f"| {n} | {weight:g} | `{short}` | {b.cost:,.0f} | {a.cost:,.0f} | {v.cost:,.0f} "
            f"| {b.ms:,.2f} | {a.ms:,.2f}{flag_a} | {v.ms:,.2f}{flag_v} |"
        )
    lines += [
        "",
        "| | no extra index | advisor | naive (1 column per predicate) |",
        "|---|---:|---:|---:|",
        f"| weighted cost | {weighted([m.cost for m in base]):,.0f} "
        f"| {weighted([m.cost for m in adv]):,.0f} | {weighted([m.cost for m in naive]):,.0f} |",
        f"| weighted time (ms) | {weighted([m.ms for m in base]):,.1f} "
        f"| {weighted([m.ms for m in adv]):,.1f} | {weighted([m.ms for m in naive]):,.1f} |",
        f"| indexes | 0 | {summary['advisor_count']} | {summary['naive_count']} |",
        f"| total index size | 0 | {summary['advisor_bytes'] / 2**20:,.1f} MiB "
        f"| {summary['naive_bytes'] / 2**20:,.1f} MiB |",
        f"| statements slower with a new plan (>10 %) | – | {summary['advisor_slower']} "
        f"| {summary['naive_slower']} |",
        f"| advise() wall time | | {summary['advise_s']:.2f} s | |",
        f"| build time | | {summary['advisor_build_s']:.1f} s | {summary['naive_build_s']:.1f} s |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="EXPLAIN ANALYZE runs per statement")
    args = parser.parse_args(argv)
    with throwaway_server(hypopg=True) as server:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            load_demo_schema(conn)
            conn.execute("CHECKPOINT")  # async commit: flush WAL so VACUUM can set all-visible
            conn.execute("VACUUM")

            base = measure_all(conn, args.runs)

            started = time.perf_counter()
            advice = advise(
                conn,
                [(text, params) if params is not None else text for _, text, params in WORKLOAD],
                weights=[w for w, _, _ in WORKLOAD],
            )
            advise_s = time.perf_counter() - started
            print(advice, file=sys.stderr)
            build_s, adv_bytes, adv_names = build(
                conn, [r.create_sql for r in advice.recommendations]
            )
            adv = measure_all(conn, args.runs)
            drop(conn, adv_names)

            naive_sql = naive_statements(conn)
            naive_build_s, naive_bytes, naive_names = build(conn, naive_sql)
            naive = measure_all(conn, args.runs)
            drop(conn, naive_names)

    summary = {
        "advise_s": advise_s,
        "advisor_build_s": build_s,
        "advisor_bytes": adv_bytes,
        "advisor_count": len(advice.recommendations),
        "naive_build_s": naive_build_s,
        "naive_bytes": naive_bytes,
        "naive_count": len(naive_names),
        "advisor_slower": sum(slower(a, b) for a, b in zip(adv, base, strict=True)),
        "naive_slower": sum(slower(v, b) for v, b in zip(naive, base, strict=True)),
    }
    print(report(base, adv, naive, summary))
    print("\nRecommended:")
    for rec in advice.recommendations:
        lines = rec.create_sql.splitlines()
        print(f"- `{lines[0]}`" if len(lines) == 1 else f"- `{rec.name}` (per partition)")
    print("\nNaive:")
    for text in naive_sql:
        print(f"- `{text}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
