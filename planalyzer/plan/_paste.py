r"""Undo the framing people paste plans with, leaving the JSON text.

Handles what psql and other clients wrap around a one-cell ``QUERY PLAN`` result: the aligned
format's header, dashes, ``+`` continuation marks and ``(1 row)`` footer; unaligned output
(``psql -A``); Unicode box-drawing borders with ``↵`` newline marks (``\pset linestyle
unicode``, pgcli); a CSV cell in double quotes with doubled inner quotes; and a leading ``EXPLAIN``
statement echoed by ``psql -e``. Line numbers are kept where possible so that JSON errors
still point at the user's line.
"""

from __future__ import annotations

import re

# psql's footer and prompt are the text reader's patterns (its framing undoes the same client)
from planalyzer.plan.text._psql import FOOTER, PROMPT

__all__ = ["salvage_note", "statement_without_plan", "unframe"]

_HEADER = re.compile(r"^\s*[│║|]?\s*QUERY PLAN\s*[│║|]?\s*$")
# any psql linestyle: ASCII, and the Unicode box-drawing block (single and double lines)
_RULE = re.compile(r"^\s*[-+|=\u2500-\u257f]+\s*$")
_ECHO = re.compile(r"^\s*EXPLAIN\b.*$", re.IGNORECASE)
# What a psql session prints around a result besides prompts: "\timing" lines, and the
# messages of backslash commands such as \x.
_TIMING = re.compile(r"^\s*[^\W\d_]+ ?: [\d.,]+ ms( \([^)]*\))?\s*$")  # "Time:", "Temps :"
_PSQL_NOTE = re.compile(
    r"^(Expanded display is (on|off|used automatically)\.|Timing is (on|off)\.)$"
)
# psql's expanded (\x) output: a record header, then "column | value" lines, the column name
# blank on continuation lines.
_RECORD = re.compile(r"^\s*[-─]\[ RECORD \d+ \][-─+┬]*\s*$")
_EXPANDED_CELL = re.compile(r"^\s*(?:QUERY PLAN)?\s*[|│] ?(.*)$")
_SQL = re.compile(
    r"^\s*(?:explain\b.*?\b)?(?:select|with|insert|update|delete|merge|values|table)\b",
    re.IGNORECASE | re.DOTALL,
)
_LOG_PLAN_PREFIX = re.compile(r"plan:\s*$")


def statement_without_plan(text: str) -> str | None:
    """What to run, when the input is a SQL statement rather than the output of EXPLAIN."""
    if not _SQL.match(text) or "(cost=" in text or '"Node Type"' in text:
        return None
    statement = re.sub(r"^\s*explain\s*(\([^)]*\))?\s*(analy[sz]e\s+)?", "", text, flags=re.I)
    first = statement.strip().splitlines()[0] if statement.strip() else ""
    return (
        "this is a SQL statement, not its plan; run EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
        f"{first[:60]}{'...' if len(first) > 60 else ''} and pass its output (the default "
        "text format works too)"
    )


def salvage_note(text: str, start: int, end: int, *, later: object) -> str | None:
    """The warning for a plan read out of surrounding text, or None for a known form.

    auto_explain's log entries (``... plan:`` then the JSON) are a known form and need no note.
    Anything else was salvaged: the plan is kept only when it is the only one, and the note
    says what was left out.

    Raises:
        PlanParseError: more than one plan was found, so which one was meant is ambiguous.
    """
    from planalyzer.errors import PlanParseError

    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    if later is not None:
        raise PlanParseError(
            f"line {line}, column {column}",
            "the input is not valid JSON and holds more than one plan; fix the JSON, or pass "
            "each plan on its own",
        )
    before, after = text[:start].strip(), text[end:].strip()
    if _LOG_PLAN_PREFIX.search(before) and not after:
        return None
    ignored = " and ".join(
        f"{where} {part[:40]!r}{'...' if len(part) > 40 else ''}"
        for where, part in (("before it", before[-40:] if before else ""), ("after it", after))
        if part
    )
    return (
        f"The input was not valid JSON: the plan was read from the JSON value at line {line}, "
        f"column {column}, ignoring the text {ignored}."
    )


def unframe(text: str) -> str:
    """Strip client framing around a JSON plan; return text with the same number of lines."""
    lines = [_session_line(line) for line in text.splitlines()]
    if any(_RECORD.match(line) for line in lines):
        lines = _unexpand(lines)
    # Lines above the "QUERY PLAN" header (psql's \pset messages, an echoed multi-line EXPLAIN)
    # are never part of the cell; blank them, keeping the line count.
    header = next((i for i, line in enumerate(lines) if _HEADER.match(line)), None)
    if header is not None:
        lines = [""] * (header + 1) + lines[header + 1 :]
    stripped = "\n".join(lines).strip()
    if stripped.startswith('"') and stripped.endswith('"') and '""' in stripped:
        # a CSV cell (psql --csv): outer quotes, inner quotes doubled
        return "\n" * (header + 1 if header is not None else 0) + stripped[1:-1].replace('""', '"')
    out: list[str] = []
    for line in lines:
        if _HEADER.match(line) or _RULE.match(line) or FOOTER.match(line):
            out.append("")
            continue
        if _ECHO.match(line) and "{" not in line and "[" not in line:
            out.append("")
            continue
        out.append(_strip_cell(line))
    return "\n".join(out)


def _strip_cell(line: str) -> str:
    """One line of a table cell: drop borders and continuation marks."""
    body = line.rstrip()
    for border in ("│", "║", "|"):
        if body.lstrip().startswith(border) and body.endswith(border):
            body = body.lstrip()[1:-1]
            break
    body = body.rstrip()
    # psql aligned: "+" continuation; unicode linestyle: "↵"; wrapped: "…". No JSON line can
    # end in these outside a string, and JSON strings cannot span lines.
    for mark in ("+", "↵", "…"):
        if body.endswith(mark):
            body = body[: -len(mark)].rstrip()
            break
    if body.startswith(" "):
        body = body[1:]
    return body


def _session_line(line: str) -> str:
    """Blank what a psql session adds between results: timing, prompts, psql's notes."""
    if _TIMING.match(line) or _PSQL_NOTE.match(line.strip()):
        return ""
    if PROMPT.match(line) and not line.lstrip().startswith(("{", "[", '"')):
        return ""
    return line


def _unexpand(lines: list[str]) -> list[str]:
    """Expanded output back to the aligned cell's lines: the value of each ``| value`` line."""
    out: list[str] = []
    for line in lines:
        if _RECORD.match(line):
            out.append("")
            continue
        cell = _EXPANDED_CELL.match(line)
        out.append(" " + cell.group(1) if cell else line)
    return out
