"""Row estimate far from the actual row count, reported at the node where the error starts.

Why it matters: the planner chooses join methods, join order, memory sizes and parallelism
from its row estimates. An estimate off by 10x or more is the usual root cause of a nested loop
run a million times, a hash join that spills, or a sort that should have been a top-N. The
error propagates upwards, so the finding sits on the node whose own estimate is wrong while its
inputs were estimated well; the parents that inherit it are listed as related nodes.

What to do: depends on the cause, which the suggestion names. Stale statistics (with a catalog,
``pa.analyze(plan, catalog=...)``: never analyzed, or the live row count drifted past autovacuum's
re-analyze threshold) need ``ANALYZE t``. A filter combining columns of one table that are
correlated (city and country) needs extended statistics: ``CREATE STATISTICS ... (dependencies,
mcv) ON a, b FROM t`` then ``ANALYZE t``. A function or expression of a column, or a column
converted by a cast, has no statistics: expression statistics (``CREATE STATISTICS ... ON
(expr) FROM t``, PostgreSQL 14+) or an expression index give it some, and a cast is better
fixed in the query. A single-column filter needs fresh or finer statistics (``ALTER TABLE t
ALTER COLUMN c SET STATISTICS 1000``). A join whose own estimate is wrong points at its keys: a
multi-column key needs statistics on both sides' key columns. A grouping estimate points at
n_distinct; a set-returning function at its ``ROWS`` setting.

Errors compound: a scan 20x under feeding a join 200,000x under is two findings, the scan's
(20x, its conditions) and the join's own (10,000x, its selectivity), each with its fix.

Not reported: plans without ANALYZE; nodes that never ran; errors below ``warning_factor``;
nodes where both the planned and the actual rows over all loops stay under ``min_rows`` (one
row against twelve is noise); fewer rows than planned under a Limit, a semi/anti join, a merge
join or an EXISTS SubPlan, which stop reading their input early; BitmapAnd/BitmapOr, which
report no rows; and any node whose error is inherited from an input (it is named in the
origin's ``related_node_ids`` instead). Severity follows the worst factor the error reaches (for
a compounding error, the part that starts at the node): warning from ``warning_factor``,
critical from ``critical_factor``. Info only: recursive-CTE iterations, whose estimates are
fixed guesses no statistics can correct, and errors nothing above depended on (no join,
aggregate, Hash or Memoize above the node) unless they reach ``strong_factor`` on a node holding
at least ``min_time_share_ratio`` of the statement (judged on the low end of the time the
3-decimal rounding of per-loop times allows): the same statistics drive other plans.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.metrics import inclusive_time_rounding_ms
from planalyzer.plan.model import PlanNode
from planalyzer.rules._catalog import is_conversion, stale_statistics
from planalyzer.rules._estimates import JOIN_TYPES, Estimates, nearest_join
from planalyzer.rules._expressions import (
    Column,
    comparisons,
    node_comparisons,
    quote_ident,
    quote_relation,
    show_condition,
)
from planalyzer.rules._spec import (
    Rule,
    RuleContext,
    Thresholds,
    escalate,
    fmt_part,
    fmt_rows,
)
from planalyzer.rules.finding import Finding, Severity


class RowMisestimateThresholds(Thresholds):
    """How far off an estimate must be, and on how many rows, to be worth a finding."""

    warning_factor: float = Field(
        10.0,
        description="Report when actual and planned rows per loop differ by at least this "
        "factor (either direction): the 10x band of pev2 and explain.depesz.com.",
    )
    critical_factor: float = Field(
        1000.0,
        description="Critical from this factor (the 1000x band of the same visualisers); it "
        "applies to the worst node the error propagates to.",
    )
    strong_factor: float = Field(
        100.0,
        description="An error of at least this factor at its origin is a warning even when "
        "nothing above it chose its plan from it in this statement (the same statistics drive "
        "other plans), provided the node holds ``min_time_share_ratio`` of the time: the 100x "
        "band of pev2 and explain.depesz.com.",
    )
    min_time_share_ratio: float = Field(
        0.1,
        description="...the node's inclusive time (its low bound given the rounding of "
        "per-loop times) is at least this share of the statement: the 10 % band of the same "
        "visualisers.",
    )
    min_rows: float = Field(
        100.0,
        description="Ignore a node when both its actual and its planned rows over all loops "
        "are below this: a misestimate of a handful of rows cannot change a plan much.",
    )


def _actionable(view: Estimates, node: PlanNode) -> bool:
    """False for estimates no statistics can fix: a recursive CTE's iterations are guessed."""
    if node.node_type in {"WorkTable Scan", "Recursive Union"}:
        return False
    body = view.cte_body(node)
    return body is None or body.node_type != "Recursive Union"


