"""Notebook HTML: a self-contained, navigable view of plans, reports, advice and comparisons.

Every view is one ``<div class="pa-view">`` with a scoped ``<style>``: no JavaScript, no
external assets, so it renders in JupyterLab, VS Code, nbviewer and GitHub alike. Navigation is
plain links: every node has an anchor, a "where the time goes" list at the top links to the
hottest nodes, findings link to their nodes and nodes back to their findings. Trees collapse
with ``<details>``; on plans of more than `COLLAPSE_AFTER` nodes only the paths to the hot nodes
and to the nodes with findings start open. Each node's colour is its share of the statement's
exclusive time (or cost, or buffers, see ``heat``) and the percentage is printed beside it.
Every string that comes from a plan goes through `planalyzer.display._escape`. Plans larger
than ``max_nodes`` are shown as their hottest path and slowest nodes plus a count, so the
output stays small whatever the plan.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planalyzer.display._css import STYLE
from planalyzer.display._escape import Markup, el, join
from planalyzer.display._facts import (
    cost_line,
    describe_rejected,
    diff_headline,
    diff_rows,
    impact,
    impact_basis,
    io_timing_line,
    node_details,
    node_role,
    readable_names,
    skipped_rules,
    statement_summary,
    timing_line,
    worker_lines,
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
    from planalyzer.rules.problem import Problem
    from planalyzer.rules.report import Report

__all__ = [
    "COLLAPSE_AFTER",
    "HEATS",
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

COLLAPSE_AFTER = 50
"""Plans with more nodes than this start with cold subtrees collapsed."""

HEATS = ("time", "cost", "buffers")
"""What the colour can encode: exclusive time, exclusive cost, or exclusive buffer blocks."""

_HOT = 5  # entries of the "where the time goes" list
_MAX_TEXT = 2_000  # characters of one condition or statement shown; the rest is elided
_PATH_EDGE = 25  # a capped view's hottest path keeps this many nodes at each end
_SLOWEST = 20  # rows of the capped view's slowest-nodes list


def _view(*children: object, kind: str) -> str:
    """Wrap a view's content in the scoped root element with the style sheet."""
    return str(el("div", Markup(f"<style>{STYLE}</style>"), *children, cls=f"pa-view pa-{kind}"))


def _clip(text: str) -> str:
    """Shorten very long plan text (a 50 kB IN list) so one node cannot bloat the view."""
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + f" … ({len(text):,} characters)"


def _prose(text: str) -> Markup:
    """Text written for people (messages, suggestions, notes): `backticked` parts as code.

    HypoPG's internal index names (``<13566>btree_orders_customer_id``) are what the planner
    printed while an index was hypothetical; they are shown as the readable part only.
    """
    text = readable_names(_clip(text))
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick: leave the text alone
        return join([text])
    return join(el("code", part) if odd else part for odd, part in _alternate(parts))


def _alternate(parts: list[str]) -> Iterator[tuple[bool, str]]:
    for index, part in enumerate(parts):
        if part:
            yield index % 2 == 1, part


# --- context shared by the parts of one view ----------------------------------------------------


@dataclass
class _Ctx:
    """One plan's view: its anchors, its findings by node, what the colour encodes."""

    plan: Plan
    prefix: str
    heat: str = "time"
    report: Report | None = None
    messages: bool = True  # findings written under their nodes (False: listed above the tree)
    by_node: dict[int, list[Finding]] = field(default_factory=dict)
    number: dict[int, int] = field(default_factory=dict)  # id(finding) -> 1-based rank
    shares: dict[int, float | None] = field(default_factory=dict)

    def node_anchor(self, node_id: int) -> str:
        return f"{self.prefix}-n{node_id}"

    def finding_anchor(self, finding: Finding) -> str | None:
        number = self.number.get(id(finding))
        return None if number is None else f"{self.prefix}-f{number}"

    def share(self, node: PlanNode) -> float | None:
        if node.id not in self.shares:
            self.shares[node.id] = _heat_share(node, self.heat, self.plan)
        return self.shares[node.id]

    def node_link(self, node_id: int | None) -> Markup | None:
        if node_id is None or not 0 <= node_id < len(self.plan.nodes()):
            return None
        node = self.plan.node(node_id)
        return el(
            "a",
            f"#{node_id} {readable_names(node.display_name)}",
            href=f"#{self.node_anchor(node_id)}",
        )


