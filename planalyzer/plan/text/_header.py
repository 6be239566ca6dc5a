"""One node line of text-format EXPLAIN -> the node's keys as EXPLAIN (FORMAT JSON) has them.

A node line is what PostgreSQL's ``ExplainNode`` prints before the node's properties: an optional
``->`` arrow, ``Parallel``/``Async`` markers, the text-format node name (which folds in the
aggregate strategy, ``Partial``/``Finalize``, the join type, the ModifyTable operation, the set-op
command and the scan direction), the index and the target relation, then the estimates
``(cost=a..b rows=n width=w)`` and the measured ``(actual time=x..y rows=r loops=l)``,
``(actual rows=r loops=l)`` with TIMING OFF, or ``(never executed)``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NodeHeader", "ident", "parse_node_line", "split_figures", "unquote"]

NodeHeader = dict[str, Any]

_NUM = r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
_COSTS = re.compile(
    rf"\(cost=(?P<sc>{_NUM})\.\.(?P<tc>{_NUM}) rows=(?P<rows>{_NUM}) width=(?P<width>\d+)\)"
)
_ACTUAL = re.compile(
    rf"\(actual (?:time=(?P<as>{_NUM})\.\.(?P<at>{_NUM}) )?"
    rf"rows=(?P<ar>{_NUM}) loops=(?P<al>{_NUM})\)"
)
_NEVER = "(never executed)"

# A possibly quoted SQL identifier, as quote_identifier() prints it.
_IDENT = r'(?:"(?:[^"]|"")*"|[^\s".]+)'
_TARGET = re.compile(rf"^(?P<a>{_IDENT})(?:\.(?P<b>{_IDENT}))?(?: (?P<alias>{_IDENT}))?$")

_JOIN_TYPES = ("Right Semi", "Right Anti", "Left", "Full", "Right", "Semi", "Anti")
_AGGREGATES = {
    "Aggregate": "Plain",
    "GroupAggregate": "Sorted",
    "HashAggregate": "Hashed",
    "MixedAggregate": "Mixed",
}
_SETOPS = {"SetOp": "Sorted", "HashSetOp": "Hashed"}
_SETOP_COMMANDS = ("Intersect All", "Except All", "Intersect", "Except")
_MODIFY = ("Insert", "Update", "Delete", "Merge")
_FOREIGN = {"Foreign Insert": "Insert", "Foreign Update": "Update", "Foreign Delete": "Delete"}

# Scans whose text is "<name> on <target>"; the key the target's object name goes to.
SCAN_OBJECT_KEYS: dict[str, str | None] = {
    "Seq Scan": "Relation Name",
    "Sample Scan": "Relation Name",
    "Bitmap Heap Scan": "Relation Name",
    "Tid Scan": "Relation Name",
    "Tid Range Scan": "Relation Name",
    "Index Scan": "Relation Name",
    "Index Only Scan": "Relation Name",
    "Foreign Scan": "Relation Name",
    "Custom Scan": "Relation Name",
    "ModifyTable": "Relation Name",
    "Function Scan": "Function Name",
    "Table Function Scan": "Table Function Name",
    "CTE Scan": "CTE Name",
    "WorkTable Scan": "CTE Name",
    "Named Tuplestore Scan": "Tuplestore Name",
    "Subquery Scan": None,
    "Values Scan": None,
}

# Names that stand alone (pname == sname in explain.c).
SIMPLE_NAMES = frozenset(
    {
        "Result",
        "ProjectSet",
        "Append",
        "Merge Append",
        "Recursive Union",
        "BitmapAnd",
        "BitmapOr",
        "Gather",
        "Gather Merge",
        "Materialize",
        "Memoize",
        "Sort",
        "Incremental Sort",
        "Group",
        "WindowAgg",
        "Unique",
        "LockRows",
        "Limit",
        "Hash",
        "Bitmap Index Scan",
    }
)
_FIRST_WORDS = frozenset(
    {name.split(" ", 1)[0] for name in SIMPLE_NAMES | set(SCAN_OBJECT_KEYS)}
    | set(_AGGREGATES)
    | set(_SETOPS)
    | set(_MODIFY)
    | {"Nested", "Hash", "Merge", "Foreign", "Custom", "Partial", "Finalize", "Parallel", "Async"}
)


def unquote(token: str) -> str:
    """An identifier as printed by quote_identifier(), without its quotes."""
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"':
        return token[1:-1].replace('""', '"')
    return token


def ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL's quote_identifier() does (keywords aside)."""
    if name and re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _number(text: str) -> int | float:
    if "." in text or "e" in text:
        return float(text)
    return int(text)


