"""What `summarize_log` returns: query groups ranked by total time, and how the reading went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planalyzer.logs.entry import LogEntry, Malformed
from planalyzer.rules.finding import Severity

__all__ = ["LogSummary", "MergedProblem", "PlanShape", "QueryGroup"]


@dataclass(frozen=True, slots=True)
class MergedProblem:
    """One problem as it showed in a group's plans: same rule at the same place in the plan.

    Attributes:
        rule: the headline finding's rule id.
        node_path: where in the plan, as node labels from the root (``Aggregate > Seq Scan on
            t``), or ``(statement)`` for statement-level findings.
        plans: how many of the group's plans showed it.
        severity: the highest severity it had.
        impact_ms_total: the time it explained, summed over those plans.
        impact_ms_max: the most it explained in one plan.
        message: the finding's message from the plan where it explained the most.
        suggestion: what to do, from the same plan.
    """

    rule: str
    node_path: str
    plans: int
    severity: Severity
    impact_ms_total: float
    impact_ms_max: float
    message: str
    suggestion: str | None


@dataclass(frozen=True, slots=True)
class PlanShape:
    """One distinct plan shape of a group (see `planalyzer.logs.shape`).

    Attributes:
        digest: 16 hex digits identifying the shape.
        outline: the first nodes, pre-order, depth shown as ``>``.
        count: entries with this shape.
        total_ms: their summed duration.
        first_seen / last_seen: timestamps of the first and last entry with it (None when the
            log has no timestamps).
        first_source / last_source: their ``file:line``.
    """

    digest: str
    outline: str
    count: int
    total_ms: float
    first_seen: datetime | None
    last_seen: datetime | None
    first_source: str
    last_source: str

    @property
    def mean_ms(self) -> float:
        """Mean duration of the entries with this shape."""
        return self.total_ms / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class QueryGroup:
    """All entries of one query (one fingerprint), with aggregates over their durations.

    Attributes:
        fingerprint: the group key (see `planalyzer.logs.fingerprint`).
        query: the normalised statement text (constants as ``$n``).
        count / total_ms / mean_ms / min_ms / max_ms: over every entry, exact.
        p50_ms / p95_ms / p99_ms: from the group's reservoir; exact up to its size, else
            within the error documented in `planalyzer.logs.reservoir`.
        worst: the slowest entry, with its plan.
        problems: the diagnosis of the group's plans, merged, most widespread first.
        plan_shapes: distinct plan shapes, most frequent first; more than one means the plan
            changed.
        query_ids: the server query identifiers seen, when entries carried them.
        other_shapes / other_problems: entries beyond the per-group caps, only counted.
    """

    fingerprint: str
    query: str
    count: int
    total_ms: float
    min_ms: float
    max_ms: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    worst: LogEntry
    problems: tuple[MergedProblem, ...]
    plan_shapes: tuple[PlanShape, ...]
    query_ids: tuple[int, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    other_shapes: int = 0
    other_problems: int = 0

    @property
    def mean_ms(self) -> float:
        """Mean duration."""
        return self.total_ms / self.count if self.count else 0.0

    @property
    def plan_changed(self) -> bool:
        """True when the group's entries had more than one plan shape."""
        return len(self.plan_shapes) + self.other_shapes > 1


@dataclass(frozen=True, slots=True)
class LogSummary:
    """The summary of some server logs: query groups ranked by total time, most first.

    Attributes:
        groups: the query groups (all, or the top N asked for), ranked by ``total_ms``.
        group_count: how many groups there were before keeping the top N.
        files / lines / bytes: how much log was read.
        entries: auto_explain entries read.
        total_ms: their summed duration.
        malformed: the first malformed entries (``file:line`` and reason).
        malformed_count: all malformed entries.
        engine: ``local`` or ``dask``.
        partitions: how many pieces the input was read in.
    """

    groups: tuple[QueryGroup, ...]
    group_count: int
    files: int
    lines: int
    bytes: int
    entries: int
    total_ms: float
    malformed: tuple[Malformed, ...]
    malformed_count: int
    engine: str = "local"
    partitions: int = 1

    def __str__(self) -> str:
        from planalyzer.display.logs import render_log_summary

        return render_log_summary(self)

    def _repr_html_(self) -> str:
        from planalyzer.display.logs import render_log_summary_html

        return render_log_summary_html(self)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """Text and HTML for Jupyter, honouring ``include``/``exclude``."""
        from planalyzer.display.html import mimebundle

        return mimebundle(self, str(self), self._repr_html_, include=include, exclude=exclude)

    def to_dict(self, *, plans: bool = False) -> dict[str, Any]:
        """Plain data for JSON: every figure; the worst entries' plans when ``plans``."""
        from planalyzer.logs._export import summary_to_dict

        return summary_to_dict(self, plans=plans)
