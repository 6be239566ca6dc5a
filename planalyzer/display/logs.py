"""Text and notebook HTML for a log summary (`planalyzer.logs.LogSummary`).

Both show the same figures in the same order: what was read, malformed entries with their
``file:line``, then each query group ranked by total time with its share, latency figures,
slowest entry, merged problems and plan shapes. HTML reuses the notebook style sheet and the
one escaping helper; every query text and message is user data and goes through `el`.
"""

from __future__ import annotations

import textwrap
from datetime import datetime

from planalyzer.display._css import STYLE
from planalyzer.display._escape import Markup, el
from planalyzer.display._format import fmt_bytes, fmt_count, fmt_ms, fmt_share
from planalyzer.display.theme import heat_level
from planalyzer.logs.summary import LogSummary, QueryGroup

__all__ = ["render_log_summary", "render_log_summary_html"]

_QUERY_CHARS = 600  # of a normalised statement shown; a 50 kB IN list must not flood the view
_MALFORMED_SHOWN = 10
_PROBLEMS_SHOWN = 8
_SHAPES_SHOWN = 6


def _clip(text: str, limit: int = _QUERY_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f" … ({len(text):,} characters)"


def _when(value: datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value else "?"


def _share(group: QueryGroup, summary: LogSummary) -> float | None:
    return group.total_ms / summary.total_ms if summary.total_ms > 0 else None


def _headline(summary: LogSummary) -> str:
    shown = (
        f" (top {len(summary.groups)} shown)" if len(summary.groups) < summary.group_count else ""
    )
    return (
        f"{summary.entries:,} auto_explain entries, {fmt_ms(summary.total_ms)} logged, in "
        f"{summary.group_count:,} query groups{shown} — {summary.files} file(s), "
        f"{summary.lines:,} lines, {fmt_bytes(summary.bytes)}, {summary.engine} engine"
    )


def _figures(group: QueryGroup) -> str:
    return (
        f"{fmt_count(group.count)} calls, total {fmt_ms(group.total_ms)}, mean "
        f"{fmt_ms(group.mean_ms)}, p50 {fmt_ms(group.p50_ms)}, p95 {fmt_ms(group.p95_ms)}, "
        f"max {fmt_ms(group.max_ms)}"
    )


def _shapes_note(group: QueryGroup) -> str:
    count = len(group.plan_shapes) + (1 if group.other_shapes else 0)
    return f"{count} plan shapes — the plan changed" if group.plan_changed else "1 plan shape"


def render_log_summary(summary: LogSummary, *, width: int = 100) -> str:
    """The summary as plain text, groups ranked by total time."""
    lines = [_headline(summary)]
    if summary.malformed_count:
        lines.append(f"Malformed entries: {summary.malformed_count:,} (not counted above)")
        lines += [f"  {m.source}: {m.reason}" for m in summary.malformed[:_MALFORMED_SHOWN]]
        if summary.malformed_count > _MALFORMED_SHOWN:
            lines.append(f"  … {summary.malformed_count - _MALFORMED_SHOWN:,} more")
    for rank, group in enumerate(summary.groups, start=1):
        lines.append("")
        lines.append(
            f"#{rank}  {fmt_share(_share(group, summary))} of logged time  " + _figures(group)
        )
        lines += textwrap.wrap(
            _clip(group.query), width, initial_indent="    ", subsequent_indent="    "
        )[:6]
        worst = group.worst
        lines.append(
            f"    slowest: {fmt_ms(worst.duration_ms)} at {worst.source} ({_when(worst.logged_at)})"
        )
        if group.problems:
            lines.append("    problems:")
        for problem in group.problems[:_PROBLEMS_SHOWN]:
            lines.append(
                f"      {problem.severity.value:<8} {problem.rule} in {problem.plans:,} of "
                f"{group.count:,} plans at {problem.node_path}"
            )
            lines += textwrap.wrap(
                problem.message, width, initial_indent="               ",
                subsequent_indent="               ",
            )[:3]  # fmt: skip
        hidden = len(group.problems) - _PROBLEMS_SHOWN + (1 if group.other_problems else 0)
        if hidden > 0:
            lines.append(f"      … {hidden} more problems")
        lines.append(f"    {_shapes_note(group)}:")
        for shape in group.plan_shapes[:_SHAPES_SHOWN]:
            lines.append(
                f"      {fmt_count(shape.count)}× mean {fmt_ms(shape.mean_ms)}, "
                f"{_when(shape.first_seen)} … {_when(shape.last_seen)}: "
                + _clip(shape.outline, width)
            )
    if not summary.groups:
        lines.append("No auto_explain entries found.")
    return "\n".join(lines)


def _group_html(rank: int, group: QueryGroup, summary: LogSummary) -> Markup:
    share = _share(group, summary)
    problems = [
        el(
            "div",
            el(
                "div",
                el("b", f"{p.severity.value.upper()} {p.rule}"),
                f" — in {p.plans:,} of {group.count:,} plans, at {p.node_path}",
            ),
            el("div", p.message, cls="pa-msg"),
            el("div", f"→ {p.suggestion}", cls="pa-suggest") if p.suggestion else None,
            cls=f"pa-finding pa-sev-{p.severity.value}",
        )
        for p in group.problems[:_PROBLEMS_SHOWN]
    ]
    shapes = el(
        "table",
        el(
            "tr",
            el("th", "plans", cls="pa-num"),
            el("th", "mean", cls="pa-num"),
            el("th", "first seen"),
            el("th", "last seen"),
            el("th", "shape"),
        ),
        [
            el(
                "tr",
                el("td", fmt_count(s.count), cls="pa-num"),
                el("td", fmt_ms(s.mean_ms), cls="pa-num"),
                el("td", _when(s.first_seen), title=s.first_source),
                el("td", _when(s.last_seen), title=s.last_source),
                el("td", _clip(s.outline), cls="pa-mono"),
            )
            for s in group.plan_shapes[:_SHAPES_SHOWN]
        ],
    )
    worst = group.worst
    return el(
        "details",
        el(
            "summary",
            el("span", f"#{rank}", cls="pa-id"),
            el("span", fmt_share(share), cls=f"pa-share pa-heat-{heat_level(share)}"),
            el("span", _clip(group.query, 120), cls="pa-mono"),
            el("span", _figures(group), cls="pa-fig"),
            el("span", "plan changed", cls="pa-badge pa-sev-warning")
            if group.plan_changed
            else None,
        ),
        el(
            "div",
            el("pre", _clip(group.query)),
            el(
                "div",
                f"Slowest: {fmt_ms(worst.duration_ms)} at {worst.source} "
                f"({_when(worst.logged_at)})",
                cls="pa-sub",
            ),
            problems or el("div", "No problems found in its plans.", cls="pa-note"),
            el("div", _shapes_note(group), cls="pa-head"),
            shapes,
            cls="pa-body",
        ),
        cls=f"pa-heat-{heat_level(share)}",
    )


def render_log_summary_html(summary: LogSummary) -> str:
    """The summary as a self-contained HTML fragment for notebooks (no script, scoped style)."""
    malformed = None
    if summary.malformed_count:
        malformed = el(
            "details",
            el("summary", f"Malformed entries: {summary.malformed_count:,}"),
            el("ul", [el("li", el("code", m.source), f": {m.reason}") for m in summary.malformed]),
            cls="pa-section",
        )
    return str(
        el(
            "div",
            Markup(f"<style>{STYLE}</style>"),
            el("div", _headline(summary), cls="pa-head"),
            malformed,
            [_group_html(rank, g, summary) for rank, g in enumerate(summary.groups, start=1)],
            None if summary.groups else el("div", "No auto_explain entries found.", cls="pa-note"),
            cls="pa-view pa-logs",
        )
    )
