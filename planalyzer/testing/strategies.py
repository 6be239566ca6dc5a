"""Hypothesis strategies that draw valid EXPLAIN (FORMAT JSON) documents, and broken ones.

For property tests of code that reads plans (yours or planalyzer's): install the extra
``pip install 'planalyzer[testing]'`` (it brings hypothesis) and::

    from hypothesis import given
    from planalyzer.testing.strategies import plan_documents

    @given(plan_documents())
    def test_my_check_never_crashes(generated):
        my_check(pa.parse(generated.document))

`plan_documents` draws a tree shape, then fills in figures consistent the way PostgreSQL's are:
a node's wall time (per-loop time x loops / processes) covers its children's; BUFFERS counters
include the children's; a Gather's parallel subtree loops once per process, its nodes may be
parallel-aware and carry a per-worker ``Workers`` array; a Gather's InitPlan runs in the leader
alone; a node that never ran has children that never ran; a CTE Scan reads an InitPlan ``CTE x``
whose time and buffers its own include. Loops range up to tens of thousands, scans have Filters
with Rows Removed, and node-type details (sort and hash memory or disk, lossy bitmap pages,
Memoize hits, join filters, triggers) are drawn, so every rule of planalyzer can fire. The draw
records what invariants need (`GeneratedPlan`).

This module imports hypothesis, so it is importable only where hypothesis is installed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "BLOCKS",
    "NODE_TYPES",
    "GeneratedPlan",
    "broken_inputs",
    "json_values",
    "plan_documents",
]

NODE_TYPES = (
    "Seq Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Heap Scan",
    "Bitmap Index Scan",
    "Tid Scan",
    "Function Scan",
    "Values Scan",
    "CTE Scan",
    "Subquery Scan",
    "Foreign Scan",
    "Custom Scan",
    "Result",
    "ProjectSet",
    "ModifyTable",
    "Append",
    "Merge Append",
    "Recursive Union",
    "BitmapAnd",
    "BitmapOr",
    "Nested Loop",
    "Merge Join",
    "Hash Join",
    "Materialize",
    "Memoize",
    "Sort",
    "Incremental Sort",
    "Group",
    "Aggregate",
    "WindowAgg",
    "Unique",
    "SetOp",
    "LockRows",
    "Limit",
    "Hash",
)
"""Node types PostgreSQL 9.6-18 prints (Gather and Gather Merge are drawn separately)."""

BLOCKS = ("Shared Hit Blocks", "Shared Read Blocks", "Temp Read Blocks", "Temp Written Blocks")
"""The BUFFERS counters drawn (totals over the subtree, as PostgreSQL prints them)."""

_SCANS = frozenset(
    {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Tid Scan", "Foreign Scan"}
)
_JOINS = frozenset({"Nested Loop", "Merge Join", "Hash Join"})
_LOOPS = (0, 1, 1, 1, 2, 3, 16, 100, 1_000, 20_000)
"""Loops per process: mostly few, sometimes the thousands a nested loop's inner side runs."""

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
"""Any JSON value (for unknown keys and type swaps)."""


@dataclass(frozen=True)
class GeneratedPlan:
    """A drawn document and the facts the invariants need."""

    document: list[dict[str, Any]]
    node_count: int
    analyze: bool
    timing: bool
    buffers: bool
    costs: bool
    parallel: bool


