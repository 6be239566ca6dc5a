"""`LogSummary.to_dict()`: the summary as plain JSON-ready data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from planalyzer.logs.entry import LogEntry
from planalyzer.logs.summary import LogSummary, QueryGroup

__all__ = ["summary_to_dict"]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _entry(entry: LogEntry, *, plans: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source": entry.source,
        "logged_at": _when(entry.logged_at),
        "duration_ms": entry.duration_ms,
        "query": entry.query,
        "query_id": entry.query_id,
        "database": entry.database,
        "user": entry.user,
    }
    if plans:
        out["plan"] = entry.plan.to_json()
    return out


def _group(group: QueryGroup, rank: int, *, plans: bool) -> dict[str, Any]:
    return {
        "rank": rank,
        "fingerprint": group.fingerprint,
        "query": group.query,
        "count": group.count,
        "total_ms": group.total_ms,
        "mean_ms": group.mean_ms,
        "min_ms": group.min_ms,
        "max_ms": group.max_ms,
        "p50_ms": group.p50_ms,
        "p95_ms": group.p95_ms,
        "p99_ms": group.p99_ms,
        "query_ids": list(group.query_ids),
        "first_seen": _when(group.first_seen),
        "last_seen": _when(group.last_seen),
        "plan_changed": group.plan_changed,
        "worst": _entry(group.worst, plans=plans),
        "problems": [
            {
                "rule": p.rule,
                "node_path": p.node_path,
                "plans": p.plans,
                "severity": p.severity.value,
                "impact_ms_total": p.impact_ms_total,
                "impact_ms_max": p.impact_ms_max,
                "message": p.message,
                "suggestion": p.suggestion,
            }
            for p in group.problems
        ],
        "plan_shapes": [
            {
                "digest": s.digest,
                "outline": s.outline,
                "count": s.count,
                "total_ms": s.total_ms,
                "mean_ms": s.mean_ms,
                "first_seen": _when(s.first_seen),
                "last_seen": _when(s.last_seen),
                "first_source": s.first_source,
                "last_source": s.last_source,
            }
            for s in group.plan_shapes
        ],
    }


def summary_to_dict(summary: LogSummary, *, plans: bool = False) -> dict[str, Any]:
    """Every figure of the summary; the worst entries' plans as EXPLAIN JSON when ``plans``."""
    return {
        "engine": summary.engine,
        "partitions": summary.partitions,
        "files": summary.files,
        "lines": summary.lines,
        "bytes": summary.bytes,
        "entries": summary.entries,
        "total_ms": summary.total_ms,
        "group_count": summary.group_count,
        "malformed_count": summary.malformed_count,
        "malformed": [{"source": m.source, "reason": m.reason} for m in summary.malformed],
        "groups": [_group(g, rank, plans=plans) for rank, g in enumerate(summary.groups, start=1)],
    }
