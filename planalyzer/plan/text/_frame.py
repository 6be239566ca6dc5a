r"""Undo what surrounds text-format EXPLAIN when people paste it, keeping each line's number.

Handled: psql's aligned and wrapped output (``QUERY PLAN`` header, dashes, a leading space,
``(N rows)``), its ``\pset border 2`` boxes, unaligned and CSV output, ``\timing``'s ``Time:``
lines, prompts and echoed statements, and auto_explain's server-log entries
(``LOG:  duration: ... ms  plan:`` followed by tab-prefixed lines). What is left are the plan's
own lines with their indentation, plus markers where one statement's output ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from planalyzer.plan.text._lines import BREAK, Line
from planalyzer.plan.text._psql import ECHO, FOOTER, HEADER, PROMPT, RULE, TIMING
from planalyzer.plan.text._wrapped import (
    may_be_wrapped_in_quotes_or_border,
    rejoin_broken_lines,
    unwrap_aligned_rows,
    without_line_wrappers,
)

__all__ = ["BREAK", "Line", "frame_lines", "rejoin_broken_lines"]

_LOG_PLAN = re.compile(r"\b(?:LOG|INFO|NOTICE|WARNING|DEBUG\d?):\s+duration: \S+ ms\s+plan:\s*$")
_LOG_LINE = re.compile(
    r"\b(?:LOG|ERROR|WARNING|STATEMENT|DETAIL|HINT|CONTEXT|FATAL|PANIC|NOTICE|INFO|DEBUG\d?):  "
)
_NODE_START = re.compile(r"^\s*(?:->\s|[A-Z][\w ()\-]*\s\((?:cost=|actual |never executed))")


def frame_lines(text: str) -> list[Line]:
    """The plan lines of ``text``, framing removed, and `BREAK` markers between statements."""
    # only "\n" ends a line: EXPLAIN prints no other break, and str.splitlines() would also
    # split inside a value at \x85, \u2028, form feeds and the like
    raw_lines = text.split("\n")
    if may_be_wrapped_in_quotes_or_border(text):
        raw_lines = without_line_wrappers(raw_lines)
    if "QUERY PL" in text:
        raw_lines = unwrap_aligned_rows(raw_lines)
    # psql's wrapped rows only need joining when a line starts with the continuation mark
    psql_wrapped = "\n." in text or "\n…" in text
    if "plan:" not in text and not psql_wrapped:
        plain = _plain_lines(raw_lines, only_spaces=_no_other_whitespace(text))
        if plain is not None:
            return plain
    numbered = _unwrap(raw_lines) if psql_wrapped else enumerate(raw_lines, 1)
    return _framed_lines(numbered)


def _plain_lines(raw_lines: list[str], *, only_spaces: bool) -> list[Line] | None:
    """`frame_lines` for output with no framing at all, or None when there is some.

    What EXPLAIN printed, copied as it is, is most of what people paste; its lines are read in
    a few list passes instead of one trip each through `_framed_lines`. The few lines that are
    not indented plan lines (the top node, Planning/Execution Time) still go through
    `_framed_lines`, and any framing found there hands the whole text back to it.
    """
    lines = [raw.rstrip() for raw in raw_lines]
    # str.lstrip() without an argument is several times faster than lstrip(" "), and the same
    # when spaces are the only whitespace in the text
    contents = [line.lstrip() for line in lines] if only_spaces else [s.lstrip(" ") for s in lines]
    frame_chars = _FRAME_CHARS
    others = [
        i
        for i, (line, content) in enumerate(zip(lines, contents, strict=True))
        if content
        and not (
            line[:2] == "  "
            and (content[:1] not in frame_chars or content[:2] == "->")
            and content != "QUERY PLAN"
        )
    ]
    if others:
        framed = _framed_lines((i + 1, lines[i]) for i in others)
        if framed != [(i + 1, len(lines[i]) - len(contents[i]), contents[i]) for i in others]:
            return None
    new_line = _new_line
    return [
        new_line(Line, (number, len(line) - len(content), content))
        for number, (line, content) in enumerate(zip(lines, contents, strict=True), 1)
        if content
    ]


# Every character str.strip() removes besides " " and "\n" (str.isspace(); a test checks it).
OTHER_WHITESPACE = (
    "\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_OTHER_ASCII_WHITESPACE = OTHER_WHITESPACE[:8]


def _no_other_whitespace(text: str) -> bool:
    """True when spaces and newlines are the text's only whitespace (a few substring scans)."""
    others = _OTHER_ASCII_WHITESPACE if text.isascii() else OTHER_WHITESPACE
    return not any(ch in text for ch in others)


