r"""Undo what surrounds text-format EXPLAIN when people paste it, keeping each line's number.

Handled: psql's aligned and wrapped output (``QUERY PLAN`` header, dashes, a leading space,
``(N rows)``), its ``\pset border 2`` boxes, unaligned and CSV output, ``\timing``'s ``Time:``
lines, prompts and echoed statements, and auto_explain's server-log entries
(``LOG:  duration: ... ms  plan:`` followed by tab-prefixed lines). What is left are the plan's
own lines with their indentation, plus markers where one statement's output ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

__all__ = ["BREAK", "Line", "frame_lines", "rejoin_broken_lines"]

BREAK = "\x00break"
"""Content of a marker line: one statement's output ended here (a header, a footer, a log entry)."""


class Line(NamedTuple):
    """One plan line: 1-based line number in the input, column of its first character, text."""

    number: int
    column: int
    text: str


_HEADER = re.compile(r"^\s*QUERY PLAN\s*$")
# Rules of any psql linestyle: ASCII, and the Unicode box-drawing block (single and double)
_RULE = re.compile(r"^\s*[-+=\u2500-\u257f]+\s*$")
# "(3 rows)", and as a localised psql prints it: "(3 lignes)", "(3 Zeilen)", "(1 fila)"
_FOOTER = re.compile(r"^\s*\(\d+ [^\W\d_]+\)\s*$")
# \timing's line, localised too ("Temps : 0,305 ms"): one word, a colon, a number of ms
_TIMING = re.compile(r"^[^\W\d_]+ ?: \d+(?:[.,]\d+)? ms\b")
# psql's prompt (PROMPT1 %R is one of = - ( * ' " ^ !), after any prompt text without spaces
# ("db=# ", "[14003](2038152)postgres@bench=# ")
_PROMPT = re.compile(r"^[^\s#>]*[\w\])][=\-(*'\"^!][#>](?: |$)")
_ECHO = re.compile(r"^\s*explain\b", re.IGNORECASE)
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
    if _may_be_wrapped_in_quotes_or_border(text):
        raw_lines = _without_line_wrappers(raw_lines)
    if "QUERY PL" in text:
        raw_lines = _unwrap_aligned_rows(raw_lines)
    if "plan:" not in text and "\n." not in text and "\n…" not in text:
        plain = _plain_lines(raw_lines, only_spaces=_no_other_whitespace(text))
        if plain is not None:
            return plain
    # psql's wrapped rows only need joining when a line starts with the continuation mark
    numbered = _unwrap(raw_lines) if ("\n." in text or "\n…" in text) else enumerate(raw_lines, 1)
    return _framed_lines(numbered)


def _may_be_wrapped_in_quotes_or_border(text: str) -> bool:
    """Cheap test: do most lines end with ``|``, ``'`` or ``"`` (an export's wrapping)?

    Judged on the first 64 kB: an export wraps every line alike.
    """
    sample = text[:65536]
    lines = sample.count("\n") + 1 - sample.count("\n\n")
    ends = max(sample.count(end + "\n") for end in ("|", "'", '"')) + 1
    return ends * 2 >= lines


def _without_line_wrappers(raw_lines: list[str]) -> list[str]:
    """Undo what an export put around every line, when (nearly) every line has it.

    DBeaver ends each row with a ``|`` border (no left one); pgAdmin's and some clients' copies
    put each row in single quotes, or leave a CSV cell's closing double quote at the end. A plan
    line never starts with a quote, and ends with one only in a rare string literal, so the
    wrapping is removed only when at least 90% of the non-empty lines carry it.
    """
    rows = [raw.rstrip() for raw in raw_lines]
    filled = [row for row in rows if row]
    if not filled:
        return raw_lines

    def most(test: Callable[[str], bool]) -> bool:
        return sum(1 for row in filled if test(row)) * 10 >= len(filled) * 9

    if most(lambda row: row.endswith("|") and row.lstrip()[:1] not in ("|", "│", "║")):
        return [row[:-1] if row.endswith("|") else row for row in rows]
    if most(lambda row: len(row) >= 2 and row[0] == "'" and row[-1] == "'"):
        return [row[1:-1] if len(row) >= 2 and row[0] == row[-1] == "'" else row for row in rows]
    if most(lambda row: row.endswith('"') and row.count('"') % 2 == 1):
        return [row[:-1] if row.endswith('"') and row.count('"') % 2 else row for row in rows]
    return raw_lines