def _prefix(plan: Plan, kind: str) -> str:
    """A short, stable prefix for the anchors of one view.

    Several views share one notebook page, so anchors need a prefix; deriving it from the plan
    (not a counter) keeps the HTML the same on every run.
    """
    sample = "|".join(n.node_type for n in plan.nodes()[:64])
    key = f"{kind}|{len(plan.nodes())}|{plan.root.total_cost}|{plan.total_time_ms}|{sample}"
    return f"pa{zlib.crc32(key.encode()):08x}"


def _context(plan: Plan, report: Report | None, *, kind: str, heat: str, messages: bool) -> _Ctx:
    if heat not in HEATS:
        raise ValueError(f"heat must be one of {', '.join(HEATS)}, not {heat!r}")
    ctx = _Ctx(plan=plan, prefix=_prefix(plan, kind), heat=heat, report=report, messages=messages)
    for number, finding in enumerate(report.findings if report is not None else (), start=1):
        ctx.number[id(finding)] = number
        if finding.node_id is not None:
            ctx.by_node.setdefault(finding.node_id, []).append(finding)
    return ctx


def _blocks(node: PlanNode) -> float | None:
    """Blocks a node touched itself: shared and local hits and reads, temp reads and writes."""
    values = (
        node.exclusive_shared_hit_blocks,
        node.exclusive_shared_read_blocks,
        node.exclusive_local_hit_blocks,
        node.exclusive_local_read_blocks,
        node.exclusive_temp_read_blocks,
        node.exclusive_temp_written_blocks,
    )
    if all(v is None for v in values):
        return None
    return float(sum(max(v or 0, 0) for v in values))


def _heat_share(node: PlanNode, heat: str, plan: Plan) -> float | None:
    """What the colour encodes for ``node``: its share of time, cost or buffer blocks."""
    if heat == "buffers":
        mine = _blocks(node)
        if mine is None:
            return None
        total = sum(_blocks(n) or 0.0 for n in plan.nodes())
        return mine / total if total else 0.0
    if heat == "time" and node.time_share is not None:
        return node.time_share
    return node.cost_share


# --- nodes ------------------------------------------------------------------------------------


def _fig(label: str, value: str) -> Markup:
    """One figure: a muted label and its value, never wrapped inside."""
    return el("span", el("span", label, cls="pa-k"), value, cls="pa-fig")


def _summary(node: PlanNode, ctx: _Ctx) -> Markup:
    """A node's one-line summary: share, id, name, role, figures, badges."""
    share = ctx.share(node)
    parts: list[object] = [
        el("span", fmt_share(share) if share is not None else "–", cls=_pill(share)),
        el("span", f"#{node.id}", cls="pa-id"),
        el("span", readable_names(node.display_name), cls="pa-name"),
    ]
    role = node_role(node)
    if role:
        parts.append(el("span", role, cls="pa-badge pa-role", title=_ROLE_HELP.get(role[:4], "")))
    if node.actual_loops == 0:
        parts.append(el("span", "never executed", cls="pa-badge pa-never"))
    elif node.actual_loops is not None:
        if node.exclusive_time_ms is not None:
            parts.append(_fig("self", fmt_ms(node.exclusive_time_ms)))
        if node.inclusive_time_ms is not None:
            parts.append(_fig("total", fmt_ms(node.inclusive_time_ms)))
        rows = fmt_count(node.actual_rows)
        if node.plan_rows is not None:
            rows += f" / est {fmt_count(node.plan_rows)}"
        parts.append(_fig("rows", rows))
        if node.actual_loops != 1:
            parts.append(_fig("loops", fmt_count(node.actual_loops)))
    else:
        parts.append(_fig("cost", fmt_cost(node.total_cost)))
        if node.plan_rows is not None:
            parts.append(_fig("est rows", fmt_count(node.plan_rows)))
    if ctx.heat == "buffers":
        blocks = _blocks(node)
        if blocks is not None:
            parts.append(_fig("own blocks", fmt_count(blocks)))
    factor = node.estimate_factor
    if factor is not None and factor >= MISESTIMATE_FACTOR and node.actual_loops:
        word = "under" if node.estimate_direction == "under" else "over"
        parts.append(
            el("span", f"rows {fmt_factor(factor)} {word}-estimated", cls="pa-badge pa-est")
        )
    for finding in ctx.by_node.get(node.id, []):
        anchor = ctx.finding_anchor(finding)
        label = f"{finding.severity.value} · {finding.rule}"
        parts.append(
            el(
                "span",
                el("a", label, href=f"#{anchor}") if anchor else label,
                cls=f"pa-badge pa-sev-{finding.severity.value}",
                title=finding.message,
            )
        )
    return el("summary", parts)


