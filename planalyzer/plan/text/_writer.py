"""A plan back to PostgreSQL's text format, as explain.c's ExplainNode would have printed it.

The node line, the compact lines text format writes by hand (``Buffers:``, ``Sort Method:``,
``Buckets:`` ...), zero counters left out as PostgreSQL leaves them out, per-worker blocks,
labels for InitPlans, SubPlans and CTEs, and the statement's summary lines. A key PostgreSQL
would not print in text (one this library does not know) is written as ``Key: value``, with
lists and objects as compact JSON, so that reading the text back loses nothing. No recursion:
one explicit stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from planalyzer.plan.model import Plan, PlanNode
from planalyzer.plan.serialize import node_keys
from planalyzer.plan.text._header import SCAN_OBJECT_KEYS, ident
from planalyzer.plan.text._props import LIST_KEYS, TEXT_KEYS
from planalyzer.plan.text._reader import UNRECOGNISED

__all__ = ["plan_to_text"]

_AGGREGATES = {"Plain": "Aggregate", "Sorted": "GroupAggregate", "Hashed": "HashAggregate"}
_AGGREGATES["Mixed"] = "MixedAggregate"
_HEADER_KEYS = frozenset(
    {
        "Node Type",
        "Strategy",
        "Partial Mode",
        "Join Type",
        "Operation",
        "Command",
        "Custom Plan Provider",
        "Parallel Aware",
        "Async Capable",
        "Scan Direction",
        "Index Name",
        "Parent Relationship",
        "Subplan Name",
        "Startup Cost",
        "Total Cost",
        "Plan Rows",
        "Plan Width",
        "Actual Startup Time",
        "Actual Total Time",
        "Actual Rows",
        "Actual Loops",
        "Plans",
    }
)
# Properties in the order ExplainNode prints them (the compact groups stand for their keys).
_ORDER = (
    "Disabled",
    "Output",
    "Inner Unique",
    "Window",  # PostgreSQL 18 prints a WindowAgg's definition before its Run Condition
    "Merge Cond",
    "Hash Cond",
    "Index Cond",
    "Rows Removed by Index Recheck",
    "Order By",
    "Recheck Cond",
    "TID Cond",
    "Join Filter",
    "Rows Removed by Join Filter",
    "Filter",
    "Rows Removed by Filter",
    "One-Time Filter",
    "Run Condition",
    "Heap Fetches",
    "Index Searches",
    "@heap",
    "@sampling",
    "Function Call",
    "Table Function Call",
    "Workers Planned",
    "Workers Launched",
    "Single Copy",
    "Params Evaluated",
    "Sort Key",
    "Presorted Key",
    "Group Key",
    "@grouping",
    "@sort",
    "@incremental",
    "@hash",
    "@hashagg",
    "Cache Key",
    "Cache Mode",
    "@memoize",
    "@storage",
    "@targets",
    "Conflict Resolution",
    "Conflict Arbiter Indexes",
    "Conflict Filter",
    "Rows Removed by Conflict Filter",
    "Tuples Inserted",
    "Conflicting Tuples",
    "@merge",
    "Subplans Removed",
)
# An Agg or Group node prints its keys before its Filter (HAVING): show_agg_keys comes first.
_GROUPING_ORDER = tuple(
    item
    for name in _ORDER
    for item in ((("Group Key", "@grouping", name)) if name == "Filter" else (name,))
    if item not in ("Group Key", "@grouping") or name == "Filter"
)
_ZERO_SUPPRESSED = frozenset(
    {
        "Rows Removed by Index Recheck",
        "Rows Removed by Join Filter",
        "Rows Removed by Filter",
        "Rows Removed by Conflict Filter",
    }
)
_GROUP_KEYS: dict[str, tuple[str, ...]] = {
    "@heap": ("Exact Heap Blocks", "Lossy Heap Blocks"),
    "@sampling": ("Sampling Method", "Sampling Parameters", "Repeatable Seed"),
    "@grouping": ("Grouping Sets",),
    "@sort": ("Sort Method", "Sort Space Used", "Sort Space Type"),
    "@incremental": ("Full-sort Groups", "Pre-sorted Groups"),
    "@hash": (
        "Hash Buckets",
        "Original Hash Buckets",
        "Hash Batches",
        "Original Hash Batches",
    ),
    "@hashagg": ("Planned Partitions", "HashAgg Batches", "Disk Usage"),
    "@memoize": ("Cache Hits", "Cache Misses", "Cache Evictions", "Cache Overflows"),
    "@storage": ("Storage", "Maximum Storage"),
    "@targets": ("Target Tables",),
    "@merge": ("Tuples Inserted", "Tuples Updated", "Tuples Deleted", "Tuples Skipped"),
}
_BLOCKS = (
    ("shared", "Shared", ("Hit", "Read", "Dirtied", "Written")),
    ("local", "Local", ("Hit", "Read", "Dirtied", "Written")),
    ("temp", "Temp", ("Read", "Written")),
)
_BUFFER_KEYS = frozenset(f"{fam} {op} Blocks" for _, fam, ops in _BLOCKS for op in ops)
_IO_KEYS = frozenset(
    f"{prefix}I/O {op} Time"
    for prefix in ("", "Shared ", "Local ", "Temp ")
    for op in ("Read", "Write")
)
_WAL_KEYS = ("WAL Records", "WAL FPI", "WAL Bytes", "WAL Buffers Full")


def plan_to_text(plan: Plan) -> str:
    """The plan as ``EXPLAIN`` (text format) prints it, one line per row, ending in a newline."""
    lines: list[str] = []
    top = plan.model_dump(by_alias=True, exclude_unset=True, exclude={"root"})
    if "Query Text" in top:  # auto_explain puts the statement above the plan
        lines.append(f"Query Text: {top['Query Text']}")
    if "Query Parameters" in top:
        lines.append(f"Query Parameters: {top['Query Parameters']}")
    _write_tree(plan.root, lines)
    _write_summary(top, lines)
    return "\n".join(lines) + "\n"


def _write_tree(root: PlanNode, lines: list[str]) -> None:
    # (node, property indent level, is the root); children pushed in reverse for pre-order
    stack: list[tuple[PlanNode, int, bool]] = [(root, 1, True)]
    while stack:
        node, level, is_root = stack.pop()
        keys = node_keys(node)  # the keys as read, unknown ones included
        keys.pop("Plans", None)
        if is_root:
            lines.append(_node_line(keys))
            props_level = 1
        else:
            arrow_level = level
            if keys.get("Subplan Name"):
                lines.append("  " * level + str(keys["Subplan Name"]))
                arrow_level += 1
            lines.append("  " * arrow_level + "->  " + _node_line(keys))
            props_level = arrow_level + 3
        lines.extend("  " * props_level + line for line in _node_props(keys))
        local = [c for c in node.children if not c.remote]
        stack.extend((child, props_level, False) for child in reversed(local))


# --- the node line --------------------------------------------------------------------------


def _node_line(keys: dict[str, Any]) -> str:
    name = _name(keys)
    if keys.get("Parallel Aware"):
        name = "Parallel " + name
    if keys.get("Async Capable"):
        name = (
            name.replace("Parallel ", "Parallel Async ", 1)
            if keys.get("Parallel Aware")
            else "Async " + name
        )
    if "Total Cost" in keys and "Plan Rows" in keys:
        name += "  (cost={:.2f}..{:.2f} rows={:.0f} width={})".format(
            keys.get("Startup Cost") or 0.0,
            keys["Total Cost"],
            keys["Plan Rows"],
            keys.get("Plan Width", 0),
        )
    loops = keys.get("Actual Loops")
    if loops is not None:
        if loops == 0:
            name += " (never executed)"
        else:
            timing = ""
            if "Actual Total Time" in keys:
                timing = "time={:.3f}..{:.3f} ".format(
                    keys.get("Actual Startup Time") or 0.0, keys["Actual Total Time"]
                )
            name += f" (actual {timing}rows={_rows(keys.get('Actual Rows', 0))} loops={loops:.0f})"
    return name


def _rows(value: Any) -> str:
    """Rows as printed: an integer up to PostgreSQL 17, two decimals from 18."""
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _name(keys: dict[str, Any]) -> str:
    node_type = str(keys.get("Node Type", "???"))
    join = keys.get("Join Type")
    if node_type == "Aggregate":
        name = _AGGREGATES.get(keys.get("Strategy") or "Plain", "Aggregate")
        if keys.get("Partial Mode") in ("Partial", "Finalize"):
            name = f"{keys['Partial Mode']} {name}"
        return name
    if node_type == "SetOp":
        name = "HashSetOp" if keys.get("Strategy") == "Hashed" else "SetOp"
        return f"{name} {keys['Command']}" if keys.get("Command") else name
    if node_type in ("Hash Join", "Merge Join"):
        base = node_type[: -len(" Join")]
        return f"{base} {join} Join" if join and join != "Inner" else node_type
    if node_type == "Nested Loop":
        return f"Nested Loop {join} Join" if join and join != "Inner" else node_type
    if node_type == "ModifyTable" and keys.get("Operation"):
        return str(keys["Operation"]) + _target(keys, "Relation Name")
    if node_type == "Foreign Scan" and keys.get("Operation") not in (None, "Select"):
        return f"Foreign {keys['Operation']}" + _target(keys, "Relation Name")
    if node_type == "Custom Scan" and keys.get("Custom Plan Provider"):
        return f"Custom Scan ({keys['Custom Plan Provider']})" + _target(keys, "Relation Name")
    if node_type in ("Index Scan", "Index Only Scan"):
        if "Index Name" not in keys:
            return node_type
        backward = " Backward" if keys.get("Scan Direction") == "Backward" else ""
        index = ident(str(keys["Index Name"]))
        return f"{node_type}{backward} using {index}" + _target(keys, "Relation Name")
    if node_type == "Bitmap Index Scan" and "Index Name" in keys:
        return f"{node_type} on {ident(str(keys['Index Name']))}"
    if node_type in SCAN_OBJECT_KEYS:
        return node_type + _target(keys, SCAN_OBJECT_KEYS[node_type])
    return node_type


def _target(keys: dict[str, Any], object_key: str | None) -> str:
    """`` on schema.object alias`` as ExplainTargetRel prints it ('' when nothing is named)."""
    obj = keys.get(object_key) if object_key else None
    alias = keys.get("Alias")
    if obj is None and alias is None:
        return ""
    out = " on"
    if obj is not None:
        schema = keys.get("Schema")
        out += f" {ident(schema)}.{ident(obj)}" if schema else f" {ident(obj)}"
    if obj is None or (alias is not None and alias != obj):
        out += f" {ident(str(alias))}"
    return out


def _target_keys(keys: dict[str, Any], node_type: str) -> tuple[str, ...]:
    """The keys the node line's `` on ...`` carries (the rest are written as properties)."""
    if node_type == "ModifyTable" and not keys.get("Operation"):
        return ()
    if node_type in ("Index Scan", "Index Only Scan") and "Index Name" not in keys:
        return ()
    if node_type in ("Index Scan", "Index Only Scan", "ModifyTable", "Foreign Scan"):
        return ("Relation Name", "Schema", "Alias")
    if node_type == "Custom Scan":
        return ("Relation Name", "Schema", "Alias")
    key = SCAN_OBJECT_KEYS.get(node_type, "")
    if key is None:
        return ("Alias",)
    if key:
        return (key, "Schema", "Alias")
    return ()