def _framed_lines(numbered: Iterable[tuple[int, str]]) -> list[Line]:
    """Plan lines of numbered raw lines, with psql's and the server log's framing undone."""
    out: list[Line] = []
    in_log = False  # inside an auto_explain entry
    skipping = False  # after an echoed EXPLAIN statement, until its output starts
    for number, raw in numbered:
        line = raw.rstrip()
        if not in_log and not skipping and line.startswith("  ") and "plan:" not in line:
            # fast path: an indented plan line (a framing line is never indented, except
            # psql's centred header and a box border)
            content = line.lstrip(" ")
            first = content[:1]
            if (first not in _FRAME_CHARS or content.startswith("->")) and content != "QUERY PLAN":
                out.append(_new_line(Line, (number, len(line) - len(content), content)))
                continue
        if in_log:
            if "plan:" in line and _LOG_PLAN.search(line):
                out.append(Line(number, 0, BREAK))
                continue
            if (line and not line[0].isspace()) and (_LOG_LINE.search(line) or _log_prefixed(line)):
                in_log = False
                out.append(Line(number, 0, BREAK))
                continue
            if line.startswith("\t"):
                line = line[1:]
        elif "plan:" in line and _LOG_PLAN.search(line):
            in_log = True
            skipping = False
            out.append(Line(number, 0, BREAK))
            continue
        line = _strip_border(line)
        if not line.strip():
            continue
        if HEADER.match(line) or FOOTER.match(line):
            skipping = False
            out.append(Line(number, 0, BREAK))
            continue
        if RULE.match(line) or TIMING.match(line):
            continue
        if PROMPT.match(line):
            skipping = not _NODE_START.match(line[PROMPT.match(line).end() :])  # type: ignore[union-attr]
            out.append(Line(number, 0, BREAK))
            continue
        if not in_log and ECHO.match(line) and not _NODE_START.match(line):
            skipping = True
            out.append(Line(number, 0, BREAK))
            continue
        if skipping:
            if not _NODE_START.match(line):
                continue
            skipping = False
        if len(line) >= 2 and line[0] == '"' and line[-1] == '"' and not in_log:
            line = line[1:-1].replace('""', '"')  # psql --csv quotes a cell holding a comma
        if line.endswith("+") and line[:-1].endswith(" "):
            line = line[:-1].rstrip()  # a multi-line cell's continuation mark (aligned format)
        content = line.lstrip(" ")
        out.append(Line(number, len(line) - len(content), content))
    return out


# Line's generated __new__ is a Python call; the tuple constructor builds the same value at a
# fraction of the cost, which matters on the one line per plan line (tens of thousands).
_new_line = tuple.__new__


def _unwrap(raw_lines: list[str]) -> list[tuple[int, str]]:
    """Join the rows psql's wrapped format split: ``...ac.`` then ``.tual ...`` (or ``…``)."""
    out: list[tuple[int, str]] = []
    joining = False
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.rstrip()
        if joining and line[:1] in (".", "…"):
            first, previous = out[-1]
            out[-1] = (first, previous[:-1] + line[1:])
        else:
            out.append((number, line))
        joining = line.endswith((".", "…"))
    return out


def _log_prefixed(line: str) -> bool:
    """A new server-log line (timestamp first) rather than a continuation of the entry."""
    return bool(re.match(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d", line))


_FRAME_CHARS = frozenset("|+-\"(='" + "".join(map(chr, range(0x2500, 0x2580))))


def _strip_border(line: str) -> str:
    body = line.strip()
    if len(body) >= 2 and body[0] in "|│║" and body[-1] == body[0]:
        return body[1:-1].rstrip()
    return line
