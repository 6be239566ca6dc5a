"""The ``planalyzer`` command line: a thin face over the library's calls.

Subcommands: ``analyze`` (a plan file), ``explain`` (a statement on a server), ``advise``
(indexes for a workload), ``audit`` (a database's indexes), ``logs`` (auto_explain server logs
ranked by query), ``rules`` (the rule reference) and ``demo`` (the whole job on bundled plans
and a throwaway server). Exit codes: 0 success, 1
findings at or above ``--fail-on``, 2 usage or input errors (the message is one line, no
traceback), 130 interrupted.

Adding a command: write ``planalyzer/cli/_<name>.py`` with ``register(sub, parents)``, which
adds its subparser (``parents`` gives it ``--color`` and ``--width``) and sets
``handler="planalyzer.cli._<name>:run"``, and ``run(args, console) -> int``; then list the
module in `COMMAND_MODULES`. The built-in commands set their handler the same way, so the
dispatch below never changes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from planalyzer.cli._console import Console, UsageError
from planalyzer.cli._width import DEFAULT_WIDTH, MIN_WIDTH, terminal_width, width_option
from planalyzer.errors import PlanalyzerError

__all__ = [
    "COMMAND_MODULES",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

COMMAND_MODULES: tuple[str, ...] = ()
"""Modules that add a command (see the module docstring), after the built-in ones."""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

_DSN_HELP = (
    "libpq connection string or URI (default: $PLANALYZER_DSN, else the PG* environment "
    "variables, as psql uses them)"
)


def _common_report_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by the commands that print findings."""
    parser.add_argument(
        "--fail-on",
        choices=("info", "warning", "critical", "never"),
        default="never",
        help="exit with status 1 when a finding at or above this severity is reported "
        "(for CI; default: never)",
    )
    parser.add_argument(
        "--disable",
        action="append",
        default=[],
        metavar="RULE",
        help="switch a rule off (repeat, or give a comma-separated list); see 'planalyzer rules'",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the findings as JSON instead of text"
    )
    parser.add_argument(
        "--no-tree", action="store_true", help="print the findings without the plan tree"
    )
    parser.add_argument(
        "--html", metavar="PATH", help="also write the report as a self-contained HTML page"
    )


def _dsn_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dsn", default=os.environ.get("PLANALYZER_DSN", ""), help=_DSN_HELP)