# --- properties -----------------------------------------------------------------------------


def _node_props(keys: dict[str, Any]) -> Iterator[str]:
    node_type = str(keys.get("Node Type"))
    done = set(_HEADER_KEYS) | set(_target_keys(keys, node_type))
    if node_type == "Bitmap Index Scan":
        done.add("Index Name")
    if node_type in ("Index Scan", "Index Only Scan") and "Index Name" not in keys:
        done.discard("Scan Direction")
    if node_type == "Custom Scan" and not keys.get("Custom Plan Provider"):
        done.discard("Custom Plan Provider")
    for item in _GROUPING_ORDER if node_type in ("Aggregate", "Group") else _ORDER:
        if item.startswith("@"):
            group = _GROUP_KEYS[item]
            if item == "@merge" and keys.get("Operation") != "Merge":
                continue
            if any(k in keys for k in group):
                yield from _group(item, keys, node_type)
                done.update(group)
                if item in ("@hash", "@hashagg", "@memoize") and node_type in (
                    "Hash",
                    "Aggregate",
                    "Memoize",
                ):
                    done.add("Peak Memory Usage")
            continue
        if item == "Tuples Inserted" and keys.get("Operation") == "Merge":
            continue  # MERGE prints its counts on one "Tuples:" line
        if item in keys:
            done.add(item)
            value = keys[item]
            if item in _ZERO_SUPPRESSED and not value:
                continue
            if item in ("Disabled", "Inner Unique", "Single Copy") and not value:
                continue
            yield _prop(item, value)
    citus = _distributed_query(keys.get("Distributed Query"))
    if citus is not None:  # Citus prints its sections where ExplainCustomScan runs
        yield from citus
        done.add("Distributed Query")
    for citus_key in ("Select Query", "Source Query"):
        inner = _coordinator_query(keys, citus_key)
        if inner is not None:
            yield from inner
            done.add(citus_key)
            done.update(k for k in keys if _is_citus_method(k))
    yield from _usage(keys)
    done |= _BUFFER_KEYS | _IO_KEYS | set(_WAL_KEYS)
    workers = keys.get("Workers")
    done.add("Workers")
    unrecognised = keys.get(UNRECOGNISED)
    done.add(UNRECOGNISED)
    for key, value in keys.items():
        if key not in done:
            yield _prop(key, value)
    if isinstance(workers, list):
        for worker in workers:
            if isinstance(worker, dict):
                yield from _worker(worker, node_type)
    if isinstance(unrecognised, list):
        yield from (str(line) for line in unrecognised)


