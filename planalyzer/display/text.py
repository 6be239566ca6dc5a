"""Plain-text renderings: the plan tree as psql shows it, enriched; reports read like a DBA's note.

Everything here returns ``str`` and fits ``width`` columns (100 by default): long conditions are
wrapped under their node and shortened after a few lines. Colour is off unless the caller asks
for it (the CLI does, for a terminal only); ``str()`` of any object is never coloured.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from planalyzer.display._facts import (
    diff_headline,
    diff_rows,
    impact,
    impact_basis,
    node_details,
    readable_names,
    skipped_rules,
    statement_summary,
)
from planalyzer.display._format import (
    fmt_cost,
    fmt_count,
    fmt_factor,
    fmt_ms,
    fmt_share,
)
from planalyzer.display.theme import Painter, heat_level

if TYPE_CHECKING:
    from planalyzer.plan.compare import PlanDiff
    from planalyzer.plan.model import Plan, PlanNode
    from planalyzer.rules.finding import Finding
    from planalyzer.rules.report import Report

__all__ = [
    "MISESTIMATE_FACTOR",
    "render_diff",
    "render_finding",
    "render_node",
    "render_node_line",
    "render_plan",
    "render_report",
]

WIDTH = 100
"""Default line width: what fits a terminal split in two or a code review pane."""

MISESTIMATE_FACTOR = 10.0
"""Estimate factor from which a node's rows are flagged in the views.

A factor of 10 is the usual point where a DBA starts distrusting the planner's choice of join
strategy (the rule ``row-misestimate`` has its own, configurable threshold)."""

_INDENT = "   "
MAX_INDENT_LEVELS = 24
"""Deeper nodes are not indented further; their level is printed instead. Indenting a plan
thousands of levels deep would make the text grow with the square of its depth."""


def _indent(depth: int, width: int = WIDTH) -> str:
    """The indentation of a node at ``depth``: three spaces a level, capped, then the level.

    The cap shrinks with the width, so that even a deep node's text keeps room to wrap within
    ``width`` (the CLI refuses widths below 50).
    """
    levels = max(0, min(MAX_INDENT_LEVELS, (width - 46) // 3))
    if depth <= levels:
        return _INDENT * depth
    return _INDENT * levels + f"(level {depth}) "


_CONDITION_LINES = 4  # a condition longer than this many wrapped lines is shortened with "…"
_MARKS = {"critical": "!! ", "warning": "!  ", "info": "i  "}


# --- one node ---------------------------------------------------------------------------------


def render_node_line(node: PlanNode) -> str:
    """One node's header: id, name, then self time and share, rows vs estimate, loops.

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders",
        ...     "Total Cost": 7454.0, "Plan Rows": 3}})
        >>> render_node_line(plan.root)
        '[0] Seq Scan on orders  cost 7,454.00  est rows 3  self cost 100%'
    """
    return "".join(text for text, _ in _header(node))


def render_node(node: PlanNode, *, width: int = WIDTH) -> str:
    """One node on its own: the header line, then the lines psql prints under it.

    This is ``str(node)``; the node's children are not included.

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders",
        ...     "Total Cost": 7454.0, "Plan Rows": 3, "Filter": "(customer_id = 42)"}})
        >>> print(plan.root)
        [0] Seq Scan on orders  cost 7,454.00  est rows 3  self cost 100%
           Filter: (customer_id = 42)
    """
    lines = _wrap(render_node_line(node), "", _INDENT, width, 3)
    for detail in node_details(node):
        label, sep, value = detail.partition(": ")
        lines.extend(_wrap(value, f"{_INDENT}{label}{sep}", _INDENT * 2, width, _CONDITION_LINES))
    return "\n".join(lines)


def _header(node: PlanNode) -> list[tuple[str, str | None]]:
    """The header as (text, colour role) segments; the label is the first segment."""
    label = readable_names(node.display_name)
    segments: list[tuple[str, str | None]] = [(f"[{node.id}] {label}", "bold")]
    segments += [("  ", None), *_figures(node)]
    return segments


def _figures(node: PlanNode) -> list[tuple[str, str | None]]:
    """Time, rows and loops as psql's "actual" figures, each with its colour role."""
    out: list[tuple[str, str | None]] = []

    def add(text: str, role: str | None = None) -> None:
        if out:
            out.append(("  ", None))
        out.append((text, role))

    if node.actual_loops is None:  # plain EXPLAIN: estimates only
        add(f"cost {fmt_cost(node.total_cost)}")
        if node.plan_rows is not None:
            add(f"est rows {fmt_count(node.plan_rows)}")
        if node.cost_share is not None:
            add(f"self cost {fmt_share(node.cost_share)}", f"heat{heat_level(node.cost_share)}")
        return out
    if node.actual_loops == 0:
        add("(never executed)", "dim")
        return out
    if node.exclusive_time_ms is not None:
        share = "" if node.time_share is None else f" {fmt_share(node.time_share)}"
        add(f"self {fmt_ms(node.exclusive_time_ms)}{share}", f"heat{heat_level(node.time_share)}")
    rows = f"rows {fmt_count(node.actual_rows)}"
    if node.plan_rows is not None:
        rows += f" (est {fmt_count(node.plan_rows)}"
        factor = node.estimate_factor
        if factor is not None and factor >= MISESTIMATE_FACTOR:
            add(rows, None)
            out.append((f", {fmt_factor(factor)} {node.estimate_direction})", "warning"))
            rows = ""
        else:
            rows += ")"
    if rows:
        add(rows)
    if node.actual_loops != 1:
        add(f"loops {fmt_count(node.actual_loops)}")
    return out