def _details(draw: st.DrawFn, node: dict[str, Any], *, analyze: bool, executed: bool) -> None:
    """Node-type keys: conditions, and with ANALYZE the figures rules read."""
    kind = node["Node Type"]
    if kind in _SCANS and "Relation Name" in node and draw(st.booleans()):
        node["Filter"] = draw(st.sampled_from(("(a = 1)", "((a = 1) AND (b = 2))", "(c > 5)")))
        if analyze and executed:
            node["Rows Removed by Filter"] = draw(st.sampled_from((0, 10, 10_000, 1_000_000)))
    if kind == "Index Scan":
        node["Index Name"] = "t_a_idx"
        node["Index Cond"] = "(a = o.id)"
    if kind in _JOINS and draw(st.booleans()):
        node["Join Filter"] = draw(
            st.sampled_from(("(o.x <> c.y)", "((o.a = c.a) OR (o.b = c.b))"))
        )
        if analyze and executed:
            node["Rows Removed by Join Filter"] = draw(st.sampled_from((0, 50, 100_000)))
    if kind == "Hash Join":
        node["Hash Cond"] = "(o.customer_id = c.id)"
    if not (analyze and executed):
        return
    if kind == "Sort":
        disk = draw(st.booleans())
        node["Sort Method"] = "external merge" if disk else "quicksort"
        node["Sort Space Used"] = draw(st.integers(25, 10**6))
        node["Sort Space Type"] = "Disk" if disk else "Memory"
    elif kind == "Hash":
        batches = draw(st.sampled_from((1, 1, 4, 64)))
        node["Hash Buckets"] = 1024
        node["Hash Batches"] = batches
        node["Original Hash Batches"] = draw(st.sampled_from((1, batches)))
        node["Peak Memory Usage"] = draw(st.integers(8, 10**6))
    elif kind == "Bitmap Heap Scan":
        node["Recheck Cond"] = "(a = 1)"
        node["Exact Heap Blocks"] = draw(st.integers(0, 10_000))
        node["Lossy Heap Blocks"] = draw(st.sampled_from((0, 0, 500, 50_000)))
        node["Rows Removed by Index Recheck"] = draw(st.sampled_from((0, 100, 1_000_000)))
    elif kind == "Memoize":
        node["Cache Key"] = "o.customer_id"
        node["Cache Mode"] = "logical"
        node["Cache Hits"] = draw(st.integers(0, 10_000))
        node["Cache Misses"] = draw(st.integers(0, 10_000))
        node["Cache Evictions"] = draw(st.integers(0, 10_000))
        node["Cache Overflows"] = 0
        node["Peak Memory Usage"] = draw(st.integers(1, 10**5))


