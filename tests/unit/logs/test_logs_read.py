"""read_log on real server logs in all three formats: every entry found once, as logged."""

from __future__ import annotations

import gzip
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planalyzer as pa
from planalyzer.logs._records import Counts
from planalyzer.logs._source import Chunk
from planalyzer.logs.entry import LogEntry, Malformed
from planalyzer.logs.read import read_chunk
from tests.unit.logs.logdata import FILES, family_of, marker_of, truth

TRUTH = truth()
JSON_MARKERS = {m for m, t in TRUTH.items() if t.plan_format == "json"}
TEXT_MARKERS = {m for m, t in TRUTH.items() if t.plan_format == "text"}


def read_all(path, **kwargs):
    stream = pa.read_log(path, **kwargs)
    entries = list(stream)
    return entries, stream


def test_truth_has_both_plan_formats():
    assert len(JSON_MARKERS) == 14
    assert len(TEXT_MARKERS) == 7


@pytest.mark.parametrize("fmt", FILES)
def test_every_entry_is_read_once_or_reported(fmt):
    entries, stream = read_all(FILES[fmt])
    markers = [marker_of(e.query) for e in entries]
    assert len(markers) == len(set(markers))
    assert set(markers) == set(TRUTH)
    assert stream.entries == len(TRUTH)
    assert stream.malformed_count == 0
    assert stream.lines == len(FILES[fmt].read_text().splitlines())


@pytest.mark.parametrize("fmt", FILES)
def test_durations_queries_and_plans_equal_what_was_logged(fmt):
    entries, _ = read_all(FILES[fmt])
    for entry in entries:
        expected = TRUTH[marker_of(entry.query)]
        assert entry.duration_ms == expected.duration_ms
        assert entry.plan_format == expected.plan_format
        if expected.plan_json is not None:
            assert entry.query == expected.query
            assert entry.plan.to_json() == expected.plan_json
        assert entry.logged_at is not None
        assert entry.logged_at.tzinfo is not None


@pytest.mark.parametrize("fmt", FILES)
def test_sources_point_at_the_first_line_of_each_entry(fmt):
    entries, stream = read_all(FILES[fmt])
    lines = FILES[fmt].read_text().split("\n")
    for item in [*entries, *stream.malformed]:
        path, _, number = item.source.rpartition(":")
        assert path == str(FILES[fmt])
        assert "duration: " in lines[int(number) - 1]
        assert "plan:" in lines[int(number) - 1]


@pytest.mark.parametrize("fmt", FILES)
def test_text_entries_have_their_multi_line_statement_and_plan(fmt):
    """Text-format plans parse to the same shape as the JSON plans of the same queries.

    The sample ran every query in JSON, then in text, before the index that changes one plan
    was created, so each text entry has a JSON twin from the first round.
    """
    entries, _ = read_all(FILES[fmt])
    text_entries = [e for e in entries if e.plan_format == "text"]
    assert {marker_of(e.query) for e in text_entries} == TEXT_MARKERS
    first_json = {}
    for entry in entries:
        if entry.plan_format == "json":
            first_json.setdefault(family_of(entry.query), entry)
    for entry in text_entries:
        assert entry.query == TRUTH[marker_of(entry.query)].query
        twin = first_json[family_of(entry.query)]
        assert entry.plan.shape() == twin.plan.shape()
        assert entry.plan.analyzed
    assert any("\n" in e.query for e in text_entries)


def test_csv_and_json_formats_carry_database_user_and_query_id():
    for fmt in ("csvlog", "jsonlog"):
        entries, _ = read_all(FILES[fmt])
        assert {e.database for e in entries} == {"postgres"}
        assert {e.user for e in entries} == {"postgres"}
        assert all(e.query_id is not None for e in entries)
        assert all(e.pid is not None for e in entries)


def test_gzip_is_detected_from_content(tmp_path):
    for fmt, path in FILES.items():
        packed = tmp_path / f"{fmt}-{path.name}.gz"
        packed.write_bytes(gzip.compress(path.read_bytes()))
        plain, _ = read_all(path)
        zipped, _ = read_all(packed)
        assert [(e.duration_ms, e.query) for e in zipped] == [
            (e.duration_ms, e.query) for e in plain
        ]
        assert [e.source.rpartition(":")[2] for e in zipped] == [
            e.source.rpartition(":")[2] for e in plain
        ]


_PREFIXES = {
    "bare": "",
    "pgbadger": "{pid}: [{n}-1] user=postgres,db=postgres,app=x,client=127.0.0.1 ",
    "epoch-and-tag": "{stamp} <postgres@postgres> [{pid}] tag: ",
}