def _wrap(text: str, first: str, rest: str, width: int, max_lines: int) -> list[str]:
    """Wrap ``text`` after ``first``, continuing under ``rest``; at most ``max_lines`` lines.

    Words longer than the room left are broken, so no line exceeds ``width`` when the
    indentation leaves at least a few columns (`_indent` sees to that for the tree).
    """
    width = max(width, len(first) + 8, len(rest) + 8)
    if text and len(first) + len(text) <= width and text.isprintable() and text == text.strip():
        return [first + text]  # fits as it is: what TextWrapper returns, at a fraction of its cost
    wrapper = textwrap.TextWrapper(
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        max_lines=max_lines,
        placeholder=" …",
    )
    return wrapper.wrap(text) or [first.rstrip()]


# --- the tree ---------------------------------------------------------------------------------


def render_plan(
    plan: Plan,
    *,
    mark: int | None = None,
    report: Report | None = None,
    width: int = WIDTH,
    color: bool = False,
) -> str:
    """The plan as an indented tree like psql's, with self time, share, rows and loops.

    Each node shows ``[id]`` (the id findings refer to), its name, its own time and share of
    the statement, actual rows with the estimate (and the factor when it is off by
    `MISESTIMATE_FACTOR` or more), loops when not 1, then its conditions and methods as psql
    prints them. Plans without ANALYZE show cost and estimated rows instead.

    Args:
        plan: the plan to draw.
        mark: a node id to flag with ``>>`` in the margin (assertion messages use it).
        report: findings to show: each node with findings gets a severity mark in the margin
            (``!!`` critical, ``!`` warning, ``i`` info) and the messages under it.
        width: the line width to fit.
        color: paint the heat of each node and the severities with ANSI codes.

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Limit", "Total Cost": 1.5, "Plan Rows": 1,
        ...     "Plans": [{"Node Type": "Seq Scan", "Relation Name": "t", "Total Cost": 1.2,
        ...                "Plan Rows": 10, "Filter": "(id > 1)"}]}})
        >>> print(render_plan(plan))
        [0] Limit  cost 1.50  est rows 1  self cost 20%
           -> [1] Seq Scan on t  cost 1.20  est rows 10  self cost 80%
                 Filter: (id > 1)
    """
    paint = Painter(enabled=color)
    by_node: dict[int, list[Finding]] = {}
    for finding in report.findings if report is not None else ():
        if finding.node_id is not None:
            by_node.setdefault(finding.node_id, []).append(finding)
    gutter = "   " if report is not None or mark is not None else ""
    lines: list[str] = []
    for warning in plan.warnings:
        wrapped = _wrap(warning, "Warning: ", "  ", width, 4)
        wrapped[0] = paint("Warning:", "warning") + wrapped[0][len("Warning:") :]
        lines.extend(wrapped)
    for node in plan.nodes():
        lines.extend(_node_lines(node, by_node.get(node.id, []), mark, gutter, width, paint))
    lines.extend(_statement_lines(plan, width))
    for finding in report.findings if report is not None else ():
        if finding.node_id is None:  # about the whole statement: JIT, triggers, planning
            head = f"{finding.severity.value.upper()} {finding.rule}: "
            wrapped = _wrap(finding.message, head, "  ", width, 3)
            wrapped[0] = paint(head, finding.severity.value) + wrapped[0][len(head) :]
            lines.extend(wrapped)
    return "\n".join(lines)


