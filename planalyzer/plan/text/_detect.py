"""Is this text-format EXPLAIN output? A cheap test run before the text reader."""

from __future__ import annotations

import re

__all__ = ["first_node_line", "is_text_plan"]

# A node line: an arrow with a name, or a name followed by estimates or actuals. Without costs
# (COSTS OFF, no ANALYZE) only the arrow lines or a known first node name identify it.
_FIGURES = re.compile(
    r"^[^\S\n]*(?:[|│][^\S\n]*)?(?:->[^\S\n]+)?[A-Z][^\n]*?[^\S\n]"
    r"\((?:cost=-?\d|actual (?:time|rows)=|never executed\))",
    re.MULTILINE,
)
_JSON_START = re.compile(r"\s*[\[{]\s*(?:[\[{\"\]}]|$)")
_ARROW = re.compile(r"^[^\S\n]*(?:[|│][^\S\n]*)?->[^\S\n]+[A-Z]", re.MULTILINE)


def first_node_line(text: str) -> int | None:
    """The 1-based line number of the first text-format node line, or None."""
    best: int | None = None
    for pattern in (_FIGURES, _ARROW):
        m = pattern.search(text)
        if m is not None and (best is None or m.start() < best):
            best = m.start()
    if best is None:
        return _bare_plan(text)
    return text.count("\n", 0, best) + 1


def _bare_plan(text: str) -> int | None:
    """A node line once framing is undone: wrapped rows, or COSTS OFF without ANALYZE."""
    from planalyzer.plan.text._forms import bare_root
    from planalyzer.plan.text._frame import BREAK, frame_lines
    from planalyzer.plan.text._header import looks_like_node_name, parse_node_line

    lines = frame_lines(text[:20_000])[:200]
    for index, line in enumerate(lines):
        if line.text == BREAK:
            continue
        if _FIGURES.match(line.text) or _ARROW.match(line.text):
            return line.number
        if looks_like_node_name(line.text) and parse_node_line(line.text) is not None:
            return line.number
        if bare_root(lines, index) is not None:  # an unknown node with properties under it
            return line.number
    return None


def is_text_plan(text: str) -> bool:
    """True when ``text`` holds a text-format plan (any framing); JSON never matches."""
    if _JSON_START.match(text):
        return False  # "[{", '{"', "[\n  {": JSON; a prompt such as "[42]db=# " is not
    return first_node_line(text) is not None
