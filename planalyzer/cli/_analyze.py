"""``planalyzer analyze`` and ``planalyzer explain``: a plan's tree and findings, text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from planalyzer.cli._console import Console, UsageError
from planalyzer.display.html import render_report_html
from planalyzer.display.text import render_plan, render_report
from planalyzer.errors import PlanParseError
from planalyzer.plan.model import Plan
from planalyzer.plan.parse import parse_all
from planalyzer.rules.config import RuleConfig
from planalyzer.rules.finding import Severity
from planalyzer.rules.report import Report, analyze

__all__ = ["emit_reports", "report_document", "rule_config", "run_analyze", "run_explain"]


def rule_config(disabled: list[str]) -> RuleConfig:
    """A config with the rules named by ``--disable`` (repeated or comma-separated) off."""
    ids = [part.strip() for item in disabled for part in item.split(",") if part.strip()]
    return RuleConfig(disabled=ids)


def _read_input(source: str) -> bytes:
    """A file's bytes, or standard input's for ``-``."""
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as err:
        raise PlanParseError(source, f"cannot read file: {err.strerror or err}") from err


def _exit_status(reports: list[Report], fail_on: str) -> int:
    """1 when any report has a finding at or above ``fail_on``, else 0."""
    if fail_on == "never":
        return 0
    floor = Severity.parse(fail_on)
    return 1 if any(report.at_least(floor) for report in reports) else 0


def emit_reports(
    reports: list[Report], args: argparse.Namespace, console: Console, *, source: str
) -> int:
    """Print the reports as text (tree + findings) or JSON; write HTML if asked; exit status."""
    if args.json:
        counts = dict.fromkeys((s.value for s in Severity), 0)
        for report in reports:
            for severity, n in report.counts().items():
                counts[severity.value] += n
        document: dict[str, Any] = {
            "source": source,
            "statements": [report_document(report) for report in reports],
            "counts": counts,
        }
        console.print(json.dumps(document, indent=2, default=str), fold=False)
    else:
        for number, report in enumerate(reports, start=1):
            if len(reports) > 1:
                console.print(f"{'' if number == 1 else chr(10)}== Statement {number} of "
                              f"{len(reports)} ==")  # fmt: skip
            if not args.no_tree:
                tree = render_plan(
                    report.plan, report=report, width=args.width, color=console.color
                )
                console.print(tree)
                console.print()
            console.print(render_report(report, width=args.width, color=console.color))
    if args.html:
        _write_html(Path(args.html), reports, source)
        console.note(f"HTML report written to {args.html}")
    return _exit_status(reports, args.fail_on)


def report_document(report: Report) -> dict[str, Any]:
    """One statement's JSON: the report, each finding with its node's name and its problem.

    ``problem`` is the 1-based number of the problem (`Report.problems`) the finding belongs
    to, the same number the text and HTML views print; ``problems`` lists them with the time
    each explains, counted once, and ``warnings`` says how far to trust the plan.
    """
    document = report.to_dict()
    plan = report.plan
    problems = report.problems()
    problem_of: dict[int, int] = {}
    for number, problem in enumerate(problems, start=1):
        for finding in problem.findings:
            problem_of[id(finding)] = number
    for finding, data in zip(report.findings, document["findings"], strict=True):
        node_id = finding.node_id
        known = node_id is not None and 0 <= node_id < len(plan)
        data["node_name"] = (
            plan.node(node_id).display_name if known and node_id is not None else None
        )
        data["problem"] = problem_of.get(id(finding))
    index = {id(f): i for i, f in enumerate(report.findings)}
    document["problems"] = [
        {
            "number": number,
            "severity": problem.severity.value,
            "rule": problem.headline.rule,
            "headline": index[id(problem.headline)],
            "related": [index[id(f)] for f in problem.related],
            "node_ids": list(problem.node_ids),
            "impact_ms": problem.impact_ms,
        }
        for number, problem in enumerate(problems, start=1)
    ]
    return document


def _write_html(path: Path, reports: list[Report], source: str) -> None:
    """A standalone page holding each statement's report view."""
    from planalyzer.display._escape import escape

    body = "\n".join(render_report_html(report) for report in reports)
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>planalyzer: {escape(source)}</title></head>\n"
        f'<body style="margin: 16px; background: #fff">\n{body}\n</body></html>\n'
    )
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"--html: cannot write {path}: {err.strerror or err}") from err


def run_analyze(args: argparse.Namespace, console: Console) -> int:
    """``planalyzer analyze FILE|-``."""
    config = rule_config(args.disable)
    plans = parse_all(_read_input(args.file))
    reports = [analyze(plan, config=config) for plan in plans]
    source = "stdin" if args.file == "-" else args.file
    return emit_reports(reports, args, console, source=source)


def run_explain(args: argparse.Namespace, console: Console) -> int:
    """``planalyzer explain --dsn DSN SQL``."""
    config = rule_config(args.disable)
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    plan = explain_on(
        args.dsn,
        sql,
        analyze=not args.no_analyze,
        timeout_s=args.timeout,
        allow_side_effects=args.allow_side_effects,
    )
    report = analyze(plan, config=config)
    return emit_reports([report], args, console, source="explain")


def explain_on(
    dsn: str,
    sql: str,
    *,
    analyze: bool,
    timeout_s: float | None,
    allow_side_effects: bool = False,
) -> Plan:
    """Connect, EXPLAIN one statement (always rolled back), disconnect."""
    from planalyzer.cli._db import connect
    from planalyzer.live.explain import explain

    with connect(dsn) as conn:
        return explain(
            conn,
            sql,
            analyze=analyze,
            timeout_s=timeout_s,
            allow_side_effects=allow_side_effects,
        )
