"""Cut auto_explain entries out of the three server log formats.

Each reader walks the lines of one `Chunk` and yields a `Candidate` for every record that is
an auto_explain entry (``duration: … ms  plan:``), or a `Broken` one when such a record is
unreadable; every other record is only counted. The plan body is not parsed here.

- ``stderr`` (any ``log_line_prefix``): the server starts each record on a new line and
  indents every further line of a message with a tab, so a record is a line not starting with
  a tab plus the tab lines after it. The severity word and two spaces (``LOG:  ``) mark where
  the prefix ends; a timestamp anywhere in the prefix is taken as the entry's time.
- ``csvlog``: a record starts with a timestamp at the start of a line and ends at the first
  line end outside double quotes; fields are split by the RFC 4180 rules the server writes.
- ``jsonlog`` (PostgreSQL 15+): one JSON object per line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from planalyzer.logs._source import Chunk, Line, lines_of

__all__ = ["FORMATS", "Broken", "Candidate", "Counts", "parse_timestamp", "records", "sniff"]

FORMATS = ("stderr", "csvlog", "jsonlog")

# auto_explain writes "duration: %.3f ms  plan:\n<plan>" at auto_explain.log_level (LOG by
# default; DEBUG1-5, INFO, NOTICE and WARNING are allowed) — contrib/auto_explain.c.
_STDERR_HEAD = re.compile(
    r"(?:LOG|INFO|NOTICE|WARNING|DEBUG[1-5]?):  duration: (\d+(?:\.\d+)?) ms  plan:$"
)
_MESSAGE_HEAD = re.compile(r"duration: (\d+(?:\.\d+)?) ms  plan:\n")
_CSV_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z0-9+:-]+)?,")
_CSV_FIELD = re.compile(r'"([^"]*(?:""[^"]*)*)"|([^,"]*)')
_TIMESTAMP = re.compile(
    r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?)(?: ?(UTC|GMT|Z|[+-]\d\d(?::?\d\d)?)\b)?"
)
# csvlog column positions (PostgreSQL 14+ adds query_id last; older servers stop earlier).
_CSV_USER, _CSV_DB, _CSV_PID, _CSV_MESSAGE, _CSV_QUERY_ID = 1, 2, 3, 13, 25


@dataclass(slots=True)
class Counts:
    """What a reader saw besides the entries: lines and records of the chunk it owns."""

    lines: int = 0
    records: int = 0
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """An auto_explain record: its first line, duration, plan body and what the format adds."""

    line: int
    duration_ms: float
    body: str
    timestamp: str | None = None
    query_id: int | None = None
    database: str | None = None
    user: str | None = None
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class Broken:
    """An auto_explain record that cannot be read, and why."""

    line: int
    reason: str


@dataclass(slots=True)
class _Pending:
    line: int
    duration_ms: float
    timestamp: str | None
    parts: list[str] = field(default_factory=list)
    size: int = 0
    too_big: bool = False


def sniff(first_line: str) -> str:
    """Guess a log's format from its first non-empty line.

    Example:
        >>> sniff('{"timestamp":"2024-01-01 00:00:00.000 UTC","message":"x"}')
        'jsonlog'
        >>> sniff('2024-01-01 00:00:00.000 UTC,"postgres","db",42,...')
        'csvlog'
        >>> sniff('2024-01-01 00:00:00.000 UTC [42] LOG:  checkpoint starting')
        'stderr'
    """
    text = first_line.lstrip("\ufeff")
    if text.startswith("{"):
        return "jsonlog"
    if _CSV_START.match(text):
        return "csvlog"
    return "stderr"


def _format_of(chunk: Chunk) -> str:
    name = chunk.path.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "csvlog"
    if name.endswith(".json"):
        return "jsonlog"
    for line in lines_of(Chunk(chunk.path)):
        if line.text.strip():
            return sniff(line.text)
    return "stderr"


def records(
    chunk: Chunk, counts: Counts, *, log_format: str = "auto", max_entry_bytes: int
) -> Iterator[Candidate | Broken]:
    """Yield the auto_explain records of a chunk, counting every line and record it owns."""
    fmt = _format_of(chunk) if log_format == "auto" else log_format
    lines = _owned(lines_of(chunk), chunk.end, counts)
    if fmt == "stderr":
        return _stderr(lines, chunk.end, counts, max_entry_bytes)
    if fmt == "csvlog":
        return _csvlog(lines, chunk.end, counts, max_entry_bytes)
    return _jsonlog(lines, chunk.end, counts)


def _owned(lines: Iterator[Line], end: int | None, counts: Counts) -> Iterator[Line]:
    """Pass lines through, counting those that start inside the chunk."""
    for line in lines:
        if end is None or line.offset < end:
            counts.lines += 1
            counts.bytes += line.size
        yield line


def _past(line: Line, end: int | None) -> bool:
    return end is not None and line.offset >= end


def _finish(p: _Pending, max_bytes: int) -> Candidate | Broken:
    if p.too_big:
        return Broken(p.line, f"entry larger than the {max_bytes}-byte limit; skipped")
    return Candidate(p.line, p.duration_ms, "\n".join(p.parts), timestamp=p.timestamp)


def _stderr(
    lines: Iterator[Line], end: int | None, counts: Counts, max_bytes: int
) -> Iterator[Candidate | Broken]:
    pending: _Pending | None = None
    for line in lines:
        text = line.text
        if text.startswith("\t"):
            if pending is not None and not pending.too_big:
                pending.parts.append(text[1:])
                pending.size += len(text)
                pending.too_big = pending.size > max_bytes
            continue
        if _past(line, end):
            break
        if pending is not None:
            yield _finish(pending, max_bytes)
            pending = None
        counts.records += 1
        match = _STDERR_HEAD.search(text)
        if match is not None:
            stamp = _TIMESTAMP.search(text, 0, match.start())
            pending = _Pending(line.number, float(match.group(1)), stamp and stamp.group(0))
    if pending is not None:
        yield _finish(pending, max_bytes)


def _from_message(
    line: int,
    message: str,
    timestamp: str | None,
    *,
    query_id: int | None,
    database: str | None,
    user: str | None,
    pid: int | None,
) -> Candidate | None:
    head = _MESSAGE_HEAD.match(message)
    if head is None:
        return None
    body = message[head.end() :]
    return Candidate(line, float(head.group(1)), body, timestamp, query_id, database, user, pid)


def _csv_fields(record: str) -> list[str] | None:
    """Split one csvlog record into fields; None when the quoting is broken."""
    fields, pos, size = [], 0, len(record)
    while True:
        match = _CSV_FIELD.match(record, pos)
        if match is None:
            return None
        quoted = match.group(1)
        fields.append(quoted.replace('""', '"') if quoted is not None else match.group(2))
        pos = match.end()
        if pos >= size:
            return fields
        if record[pos] != ",":
            return None
        pos += 1


def _csv_candidate(number: int, parts: list[str]) -> Candidate | Broken | None:
    if "ms  plan:" not in parts[0]:
        return None
    fields = _csv_fields("\n".join(parts))
    if fields is None or len(fields) <= _CSV_MESSAGE:
        return Broken(number, "csvlog record with broken quoting or missing fields")
    query_id = fields[_CSV_QUERY_ID] if len(fields) > _CSV_QUERY_ID else ""
    return _from_message(
        number,
        fields[_CSV_MESSAGE],
        fields[0] or None,
        query_id=int(query_id) if query_id.lstrip("-").isdigit() and query_id != "0" else None,
        database=fields[_CSV_DB] or None,
        user=fields[_CSV_USER] or None,
        pid=int(fields[_CSV_PID]) if fields[_CSV_PID].isdigit() else None,
    )


def _csvlog(
    lines: Iterator[Line], end: int | None, counts: Counts, max_bytes: int
) -> Iterator[Candidate | Broken]:
    parts: list[str] | None = None
    number = quotes = size = 0
    for line in lines:
        text = line.text
        if parts is None:
            if not _CSV_START.match(text):
                continue  # the tail of the previous chunk's record, or a stray line
            if _past(line, end):
                break
            counts.records += 1
            parts, number, quotes, size = [], line.number, 0, 0
        parts.append(text)
        quotes += text.count('"')
        size += len(text)
        if quotes % 2 == 0:
            found = _csv_candidate(number, parts)
            if found is not None:
                yield found
            parts = None
        elif size > max_bytes:
            if "ms  plan:" in parts[0]:
                yield Broken(number, f"entry larger than the {max_bytes}-byte limit; skipped")
            parts = None
    if parts is not None and "ms  plan:" in parts[0]:
        yield Broken(number, "entry cut off at the end of the file (unterminated quoted field)")


def _jsonlog(
    lines: Iterator[Line], end: int | None, counts: Counts
) -> Iterator[Candidate | Broken]:
    for line in lines:
        if _past(line, end):
            break
        counts.records += 1
        text = line.text
        if '"duration: ' not in text or " ms  plan:" not in text:
            continue
        try:
            record = json.loads(text)
            message = record["message"]
        except (ValueError, KeyError, TypeError) as err:
            yield Broken(line.number, f"jsonlog line is not a complete JSON record: {err}")
            continue
        query_id = record.get("query_id")
        pid = record.get("pid")
        found = _from_message(
            line.number,
            str(message),
            record.get("timestamp"),
            query_id=query_id if isinstance(query_id, int) and query_id != 0 else None,
            database=record.get("dbname"),
            user=record.get("user"),
            pid=pid if isinstance(pid, int) else None,
        )
        if found is not None:
            yield found


def parse_timestamp(text: str | None) -> datetime | None:
    """Read a log timestamp; aware for ``UTC``/``GMT``/numeric offsets, naive for other zones.

    Example:
        >>> parse_timestamp("2024-03-01 10:00:00.250 UTC").isoformat()
        '2024-03-01T10:00:00.250000+00:00'
        >>> parse_timestamp("2024-03-01 10:00:00 CET").isoformat()
        '2024-03-01T10:00:00'
    """
    if not text:
        return None
    match = _TIMESTAMP.search(text)
    if match is None:
        return None
    try:
        when = datetime.fromisoformat(f"{match.group(1)} {match.group(2)}")
    except ValueError:
        return None
    zone = match.group(3)
    if zone in ("UTC", "GMT", "Z"):
        return when.replace(tzinfo=UTC)
    if zone:
        digits = zone[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return when.replace(tzinfo=timezone(-delta if zone[0] == "-" else delta))
    return when