def split_figures(text: str) -> tuple[str, dict[str, Any] | None]:
    """Split a node line's text into its name part and the figures in parentheses.

    Returns the name and the figure keys, or None for the figures when the line carries
    neither estimates nor actuals (a COSTS OFF plan without ANALYZE).
    """
    figures: dict[str, Any] = {}
    rest = text
    if rest.endswith(_NEVER):
        figures["never"] = True
        rest = rest[: -len(_NEVER)].rstrip()
    elif rest.endswith(")"):
        start = rest.rfind(" (actual ")
        if start < 0 and rest.startswith("(actual "):
            start = 0
        if start >= 0:
            m = _ACTUAL.fullmatch(rest, start + (1 if start else 0))
            if m is not None:
                figures["actual"] = m
                rest = rest[:start].rstrip()
    if rest.endswith(")"):
        start = rest.rfind("(cost=")
        if start >= 0:
            m = _COSTS.fullmatch(rest, start)
            if m is not None:
                figures["costs"] = m
                rest = rest[:start].rstrip()
    return rest, (figures or None)


def looks_like_node_name(name: str) -> bool:
    """True when a line without ``->`` starts like a plan node's text-format name."""
    first = name.split(" ", 1)[0]
    return first in _FIRST_WORDS


def parse_node_line(text: str, *, lenient: bool = False) -> NodeHeader | None:
    """The JSON keys of one node line's text (arrow already removed), or None if it is not one.

    With ``lenient`` (a line after ``->``, so certainly a node), a name this module does not
    know becomes the node type as printed, unless it holds malformed figures.
    """
    name, figures = split_figures(text)
    node = _cached_name(name)
    if node is None:
        if not lenient or not name or "(cost=" in name or "(actual" in name or "(never" in name:
            return None
        node = {"Node Type": name}
    if figures:
        costs = figures.get("costs")
        if costs is not None:
            node["Startup Cost"] = float(costs["sc"])
            node["Total Cost"] = float(costs["tc"])
            node["Plan Rows"] = _number(costs["rows"])
            node["Plan Width"] = int(costs["width"])
        actual = figures.get("actual")
        if actual is not None:
            if actual["as"] is not None:
                node["Actual Startup Time"] = float(actual["as"])
                node["Actual Total Time"] = float(actual["at"])
            node["Actual Rows"] = _number(actual["ar"])
            node["Actual Loops"] = _number(actual["al"])
        if figures.get("never"):
            node["Actual Rows"] = 0
            node["Actual Loops"] = 0
            node["_never"] = True
    return node


_NAMES: dict[str, NodeHeader | None] = {}  # a plan repeats its node names ("Hash", "Sort")


def _cached_name(name: str) -> NodeHeader | None:
    """`_parse_name`, remembered (bounded, like re's cache); the caller gets its own dict."""
    try:
        known = _NAMES[name]
    except KeyError:
        if len(_NAMES) >= 4096:
            _NAMES.clear()
        known = _NAMES[name] = _parse_name(name)
    return None if known is None else known.copy()


