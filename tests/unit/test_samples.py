"""The plans and schema shipped inside the package are present and match their fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from planalyzer.samples import SOURCES, demo_schema_sql, sample_names, sample_path

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sample_names())
def test_sample_is_a_byte_copy_of_its_fixture(name: str) -> None:
    shipped = sample_path(name).read_bytes()
    fixture = (REPO / SOURCES[name]).read_bytes()
    assert shipped == fixture, (
        f"planalyzer/samples/plans/{name}.json differs from {SOURCES[name]}: "
        "copy the regenerated fixture over it"
    )


@pytest.mark.parametrize("name", sample_names())
def test_sample_parses_and_its_rule_fires(name: str) -> None:
    report = pa.analyze(pa.load(sample_path(name)))
    assert report.by_rule(name), f"the {name} sample no longer shows a {name} finding"


def test_unknown_sample_names_the_ones_there_are() -> None:
    with pytest.raises(KeyError, match="seq-scan"):
        sample_path("no-such-sample")


def test_demo_schema_ships_with_the_package() -> None:
    script = demo_schema_sql()
    for table in ("customers", "orders", "order_items"):
        assert f"CREATE TABLE {table}" in script