@st.composite
def plan_documents(
    draw: st.DrawFn,
    *,
    max_nodes: int = 40,
    min_nodes: int = 1,
    node_types: Sequence[str] = NODE_TYPES,
    timed: bool | None = None,
) -> GeneratedPlan:
    """A random valid plan: any node kinds, loops, Gather, Init/SubPlans, CTEs, unknown keys.

    ``node_types`` narrows the kinds drawn (Gather and CTE bodies are added regardless), and
    ``min_nodes`` and ``timed=True`` (EXPLAIN ANALYZE with timing) aim a property at one shape,
    e.g. ``plan_documents(min_nodes=3, node_types=("Nested Loop", "Seq Scan"), timed=True)``.
    """
    n = draw(st.integers(min_value=min_nodes, max_value=max(max_nodes, min_nodes)))
    analyze = True if timed else draw(st.booleans())
    timing = analyze and (timed if timed is not None else draw(st.booleans()))
    buffers = analyze and draw(st.booleans())  # node counters need ANALYZE
    costs = draw(st.booleans())
    gather_at = draw(st.none() | st.integers(min_value=0, max_value=n - 2)) if n > 1 else None
    workers = draw(st.integers(min_value=0, max_value=4))

    # shape: parent of node i is some earlier node (pre-order ids are assigned by the parser);
    # a join still missing its inner side often gets the next node, so joins have two inputs
    kinds = [draw(st.sampled_from(tuple(node_types))) for _ in range(n)]
    parents = [-1]
    kids: list[list[int]] = [[] for _ in range(n)]
    for i in range(1, n):
        open_joins = [j for j in range(i) if kinds[j] in _JOINS and len(kids[j]) < 2]
        to_join: bool = draw(st.booleans())
        if open_joins and to_join:
            parent = open_joins[-1]
        else:
            parent = draw(st.integers(min_value=0, max_value=i - 1))
        parents.append(parent)
        kids[parent].append(i)
    if gather_at is not None and not kids[gather_at]:
        gather_at = None

    nodes: list[dict[str, Any]] = []
    for i in range(n):
        node: dict[str, Any] = {"Node Type": kinds[i]}
        if node["Node Type"] == "CTE Scan" and (i == 0 or kids[i]):
            node["Node Type"] = "Seq Scan"  # a CTE Scan is a leaf, below the root
        if i == gather_at:
            node["Node Type"] = draw(st.sampled_from(("Gather", "Gather Merge")))
            node["Workers Planned"] = max(workers, draw(st.integers(0, 4)))
            if analyze:
                node["Workers Launched"] = workers
        if node["Node Type"] == "CTE Scan":
            node["CTE Name"] = f"cte{i}"
            node["Alias"] = f"cte{i}"
        elif draw(st.booleans()):
            node["Relation Name"] = draw(st.sampled_from(("orders", "customers", "t")))
            node["Alias"] = draw(st.sampled_from(("o", "c", "t")))
        if costs:
            node["Startup Cost"] = draw(st.floats(0, 100, allow_nan=False)).__round__(2)
            node["Total Cost"] = draw(st.floats(100, 1e6, allow_nan=False)).__round__(2)
            node["Plan Rows"] = draw(st.integers(0, 10**7))
            node["Plan Width"] = draw(st.integers(0, 400))
        if draw(st.integers(0, 4)) == 0:
            node[draw(st.sampled_from(("Zz Future Key", "Extra Thing", "x")))] = draw(json_values)
        nodes.append(node)

    # relationships: the first child of a Gather is its parallel subtree; others Init/SubPlans
    for p in range(n):
        for position, c in enumerate(kids[p]):
            if draw(st.integers(0, 5)) == 0 and not (p == gather_at and position == 0):
                kind = draw(st.sampled_from(("InitPlan", "SubPlan")))
                nodes[c]["Parent Relationship"] = kind
                nodes[c]["Subplan Name"] = f"{kind} {c}"
            else:
                nodes[c]["Parent Relationship"] = ("Outer", "Inner", "Member")[min(position, 2)]

    # processes per node, top-down: below a Gather every process loops the subtree
    processes = [1] * n
    for i in range(1, n):
        p = parents[i]
        if p == gather_at and nodes[i]["Parent Relationship"] in ("Outer", "Inner", "Member"):
            processes[i] = workers + 1
        elif p == gather_at:
            processes[i] = 1  # a Gather's InitPlan runs in the leader
        else:
            processes[i] = processes[p]
    for i in range(n):
        if processes[i] > 1 and nodes[i]["Node Type"] == "CTE Scan":
            # CTE Scans are parallel-restricted: PostgreSQL never runs one below a Gather
            nodes[i]["Node Type"] = "Seq Scan"
            del nodes[i]["CTE Name"], nodes[i]["Alias"]
        if processes[i] > 1 and nodes[i]["Node Type"] in _SCANS | {"Append", "Hash Join"}:
            nodes[i]["Parallel Aware"] = draw(st.booleans())

    # CTE bodies: an InitPlan "CTE x" of the root per CTE Scan, run inside that scan
    bodies: dict[int, dict[str, Any]] = {}
    for i in range(n):
        if nodes[i]["Node Type"] == "CTE Scan":
            body: dict[str, Any] = {
                "Node Type": draw(st.sampled_from(("Seq Scan", "Aggregate", "Result"))),
                "Parent Relationship": "InitPlan",
                "Subplan Name": f"CTE {nodes[i]['CTE Name']}",
            }
            if costs:
                body["Startup Cost"] = 0.0
                body["Total Cost"] = draw(st.floats(1, 1e5, allow_nan=False)).__round__(2)
                body["Plan Rows"] = draw(st.integers(0, 10**5))
                body["Plan Width"] = 8
            bodies[i] = body

    inclusive_us = [0] * n
    if analyze:
        # wall time budget (integer microseconds) flows down; children share at most the parent's
        budget = [0] * n
        budget[0] = draw(st.sampled_from((0, 500, 50_000)) | st.integers(0, 10**7))
        for i in range(n):
            node = nodes[i]
            parent_ran = i == 0 or nodes[parents[i]]["Actual Loops"] > 0
            # a node that never ran has children that never ran
            loops_each = (draw(st.sampled_from(_LOOPS)) if i else 1) if parent_ran else 0
            loops = loops_each * processes[i]
            per_loop_us = budget[i] // loops_each if loops_each else 0
            node["Actual Loops"] = loops
            node["Actual Rows"] = draw(st.integers(0, 10**6)) if loops else 0
            if timing:
                node["Actual Startup Time"] = round(per_loop_us * 0.1) / 1000
                node["Actual Total Time"] = per_loop_us / 1000
            inclusive_us[i] = per_loop_us * loops_each
            _details(draw, node, analyze=True, executed=loops > 0)
            if timing and loops and processes[i] > 1 and draw(st.booleans()):
                # VERBOSE: each worker ran the node as often and as long as the leader did
                node["Workers"] = [
                    {
                        "Worker Number": w,
                        "Actual Startup Time": node["Actual Startup Time"],
                        "Actual Total Time": node["Actual Total Time"],
                        "Actual Rows": node["Actual Rows"],
                        "Actual Loops": loops_each,
                    }
                    for w in range(processes[i] - 1)
                ]
            remaining = inclusive_us[i]
            for c in kids[i]:
                share = draw(st.integers(0, remaining)) if loops else 0
                budget[c] = share
                remaining -= share
        for i, body in bodies.items():
            ran = nodes[i]["Actual Loops"] > 0
            body["Actual Loops"] = 1 if ran else 0
            body["Actual Rows"] = draw(st.integers(0, 10**5)) if ran else 0
            if timing:
                # the body runs inside the scan: at most the scan's own wall time
                body_us = draw(st.integers(0, inclusive_us[i])) if ran else 0
                body["Actual Startup Time"] = 0.0
                body["Actual Total Time"] = body_us / 1000
        if buffers:
            for body in bodies.values():
                for key in BLOCKS:
                    body[key] = draw(st.sampled_from((0, 5, 1_000)))
            for i in reversed(range(n)):  # children first: counters include the subtree
                for key in BLOCKS:
                    inside = bodies[i][key] if i in bodies else 0  # the CTE ran in the scan
                    below = sum(nodes[c][key] for c in kids[i])
                    own = draw(st.sampled_from((0, 5, 1_000, 50_000)))
                    nodes[i][key] = own + below + inside
    else:
        for node in nodes:
            _details(draw, node, analyze=False, executed=False)

    # assemble without recursion: children lists in order, CTE bodies under the root
    for i in range(n):
        if kids[i]:
            nodes[i]["Plans"] = [nodes[c] for c in kids[i]]
    if bodies:
        nodes[0].setdefault("Plans", []).extend(bodies.values())
    statement: dict[str, Any] = {"Plan": nodes[0]}
    if analyze:
        statement["Planning Time"] = draw(st.floats(0, 100, allow_nan=False)).__round__(3)
        statement["Triggers"] = []
        trigger_ms = 0.0
        if draw(st.integers(0, 3)) == 0:
            trigger_ms = draw(st.sampled_from((5_000, 50_000, 500_000)) | st.integers(0, 10**6))
            trigger_ms /= 1000
            statement["Triggers"].append(
                {
                    "Trigger Name": "RI_ConstraintTrigger_a_16422",
                    "Constraint Name": "orders_customer_id_fkey",
                    "Relation": "customers",
                    "Time": trigger_ms,
                    "Calls": draw(st.integers(1, 10**4)),
                }
            )
        if timing:
            root_ms = nodes[0].get("Actual Total Time", 0) * nodes[0]["Actual Loops"]
            statement["Execution Time"] = round(root_ms + trigger_ms + 0.5, 3)
    if draw(st.booleans()):
        statement["Query Identifier"] = draw(st.integers(min_value=-(2**63), max_value=2**63 - 1))
    if draw(st.booleans()):
        statement["Settings"] = {"work_mem": "64MB"}
    return GeneratedPlan(
        document=[statement],
        node_count=n + len(bodies),
        analyze=analyze,
        timing=timing,
        buffers=buffers,
        costs=costs,
        parallel=gather_at is not None,
    )


@st.composite
def broken_inputs(draw: st.DrawFn) -> str | bytes | Any:
    """A valid plan broken one way: a key dropped, a type swapped, truncated, or garbage."""
    generated = draw(plan_documents(max_nodes=8))
    document = json.loads(json.dumps(generated.document))
    how = draw(st.sampled_from(("drop", "swap", "truncate", "garbage", "bytes", "splice")))
    if how in ("drop", "swap"):
        # pick any dict in the document, then one of its keys
        containers: list[dict[str, Any]] = []
        stack: list[Any] = [document]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                containers.append(item)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        target = draw(st.sampled_from(containers))
        if target:
            key = draw(st.sampled_from(sorted(target)))
            if how == "drop":
                del target[key]
            else:
                target[key] = draw(json_values)
        return draw(st.sampled_from((document, json.dumps(document))))
    text = json.dumps(document, indent=draw(st.sampled_from((None, 2))))
    if how == "truncate":
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    if how == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(max_size=5)) + text[at:]
    if how == "bytes":
        return draw(st.binary(max_size=64))
    return draw(st.text(max_size=64))
