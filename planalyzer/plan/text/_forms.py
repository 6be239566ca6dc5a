"""Text forms whose reading needs more than the line itself: the neighbours or the whole plan.

- A plan's first node line without figures (COSTS OFF, no ANALYZE) whose name the reader does
  not know — an extension's node, a future server's — is a node when lines deeper than it
  follow (``->`` children or ``Label: value`` properties); alone it cannot be told from prose.
- ``Function Scan on x``: explain.c's ExplainTargetRel prints a function's name only when the
  scan is one plain function call (with its schema under VERBOSE), then the alias when it
  differs. A single name is therefore the function and its alias without VERBOSE, but only the
  alias under VERBOSE (where a function always has its schema): JSON then has no
  ``Function Name``, and neither does the reading.
"""

from __future__ import annotations

from typing import Any

from planalyzer.plan.text._frame import BREAK, Line
from planalyzer.plan.text._header import parse_node_line, split_figures
from planalyzer.plan.text._props import split_key

__all__ = ["bare_root", "settle_function_names"]


def bare_root(lines: list[Line], index: int) -> dict[str, Any] | None:
    """The keys of an unknown, figure-less first node line that has children or properties."""
    line = lines[index]
    content = line.text
    if split_figures(content)[1] is not None or split_key(content) is not None:
        return None
    keys = parse_node_line(content)
    if keys is None or index + 1 >= len(lines):
        return None
    following = lines[index + 1]
    if following.text == BREAK or following.column <= line.column:
        return None
    if following.text.startswith("->") or split_key(following.text) is not None:
        return keys
    return None


def settle_function_names(nodes: list[dict[str, Any]]) -> None:
    """Drop the ``Function Name`` a VERBOSE plan's alias-only Function Scan was read with."""
    verbose = any("Output" in keys for keys in nodes)
    for keys in nodes:
        if keys.get("Node Type") != "Function Scan" or "Schema" in keys:
            continue
        name = keys.get("Function Name")
        if name is not None and name == keys.get("Alias") and (verbose or "Function Call" in keys):
            del keys["Function Name"]