def _output_options() -> argparse.ArgumentParser:
    """``--color`` and ``--width``, accepted by every command."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the output (auto: only on a terminal, and not when NO_COLOR is set)",
    )
    parent.add_argument(
        "--width",
        type=width_option,
        default=None,
        metavar="COLUMNS",
        help=f"line width of the text output, at least {MIN_WIDTH} (default: $COLUMNS, else "
        f"the terminal's width, else {DEFAULT_WIDTH})",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per command, each with its own ``--help``."""
    parser = argparse.ArgumentParser(
        prog="planalyzer",
        description="Read PostgreSQL query plans the way an expert DBA does: find where the "
        "time goes, say why, and propose the indexes that fix it.",
        epilog="Start with 'planalyzer demo'. Exit codes: 0 ok, 1 findings at or above "
        "--fail-on, 2 usage or input error.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    output = _output_options()

    analyze = sub.add_parser(
        "analyze",
        parents=[output],
        help="diagnose a plan file (EXPLAIN (FORMAT JSON) output)",
        description="Read EXPLAIN (FORMAT JSON) output — ideally from EXPLAIN (ANALYZE, BUFFERS, "
        "FORMAT JSON) — and print the plan tree with each node's own time, then the findings "
        "ranked by the time they explain. psql's framing (column header, '+' continuations) is "
        "removed; a file with several statements' plans is analysed statement by statement.",
        epilog='Example: psql -XqAt -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT ..." '
        "| planalyzer analyze - --fail-on warning",
    )
    analyze.add_argument("file", metavar="FILE", help="the plan file, or - for standard input")
    _common_report_options(analyze)
    analyze.set_defaults(handler="planalyzer.cli._analyze:run_analyze")

    explain = sub.add_parser(
        "explain",
        parents=[output],
        help="EXPLAIN ANALYZE a statement on a server and diagnose it",
        description="Run EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON) on one statement "
        "inside a transaction that is always rolled back (data changes made by an INSERT, "
        "UPDATE or DELETE disappear), then print the tree and the findings. Statements other "
        "than queries and data changes are refused.",
        epilog="Example: planalyzer explain --dsn postgresql://localhost/shop "
        '"SELECT * FROM orders WHERE customer_id = 42"',
    )
    _dsn_option(explain)
    explain.add_argument(
        "sql", metavar="SQL", nargs="?", help="the statement, or - to read it from stdin"
    )
    explain.add_argument(
        "--no-analyze",
        action="store_true",
        help="plain EXPLAIN: estimates only, the statement is not executed",
    )
    explain.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="cancel the statement after this long"
    )
    explain.add_argument(
        "--allow-side-effects",
        action="store_true",
        help="run the statement under ANALYZE even if it calls a function whose effect a "
        "rollback does not undo (setval, pg_terminate_backend, ...; see docs/safety.md)",
    )
    _common_report_options(explain)
    from planalyzer.cli._convert import add_convert_options

    add_convert_options(explain)  # --format text|json, --plan FILE (issue 12)
    explain.set_defaults(handler="planalyzer.cli._convert:run_explain")

    advise = sub.add_parser(
        "advise",
        parents=[output],
        help="recommend indexes for the statements in a .sql file",
        description="Propose indexes for a workload, prove with HypoPG hypothetical indexes "
        "that the planner uses them and what they save, choose the set that fits the budget, "
        "and print the advice and the migration (CREATE INDEX CONCURRENTLY). Needs the hypopg "
        "extension on the server; nothing is built for real.",
        epilog="Example: planalyzer advise --dsn postgresql://localhost/shop workload.sql "
        "--budget 500MB --migrations db/migrations",
    )
    _dsn_option(advise)
    advise.add_argument("file", metavar="FILE.sql", help="statements separated by ';' (- = stdin)")
    advise.add_argument(
        "--weights",
        metavar="W1,W2,...",
        help="relative frequency of each statement, in file order (default: all 1)",
    )
    advise.add_argument(
        "--budget",
        metavar="SIZE",
        help="total size the new indexes may take, e.g. 500MB, 2GB, 800kB (default: no limit)",
    )
    advise.add_argument("--max-indexes", type=int, metavar="N", help="recommend at most N indexes")
    advise.add_argument(
        "--migrations",
        metavar="DIR",
        help="write NNN_<index>.up.sql / .down.sql files into DIR",
    )
    advise.add_argument("--json", action="store_true", help="print the advice as JSON")
    advise.set_defaults(handler="planalyzer.cli._advise:run_advise")

    audit = sub.add_parser(
        "audit",
        parents=[output],
        help="report duplicate, redundant and unused indexes and unindexed foreign keys",
        description="Inspect a database's indexes: duplicates and prefix-redundant ones, "
        "unused ones (since the statistics were last reset), and foreign keys without a "
        "supporting index, with the DROP / CREATE statements to fix them. Read-only.",
    )
    _dsn_option(audit)
    audit.add_argument("--json", action="store_true", help="print the audit as JSON")
    audit.set_defaults(handler="planalyzer.cli._advise:run_audit")

    rules = sub.add_parser(
        "rules",
        parents=[output],
        help="print the rule reference (Markdown)",
        description="Print every rule with its documentation and thresholds, as Markdown.",
    )
    rules.set_defaults(handler="planalyzer.cli:_run_rules")

    demo = sub.add_parser(
        "demo",
        parents=[output],
        help="show the whole job: bundled plans, then a throwaway server with the advisor",
        description="Analyse a few bundled plans; then, when the PostgreSQL 15 server binaries "
        "and HypoPG are installed, start a throwaway server, load a demo shop, diagnose a slow "
        "query, ask the advisor, build its indexes for real and compare the plans before and "
        "after. Everything it starts is removed at the end.",
    )
    demo.add_argument(
        "--offline",
        action="store_true",
        help="only analyse the bundled plans; do not start a server",
    )
    demo.set_defaults(handler="planalyzer.cli._demo:run_demo")
    from planalyzer.cli._logs import add_logs_parser

    add_logs_parser(sub, output)
    sub.choices["logs"].set_defaults(handler="planalyzer.cli._logs:run_logs")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub, [output])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "width", None) is None:
        args.width = terminal_width(sys.stdout)
    console = Console(color=args.color, width=args.width)
    try:
        return _dispatch(args, console)
    except UsageError as err:
        console.note(f"planalyzer: error: {err}")
        return EXIT_USAGE
    except PlanalyzerError as err:
        console.note(f"planalyzer: error: {_one_line(str(err))}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.note("planalyzer: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (| head): not an error of ours. Silence the flush at exit.
        sys.stdout = open(os.devnull, "w")
        return EXIT_OK


def _one_line(text: str) -> str:
    """First line of an error message; remedies after it stay available via --help/docs."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if len(lines) <= 1 else lines[0] + " " + " ".join(lines[1:3])


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    """Import the command's module only now (a database driver is not needed for ``rules``)."""
    module_name, _, function = args.handler.partition(":")
    handler = getattr(importlib.import_module(module_name), function)
    status: int = handler(args, console)
    return status


def _run_rules(args: argparse.Namespace, console: Console) -> int:
    from planalyzer.rules.docs import render_rules_markdown

    console.print(render_rules_markdown().rstrip(), fold=False)
    return EXIT_OK