def _is_significant(view: Estimates, node: PlanNode, t: RowMisestimateThresholds) -> bool:
    if not view.is_misestimated(node):
        return False
    larger = max(node.rows_total or 0.0, node.plan_rows_total or 0.0)
    return larger >= t.min_rows


def _impact_ms(origin: PlanNode) -> tuple[float | None, str]:
    """The time the misestimate plausibly cost, and how it was chosen (for the evidence).

    A wrong row count hurts where the plan made a choice from it: the first join above. When
    the origin is on the outer side of a Nested Loop, the loop's inner side ran once per
    (unexpected) outer row, so the inner side's time plus the loop's own counts; for any other
    join, the join's own time; with no join above, the node's own time.
    """
    child, parent = origin, origin.parent
    while parent is not None and parent.node_type not in JOIN_TYPES:
        child, parent = parent, parent.parent
    if parent is None:
        return origin.exclusive_time_ms, "node_exclusive"
    if parent.node_type == "Nested Loop" and child.parent_relationship == "Outer":
        inner = [c for c in parent.children if c.parent_relationship == "Inner"]
        times = [parent.exclusive_time_ms, *(c.inclusive_time_ms for c in inner)]
        if any(t is None for t in times):
            return None, "nested_loop_inner"
        return sum(t for t in times if t is not None), "nested_loop_inner"
    return parent.exclusive_time_ms, "join_exclusive"


def _scan_columns(ctx: RuleContext, node: PlanNode) -> tuple[list[Column], list[Column]]:
    """(plain columns, expressions) of ``node``'s own table compared with constants (AND only).

    A column converted before the comparison (``(id)::text = '5000'``) counts as an expression:
    the planner has statistics for the column, not for the converted value.
    """
    plain: dict[str, Column] = {}
    wrapped: dict[str, Column] = {}
    for comp in node_comparisons(node, "filter", "index_cond", "recheck_cond"):
        if not comp.against_constant or comp.kind == "other" or comp.in_or:
            continue
        if comp.column.expression is not None:
            wrapped.setdefault(comp.column.expression, comp.column)
        elif is_conversion(ctx.catalog, node, comp.column.name, comp.cast):
            text = f"({comp.column.name})::{comp.cast}"
            wrapped.setdefault(text, Column(name=text, expression=text))
        else:
            plain.setdefault(comp.column.name, comp.column)
    return list(plain.values()), list(wrapped.values())


def _statistics_name(node: PlanNode, columns: list[Column]) -> str:
    names = [c.name if c.expression is None else "expr" for c in columns]
    raw = "_".join([node.relation_name or "t", *names, "stats"])
    return quote_ident(raw[:63])  # NAMEDATALEN - 1


def _scan_suggestion(ctx: RuleContext, node: PlanNode) -> str:
    """The fix for a misestimate that starts at a scan, named by its cause."""
    table = quote_relation(node)
    stale = stale_statistics(ctx.catalog, node.relation_name)
    if stale is not None:
        return f"The statistics are stale ({stale}): ANALYZE {table};"
    plain, wrapped = _scan_columns(ctx, node)
    if wrapped:
        exprs = ", ".join(f"({c.expression})" for c in wrapped)
        expr_stats = (
            f"CREATE STATISTICS {_statistics_name(node, wrapped)} ON {exprs} FROM {table}; "
            f"ANALYZE {table}; (PostgreSQL 14+), or "
        )
        if ctx.server_version is not None and ctx.server_version < 140000:
            expr_stats = ""
        return (
            f"The planner has no statistics for {' and '.join(str(c) for c in wrapped)}, so it "
            f"used a default selectivity: give it some with {expr_stats}an expression index "
            f"(CREATE INDEX ON {table} ({exprs}); ANALYZE collects statistics for it); when a "
            "cast converts a column, compare the column as its own type instead."
        )
    if len(plain) >= 2:
        names = ", ".join(c.index_key for c in plain)
        return (
            f"The filter combines {len(plain)} columns of {node.relation_name} that the "
            "planner treats as independent; tell it they are correlated: CREATE STATISTICS "
            f"{_statistics_name(node, plain)} (dependencies, mcv) ON {names} FROM {table}; "
            f"ANALYZE {table};"
        )
    if len(plain) == 1:
        col = plain[0].index_key
        return (
            f"Refresh the statistics with ANALYZE {table}. If {plain[0].name} is skewed, "
            f"sample it more finely: ALTER TABLE {table} ALTER COLUMN {col} SET STATISTICS "
            f"1000; ANALYZE {table};"
        )
    if node.index_cond or node.filter:
        return (
            f"The condition is not a plain column comparison the planner can estimate; run "
            f"ANALYZE {table}; and consider an expression index or CREATE STATISTICS on the "
            "expression (PostgreSQL 14+) so it gets statistics of its own."
        )
    return f"The table's statistics may be stale: ANALYZE {table};"


