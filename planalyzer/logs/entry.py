"""`LogEntry` (one auto_explain plan read from a log) and `Malformed` (one that could not be)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from planalyzer.plan.model import Plan

__all__ = ["LogEntry", "Malformed"]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One statement's plan as auto_explain logged it.

    Attributes:
        source: ``file:line`` of the log line the entry starts on.
        logged_at: when the server wrote the entry (timezone-aware when the log says UTC or
            gives an offset), or None when the line prefix carries no timestamp.
        duration_ms: the statement's duration as auto_explain measured it.
        query: the statement text as logged (``Query Text``).
        plan: the parsed plan.
        plan_format: ``"json"`` or ``"text"``, as ``auto_explain.log_format`` wrote it.
        query_id: the server's query identifier when the entry carries one (jsonlog/csvlog
            ``query_id``, or ``Query Identifier`` with ``auto_explain.log_verbose``), else None.
        database: the database name when the log format records it (csvlog, jsonlog).
        user: the role name when the log format records it.
        pid: the backend's process id when known.
    """

    source: str
    logged_at: datetime | None
    duration_ms: float
    query: str
    plan: Plan
    plan_format: str
    query_id: int | None = None
    database: str | None = None
    user: str | None = None
    pid: int | None = None

    def __str__(self) -> str:
        when = self.logged_at.isoformat(sep=" ") if self.logged_at else "?"
        first = " ".join(self.query.split())[:80]
        return f"{self.source} {when} {self.duration_ms:.3f} ms  {first}"


@dataclass(frozen=True, slots=True)
class Malformed:
    """An auto_explain entry that was found but could not be read, and why.

    Attributes:
        source: ``file:line`` where the entry starts.
        reason: what was wrong (truncated plan, invalid JSON, cut by another line, ...).
    """

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"
