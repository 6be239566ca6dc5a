"""Hash or merge join whose output is mostly thrown away by a filter applied after the join.

Why it matters: a hash or merge join matches rows on its key (``Hash Cond``/``Merge Cond``);
conditions that need columns of both sides and are not equalities, such as an OR across two
tables' time windows, run afterwards as a post-join filter (``Join Filter``) on every matched
row. When that filter discards most of them, the join built and matched rows only to drop them:
a filter and query-shape problem, not a join-key problem.

What to do: move what can be filtered before the join into each side (the planner does this
only for conditions on one table; an OR across tables stays after the join), or rewrite the OR
as a UNION ALL of one join per arm, so each arm's conditions filter its tables before they are
joined, and each side can use an index on its filtered column.

Not reported: plans without ANALYZE; nested loops (their Join Filter is the join condition,
see nested-loop-blowup); joins whose filter removed fewer than ``min_removed_rows`` rows or less
than ``min_removed_ratio`` of the matched rows; info when the join and its inputs take less
than ``warning_time_share_ratio`` of the statement.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.rules._expressions import show_condition
from planalyzer.rules._spec import (
    Rule,
    RuleContext,
    Thresholds,
    escalate,
    fmt_ms,
    fmt_pct,
    fmt_rows,
)
from planalyzer.rules.finding import Finding, Severity

_JOINS = frozenset({"Hash Join", "Merge Join"})


class PostJoinFilterThresholds(Thresholds):
    """When a post-join filter throws away enough of a join's work to matter."""

    min_removed_ratio: float = Field(
        0.9,
        description="Report when the Join Filter discards at least this share of the rows "
        "the join matched (the 90 % rows-removed band used by seq-scan).",
    )
    min_removed_rows: float = Field(
        10_000,
        description="...and at least this many rows: fewer take well under a millisecond.",
    )
    warning_time_share_ratio: float = Field(
        0.1,
        description="Warning when the join with its inputs takes at least this share of the "
        "statement (the 10 % band of plan visualisers), else info.",
    )
    critical_time_share_ratio: float = Field(
        0.9,
        description="Critical from this share (the 90 % band).",
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for each hash/merge join whose post-join filter drops most matches."""
    t: PostJoinFilterThresholds = ctx.thresholds
    for node in ctx.plan.nodes():
        if node.node_type not in _JOINS or not node.join_filter or not node.executed:
            continue
        removed = node.rows_removed_by_join_filter_total or 0.0
        kept = node.rows_total or 0.0
        matched = removed + kept
        if removed < t.min_removed_rows or not matched or removed / matched < t.min_removed_ratio:
            continue
        join_ms = node.inclusive_time_ms
        share = ctx.share_of_total(join_ms)
        severity = escalate(
            share,
            warning_at=t.warning_time_share_ratio,
            critical_at=t.critical_time_share_ratio,
        )
        if share is None:
            severity = Severity.WARNING
        key = node.hash_cond or node.merge_cond
        on = f" on `{show_condition(key)}`" if key else ""
        timing = ""
        if join_ms is not None and ctx.plan.total_time_ms:
            timing = f"; the join and its inputs took {fmt_ms(join_ms)} of "
            timing += fmt_ms(ctx.plan.total_time_ms)
        yield ctx.finding(
            node,
            message=(
                f"{node.display_name} matched {fmt_rows(matched)} rows{on}, then its "
                f"post-join filter `{show_condition(node.join_filter)}` discarded "
                f"{fmt_rows(removed)} of them ({fmt_pct(removed / matched)}){timing}."
            ),
            evidence={
                "matched_rows": matched,
                "join_filter_removed_rows": removed,
                "rows_total": kept,
                "removed_ratio": removed / matched,
                "join_time_ms": join_ms,
                "time_share_ratio": share,
            },
            suggestion=(
                "The filter runs after the join because it needs both tables' columns: filter "
                "each side before the join where possible, and rewrite an OR across the two "
                "tables as a UNION ALL of one join per arm (each arm's conditions then filter "
                "its tables first and can use their indexes)."
            ),
            impact_ms=join_ms,
            severity=severity,
        )


RULE = Rule(
    id="post-join-filter",
    severity=Severity.WARNING,
    summary="Join output mostly discarded by a filter applied after the join",
    check=check,
    thresholds=PostJoinFilterThresholds,
    needs_analyze=True,
)