def _join_keys(node: PlanNode) -> list[tuple[str, str]]:
    """(column, other column) pairs the join matches on with equality, in order."""
    cond = node.hash_cond or node.merge_cond
    if cond is None and node.node_type == "Nested Loop":
        cond = node.join_filter
    pairs = []
    for comp in comparisons(cond):
        if comp.kind == "equality" and comp.other is not None and not comp.in_or:
            pairs.append((str(comp.column), str(comp.other)))
    return pairs


def _join_suggestion(node: PlanNode) -> str:
    """The fix for a join whose own selectivity was misjudged."""
    keys = _join_keys(node)
    cond = node.hash_cond or node.merge_cond or node.join_filter
    on = f" on `{show_condition(cond)}`" if cond else ""
    if len(keys) >= 2:
        left = ", ".join(k[0] for k in keys)
        right = ", ".join(k[1] for k in keys)
        return (
            f"The join{on} matches {len(keys)} columns, which the planner treats as "
            "independent keys: create statistics on both sides' key columns, CREATE STATISTICS "
            f"(ndistinct, mcv) ON {left} FROM <its table>; and ON {right} FROM <its table>; "
            "then ANALYZE both; if the estimate stays wrong, join on one key that implies the "
            "others."
        )
    return (
        f"The join{on} was misjudged beyond what its inputs explain: ANALYZE the joined "
        "tables and raise the statistics target of the join columns (ALTER TABLE ... ALTER "
        "COLUMN ... SET STATISTICS 1000); the planner assumes join keys are independent of the "
        "filters, so keys correlated with a filtered column (a city filter that fixes the "
        "country) may need the query restructured."
    )


def _suggestion(ctx: RuleContext, node: PlanNode) -> str:
    """What fixes a misestimate starting at this kind of node."""
    if node.relation_name:
        return _scan_suggestion(ctx, node)
    if node.node_type in JOIN_TYPES:
        return _join_suggestion(node)
    if node.node_type in {"Aggregate", "Group", "Unique", "SetOp"}:
        keys = ", ".join(node.group_key or []) or "the grouping columns"
        return (
            f"The number of groups by {keys} was misjudged: ANALYZE the table; for several "
            "columns of one table CREATE STATISTICS ... (ndistinct) ON them; for one column "
            "ALTER TABLE ... ALTER COLUMN ... SET (n_distinct = ...) when ANALYZE's sample keeps "
            "getting it wrong."
        )
    if node.node_type == "Function Scan" and node.function_name:
        return (
            f"The planner assumes a fixed row count for {node.function_name}(); declare a "
            f"realistic one: ALTER FUNCTION {node.function_name} ROWS <typical count>."
        )
    return "ANALYZE the tables below this node so the planner works from current statistics."


def _rows(rows: float | None) -> str:
    return f"{fmt_rows(rows)} row{'' if rows == 1 else 's'}"


def _where(node: PlanNode) -> str:
    cond = node.filter or node.index_cond or node.recheck_cond
    if cond:
        return f" (condition `{show_condition(cond)}`)"
    # A hash or merge join matches on its Hash/Merge Cond; its Join Filter runs on the matched
    # rows afterwards. Only a nested loop's Join Filter is its join condition.
    cond = node.hash_cond or node.merge_cond
    if cond is None and node.node_type == "Nested Loop":
        cond = node.join_filter
    where = f"join on `{show_condition(cond)}`" if cond else ""
    if node.join_filter and node.node_type != "Nested Loop":
        post = f"post-join filter `{show_condition(node.join_filter)}`"
        where = f"{where}, then {post}" if where else post
    return f" ({where})" if where else ""


