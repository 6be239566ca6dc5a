"""Notebook HTML: a self-contained, collapsible view of plans, reports, advice and comparisons.

Every view is one ``<div class="pa-view">`` with a scoped ``<style>``: no JavaScript, no
external assets, so it renders in JupyterLab, VS Code, nbviewer and GitHub alike. Trees
collapse with ``<details>``. Each node's colour is its share of the statement's exclusive time
(cost share without ANALYZE) and the percentage is printed beside it. Every string that comes
from a plan goes through `planalyzer.display._escape` (the one escaping point). Plans larger
than ``max_nodes`` are shown as their hottest path and slowest nodes plus a count, so the
output stays small whatever the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from planalyzer.display._css import STYLE
from planalyzer.display._escape import Markup, el, join
from planalyzer.display._facts import (
    describe_rejected,
    diff_headline,
    diff_rows,
    impact,
    node_details,
    skipped_rules,
    statement_summary,
)
from planalyzer.display._format import (
    fmt_bytes,
    fmt_cost,
    fmt_count,
    fmt_factor,
    fmt_ms,
    fmt_share,
)
from planalyzer.display.text import MISESTIMATE_FACTOR
from planalyzer.display.theme import heat_level

if TYPE_CHECKING:
    from planalyzer.plan.compare import PlanDiff
    from planalyzer.plan.model import Plan, PlanNode
    from planalyzer.rules.finding import Finding
    from planalyzer.rules.report import Report

__all__ = [
    "MAX_NODES",
    "mimebundle",
    "render_advice_html",
    "render_diff_html",
    "render_finding_html",
    "render_plan_html",
    "render_report_html",
]

MAX_NODES = 500
"""Plans with more nodes than this are shown capped (hottest path + slowest nodes)."""

_MAX_TEXT = 2_000  # characters of one condition or statement shown; the rest is elided
_PATH_EDGE = 25  # a capped view's hottest path keeps this many nodes at each end
_SLOWEST = 20  # rows of the capped view's slowest-nodes table


def _view(*children: object, kind: str) -> str:
    """Wrap a view's content in the scoped root element with the style sheet."""
    return str(el("div", Markup(f"<style>{STYLE}</style>"), *children, cls=f"pa-view pa-{kind}"))


def _clip(text: str) -> str:
    """Shorten very long plan text (a 50 kB IN list) so one node cannot bloat the view."""
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + f" … ({len(text):,} characters)"


# --- nodes ------------------------------------------------------------------------------------


def _share(node: PlanNode) -> float | None:
    """What the colour encodes: exclusive time share, or exclusive cost share without timing."""
    return node.time_share if node.time_share is not None else node.cost_share


def _summary(node: PlanNode, findings: list[Finding]) -> Markup:
    """A node's one-line summary: share, id, name, figures, badges."""
    share = _share(node)
    parts: list[object] = [
        el("span", fmt_share(share) if share is not None else "–", cls="pa-share"),
        el("span", f"#{node.id}", cls="pa-id"),
        el("span", node.display_name, cls="pa-name"),
    ]
    if node.actual_loops == 0:
        parts.append(el("span", "never executed", cls="pa-badge pa-never"))
    elif node.actual_loops is not None:
        if node.exclusive_time_ms is not None:
            parts.append(el("span", f"self {fmt_ms(node.exclusive_time_ms)}", cls="pa-fig"))
        rows = f"rows {fmt_count(node.actual_rows)}"
        if node.plan_rows is not None:
            rows += f" / est {fmt_count(node.plan_rows)}"
        parts.append(el("span", rows, cls="pa-fig"))
        if node.actual_loops != 1:
            parts.append(el("span", f"loops {fmt_count(node.actual_loops)}", cls="pa-fig"))
    else:
        parts.append(el("span", f"cost {fmt_cost(node.total_cost)}", cls="pa-fig"))
        if node.plan_rows is not None:
            parts.append(el("span", f"est rows {fmt_count(node.plan_rows)}", cls="pa-fig"))
    factor = node.estimate_factor
    if factor is not None and factor >= MISESTIMATE_FACTOR and node.actual_loops:
        word = "under" if node.estimate_direction == "under" else "over"
        parts.append(
            el("span", f"rows {fmt_factor(factor)} {word}-estimated", cls="pa-badge pa-est")
        )
    for finding in findings:
        parts.append(
            el(
                "span",
                f"{finding.severity.value} · {finding.rule}",
                cls=f"pa-badge pa-sev-{finding.severity.value}",
                title=finding.message,
            )
        )
    return el("summary", parts)