_ROLE_HELP = {
    "CTE ": "a WITH query's body: run once, read by the CTE Scans that name it",
    "Init": "an InitPlan: run once, its result used as a value by the node above",
    "SubP": "a SubPlan: run for each row of the node above (or once, if hashed)",
    "hash": "a hashed SubPlan: run once into a hash table the node above probes",
}


def _pill(share: float | None) -> str:
    return f"pa-share pa-heat-{heat_level(share)}"


def _finding_block(
    finding: Finding,
    ctx: _Ctx | None,
    *,
    number: int | None = None,
    impact_of: Finding | None = None,
) -> Markup:
    """A finding's head (severity, rule, node, impact), message and suggestion.

    ``impact_of`` is the finding whose impact stands for a whole problem (the largest of its
    findings', counted once), when that is not the headline's own.
    """
    head: list[object] = []
    if number is not None:
        head.append(f"{number}. ")
    head.append(el("b", f"{finding.severity.value.upper()} {finding.rule}"))
    link = ctx.node_link(finding.node_id) if ctx is not None else None
    if link is not None:
        head += [" at ", link]
    source = impact_of or finding
    explained = impact(source, ctx.plan if ctx is not None else None)
    lines: list[object] = [el("div", head)]
    if explained:
        basis = impact_basis(source)
        lines.append(
            el(
                "div",
                el("span", "impact ", cls="pa-k"),
                el("span", explained, cls="pa-fig", style="margin-left: 0"),
                el("span", f" — {basis}", cls="pa-k") if basis else None,
            )
        )
    lines.append(el("div", _prose(finding.message), cls="pa-msg"))
    if finding.suggestion:
        lines.append(el("div", "→ ", _prose(finding.suggestion), cls="pa-suggest"))
    anchor = ctx.finding_anchor(finding) if ctx is not None else None
    return el("div", lines, cls=f"pa-finding pa-sev-{finding.severity.value}", id=anchor)


def _detail(text: str, *, cls: str = "pa-detail") -> Markup:
    label, sep, value = text.partition(": ")
    if not sep:
        return el("div", text, cls=cls)
    return el("div", el("span", label + sep, cls="pa-k"), _clip(value), cls=cls)


def _body(node: PlanNode, ctx: _Ctx) -> Markup:
    """What psql prints under a node, the figures it leaves out, then the node's findings."""
    lines: list[object] = []
    for line in (timing_line(node), cost_line(node)):
        if line:
            lines.append(_detail(line))
    lines.extend(_detail(line) for line in node_details(node))
    io = io_timing_line(node)
    if io:
        lines.append(_detail(io))
    lines.extend(_detail(line) for line in worker_lines(node))
    if node.output:
        lines.append(
            el(
                "details",
                el("summary", f"Output: {len(node.output)} column" + "s" * (len(node.output) > 1)),
                el("div", el("code", _clip(", ".join(node.output))), cls="pa-detail"),
                cls="pa-output",
            )
        )
    body = _cte_body(node, ctx.plan)
    if body is not None:  # a CTE Scan reads rows the CTE's body produced elsewhere in the tree
        lines.append(
            el("div", el("span", "CTE body: ", cls="pa-k"), ctx.node_link(body.id), cls="pa-detail")
        )
    findings = ctx.by_node.get(node.id, [])
    if ctx.messages:
        lines.extend(_finding_block(f, ctx) for f in findings)
    elif findings:
        links = [
            el("a", f"{f.rule}", href=f"#{ctx.finding_anchor(f)}") for f in findings if ctx.number
        ]
        lines.append(
            el("div", el("span", "Findings: ", cls="pa-k"), _commas(links), cls="pa-detail")
        )
    return el("div", lines, cls="pa-body") if lines else Markup("")


def _cte_body(node: PlanNode, plan: Plan) -> PlanNode | None:
    """The node that computes the CTE a CTE Scan reads (its ``Subplan Name`` is ``CTE name``)."""
    if node.node_type != "CTE Scan" or not node.cte_name:
        return None
    name = f"CTE {node.cte_name}"
    return next((n for n in plan.nodes() if n.subplan_name == name), None)


