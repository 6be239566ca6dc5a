"""Text-format EXPLAIN lines -> statement objects shaped like one element of EXPLAIN (FORMAT JSON).

The tree is rebuilt from indentation alone, with one explicit stack (no recursion): a node line's
``->`` column must lie right of its parent's text, and a property belongs to the nearest node
whose text starts left of it. Labels (``InitPlan 1 (returns $0)``, ``SubPlan 2``, ``CTE x``) name
the node below them. What the text format leaves out is restored where PostgreSQL's rules make it
certain (``Parent Relationship``, ``Scan Direction``, zero counters it suppresses); what cannot be
known stays absent.
"""

from __future__ import annotations

import re
from typing import Any

from planalyzer.errors import PlanParseError
from planalyzer.plan.text._citus import fold_distributed_queries
from planalyzer.plan.text._forms import bare_root, settle_function_names
from planalyzer.plan.text._frame import BREAK, Line, frame_lines, rejoin_broken_lines
from planalyzer.plan.text._header import looks_like_node_name, parse_node_line, split_figures
from planalyzer.plan.text._props import (
    parse_property,
    read_property_line,
    scalar,
    split_key,
    split_list,
)

__all__ = ["UNRECOGNISED", "read_text"]

UNRECOGNISED = "Unrecognised Lines"
"""Extra key holding, verbatim, lines this version could not read (on a node or the statement)."""

# "InitPlan 1 (returns $0)", "SubPlan 2", "CTE x"; before PostgreSQL 9.0 plain "InitPlan"/"SubPlan"
_LABEL = re.compile(r"^(?:(?:InitPlan|SubPlan)(?: \d+)?(?: \(returns .*\))?|CTE \S.*)$")
# First words of a line that is not a plain property: a child node, a label, a marker.
_NOT_A_PROPERTY = ("->", "InitPlan", "SubPlan", "CTE ", BREAK)
_WORKER = re.compile(r"^Worker (\d+):  (.*)$")
_WORKER_ACTUAL = re.compile(
    r"^actual (?:time=(?P<as>[\d.]+)\.\.(?P<at>[\d.]+) )?rows=(?P<ar>[\d.]+) loops=(?P<al>\d+)$"
)
_TARGET_TABLE = re.compile(r"^(?:Foreign )?(?:Insert|Update|Delete|Merge) on (.+)$")
_TRIGGER = re.compile(
    r"^Trigger(?: (?P<name>.+?))?(?: for constraint (?P<con>.+?))?(?: on (?P<rel>\S+))?"
    r": (?:time=(?P<time>[\d.]+) )?calls=(?P<calls>\d+)$"
)
_MS = re.compile(r"^(-?\d+(?:\.\d+)?) ms$")
_MEMBER_PARENTS = frozenset({"Append", "Merge Append", "BitmapAnd", "BitmapOr"})
_STATEMENT_KEYS = frozenset(
    {
        "Planning Time",
        "Execution Time",
        "Total runtime",
        "JIT",
        "Settings",
        "Planning",
        "Serialization",
        "Query Identifier",
        "Query Text",
        "Query Parameters",
    }
)
_CONDITION_COUNTERS = (
    ("Filter", "Rows Removed by Filter"),
    ("Join Filter", "Rows Removed by Join Filter"),
    ("Recheck Cond", "Rows Removed by Index Recheck"),
    ("Conflict Filter", "Rows Removed by Conflict Filter"),
)
_BLOCK_KEYS = tuple(
    f"{family} {op} Blocks"
    for family, ops in (
        ("Shared", ("Hit", "Read", "Dirtied", "Written")),
        ("Local", ("Hit", "Read", "Dirtied", "Written")),
        ("Temp", ("Read", "Written")),
    )
    for op in ops
)


class _Node:
    """A node being read: its JSON keys, text column, property lines and children."""

    __slots__ = ("children", "column", "keys", "line", "props", "unlabelled")

    def __init__(self, keys: dict[str, Any], column: int, line: int) -> None:
        self.keys = keys
        self.column = column
        self.line = line
        self.props: list[Line] = []
        self.children: list[_Node] = []
        self.unlabelled = 0


class _Statement:
    __slots__ = ("label", "nodes", "pre", "root", "stack", "top")

    def __init__(self) -> None:
        self.pre: list[Line] = []  # lines before the plan: auto_explain's Query Text
        self.root: _Node | None = None
        self.stack: list[_Node] = []
        self.nodes: list[_Node] = []
        self.top: list[Line] = []  # statement-level lines
        self.label: Line | None = None


