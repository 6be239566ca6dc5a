"""RuleConfig: unknown keys and bad values are ConfigErrors naming the key; overrides work."""

from __future__ import annotations

from pathlib import Path

import pytest

import planalyzer as pa
from planalyzer.errors import ConfigError
from planalyzer.rules import ALL_RULES
from tests.unit.rules.rule_helpers import assert_fires

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"


def _spill() -> pa.Plan:
    return pa.load(PLANS / "sort-spill" / "fires--external-merge.json")


def test_defaults_are_each_rules_thresholds() -> None:
    cfg = pa.RuleConfig()
    for rule in ALL_RULES:
        assert cfg.section(rule.id) == rule.thresholds()
        assert cfg.is_enabled(rule.id)
    assert cfg.disabled == frozenset()


def test_unknown_section_names_the_key() -> None:
    with pytest.raises(ConfigError, match="sort_spil") as info:
        pa.RuleConfig(sort_spil={})
    assert info.value.key == "sort_spil"
    assert "sort_spill" in str(info.value)  # the known sections are listed


def test_unknown_threshold_names_section_and_field() -> None:
    with pytest.raises(ConfigError) as info:
        pa.RuleConfig(hash_spill={"min_spill_mb": 1})
    assert info.value.key == "hash_spill.min_spill_mb"
    assert "min_spill_kb" in str(info.value)


def test_bad_value_names_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        pa.RuleConfig(jit_overhead={"min_jit_ms": "a lot"})
    assert info.value.key == "jit_overhead.min_jit_ms"


def test_section_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError) as info:
        pa.RuleConfig(slow_trigger=5)
    assert info.value.key == "slow_trigger"


def test_unknown_disabled_id_names_it() -> None:
    with pytest.raises(ConfigError) as info:
        pa.RuleConfig(disabled=["hash-spill", "no-such-rule"])
    assert info.value.key == "disabled.no-such-rule"


def test_config_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="nope"):
        pa.RuleConfig(nope={})


def test_config_is_frozen() -> None:
    cfg = pa.RuleConfig()
    with pytest.raises(ValueError, match="frozen"):
        cfg.disabled = frozenset({"sort-spill"})  # type: ignore[misc]


def test_threshold_override_silences_a_finding() -> None:
    plan = _spill()
    (finding,) = assert_fires(plan, "sort-spill")
    spill = finding.evidence["spill_kb"]
    louder = pa.RuleConfig(sort_spill={"min_spill_kb": int(spill)})  # inclusive: still fires
    assert assert_fires(plan, "sort-spill", config=louder)
    quiet = pa.RuleConfig(sort_spill={"min_spill_kb": int(spill) + 1})
    assert pa.analyze(plan, config=quiet).by_rule("sort-spill") == []


def test_threshold_override_changes_the_suggestion() -> None:
    plan = _spill()
    cfg = pa.RuleConfig(sort_spill={"memory_factor_ratio": 4.0})
    (finding,) = assert_fires(plan, "sort-spill", config=cfg)
    # 10,800 kB x 4 = 42.2 MB -> 64 MB (32 MB with the default factor 2)
    assert finding.evidence["suggested_work_mem_kb"] == 64 * 1024


def test_override_keeps_the_other_fields_at_their_defaults() -> None:
    cfg = pa.RuleConfig(poor_cache_hit={"min_read_blocks": 10})
    section = cfg.section("poor-cache-hit")
    defaults = type(section)()
    assert section.min_read_blocks == 10
    assert section.max_hit_ratio == defaults.max_hit_ratio


def test_disabled_switches_a_rule_off() -> None:
    plan = _spill()
    for spelling in ("sort-spill", "sort_spill"):
        cfg = pa.RuleConfig(disabled=[spelling])
        report = pa.analyze(plan, config=cfg)
        assert report.by_rule("sort-spill") == []
        assert report.rules_skipped["sort-spill"] == "disabled"
        assert "sort-spill" not in report.rules_run
    assert pa.RuleConfig(disabled="sort-spill").disabled == {"sort-spill"}


def test_with_changes_merges_sections() -> None:
    base = pa.RuleConfig(slow_planning={"min_planning_ms": 5.0})
    changed = base.with_changes(
        slow_planning={"critical_planning_ms": 50.0}, disabled=["jit-overhead"]
    )
    assert changed.slow_planning.min_planning_ms == 5.0
    assert changed.slow_planning.critical_planning_ms == 50.0
    assert not changed.is_enabled("jit-overhead")
    assert base.is_enabled("jit-overhead")  # the original is unchanged
