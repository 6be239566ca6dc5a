"""Limit with a large OFFSET: the server produced many rows only to throw them away.

Why it matters: ``OFFSET n`` does not skip rows, it computes them: the plan below the Limit
produces the first ``n`` rows in order and the Limit discards them. Page 1,000 of a paginated
list costs a thousand pages of work, so deep pages get slower and slower.

What to do: keyset (seek) pagination. Remember the sort key of the last row shown and ask for
the rows after it: ``WHERE (sort_key) > (last seen value) ORDER BY sort_key LIMIT n``, with a
unique column added to the key to break ties and an index on that key. Each page then costs the
same, however deep. The finding names the sort key (a Sort below the Limit) or the index that
supplied the order.

EXPLAIN does not print the OFFSET, so it is inferred: rows discarded = rows the Limit's input
produced - rows the Limit returned (over all loops). The time it cost is estimated as the
Limit's time x the discarded share of its input. The planner's costs say whether there is an
OFFSET at all: it charges the skipped rows to the Limit's startup cost (``startup = input
startup + input run cost x offset / input rows``, PostgreSQL's ``adjust_limit_rows_costs``), so
a Limit whose startup cost equals its input's has none, and extra rows its input produced (a
Gather's workers run ahead of the leader) are not an offset. Without ANALYZE that same formula
gives the planned offset, and the finding is marked estimated, ranked by the share of the
statement's cost spent skipping rows, and at most a warning.

Not reported: offsets discarding fewer than ``min_discarded_rows`` rows or less than
``min_discarded_ratio`` of the input; offsets costing less than ``min_impact_ms``.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.model import PlanNode
from planalyzer.rules._spec import Rule, RuleContext, Thresholds, fmt_part, fmt_rows
from planalyzer.rules.finding import Finding, Severity


class LargeOffsetThresholds(Thresholds):
    """How many discarded rows, and how much time, make an OFFSET worth a finding."""

    min_discarded_rows: int = Field(
        1000,
        description="Report offsets that discard at least this many rows (a few pages of a "
        "typical 20-100-row listing are harmless).",
    )
    min_discarded_ratio: float = Field(
        0.5,
        description="...and at least this share of what the Limit's input produced, so most "
        "of that work was thrown away.",
    )
    min_impact_ms: float = Field(
        1.0,
        description="Ignore offsets whose estimated cost is below this many ms.",
    )
    critical_discarded_rows: int = Field(
        100_000,
        description="Critical from this many discarded rows when the Limit takes at least "
        "critical_time_share_ratio of the time: deep pagination that grows with every page.",
    )
    critical_time_share_ratio: float = Field(
        0.4,
        description="See critical_discarded_rows (the 40 % band of plan visualisers).",
    )


# Nodes that pass their input's order through unchanged, looked through to find the order.
_ORDER_PRESERVING = {
    "Result",
    "Subquery Scan",
    "Gather Merge",
    "Unique",
    "Materialize",
    "Memoize",
    "WindowAgg",
    "ProjectSet",
    "Merge Append",
    "Merge Join",
    "Nested Loop",
}
_INDEX_SCANS = ("Index Scan", "Index Only Scan")


def _order_source(limit: PlanNode) -> PlanNode | None:
    """The Sort or index scan that gives the rows their order, following first children."""
    node = limit.children[0] if limit.children else None
    for _ in range(50):  # plans are finite; the bound only guards against odd shapes
        if node is None:
            return None
        if node.node_type in ("Sort", "Incremental Sort") or node.node_type in _INDEX_SCANS:
            return node
        if node.node_type not in _ORDER_PRESERVING or not node.children:
            return None
        node = node.children[0]
    return None


def _keyset_hint(source: PlanNode | None) -> str:
    if source is not None and source.sort_key:
        keys = [k.strip() for k in source.sort_key]
        bare = [k.removesuffix(" DESC").removesuffix(" ASC") for k in keys]
        op = "<" if any(k.endswith(" DESC") for k in keys) else ">"
        cols = ", ".join(bare)
        return (
            f"WHERE ({cols}) {op} (<last row's values>) ORDER BY {', '.join(keys)} LIMIT n "
            f"(the sort key of {source.display_name}; add a unique column if it is not "
            f"unique, and an index on ({cols}) to drop the sort)"
        )
    if source is not None and source.index_name:
        return (
            f"WHERE (<columns of {source.index_name}>) > (<last row's values>) ORDER BY "
            f"<those columns> LIMIT n (the order comes from index {source.index_name})"
        )
    return "WHERE (sort_key) > (<last row's values>) ORDER BY sort_key LIMIT n"


def planned_offset_rows(limit: PlanNode) -> float | None:
    """The OFFSET the planner costed, from the Limit's startup cost; None without costs.

    PostgreSQL adds ``(input total - input startup) x offset / input rows`` to the Limit's
    startup cost (costsize.c, ``adjust_limit_rows_costs``); this inverts that. Costs are
    printed to two decimals, so offsets of a handful of rows come out as approximately 0.

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Limit", "Startup Cost": 2484.42,
        ...     "Total Cost": 2484.67, "Plan Rows": 10, "Plans": [{"Node Type": "Index Scan",
        ...     "Startup Cost": 0.42, "Total Cost": 7452.42, "Plan Rows": 300000}]}})
        >>> round(planned_offset_rows(plan.root))
        100000
    """
    if not limit.children:
        return None
    child = limit.children[0]
    costs = (limit.startup_cost, child.startup_cost, child.total_cost, child.plan_rows)
    if any(c is None for c in costs):
        return None
    run_cost = float(child.total_cost or 0) - float(child.startup_cost or 0)
    if run_cost <= 0 or not child.plan_rows:
        return None
    skipped_cost = float(limit.startup_cost or 0) - float(child.startup_cost or 0)
    return max(skipped_cost, 0.0) / run_cost * float(child.plan_rows)


def _check_estimated(ctx: RuleContext, node: PlanNode) -> Finding | None:
    """A large OFFSET judged from the plan alone: the offset the planner costed."""
    t: LargeOffsetThresholds = ctx.thresholds
    offset = planned_offset_rows(node)
    root_cost = ctx.plan.root.total_cost
    if offset is None or offset < t.min_discarded_rows or not root_cost:
        return None
    returned = float(node.plan_rows or 0)
    if offset / (offset + returned) < t.min_discarded_ratio:
        return None
    child = node.children[0]
    skipped_cost = float(node.startup_cost or 0) - float(child.startup_cost or 0)
    share = min(skipped_cost / root_cost, 1.0)
    source = _order_source(node)
    return ctx.finding(
        node,
        message=(
            f"Limit is planned to skip about {fmt_rows(offset)} rows of {child.display_name} "
            f"(an OFFSET) to return {fmt_rows(returned)}, {share:.0%} of the statement's cost "
            "(estimated, no ANALYZE)."
        ),
        evidence={
            "planned_offset_rows": offset,
            "planned_rows": returned,
            "skipped_cost": skipped_cost,
            "cost_share_ratio": share,
            "sort_key": None if source is None else source.sort_key,
            "index_name": None if source is None else source.index_name,
        },
        suggestion=f"Use keyset pagination instead of OFFSET: {_keyset_hint(source)}.",
        severity=Severity.WARNING if share >= t.critical_time_share_ratio else Severity.INFO,
        impact_cost_share=share,
        related_node_ids=(child.id,) if source is None else (source.id,),
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for every Limit whose input produced many more rows than it returned."""
    t: LargeOffsetThresholds = ctx.thresholds
    for node in ctx.plan.nodes():
        if node.node_type != "Limit" or not node.children:
            continue
        if not ctx.plan.analyzed:
            estimated = _check_estimated(ctx, node)
            if estimated is not None:
                yield estimated
            continue
        planned = planned_offset_rows(node)
        if planned is not None and planned < 1:
            continue  # no OFFSET was planned: extra input rows are read-ahead, not skipped
        child = node.children[0]
        if child.rows_total is None or node.rows_total is None:
            continue
        discarded = child.rows_total - node.rows_total
        if discarded < t.min_discarded_rows or child.rows_total <= 0:
            continue
        ratio = discarded / child.rows_total
        if ratio < t.min_discarded_ratio:
            continue
        spent = node.inclusive_time_ms
        impact = None if spent is None else spent * ratio
        if impact is not None and impact < t.min_impact_ms:
            continue
        share = ctx.share_of_total(spent)
        severity = Severity.WARNING
        if discarded >= t.critical_discarded_rows and (
            share is not None and share >= t.critical_time_share_ratio
        ):
            severity = Severity.CRITICAL
        source = _order_source(node)
        timing = ""
        if spent is not None and ctx.plan.total_time_ms:
            timing = f", {fmt_part(spent, ctx.plan.total_time_ms)} total"
        yield ctx.finding(
            node,
            message=(
                f"Limit returned {fmt_rows(node.rows_total)} rows after discarding "
                f"{fmt_rows(discarded)} of the {fmt_rows(child.rows_total)} rows "
                f"{child.display_name} produced (an OFFSET of about {fmt_rows(discarded)})"
                f"{timing}."
            ),
            evidence={
                "discarded_rows": discarded,
                "returned_rows": node.rows_total,
                "input_rows": child.rows_total,
                "discarded_ratio": ratio,
                "limit_time_ms": spent,
                "time_share_ratio": share,
                "sort_key": None if source is None else source.sort_key,
                "index_name": None if source is None else source.index_name,
            },
            suggestion=f"Use keyset pagination instead of OFFSET: {_keyset_hint(source)}.",
            impact_ms=impact,
            severity=severity,
            related_node_ids=(child.id,) if source is None else (source.id,),
        )


RULE = Rule(
    id="large-offset",
    severity=Severity.WARNING,
    summary="Large OFFSET: rows produced and thrown away",
    check=check,
    thresholds=LargeOffsetThresholds,
    needs_analyze=False,
)