def read_text(text: str) -> list[dict[str, Any]]:
    """Every statement's plan in ``text`` as JSON-shaped statement objects, in order.

    Raises:
        PlanParseError: a node line is malformed, or a ``->`` line has no parent above it.
    """
    lines = frame_lines(text)
    try:
        documents, unread = _read_documents(lines)
    except PlanParseError:
        rejoined = rejoin_broken_lines(lines)
        if rejoined is lines:
            raise
        try:  # a line a window broke in two, such as "(actual time=0.5" + "24..0.525 ..."
            return _read_documents(rejoined)[0]
        except PlanParseError:
            pass
        raise
    if unread:
        # Lines no node would take may be halves of lines a window broke: read again, joined,
        # and keep that reading if it leaves fewer such lines.
        rejoined = rejoin_broken_lines(lines)
        if rejoined is not lines:
            try:
                again, unread_again = _read_documents(rejoined)
            except PlanParseError:
                return documents
            if unread_again < unread:
                return again
    return documents


def _read_documents(lines: list[Line]) -> tuple[list[dict[str, Any]], int]:
    """Every statement's JSON-shaped object, and how many lines they kept as unrecognised."""
    statements = _read_statements(lines)
    documents = [_finish(statement) for statement in statements]
    return documents, _unrecognised(statements, documents)


def _unrecognised(statements: list[_Statement], documents: list[dict[str, Any]]) -> int:
    """How many lines the nodes and statements kept as unrecognised (what a broken line leaves)."""
    count = sum(len(document.get(UNRECOGNISED, ())) for document in documents)
    for statement in statements:
        for node in statement.nodes:
            count += len(node.keys.get(UNRECOGNISED, ()))
    return count


def _read_statements(lines: list[Line]) -> list[_Statement]:
    """The statements' trees, each node with its property lines (read by `_finish`)."""
    statements: list[_Statement] = []
    current = _Statement()
    for index, line in enumerate(lines):
        _number, column, content = line
        root = current.root
        if (
            root is not None
            and column > root.column
            and current.label is None
            and not current.top
            and not content.startswith(_NOT_A_PROPERTY)
        ):
            # the common line first: a property of the node above it (all checks below fail)
            stack = current.stack
            while len(stack) > 1 and stack[-1].column >= column:
                stack.pop()
            stack[-1].props.append(line)
            continue
        if content == BREAK:
            if current.root is not None:
                statements.append(current)
                current = _Statement()
            continue
        if current.label is not None:
            _place_label(current, line)
        if content.startswith("->"):
            _add_child(current, line)
            continue
        root = current.root
        if current.top and not _root_candidate(content) and not content.startswith("Query Text:"):
            current.top.append(line)  # statement-level lines come after the whole tree
            continue
        if root is not None and line.column <= root.column and content.startswith("Query Text:"):
            statements.append(current)  # the next auto_explain entry, pasted without its prefix
            current = _Statement()
            root = None
        if root is None or line.column <= root.column:
            keys = _root_candidate(content)
            if keys is None and root is None:
                keys = bare_root(lines, index)
            if keys is not None:
                if root is not None:
                    statements.append(current)
                    current = _Statement()
                node = _Node(keys, line.column, line.number)
                current.root = node
                current.stack = [node]
                current.nodes.append(node)
            elif root is None:
                # before the plan: auto_explain's Query Text (and its continuation lines);
                # anything else is text around the paste
                if content.startswith(("Query Text:", "Query Parameters:")) or current.pre:
                    current.pre.append(line)
            else:
                current.top.append(line)
            continue
        if _LABEL.match(content) and _next_is_deeper_arrow(lines, index):
            while len(current.stack) > 1 and current.stack[-1].column >= line.column:
                current.stack.pop()
            current.label = line
            continue
        stack = current.stack
        while len(stack) > 1 and stack[-1].column >= line.column:
            stack.pop()
        stack[-1].props.append(line)
    if current.root is not None:
        statements.append(current)
    if not statements:
        raise PlanParseError(
            "line 1", "no plan node line found (such as 'Seq Scan on t  (cost=...)')"
        )
    return statements


def _root_candidate(content: str) -> dict[str, Any] | None:
    """The node keys when a line without ``->`` is a plan's first node line."""
    if split_key(content) is not None and split_figures(content)[1] is None:
        return None
    keys = parse_node_line(content)
    if keys is None:
        return None
    if split_figures(content)[1] is None and not looks_like_node_name(content):
        return None
    return keys


def _next_is_deeper_arrow(lines: list[Line], index: int) -> bool:
    column = lines[index].column
    for line in lines[index + 1 :]:
        if line.text == BREAK:
            return False
        return line.text.startswith("->") and line.column > column
    return False