def _finding_block(finding: Finding, plan: Plan | None = None) -> Markup:
    """A finding's message and suggestion, as shown under its node or in a report.

    With ``plan`` (the report's list) the header also names the node it is about.
    """
    head: list[object] = [el("b", f"{finding.severity.value.upper()} {finding.rule}")]
    if plan is not None and finding.node_id is not None and finding.node_id < len(plan.nodes()):
        head.append(f" — #{finding.node_id} {plan.node(finding.node_id).display_name}")
    explained = impact(finding, plan)
    if explained:
        head.append(f" — {explained}")
    return el(
        "div",
        el("div", head),
        el("div", finding.message, cls="pa-msg"),
        el("div", f"→ {finding.suggestion}", cls="pa-suggest") if finding.suggestion else None,
        cls=f"pa-finding pa-sev-{finding.severity.value}",
    )


def _body(node: PlanNode, findings: list[Finding]) -> Markup:
    """The detail lines psql prints under a node, then the messages of ``findings``."""
    lines = []
    for detail in node_details(node):
        label, sep, value = detail.partition(": ")
        lines.append(el("div", el("span", label + sep, cls="pa-k"), _clip(value), cls="pa-detail"))
    if node.subplan_name:
        lines.insert(0, el("div", node.subplan_name, cls="pa-detail pa-k"))
    lines.extend(_finding_block(f) for f in findings)
    return el("div", lines, cls="pa-body") if lines else Markup("")


def _tree(plan: Plan, by_node: dict[int, list[Finding]], *, messages: bool) -> Markup:
    """The whole tree as nested ``<details open>``, built without recursion.

    ``messages=False`` keeps findings as badges only (the report lists them above the tree).
    """
    # Post-order: children are rendered before their parent embeds them.
    rendered: dict[int, Markup] = {}
    for node in reversed(plan.nodes()):
        findings = by_node.get(node.id, [])
        kids = [rendered.pop(child.id) for child in node.children]
        cls = f"pa-node pa-heat-{heat_level(_share(node))}" + ("" if kids else " pa-leaf")
        rendered[node.id] = el(
            "details",
            _summary(node, findings),
            _body(node, findings if messages else []),
            el("div", kids, cls="pa-kids") if kids else None,
            cls=cls,
            open="",
        )
    return rendered[plan.root.id]


def _hottest_path(plan: Plan) -> list[PlanNode]:
    """From the root, always into the child with the most inclusive time (or cost)."""

    def weight(node: PlanNode) -> float:
        if node.inclusive_time_ms is not None:
            return node.inclusive_time_ms
        return node.total_cost or 0.0

    path = [plan.root]
    while path[-1].children:
        path.append(max(path[-1].children, key=weight))
    return path


def _flat_row(node: PlanNode, findings: list[Finding], *, indent: int) -> Markup:
    """A node of the capped view: a summary line indented by depth, its findings under it."""
    return el(
        "details",
        _summary(node, findings),
        _body(node, findings),
        cls=f"pa-node pa-leaf pa-heat-{heat_level(_share(node))}",
        style=f"margin-left: {min(indent, 40) * 12}px",
    )


def _capped(plan: Plan, by_node: dict[int, list[Finding]], max_nodes: int) -> Markup:
    """A bounded view of a huge plan: the hottest path and the slowest nodes, plus counts."""
    total = len(plan.nodes())
    path = _hottest_path(plan)
    rows: list[object] = []
    shown = path
    if len(path) > 2 * _PATH_EDGE:
        shown = path[:_PATH_EDGE] + path[-_PATH_EDGE:]
    for position, node in enumerate(shown):
        if len(path) > 2 * _PATH_EDGE and position == _PATH_EDGE:
            skipped = len(path) - 2 * _PATH_EDGE
            rows.append(el("div", f"… {skipped:,} more levels of this path …", cls="pa-note"))
        rows.append(_flat_row(node, by_node.get(node.id, []), indent=min(position, 40)))
    slow = sorted(plan.nodes(), key=lambda n: -(_share(n) or 0.0))[:_SLOWEST]
    table = el(
        "table",
        el("tr", el("th", "share", cls="pa-num"), el("th", "node"), el("th", "self", cls="pa-num")),
        (
            el(
                "tr",
                el("td", fmt_share(_share(n)), cls="pa-num"),
                el("td", f"#{n.id} {n.display_name}"),
                el("td", fmt_ms(n.exclusive_time_ms), cls="pa-num"),
            )
            for n in slow
        ),
    )
    note = (
        f"This plan has {total:,} nodes, more than the {max_nodes:,} this view draws in full: "
        f"shown are the hottest path ({len(path):,} nodes) and the {len(slow)} nodes with the "
        "largest share. str(plan) prints every node; plan.to_json() has all the data."
    )
    return join(
        [
            el("div", note, cls="pa-note"),
            el("div", "Hottest path", cls="pa-head pa-section"),
            rows,
            el("div", f"Slowest {len(slow)} nodes", cls="pa-head pa-section"),
            table,
        ]
    )