def _prop(key: str, value: Any) -> str:
    if key in LIST_KEYS and isinstance(value, list):
        return f"{key}: {', '.join(str(v) for v in value)}"
    if isinstance(value, bool):
        return f"{key}: {'true' if value else 'false'}"
    if isinstance(value, int | float) or (isinstance(value, str) and key in TEXT_KEYS):
        return f"{key}: {value}"
    if isinstance(value, str) and "\n" not in value and "\r" not in value:
        return f"{key}: {value}"
    return f"{key}: {json.dumps(value, separators=(', ', ': '))}"


def _kb(value: Any) -> str:
    return f"{value}kB"


def _group(item: str, keys: dict[str, Any], node_type: str) -> Iterator[str]:
    if item == "@heap":
        parts = [
            f"{label}={keys[k]}"
            for label, k in (("exact", "Exact Heap Blocks"), ("lossy", "Lossy Heap Blocks"))
            if keys.get(k)
        ]
        if parts:
            yield "Heap Blocks: " + " ".join(parts)
    elif item == "@sampling":
        params = ", ".join(str(p) for p in keys.get("Sampling Parameters") or [])
        line = f"Sampling: {keys.get('Sampling Method', '')} ({params})"
        if "Repeatable Seed" in keys:
            line += f" REPEATABLE ({keys['Repeatable Seed']})"
        yield line
    elif item == "@grouping":
        yield from _grouping_sets(keys.get("Grouping Sets") or [])
    elif item == "@sort":
        line = f"Sort Method: {keys.get('Sort Method', 'still in progress')}"
        if "Sort Space Used" in keys:
            line += f"  {keys.get('Sort Space Type', 'Memory')}: {_kb(keys['Sort Space Used'])}"
        yield line
    elif item == "@incremental":
        for label in ("Full-sort Groups", "Pre-sorted Groups"):
            group = keys.get(label)
            if isinstance(group, dict):
                yield _sort_groups(label, group)
    elif item == "@hash":
        buckets, batches = keys.get("Hash Buckets"), keys.get("Hash Batches")
        obuckets = keys.get("Original Hash Buckets", buckets)
        obatches = keys.get("Original Hash Batches", batches)
        memory = _kb(keys.get("Peak Memory Usage", 0))
        if obuckets != buckets or obatches != batches:
            yield (
                f"Buckets: {buckets} (originally {obuckets})  "
                f"Batches: {batches} (originally {obatches})  Memory Usage: {memory}"
            )
        else:
            yield f"Buckets: {buckets}  Batches: {batches}  Memory Usage: {memory}"
    elif item == "@hashagg":
        parts = []
        if keys.get("Planned Partitions"):
            parts.append(f"Planned Partitions: {keys['Planned Partitions']}")
        if "HashAgg Batches" in keys:
            parts.append(f"Batches: {keys['HashAgg Batches']}")
            parts.append(f"Memory Usage: {_kb(keys.get('Peak Memory Usage', 0))}")
            if keys.get("Disk Usage"):
                parts.append(f"Disk Usage: {_kb(keys['Disk Usage'])}")
        if parts:
            yield "  ".join(parts)
    elif item == "@memoize":
        yield (
            f"Hits: {keys.get('Cache Hits', 0)}  Misses: {keys.get('Cache Misses', 0)}  "
            f"Evictions: {keys.get('Cache Evictions', 0)}  "
            f"Overflows: {keys.get('Cache Overflows', 0)}  "
            f"Memory Usage: {_kb(keys.get('Peak Memory Usage', 0))}"
        )
    elif item == "@storage":
        yield f"Storage: {keys.get('Storage')}  Maximum Storage: {_kb(keys.get('Maximum Storage'))}"
    elif item == "@targets":
        for table in keys.get("Target Tables") or []:
            yield from _target_table(keys, table)
    elif item == "@merge":
        parts = [
            f"{kind.lower()}={keys[f'Tuples {kind}']}"
            for kind in ("Inserted", "Updated", "Deleted", "Skipped")
            if keys.get(f"Tuples {kind}")
        ]
        if parts:
            yield "Tuples: " + " ".join(parts)