def _parse_name(name: str) -> NodeHeader | None:
    node: NodeHeader = {}
    prefix: dict[str, Any] = {}
    while True:
        if name.startswith("Parallel "):
            prefix["Parallel Aware"] = True
            name = name[9:]
        elif name.startswith("Async "):
            prefix["Async Capable"] = True
            name = name[6:]
        else:
            break
    if not name:
        return None
    head, sep, target = name.partition(" on ")
    # "Custom Scan (Citus Adaptive) on t", "Index Scan Backward using i on t"
    if head.startswith("Custom Scan"):
        node["Node Type"] = "Custom Scan"
        provider = head[len("Custom Scan") :].strip()
        if provider.startswith("(") and provider.endswith(")"):
            node["Custom Plan Provider"] = provider[1:-1]
        elif provider:
            return None
    elif head.startswith(("Index Scan", "Index Only Scan")):
        kind = "Index Only Scan" if head.startswith("Index Only Scan") else "Index Scan"
        rest = head[len(kind) :]
        if not rest and not sep:
            return prefix | {"Node Type": kind}
        direction = "Forward"
        if rest.startswith(" Backward"):
            direction = "Backward"
            rest = rest[len(" Backward") :]
        if not rest.startswith(" using "):
            return None
        index = rest[len(" using ") :]
        if not index:
            return None
        # No " on <relation>": what plan.to_text() writes for a plan without "Relation Name"
        node["Node Type"] = kind
        node["Scan Direction"] = direction
        node["Index Name"] = unquote(index)
    elif head == "Bitmap Index Scan":
        node["Node Type"] = head
        if sep:  # none when the plan had no "Index Name" (plan.to_text() of a bare node)
            node["Index Name"] = unquote(target)
        return prefix | node
    elif head in SCAN_OBJECT_KEYS:
        node["Node Type"] = head
        if head == "Foreign Scan":
            node["Operation"] = "Select"
    elif head in _FOREIGN:
        node["Node Type"] = "Foreign Scan"
        node["Operation"] = _FOREIGN[head]
    elif head in _MODIFY and sep:
        node["Node Type"] = "ModifyTable"
        node["Operation"] = head
    else:
        if sep:  # " on " inside a name that takes no target: not a node line
            return None
        return _parse_plain(head, prefix)
    if sep:
        if not _set_target(node, target):
            return None
    return prefix | node


def _parse_plain(name: str, prefix: dict[str, Any]) -> NodeHeader | None:
    node: NodeHeader = {}
    partial = None
    for mode in ("Partial ", "Finalize "):
        if name.startswith(mode):
            partial = mode.strip()
            name = name[len(mode) :]
    if name in _AGGREGATES:
        node["Node Type"] = "Aggregate"
        node["Strategy"] = _AGGREGATES[name]
        node["Partial Mode"] = partial or "Simple"
        return prefix | node
    if partial:
        return None
    for setop, strategy in _SETOPS.items():
        if name.startswith(setop + " "):
            command = name[len(setop) + 1 :]
            if command in _SETOP_COMMANDS:
                return prefix | {"Node Type": "SetOp", "Strategy": strategy, "Command": command}
    if name == "Nested Loop":
        return prefix | {"Node Type": "Nested Loop", "Join Type": "Inner"}
    for join in ("Nested Loop", "Hash", "Merge"):
        if name.startswith(join + " ") and name.endswith(" Join"):
            kind = name[len(join) + 1 : -len(" Join")].strip()
            node_type = join if join == "Nested Loop" else f"{join} Join"
            if kind == "" and join != "Nested Loop":
                return prefix | {"Node Type": node_type, "Join Type": "Inner"}
            if kind in _JOIN_TYPES:
                return prefix | {"Node Type": node_type, "Join Type": kind}
    if name in SIMPLE_NAMES:
        return prefix | {"Node Type": name}
    # before PostgreSQL 9.0 a Subquery Scan named its alias without "on": "Subquery Scan x"
    scan, _, alias = name.partition(" Scan ")
    if alias and f"{scan} Scan" in SCAN_OBJECT_KEYS and " " not in alias:
        old_style = _parse_name(f"{scan} Scan on {alias}")
        return None if old_style is None else prefix | old_style
    # a node type this version does not know (an extension's, a future server's)
    if re.fullmatch(r"[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*", name):
        return prefix | {"Node Type": name}
    return None


def _set_target(node: NodeHeader, target: str) -> bool:
    m = _TARGET.match(target)
    if m is None:
        return False
    a, b, alias = m["a"], m["b"], m["alias"]
    key = SCAN_OBJECT_KEYS.get(node["Node Type"], "Relation Name")
    if b is not None:
        schema, obj = unquote(a), unquote(b)
    else:
        schema, obj = None, unquote(a)
    if key is None:  # Subquery Scan, Values Scan: only the alias is printed
        if b is not None or alias is not None:
            return False
        node["Alias"] = obj
        return True
    node[key] = obj
    if schema is not None:
        node["Schema"] = schema
    node["Alias"] = unquote(alias) if alias is not None else obj
    return True