def _commas(items: list[Markup]) -> Markup:
    out: list[object] = []
    for index, item in enumerate(items):
        if index:
            out.append(", ")
        out.append(item)
    return join(out)


def _hot_nodes(ctx: _Ctx) -> list[PlanNode]:
    """The nodes that take the most (time, cost or blocks) themselves, largest first."""
    ranked = sorted(
        (n for n in ctx.plan.nodes() if (ctx.share(n) or 0.0) > 0),
        key=lambda n: -(ctx.share(n) or 0.0),
    )
    return ranked[:_HOT]


def _open_ids(ctx: _Ctx, hot: list[PlanNode]) -> set[int] | None:
    """Nodes to render open: all (None) on small plans; else the paths to hot/flagged nodes."""
    if len(ctx.plan.nodes()) <= COLLAPSE_AFTER:
        return None
    targets = [*hot, *(ctx.plan.node(i) for i in ctx.by_node if 0 <= i < len(ctx.plan.nodes()))]
    opened: set[int] = {ctx.plan.root.id}
    for node in targets:
        walker: PlanNode | None = node
        while walker is not None and walker.id not in opened:
            opened.add(walker.id)
            walker = walker.parent
        opened.add(node.id)
    return opened


def _tree(ctx: _Ctx, opened: set[int] | None) -> Markup:
    """The whole tree as nested ``<details>``, built without recursion."""
    rendered: dict[int, Markup] = {}
    for node in reversed(ctx.plan.nodes()):  # post-order: children before their parent
        kids = [rendered.pop(child.id) for child in node.children]
        cls = f"pa-node pa-heat-{heat_level(ctx.share(node))}" + ("" if kids else " pa-leaf")
        rendered[node.id] = el(
            "details",
            _summary(node, ctx),
            _body(node, ctx),
            el("div", kids, cls="pa-kids") if kids else None,
            cls=cls,
            id=ctx.node_anchor(node.id),
            open="" if opened is None or node.id in opened else None,
        )
    return rendered[ctx.plan.root.id]


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


def _flat_row(node: PlanNode, ctx: _Ctx, *, indent: int) -> Markup:
    """A node of the capped view: a summary line indented by depth, its details under it."""
    return el(
        "details",
        _summary(node, ctx),
        _body(node, ctx),
        cls=f"pa-node pa-leaf pa-heat-{heat_level(ctx.share(node))}",
        id=ctx.node_anchor(node.id),
        style=f"margin-left: {min(indent, 20) * 12}px",
    )


def _capped(ctx: _Ctx, max_nodes: int) -> Markup:
    """A bounded view of a huge plan: the hottest path, then the slowest and flagged nodes."""
    plan = ctx.plan
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
        rows.append(_flat_row(node, ctx, indent=position))
    on_path = {n.id for n in shown}
    slow = sorted(plan.nodes(), key=lambda n: -(ctx.share(n) or 0.0))[:_SLOWEST]
    flagged = [plan.node(i) for i in sorted(ctx.by_node) if 0 <= i < total][:_SLOWEST]
    others = [n for n in dict.fromkeys([*slow, *flagged]) if n.id not in on_path]
    note = (
        f"This plan has {total:,} nodes, more than the {max_nodes:,} this view draws in full: "
        f"shown are the hottest path ({len(path):,} nodes) and the nodes with the largest share "
        "or a finding. str(plan) prints every node; plan.to_json() has all the data."
    )
    return join(
        [
            el("div", note, cls="pa-note"),
            el("div", "Hottest path", cls="pa-head pa-section"),
            rows,
            el("div", "Other slow or flagged nodes", cls="pa-head pa-section") if others else None,
            (_flat_row(n, ctx, indent=0) for n in others),
        ]
    )


