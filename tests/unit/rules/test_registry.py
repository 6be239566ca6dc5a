"""The rule registry stays in sync with the modules, the config and docs/rules.md."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest
from pydantic_core import PydanticUndefined

import planalyzer.rules
from planalyzer.errors import ConfigError
from planalyzer.rules import ALL_RULES, get_rule
from planalyzer.rules.config import RuleConfig
from planalyzer.rules.docs import (
    README_BEGIN,
    README_END,
    REGENERATE_COMMAND,
    extract_readme_block,
    render_rules_markdown,
)
from planalyzer.rules.finding import Severity

RULES_DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"
NOT_RULES = {"config", "finding", "report", "docs", "problem"}
# A threshold's name ends in its unit. _factor is a ratio >= 1; _loops, _lookups and _fetches
# count events of that name (as PostgreSQL prints Loops, Cache Hits + Misses, Heap Fetches).
UNITS = (
    "_ms", "_kb", "_bytes", "_blocks", "_rows", "_ratio", "_factor", "_count", "_loops",
    "_lookups", "_fetches", "_cost",
)  # fmt: skip
KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
RULE_IDS = [rule.id for rule in ALL_RULES]


def _rule_modules() -> set[str]:
    return {
        m.name
        for m in pkgutil.iter_modules(planalyzer.rules.__path__)
        if not m.name.startswith("_") and m.name not in NOT_RULES
    }


def test_every_rule_module_is_registered() -> None:
    registered = {rule.config_key for rule in ALL_RULES}
    missing = _rule_modules() - registered
    assert not missing, f"rule modules not in ALL_RULES (planalyzer/rules/__init__.py): {missing}"
    assert registered <= _rule_modules()


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_id_module_and_config_key_agree(rule_id: str) -> None:
    rule = get_rule(rule_id)
    assert KEBAB.match(rule.id), rule.id
    assert rule.config_key == rule.id.replace("-", "_")
    assert rule.check.__module__ == f"planalyzer.rules.{rule.config_key}"
    section = RuleConfig().section(rule.id)
    assert isinstance(section, rule.thresholds)
    assert getattr(RuleConfig(), rule.config_key) is not None


def test_ids_are_unique() -> None:
    assert len(RULE_IDS) == len(set(RULE_IDS))


def test_get_rule_unknown_id() -> None:
    with pytest.raises(ConfigError, match="no-such-rule"):
        get_rule("no-such-rule")


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_docstring_has_the_three_paragraphs(rule_id: str) -> None:
    rule = get_rule(rule_id)
    first_line = rule.doc.splitlines()[0]
    assert first_line.strip(), f"{rule_id}: the docstring starts with a one-line summary"
    assert not first_line.startswith(("Why", "What", "Not")), first_line
    paragraphs = [p.strip() for p in rule.doc.split("\n\n")]
    for heading in ("Why it matters:", "What to do:", "Not reported:"):
        assert any(p.startswith(heading) for p in paragraphs), f"{rule_id}: no {heading!r}"
    assert rule.summary.strip()


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_threshold_has_default_description_and_unit(rule_id: str) -> None:
    rule = get_rule(rule_id)
    assert rule.thresholds.model_config.get("frozen") is True
    assert rule.thresholds.model_config.get("extra") == "forbid"
    for name, info in rule.thresholds.model_fields.items():
        assert info.default is not PydanticUndefined, f"{rule_id}.{name} has no default"
        assert info.description, f"{rule_id}.{name}: give it a description"
        assert len(info.description) > 15, f"{rule_id}.{name}: say where the default comes from"
        assert name.endswith(UNITS), f"{rule_id}.{name}: end the name with a unit {UNITS}"


def test_severity_is_ordered() -> None:
    assert Severity.INFO < Severity.WARNING < Severity.CRITICAL
    assert Severity.CRITICAL > Severity.WARNING >= Severity.WARNING > Severity.INFO
    assert sorted([Severity.CRITICAL, Severity.INFO, Severity.WARNING]) == [
        Severity.INFO,
        Severity.WARNING,
        Severity.CRITICAL,
    ]
    assert max(Severity) is Severity.CRITICAL
    assert Severity.parse("Warning") is Severity.WARNING
    assert Severity.parse(Severity.INFO) is Severity.INFO
    with pytest.raises(ValueError, match="unknown severity"):
        Severity.parse("fatal")
    assert Severity.INFO.__lt__(1) is NotImplemented


def test_rule_reference_lists_every_rule_and_threshold() -> None:
    text = render_rules_markdown()
    for rule in ALL_RULES:
        assert f"### `{rule.id}`" in text
        for name in rule.thresholds.model_fields:
            assert f"| `{name}` |" in text


def test_readme_rule_reference_is_current() -> None:
    readme = RULES_DOC.read_text(encoding="utf-8")
    block = extract_readme_block(readme)
    assert block is not None, (
        f"docs/rules.md lacks the markers {README_BEGIN!r} ... {README_END!r}; add them, then run: "
        f"{REGENERATE_COMMAND}"
    )
    if block != render_rules_markdown():
        pytest.fail(
            "docs/rules.md's rule reference is stale (a rule, threshold or docstring changed). "
            f"Regenerate it with:\n\n    {REGENERATE_COMMAND}\n",
            pytrace=False,
        )