def _grouping_sets(sets: list[Any]) -> Iterator[str]:
    for entry in sets:
        if not isinstance(entry, dict):
            continue
        for hash_keys in entry.get("Hash Keys") or []:
            yield f"Hash Key: {', '.join(hash_keys) or '()'}"
        if "Sort Key" in entry:
            yield f"Sort Key: {', '.join(entry['Sort Key'])}"
            for group_keys in entry.get("Group Keys") or []:
                yield f"  Group Key: {', '.join(group_keys) or '()'}"
        else:
            for group_keys in entry.get("Group Keys") or []:
                yield f"Group Key: {', '.join(group_keys) or '()'}"


def _sort_groups(label: str, group: dict[str, Any]) -> str:
    methods = group.get("Sort Methods Used") or []
    plural = "s" if len(methods) > 1 else ""
    line = f"{label}: {group.get('Group Count', 0)}  Sort Method{plural}: {', '.join(methods)}"
    for kind in ("Memory", "Disk"):
        space = group.get(f"Sort Space {kind}")
        if isinstance(space, dict):
            line += (
                f"  Average {kind}: {_kb(space.get('Average Sort Space Used'))}"
                f"  Peak {kind}: {_kb(space.get('Peak Sort Space Used'))}"
            )
    return line


def _target_table(keys: dict[str, Any], table: Any) -> Iterator[str]:
    if not isinstance(table, dict):
        return
    operation = keys.get("Operation") or "Update"
    yield f"{operation}{_target(table, 'Relation Name')}"
    for key, value in table.items():
        if key not in ("Relation Name", "Schema", "Alias"):
            yield "  " + _prop(key, value)