def _by_node(report: Report | None) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    for finding in report.findings if report is not None else ():
        if finding.node_id is not None:
            out.setdefault(finding.node_id, []).append(finding)
    return out


def _plan_content(
    plan: Plan, report: Report | None, max_nodes: int, *, messages: bool = True
) -> Markup:
    """Summary line, the tree (or its capped form) and the statement-level facts."""
    by_node = _by_node(report)
    if len(plan.nodes()) > max_nodes:
        tree = _capped(plan, by_node, max_nodes)
    else:
        tree = _tree(plan, by_node, messages=messages)
    kind = "time" if plan.timed else "estimated cost"
    legend = el(
        "div",
        "Colour and percentage: the node's share of the statement's ",
        kind,
        " spent in the node itself (children excluded) — ",
        (el("span", label, cls=f"pa-share pa-heat-{level}") for level, label in _LEGEND),
        cls="pa-legend",
    )
    footer = [el("div", line, cls="pa-detail pa-k") for line in _statement_facts(plan)]
    # Findings about the whole statement (JIT, triggers, planning) have no node to sit under.
    statement = [
        _finding_block(f)
        for f in (report.findings if report is not None and messages else ())
        if f.node_id is None
    ]
    return join([el("div", statement_summary(plan), cls="pa-sub"), statement, tree, footer, legend])


_LEGEND = ((0, "<5%"), (1, "5%+"), (2, "15%+"), (3, "30%+"), (4, "60%+"))


def _statement_facts(plan: Plan) -> Iterator[str]:
    """Triggers, JIT and settings: statement-level facts psql prints after the tree."""
    for trigger in plan.triggers or ():
        name = trigger.trigger_name or trigger.constraint_name or "?"
        yield f"Trigger {name}: {fmt_ms(trigger.time_ms)}, {fmt_count(trigger.calls)} calls"
    if plan.jit is not None:
        yield f"JIT: {plan.jit.functions or 0} functions, {fmt_ms(plan.jit.total_ms)} in all"
    if plan.settings:
        yield "Settings: " + ", ".join(f"{k} = {v}" for k, v in plan.settings.items())


def render_plan_html(
    plan: Plan,
    *,
    report: Report | None = None,
    analyze: bool = True,
    max_nodes: int = MAX_NODES,
) -> str:
    """The plan as a collapsible, heat-coloured tree with its findings as badges.

    Args:
        plan: the plan to draw.
        report: findings to show on the nodes; by default the plan is analysed with the
            default rules (``analyze=False`` draws the bare tree).
        analyze: run `planalyzer.analyze` when no report is given.
        max_nodes: beyond this many nodes, show the hottest path and slowest nodes only.
    """
    if report is None and analyze:
        from planalyzer.rules.report import analyze as run_rules

        report = run_rules(plan)
    return _view(_plan_content(plan, report, max_nodes), kind="plan")


def render_report_html(report: Report, *, max_nodes: int = MAX_NODES) -> str:
    """Findings ranked by impact (a table), then the plan tree with them marked."""
    plan = report.plan
    counts = ", ".join(f"{n} {s.value}" for s, n in reversed(report.counts().items()) if n)
    head = f"Findings: {counts}" if report.findings else "No findings"
    blocks = [_finding_block(f, plan) for f in report.findings]
    skipped = skipped_rules(report.rules_skipped)
    return _view(
        el("div", head, cls="pa-head"),
        blocks,
        el("div", f"Not checked: {skipped}", cls="pa-note") if skipped else None,
        el(
            "details",
            el("summary", "Plan"),
            _plan_content(plan, report, max_nodes, messages=False),
            cls="pa-section",
            open="",
        ),
        kind="report",
    )


def render_finding_html(finding: Finding) -> str:
    """One finding: severity, rule, impact, message and suggestion."""
    return _view(_finding_block(finding), kind="finding")


# --- advice -----------------------------------------------------------------------------------


