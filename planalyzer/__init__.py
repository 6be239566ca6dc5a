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

__all__ = [
    "AdviceError",
    "ConfigError",
    "DatabaseError",
    "ExplainError",
    "ExtensionMissingError",
    "JitInfo",
    "Plan",
    "PlanNode",
    "PlanParseError",
    "PlanalyzerError",
    "ServerVersionError",
    "Trigger",
    "UnsafeStatementError",
    "Worker",
    "load",
    "load_all",
    "parse",
    "parse_all",
]