def _usage(keys: dict[str, Any]) -> Iterator[str]:
    """``Buffers:``, ``I/O Timings:`` and ``WAL:`` lines, zero parts left out as in explain.c."""
    parts = []
    for label, family, ops in _BLOCKS:
        counts = [
            f"{op.lower()}={keys[f'{family} {op} Blocks']}"
            for op in ops
            if keys.get(f"{family} {op} Blocks")
        ]
        if counts:
            parts.append(f"{label} " + " ".join(counts))
    if parts:
        yield "Buffers: " + ", ".join(parts)
    timings = []
    has_temp = any(k.startswith("Temp I/O") for k in keys)
    for prefix, label in (
        ("", "shared/local" if has_temp else ""),
        ("Shared ", "shared"),
        ("Local ", "local"),
        ("Temp ", "temp"),
    ):
        found = [
            f"{op.lower()}={keys[f'{prefix}I/O {op} Time']:.3f}"
            for op in ("Read", "Write")
            if keys.get(f"{prefix}I/O {op} Time")
        ]
        if found:
            timings.append((f"{label} " if label else "") + " ".join(found))
    if timings:
        yield "I/O Timings: " + ", ".join(timings)
    wal = [
        f"{label}={keys[key]}"
        for label, key in zip(("records", "fpi", "bytes", "buffers full"), _WAL_KEYS, strict=True)
        if keys.get(key)
    ]
    if wal:
        yield "WAL: " + " ".join(wal)


