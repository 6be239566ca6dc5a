"""planalyzer: read PostgreSQL query plans the way an expert DBA does."""

from planalyzer.errors import (
    AdviceError,
    ConfigError,
    DatabaseError,
    ExplainError,
    ExtensionMissingError,
    PlanalyzerError,
    PlanParseError,
    ServerVersionError,
    UnsafeStatementError,
)
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
from planalyzer.plan.model import JitInfo, Plan, PlanNode, Trigger, Worker
from planalyzer.plan.parse import load, load_all, parse, parse_all
from planalyzer.rules.config import RuleConfig
from planalyzer.rules.finding import Finding, Severity
from planalyzer.rules.report import Report, analyze

__all__ = [
    "AdviceError",
    "CatalogFacts",
    "ConfigError",
    "DatabaseError",
    "ExplainError",
    "ExtensionMissingError",
    "Finding",
    "HypotheticalIndex",
    "HypotheticalSession",
    "IndexSpec",
    "JitInfo",
    "Plan",
    "PlanNode",
    "PlanParseError",
    "PlanalyzerError",
    "Report",
    "RuleConfig",
    "ServerVersionError",
    "Severity",
    "TableFacts",
    "Trigger",
    "UnsafeStatementError",
    "Worker",
    "analyze",
    "catalog",
    "explain",
    "hypothetical",
    "load",
    "load_all",
    "parse",
    "parse_all",
]
