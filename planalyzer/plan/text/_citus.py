"""Citus's distributed-plan sections in text EXPLAIN -> the ``Distributed Query`` key JSON has.

Citus (multi_explain.c) prints, under its Custom Scan, ``->  Distributed Subplan <id>``
sections (their sizes, then the subplan's own plan behind an arrow), the job's ``Task Count``,
``Tuple data received from nodes`` and ``Tasks Shown`` properties, then ``->  Task`` entries
(``Query``, ``Tuple data received from node``, ``Node``, then the worker's EXPLAIN output behind
an arrow, its summary lines included) or, for a re-partition job, ``->  MapMergeJob`` entries.
The tree reader first takes those headings for nodes; this module folds them back into the
shape EXPLAIN (FORMAT JSON) gives::

    "Distributed Query": {
        "Subplans": [{"Intermediate Data Size": ..., "PlannedStmt": [{"Plan": ...}]}],
        "Job": {"Task Count": 4, "Tasks Shown": "One of 4",
                "Tasks": [{"Node": "host=...", "Remote Plan": [[{"Plan": ...}]]}]}
    }

For INSERT ... SELECT and MERGE through the coordinator, Citus prints the inner query's plan
behind an arrow after ``INSERT/SELECT method`` (``MERGE INTO <table> method``); JSON nests it
under ``Select Query`` (``Source Query``). Each nested plan becomes a statement of its own,
finished like a top-level one. The subplan's result id (``1_1``) is not in JSON, and is not
kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from planalyzer.plan.text._frame import Line
from planalyzer.plan.text._props import split_key

__all__ = ["JOB_KEYS", "fold_distributed_queries"]

JOB_KEYS = ("Task Count", "Tuple data received from nodes", "Tasks Shown")
"""The Custom Scan's own property lines that belong to the job (in the order Citus prints)."""

_SUBPLAN = "Distributed Subplan "
_UNRECOGNISED = "Unrecognised Lines"  # as _reader.UNRECOGNISED (which imports this module)
_COUNTS = frozenset({"Task Count", "Map Task Count", "Merge Task Count"})


class _TreeNode(Protocol):
    keys: dict[str, Any]
    line: int
    props: list[Line]
    children: list[Any]


Finish = Callable[[Any, list[Any], list[Line]], dict[str, Any]]
"""Finish a statement: (root node, its nodes in pre-order, summary lines) -> JSON statement."""


def _heading(node: _TreeNode) -> str | None:
    """The Citus heading a node line really was (None for a plan node)."""
    keys = node.keys
    if len(keys) != 2 or "Parent Relationship" not in keys:
        return None  # a heading has no figures, no target, no label
    name = keys.get("Node Type")
    if name in ("Task", "MapMergeJob") or (isinstance(name, str) and name.startswith(_SUBPLAN)):
        return str(name)
    return None


def fold_distributed_queries(nodes: list[Any], finish: Finish) -> list[Any]:
    """Fold every Custom Scan's Citus sections into ``Distributed Query``; the nodes left.

    ``nodes`` is the statement's nodes in pre-order; the returned list leaves out the headings
    and the nested plans, which now live in the key. Deepest scans first, so a nested plan is
    finished after its own sections were folded (no recursion).
    """
    folded = False
    for node in reversed(nodes):
        if node.keys.get("Node Type") != "Custom Scan":
            continue
        if _fold_coordinator_query(node, finish):
            folded = True
            continue
        headings = [child for child in node.children if _heading(child) is not None]
        own = [line for line in node.props if _job_line(line)]
        if not headings and not own:
            continue
        node.keys["Distributed Query"] = _distributed_query(node, headings, own, finish)
        node.props = [line for line in node.props if line not in own]
        node.children = [child for child in node.children if _heading(child) is None]
        folded = True
    return _preorder(nodes[0]) if folded else nodes


