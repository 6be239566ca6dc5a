"""``planalyzer logs``: summarise auto_explain server logs into query groups ranked by time."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from planalyzer.cli._console import Console
from planalyzer.display.logs import render_log_summary, render_log_summary_html
from planalyzer.logs.summarize import ENGINES, summarize_log

__all__ = ["add_logs_parser", "run_logs"]


def add_logs_parser(sub: Any, output: argparse.ArgumentParser) -> None:
    """Register the ``logs`` subcommand on the CLI's subparsers."""
    logs = sub.add_parser(
        "logs",
        parents=[output],
        help="rank the queries in auto_explain server logs by total time, with their problems",
        description="Read PostgreSQL server logs written with auto_explain (stderr with any "
        "log_line_prefix, csvlog or jsonlog; plain or gzip), group the logged plans by query "
        "fingerprint and print the groups ranked by total time: calls, mean and p95, the "
        "slowest entry, the problems found in their plans and plan changes. Malformed entries "
        "are reported with file:line and skipped.",
        epilog="Example: planalyzer logs /var/log/postgresql/postgresql-*.log.gz --top 10",
    )
    logs.add_argument("files", nargs="+", metavar="FILE", help="log files or globs")
    logs.add_argument("--top", type=int, default=20, metavar="N", help="show N groups (20)")
    logs.add_argument("--json", action="store_true", help="print the summary as JSON")
    logs.add_argument("--engine", choices=ENGINES, default="local", help="local (default) or dask")
    logs.add_argument(
        "--format",
        dest="log_format",
        choices=("auto", "stderr", "csvlog", "jsonlog"),
        default="auto",
        help="log format (default: from the file name, else its first line)",
    )
    logs.add_argument(
        "--html", metavar="PATH", help="also write the summary as a self-contained HTML page"
    )


def run_logs(args: argparse.Namespace, console: Console) -> int:
    """Summarise the logs and print the result; 0 even with malformed entries (they are listed)."""
    summary = summarize_log(
        args.files, engine=args.engine, top=args.top, log_format=args.log_format
    )
    if args.json:
        document: dict[str, Any] = summary.to_dict()
        console.print(json.dumps(document, indent=2))
    else:
        console.print(render_log_summary(summary, width=args.width))
    if args.html:
        Path(args.html).write_text(
            "<!doctype html><meta charset=utf-8><title>planalyzer logs</title>"
            + render_log_summary_html(summary),
            encoding="utf-8",
        )
    return 0
