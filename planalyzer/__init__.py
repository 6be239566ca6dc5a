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

__all__ = [
    "AdviceError",
    "ConfigError",
    "DatabaseError",
    "ExplainError",
    "ExtensionMissingError",
    "PlanParseError",
    "PlanalyzerError",
    "ServerVersionError",
    "UnsafeStatementError",
]