def _fold_coordinator_query(node: _TreeNode, finish: Finish) -> bool:
    """INSERT ... SELECT or MERGE through the coordinator: the inner plan, as JSON nests it.

    Citus prints ``INSERT/SELECT method: ...`` (or ``MERGE INTO <table> method: ...``) and then
    the inner query's plan behind an arrow; JSON has it under ``Select Query`` (``Source
    Query``) as a list of statements.
    """
    key = None
    for line in node.props:
        label = (split_key(line.text) or ("",))[0]
        if label == "INSERT/SELECT method":
            key = "Select Query"
        elif label.startswith("MERGE INTO ") and label.endswith(" method"):
            key = "Source Query"
    if key is None or not node.children:
        return False
    first = node.children[0].line
    summary = [line for line in node.props if line.number > first]
    node.props = [line for line in node.props if line.number < first]
    statements = []
    for index, root in enumerate(node.children):
        root.keys.pop("Parent Relationship", None)
        top = summary if index == len(node.children) - 1 else []
        statements.append(finish(root, _preorder(root), top))
    node.keys[key] = statements
    node.children = []
    return True


def _job_line(line: Line) -> bool:
    pair = split_key(line.text)
    return pair is not None and pair[0] in JOB_KEYS


def _distributed_query(
    node: _TreeNode, headings: list[Any], own: list[Line], finish: Finish
) -> dict[str, Any]:
    query: dict[str, Any] = {}
    subplans = [h for h in headings if str(h.keys["Node Type"]).startswith(_SUBPLAN)]
    if subplans:
        query["Subplans"] = [_section(h, finish, "PlannedStmt", nested=False) for h in subplans]
    job: dict[str, Any] = {}
    for line in own:
        _put(job, line)
    tasks = [h for h in headings if h.keys["Node Type"] == "Task"]
    jobs = [h for h in headings if h.keys["Node Type"] == "MapMergeJob"]
    if jobs:
        job["Dependent Jobs"] = [_map_merge_job(h) for h in jobs]
    elif tasks or job:
        job["Tasks"] = [_section(h, finish, "Remote Plan", nested=True) for h in tasks]
    if job:
        query["Job"] = job
    return query


def _section(heading: _TreeNode, finish: Finish, key: str, *, nested: bool) -> dict[str, Any]:
    """A Task or Distributed Subplan: its properties, then its plan under ``key``."""
    entry: dict[str, Any] = {}
    plans = [child for child in heading.children if _heading(child) is None]
    first = plans[0].line if plans else None
    summary: list[Line] = []
    for line in heading.props:
        if first is not None and line.number > first:
            summary.append(line)  # the nested plan's own summary lines (Planning Time ...)
        else:
            _put(entry, line)
    statements = []
    for index, root in enumerate(plans):
        root.keys.pop("Parent Relationship", None)
        top = summary if index == len(plans) - 1 else []
        statements.append(finish(root, _preorder(root), top))
    if statements:
        # a task's plan is the worker's EXPLAIN document (a list) inside Citus's list
        entry[key] = [statements] if nested else statements
    return entry


def _map_merge_job(heading: _TreeNode) -> dict[str, Any]:
    """A re-partition job and the jobs it depends on, without recursion."""
    top: dict[str, Any] = {}
    stack: list[tuple[_TreeNode, dict[str, Any]]] = [(heading, top)]
    while stack:
        node, entry = stack.pop()
        for line in node.props:
            _put(entry, line)
        nested = [child for child in node.children if _heading(child) == "MapMergeJob"]
        if nested:
            entry["Dependent Jobs"] = [{} for _ in nested]
            stack.extend(zip(nested, entry["Dependent Jobs"], strict=True))
    return top


def _put(out: dict[str, Any], line: Line) -> None:
    pair = split_key(line.text)
    if pair is None:
        out.setdefault(_UNRECOGNISED, []).append(line.text)
        return
    key, value = pair
    if key in out:
        out.setdefault(_UNRECOGNISED, []).append(line.text)
    elif key in _COUNTS and value.isdigit():
        out[key] = int(value)
    elif key == "Subplan Duration" and value.endswith(" ms"):
        try:
            out[key] = float(value[:-3])
        except ValueError:
            out[key] = value
    else:
        out[key] = value  # Citus prints the rest as text ("18 bytes", "host=... port=...")


def _preorder(root: Any) -> list[Any]:
    out: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out
