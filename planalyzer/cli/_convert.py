"""``planalyzer explain --format text|json``: print a plan in PostgreSQL's own formats.

With ``--plan FILE`` the plan is read from a file (either format, any paste form) instead of
being produced on a server, so the command converts between text-format and JSON EXPLAIN.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from planalyzer.cli._console import Console
from planalyzer.errors import PlanParseError

if TYPE_CHECKING:  # the parser is imported only when the command runs (fast --help)
    from planalyzer.plan.model import Plan

__all__ = ["add_convert_options", "run_convert", "run_explain", "wants_convert"]


def add_convert_options(explain: argparse.ArgumentParser) -> None:
    """The ``--format`` and ``--plan`` options of ``planalyzer explain``."""
    explain.add_argument(
        "--format",
        choices=("text", "json"),
        help="print the plan itself as EXPLAIN prints it, in its text or JSON format, instead "
        "of the diagnosis",
    )
    explain.add_argument(
        "--plan",
        metavar="FILE",
        help="read the plan from FILE (- for standard input; text or JSON EXPLAIN output) "
        "instead of running SQL on a server; with --format this converts between the formats",
    )


def wants_convert(args: argparse.Namespace) -> bool:
    """True when ``explain`` was asked for a format or given a plan file."""
    return getattr(args, "format", None) is not None or getattr(args, "plan", None) is not None


def run_explain(args: argparse.Namespace, console: Console) -> int:
    """The ``explain`` command: print or convert with --format/--plan, else diagnose on a server."""
    if wants_convert(args) or not args.sql:
        return run_convert(args, console)
    from planalyzer.cli._analyze import run_explain as diagnose

    return diagnose(args, console)


def run_convert(args: argparse.Namespace, console: Console) -> int:
    """Print the plan(s) in the requested format; diagnose them when no format was asked."""
    from planalyzer.plan.parse import load_all, parse_all

    if args.plan is not None:
        if args.sql:
            raise PlanParseError("SQL", "give either a statement or --plan FILE, not both")
        plans = parse_all(sys.stdin.read()) if args.plan == "-" else load_all(args.plan)
    else:
        if not args.sql:
            raise PlanParseError("SQL", "give a statement to explain, or --plan FILE")
        from planalyzer.cli._analyze import explain_on

        sql = sys.stdin.read() if args.sql == "-" else args.sql
        plans = [
            explain_on(
                args.dsn,
                sql,
                analyze=not args.no_analyze,
                timeout_s=args.timeout,
                allow_side_effects=args.allow_side_effects,
            )
        ]
    if args.format is None:
        from planalyzer.cli._analyze import emit_reports, rule_config
        from planalyzer.rules.report import analyze

        config = rule_config(args.disable)
        reports = [analyze(plan, config=config) for plan in plans]
        return emit_reports(reports, args, console, source=args.plan or "explain")
    if args.format == "text":
        console.print("\n".join(plan.to_text() for plan in plans).rstrip("\n"), fold=False)
    else:
        console.print(json.dumps(_document(plans), indent=2, ensure_ascii=False))
    return 0


def _document(plans: list[Plan]) -> list[dict[str, Any]]:
    """One EXPLAIN (FORMAT JSON) document holding every statement's plan."""
    statements: list[dict[str, Any]] = []
    for plan in plans:
        value = plan.to_json()
        items = value if isinstance(value, list) else [value]
        statements.extend(item if "Plan" in item else {"Plan": item} for item in items)
    return statements