def _node_lines(
    node: PlanNode,
    findings: list[Finding],
    mark: int | None,
    gutter: str,
    width: int,
    paint: Painter,
) -> list[str]:
    """The header, the detail lines and the finding messages of one node."""
    indent = _indent(node.depth, width - len(gutter))
    arrow = "-> " if node.depth else ""
    # details sit under the node's name (blank where a deep node's level label stands)
    body = gutter + " " * (len(indent) + len(arrow)) + _INDENT
    margin, margin_role = "", None
    if node.id == mark:
        margin, margin_role = ">> ", "mark"
    elif findings:
        worst = max(findings, key=lambda f: f.severity.rank).severity.value
        margin, margin_role = _MARKS[worst], worst
    margin = (margin or gutter)[: len(gutter)]

    lines: list[str] = []
    if node.subplan_name:
        lines.append(gutter + indent + node.subplan_name)
    lead = indent + arrow
    segments = _header(node)
    plain = "".join(text for text, _ in segments)
    if len(gutter) + len(lead) + len(plain) <= width:
        painted = "".join(paint(text, role) for text, role in segments)
        lines.append(paint(margin, margin_role) + lead + painted)
    else:
        # Too wide: the label on its own line(s), the figures under it.
        label_lines = _wrap(segments[0][0], lead, body, width - len(gutter), 3)
        first = label_lines[0][len(lead) :]
        lines.append(paint(margin, margin_role) + lead + paint(first, "bold"))
        lines.extend(gutter + line for line in label_lines[1:])
        figures = segments[2:]
        figure_text = "".join(text for text, _ in figures)
        if len(body) + len(figure_text) <= width:
            lines.append(body + "".join(paint(text, role) for text, role in figures))
        else:
            lines.extend(_wrap(figure_text, body, body, width, 2))
    for detail in node_details(node):
        label, sep, value = detail.partition(": ")
        head = f"{body}{label}{sep}"
        wrapped = _wrap(value, head, body + "  ", width, _CONDITION_LINES)
        wrapped[0] = body + paint(label + sep, "dim") + wrapped[0][len(head) :]
        lines.extend(wrapped)
    for finding in findings:
        head = f"{body}{finding.severity.value.upper()} {finding.rule}: "
        wrapped = _wrap(finding.message, head, body + "  ", width, 3)
        role = finding.severity.value
        wrapped[0] = body + paint(head[len(body) :], role) + wrapped[0][len(head) :]
        lines.extend(wrapped)
    return lines


