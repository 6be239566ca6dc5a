"""The notebook views on real plans: navigation, figures, labels, themes, layout at 800 px.

Each view is checked for structure, not pixels: every link resolves to an element of the same
view, the hottest nodes are reachable (their whole path is open), findings and nodes link
both ways, and nothing can force the page wider than 800 px (figures do not wrap, but wide
content scrolls in its own box). docs/screenshot.py shoots the same views in Chromium.
"""

from __future__ import annotations

import re

import pytest

import planalyzer as pa
from planalyzer.advisor.model import Advice, KeyColumn, QueryAdvice, Recommendation
from planalyzer.display import _css
from planalyzer.display._facts import impact_basis
from planalyzer.display._format import fmt_ms
from planalyzer.display.html import (
    COLLAPSE_AFTER,
    render_advice_html,
    render_diff_html,
    render_plan_html,
    render_report_html,
)
from planalyzer.plan.compare import compare
from tests.unit.display.html_check import assert_well_formed
from tests.unit.display.plans import fixture, scan, wide_plan
from tests.unit.display.tree import Tree, parse_tree
from tests.unit.plan.builders import corpus_path


@pytest.fixture(scope="module")
def big() -> pa.Plan:
    return pa.load(corpus_path("pev2/very_large_plan_object_form.json"))


@pytest.fixture(scope="module")
def small() -> pa.Plan:
    return fixture("nested-loop-blowup/fires--underestimated-outer")


def advice() -> Advice:
    """An advice as the advisor returns it, with HypoPG's internal name in a plan note."""
    create = "CREATE INDEX CONCURRENTLY orders_customer_id_created_at_idx ON public.orders " + (
        "USING btree (customer_id, created_at DESC)"
    )
    rec = Recommendation(
        name="orders_customer_id_created_at_idx",
        table="public.orders",
        columns=("customer_id", "created_at DESC"),
        key_columns=(KeyColumn(name="customer_id"), KeyColumn(name="created_at", descending=True)),
        create_sql=create,
        drop_sql="DROP INDEX CONCURRENTLY public.orders_customer_id_created_at_idx",
        size_bytes=6_750_000,
        queries=(0, 2),
        cost_before=18_020.5,
        cost_after=16.9,
        fixes=("`Seq Scan on orders` → Index Scan using <13566>btree_orders_customer_id",),
        reasons=("equality on `customer_id`, then the ORDER BY column",),
    )
    queries = tuple(
        QueryAdvice(
            position=i,
            sql=f"SELECT * FROM orders WHERE customer_id = {i + 1} ORDER BY created_at DESC",
            weight=w,
            cost_before=9010.25,
            cost_after=8.45 if i != 1 else 9010.25,
            indexes_used=("<13566>btree_orders_customer_id_created_at",) if i != 1 else (),
        )
        for i, w in enumerate((10.0, 1.0, 5.0))
    )
    return Advice(
        recommendations=(rec,),
        per_query=queries,
        cost_before=sum(q.cost_before * q.weight for q in queries),
        cost_after=sum(q.cost_after * q.weight for q in queries),
    )


def partitioned(children: int = 3000) -> pa.Plan:
    return wide_plan(children)


def spill_and_fix() -> tuple[pa.Plan, pa.Plan]:
    before = fixture("sort-spill/fires--external-merge")
    doc = before.to_json()
    sort = doc[0]["Plan"] if isinstance(doc, list) else doc["Plan"]
    while sort["Node Type"] != "Sort":
        sort = sort["Plans"][0]
    sort.update({"Sort Method": "quicksort", "Sort Space Type": "Memory", "Sort Space Used": 900})
    sort.pop("Temp Written Blocks", None)
    sort.pop("Temp Read Blocks", None)
    return before, pa.parse(doc)


def views() -> dict[str, str]:
    big = pa.load(corpus_path("pev2/very_large_plan_object_form.json"))
    small = fixture("nested-loop-blowup/fires--underestimated-outer")
    before, after = spill_and_fix()
    return {
        "small-plan": render_plan_html(small),
        "small-report": render_report_html(pa.analyze(small)),
        "big-report": render_report_html(pa.analyze(big)),
        "big-buffers": render_plan_html(big, heat="buffers"),
        "partitions": render_report_html(pa.analyze(partitioned())),
        "compare": render_diff_html(compare(before, after)),
        "advice": render_advice_html(advice()),
    }