def _place_label(statement: _Statement, line: Line) -> None:
    """A label names the node right below it; anything else keeps it as a property line."""
    label = statement.label
    assert label is not None
    statement.label = None
    if line.text.startswith("->") and line.column > label.column:
        statement.label = label  # consumed by _add_child
        return
    statement.stack[-1].props.append(label)


def _add_child(statement: _Statement, line: Line) -> None:
    content = line.text
    text = content[2:].lstrip()
    column = line.column + (len(content) - len(text))
    keys = parse_node_line(text, lenient=True)
    if keys is None:
        raise PlanParseError(
            f"line {line.number}",
            "expected a plan node such as '->  Seq Scan on t  (cost=0.00..1.00 rows=1 "
            f"width=4)', got {text!r:.80}",
        )
    if statement.root is None:
        # a part of a plan, pasted from its first "->": that node is the top of what was given
        node = _Node(keys, column, line.number)
        statement.root = node
        statement.stack = [node]
        statement.nodes.append(node)
        return
    stack = statement.stack
    while stack and stack[-1].column >= line.column:
        stack.pop()
    if not stack:
        raise PlanParseError(
            f"line {line.number}",
            "a '->' node line is not indented under any node (expected it right of its "
            "parent's first character)",
        )
    parent = stack[-1]
    label = statement.label
    statement.label = None
    if label is not None:
        keys["Parent Relationship"] = "SubPlan" if label.text.startswith("SubPlan") else "InitPlan"
        keys["Subplan Name"] = label.text
    else:
        keys["Parent Relationship"] = _relationship(parent)
    node = _Node(keys, column, line.number)
    parent.children.append(node)
    statement.nodes.append(node)
    stack.append(node)


def _relationship(parent: _Node) -> str:
    parent_type = parent.keys.get("Node Type")
    if parent_type in _MEMBER_PARENTS:
        return "Member"
    if parent_type == "Subquery Scan":
        return "Subquery"
    parent.unlabelled += 1
    return "Outer" if parent.unlabelled == 1 else "Inner"


# --- a whole statement ---------------------------------------------------------------------


def _finish(statement: _Statement) -> dict[str, Any]:
    statement.nodes = fold_distributed_queries(statement.nodes, _finish_nested)
    root = statement.root
    assert root is not None
    analyzed = any("Actual Loops" in n.keys for n in statement.nodes)
    for node in statement.nodes:
        _read_props(node)
    settle_function_names([node.keys for node in statement.nodes])
    buffers = any(k in n.keys for n in statement.nodes for k in _BLOCK_KEYS)
    timed = any("Actual Total Time" in n.keys for n in statement.nodes)
    for node in statement.nodes:
        _restore_suppressed(node.keys, analyzed=analyzed, buffers=buffers)
        if timed and node.keys.get("_never"):
            # JSON prints zero times for a node that never ran when TIMING is on
            node.keys["Actual Startup Time"] = 0.0
            node.keys["Actual Total Time"] = 0.0
    top: dict[str, Any] = {}
    _read_query_text(statement.pre, top)
    _read_statement_lines(statement.top, top)
    # assemble the nested document bottom-up (children were appended in pre-order)
    for node in reversed(statement.nodes):
        node.keys.pop("_never", None)
        if node.children:
            node.keys["Plans"] = [child.keys for child in node.children]
    return {"Plan": root.keys, **top}


def _finish_nested(root: _Node, nodes: list[_Node], top: list[Line]) -> dict[str, Any]:
    """A plan nested in a Citus section, finished as a statement of its own."""
    statement = _Statement()
    statement.root, statement.nodes, statement.top = root, nodes, top
    return _finish(statement)


def _read_query_text(lines: list[Line], out: dict[str, Any]) -> None:
    text: list[str] = []
    for line in lines:
        if line.text.startswith("Query Parameters:"):
            out["Query Parameters"] = line.text.partition(": ")[2]
        elif line.text.startswith("Query Text:"):
            text = [line.text.partition(":")[2].lstrip(" ")]
        else:
            text.append(" " * line.column + line.text)
    if text:
        out["Query Text"] = "\n".join(text)


def _blocks(lines: list[Line]) -> list[tuple[Line, list[Line]]]:
    """Group lines into (head, deeper lines under it) by indentation."""
    blocks: list[tuple[Line, list[Line]]] = []
    for line in lines:
        if blocks and line.column > blocks[-1][0].column:
            blocks[-1][1].append(line)
        else:
            blocks.append((line, []))
    return blocks


def _keep(out: dict[str, Any], line: Line) -> None:
    out.setdefault(UNRECOGNISED, []).append(line.text)