def _time_share_floor(ctx: RuleContext, node: PlanNode) -> float | None:
    """The node's share of the statement, at the low end of what rounding allows."""
    if node.inclusive_time_ms is None:
        return None
    low = max(node.inclusive_time_ms - inclusive_time_rounding_ms(node), 0.0)
    return ctx.share_of_total(low)


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield one finding per misestimate origin, linked to the nodes that inherit it."""
    t: RowMisestimateThresholds = ctx.thresholds
    view = Estimates(ctx.plan, factor=t.warning_factor)
    inherited: dict[int, list[PlanNode]] = {}
    origins: dict[int, PlanNode] = {}
    for node in ctx.plan.nodes():
        if not _is_significant(view, node, t):
            continue
        origin = view.origin(node)
        origins[origin.id] = origin
        bucket = inherited.setdefault(origin.id, [])
        if node is not origin:
            bucket.append(node)
    for origin_id in sorted(origins):
        origin = origins[origin_id]
        heirs = sorted(inherited[origin_id], key=lambda n: n.id)
        factor = origin.estimate_factor or 1.0
        own = view.own_factor(origin)
        worst = max([factor, *(h.estimate_factor or 1.0 for h in heirs)])
        # severity from the part of the error that starts here, not what the input brought
        severity = escalate(
            worst * own / factor,
            warning_at=t.warning_factor,
            critical_at=t.critical_factor,
            below=Severity.WARNING,
        )
        actionable = _actionable(view, origin)
        consequence = view.has_consequence(origin)
        share_floor = _time_share_floor(ctx, origin)
        if not actionable:
            severity = Severity.INFO
        elif not consequence:
            strong = (
                own >= t.strong_factor
                and share_floor is not None
                and share_floor >= t.min_time_share_ratio
            )
            severity = Severity.WARNING if strong else Severity.INFO
        impact, impact_basis = _impact_ms(origin)
        direction = origin.estimate_direction or "exact"
        loops = origin.actual_loops or 0
        per_loop = " per loop" if loops > 1 else ""
        inherit = ""
        if own < factor * 0.999:
            inherit = (
                f"; {factor / own:,.0f}x of it comes from its input, {own:,.0f}x from its own "
                "estimate"
            )
        if heirs:
            inherit += (
                f"; {len(heirs)} node{'s' if len(heirs) > 1 else ''} above "
                f"inherit{'' if len(heirs) > 1 else 's'} it "
                f"(up to {worst:,.0f}x)"
            )
        timing = ""
        if impact is not None and ctx.plan.total_time_ms:
            spent = f"{fmt_part(impact, ctx.plan.total_time_ms)}"
            timing = {
                "nested_loop_inner": f"; the nested loop it feeds spent {spent} on its inner side",
                "join_exclusive": f"; the join above it took {spent}",
            }.get(impact_basis, f", {spent}")
        yield ctx.finding(
            origin,
            message=(
                f"{origin.display_name} was estimated at {_rows(origin.plan_rows)}{per_loop} "
                f"but returned {fmt_rows(origin.actual_rows)} ({direction}estimated "
                f"{factor:,.0f}x){_where(origin)}{inherit}{timing}."
            ),
            evidence={
                "plan_rows": origin.plan_rows,
                "actual_rows": origin.actual_rows,
                "actual_loops": origin.actual_loops,
                "rows_total": origin.rows_total,
                "plan_rows_total": origin.plan_rows_total,
                "estimate_factor": factor,
                "own_estimate_factor": own,
                "estimate_direction": direction,
                "time_share_floor_ratio": share_floor,
                "worst_inherited_factor": worst,
                "inherited_by_node_ids": [h.id for h in heirs],
                "impact_basis": impact_basis,
                "nearest_join_node_id": getattr(nearest_join(origin), "id", None),
                "actionable": actionable,
                "has_consequence": consequence,
            },
            suggestion=_suggestion(ctx, origin),
            impact_ms=impact,
            severity=severity,
            related_node_ids=tuple(h.id for h in heirs),
        )


RULE = Rule(
    id="row-misestimate",
    severity=Severity.WARNING,
    summary="Row estimate far off, at the node where the error starts",
    check=check,
    thresholds=RowMisestimateThresholds,
    needs_analyze=True,
)
