"""Logs written by a real server with auto_explain: every statement found once, as logged."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict

import pytest

import planalyzer as pa
from tests.integration.logs.autoexplain import CapturedLogs

MARKER = re.compile(r"/\* (pa:\d+) \*/")
FORMATS = ("stderr", "csvlog", "jsonlog")


def logged(server_logs: CapturedLogs) -> dict[str, tuple[float, str, dict | None]]:
    """Truth from the jsonlog file, read with the json module: marker -> duration, body."""
    out = {}
    for line in server_logs.jsonlog.read_text().splitlines():
        message = json.loads(line)["message"]
        head = re.match(r"duration: ([\d.]+) ms  plan:\n", message)
        if head:
            body = message[head.end() :]
            marker = MARKER.search(body).group(1)
            out[marker] = (float(head.group(1)), body, json.loads(body) if body[0] == "{" else None)
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_executed_statement_is_found_once(server_logs, fmt):
    stream = pa.read_log(getattr(server_logs, fmt))
    entries = list(stream)
    found = Counter(MARKER.search(e.query).group(1) for e in entries)
    executed = {e.marker: e for e in server_logs.executed}
    assert all(n == 1 for n in found.values())
    json_markers = {m for m, e in executed.items() if e.plan_format == "json"}
    assert json_markers < set(found)  # text-format entries too
    assert set(found) == set(executed)
    assert stream.entries == len(executed)
    assert stream.malformed_count == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_durations_and_plans_equal_what_was_logged(server_logs, fmt):
    truth = logged(server_logs)
    for entry in pa.read_log(getattr(server_logs, fmt)):
        duration, _, plan_json = truth[MARKER.search(entry.query).group(1)]
        assert entry.duration_ms == duration
        if plan_json is not None:
            assert entry.plan.to_json() == plan_json
            assert entry.query == plan_json["Query Text"]
            assert entry.plan.execution_time_ms is None or entry.plan.execution_time_ms >= 0


def test_text_entries_keep_multi_line_statements(server_logs):
    executed = {e.marker: e for e in server_logs.executed}
    entries = list(pa.read_log(server_logs.stderr))
    text_entries = [e for e in entries if e.plan_format == "text"]
    assert len(text_entries) == sum(1 for e in server_logs.executed if e.plan_format == "text")
    for entry in text_entries:
        family = executed[MARKER.search(entry.query).group(1)].family
        if family == "recent-orders":
            assert entry.query.count("\n") == 5


def test_groups_are_the_families_that_were_run(server_logs):
    executed = {e.marker: e for e in server_logs.executed}
    summary = pa.summarize_log(server_logs.jsonlog)
    entries = list(pa.read_log(server_logs.jsonlog))
    family_count = Counter(executed[MARKER.search(e.query).group(1)].family for e in entries)
    assert summary.group_count == len(family_count)
    by_family = defaultdict(set)
    for group in summary.groups:
        family = executed[MARKER.search(group.worst.query).group(1)].family
        by_family[family].add(group.fingerprint)
        assert group.count == family_count[family]
    assert all(len(keys) == 1 for keys in by_family.values())
    changed = {
        executed[MARKER.search(g.worst.query).group(1)].family
        for g in summary.groups
        if g.plan_changed
    }
    assert "orders-of-customer" in changed


def test_sessions_interleave_and_each_entry_keeps_its_pid(server_logs):
    entries = list(pa.read_log(server_logs.csvlog))
    pids = [e.pid for e in entries]
    assert len(set(pids)) >= 2
    switches = sum(1 for a, b in itertools.pairwise(pids) if a != b)
    # Two sessions at once: the log alternates between them, not one session then the other.
    assert switches > len(set(pids))


def test_the_three_formats_summarise_alike(server_logs):
    summaries = [pa.summarize_log(getattr(server_logs, fmt)) for fmt in FORMATS]
    shapes = [
        sorted((g.fingerprint, g.count, round(g.total_ms, 6), len(g.plan_shapes)) for g in s.groups)
        for s in summaries
    ]
    assert shapes[0] == shapes[1] == shapes[2]
