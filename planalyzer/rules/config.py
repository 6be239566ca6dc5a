"""`RuleConfig`: every rule's thresholds and the rules switched off, in one frozen object.

Each rule declares its thresholds as a small frozen pydantic model (`Thresholds`); the config
holds one section per rule, named like the rule id with underscores (``sort_spill``). Sections
may be given as instances or as dicts of the fields to change. Unknown sections, unknown
threshold keys, bad values and unknown rule ids in ``disabled`` raise `ConfigError`, naming
the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planalyzer.errors import ConfigError
from planalyzer.rules._spec import Thresholds

__all__ = ["RuleConfig"]


class RuleConfig(BaseModel):
    """Thresholds for every rule, and which rules are switched off.

    Example:
        >>> from planalyzer.rules.config import RuleConfig
        >>> cfg = RuleConfig(sort_spill={"min_spill_kb": 4096}, disabled=["jit-overhead"])
        >>> cfg.sort_spill.min_spill_kb, cfg.is_enabled("jit-overhead")
        (4096, False)
        >>> RuleConfig(sort_spil={})
        Traceback (most recent call last):
        ...
        planalyzer.ConfigError: invalid rule configuration 'sort_spil': no such rule section ...
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    disabled: frozenset[str] = frozenset()
    min_warning_impact_ms: float = Field(
        1.0,
        ge=0,
        description="A finding that explains less time than this (ms) is reported as info, "
        "whatever its rule says: a problem costing under a millisecond per execution matters "
        "only for very frequent statements. Lower it (even to 0) for OLTP hot paths. Plans "
        "without timing are not affected.",
    )

    def __init__(self, **data: Any) -> None:
        from planalyzer.rules import ALL_RULES  # the registry imports this module's users

        rules = {rule.config_key: rule for rule in ALL_RULES}
        ids = {rule.id for rule in ALL_RULES}
        sections: dict[str, Thresholds] = {}
        for key, value in data.items():
            if key in _GLOBAL_KEYS:
                continue
            if key not in rules:
                known = ", ".join(sorted(rules))
                raise ConfigError(key, f"no such rule section (known sections: {known})")
            sections[key] = _section(key, rules[key].thresholds, value)
        for key, rule in rules.items():
            sections.setdefault(key, rule.thresholds())
        disabled = frozenset(_rule_ids(data.get("disabled", ()), ids))
        global_settings = {k: data[k] for k in _GLOBAL_KEYS - {"disabled"} if k in data}
        try:
            super().__init__(disabled=disabled, **global_settings, **sections)
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            key = ".".join(str(p) for p in first["loc"])
            raise ConfigError(key, first["msg"]) from None

    def section(self, rule_id: str) -> Any:
        """The thresholds of the rule with this id (``"sort-spill"``) or key (``sort_spill``)."""
        key = rule_id.replace("-", "_")
        try:
            return (self.__pydantic_extra__ or {})[key]
        except KeyError:
            raise ConfigError(key, "no such rule section") from None

    def is_enabled(self, rule_id: str) -> bool:
        """False when the rule is listed in ``disabled``."""
        return rule_id not in self.disabled

    def with_changes(self, **changes: Any) -> RuleConfig:
        """A copy with some sections or ``disabled`` replaced (dict sections are merged)."""
        data: dict[str, Any] = {
            "disabled": self.disabled,
            "min_warning_impact_ms": self.min_warning_impact_ms,
            **(self.__pydantic_extra__ or {}),
        }
        for key, value in changes.items():
            current = data.get(key)
            if isinstance(value, dict) and isinstance(current, Thresholds):
                value = {**current.model_dump(), **value}
            data[key] = value
        return RuleConfig(**data)


_GLOBAL_KEYS = frozenset({"disabled", "min_warning_impact_ms"})
"""Keys of RuleConfig that are not rule sections."""


def _section(key: str, model: type[Thresholds], value: Any) -> Thresholds:
    if isinstance(value, model):
        return value
    if not isinstance(value, dict):
        raise ConfigError(key, f"expected a dict of thresholds, got {type(value).__name__}")
    try:
        return model(**value)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        sub = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            known = ", ".join(sorted(model.model_fields))
            raise ConfigError(f"{key}.{sub}", f"no such threshold (known: {known})") from None
        raise ConfigError(f"{key}.{sub}", first["msg"]) from None


def _rule_ids(values: Iterable[str] | str, ids: set[str]) -> list[str]:
    if isinstance(values, str):
        values = [values]
    out = []
    for value in values:
        rule_id = str(value).replace("_", "-")
        if rule_id not in ids:
            raise ConfigError(
                f"disabled.{value}", f"no such rule (known: {', '.join(sorted(ids))})"
            )
        out.append(rule_id)
    return out