def _unwrap_aligned_rows(raw_lines: list[str]) -> list[str]:
    """Join the rows a terminal or a mail client broke, in psql's aligned output.

    psql starts every row of the cell with a space, so there a row starting in column 0 that
    is not psql's own (a rule, a footer, a prompt, ``Time:``) is the rest of the row above,
    broken at the width of a window ("...0.532 " + "rows=0 loops=1)"). It is joined back as
    it was. A rest that starts with a space is joined later, by `rejoin_broken_lines`, when
    the row above left a bracket open.
    """
    if len(raw_lines) < 3 or not any(raw.strip().startswith("QUERY PL") for raw in raw_lines):
        return raw_lines  # no psql header (whole or broken): not psql's aligned output
    filled = [raw for raw in raw_lines if raw.strip()]
    aligned = sum(1 for raw in filled if raw.startswith(" "))
    if aligned * 5 < len(filled) * 3 or aligned == len(filled):
        return raw_lines  # not aligned output, or nothing in column 0
    out: list[str] = []
    for raw in raw_lines:
        if (
            out
            and out[-1].startswith(" ")
            and out[-1].strip()
            and raw[:1].strip()
            and not _ends_output(raw)
            and not _RULE.match(raw)
        ):
            out[-1] += raw
        else:
            out.append(raw)
    return out


# A psql command tag printed after a statement: "SET", "INSERT 0 1", "CREATE TABLE"
_COMMAND_TAG = re.compile(r"^[A-Z]+(?: [A-Z]+)*(?: \d+)*$")


def _ends_output(raw: str) -> bool:
    """A line psql prints between results: never the rest of a broken row."""
    return bool(
        _FOOTER.match(raw)
        or _TIMING.match(raw)
        or _PROMPT.match(raw)
        or _ECHO.match(raw)
        or _COMMAND_TAG.match(raw.rstrip())
    )


# A node's figures never start a line: they follow its name, on the line a window broke
_FIGURES_FIRST = ("(cost=", "(actual ", "(never executed)")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def rejoin_broken_lines(lines: list[Line]) -> list[Line]:
    """Join the lines a terminal or mail client broke at a fixed width.

    The reader calls it only when a first reading found lines it could not place (checking
    every line up front would cost every clean plan its share); returns ``lines`` itself when
    nothing was joined.

    A plan line's brackets balance, and no line ends inside a list: a line with an unclosed
    ``(`` (quoted text aside) or ending in ``,`` continues on the next line, unless that one is
    a node (``->``) or a statement marker. Joined, the two read as the one line they were.
    """
    broken = [
        i
        for i, line in enumerate(lines)
        if line.text.count("(") > line.text.count(")")
        or line.text.endswith(",")
        or line.text.startswith(_FIGURES_FIRST)
        or (line.text.startswith("->") and not _has_figures(line.text))
    ]
    if not broken:
        return lines
    out: list[Line] = []
    for line in lines:
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.text != BREAK
            and line.text != BREAK
            and not line.text.startswith("->")
            and (
                _continues(previous.text)
                or line.text.startswith(_FIGURES_FIRST)
                or (
                    previous.text.startswith("->")
                    and not _has_figures(previous.text)
                    and _has_figures(line.text)
                )
            )
        ):
            joined = previous.text + " " * line.column + line.text
            out[-1] = Line(previous.number, previous.column, joined)
            continue
        out.append(line)
    return out


def _has_figures(text: str) -> bool:
    return "(cost=" in text or "(actual " in text or "(never executed)" in text


def _continues(text: str) -> bool:
    """True when a line was cut: an unclosed bracket outside quotes, or a trailing comma."""
    if text.endswith(","):
        return True
    if text.count("(") <= text.count(")"):
        return False
    bare = _QUOTED.sub("", text)
    return bare.count("(") > bare.count(")")


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
        if _HEADER.match(line) or _FOOTER.match(line):
            skipping = False
            out.append(Line(number, 0, BREAK))
            continue
        if _RULE.match(line) or _TIMING.match(line):
            continue
        if _PROMPT.match(line):
            skipping = not _NODE_START.match(line[_PROMPT.match(line).end() :])  # type: ignore[union-attr]
            out.append(Line(number, 0, BREAK))
            continue
        if not in_log and _ECHO.match(line) and not _NODE_START.match(line):
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
