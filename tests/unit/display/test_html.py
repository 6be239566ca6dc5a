"""Notebook HTML: well formed, every node present, plan text escaped, size capped, bundles."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import planalyzer as pa
from planalyzer.display.html import (
    MAX_NODES,
    mimebundle,
    render_advice_html,
    render_finding_html,
    render_plan_html,
    render_report_html,
)
from planalyzer.display.theme import heat_level
from planalyzer.plan.compare import compare
from planalyzer.rules.finding import Finding, Severity
from planalyzer.rules.report import Report
from tests.unit.display.html_check import assert_well_formed
from tests.unit.display.plans import all_fixture_paths, deep_plan, fixture, wide_plan
from tests.unit.display.test_text import hand_report

EVIL = "<script>alert('x')</script>"


def evil_plan() -> pa.Plan:
    return pa.parse(
        {
            "Plan": {
                "Node Type": "Hash Join",
                "Hash Cond": f"(a.id = b.{EVIL})",
                "Total Cost": 10.0,
                "Plan Rows": 1,
                "Plans": [
                    {"Node Type": "Seq Scan", "Relation Name": EVIL, "Alias": "a",
                     "Filter": f"(note = '{EVIL}' AND x < 3 & y > 2)", "Total Cost": 4.0,
                     "Plan Rows": 1},
                    {"Node Type": "Index Scan", "Relation Name": "b", "Index Name": EVIL,
                     "Total Cost": 4.0, "Plan Rows": 1},
                ],
            }
        }
    )  # fmt: skip


@pytest.mark.parametrize("path", all_fixture_paths(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_fixture_is_well_formed_and_shows_every_node(path):
    plan = pa.load(path)
    report = pa.analyze(plan)
    for markup in (render_plan_html(plan, report=report), render_report_html(report)):
        parsed = assert_well_formed(markup)
        for node in plan.nodes():
            assert f"#{node.id}{node.display_name}" in parsed.text.replace("\n", "")
        for finding in report.findings:
            assert finding.message in parsed.text or finding.message in str(parsed.attrs)


def test_plan_text_is_escaped_everywhere():
    plan = evil_plan()
    finding = Finding(
        rule="seq-scan", severity=Severity.WARNING, node_id=1, message=f"Seq Scan on {EVIL}",
        suggestion=f"CREATE INDEX ON {EVIL} (x)",
    )  # fmt: skip
    report = Report(plan=plan, findings=(finding,))
    for markup in (
        render_plan_html(plan, analyze=False),
        render_report_html(report),
        render_finding_html(finding),
        compare(plan, plan)._repr_html_(),
    ):
        parsed = assert_well_formed(markup)
        assert "<script" not in markup
        assert EVIL in parsed.text  # shown to the reader as text
    text = assert_well_formed(render_report_html(report)).text
    assert f"Filter: (note = '{EVIL}' AND x < 3 & y > 2)" in text


def test_node_colour_follows_its_share_and_the_number_is_printed():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    parsed = assert_well_formed(render_plan_html(plan, analyze=False))
    details = [a for tag, a in zip(parsed.tags, parsed.attrs, strict=True) if tag == "details"]
    assert len(details) == len(plan.nodes())
    for node, attrs in zip(plan.nodes(), details, strict=True):
        assert f"pa-heat-{heat_level(node.time_share)}" in attrs["class"]
    hot = plan.node(3)
    assert heat_level(hot.time_share) == 4  # 146 of 151 ms
    assert f"{hot.time_share * 100:.0f}%#3{hot.display_name}" in parsed.text.replace("\n", "")


def test_misestimate_and_finding_badges():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    parsed = assert_well_formed(render_plan_html(plan, report=hand_report(plan)))
    factor = plan.root.actual_rows / plan.root.plan_rows
    assert f"rows ×{factor:,.0f} under-estimated" in parsed.text
    assert "critical · seq-scan" in parsed.text
    assert "Seq Scan on stores s ran 1,250 times" in parsed.text  # the message, not only a badge


def test_report_lists_findings_then_the_tree_with_badges():
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    parsed = assert_well_formed(render_report_html(hand_report(plan)))
    text = parsed.text
    # seq-scan names the misestimated node as related: one problem, the misestimate as evidence
    assert text.index("1. CRITICAL seq-scan") < text.index("warning row-misestimate")
    assert text.index("warning row-misestimate") < text.index("#0Nested Loop")
    assert "2. INFO slow-planning" in text
    assert "→ CREATE INDEX ON stores (city)." in text
    assert "Not checked: jit-overhead (disabled)" in text


@pytest.mark.parametrize("make", [wide_plan, deep_plan], ids=["wide", "deep"])
def test_huge_plan_is_capped(make):
    plan = make(10_000)
    markup = render_plan_html(plan, analyze=False)
    assert len(markup) < 200_000  # the full tree would be several megabytes
    parsed = assert_well_formed(markup)
    assert f"This plan has {len(plan.nodes()):,} nodes" in parsed.text
    assert "Hottest path" in parsed.text


def test_wide_capped_plan_shows_the_hottest_node():
    plan = wide_plan(MAX_NODES + 1)
    hottest = max(plan.nodes(), key=lambda n: n.exclusive_time_ms)
    text = assert_well_formed(render_plan_html(plan, analyze=False)).text
    assert f"#{hottest.id}{hottest.display_name}" in text.replace("\n", "")


def test_plan_under_the_cap_is_drawn_in_full():
    plan = wide_plan(MAX_NODES - 1)
    parsed = assert_well_formed(render_plan_html(plan, analyze=False))
    assert parsed.tags.count("details") == len(plan.nodes())


def test_plan_html_analyzes_by_default():
    plan = fixture("sort-spill/fires--external-merge")
    assert "critical · sort-spill" in assert_well_formed(plan._repr_html_()).text


def test_estimated_plan_colours_by_cost_share():
    plan = fixture("_general/estimated")
    parsed = assert_well_formed(render_plan_html(plan, analyze=False))
    assert "estimated cost" in parsed.text
    top = max(plan.nodes(), key=lambda n: n.cost_share)
    assert f"{top.cost_share * 100:.0f}%#{top.id}" in parsed.text.replace("\n", "")


@pytest.mark.parametrize(
    ("include", "exclude", "keys"),
    [
        (None, None, {"text/plain", "text/html"}),
        (["text/html"], None, {"text/html"}),
        (None, ["text/html"], {"text/plain"}),
        (["text/plain", "text/html"], ["text/plain"], {"text/html"}),
        (["image/png"], None, set()),
    ],
)
def test_mimebundle_include_exclude(include, exclude, keys):
    plan = fixture("seq-scan/fires--filter-removes-most")
    report = pa.analyze(plan)
    for obj in (plan, report):
        bundle = obj._repr_mimebundle_(include=include, exclude=exclude)
        assert set(bundle) == keys
        if "text/plain" in bundle:
            assert bundle["text/plain"] == str(obj)
        if "text/html" in bundle:
            assert bundle["text/html"] == obj._repr_html_()


def test_mimebundle_builds_html_only_when_wanted():
    def boom() -> str:
        raise AssertionError("HTML built although excluded")

    assert mimebundle(None, "t", boom, include=None, exclude=["text/html"]) == {"text/plain": "t"}


def test_advice_table_escapes_and_shows_costs_and_size():
    rec = SimpleNamespace(
        create_sql=f'CREATE INDEX CONCURRENTLY ON "{EVIL}" (customer_id)',
        cost_before=7454.0,
        cost_after=1000.5,
        size_bytes=6_750_000,
        queries=["SELECT 1"],
    )
    query = SimpleNamespace(sql=f"SELECT '{EVIL}'", cost_before=7454.0, cost_after=1000.5)
    advice = SimpleNamespace(recommendations=[rec], per_query=[query], rejected=["x: unused"])
    markup = render_advice_html(advice)
    parsed = assert_well_formed(markup)
    assert "<script" not in markup
    assert rec.create_sql in parsed.text
    assert "7,454.00" in parsed.text
    assert "1,000.50" in parsed.text
    assert f"{(1 - 1000.5 / 7454.0) * 100:.0f}%" in parsed.text
    assert "6.4 MB" in parsed.text
    assert "Considered and rejected (1)" in parsed.text


@pytest.mark.parametrize(
    "name", ["seq-scan/fires--filter-removes-most", "sort-spill/fires--external-merge"]
)
def test_plan_html_snapshot(name, snapshot):
    assert render_plan_html(fixture(name), analyze=False) == snapshot


def test_report_html_snapshot(snapshot):
    plan = fixture("nested-loop-blowup/fires--underestimated-outer")
    assert render_report_html(hand_report(plan)) == snapshot