VIEWS = views()


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_every_link_resolves_inside_its_view_and_ids_are_unique(name):
    tree = parse_tree(VIEWS[name])
    ids = [e.attrs["id"] for e in tree.elements if "id" in e.attrs]
    assert len(ids) == len(set(ids))
    hrefs = [e.attrs["href"] for e in tree.elements if e.tag == "a"]
    assert all(h.startswith("#") for h in hrefs)
    missing = {h for h in hrefs if h[1:] not in set(ids)}
    assert not missing, sorted(missing)[:5]


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_no_horizontal_overflow_at_800px(name):
    """Structural: what cannot wrap is short, and what is wide scrolls in its own box."""
    tree = parse_tree(VIEWS[name])
    for element in tree.elements:
        classes = element.classes
        if classes & {"pa-fig", "pa-share", "pa-badge", "pa-id"} or element.tag == "th":
            longest = max((len(w) for w in element.text.split()), default=0)
            assert len(element.text) <= 90, (name, element.text)
            assert longest <= 60, (name, element.text)
        if element.tag in ("table",):
            assert any("pa-scroll" in a.classes for a in element.ancestors), name
        style = element.attrs.get("style", "")
        for px in re.findall(r"(?:margin-left|padding-left|width):\s*(\d+)px", style):
            assert int(px) <= 300, (name, style)
    style = _css.STYLE
    assert re.search(r"div\.pa-view \{[^}]*max-width: 100%[^}]*overflow-x: auto", style)
    assert re.search(r"div\.pa-view pre \{[^}]*overflow-x: auto", style)
    assert re.search(r"\.pa-fig \{[^}]*white-space: nowrap", style)
    assert re.search(r"\.pa-scroll \{[^}]*overflow-x: auto", style)


def _path_open(tree: Tree, target_id: str) -> bool:
    element = tree.by_id[target_id]
    return all("open" in a.attrs for a in element.ancestors if a.tag == "details")


def test_big_plan_hot_nodes_are_linked_at_the_top_and_reachable(big):
    html = VIEWS["big-report"]
    tree = parse_tree(html)
    hot_list = next(e for e in tree.elements if "pa-hot" in e.classes)
    links = [e.attrs["href"][1:] for e in hot_list.descendants if e.tag == "a"]
    ranked = sorted(big.nodes(), key=lambda n: -(n.time_share or 0.0))
    assert len(links) == 5
    for node, anchor in zip(ranked[:5], links, strict=True):
        assert anchor.endswith(f"-n{node.id}")
        assert _path_open(tree, anchor)
    # The list sits above the tree: the two hottest nodes are linked before any node is drawn.
    assert html.index(f'href="#{links[1]}"') < html.index(f'id="{links[0]}"')


def test_big_plan_cold_subtrees_start_collapsed(big):
    assert len(big) > COLLAPSE_AFTER
    tree = parse_tree(VIEWS["big-report"])
    nodes = [e for e in tree.elements if e.tag == "details" and "pa-node" in e.classes]
    assert len(nodes) == len(big)
    closed = [e for e in nodes if "open" not in e.attrs]
    assert closed, "nothing collapsed on a 72-node plan"
    report = pa.analyze(big)
    for finding in report.findings:
        if finding.node_id is not None:
            assert _path_open(tree, _node_id(tree, finding.node_id))


def test_small_plan_is_open_everywhere(small):
    tree = parse_tree(VIEWS["small-plan"])
    nodes = [e for e in tree.elements if e.tag == "details" and "pa-node" in e.classes]
    assert len(nodes) == len(small)
    assert all("open" in e.attrs for e in nodes)


def _node_id(tree: Tree, node_id: int) -> str:
    matches = [i for i in tree.by_id if i.endswith(f"-n{node_id}")]
    assert matches, node_id
    return matches[0]


@pytest.mark.parametrize("name", ["small-report", "big-report"])
def test_findings_and_nodes_link_both_ways(name):
    tree = parse_tree(VIEWS[name])
    findings = [e for e in tree.elements if re.search(r"-f\d+$", e.attrs.get("id", ""))]
    assert findings
    for element in findings:
        anchor = element.attrs["id"]
        to_nodes = [
            e.attrs["href"][1:]
            for e in element.descendants
            if e.tag == "a" and re.search(r"-n\d+$", e.attrs["href"])
        ]
        assert to_nodes, element.text[:80]
        node = tree.by_id[to_nodes[0]]
        back = [e for e in node.descendants if e.tag == "a" and e.attrs["href"] == f"#{anchor}"]
        assert back, f"node {to_nodes[0]} does not link back to {anchor}"


def test_report_groups_findings_into_problems_with_time_counted_once(small):
    report = pa.analyze(small)
    problems = report.problems()
    assert any(p.related for p in problems)
    parsed = assert_well_formed(VIEWS["small-report"])
    text = " ".join(parsed.text.split())
    assert f"{len(problems)} problem" in text
    assert "Evidence — related findings, their time already counted above" in text
    assert text.count("impact ") == len(problems)  # one impact per problem, not per finding


