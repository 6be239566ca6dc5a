"""Hypothesis strategies: random valid EXPLAIN (FORMAT JSON) documents, and broken ones.

`plan_documents` draws a tree shape, then fills in figures so that they are consistent the way
PostgreSQL's are: a node's wall time (per-loop time x loops / processes) covers its children's,
BUFFERS counters include the children's, a Gather's parallel subtree loops once per process, and
a Gather's InitPlan runs in the leader alone. The draw records what the invariants need
(`GeneratedPlan`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

NODE_TYPES = (
    "Seq Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Heap Scan",
    "Bitmap Index Scan",
    "Tid Scan",
    "Function Scan",
    "Values Scan",
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


@st.composite
def plan_documents(draw: st.DrawFn, *, max_nodes: int = 40) -> GeneratedPlan:
    """A random valid plan: any node kinds, loops, Gather, Init/SubPlans, unknown keys."""
    n = draw(st.integers(min_value=1, max_value=max_nodes))
    analyze = draw(st.booleans())
    timing = analyze and draw(st.booleans())
    buffers = analyze and draw(st.booleans())  # node counters need ANALYZE
    costs = draw(st.booleans())
    gather_at = draw(st.none() | st.integers(min_value=0, max_value=n - 2)) if n > 1 else None
    workers = draw(st.integers(min_value=0, max_value=4))

    # shape: parent of node i is some earlier node (pre-order ids are assigned by the parser)
    parents = [-1] + [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, n)]
    kids: list[list[int]] = [[] for _ in range(n)]
    for i in range(1, n):
        kids[parents[i]].append(i)
    if gather_at is not None and not kids[gather_at]:
        gather_at = None

    nodes: list[dict[str, Any]] = []
    for i in range(n):
        node: dict[str, Any] = {"Node Type": draw(st.sampled_from(NODE_TYPES))}
        if i == gather_at:
            node["Node Type"] = draw(st.sampled_from(("Gather", "Gather Merge")))
            node["Workers Planned"] = max(workers, draw(st.integers(0, 4)))
            if analyze:
                node["Workers Launched"] = workers
        if draw(st.booleans()):
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

    if analyze:
        # wall time budget (integer microseconds) flows down; children share at most the parent's
        budget = [0] * n
        budget[0] = draw(st.integers(0, 10**7))
        for i in range(n):
            own_us = budget[i]
            loops_each = draw(st.integers(0, 3)) if i else 1
            loops = loops_each * processes[i]
            per_loop_us = own_us // loops_each if loops_each else 0
            node = nodes[i]
            node["Actual Loops"] = loops
            node["Actual Rows"] = draw(st.integers(0, 10**6)) if loops else 0
            if timing:
                node["Actual Startup Time"] = round(per_loop_us * 0.1) / 1000
                node["Actual Total Time"] = per_loop_us / 1000
            inclusive_us = per_loop_us * loops_each
            remaining = inclusive_us
            for c in kids[i]:
                share = draw(st.integers(0, remaining)) if loops else 0
                budget[c] = share
                remaining -= share
        if buffers:
            for i in reversed(range(n)):  # children first: counters include the subtree
                for key in BLOCKS:
                    nodes[i][key] = draw(st.integers(0, 1000)) + sum(nodes[c][key] for c in kids[i])

    # assemble without recursion: children lists in order
    for i in range(n):
        if kids[i]:
            nodes[i]["Plans"] = [nodes[c] for c in kids[i]]
    statement: dict[str, Any] = {"Plan": nodes[0]}
    if analyze:
        statement["Planning Time"] = draw(st.floats(0, 100, allow_nan=False)).__round__(3)
        statement["Triggers"] = []
        if timing:
            statement["Execution Time"] = nodes[0].get("Actual Total Time", 0) + 0.5
    if draw(st.booleans()):
        statement["Query Identifier"] = draw(st.integers(min_value=-(2**63), max_value=2**63 - 1))
    if draw(st.booleans()):
        statement["Settings"] = {"work_mem": "64MB"}
    return GeneratedPlan(
        document=[statement],
        node_count=n,
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
