"""What text-format EXPLAIN carries of a plan, so a text parse and a JSON parse can be compared.

"Equal" for two parses of the same plan means equal here: every key of every node and of the
statement, except what PostgreSQL's text format does not print at all, namely
- counters that are zero (text suppresses them; ``Rows Removed by Filter: 0``, zero buffers, ...),
- empty sections (``"Triggers": []``, a ``"Planning"`` object of zeros),
- booleans that are false (``Parallel Aware``, ``Async Capable``, ``Single Copy``, ``Disabled``),
- ``Inner Unique`` (text prints it only with VERBOSE, and only when true),
- a trigger's ``Relation`` and, for a constraint trigger, its ``Trigger Name`` (printed only in
  some cases),
- ``Partial Mode: Simple`` (an aggregate without ``Partial``/``Finalize``, absent before 9.6),
- ``Original Hash Buckets``/``Batches`` equal to the final ones (printed only when they differ),
- ``Scan Direction: NoMovement`` (printed as nothing, read back as Forward),
- ``Parent Relationship`` when the JSON producer left it out (the text reader infers it),
- the ``Parent Relationship`` of a ModifyTable's children on PostgreSQL 13 and older ("Member",
  read back as "Outer"),
- a Function Scan printed by its alias alone without VERBOSE (``ROWS FROM (f(), g()) r``, an
  expression): ``Function Scan on r`` is also what a function ``r`` without alias prints, and
  it is read that way (``Function Name`` = ``Alias``).
"""

from __future__ import annotations

from typing import Any

import planalyzer as pa
from planalyzer.plan.serialize import node_keys

_NOT_PRINTED = frozenset({"Inner Unique"})


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _NOT_PRINTED or key == "Plans":
                continue
            if item is False or (
                isinstance(item, int | float)
                and not isinstance(item, bool)
                and item == 0
                and key not in _KEEP_ZERO
            ):
                continue
            item = _clean(item)
            if item == {} or item == []:
                continue  # an empty section ("Triggers": [], zero "Planning" buffers)
            out[key] = item
        return out
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


# Figures that are printed even when zero (they are part of the node line or always printed).
_KEEP_ZERO = frozenset(
    {
        "Startup Cost",
        "Total Cost",
        "Plan Rows",
        "Plan Width",
        "Actual Startup Time",
        "Actual Total Time",
        "Actual Rows",
        "Actual Loops",
        "Worker Number",
        "Heap Fetches",
        "Workers Launched",
        "Workers Planned",
        "Group Count",
        "Functions",
    }
)


def node_fields(node: pa.PlanNode, *, relationships: bool = True) -> dict[str, Any]:
    """One node's keys as the text format carries them."""
    raw = node_keys(node)  # the keys as read (a parsed node's model_dump() shows none)
    raw.pop("Plans", None)
    if not relationships:
        raw.pop("Parent Relationship", None)
    if raw.get("Scan Direction") == "NoMovement":
        raw["Scan Direction"] = "Forward"
    if raw.get("Partial Mode") == "Simple":
        del raw["Partial Mode"]  # "HashAggregate" reads the same with or without it
    for current, original in (
        ("Hash Buckets", "Original Hash Buckets"),
        ("Hash Batches", "Original Hash Batches"),
    ):
        if raw.get(original) == raw.get(current):
            raw.pop(original, None)  # "(originally N)" is printed only when they differ
    if raw.get("Node Type") == "Function Scan" and "Function Call" not in raw:
        raw.setdefault("Function Name", raw.get("Alias"))  # alias only: see the module's list
    parent = node.parent
    if raw.get("Parent Relationship") == "Member" and parent and parent.node_type == "ModifyTable":
        raw["Parent Relationship"] = "Outer"
    return _clean(raw)  # type: ignore[no-any-return]


def statement_fields(plan: pa.Plan) -> dict[str, Any]:
    """The statement-level keys as the text format carries them."""
    raw = plan.model_dump(by_alias=True, exclude_unset=True, exclude={"root"})
    for trigger in raw.get("Triggers") or ():
        trigger.pop("Relation", None)
        if "Constraint Name" in trigger:
            trigger.pop("Trigger Name", None)
    return _clean(raw)  # type: ignore[no-any-return]


Carried = tuple[dict[str, Any], list[dict[str, Any]]]


def _has_relationships(plan: pa.Plan) -> bool:
    return all(n.parent_relationship for n in plan.nodes()[1:] if not n.remote)


def carried_pair(first: pa.Plan, second: pa.Plan) -> tuple[Carried, Carried]:
    """`carried` of two parses of one plan, to compare with ``==``.

    A plan whose producer left ``Parent Relationship`` out (some tools strip it) is compared
    without it: the text reader always infers it from the tree.
    """
    relationships = _has_relationships(first) and _has_relationships(second)
    return carried(first, relationships=relationships), carried(second, relationships=relationships)


def carried(plan: pa.Plan, *, relationships: bool = True) -> Carried:
    """(statement keys, [node keys in pre-order]) as the text format carries them."""
    return statement_fields(plan), [
        node_fields(n, relationships=relationships) for n in plan.nodes()
    ]


def shape(plan: pa.Plan) -> list[tuple[Any, ...]]:
    """Structure, rows and loops: what two ANALYZE runs of one statement share."""
    return [
        (
            n.depth,
            n.node_type,
            n.parent_relationship,
            n.relation_name,
            n.index_name,
            n.actual_rows,
            n.actual_loops,
        )
        for n in plan.nodes()
    ]
