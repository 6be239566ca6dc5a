"""Data-driven rule tests: every fires--*.json must fire its rule, every quiet--*.json not."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from planalyzer.rules import ALL_RULES
from tests.unit.rules.rule_helpers import assert_fires, assert_quiet

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
RULE_IDS = {rule.id for rule in ALL_RULES}


def _cases(prefix: str) -> list:
    return [
        pytest.param(path, id=f"{path.parent.name}/{path.stem}")
        for path in sorted(PLANS.glob(f"*/{prefix}--*.json"))
        if path.parent.name in RULE_IDS
    ]


@pytest.mark.parametrize("path", _cases("fires"))
def test_fires(path: Path) -> None:
    assert_fires(pa.load(path), path.parent.name)


@pytest.mark.parametrize("path", _cases("quiet"))
def test_quiet(path: Path) -> None:
    assert_quiet(pa.load(path), path.parent.name)


# Plans with nothing a DBA would fix: every rule, not only the one they were made for, must
# stay below warning on them.
CLEAN_PLANS = (
    "seq-scan/quiet--primary-key-lookup.json",
    "seq-scan/quiet--count-whole-table.json",
    "seq-scan/quiet--lookup-table-hash-join.json",
    "nested-loop-blowup/quiet--pk-lookup-join.json",
    "row-misestimate/quiet--well-estimated.json",
    "inefficient-index/quiet--selective-index-scan.json",
    "inconsistent-plan/quiet--consistent--pg18.json",
)


@pytest.mark.parametrize("name", CLEAN_PLANS)
def test_clean_plans_have_no_warning_from_any_rule(name: str) -> None:
    """Plans with nothing wrong (pk lookup, whole-table count, tiny lookup join) stay clean."""
    report = pa.analyze(pa.load(PLANS / name))
    assert [str(f) for f in report.at_least("warning")] == []


def test_every_rule_has_fixtures() -> None:
    missing = sorted(
        rule.id
        for rule in ALL_RULES
        if not list(PLANS.glob(f"{rule.id}/fires--*.json"))
        or not list(PLANS.glob(f"{rule.id}/quiet--*.json"))
    )
    assert missing == [], f"rules without both fires-- and quiet-- fixture plans: {missing}"
