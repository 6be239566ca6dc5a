"""PostgreSQL's plan node types, and the forgiving spelling `Plan.find` accepts for them.

Users type node types the way they read them: ``"seq scan"``, ``"SeqScan"``, ``"Parallel Seq
Scan"``, ``"HashAggregate"``. `normalize` folds case, spaces, hyphens and underscores away, and
`resolve` maps a spelling to the JSON ``Node Type`` (plus the strategy or operation the text
format folds into the name), raising on a type PostgreSQL does not have, so a typo in a test
is an error instead of an assertion that silently finds nothing.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["NODE_TYPES", "NodeTypeQuery", "normalize", "resolve"]

NODE_TYPES: frozenset[str] = frozenset(
    {
        # The "Node Type" values explain.c prints (PostgreSQL 9.x to 18).
        "Result", "ProjectSet", "ModifyTable", "Append", "Merge Append", "Recursive Union",
        "BitmapAnd", "BitmapOr", "Nested Loop", "Merge Join", "Hash Join", "Seq Scan",
        "Sample Scan", "Gather", "Gather Merge", "Index Scan", "Index Only Scan",
        "Bitmap Index Scan", "Bitmap Heap Scan", "Tid Scan", "Tid Range Scan", "Subquery Scan",
        "Function Scan", "Table Function Scan", "Values Scan", "CTE Scan",
        "Named Tuplestore Scan", "WorkTable Scan", "Foreign Scan", "Custom Scan", "Materialize",
        "Memoize", "Sort", "Incremental Sort", "Group", "Aggregate", "WindowAgg", "Unique",
        "SetOp", "LockRows", "Limit", "Hash",
    }
)  # fmt: skip
"""Every ``Node Type`` PostgreSQL's EXPLAIN prints (src/backend/commands/explain.c)."""

# Names the text format prints for a JSON node type plus one attribute.
_STRATEGIES = {"HashAggregate": "Hashed", "GroupAggregate": "Sorted", "MixedAggregate": "Mixed"}
_OPERATIONS = ("Insert", "Update", "Delete", "Merge")
_SEPARATORS = re.compile(r"[\s_\-]+")


@functools.lru_cache(maxsize=512)
def normalize(name: str) -> str:
    """Fold case and separators: ``"Seq Scan"``, ``"seq_scan"`` and ``"SeqScan"`` agree.

    Example:
        >>> normalize("Seq Scan") == normalize("seqscan") == normalize("SEQ-scan")
        True
    """
    return _SEPARATORS.sub("", name).lower()


@dataclass(frozen=True)
class NodeTypeQuery:
    """What a spelling asks for: the JSON node type and, optionally, a qualifier."""

    key: str  # normalize(node type)
    parallel: bool = False  # "Parallel Seq Scan": only parallel-aware nodes
    strategy: str | None = None  # "HashAggregate" -> Aggregate with Strategy Hashed
    operation: str | None = None  # "Insert" -> ModifyTable with Operation Insert


def resolve(spelling: str, present: Iterable[str] = ()) -> NodeTypeQuery:
    """The query for a user's spelling of a node type.

    ``present`` are the node types of the plan at hand: a type an extension or a newer server
    prints is accepted when the plan has it.

    Raises:
        ValueError: the spelling names no node type PostgreSQL has (with the closest names).

    Example:
        >>> resolve("parallel seq scan")
        NodeTypeQuery(key='seqscan', parallel=True, strategy=None, operation=None)
        >>> resolve("SeqScn")
        Traceback (most recent call last):
        ...
        ValueError: PostgreSQL has no plan node type 'SeqScn'; did you mean: Seq Scan?
    """
    known = {normalize(t): t for t in (*NODE_TYPES, *present)}
    key = normalize(spelling)
    parallel = False
    if key not in known and key.startswith("parallel") and key[8:] in known:
        key, parallel = key[8:], True
    if key in known:
        return NodeTypeQuery(key=key, parallel=parallel)
    for label, strategy in _STRATEGIES.items():
        if key == normalize(label):
            return NodeTypeQuery(key=normalize("Aggregate"), strategy=strategy)
    for operation in _OPERATIONS:
        if key == normalize(operation):
            return NodeTypeQuery(key=normalize("ModifyTable"), operation=operation)
    names = sorted({*known.values(), *_STRATEGIES, *_OPERATIONS})
    close = difflib.get_close_matches(spelling, names, n=3, cutoff=0.6)
    if not close:
        by_key = {normalize(n): n for n in names}
        close = [by_key[k] for k in difflib.get_close_matches(key, list(by_key), n=3)]
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise ValueError(f"PostgreSQL has no plan node type {spelling!r}{hint}")
