"""Partial summaries: what a pass over some entries keeps, and how two of them merge.

Everything here is bounded per group (aggregates, one reservoir, the worst entry, at most
`MAX_SHAPES` shapes and `MAX_PROBLEMS` problems), so memory grows with the number of distinct
queries, never with the size of the log. Merging is exact for every figure but the reservoir
sample, and ties are broken by log position, so the order in which partial summaries are
merged does not change the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planalyzer.logs._records import Counts
from planalyzer.logs.entry import LogEntry, Malformed
from planalyzer.logs.fingerprint import group_key, normalized_text
from planalyzer.logs.reservoir import Reservoir
from planalyzer.logs.shape import plan_shape
from planalyzer.logs.summary import LogSummary, MergedProblem, PlanShape, QueryGroup
from planalyzer.plan.model import Plan, PlanNode
from planalyzer.plan.shape import node_label
from planalyzer.rules.config import RuleConfig
from planalyzer.rules.finding import Severity
from planalyzer.rules.report import analyze

__all__ = ["MAX_PROBLEMS", "MAX_SHAPES", "SummaryAcc"]

MAX_SHAPES = 50
MAX_PROBLEMS = 50
_MALFORMED_KEPT = 100
_QUERY_IDS_KEPT = 8

# An entry's place in the logs, for deterministic tie-breaks: time, then file and line.
Position = tuple[str, str, int]


def _position(entry: LogEntry) -> Position:
    path, _, line = entry.source.rpartition(":")
    when = entry.logged_at.isoformat() if entry.logged_at else ""
    return (when, path, int(line))


@dataclass(slots=True)
class _ShapeAcc:
    outline: str
    count: int
    total_ms: float
    first: Position
    last: Position
    first_entry: LogEntry
    last_entry: LogEntry

    def merge(self, other: _ShapeAcc) -> None:
        self.count += other.count
        self.total_ms += other.total_ms
        if other.first < self.first:
            self.first, self.first_entry = other.first, other.first_entry
        if other.last > self.last:
            self.last, self.last_entry = other.last, other.last_entry


@dataclass(slots=True)
class _ProblemAcc:
    plans: int
    severity: Severity
    impact_total: float
    impact_max: float
    message: str
    suggestion: str | None
    best: tuple[float, Position]  # (impact, position) of the plan the message comes from

    def merge(self, other: _ProblemAcc) -> None:
        self.plans += other.plans
        self.impact_total += other.impact_total
        self.impact_max = max(self.impact_max, other.impact_max)
        if other.severity.rank > self.severity.rank:
            self.severity = other.severity
        # Largest impact wins; among equals the earliest in the log.
        (impact, where), (mine, my_where) = other.best, self.best
        if impact > mine or (impact == mine and where < my_where):
            self.message, self.suggestion, self.best = (
                other.message,
                other.suggestion,
                other.best,
            )


@dataclass(slots=True)
class _GroupAcc:
    key: str
    query: str
    query_position: Position
    count: int = 0
    total_ms: float = 0.0
    min_ms: float = float("inf")
    max_ms: float = float("-inf")
    reservoir: Reservoir | None = None
    worst: LogEntry | None = None
    worst_position: Position = ("", "", 0)
    first: Position | None = None
    last: Position | None = None
    first_entry: LogEntry | None = None
    last_entry: LogEntry | None = None
    shapes: dict[str, _ShapeAcc] = field(default_factory=dict)
    other_shapes: int = 0
    problems: dict[tuple[str, str], _ProblemAcc] = field(default_factory=dict)
    other_problems: int = 0
    query_ids: list[int] = field(default_factory=list)

    def add(self, entry: LogEntry, position: Position, config: RuleConfig | None) -> None:
        single = _GroupAcc(self.key, self.query, position)
        single.count = 1
        single.total_ms = single.min_ms = single.max_ms = entry.duration_ms
        single.worst, single.worst_position = entry, position
        single.first = single.last = position
        single.first_entry = single.last_entry = entry
        digest, outline = plan_shape(entry.plan)
        single.shapes[digest] = _ShapeAcc(
            outline, 1, entry.duration_ms, position, position, entry, entry
        )
        single.problems = _problems_of(entry.plan, position, config)
        if entry.query_id is not None:
            single.query_ids.append(entry.query_id)
        self.merge(single, sample=[entry.duration_ms])

    def merge(self, other: _GroupAcc, sample: list[float] | None = None) -> None:
        if self.reservoir is None:
            self.reservoir = Reservoir(self.key)
        if sample is not None:
            for value in sample:
                self.reservoir.add(value)
        elif other.reservoir is not None:
            self.reservoir.merge(other.reservoir)
        self.count += other.count
        self.total_ms += other.total_ms
        self.min_ms = min(self.min_ms, other.min_ms)
        self.max_ms = max(self.max_ms, other.max_ms)
        if other.query_position < self.query_position:
            self.query, self.query_position = other.query, other.query_position
        if other.worst is not None and (
            self.worst is None
            or other.worst.duration_ms > self.worst.duration_ms
            or (
                other.worst.duration_ms == self.worst.duration_ms
                and other.worst_position < self.worst_position
            )
        ):
            self.worst, self.worst_position = other.worst, other.worst_position
        if other.first is not None and (self.first is None or other.first < self.first):
            self.first, self.first_entry = other.first, other.first_entry
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last, self.last_entry = other.last, other.last_entry
        for digest, shape in other.shapes.items():
            mine = self.shapes.get(digest)
            if mine is not None:
                mine.merge(shape)
            elif len(self.shapes) < MAX_SHAPES:
                self.shapes[digest] = shape
            else:
                self.other_shapes += shape.count
        self.other_shapes += other.other_shapes
        for key, problem in other.problems.items():
            found = self.problems.get(key)
            if found is not None:
                found.merge(problem)
            elif len(self.problems) < MAX_PROBLEMS:
                self.problems[key] = problem
            else:
                self.other_problems += problem.plans
        self.other_problems += other.other_problems
        for query_id in other.query_ids:
            if query_id not in self.query_ids and len(self.query_ids) < _QUERY_IDS_KEPT:
                self.query_ids.append(query_id)

    def finish(self) -> QueryGroup:
        # A group exists only once an entry was added, so both are set.
        assert self.worst is not None
        assert self.reservoir is not None
        shapes = sorted(self.shapes.items(), key=lambda kv: (-kv[1].count, kv[1].first))
        problems = sorted(
            self.problems.items(),
            key=lambda kv: (-kv[1].plans, -kv[1].severity.rank, -kv[1].impact_total, kv[0]),
        )
        return QueryGroup(
            fingerprint=self.key,
            query=self.query,
            count=self.count,
            total_ms=self.total_ms,
            min_ms=self.min_ms,
            max_ms=self.max_ms,
            p50_ms=self.reservoir.percentile(0.50),
            p95_ms=self.reservoir.percentile(0.95),
            p99_ms=self.reservoir.percentile(0.99),
            worst=self.worst,
            problems=tuple(
                MergedProblem(
                    rule=rule,
                    node_path=path,
                    plans=p.plans,
                    severity=p.severity,
                    impact_ms_total=p.impact_total,
                    impact_ms_max=p.impact_max,
                    message=p.message,
                    suggestion=p.suggestion,
                )
                for (rule, path), p in problems
            ),
            plan_shapes=tuple(
                PlanShape(
                    digest=digest,
                    outline=s.outline,
                    count=s.count,
                    total_ms=s.total_ms,
                    first_seen=s.first_entry.logged_at,
                    last_seen=s.last_entry.logged_at,
                    first_source=s.first_entry.source,
                    last_source=s.last_entry.source,
                )
                for digest, s in shapes
            ),
            query_ids=tuple(sorted(self.query_ids)),
            first_seen=self.first_entry.logged_at if self.first_entry else None,
            last_seen=self.last_entry.logged_at if self.last_entry else None,
            other_shapes=self.other_shapes,
            other_problems=self.other_problems,
        )


def _node_path(plan: Plan, node_id: int | None) -> str:
    if node_id is None:
        return "(statement)"
    nodes = plan.nodes()
    if not 0 <= node_id < len(nodes):
        return "(statement)"
    labels = []
    node: PlanNode | None = nodes[node_id]
    while node is not None:
        labels.append(node_label(node))
        node = node.parent
    return " > ".join(reversed(labels))


def _problems_of(
    plan: Plan, position: Position, config: RuleConfig | None
) -> dict[tuple[str, str], _ProblemAcc]:
    out: dict[tuple[str, str], _ProblemAcc] = {}
    for problem in analyze(plan, config=config).problems():
        head = problem.headline
        key = (head.rule, _node_path(plan, head.node_id))
        impact = problem.impact_ms or 0.0
        if key in out:  # the same rule twice at one place: count the plan once
            continue
        out[key] = _ProblemAcc(
            1, problem.severity, impact, impact, head.message, head.suggestion, (impact, position)
        )
    return out


@dataclass(slots=True)
class SummaryAcc:
    """A partial summary: groups by key plus counts of what was read."""

    group_by: str = "fingerprint"
    config: RuleConfig | None = None
    groups: dict[str, _GroupAcc] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    counts: Counts = field(default_factory=Counts)
    entries: int = 0
    total_ms: float = 0.0
    malformed: list[tuple[Position, Malformed]] = field(default_factory=list)
    malformed_count: int = 0
    partitions: int = 1

    def add(self, item: LogEntry | Malformed) -> None:
        """Fold one entry (or malformed entry) in."""
        if isinstance(item, Malformed):
            self.malformed_count += 1
            path, _, line = item.source.rpartition(":")
            if len(self.malformed) < _MALFORMED_KEPT:
                self.malformed.append((("", path, int(line)), item))
            return
        self.entries += 1
        self.total_ms += item.duration_ms
        key = group_key(item.query, item.query_id, self.group_by)
        position = _position(item)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _GroupAcc(key, normalized_text(item.query), position)
        group.add(item, position, self.config)

    def merge(self, other: SummaryAcc) -> SummaryAcc:
        """Fold another partial summary into this one; returns self."""
        for key, group in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = group
            else:
                mine.merge(group)
        self.files |= other.files
        self.counts.lines += other.counts.lines
        self.counts.bytes += other.counts.bytes
        self.counts.records += other.counts.records
        self.entries += other.entries
        self.total_ms += other.total_ms
        self.malformed = sorted(self.malformed + other.malformed, key=lambda m: m[0])[
            :_MALFORMED_KEPT
        ]
        self.malformed_count += other.malformed_count
        self.partitions += other.partitions
        return self

    def finish(self, *, top: int | None = None, engine: str = "local") -> LogSummary:
        """The public summary, groups ranked by total time (ties: most entries, then key)."""
        ranked = sorted(self.groups.values(), key=lambda g: (-g.total_ms, -g.count, g.key))
        kept = ranked if top is None else ranked[:top]
        return LogSummary(
            groups=tuple(g.finish() for g in kept),
            group_count=len(ranked),
            files=len(self.files),
            lines=self.counts.lines,
            bytes=self.counts.bytes,
            entries=self.entries,
            total_ms=self.total_ms,
            malformed=tuple(m for _, m in sorted(self.malformed, key=lambda m: m[0])),
            malformed_count=self.malformed_count,
            engine=engine,
            partitions=self.partitions,
        )