def _where_time_goes(ctx: _Ctx, hot: list[PlanNode]) -> Markup | None:
    """The short list at the top: the hottest nodes, each a link to its place in the tree."""
    if not hot:
        return None
    title = {
        "time": "Where the time goes",
        "cost": "Where the estimated cost goes",
        "buffers": "Which nodes touch the most buffer blocks",
    }[ctx.heat]
    if ctx.heat == "time" and not ctx.plan.timed:
        title = "Where the estimated cost goes"
    items = []
    for node in hot:
        share = ctx.share(node)
        figure = None
        if ctx.heat == "time" and node.exclusive_time_ms is not None:
            figure = _fig("self", fmt_ms(node.exclusive_time_ms))
        elif ctx.heat == "buffers":
            figure = _fig("own blocks", fmt_count(_blocks(node)))
        items.append(
            el(
                "li",
                el("span", fmt_share(share), cls=_pill(share)),
                el(
                    "a",
                    f"#{node.id} {readable_names(node.display_name)}",
                    href=f"#{ctx.node_anchor(node.id)}",
                ),
                figure,
            )
        )
    return join(
        [
            el("div", title, cls="pa-head"),
            el("ul", items, cls="pa-hot"),
        ]
    )


def _warnings(warnings: Iterable[str]) -> Markup | None:
    items = [el("li", _prose(w)) for w in warnings]
    if not items:
        return None
    return el("div", el("b", "Read with care"), el("ul", items, style="margin: 2px 0"),
              cls="pa-warnings")  # fmt: skip


def _query_text(plan: Plan) -> Markup | None:
    text = plan.query_text or plan.sql
    if not text:
        return None
    return el(
        "details",
        el("summary", "Query text"),
        el("pre", el("code", _clip(text.strip()), cls="pa-sql")),
        cls="pa-section pa-query",
    )


def _plan_content(ctx: _Ctx, max_nodes: int) -> Markup:
    """Summary line, warnings, query, hot list, the tree (or its capped form), the footer."""
    plan = ctx.plan
    hot = _hot_nodes(ctx)
    if len(plan.nodes()) > max_nodes:
        tree = _capped(ctx, max_nodes)
    else:
        tree = _tree(ctx, _open_ids(ctx, hot))
    kind = {
        "time": "time" if plan.timed else "estimated cost",
        "cost": "estimated cost",
        "buffers": "buffer blocks (shared, local and temp, hit or read)",
    }[ctx.heat]
    legend = el(
        "div",
        "Colour and percentage: the node's share of the statement's ",
        kind,
        " spent in the node itself (children excluded); ",
        el("span", "self", cls="pa-k"),
        " is that figure, ",
        el("span", "total", cls="pa-k"),
        " includes the node's children, over all loops — ",
        (el("span", label, cls=_pill(share)) for share, label in _LEGEND),
        cls="pa-legend",
    )
    footer = [_detail(line, cls="pa-detail pa-k") for line in _statement_facts(plan)]
    # Findings about the whole statement (JIT, triggers, planning) have no node to sit under.
    statement = [
        _finding_block(f, ctx)
        for f in (ctx.report.findings if ctx.report is not None and ctx.messages else ())
        if f.node_id is None
    ]
    return join(
        [
            el("div", statement_summary(plan), cls="pa-sub"),
            _warnings(plan.warnings),
            _query_text(plan),
            _where_time_goes(ctx, hot),
            statement,
            tree,
            footer,
            legend,
        ]
    )


_LEGEND = ((0.0, "<5%"), (0.05, "5%+"), (0.15, "15%+"), (0.30, "30%+"), (0.60, "60%+"))


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
    heat: str = "time",
) -> str:
    """The plan as a collapsible, heat-coloured tree with its findings as badges.

    Args:
        plan: the plan to draw.
        report: findings to show on the nodes; by default the plan is analysed with the
            default rules (``analyze=False`` draws the bare tree).
        analyze: run `planalyzer.analyze` when no report is given.
        max_nodes: beyond this many nodes, show the hottest path and slowest nodes only.
        heat: what the colour encodes: ``"time"`` (exclusive time; cost without timing),
            ``"cost"`` (exclusive estimated cost) or ``"buffers"`` (blocks the node itself hit,
            read or wrote, as PEV2's buffers highlight).
    """
    if report is None and analyze:
        from planalyzer.rules.report import analyze as run_rules

        report = run_rules(plan)
    ctx = _context(plan, report, kind="plan", heat=heat, messages=True)
    return _view(_plan_content(ctx, max_nodes), kind="plan")


def _impact_source(problem: Problem) -> Finding:
    """The finding whose impact is the problem's (the largest, counted once)."""
    findings = list(problem.findings)
    return max(findings, key=lambda f: (f.impact_ms or 0.0, f is problem.headline))