def _statement_lines(plan: Plan, width: int) -> list[str]:
    """Settings, triggers, JIT, planning and execution time, as psql ends a plan."""
    lines = []
    if plan.settings:
        text = ", ".join(f"{k} = {v!r}" for k, v in plan.settings.items())
        lines.extend(_wrap(text, "Settings: ", "  ", width, 3))
    for trigger in plan.triggers or ():
        name = trigger.trigger_name or trigger.constraint_name or "?"
        on = f" on {trigger.relation}" if trigger.relation else ""
        lines.extend(
            _wrap(
                f"time={fmt_ms(trigger.time_ms)} calls={fmt_count(trigger.calls)}",
                f"Trigger {name}{on}: ",
                "  ",
                width,
                2,
            )
        )
    if plan.jit is not None:
        total = plan.jit.total_ms
        functions = f"{plan.jit.functions} functions, " if plan.jit.functions is not None else ""
        lines.append(f"JIT: {functions}{fmt_ms(total)} in all")
    if plan.planning_time_ms is not None:
        lines.append(f"Planning Time: {plan.planning_time_ms:,.3f} ms")
    if plan.execution_time_ms is not None:
        lines.append(f"Execution Time: {plan.execution_time_ms:,.3f} ms")
    return lines


# --- findings and reports -----------------------------------------------------------------------


def render_finding(
    finding: Finding,
    *,
    plan: Plan | None = None,
    number: int | None = None,
    width: int = WIDTH,
    color: bool = False,
    impact_of: Finding | None = None,
) -> str:
    """One finding as a short paragraph: what, where, how much, then what to do.

    The time shown is the finding's impact (what the rule holds the problem responsible
    for), labelled as such, with where the figure comes from when a plan is given;
    ``impact_of`` names another finding whose impact stands for the whole problem.

    Example:
        >>> from planalyzer.rules.finding import Finding, Severity
        >>> f = Finding(rule="seq-scan", severity=Severity.WARNING, node_id=3,
        ...             message="Seq Scan on orders reads 300,000 rows to keep 3.",
        ...             suggestion="CREATE INDEX ON orders (customer_id).", impact_ms=15.7)
        >>> print(render_finding(f))
        WARNING seq-scan — node [3], impact 15.70 ms
           Seq Scan on orders reads 300,000 rows to keep 3.
           → CREATE INDEX ON orders (customer_id).
    """
    paint = Painter(enabled=color)
    role = finding.severity.value
    where = []
    if finding.node_id is not None:
        name = ""
        if plan is not None and 0 <= finding.node_id < len(plan.nodes()):
            name = f" {readable_names(plan.node(finding.node_id).display_name)}"
        where.append(f"node [{finding.node_id}]{name}")
    source = impact_of or finding
    explained = impact(source, plan)
    prefix = f"{number}. " if number is not None else ""
    pad = " " * max(len(prefix), 3)
    if explained and plan is None:
        where.append(f"impact {explained}")
    head = f"{prefix}{finding.severity.value.upper()} {finding.rule}"
    where_text = ", ".join(w for w in where if w)
    lines = _wrap(f"{head} — {where_text}" if where_text else head, "", pad, width, 3)
    lines[0] = paint(head, role) + lines[0][len(head) :]
    if explained and plan is not None:
        basis = impact_basis(source)
        lines.extend(
            _wrap(f"{explained}{': ' + basis if basis else ''}", pad + "impact ", pad + "  ",
                  width, 3)
        )  # fmt: skip
    lines.extend(_wrap(finding.message, pad, pad, width, 6))
    if finding.suggestion:
        lines.extend(_wrap(finding.suggestion, pad + "→ ", pad + "  ", width, 6))
    return "\n".join(lines)


