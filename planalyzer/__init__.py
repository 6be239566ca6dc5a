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
from planalyzer.plan.model import JitInfo, Plan, PlanNode, Trigger, Worker
from planalyzer.plan.parse import load, load_all, parse, parse_all
from planalyzer.rules.config import RuleConfig
from planalyzer.rules.finding import Finding, Severity
from planalyzer.rules.report import Report, analyze

__all__ = [
    "AdviceError",
    "ConfigError",
    "DatabaseError",
    "ExplainError",
    "ExtensionMissingError",
    "Finding",
    "JitInfo",
    "Plan",
    "PlanNode",
    "PlanParseError",
    "PlanalyzerError",
    "Report",
    "RuleConfig",
    "ServerVersionError",
    "Severity",
    "Trigger",
    "UnsafeStatementError",
    "Worker",
    "analyze",
    "load",
    "load_all",
    "parse",
    "parse_all",
]