def _problem_block(problem: Problem, number: int, ctx: _Ctx) -> Markup:
    """A problem: its headline finding, the time counted once, the related findings below."""
    block = _finding_block(problem.headline, ctx, number=number, impact_of=_impact_source(problem))
    related = list(problem.related)
    if not related:
        return el("div", block, id=f"{ctx.prefix}-p{number}", cls="pa-problem")
    items = []
    for finding in related:
        link = ctx.node_link(finding.node_id)
        items.append(
            el(
                "li",
                el("b", f"{finding.severity.value} {finding.rule}"),
                [" at ", link] if link is not None else None,
                ": ",
                _prose(finding.message),
                id=ctx.finding_anchor(finding),
            )
        )
    evidence = el(
        "div",
        el(
            "div",
            el("span", _EVIDENCE, cls="pa-k"),
        ),
        el("ul", items, cls="pa-evidence"),
        cls=f"pa-finding pa-sev-{problem.severity.value}",
        style="margin-top: -4px",
    )
    return el("div", block, evidence, id=f"{ctx.prefix}-p{number}", cls="pa-problem")


_EVIDENCE = "Evidence — related findings, their time already counted above:"


def render_report_html(report: Report, *, max_nodes: int = MAX_NODES, heat: str = "time") -> str:
    """Problems ranked by the time they explain, then the plan tree with them marked."""
    plan = report.plan
    ctx = _context(plan, report, kind="report", heat=heat, messages=False)
    counts = ", ".join(f"{n} {s.value}" for s, n in reversed(report.counts().items()) if n)
    problems = report.problems()
    if report.findings:
        noun = "problem" if len(problems) == 1 else "problems"
        head = f"{len(problems)} {noun} ({len(report.findings)} findings: {counts})"
    else:
        head = "No findings"
    blocks = [_problem_block(p, n, ctx) for n, p in enumerate(problems, start=1)]
    skipped = skipped_rules(report.rules_skipped)
    return _view(
        el("div", head, cls="pa-head"),
        blocks,
        el("div", f"Not checked: {skipped}", cls="pa-note") if skipped else None,
        el(
            "details",
            el("summary", "Plan"),
            _plan_content(ctx, max_nodes),
            cls="pa-section",
            open="",
        ),
        kind="report",
    )


def render_finding_html(finding: Finding) -> str:
    """One finding: severity, rule, impact, message and suggestion."""
    return _view(_finding_block(finding, None), kind="finding")


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


def _statement_numbers(positions: Iterable[int], prefix: str) -> Markup:
    """Links to the per-statement rows, numbered from 1 as everywhere else."""
    return _commas(
        [el("a", str(p + 1), href=f"#{prefix}-s{p + 1}") for p in sorted(set(positions))]
    )


