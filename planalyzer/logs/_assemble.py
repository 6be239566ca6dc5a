"""Turn an auto_explain record's body into a `LogEntry`, or say why it is `Malformed`.

The body is what follows ``duration: … ms  plan:``: a JSON object with ``Query Text`` and
``Plan`` (``auto_explain.log_format = json``), or ``Query Text: …`` followed by the text-format
plan (``text``, the default). In text the statement may span several lines; the plan starts at
the first line that begins at column 0 with a node and its ``(cost=…)`` — auto_explain always
prints costs.
"""

from __future__ import annotations

import re

from planalyzer.errors import PlanParseError
from planalyzer.logs._records import Broken, Candidate, parse_timestamp
from planalyzer.logs.entry import LogEntry, Malformed
from planalyzer.plan.parse import parse

__all__ = ["assemble"]

_TEXT_ROOT = re.compile(r"\S.*\(cost=\d")
_QUERY_TEXT = "Query Text: "
_STATEMENT_KEYS = ("Query Parameters: ",)  # lines between the statement and the plan (PG 16)


def assemble(found: Candidate | Broken, path: str) -> LogEntry | Malformed:
    """Build the entry of one record; every failure becomes a `Malformed` with ``file:line``."""
    source = f"{path}:{found.line}"
    if isinstance(found, Broken):
        return Malformed(source, found.reason)
    body = found.body.strip()
    if not body:
        return Malformed(source, "auto_explain entry without a plan (cut off after its first line)")
    try:
        if body.startswith("{"):
            plan = parse(body)
            query, plan_format = plan.query_text or "", "json"
        else:
            query, plan_text = _split_text(body)
            plan, plan_format = parse(plan_text), "text"
    except PlanParseError as err:
        return Malformed(source, f"plan does not parse: {_first_line(str(err))}")
    except _TextShapeError as err:
        return Malformed(source, str(err))
    query_id = found.query_id if found.query_id is not None else plan.query_identifier
    return LogEntry(
        source=source,
        logged_at=parse_timestamp(found.timestamp),
        duration_ms=found.duration_ms,
        query=query,
        plan=plan,
        plan_format=plan_format,
        query_id=query_id or None,
        database=found.database,
        user=found.user,
        pid=found.pid,
    )


class _TextShapeError(ValueError):
    pass


def _split_text(body: str) -> tuple[str, str]:
    """Split a text-format body into the statement and the plan text."""
    lines = body.split("\n")
    if not lines[0].startswith(_QUERY_TEXT):
        if lines[0].startswith("<"):
            raise _TextShapeError("auto_explain.log_format xml/yaml is not read; use json or text")
        raise _TextShapeError("text-format entry does not start with 'Query Text:'")
    for index in range(1, len(lines)):
        line = lines[index]
        if _TEXT_ROOT.match(line) and not line.startswith(_STATEMENT_KEYS):
            query_lines = [lines[0][len(_QUERY_TEXT) :], *lines[1:index]]
            query_lines = [q for q in query_lines if not q.startswith(_STATEMENT_KEYS)]
            return "\n".join(query_lines), "\n".join(lines[index:])
    raise _TextShapeError("text-format entry has no plan after its statement (cut off?)")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
