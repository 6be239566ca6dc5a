"""Findings: what a rule found, where, how much it costs, the evidence, and what to do."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Finding", "Severity"]


class Severity(enum.Enum):
    """How much a finding matters; ordered ``INFO < WARNING < CRITICAL``.

    Example:
        >>> Severity.INFO < Severity.WARNING < Severity.CRITICAL
        True
        >>> Severity.parse("warning") is Severity.WARNING
        True
    """

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for critical."""
        return _RANK[self]

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        """Accept a `Severity` or its name in any case (``"warning"``, ``"CRITICAL"``)."""
        if isinstance(value, Severity):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r}; expected one of {names}") from None

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __str__(self) -> str:
        return self.value


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Finding(BaseModel):
    """One problem a rule found in a plan. Plain data: compare, sort, dump it freely.

    Attributes:
        rule: the stable kebab-case rule id (``"seq-scan"``).
        severity: info < warning < critical.
        node_id: pre-order id of the node it is about (None for statement-level findings).
        message: one sentence with the figures, as a DBA would write it.
        evidence: the numbers the decision used, unit-suffixed keys.
        suggestion: what to do about it, or None.
        impact_ms: the execution time this finding explains (None without timing).
        impact_cost_share: the share of the root's cost it explains (0..1), when known.
        estimated: True when the finding comes from planner estimates only (no ANALYZE).
        related_node_ids: other nodes involved, e.g. the misestimate that caused a blow-up;
            `Report.causes` links findings through them.
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Severity
    node_id: int | None
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    suggestion: str | None = None
    impact_ms: float | None = None
    impact_cost_share: float | None = None
    estimated: bool = False
    related_node_ids: tuple[int, ...] = ()

    def __str__(self) -> str:
        where = f" [node {self.node_id}]" if self.node_id is not None else ""
        return f"{self.severity.value.upper()} {self.rule}{where}: {self.message}"

    def _repr_html_(self) -> str:
        from planalyzer.display.html import render_finding_html

        return render_finding_html(self)