def render_advice_html(advice: Any) -> str:
    """The recommended indexes as a table: cost before/after, saving, size, what each serves.

    Read through the advisor's public attributes with ``getattr`` so this layer never imports
    the advisor. The headline is the weighted workload cost; each index's columns are the
    planner cost of the statements it serves, unweighted, and say so. Per-statement costs,
    notes, rejected candidates and the migration follow in collapsible sections.
    """
    recs = list(getattr(advice, "recommendations", ()) or ())
    per_query = list(getattr(advice, "per_query", ()) or ())
    key = "|".join(str(getattr(r, "create_sql", "")) for r in recs) + "||"
    key += "|".join(str(getattr(q, "sql", "")) for q in per_query)
    prefix = f"pa{zlib.crc32(key.encode()):08x}"
    total = sum(getattr(r, "size_bytes", 0) or 0 for r in recs)
    noun = "index" if len(recs) == 1 else "indexes"
    head = f"Recommended: {len(recs)} {noun}, {fmt_bytes(total)} in all"
    if not recs:
        head = "No index to recommend"
    before, after = getattr(advice, "cost_before", None), getattr(advice, "cost_after", None)
    sub = None
    if before and after is not None:
        sub = (
            f"Weighted workload cost (each statement's cost × its weight, summed) "
            f"{fmt_cost(before)} → {fmt_cost(after)} (−{_saving(before, after)}), "
            "proven with hypothetical indexes."
        )
    rows = [
        el(
            "tr",
            el("th", "#", cls="pa-num"),
            el("th", "index"),
            el("th", "cost before¹", cls="pa-num"),
            el("th", "cost after¹", cls="pa-num"),
            el("th", "saving", cls="pa-num"),
            el("th", "size", cls="pa-num"),
            el("th", "serves statements", cls="pa-num"),
        )
    ]
    for number, rec in enumerate(recs, start=1):
        rec_before, rec_after = getattr(rec, "cost_before", None), getattr(rec, "cost_after", None)
        queries = getattr(rec, "queries", None)
        served: object = "?"
        if queries is not None and all(isinstance(q, int) for q in queries):
            served = _statement_numbers(queries, prefix)
        elif queries is not None:
            served = f"{len(queries)} statement" + ("s" if len(queries) != 1 else "")
        badges = []
        if getattr(rec, "verifiable", True) is False:
            badges.append(el("span", "not verifiable with HypoPG", cls="pa-badge pa-sev-warning"))
        evidence = getattr(rec, "evidence", None)
        if evidence:
            badges.append(el("span", str(evidence), cls="pa-badge", title=_EVIDENCE_TITLE))
        lines = [el("div", _prose(t), cls="pa-note") for t in _texts(rec, "reasons", "fixes")]
        lines += [el("div", _prose(t), cls="pa-note pa-bad") for t in _texts(rec, "notes")]
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
    footnote = el(
        "div",
        "¹ planner cost of the statements the index serves, unweighted, without and with the "
        "recommended set.",
        cls="pa-note",
    )
    sections: list[object] = [
        el("div", head, cls="pa-head"),
        el("div", sub, cls="pa-sub") if sub else None,
        (el("div", el("table", rows), cls="pa-scroll"), footnote) if recs else None,
        (el("div", _prose(note), cls="pa-note") for note in _texts(advice, "notes")),
    ]
    if per_query:
        sections.append(_per_query_section(per_query, prefix))
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
                            el(
                                "div",
                                _prose(f"{getattr(s, 'evidence', '')}: {getattr(s, 'reason', '')}"),
                            ),
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
                el("ul", (el("li", _prose(describe_rejected(r))) for r in rejected[:200])),
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


def _per_query_section(per_query: list[Any], prefix: str) -> Markup:
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
    for index, item in enumerate(per_query):
        before, after = getattr(item, "cost_before", None), getattr(item, "cost_after", None)
        sql = getattr(item, "sql", None) or getattr(item, "statement", None) or ""
        used = [readable_names(u) for u in _texts(item, "indexes_used")]
        number = int(getattr(item, "position", index)) + 1  # positions count from 0
        rows.append(
            el(
                "tr",
                el("td", number, cls="pa-num"),
                el(
                    "td",
                    el("code", _clip(str(sql))),
                    el("div", f"uses {', '.join(used)}", cls="pa-note") if used else None,
                    el("div", f"evidence: {item.evidence}", cls="pa-note")
                    if getattr(item, "evidence", None)
                    else None,
                    (el("div", _prose(t), cls="pa-note") for t in _texts(item, "notes")),
                ),
                el("td", fmt_count(getattr(item, "weight", None)), cls="pa-num"),
                el("td", fmt_cost(before), cls="pa-num"),
                el("td", fmt_cost(after), cls="pa-num"),
                el("td", _saving(before, after), cls="pa-num"),
                id=f"{prefix}-s{number}",
            )
        )
    return el(
        "details",
        el("summary", "Per statement (costs unweighted)"),
        el("div", el("table", rows), cls="pa-scroll"),
        cls="pa-section",
        open="",
    )


# --- comparison -------------------------------------------------------------------------------