def _worker(worker: dict[str, Any], node_type: str) -> Iterator[str]:
    lines: list[str] = []
    if "Actual Loops" in worker:
        timing = ""
        if "Actual Total Time" in worker:
            timing = "time={:.3f}..{:.3f} ".format(
                worker.get("Actual Startup Time") or 0.0, worker["Actual Total Time"]
            )
        rows = _rows(worker.get("Actual Rows", 0))
        lines.append(f"actual {timing}rows={rows} loops={worker['Actual Loops']:.0f}")
    rest = {k: v for k, v in worker.items() if k != "Worker Number" and not k.startswith("Actual")}
    rest["Node Type"] = node_type  # the worker's figures read like its node's
    jit = rest.pop("JIT", None)
    usage = {k: rest.pop(k) for k in list(rest) if k in _BUFFER_KEYS | _IO_KEYS | set(_WAL_KEYS)}
    lines.extend(_node_props(rest))
    if isinstance(jit, dict):  # explain.c prints a worker's JIT between its details and usage
        lines.append("JIT:")
        lines.extend("  " + line for line in _jit(jit))
    lines.extend(_usage(usage))
    if not lines:
        return
    number = worker.get("Worker Number", 0)
    yield f"Worker {number}:  {lines[0]}"
    yield from ("  " + line for line in lines[1:])


# --- statement summary ----------------------------------------------------------------------


