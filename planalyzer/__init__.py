"""planalyzer: read PostgreSQL query plans the way an expert DBA does."""

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