def _read_props(node: _Node) -> None:
    keys = node.keys
    if not node.props:
        return
    blocks = _blocks(node.props)
    node_type = keys.get("Node Type")
    if node_type == "Aggregate" and _has_grouping_sets(blocks):
        blocks = _read_grouping_sets(blocks, keys)
    workers: dict[int, dict[str, Any]] = {}
    for head, subs in blocks:
        content = head.text
        worker = _WORKER.match(content) if content.startswith("Worker ") else None
        if worker is not None:
            number = int(worker[1])
            entry = workers.setdefault(number, {"Worker Number": number})
            _read_worker_line(worker[2], subs, entry, head)
            continue
        if node_type == "ModifyTable" and (target := _TARGET_TABLE.match(content)):
            _read_target_table(target[1], subs, keys, head)
            continue
        if not subs and read_property_line(content, keys):
            continue  # the common line: one "Label: value" (what _read_line would do)
        _read_line(head, subs, keys)
    if workers:
        keys["Workers"] = list(workers.values())


def _read_line(head: Line, subs: list[Line], out: dict[str, Any]) -> None:
    pair = split_key(head.text)
    if pair is None:
        _keep(out, head)
        for sub in subs:
            _read_line(sub, [], out)
        return
    key, value = pair
    if key == "JIT" and not value:
        out["JIT"] = _read_jit(subs)
        return
    if not value and subs:  # a nested group ("Planning:")
        group: dict[str, Any] = {}
        for sub_head, sub_subs in _blocks(subs):
            _read_line(sub_head, sub_subs, group)
        if key not in out:
            out[key] = group
        else:
            _keep(out, head)
        return
    if not parse_property(key, value, out):
        _keep(out, head)
    if subs:
        for sub_head, sub_subs in _blocks(subs):
            _read_line(sub_head, sub_subs, out)


def _read_worker_line(rest: str, subs: list[Line], entry: dict[str, Any], head: Line) -> None:
    actual = _WORKER_ACTUAL.match(rest)
    if actual is not None:
        if actual["as"] is not None:
            entry["Actual Startup Time"] = float(actual["as"])
            entry["Actual Total Time"] = float(actual["at"])
        rows = actual["ar"]
        entry["Actual Rows"] = float(rows) if "." in rows else int(rows)
        entry["Actual Loops"] = int(actual["al"])
    elif rest == "JIT:":  # a worker that never ran the node: its JIT block opens the entry
        depth = subs[0].column if subs else 0
        count = next((i for i, sub in enumerate(subs) if sub.column < depth), len(subs))
        entry["JIT"] = _read_jit(subs[:count])
        subs = subs[count:]
    else:
        _read_line(Line(head.number, head.column, rest), [], entry)
    for sub_head, sub_subs in _blocks(subs):
        _read_line(sub_head, sub_subs, entry)


def _read_target_table(target: str, subs: list[Line], keys: dict[str, Any], head: Line) -> None:
    from planalyzer.plan.text._header import parse_node_line

    parsed = parse_node_line(f"Update on {target}")
    if parsed is None:
        _keep(keys, head)
        return
    table = {k: v for k, v in parsed.items() if k in ("Relation Name", "Schema", "Alias")}
    for sub_head, sub_subs in _blocks(subs):
        _read_line(sub_head, sub_subs, table)
    keys.setdefault("Target Tables", []).append(table)


def _has_grouping_sets(blocks: list[tuple[Line, list[Line]]]) -> bool:
    group_keys = 0
    for head, subs in blocks:
        if head.text.startswith("Hash Key:") or head.text == "Group Key: ()":
            return True
        if head.text.startswith("Sort Key:") and subs:
            return True
        group_keys += head.text.startswith("Group Key:")
    return group_keys > 1


def _read_grouping_sets(
    blocks: list[tuple[Line, list[Line]]], keys: dict[str, Any]
) -> list[tuple[Line, list[Line]]]:
    """Fold ``Group Key``/``Hash Key``/``Sort Key`` lines into ``Grouping Sets``; return the rest.

    Each ``Hash Key`` is a set (one hash table each); consecutive ``Group Key`` lines are one
    sorted rollup; a ``Sort Key`` line with keys under it is a rollup of its own, as explain.c's
    show_grouping_set_keys prints them.
    """
    sets: list[dict[str, Any]] = []
    rest: list[tuple[Line, list[Line]]] = []
    last_kind = ""
    for head, subs in blocks:
        pair = split_key(head.text)
        key = pair[0] if pair else ""
        if key in ("Group Key", "Hash Key") and pair is not None:
            kind = "Group Keys" if key == "Group Key" else "Hash Keys"
            # a hash table serves one grouping set; a sorted rollup serves several
            if kind != last_kind or kind == "Hash Keys":
                sets.append({kind: []})
                last_kind = kind
            sets[-1][kind].append(_key_list(pair[1]))
        elif key == "Sort Key" and pair is not None and subs:
            entry: dict[str, Any] = {"Sort Key": split_list(pair[1]), "Group Keys": []}
            for sub in subs:
                sub_pair = split_key(sub.text)
                if sub_pair is None or sub_pair[0] != "Group Key":
                    _keep(entry, sub)
                    continue
                entry["Group Keys"].append(_key_list(sub_pair[1]))
            sets.append(entry)
            last_kind = ""
        else:
            rest.append((head, subs))
    keys["Grouping Sets"] = sets
    return rest