def _side_by_side(diff: PlanDiff, before: _Ctx, after: _Ctx) -> Markup:
    """Both plans in one table: each node of the plan before beside its match after.

    Rows follow the first plan's order; nodes only in the second plan follow their matched
    parent. Times are inclusive (the node and its children) and self (the node alone).
    """
    measure = diff.measure
    head = el(
        "tr",
        el("th", "before"),
        el("th", "total" if measure == "time" else "cost", cls="pa-num"),
        el("th", "self" if measure == "time" else "", cls="pa-num"),
        el("th", "after"),
        el("th", "total" if measure == "time" else "cost", cls="pa-num"),
        el("th", "self" if measure == "time" else "", cls="pa-num"),
        el("th", "what changed"),
    )
    added_under: dict[int | None, list[PlanNode]] = {}
    for node in diff.added:
        parent = node.parent
        match = diff.match_after(parent.id) if parent is not None else None
        added_under.setdefault(match.before.id if match else None, []).append(node)

    def cells(node: PlanNode | None, ctx: _Ctx) -> list[Markup]:
        if node is None:
            return [el("td", ""), el("td", ""), el("td", "")]
        name = el(
            "a",
            f"#{node.id} {readable_names(node.display_name)}",
            href=f"#{ctx.node_anchor(node.id)}",
            style=f"padding-left: {min(node.depth, 20) * 12}px",
        )
        if measure == "time":
            figures = [fmt_ms(node.inclusive_time_ms), fmt_ms(node.exclusive_time_ms)]
        else:
            figures = [fmt_cost(node.total_cost), ""]
        return [el("td", name), *(el("td", f, cls="pa-num") for f in figures)]

    rows = [head]
    for node in diff.before.nodes()[:MAX_NODES]:
        match = diff.match_before(node.id)
        other = match.after if match is not None else None
        changes = "; ".join(match.changes()) if match is not None else "gone"
        if match is not None and match.changed:
            changes = f"{match.before.node_type} → {match.after.node_type}" + (
                f"; {changes}" if changes else ""
            )
        rows.append(
            el(
                "tr",
                cells(node, before),
                cells(other, after),
                el("td", changes, cls="pa-gone" if match is None else None),
            )
        )
        for new in added_under.pop(node.id, []):
            rows.append(el("tr", cells(None, before), cells(new, after), el("td", "new")))
    for leftovers in added_under.values():
        for new in leftovers:
            rows.append(el("tr", cells(None, before), cells(new, after), el("td", "new")))
    return el(
        "details",
        el("summary", "Side by side"),
        el("div", el("table", rows, cls="pa-side"), cls="pa-scroll"),
        cls="pa-section",
        open="",
    )


def render_diff_html(diff: PlanDiff, *, max_nodes: int = MAX_NODES) -> str:
    """Before and after: totals, warnings, what changed, side by side, then both trees."""
    before = _context(diff.before, None, kind="before", heat="time", messages=False)
    after = _context(diff.after, None, kind="after", heat="time", messages=False)
    label = "total time" if diff.measure == "time" else "total cost"
    rows = [
        el(
            "tr",
            el("th", ""),
            el("th", "before"),
            el("th", label, cls="pa-num"),
            el("th", ""),
            el("th", "after"),
            el("th", label, cls="pa-num"),
            el("th", "change", cls="pa-num"),
            el("th", "besides " + ("time" if diff.measure == "time" else "cost")),
        )
    ]
    for row in diff_rows(diff, limit=200):
        before_cls = "pa-gone" if row.kind == "vanished" else None
        delta_cls = "pa-num " + ("pa-good" if row.delta < 0 else "pa-bad" if row.delta > 0 else "")
        rows.append(
            el(
                "tr",
                el("td", row.kind, cls="pa-k"),
                el("td", _link(row.before_id, row.before_label, before), cls=before_cls),
                el("td", row.before_value, cls="pa-num"),
                el("td", "→" if row.kind != "vanished" else "✕"),
                el("td", _link(row.after_id, row.after_label, after)),
                el("td", row.after_value, cls="pa-num"),
                el("td", row.delta_text, cls=delta_cls.strip()),
                el("td", "; ".join(row.changes)),
            )
        )
    trees = [
        el(
            "details",
            el("summary", title),
            _plan_content(ctx, max_nodes),
            cls="pa-section",
        )
        for title, ctx in (("Plan before", before), ("Plan after", after))
    ]
    note = (
        "Times are inclusive: a node with everything under it, over all loops."
        if diff.measure == "time"
        else "Costs are the planner's total cost of a node with everything under it."
    )
    return _view(
        el("div", diff_headline(diff), cls="pa-head"),
        _warnings(diff.warnings),
        el("div", note, cls="pa-note"),
        el("div", el("table", rows), cls="pa-scroll")
        if len(rows) > 1
        else el("div", "No node changed.", cls="pa-note"),
        _side_by_side(diff, before, after),
        trees,
        kind="diff",
    )


def _link(node_id: int | None, label: str, ctx: _Ctx) -> object:
    if node_id is None:
        return label
    return el("a", label, href=f"#{ctx.node_anchor(node_id)}")


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
