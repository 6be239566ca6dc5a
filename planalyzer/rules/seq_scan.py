"""Sequential scan that an index would help: it reads a table to keep a few of its rows.

Why it matters: a Seq Scan reads every row of the table and throws away those that fail its
Filter. When the filter keeps a small fraction of a non-trivial table, an index on the
filtered columns reads only the matching rows, typically orders of magnitude less work; when
the scan is the inner side of a loop, the whole table is read again for every outer row.

What to do: create the index the finding names (``CREATE INDEX ON t (a, b)``), built from the
filter's own columns: columns compared for equality first, then the one compared by range,
which is the order a b-tree can use. Use ``CREATE INDEX CONCURRENTLY`` on a busy table. For a
scan repeated inside a nested loop, the index on the join key turns every loop into a lookup;
if the loop count itself is the surprise, look at the row estimate of the outer side.

Not reported: scans with no Filter (a count or aggregate over the whole table needs every
row anyway); tables smaller than ``min_table_rows`` read per execution; filters that keep more
than ``1 - min_removed_ratio`` of the rows, or (with BUFFERS) keep at least
``max_kept_rows_per_page_ratio`` rows per table page (an index does not beat a sequential
read there);
scans repeated fewer than ``min_inner_loops`` times or over fewer than
``min_inner_table_rows`` rows each (a tiny lookup table). A scan without a selective filter is
reported when it is the probe side of a Hash Join that keeps at most ``max_join_keep_ratio`` of
its rows while the other side has at most ``max_lookup_rows`` rows: index lookups of the join
key would read a tiny part of the table (the typical unindexed foreign key). Without ANALYZE
the table size is not known: a scan is reported, marked estimated and at most a warning, only
when its cost shows a table of at least ``estimated_min_cost`` and its row estimate is a small
fraction of that.
Severity follows the scan's share of the total time (of the cost without timing): info below
``warning_time_share_ratio``, warning from it, critical from ``critical_time_share_ratio``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from pydantic import Field

from planalyzer.plan.model import Plan, PlanNode
from planalyzer.rules._catalog import column_type, existing_index, is_conversion
from planalyzer.rules._expressions import (
    Column,
    Comparison,
    create_index_sql,
    index_columns,
    node_comparisons,
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
    numeric_setting,
)
from planalyzer.rules.finding import Finding, Severity


class SeqScanThresholds(Thresholds):
    """When a sequential scan is one an index would replace."""

    min_removed_ratio: float = Field(
        0.9,
        description="Report when the Filter discards at least this share of the rows read: "
        "the upper of the 50/90 % rows-removed bands of pev2 and explain.depesz.com; below "
        "it a sequential read usually beats an index.",
    )
    min_table_rows: float = Field(
        10_000,
        description="Ignore tables with fewer rows than this (rows read per execution): "
        "about a hundred 8 kB pages, which a sequential scan reads in well under a "
        "millisecond when cached.",
    )
    min_inner_loops: float = Field(
        100,
        description="A scan executed at least this many times (inner side of a nested loop, "
        "SubPlan) is reported even without a selective filter: each loop reads the table again.",
    )
    min_inner_table_rows: float = Field(
        1_000,
        description="...but only when each execution reads at least this many rows (a "
        "five-row lookup table scanned per row is cheap; ten pages per row is not).",
    )
    warning_time_share_ratio: float = Field(
        0.1,
        description="Warning when the scan's own time is at least this share of the total "
        "(the 10 % band of plan visualisers); info below.",
    )
    critical_time_share_ratio: float = Field(
        0.4,
        description="Critical from this share of the total time (the 40 % band).",
    )
    max_kept_rows_per_page_ratio: float = Field(
        1.0,
        description="With BUFFERS, stay quiet when the rows kept are at least this many per "
        "table page read: matches are then spread over most pages, so an index would still "
        "visit most of the table, in random order.",
    )
    max_join_keep_ratio: float = Field(
        0.01,
        description="A scan feeding the probe side of a Hash Join is reported when the join "
        "keeps at most this share of its rows (1 %): the table is read to find a few matches.",
    )
    max_lookup_rows: float = Field(
        10_000,
        description="...and the join's other side has at most this many rows: that many index "
        "lookups (a nested loop) cost less than reading the whole table.",
    )
    estimated_min_cost: float = Field(
        1_000.0,
        description="Without ANALYZE, only scans costing at least this are considered: at "
        "the default seq_page_cost of 1 that is a table of several hundred 8 kB pages or more.",
    )


def _pct(ratio: float) -> str:
    """A share for a message, never rounded up to 100 % (99.999 % shows as 99.99 %)."""
    digits = 2 if ratio >= 0.99 else 0
    scale = 10 ** (digits + 2)
    return f"{math.floor(round(ratio * scale, 6)) / 10**digits:.{digits}f} %"


def _suggestion(ctx: RuleContext, node: PlanNode, *, repeated: bool) -> str:
    """The index built from the scan's filter (and its loop's join filter), or what else."""
    comps = node_comparisons(node, "filter")
    parent = node.parent
    if repeated and parent is not None and parent.node_type == "Nested Loop":
        comps += node_comparisons(node, "join_filter", source=parent)
    converted = _converted(ctx, node, comps)
    if converted is not None:
        return converted
    columns = index_columns(comps)
    if not columns:
        either = _or_indexes(ctx, node, comps)
        if either is not None:
            return either
        pattern_columns = _pattern_columns(comps, node)
        if pattern_columns:
            keys = ", ".join(f"{c.index_key} gin_trgm_ops" for c in pattern_columns)
            return (
                "A b-tree cannot serve an unanchored pattern match (LIKE/ILIKE '%...%' or a "
                "regular expression); a trigram index can: CREATE EXTENSION IF NOT EXISTS "
                f"pg_trgm; CREATE INDEX ON {quote_relation(node)} USING gin ({keys}) "
                "(CREATE INDEX CONCURRENTLY on a busy table)."
            )
        cond = show_condition(node.filter) or "the join condition"
        return (
            f"No column of {node.relation_name} is compared with a constant or a join key in "
            f"`{cond}`, so a plain b-tree cannot serve it: consider an expression or partial "
            "index matching the condition (a pg_trgm GIN index for LIKE '%...%')."
        )
    names = ", ".join(c.expression or c.name for c in columns)
    have = existing_index(
        ctx.catalog, node.relation_name, [c.expression or c.name for c in columns], node.schema_name
    )
    if have is not None:
        return (
            f"An index on {names} exists ({have}) but this scan does not use it: compare the "
            "estimates with the actual rows (ANALYZE the table), check the query's types match "
            f"the columns', and look for settings that disable index scans."
        )
    sql = create_index_sql(node, columns)
    if repeated:
        return (
            f"{sql}; with an index on {names} each loop looks up its rows instead of reading "
            "the whole table (CREATE INDEX CONCURRENTLY on a busy table)."
        )
    return (
        f"{sql}; an index on {names} (equality columns first, then range) reads only the "
        "matching rows (CREATE INDEX CONCURRENTLY on a busy table)."
    )


_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def _converted(ctx: RuleContext, node: PlanNode, comps: list[Comparison]) -> str | None:
    """Fix-the-comparison advice when the filter converts a column before comparing it.

    ``(id)::text = '5000'`` cannot use an index on ``id`` and has no statistics
    (`planalyzer.rules._catalog.is_conversion` tells a conversion from a varchar relabel).
    """
    for comp in comps:
        if not comp.against_constant or comp.kind != "equality":
            continue
        name = comp.column.name
        if not is_conversion(ctx.catalog, node, name, comp.cast):
            continue
        declared = column_type(ctx.catalog, node.relation_name, name)
        literal = _LITERAL.search(node.filter or "")
        value = literal.group(1) if literal else "<value>"
        typed = f" ({declared})" if declared else ""
        indexed = existing_index(ctx.catalog, node.relation_name, [name], node.schema_name)
        exists = f"; {indexed} already indexes {name}" if indexed else ""
        return (
            f"The filter converts {name}{typed} to {comp.cast} before comparing it "
            f"(`{show_condition(node.filter)}`), so no index on {name} can serve it and the "
            f"planner has no statistics for the converted value{exists}. Fix the comparison, "
            f"not the schema: compare the column as its own type ({name} = {value}), or pass "
            "the parameter with the column's type."
        )
    return None


def _or_indexes(ctx: RuleContext, node: PlanNode, comps: list[Comparison]) -> str | None:
    """One b-tree per column of an OR of simple comparisons: a BitmapOr combines them."""
    if not comps or not all(c.in_or and c.kind != "other" and c.against_constant for c in comps):
        return None
    columns: list[Column] = []
    for comp in comps:
        if comp.column.index_key not in {c.index_key for c in columns}:
            columns.append(comp.column)
    if len(columns) < 2:
        return None
    missing = [
        c
        for c in columns
        if existing_index(
            ctx.catalog, node.relation_name, [c.expression or c.name], node.schema_name
        )
        is None
    ]
    if not missing:
        return None
    sql = "; ".join(create_index_sql(node, [c]) for c in missing)
    names = " and ".join(c.expression or c.name for c in columns)
    return (
        f"{sql}; with a b-tree on each of {names}, PostgreSQL reads the rows matching each "
        "arm of the OR through a Bitmap Index Scan and combines them (BitmapOr), instead of "
        "reading the whole table (CREATE INDEX CONCURRENTLY on a busy table)."
    )


# LIKE, ILIKE and POSIX regular expression operators, as EXPLAIN prints them; pg_trgm's
# gin_trgm_ops supports all of them (PostgreSQL docs, F.35 pg_trgm, "Index Support").
_PATTERN_OPERATORS = frozenset({"~~", "~~*", "~", "~*"})


def _pattern_columns(comps: list[Comparison], node: PlanNode) -> list[Column]:
    """Columns of this scan matched against a constant pattern, for a trigram index."""
    seen: list[Column] = []
    for comp in comps:
        if (
            comp.operator in _PATTERN_OPERATORS
            and comp.against_constant
            and comp.column.belongs_to(node)
            and comp.column not in seen
        ):
            seen.append(comp.column)
    return seen


def _executions(node: PlanNode) -> float:
    """How many times the scan ran: loops, except that parallel workers share one execution."""
    loops = float(node.actual_loops or 0)
    if node.parallel_aware:
        return max(loops / max(node.parallel_processes, 1), 1.0)
    return loops


def _pages_per_execution(node: PlanNode, executions: float) -> float | None:
    """Table pages the scan read per execution, from BUFFERS (None without it)."""
    blocks = [
        node.exclusive_shared_hit_blocks,
        node.exclusive_shared_read_blocks,
        node.exclusive_local_hit_blocks,
        node.exclusive_local_read_blocks,
    ]
    if all(b is None for b in blocks) or not executions:
        return None
    return sum(b or 0 for b in blocks) / executions


def _cost_setting(plan: Plan, name: str, default: float) -> float:
    """A planner cost setting: the plan's SETTINGS value, else PostgreSQL's default."""
    value = numeric_setting(plan, name)
    return default if value is None else value


def _estimated_table_rows(plan: Plan, node: PlanNode) -> float | None:
    """A lower bound of the table's rows from the scan's cost (needs no ANALYZE).

    cost_seqscan = pages x seq_page_cost + tuples x (cpu_tuple_cost + quals x
    cpu_operator_cost) (src/backend/optimizer/path/costsize.c); with at least one row per page
    the tuple count is at least cost / (seq_page_cost + per-tuple cost).
    """
    if node.total_cost is None:
        return None
    quals = max(len(node_comparisons(node, "filter", own_only=False)), 1)
    per_tuple = _cost_setting(plan, "cpu_tuple_cost", 0.01) + quals * _cost_setting(
        plan, "cpu_operator_cost", 0.0025
    )
    return node.total_cost / (_cost_setting(plan, "seq_page_cost", 1.0) + per_tuple)


def _check_estimated(ctx: RuleContext, node: PlanNode) -> Finding | None:
    t: SeqScanThresholds = ctx.thresholds
    if not node.filter or node.plan_rows is None or node.total_cost is None:
        return None
    if node.total_cost < t.estimated_min_cost:
        return None
    table_rows = _estimated_table_rows(ctx.plan, node)
    if not table_rows or table_rows < 1:
        return None
    kept_ratio = float(node.plan_rows) / table_rows
    if kept_ratio > 1.0 - t.min_removed_ratio:
        return None
    share = node.cost_share
    severity = escalate(
        share,
        warning_at=t.critical_time_share_ratio,
        critical_at=math.inf,  # an estimate alone is never critical
    )
    return ctx.finding(
        node,
        message=(
            f"{node.display_name} is expected to return {fmt_rows(node.plan_rows)} rows of a "
            f"table of at least {fmt_rows(table_rows)} rows (filter "
            f"`{show_condition(node.filter)}`), at a cost of {node.total_cost:,.0f}"
            + (f" ({share:.0%} of the plan)" if share is not None else "")
            + "."
        ),
        evidence={
            "plan_rows": node.plan_rows,
            "estimated_table_min_rows": table_rows,
            "estimated_kept_ratio": kept_ratio,
            "total_cost": node.total_cost,
            "cost_share_ratio": share,
        },
        suggestion=_suggestion(ctx, node, repeated=False),
        severity=severity,
    )


def _check_analyzed(ctx: RuleContext, node: PlanNode) -> Finding | None:
    t: SeqScanThresholds = ctx.thresholds
    if not node.executed or node.rows_total is None:
        return None
    removed = node.rows_removed_by_filter_total or 0.0
    read = node.rows_total + removed
    executions = _executions(node)
    table_rows = read / executions if executions else 0.0
    removed_ratio = removed / read if read else 0.0
    pages = _pages_per_execution(node, executions)
    kept = node.rows_total / executions if executions else 0.0
    selective = (
        node.filter is not None
        and table_rows >= t.min_table_rows
        and removed_ratio >= t.min_removed_ratio
        and (pages is None or kept < pages * t.max_kept_rows_per_page_ratio)
    )
    loops = float(node.actual_loops or 0)
    repeated = (
        not node.parallel_aware
        and loops >= t.min_inner_loops
        and table_rows >= t.min_inner_table_rows
    )
    probe = None if (selective or repeated) else _hash_probe(node, t, table_rows)
    if not (selective or repeated or probe):
        return None
    if ctx.timed:
        share = ctx.share_of_total(node.exclusive_time_ms)
        severity = escalate(
            share,
            warning_at=t.warning_time_share_ratio,
            critical_at=t.critical_time_share_ratio,
        )
    else:  # TIMING OFF: rank by cost share, and no more than a warning
        share = node.cost_share
        severity = escalate(share, warning_at=t.critical_time_share_ratio, critical_at=math.inf)
    filtered = ""
    if node.filter:
        filtered = f" ({_pct(removed_ratio)} removed by filter `{show_condition(node.filter)}`)"
    timing = ""
    if node.exclusive_time_ms is not None and ctx.plan.total_time_ms:
        timing = f", {fmt_part(node.exclusive_time_ms, ctx.plan.total_time_ms)}"
    if probe is not None:
        join, other_rows, _ = probe
        message = (
            f"{node.display_name} read {fmt_rows(read)} rows so that the {join.node_type} "
            f"above it could keep {fmt_rows(join.rows_total)} matching the "
            f"{fmt_rows(other_rows)} rows of its other side{filtered}{timing}."
        )
    elif repeated:
        parent = node.parent
        where = "per outer row"
        if parent is not None and node.parent_relationship == "Inner":
            where = f"as the inner side of a {parent.node_type}"
        message = (
            f"{node.display_name} ran {fmt_rows(loops)} times {where}, reading "
            f"{fmt_rows(read)} rows in all to return {fmt_rows(node.rows_total)}"
            f"{filtered}{timing}."
        )
    else:
        message = (
            f"{node.display_name} read {fmt_rows(read)} rows to return "
            f"{fmt_rows(node.rows_total)}{filtered}{timing}."
        )
    if node.disabled:  # PostgreSQL 18: the user disabled this plan type and got it anyway
        message = message[:-1] + (
            " (it was disabled, enable_seqscan = off, and PostgreSQL still had no other way "
            "to read the table)."
        )
    return ctx.finding(
        node,
        message=message,
        evidence={
            "rows_read_total": read,
            "rows_total": node.rows_total,
            "rows_removed_total": removed,
            "removed_ratio": removed_ratio,
            "table_rows": table_rows,
            "table_pages_blocks": pages,
            "actual_loops": loops,
            "exclusive_time_ms": node.exclusive_time_ms,
            "time_share_ratio": share if ctx.timed else None,
            "cost_share_ratio": node.cost_share,
            "selective_filter": selective,
            "repeated_in_loop": repeated,
            "hash_join_probe": probe is not None,
            "disabled": node.disabled,
            "join_rows_total": None if probe is None else probe[0].rows_total,
            "join_other_side_rows_total": None if probe is None else probe[1],
        },
        suggestion=(
            _probe_suggestion(ctx, node, probe[1], probe[2])
            if probe is not None
            else _suggestion(ctx, node, repeated=repeated)
        ),
        severity=severity,
    )


def _hash_probe(
    node: PlanNode, t: SeqScanThresholds, table_rows: float
) -> tuple[PlanNode, float, list[Column]] | None:
    """The Hash Join this scan feeds as its probe side, when an index lookup would beat it.

    That is: a big table read whole, a join that keeps almost none of its rows, and a small
    other side, so looking up the matches of each of those few rows through an index on the
    join key (a nested loop) reads a tiny part of the table. Returns the join, the other side's
    row count and this table's join-key columns.
    """
    join = node.parent
    if join is None or join.node_type != "Hash Join" or node.parent_relationship != "Outer":
        return None
    if join.join_type not in (None, "Inner", "Semi", "Right"):
        return None  # outer/anti joins need every probe row anyway
    other = next((c for c in join.children if c.parent_relationship == "Inner"), None)
    if other is None or other.rows_total is None or join.rows_total is None:
        return None
    if table_rows < t.min_table_rows or not node.rows_total:
        return None
    if join.rows_total / node.rows_total > t.max_join_keep_ratio:
        return None
    if other.rows_total > t.max_lookup_rows:
        return None
    keys = [
        c.column
        for c in node_comparisons(node, "hash_cond", source=join)
        if c.other is not None and c.kind == "equality" and c.column.expression is None
    ]
    if not keys:
        return None
    return join, other.rows_total, keys


def _probe_suggestion(
    ctx: RuleContext, node: PlanNode, other_rows: float, keys: list[Column]
) -> str:
    names = ", ".join(str(c.name) for c in keys)
    have = existing_index(ctx.catalog, node.relation_name, [c.name for c in keys], node.schema_name)
    if have is not None:
        return (
            f"An index on the join key {names} exists ({have}); the planner read the whole "
            "table instead, most likely because it expected many more rows from the other "
            "side: check that side's row estimate (ANALYZE its tables)."
        )
    return (
        f"{create_index_sql(node, keys)}; with an index on the join key {names} the planner can "
        f"look up the matches of each of the {fmt_rows(other_rows)} rows of the other side (a "
        "nested loop of index lookups) instead of reading the whole table (CREATE INDEX "
        "CONCURRENTLY on a busy table; foreign-key columns are not indexed automatically)."
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Yield a finding for each Seq Scan whose filter or loop count makes an index worth it."""
    for node in ctx.plan.nodes():
        if node.node_type != "Seq Scan":
            continue
        finding = _check_analyzed(ctx, node) if ctx.plan.analyzed else _check_estimated(ctx, node)
        if finding is not None:
            yield finding


RULE = Rule(
    id="seq-scan",
    severity=Severity.WARNING,
    summary="Sequential scan that an index would help",
    check=check,
    thresholds=SeqScanThresholds,
    needs_analyze=False,
)
