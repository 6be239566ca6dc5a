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


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.stem) for p in sorted(PLANS.glob("_clean/*.json"))]
)
def test_clean_plans_have_no_warning_from_any_rule(path: Path) -> None:
    """Plans with nothing wrong (pk lookup, whole-table count, tiny lookup join) stay clean."""
    report = pa.analyze(pa.load(path))
    assert [str(f) for f in report.at_least("warning")] == []


def test_every_rule_has_fixtures() -> None:
    missing = sorted(
        rule.id
        for rule in ALL_RULES
        if not list(PLANS.glob(f"{rule.id}/fires--*.json"))
        or not list(PLANS.glob(f"{rule.id}/quiet--*.json"))
    )
    assert missing == [], f"rules without both fires-- and quiet-- fixture plans: {missing}"