def _texts(obj: Any, *attrs: str) -> list[str]:
    """The non-empty strings held by ``attrs`` of ``obj`` (each a str or a sequence of str)."""
    out: list[str] = []
    for attr in attrs:
        value = getattr(obj, attr, None)
        if isinstance(value, str):
            value = [value]
        out.extend(str(v) for v in value or () if v)
    return out


def _saving(before: float | None, after: float | None) -> str:
    return fmt_share(1 - after / before) if before and after is not None else "?"


_EVIDENCE_TITLE = (
    "estimated: planner with hypothetical indexes; sampled: checked against a sample of the "
    "real rows; measured: built and run by verify()"
)


def render_advice_html(advice: Any) -> str:
    """The recommended indexes as a table: cost before/after, saving, size, what each serves.

    Read through the advisor's public attributes with ``getattr`` so this layer never imports
    the advisor. Per-statement costs, notes, rejected candidates and the migration follow in
    collapsible sections.
    """
    recs = list(getattr(advice, "recommendations", ()) or ())
    total = sum(getattr(r, "size_bytes", 0) or 0 for r in recs)
    noun = "index" if len(recs) == 1 else "indexes"
    head = f"Recommended: {len(recs)} {noun}, {fmt_bytes(total)} in all"
    if not recs:
        head = "No index to recommend"
    before, after = getattr(advice, "cost_before", None), getattr(advice, "cost_after", None)
    sub = None
    if before and after is not None:
        sub = (
            f"Weighted workload cost {fmt_cost(before)} → {fmt_cost(after)} "
            f"(−{_saving(before, after)}), proven with hypothetical indexes."
        )
    rows = [
        el(
            "tr",
            el("th", "#", cls="pa-num"),
            el("th", "index"),
            el("th", "cost before", cls="pa-num"),
            el("th", "cost after", cls="pa-num"),
            el("th", "saving", cls="pa-num"),
            el("th", "size", cls="pa-num"),
            el("th", "serves", cls="pa-num"),
        )
    ]
    for number, rec in enumerate(recs, start=1):
        rec_before, rec_after = getattr(rec, "cost_before", None), getattr(rec, "cost_after", None)
        queries = getattr(rec, "queries", None)
        served = (
            "?"
            if queries is None
            else f"{len(queries)} statement" + ("s" if len(queries) != 1 else "")
        )
        badges = []
        if getattr(rec, "verifiable", True) is False:
            badges.append(el("span", "not verifiable with HypoPG", cls="pa-badge pa-sev-warning"))
        evidence = getattr(rec, "evidence", None)
        if evidence:
            badges.append(el("span", str(evidence), cls="pa-badge", title=_EVIDENCE_TITLE))
        lines = [el("div", text, cls="pa-note") for text in _texts(rec, "reasons", "fixes")]
        lines += [el("div", text, cls="pa-note pa-bad") for text in _texts(rec, "notes")]
        rows.append(
            el(
                "tr",
                el("td", number, cls="pa-num"),
                el(
                    "td",
                    el("span", getattr(rec, "name", None) or "", cls="pa-name"),
                    badges,
                    el("div", el("code", _clip(str(getattr(rec, "create_sql", ""))))),
                    lines,
                ),
                el("td", fmt_cost(rec_before), cls="pa-num"),
                el("td", fmt_cost(rec_after), cls="pa-num"),
                el("td", _saving(rec_before, rec_after), cls="pa-num pa-good"),
                el("td", fmt_bytes(getattr(rec, "size_bytes", None)), cls="pa-num"),
                el("td", served, cls="pa-num"),
            )
        )
    sections: list[object] = [
        el("div", head, cls="pa-head"),
        el("div", sub, cls="pa-sub") if sub else None,
        el("table", rows) if recs else None,
        (el("div", note, cls="pa-note") for note in _texts(advice, "notes")),
    ]
    per_query = list(getattr(advice, "per_query", ()) or ())
    if per_query:
        sections.append(_per_query_section(per_query))
    statistics = list(getattr(advice, "statistics", ()) or ())
    if statistics:
        sections.append(
            el(
                "details",
                el("summary", f"Statistics to add ({len(statistics)})"),
                el(
                    "ul",
                    (
                        el(
                            "li",
                            el("code", _clip(str(getattr(s, "create_sql", "")))),
                            el("div", f"{getattr(s, 'evidence', '')}: {getattr(s, 'reason', '')}"),
                        )
                        for s in statistics
                    ),
                ),
                cls="pa-section",
                open="",
            )
        )
    rejected = list(getattr(advice, "rejected", ()) or ())
    if rejected:
        sections.append(
            el(
                "details",
                el("summary", f"Considered and rejected ({len(rejected)})"),
                el("ul", (el("li", _clip(describe_rejected(r))) for r in rejected[:200])),
                cls="pa-section",
            )
        )
    migration = getattr(advice, "migration", None)
    if recs and callable(migration):
        up, _down = migration()
        sections.append(
            el(
                "details",
                el("summary", "Migration (up)"),
                el("pre", el("code", up), cls="pa-mono"),
                cls="pa-section",
            )
        )
    return _view(sections, kind="advice")