def test_finding_time_is_labelled_as_impact_with_its_source(small):
    text = " ".join(assert_well_formed(VIEWS["small-report"]).text.split())
    problem = pa.analyze(small).problems()[0]
    source = max(problem.findings, key=lambda f: f.impact_ms or 0.0)
    assert source.impact_ms == problem.impact_ms
    assert f"impact {fmt_ms(problem.impact_ms)}" in text
    assert impact_basis(source) in text
    assert "the node's own time" not in text.split("impact", 1)[1][:60] or (
        source.rule == "seq-scan"
    )


def test_node_figures_total_self_startup_cost_on_an_analysed_plan(small):
    text = " ".join(assert_well_formed(VIEWS["small-plan"]).text.split())
    node = small.node(1)
    assert node.actual_loops
    assert f"self{pa_ms(node.exclusive_time_ms)}" in text.replace(" ", "")
    assert f"total{pa_ms(node.inclusive_time_ms)}" in text.replace(" ", "")
    assert "Actual Time: startup" in text
    assert f"Cost: {node.startup_cost:,.2f}..{node.total_cost:,.2f}" in text


def pa_ms(value: float | None) -> str:
    from planalyzer.display._format import fmt_ms

    return fmt_ms(value).replace(" ", "")


def test_workers_output_and_roles_are_shown():
    plan = pa.load(corpus_path("pev2/parallel_verbose.json"))
    html = render_plan_html(plan)
    tree = parse_tree(html)
    text = " ".join(tree.root.text.split())
    workers = [n for n in plan.nodes() if n.workers and n.workers[0].actual_rows is not None]
    assert workers
    assert "Worker 0:" in text
    outputs = [e for e in tree.elements if "pa-output" in e.classes]
    assert outputs
    assert all(e.tag == "details" and "open" not in e.attrs for e in outputs)
    ctes = pa.load(corpus_path("pev2/many_ctes.json"))
    cte_tree = parse_tree(render_plan_html(ctes))
    roles = [e.text for e in cte_tree.elements if "pa-role" in e.classes]
    assert any(r.startswith("CTE ") for r in roles)
    # each CTE Scan links to the body that computes its rows
    scans = [n for n in ctes.nodes() if n.node_type == "CTE Scan"]
    assert scans
    for reader in scans:
        element = cte_tree.by_id[_node_id(cte_tree, reader.id)]
        links = [e.attrs["href"][1:] for e in element.descendants if e.tag == "a"]
        bodies = [cte_tree.by_id[link] for link in links if link in cte_tree.by_id]
        assert any(
            any(r.text == f"CTE {reader.cte_name}" for r in b.descendants if "pa-role" in r.classes)
            for b in bodies
        ), reader.cte_name


def test_initplan_subplan_io_timings_and_query_text_are_shown():
    inner = scan("t", ms=1.0, **{"Parent Relationship": "InitPlan",
                                 "Subplan Name": "InitPlan 1 (returns $0)",
                                 "I/O Read Time": 0.75, "Shared Read Blocks": 12})  # fmt: skip
    sub = scan("u", ms=2.0, **{"Parent Relationship": "SubPlan", "Subplan Name": "SubPlan 2"})
    root = {**scan("v", ms=5.0), "Plans": [inner, sub]}
    plan = pa.parse({"Plan": root, "Query Text": "SELECT 1 FROM v WHERE x = (SELECT 2)"})
    tree = parse_tree(render_plan_html(plan))
    roles = [e.text for e in tree.elements if "pa-role" in e.classes]
    assert roles == ["InitPlan 1 (returns $0)", "SubPlan 2"]
    text = " ".join(tree.root.text.split())
    assert "I/O Timings: read=0.750 ms" in text
    assert "SELECT 1 FROM v WHERE x = (SELECT 2)" in text


def test_buffers_heat_colours_by_own_blocks(big):
    tree = parse_tree(VIEWS["big-buffers"])
    text = tree.root.text
    assert "Which nodes touch the most buffer blocks" in text
    assert "own blocks" in text
    with pytest.raises(ValueError, match="heat must be one of"):
        render_plan_html(big, heat="rainbow")


def test_partial_and_finalize_prefixes_are_kept_in_html_and_text():
    plan = pa.load(corpus_path("pev2/parallel_verbose.json"))
    names = [n.display_name for n in plan.nodes() if n.partial_mode not in (None, "Simple")]
    assert names
    assert all(n.split()[0] in ("Partial", "Finalize") for n in names)
    html_text = assert_well_formed(render_plan_html(plan)).text
    for name in names:
        assert name in html_text
        assert name in str(plan)


def test_huge_partitioned_append_is_capped_but_hot_nodes_are_linked():
    plan = partitioned()
    html = VIEWS["partitions"]
    assert len(html) < 400_000
    tree = parse_tree(html)
    hottest = max(plan.nodes(), key=lambda n: n.time_share or 0.0)
    assert _path_open(tree, _node_id(tree, hottest.id))


