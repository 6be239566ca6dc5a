"""What a rule is (`Rule`), what it sees (`RuleContext`), and the base of its thresholds."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from planalyzer.plan.model import Plan, PlanNode
from planalyzer.rules.finding import Finding, Severity

if TYPE_CHECKING:
    from planalyzer.rules.config import RuleConfig

__all__ = [
    "Rule",
    "RuleContext",
    "Thresholds",
    "escalate",
    "fmt_ms",
    "fmt_part",
    "fmt_pct",
    "fmt_rows",
    "numeric_setting",
    "work_mem_kb_for",
]


class Thresholds(BaseModel):
    """Base of each rule's thresholds: frozen, and unknown keys are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class Rule:
    """A detector: a stable id, a default severity and the function that finds problems.

    ``check`` receives a `RuleContext` and yields `Finding` objects; it never raises on odd
    plans, skipping nodes that lack the figures it needs. ``doc`` is the rule module's docstring
    (the user documentation), filled in by the registry.
    """

    id: str
    severity: Severity
    summary: str
    check: Callable[[RuleContext], Iterator[Finding]]
    thresholds: type[Thresholds]
    needs_analyze: bool = False
    doc: str = ""

    @property
    def config_key(self) -> str:
        """The `RuleConfig` section name: the id with ``-`` replaced by ``_``."""
        return self.id.replace("-", "_")


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at, and a helper to build findings."""

    plan: Plan
    config: RuleConfig
    rule: Rule
    server_version: int | None = None
    catalog: Any = None
    """`planalyzer.CatalogFacts` when the caller passed one (typed loosely: rules sit below
    the live layer that defines it); read it through `planalyzer.rules._catalog`."""

    @property
    def thresholds(self) -> Any:
        """This rule's own thresholds section (an instance of ``rule.thresholds``)."""
        return self.config.section(self.rule.id)

    @property
    def timed(self) -> bool:
        """True when the plan has actual times, so impact can be stated in ms."""
        return self.plan.timed

    def finding(
        self,
        node: PlanNode | None,
        *,
        message: str,
        evidence: dict[str, Any],
        suggestion: str | None,
        impact_ms: float | None = None,
        severity: Severity | None = None,
        related_node_ids: tuple[int, ...] = (),
        impact_cost_share: float | None = None,
    ) -> Finding:
        """A `Finding` of this rule about ``node``.

        ``impact_ms`` defaults to the node's exclusive time; without timing the cost share
        (``impact_cost_share``, default the node's own) stands in and the finding is marked
        ``estimated`` when the plan has no ANALYZE.
        """
        if impact_ms is None and node is not None and self.timed:
            impact_ms = node.exclusive_time_ms
        return Finding(
            rule=self.rule.id,
            severity=severity or self.rule.severity,
            node_id=None if node is None else node.id,
            message=message,
            evidence=evidence,
            suggestion=suggestion,
            impact_ms=impact_ms,
            impact_cost_share=(
                impact_cost_share
                if impact_cost_share is not None or node is None
                else node.cost_share
            ),
            estimated=not self.plan.analyzed,
            related_node_ids=related_node_ids,
        )

    def share_of_total(self, ms: float | None) -> float | None:
        """``ms`` as a fraction of the statement's total time, when both are known."""
        total = self.plan.total_time_ms
        if ms is None or not total:
            return None
        return min(ms / total, 1.0)


def escalate(
    value: float | None,
    *,
    warning_at: float,
    critical_at: float,
    below: Severity = Severity.INFO,
) -> Severity:
    """Severity for a magnitude compared with two thresholds (inclusive)."""
    if value is None:
        return below
    if value >= critical_at:
        return Severity.CRITICAL
    if value >= warning_at:
        return Severity.WARNING
    return below


def numeric_setting(plan: Plan, name: str) -> float | None:
    """A numeric planner setting from the plan's SETTINGS, or None.

    EXPLAIN (SETTINGS) lists only settings changed from their defaults, so None means "the
    default" (or a value that is not a plain number, such as ``'64kB'``).

    Example:
        >>> import planalyzer as pa
        >>> settings = {"cpu_tuple_cost": "0.02"}
        >>> plan = pa.parse({"Plan": {"Node Type": "Result"}, "Settings": settings})
        >>> numeric_setting(plan, "cpu_tuple_cost"), numeric_setting(plan, "seq_page_cost")
        (0.02, None)
    """
    value: Any = (plan.settings or {}).get(name)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def work_mem_kb_for(needed_kb: float) -> int:
    """A work_mem a DBA would set for ``needed_kb``: rounded up to a power of two MB (>= 1 MB).

    Example:
        >>> work_mem_kb_for(10_800 * 2), work_mem_kb_for(10)
        (32768, 1024)
    """
    needed_mb = max(needed_kb / 1024.0, 1.0)
    return int(1024 * 2 ** math.ceil(math.log2(needed_mb)))


def fmt_ms(ms: float | None) -> str:
    """A duration for a message: ``0.42 ms``, ``41 ms``, ``12.3 s``."""
    if ms is None:
        return "? ms"
    if ms >= 10_000:
        return f"{ms / 1000:,.1f} s"
    if ms >= 10:
        return f"{ms:,.0f} ms"
    return f"{ms:.2g} ms" if ms < 1 else f"{ms:.1f} ms"


def fmt_part(part_ms: float | None, total_ms: float | None) -> str:
    """``146 ms of 151 ms``; ``all of the 16 ms`` when the two print the same.

    Example:
        >>> fmt_part(146.2, 151.0), fmt_part(15.98, 16.01)
        ('146 ms of 151 ms', 'all of the 16 ms')
    """
    if fmt_ms(part_ms) == fmt_ms(total_ms) or (
        part_ms is not None and total_ms and part_ms >= total_ms * 0.995
    ):
        return f"all of the {fmt_ms(total_ms)}"
    return f"{fmt_ms(part_ms)} of {fmt_ms(total_ms)}"


def fmt_pct(ratio: float) -> str:
    """A share for a message, three significant digits.

    Example:
        >>> fmt_pct(0.32649), fmt_pct(1.0)
        ('32.6 %', '100 %')
    """
    return f"{ratio * 100:.3g} %"


def fmt_rows(rows: float | None) -> str:
    """A row count for a message, with thousands separators: ``500,000``."""
    if rows is None:
        return "?"
    return f"{rows:,.0f}"