def _key_list(value: str) -> list[str]:
    return [] if value == "()" else split_list(value)


def _restore_suppressed(keys: dict[str, Any], *, analyzed: bool, buffers: bool) -> None:
    """Put back the zero counters text format leaves out but JSON prints (explain.c's rules)."""
    if analyzed:
        for condition, counter in _CONDITION_COUNTERS:
            if condition in keys:
                keys.setdefault(counter, 0)
        node_type = keys.get("Node Type")
        if node_type == "Index Scan" and "Index Cond" in keys:
            keys.setdefault("Rows Removed by Index Recheck", 0)
        if node_type == "Bitmap Heap Scan":
            keys.setdefault("Exact Heap Blocks", 0)
            keys.setdefault("Lossy Heap Blocks", 0)
        if buffers:
            for key in _BLOCK_KEYS:
                keys.setdefault(key, 0)


# --- statement-level lines ------------------------------------------------------------------


def _read_statement_lines(lines: list[Line], out: dict[str, Any]) -> None:
    for head, subs in _blocks(lines):
        content = head.text
        trigger = _TRIGGER.match(content) if content.startswith("Trigger") else None
        if trigger is not None:
            entry: dict[str, Any] = {}
            if trigger["name"]:
                entry["Trigger Name"] = trigger["name"]
            if trigger["con"]:
                entry["Constraint Name"] = trigger["con"]
            if trigger["rel"]:
                entry["Relation"] = trigger["rel"]
            if trigger["time"] is not None:
                entry["Time"] = float(trigger["time"])
            entry["Calls"] = int(trigger["calls"])
            out.setdefault("Triggers", []).append(entry)
            continue
        pair = split_key(content)
        if pair is None:
            _keep(out, head)
            continue
        key, value = pair
        if key in ("Planning Time", "Execution Time", "Total runtime"):
            m = _MS.match(value)
            if m is None:
                _keep(out, head)
                continue
            out["Total Runtime" if key == "Total runtime" else key] = float(m[1])
        elif key == "Settings":
            out["Settings"] = _read_settings(value)
        elif key == "Query Identifier":
            out[key] = scalar(value)
        elif key == "Serialization":
            group: dict[str, Any] = {}
            if not parse_property("Serialization", value, group):
                _keep(out, head)
                continue
            for sub in subs:
                _read_line(sub, [], group)
            out["Serialization"] = group
        else:
            _read_line(head, subs, out)


_SETTING = re.compile(r"([\w.]+) = (?:'(.*?)'|NULL)(?:, |$)")


def _read_settings(value: str) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for m in _SETTING.finditer(value):
        settings[m[1]] = m[2]
    return settings


def _read_jit(lines: list[Line]) -> dict[str, Any]:
    jit: dict[str, Any] = {}
    for head, _subs in _blocks(lines):
        key, _, value = head.text.partition(": ")
        if key == "Functions" and value.isdigit():
            jit["Functions"] = int(value)
        elif key == "Options":
            options = {}
            for part in value.split(", "):
                name, _, flag = part.rpartition(" ")
                options[name] = flag == "true"
            jit["Options"] = options
        elif key == "Timing":
            jit["Timing"] = _read_jit_timing(value)
        else:
            _keep(jit, head)
    return jit


_JIT_PHASE = re.compile(r"(\w+) ([\d.]+) ms(?: \((\w+) ([\d.]+) ms\))?")


def _read_jit_timing(value: str) -> dict[str, Any]:
    timing: dict[str, Any] = {}
    for m in _JIT_PHASE.finditer(value):
        if m[3] is not None:  # PostgreSQL 17+: "Generation 1.0 ms (Deform 0.2 ms)"
            timing[m[1]] = {m[3]: float(m[4]), "Total": float(m[2])}
        else:
            timing[m[1]] = float(m[2])
    return timing