def test_polish_no_backticks_no_stray_semicolon_paren_no_hypopg_names():
    for name, html in VIEWS.items():
        text = assert_well_formed(html).text
        assert "`" not in text, name
        assert ";)" not in text, name
        assert not re.search(r"<\d+>\w+", text), name
    advice_text = " ".join(assert_well_formed(VIEWS["advice"]).text.split())
    assert "btree_orders_customer_id" not in advice_text.replace("hypothetical index", "")


def test_advice_numbers_statements_from_1_and_labels_weighted_vs_unweighted():
    tree = parse_tree(VIEWS["advice"])
    text = " ".join(tree.root.text.split())
    assert "Weighted workload cost" in text
    assert "unweighted" in text
    rows = [e for e in tree.elements if e.tag == "tr" and e.attrs.get("id", "").endswith("-s1")]
    assert rows  # statement numbers start at 1 ...
    assert not any(e.attrs.get("id", "").endswith("-s0") for e in tree.elements)
    serves = [e.text for e in tree.elements if e.tag == "a" and "-s" in e.attrs["href"]]
    assert serves == ["1", "3"]  # ... and the recommendation points at them the same way


def test_compare_shows_changes_besides_time_and_side_by_side():
    before, after = spill_and_fix()
    diff = compare(before, after)
    sort = next(m for m in diff.matches if m.before.node_type == "Sort")
    assert any(c.startswith("sort external merge") for c in sort.changes())
    tree = parse_tree(VIEWS["compare"])
    text = " ".join(tree.root.text.split())
    assert "sort external merge" in text
    assert "Side by side" in text
    side = next(e for e in tree.elements if e.tag == "table" and "pa-side" in e.classes)
    assert len([e for e in side.descendants if e.tag == "tr"]) == len(before) + 1 + len(diff.added)
    assert "inclusive" in text


def test_compare_of_different_statements_warns_in_every_view():
    one = fixture("sort-spill/fires--external-merge")
    other = pa.parse({"Plan": scan("something_else", ms=1.0)})
    diff = compare(one, other)
    assert any("no relation in common" in w for w in diff.warnings)
    assert diff.warnings[0].split()[0] in assert_well_formed(render_diff_html(diff)).text
    assert diff.warnings[0][:40] in str(diff).replace("\n", " ")


def test_plan_warnings_show_in_every_view(small):
    plan = pa.parse(small.to_json())
    plan.warnings.append("EXPLAIN ANALYZE ran the statement's side effects (rolled back).")
    assert "EXPLAIN ANALYZE ran the statement" in assert_well_formed(render_plan_html(plan)).text
    assert "EXPLAIN ANALYZE ran the statement" in str(plan)
    report = pa.analyze(plan)
    assert "EXPLAIN ANALYZE ran the statement" in str(report)
    assert (
        "EXPLAIN ANALYZE ran the statement" in assert_well_formed(render_report_html(report)).text
    )


# --- theme and contrast --------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    """WCAG 2.x contrast ratio, (L1 + 0.05) / (L2 + 0.05)."""
    high, low = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_on_known_pairs():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_text_colour_reaches_wcag_aa_on_its_background(theme):
    palette = _css.PALETTE[theme]
    for fg, bg in _css.TEXT_PAIRS:
        assert contrast(palette[fg], palette[bg]) >= 4.5, (theme, fg, bg)
    # JupyterLab's own page colours (its light and dark themes) stand in for ours there.
    page = {"light": "#ffffff", "dark": "#111111"}[theme]
    for role in ("muted", "link", "good", "bad", "critical-fg", "warning-fg", "info-fg"):
        assert contrast(palette[role], page) >= 4.5, (theme, role)


def test_heat_pills_reach_wcag_aa():
    for background, text in zip(_css.HEAT_COLOURS, _css.HEAT_TEXT, strict=True):
        assert contrast(text, background) >= 4.5, background


def test_style_sheet_is_scoped_and_beats_jupyterlab_table_rules():
    style = _css.STYLE
    selectors = re.findall(r"(?:^|\})\s*([^{}@]+?)\s*\{", style)
    for selector in selectors:
        for part in selector.split(","):
            part = part.strip()
            assert part.startswith("div.pa-view") or re.match(
                r"\[data-jp-theme-light=\"(true|false)\"\] div\.pa-view", part
            ), part
    assert re.search(r"div\.pa-view th, div\.pa-view td \{[^}]*text-align: left", style)
    assert re.search(r"div\.pa-view table \{[^}]*table-layout: auto", style)
    assert "@media (prefers-color-scheme: dark)" in style
    assert "var(--jp-layout-color0" in style
    assert "var(--jp-content-font-color1" in style
    assert re.search(r"td code, div\.pa-view \.pa-sql \{[^}]*word-break: normal", style)