def _per_query_section(per_query: list[Any]) -> Markup:
    """Each statement's weight and cost before and after the recommended indexes."""
    rows = [
        el(
            "tr",
            el("th", "#", cls="pa-num"),
            el("th", "statement"),
            el("th", "weight", cls="pa-num"),
            el("th", "cost before", cls="pa-num"),
            el("th", "cost after", cls="pa-num"),
            el("th", "saving", cls="pa-num"),
        )
    ]
    for number, item in enumerate(per_query):
        before, after = getattr(item, "cost_before", None), getattr(item, "cost_after", None)
        sql = getattr(item, "sql", None) or getattr(item, "statement", None) or ""
        used = _texts(item, "indexes_used")
        rows.append(
            el(
                "tr",
                el("td", getattr(item, "position", number), cls="pa-num"),
                el(
                    "td",
                    el("code", _clip(str(sql))),
                    el("div", f"uses {', '.join(used)}", cls="pa-note") if used else None,
                    el("div", f"evidence: {item.evidence}", cls="pa-note")
                    if getattr(item, "evidence", None)
                    else None,
                    (el("div", t, cls="pa-note") for t in _texts(item, "notes")),
                ),
                el("td", fmt_count(getattr(item, "weight", None)), cls="pa-num"),
                el("td", fmt_cost(before), cls="pa-num"),
                el("td", fmt_cost(after), cls="pa-num"),
                el("td", _saving(before, after), cls="pa-num"),
            )
        )
    return el(
        "details", el("summary", "Per statement"), el("table", rows), cls="pa-section", open=""
    )


# --- comparison -------------------------------------------------------------------------------


def render_diff_html(diff: PlanDiff, *, max_nodes: int = MAX_NODES) -> str:
    """Before and after: totals, the changed/vanished/new nodes as a table, both trees."""
    rows = [
        el(
            "tr",
            el("th", ""),
            el("th", "before"),
            el("th", diff.measure, cls="pa-num"),
            el("th", ""),
            el("th", "after"),
            el("th", diff.measure, cls="pa-num"),
            el("th", "change", cls="pa-num"),
        )
    ]
    for row in diff_rows(diff, limit=200):
        before_cls = "pa-gone" if row.kind == "vanished" else None
        delta_cls = "pa-num " + ("pa-good" if row.delta < 0 else "pa-bad" if row.delta > 0 else "")
        rows.append(
            el(
                "tr",
                el("td", row.kind, cls="pa-k"),
                el("td", row.before_label, cls=before_cls),
                el("td", row.before_value, cls="pa-num"),
                el("td", "→" if row.kind != "vanished" else "✕"),
                el("td", row.after_label),
                el("td", row.after_value, cls="pa-num"),
                el("td", row.delta_text, cls=delta_cls.strip()),
            )
        )
    trees = [
        el(
            "details",
            el("summary", title),
            _plan_content(plan, None, max_nodes),
            cls="pa-section",
        )
        for title, plan in (("Plan before", diff.before), ("Plan after", diff.after))
    ]
    return _view(
        el("div", diff_headline(diff), cls="pa-head"),
        el("table", rows) if len(rows) > 1 else el("div", "No node changed.", cls="pa-note"),
        trees,
        kind="diff",
    )


# --- Jupyter's mime bundle --------------------------------------------------------------------


def mimebundle(
    obj: object,
    text: str,
    html_fn: Callable[[], str],
    *,
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> dict[str, str]:
    """``text/plain`` and ``text/html`` for ``_repr_mimebundle_``, honouring include/exclude.

    The HTML is only built when it is wanted (``exclude=["text/html"]`` costs nothing).

    Example:
        >>> mimebundle(None, "t", lambda: "<b>h</b>", include=None, exclude=["text/html"])
        {'text/plain': 't'}
    """
    wanted = {"text/plain", "text/html"}
    if include:
        wanted &= set(include)
    if exclude:
        wanted -= set(exclude)
    bundle: dict[str, str] = {}
    if "text/plain" in wanted:
        bundle["text/plain"] = text
    if "text/html" in wanted:
        bundle["text/html"] = html_fn()
    return bundle
