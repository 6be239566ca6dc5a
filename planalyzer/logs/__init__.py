"""Server logs: auto_explain entries read as a stream and summarised into ranked query groups.

`read_log` yields each logged plan as a `LogEntry`; `summarize_log` groups them by query
fingerprint in one constant-memory pass, locally or on Dask, into a `LogSummary`.
"""

from planalyzer.logs.entry import LogEntry, Malformed
from planalyzer.logs.read import LogStream, read_log
from planalyzer.logs.summarize import summarize_log
from planalyzer.logs.summary import LogSummary, MergedProblem, PlanShape, QueryGroup

__all__ = [
    "LogEntry",
    "LogStream",
    "LogSummary",
    "Malformed",
    "MergedProblem",
    "PlanShape",
    "QueryGroup",
    "read_log",
    "summarize_log",
]
