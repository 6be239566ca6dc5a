"""planalyzer: read PostgreSQL query plans the way an expert DBA does.

The public names are loaded on first use (PEP 562): ``import planalyzer`` costs a few
milliseconds, and psycopg, pglast and the advisor are only imported by the calls that need them
(``pa.explain``, ``pa.advise`` ...). ``from planalyzer import X`` and ``pa.X`` work as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from planalyzer.errors import (
    AdviceError,
    ConfigError,
    DatabaseError,
    ExplainError,
    ExtensionMissingError,
    LogReadError,
    PlanalyzerError,
    PlanParseError,
    ServerVersionError,
    UnsafeStatementError,
)

if TYPE_CHECKING:
    from planalyzer.advisor.advise import advise
    from planalyzer.advisor.audit import AuditFinding, AuditReport, audit
    from planalyzer.advisor.model import (
        Advice,
        IndexCandidate,
        KeyColumn,
        QueryAdvice,
        Recommendation,
        Rejection,
    )
    from planalyzer.advisor.verify import Verification
    from planalyzer.live import (
        CatalogFacts,
        HypotheticalIndex,
        HypotheticalSession,
        IndexSpec,
        TableFacts,
        catalog,
        explain,
        hypothetical,
    )
    from planalyzer.logs import LogEntry, LogSummary, read_log, summarize_log
    from planalyzer.plan.compare import NodeMatch, PlanDiff, compare
    from planalyzer.plan.model import JitInfo, Plan, PlanNode, Trigger, Worker
    from planalyzer.plan.parse import load, load_all, parse, parse_all
    from planalyzer.rules.config import RuleConfig
    from planalyzer.rules.finding import Finding, Severity
    from planalyzer.rules.problem import Problem
    from planalyzer.rules.report import Report, analyze
    from planalyzer.samples import sample_path

# public name -> the module that defines it; keep in step with the TYPE_CHECKING block above
_LAZY: dict[str, str] = {
    "advise": "planalyzer.advisor.advise",
    "AuditFinding": "planalyzer.advisor.audit",
    "AuditReport": "planalyzer.advisor.audit",
    "audit": "planalyzer.advisor.audit",
    "Advice": "planalyzer.advisor.model",
    "IndexCandidate": "planalyzer.advisor.model",
    "KeyColumn": "planalyzer.advisor.model",
    "QueryAdvice": "planalyzer.advisor.model",
    "Recommendation": "planalyzer.advisor.model",
    "Rejection": "planalyzer.advisor.model",
    "Verification": "planalyzer.advisor.verify",
    "CatalogFacts": "planalyzer.live",
    "HypotheticalIndex": "planalyzer.live",
    "HypotheticalSession": "planalyzer.live",
    "IndexSpec": "planalyzer.live",
    "TableFacts": "planalyzer.live",
    "catalog": "planalyzer.live",
    "explain": "planalyzer.live",
    "hypothetical": "planalyzer.live",
    "LogEntry": "planalyzer.logs",
    "LogSummary": "planalyzer.logs",
    "read_log": "planalyzer.logs",
    "summarize_log": "planalyzer.logs",
    "NodeMatch": "planalyzer.plan.compare",
    "PlanDiff": "planalyzer.plan.compare",
    "compare": "planalyzer.plan.compare",
    "JitInfo": "planalyzer.plan.model",
    "Plan": "planalyzer.plan.model",
    "PlanNode": "planalyzer.plan.model",
    "Trigger": "planalyzer.plan.model",
    "Worker": "planalyzer.plan.model",
    "load": "planalyzer.plan.parse",
    "load_all": "planalyzer.plan.parse",
    "parse": "planalyzer.plan.parse",
    "parse_all": "planalyzer.plan.parse",
    "RuleConfig": "planalyzer.rules.config",
    "Finding": "planalyzer.rules.finding",
    "Severity": "planalyzer.rules.finding",
    "Problem": "planalyzer.rules.problem",
    "Report": "planalyzer.rules.report",
    "analyze": "planalyzer.rules.report",
    "sample_path": "planalyzer.samples",
}

__all__ = [
    "Advice",
    "AdviceError",
    "AuditFinding",
    "AuditReport",
    "CatalogFacts",
    "ConfigError",
    "DatabaseError",
    "ExplainError",
    "ExtensionMissingError",
    "Finding",
    "HypotheticalIndex",
    "HypotheticalSession",
    "IndexCandidate",
    "IndexSpec",
    "JitInfo",
    "KeyColumn",
    "LogEntry",
    "LogReadError",
    "LogSummary",
    "NodeMatch",
    "Plan",
    "PlanDiff",
    "PlanNode",
    "PlanParseError",
    "PlanalyzerError",
    "Problem",
    "QueryAdvice",
    "Recommendation",
    "Rejection",
    "Report",
    "RuleConfig",
    "ServerVersionError",
    "Severity",
    "TableFacts",
    "Trigger",
    "UnsafeStatementError",
    "Verification",
    "Worker",
    "advise",
    "analyze",
    "audit",
    "catalog",
    "compare",
    "explain",
    "hypothetical",
    "load",
    "load_all",
    "parse",
    "parse_all",
    "read_log",
    "sample_path",
    "summarize_log",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access and cache the name here (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'planalyzer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later reads are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