def _write_summary(top: dict[str, Any], lines: list[str]) -> None:
    settings = top.get("Settings")
    if isinstance(settings, dict) and settings:
        pairs = ", ".join(
            f"{k} = NULL" if v is None else f"{k} = '{v}'" for k, v in settings.items()
        )
        lines.append(f"Settings: {pairs}")
    if "Query Identifier" in top:
        lines.append(f"Query Identifier: {top['Query Identifier']}")
    planning = top.get("Planning")
    if isinstance(planning, dict):
        inner = list(_usage(planning))
        if planning.get("Memory Used") is not None:
            inner.append(
                f"Memory: used={_kb(planning['Memory Used'])}  "
                f"allocated={_kb(planning.get('Memory Allocated', 0))}"
            )
        known = _BUFFER_KEYS | _IO_KEYS | {"Memory Used", "Memory Allocated"}
        inner += [_prop(k, v) for k, v in planning.items() if k not in known]
        if inner:
            lines.append("Planning:")
            lines.extend("  " + line for line in inner)
    if "Planning Time" in top:
        lines.append(f"Planning Time: {top['Planning Time']:.3f} ms")
    for trigger in top.get("Triggers") or []:
        if isinstance(trigger, dict):
            lines.append(_trigger(trigger))
    jit = top.get("JIT")
    if isinstance(jit, dict):
        lines.append("JIT:")
        lines.extend("  " + line for line in _jit(jit))
    serialization = top.get("Serialization")
    if isinstance(serialization, dict):
        line = "Serialization: "
        if "Time" in serialization:
            line += f"time={serialization['Time']:.3f} ms  "
        line += (
            f"output={_kb(serialization.get('Output Volume', 0))}  "
            f"format={serialization.get('Format', 'text')}"
        )
        lines.append(line)
        lines.extend("  " + usage for usage in _usage(serialization))
    if "Execution Time" in top:
        lines.append(f"Execution Time: {top['Execution Time']:.3f} ms")
    if "Total Runtime" in top:
        lines.append(f"Total runtime: {top['Total Runtime']:.3f} ms")
    summary_keys = {
        "Settings",
        "Query Identifier",
        "Planning",
        "Planning Time",
        "Triggers",
        "JIT",
        "Serialization",
        "Execution Time",
        "Total Runtime",
        "Query Text",
        "Query Parameters",
        UNRECOGNISED,
    }
    lines.extend(_prop(k, v) for k, v in top.items() if k not in summary_keys)
    lines.extend(str(line) for line in top.get(UNRECOGNISED) or [])


def _trigger(trigger: dict[str, Any]) -> str:
    line = "Trigger"
    if trigger.get("Trigger Name"):
        line += f" {trigger['Trigger Name']}"
    if trigger.get("Constraint Name"):
        line += f" for constraint {trigger['Constraint Name']}"
    if trigger.get("Relation"):
        line += f" on {trigger['Relation']}"
    if trigger.get("Time") is not None:
        return line + f": time={trigger['Time']:.3f} calls={trigger.get('Calls', 0)}"
    return line + f": calls={trigger.get('Calls', 0)}"


def _jit(jit: dict[str, Any]) -> Iterator[str]:
    if "Functions" in jit:
        yield f"Functions: {jit['Functions']}"
    options = jit.get("Options")
    if isinstance(options, dict):
        yield "Options: " + ", ".join(f"{k} {'true' if v else 'false'}" for k, v in options.items())
    timing = jit.get("Timing")
    if isinstance(timing, dict):
        parts = []
        for phase, value in timing.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k} {v:.3f} ms" for k, v in value.items() if k != "Total")
                parts.append(f"{phase} {value.get('Total', 0.0):.3f} ms ({inner})")
            else:
                parts.append(f"{phase} {value:.3f} ms")
        yield "Timing: " + ", ".join(parts)


# --- Citus's distributed-plan sections (multi_explain.c) -------------------------------------

_HEADING_PROPS = "      "  # a "->  Task" heading's properties: 6 columns right of its arrow
_NESTED = _HEADING_PROPS + "    "  # a nested plan's lines after its arrowed first line