@pytest.mark.parametrize("name", _PREFIXES)
def test_any_log_line_prefix(tmp_path, name):
    """Rewrite the prefix of every record; the same entries come out."""
    head = re.compile(r"^(.*?)((?:LOG|WARNING|ERROR|FATAL|DETAIL|STATEMENT|HINT):  .*)$")
    out = []
    for n, line in enumerate(FILES["stderr"].read_text().split("\n")):
        match = head.match(line)
        if match and not line.startswith("\t"):
            stamp = line[:23]
            line = _PREFIXES[name].format(pid=4242, n=n, stamp=stamp) + match.group(2)
        out.append(line)
    path = tmp_path / "prefixed.log"
    path.write_text("\n".join(out))
    entries, stream = read_all(path, log_format="stderr")
    original, _ = read_all(FILES["stderr"])
    assert [(e.duration_ms, e.query) for e in entries] == [
        (e.duration_ms, e.query) for e in original
    ]
    assert stream.malformed_count == 0
    has_time = name == "epoch-and-tag"
    assert all((e.logged_at is not None) == has_time for e in entries)


def _lines(path):
    return path.read_text().split("\n")


def test_truncated_entry_is_reported_and_the_rest_kept(tmp_path):
    lines = _lines(FILES["stderr"])
    starts = [i for i, line in enumerate(lines) if "ms  plan:" in line]
    cut_entry = starts[5]
    cut = tmp_path / "cut.log"
    cut.write_text("\n".join(lines[: cut_entry + 6]))  # six lines into the sixth entry
    entries, stream = read_all(cut)
    whole, _ = read_all(FILES["stderr"])
    assert [e.query for e in entries] == [e.query for e in whole if _line(e) < cut_entry + 1]
    assert [m.source for m in stream.malformed if _line(m) == cut_entry + 1] == [
        f"{cut}:{cut_entry + 1}"
    ]
    assert "does not parse" in stream.malformed[-1].reason


def _line(item: LogEntry | Malformed) -> int:
    return int(item.source.rpartition(":")[2])


def test_a_foreign_line_inside_an_entry_spoils_only_that_entry(tmp_path):
    """Without the logging collector, another process's line can land inside an entry."""
    lines = _lines(FILES["stderr"])
    starts = [i for i, line in enumerate(lines) if "ms  plan:" in line]
    victim = starts[2]
    spliced = [
        *lines[: victim + 4],
        "2026-01-01 00:00:00.000 UTC [99] LOG:  checkpoint starting: time",
        *lines[victim + 4 :],
    ]
    path = tmp_path / "interleaved.log"
    path.write_text("\n".join(spliced))
    entries, stream = read_all(path)
    whole, _ = read_all(FILES["stderr"])
    assert len(entries) == len(whole) - 1
    assert [m.source for m in stream.malformed] == [f"{path}:{victim + 1}"]


def test_csvlog_cut_inside_a_quoted_plan(tmp_path):
    text = FILES["csvlog"].read_text()
    last = text.rindex("ms  plan:")
    path = tmp_path / "cut.csv"
    path.write_text(text[: last + 300])
    entries, stream = read_all(path)
    whole, _ = read_all(FILES["csvlog"])
    assert len(entries) == len(whole) - 1
    assert stream.malformed_count == 1
    assert "cut off at the end of the file" in stream.malformed[0].reason


def test_jsonlog_cut_line(tmp_path):
    text = FILES["jsonlog"].read_text()
    last = text.rindex("ms  plan:")
    path = tmp_path / "cut.json"
    path.write_text(text[: last + 300])
    _, stream = read_all(path)
    assert "not a complete JSON record" in stream.malformed[-1].reason


def test_oversized_entry_is_reported_not_read(tmp_path):
    entries, stream = read_all(FILES["stderr"], max_entry_bytes=100)
    assert entries == []
    assert stream.malformed_count == len(TRUTH)
    assert any("byte limit" in m.reason for m in stream.malformed)


def test_globs_lists_and_errors(tmp_path):
    for fmt, path in FILES.items():
        shutil.copy(path, tmp_path / f"{fmt}-{path.name}")
    entries, _ = read_all(str(tmp_path / "*"))
    assert len(entries) == 3 * len(read_all(FILES["jsonlog"])[0])
    with pytest.raises(pa.LogReadError, match="no such log file"):
        pa.read_log(str(tmp_path / "nothing-*.log"))
    with pytest.raises(pa.LogReadError, match="unknown log format"):
        pa.read_log(FILES["stderr"], log_format="syslog")


def test_entry_str_is_one_line():
    entry = next(iter(pa.read_log(FILES["jsonlog"])))
    assert "\n" not in str(entry)
    assert entry.source in str(entry)
    assert family_of(entry.query) in {t.family for t in TRUTH.values()}


def _sources(path, cuts, fmt):
    out = []
    bounds = [0, *cuts]
    for i, start in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else None
        for item in read_chunk(
            Chunk(str(path), start, end), Counts(), log_format=fmt, max_entry_bytes=1 << 20
        ):
            out.append(item.source)
    return out


@pytest.mark.parametrize("fmt", FILES)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_chunks_cut_anywhere_neither_lose_nor_repeat_entries(fmt, data):
    path = FILES[fmt]
    size = path.stat().st_size
    cuts = sorted(set(data.draw(st.lists(st.integers(1, size - 1), max_size=6))))
    whole = _sources(path, [], fmt)
    assert _sources(path, cuts, fmt) == whole