def render_report(report: Report, *, width: int = WIDTH, color: bool = False) -> str:
    """The report as a DBA would write it: the statement in one line, then problems by impact.

    Findings that share nodes form one problem (`Report.problems`): its headline finding is
    written in full, with the time it explains counted once; the related findings follow as
    evidence, one line each with the node they are about. Rules that could not run on this
    plan are listed at the end.
    """
    plan = report.plan
    paint = Painter(enabled=color)
    counts = report.counts()
    summary = ", ".join(f"{n} {s.value}" for s, n in reversed(counts.items()) if n)
    lines = _wrap(statement_summary(plan), "", "  ", width, 3)
    for warning in plan.warnings:
        wrapped = _wrap(warning, "Warning: ", "  ", width, 4)
        wrapped[0] = paint("Warning:", "warning") + wrapped[0][len("Warning:") :]
        lines.extend(wrapped)
    problems = report.problems()
    if not report.findings:
        lines.append("No findings: nothing in this plan trips a rule.")
    else:
        noun = "problem" if len(problems) == 1 else "problems"
        findings = "finding" if len(report.findings) == 1 else "findings"
        lines.extend(
            _wrap(
                f"{len(problems)} {noun} ({len(report.findings)} {findings}: {summary}), "
                "most time first.",
                "",
                "  ",
                width,
                2,
            )
        )
    for number, problem in enumerate(problems, start=1):
        lines.append("")
        lines.append(
            render_finding(
                problem.headline,
                plan=plan,
                number=number,
                width=width,
                color=color,
                impact_of=max(
                    problem.findings,
                    key=lambda f: (f.impact_ms or 0.0, f is problem.headline),
                ),
            )
        )
        pad = " " * max(len(f"{number}. "), 3)
        if problem.related:
            lines.append(f"{pad}Evidence (related findings; their time is counted above):")
        for finding in problem.related:
            where = f" at node [{finding.node_id}]" if finding.node_id is not None else ""
            head = f"{pad}- {finding.severity.value} {finding.rule}{where}: "
            wrapped = _wrap(finding.message, head, pad + "  ", width, 3)
            lines.extend(wrapped)
    skipped = skipped_rules(report.rules_skipped)
    if skipped:
        lines.append("")
        lines.extend(_wrap(skipped, "Not checked: ", "  ", width, 4))
    return "\n".join(lines)


# --- comparison ----------------------------------------------------------------------------------


def render_diff(diff: PlanDiff, *, width: int = WIDTH, limit: int = 12) -> str:
    """A comparison as a DBA tells it: totals, then what changed, biggest change first.

    Example:
        >>> import planalyzer as pa
        >>> seq = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders",
        ...     "Total Cost": 7454.0, "Plan Rows": 3}})
        >>> idx = pa.parse({"Plan": {"Node Type": "Index Scan", "Relation Name": "orders",
        ...     "Index Name": "orders_customer_id_idx", "Total Cost": 8.44, "Plan Rows": 3}})
        >>> from planalyzer.plan.compare import compare
        >>> print(render_diff(compare(seq, idx)))
        Plan comparison: cost 7,454.00 → 8.44 (883× cheaper).
        changed  #0 Seq Scan on orders  cost 7,454.00
                 → #0 Index Scan using orders_customer_id_idx on orders  cost 8.44  (−7,445.56)
    """
    lines = _wrap(diff_headline(diff), "", "  ", width, 2)
    for warning in diff.warnings:
        lines.extend(_wrap(warning, "Warning: ", "  ", width, 4))
    rows = diff_rows(diff, limit=limit)
    for row in rows:
        tag = f"{row.kind:<9}"
        change = f"  ({row.delta_text})" if row.delta_text else ""
        before = f"{row.before_label}  {row.before_value}".rstrip()
        after = f"{row.after_label}  {row.after_value}".rstrip()
        if row.kind == "vanished":
            one = f"{tag}{before}"
        elif row.kind == "added":
            one = f"{tag}{after}"
        else:
            one = f"{tag}{before} → {after}{change}"
        if len(one) <= width:
            lines.append(one)
        else:
            lines.extend(_wrap(before, tag, " " * len(tag), width, 2))
            lines.extend(
                _wrap(f"→ {after}{change}", " " * len(tag), " " * (len(tag) + 2), width, 2)
            )
        if row.changes:
            pad = " " * len(tag)
            lines.extend(_wrap("; ".join(row.changes), pad + "also: ", pad + "  ", width, 3))
    matched = len(diff.matches) - sum(1 for r in rows if r.kind in ("changed", "matched"))
    if matched > 0:
        lines.append(f"{matched} more matched node{'s' if matched != 1 else ''} barely changed.")
    return "\n".join(lines)