def _distributed_query(query: Any) -> list[str] | None:
    """Citus's ``Distributed Query`` as it prints it, or None when it is not that shape.

    The subplans' result ids are not in JSON: they are written as ``1_1``, ``1_2``...
    """
    if not isinstance(query, dict) or not set(query) <= {"Subplans", "Job"}:
        return None
    subplans, job = query.get("Subplans", []), query.get("Job", {})
    if not isinstance(subplans, list) or not isinstance(job, dict):
        return None
    lines: list[str] = []
    for number, subplan in enumerate(subplans, 1):
        if not isinstance(subplan, dict):
            return None
        lines.append(f"->  Distributed Subplan 1_{number}")
        lines.extend(
            _HEADING_PROPS + _citus_prop(k, v) for k, v in subplan.items() if k != "PlannedStmt"
        )
        for statement in subplan.get("PlannedStmt") or []:
            tree, summary = _nested_plan(statement)
            if tree is None:
                return None
            lines.append(_HEADING_PROPS + "->  " + tree[0])
            lines.extend(_NESTED + line for line in tree[1:])
            lines.extend(_HEADING_PROPS + line for line in summary)
    tasks, dependent = job.get("Tasks", []), job.get("Dependent Jobs", [])
    lines.extend(_citus_prop(k, v) for k, v in job.items() if k not in ("Tasks", "Dependent Jobs"))
    if not isinstance(tasks, list) or not isinstance(dependent, list):
        return None
    for task in tasks:
        if not isinstance(task, dict):
            return None
        lines.append("->  Task")
        lines.extend(
            _HEADING_PROPS + _citus_prop(k, v) for k, v in task.items() if k != "Remote Plan"
        )
        for document in task.get("Remote Plan") or []:
            for statement in document if isinstance(document, list) else [document]:
                tree, summary = _nested_plan(statement)
                if tree is None:
                    return None
                printed = tree + summary  # the worker's own EXPLAIN, shifted as a whole
                lines.append(_HEADING_PROPS + "->  " + printed[0])
                lines.extend(_NESTED + line for line in printed[1:])
    lines.extend(_map_merge_jobs(dependent))
    return lines


def _is_citus_method(key: str) -> bool:
    return key == "INSERT/SELECT method" or (
        key.startswith("MERGE INTO ") and key.endswith(" method")
    )


def _coordinator_query(keys: dict[str, Any], key: str) -> list[str] | None:
    """INSERT ... SELECT or MERGE through the coordinator: the method, then the inner plan."""
    statements = keys.get(key)
    if not isinstance(statements, list):
        return None
    lines = [_prop(k, v) for k, v in keys.items() if _is_citus_method(k)]
    for statement in statements:
        tree, summary = _nested_plan(statement)
        if tree is None:
            return None
        lines.append("->  " + tree[0])
        lines.extend("    " + line for line in tree[1:])
        lines.extend(summary)
    return lines


def _map_merge_jobs(jobs: list[Any]) -> Iterator[str]:
    stack: list[tuple[Any, str]] = [(job, "") for job in reversed(jobs)]
    while stack:
        job, indent = stack.pop()
        if not isinstance(job, dict):
            continue
        yield indent + "->  MapMergeJob"
        inner = indent + _HEADING_PROPS
        yield from (inner + _citus_prop(k, v) for k, v in job.items() if k != "Dependent Jobs")
        nested = job.get("Dependent Jobs")
        if isinstance(nested, list):
            stack.extend((sub, inner) for sub in reversed(nested))


def _citus_prop(key: str, value: Any) -> str:
    if key == "Subplan Duration" and isinstance(value, int | float):
        return f"{key}: {value:.2f} ms"
    return _prop(key, value)


def _nested_plan(statement: Any) -> tuple[list[str] | None, list[str]]:
    """A nested statement's tree lines and summary lines, as if printed at the top."""
    if not isinstance(statement, dict) or not isinstance(statement.get("Plan"), dict):
        return None, []
    from planalyzer.errors import PlanParseError
    from planalyzer.plan.parse import parse

    try:
        plan = parse(statement)
    except PlanParseError:
        return None, []
    tree: list[str] = []
    _write_tree(plan.root, tree)
    summary: list[str] = []
    _write_summary(plan.model_dump(by_alias=True, exclude_unset=True, exclude={"root"}), summary)
    return tree, summary
