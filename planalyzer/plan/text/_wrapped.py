"""Lines an export or a window wrapped or broke, put back as EXPLAIN printed them.

Two kinds: every row wrapped alike by the tool that copied it (DBeaver's right-hand border,
pgAdmin's quotes, a CSV cell's closing quote), and rows broken at the width of a terminal or a
mail client. The first is undone up front, from the look of the whole text; the second in
psql's aligned output up front too (a row there never starts in column 0), and elsewhere only
when a first reading left lines it could not place (`rejoin_broken_lines`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from planalyzer.plan.text._lines import BREAK, Line
from planalyzer.plan.text._psql import COMMAND_TAG, ECHO, FOOTER, PROMPT, RULE, TIMING

__all__ = [
    "may_be_wrapped_in_quotes_or_border",
    "rejoin_broken_lines",
    "unwrap_aligned_rows",
    "without_line_wrappers",
]


def may_be_wrapped_in_quotes_or_border(text: str) -> bool:
    """Cheap test: do most lines end with ``|``, ``'`` or ``"`` (an export's wrapping)?

    Judged on the first 64 kB: an export wraps every line alike.
    """
    sample = text[:65536]
    lines = sample.count("\n") + 1 - sample.count("\n\n")
    ends = max(sample.count(end + "\n") for end in ("|", "'", '"')) + 1
    return ends * 2 >= lines


def without_line_wrappers(raw_lines: list[str]) -> list[str]:
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


def unwrap_aligned_rows(raw_lines: list[str]) -> list[str]:
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
            and not RULE.match(raw)
        ):
            out[-1] += raw
        else:
            out.append(raw)
    return out


def _ends_output(raw: str) -> bool:
    """A line psql prints between results: never the rest of a broken row."""
    return bool(
        FOOTER.match(raw)
        or TIMING.match(raw)
        or PROMPT.match(raw)
        or ECHO.match(raw)
        or COMMAND_TAG.match(raw.rstrip())
    )


# How a node's figures start; never at the start of a line (they follow the node's name)
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
    out: list[Line] = []
    joined_any = False
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
            joined_any = True
            continue
        out.append(line)
    return out if joined_any else lines


def _has_figures(text: str) -> bool:
    return any(figures in text for figures in _FIGURES_FIRST)


def _continues(text: str) -> bool:
    """True when a line was cut: an unclosed bracket outside quotes, or a trailing comma."""
    if text.endswith(","):
        return True
    if text.count("(") <= text.count(")"):
        return False
    bare = _QUOTED.sub("", text)
    return bare.count("(") > bare.count(")")
