"""summarize_log on the sample logs: groups, aggregates, worst entries, problems, plan shapes."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planalyzer as pa
from planalyzer.logs._accumulate import SummaryAcc
from planalyzer.logs._source import chunks_of
from planalyzer.logs.fingerprint import group_key
from planalyzer.logs.reservoir import percentile
from planalyzer.logs.summarize import summarize_chunk
from tests.unit.logs.logdata import FILES, comparable, family_of, marker_of


def by_family(path):
    families = defaultdict(list)
    for entry in pa.read_log(path):
        families[family_of(entry.query)].append(entry)
    return families


def family_of_group(group, families):
    matches = [
        f for f, entries in families.items() if group.worst.source in {e.source for e in entries}
    ]
    assert len(matches) == 1
    return matches[0]


@pytest.mark.parametrize("fmt", FILES)
def test_groups_are_the_workload_families(fmt):
    summary = pa.summarize_log(FILES[fmt])
    families = by_family(FILES[fmt])
    assert summary.group_count == len(families) == len(summary.groups)
    seen = set()
    for group in summary.groups:
        family = family_of_group(group, families)
        seen.add(family)
        entries = families[family]
        durations = [e.duration_ms for e in entries]
        assert group.count == len(entries)
        assert group.total_ms == pytest.approx(sum(durations))
        assert group.min_ms == min(durations)
        assert group.max_ms == group.worst.duration_ms == max(durations)
        assert group.mean_ms == pytest.approx(sum(durations) / len(durations))
        # Small groups: the reservoir holds every value, so percentiles are exact.
        assert group.p95_ms == pytest.approx(percentile(durations, 0.95))
        assert group.p50_ms == pytest.approx(percentile(durations, 0.50))
        assert "pa:" not in group.query  # comments are not part of the normalised text
    assert seen == set(families)
    totals = [g.total_ms for g in summary.groups]
    assert totals == sorted(totals, reverse=True)
    assert summary.entries == sum(len(e) for e in families.values())
    assert summary.total_ms == pytest.approx(sum(g.total_ms for g in summary.groups))


def test_literal_and_parameter_forms_of_a_query_share_a_group():
    families = by_family(FILES["jsonlog"])
    by_id = families["order-by-id"]
    assert {"$1" in e.query for e in by_id} == {True, False}
    keys = {group_key(e.query, e.query_id) for e in by_id}
    assert len(keys) == 1


def test_group_by_queryid_uses_the_servers_identifier():
    """The server's query id tells a constant from a parameter, the fingerprint does not."""
    summary = pa.summarize_log(FILES["jsonlog"], group_by="queryid")
    families = by_family(FILES["jsonlog"])
    per_family = defaultdict(set)
    for group in summary.groups:
        assert group.fingerprint == f"queryid:{group.query_ids[0]}"
        assert len(group.query_ids) == 1
        per_family[family_of_group(group, families)].add(group.fingerprint)
    split = {f for f, keys in per_family.items() if len(keys) > 1}
    assert split == {"order-by-id"}  # "id = 4242" and "id = $1"
    assert len(summary.groups) == len(families) + 1


def test_a_plan_change_shows_as_two_shapes_in_time_order():
    summary = pa.summarize_log(FILES["jsonlog"])
    families = by_family(FILES["jsonlog"])
    (group,) = [g for g in summary.groups if family_of_group(g, families) == "orders-of-customer"]
    assert group.plan_changed
    shapes = sorted(group.plan_shapes, key=lambda s: s.first_seen)
    assert len(shapes) == 2
    assert "Seq Scan on orders" in shapes[0].outline
    assert "orders_customer_id_idx" in shapes[1].outline
    assert shapes[0].last_seen <= shapes[1].first_seen
    assert sum(s.count for s in shapes) == group.count
    others = [g for g in summary.groups if g is not group]
    assert not any(g.plan_changed for g in others if len(g.plan_shapes) == 1)


def test_problems_are_counted_per_plan_and_placed():
    summary = pa.summarize_log(FILES["jsonlog"])
    families = by_family(FILES["jsonlog"])
    for group in summary.groups:
        entries = families[family_of_group(group, families)]
        for problem in group.problems:
            showing = [
                e
                for e in entries
                if any(p.headline.rule == problem.rule for p in pa.analyze(e.plan).problems())
            ]
            assert problem.plans == len(showing)
            assert problem.impact_ms_max <= max(e.duration_ms for e in showing) + 1e-9
    (scan,) = [p for g in summary.groups for p in g.problems if p.rule == "seq-scan"] or [None]
    assert scan is not None
    assert scan.node_path.endswith("Seq Scan on orders")


def test_top_keeps_the_heaviest_groups():
    full = pa.summarize_log(FILES["jsonlog"])
    top = pa.summarize_log(FILES["jsonlog"], top=2)
    assert [g.fingerprint for g in top.groups] == [g.fingerprint for g in full.groups[:2]]
    assert top.group_count == full.group_count
    with pytest.raises(pa.LogReadError):
        pa.summarize_log(FILES["jsonlog"], top=0)
    with pytest.raises(pa.LogReadError, match="unknown engine"):
        pa.summarize_log(FILES["jsonlog"], engine="spark")


@pytest.mark.parametrize("fmt", FILES)
@settings(max_examples=5, deadline=None)
@given(chunk=st.integers(2_000, 60_000), order=st.randoms(use_true_random=False))
def test_merging_partial_summaries_in_any_order_equals_one_pass(fmt, chunk, order):
    """What the Dask engine does, without Dask: summarise chunks, merge in any order."""
    whole = pa.summarize_log(FILES[fmt])
    parts = [summarize_chunk(c) for c in chunks_of(str(FILES[fmt]), chunk)]
    order.shuffle(parts)
    merged = SummaryAcc()
    merged.partitions = 0
    for part in parts:
        merged.merge(part)
    assert merged.partitions == len(parts)
    assert comparable(merged.finish()) == comparable(whole)


def test_summary_to_dict_is_json_ready():
    import json

    data = pa.summarize_log(FILES["csvlog"]).to_dict(plans=True)
    again = json.loads(json.dumps(data))
    assert again["entries"] == sum(g["count"] for g in again["groups"])
    for group in again["groups"]:
        assert pa.parse(group["worst"]["plan"]).root.node_type
    assert again["malformed_count"] == len(again["malformed"])


def test_empty_input_gives_an_empty_summary(tmp_path):
    path = tmp_path / "quiet.log"
    path.write_text("2024-01-01 00:00:00 UTC [1] LOG:  database system is ready\n")
    summary = pa.summarize_log(path)
    assert summary.groups == ()
    assert summary.entries == 0
    assert summary.lines == 1
    assert "No auto_explain entries" in str(summary)


def test_markers_are_unique_across_the_sample():
    markers = [marker_of(e.query) for e in pa.read_log(FILES["jsonlog"])]
    assert len(markers) == len(set(markers))
    assert list(itertools.islice(markers, 1)) == ["pa:0"]
