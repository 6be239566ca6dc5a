"""``planalyzer advise`` and ``planalyzer audit``: the index advisor from the command line."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from planalyzer.cli._console import Console
from planalyzer.errors import AdviceError, ConfigError

__all__ = [
    "advisor_function",
    "call_advisor",
    "parse_size",
    "run_advise",
    "run_audit",
    "split_statements",
]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
# PostgreSQL's units (kB, MB, GB, TB) are powers of 1024, as in postgresql.conf.
_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(text: str) -> int:
    """A size as PostgreSQL writes it, in bytes: ``500MB``, ``2GB``, ``800kB``, ``1048576``.

    Example:
        >>> parse_size("500MB"), parse_size("1.5 GB"), parse_size("8192")
        (524288000, 1610612736, 8192)
    """
    match = _SIZE.match(text)
    if match is None:
        raise ConfigError("--budget", f"cannot read size {text!r}; write e.g. 500MB or 2GB")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    return int(number * _UNITS[unit[:1]])


def split_statements(text: str) -> list[str]:
    """The statements of a .sql file, split by pglast the way the server would split them."""
    import pglast

    try:
        return [s.strip() for s in pglast.split(text) if s.strip()]
    except pglast.parser.ParseError as err:
        raise AdviceError(f"cannot parse the workload file: {err}") from err


def _weights(text: str | None, count: int) -> list[float] | None:
    if not text:
        return None
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(
            "--weights", f"expected numbers separated by commas, got {text!r}"
        ) from None
    if len(weights) != count:
        raise ConfigError("--weights", f"{len(weights)} weights for {count} statements")
    return weights


def advisor_function(name: str) -> Any:
    """The advisor's ``advise`` or ``audit``, imported only when a command needs it.

    Looked up in its own module (``planalyzer.advisor.advise``) first, then in the package.
    """
    import importlib

    for module_name in (f"planalyzer.advisor.{name}", "planalyzer.advisor"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, name, None)
        if callable(function):
            return function
    raise AdviceError(f"the index advisor's {name}() is not available in this build")


def run_advise(args: argparse.Namespace, console: Console) -> int:
    """``planalyzer advise --dsn DSN FILE.sql``: print the advice, optionally write migrations."""
    from planalyzer.cli._db import connect

    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except OSError as err:
            raise AdviceError(f"cannot read {args.file}: {err.strerror or err}") from err
    statements = split_statements(text)
    if not statements:
        raise AdviceError(f"no SQL statement found in {args.file}")
    weights = _weights(args.weights, len(statements))
    budget = parse_size(args.budget) if args.budget else None
    advise = advisor_function("advise")
    with connect(args.dsn) as conn:
        advice = call_advisor(
            advise,
            conn,
            statements,
            weights=weights,
            budget_bytes=budget,
            max_indexes=args.max_indexes,
            console=console,
        )
    if args.json:
        console.print(json.dumps(_dump(advice), indent=2, default=str), fold=False)
    else:
        console.print(str(advice))
        up, _down = advice.migration()
        if advice.recommendations:
            console.print("\n-- Migration (run outside a transaction block):")
            console.print(up.rstrip(), fold=False)  # SQL stays exactly as written
    if args.migrations:
        written = advice.write_migration(args.migrations)
        for path in written:
            console.note(f"wrote {path}")
    return 0


def call_advisor(
    advise: Any,
    conn: Any,
    statements: list[str],
    *,
    weights: list[float] | None,
    budget_bytes: int | None,
    max_indexes: int | None,
    console: Console,
) -> Any:
    """Run the advisor with a progress line on stderr; pass only options it accepts."""
    accepted = inspect.signature(advise).parameters
    options: dict[str, Any] = {"weights": weights}
    if budget_bytes is not None:
        options["budget_bytes"] = budget_bytes
    if max_indexes is not None:
        options["max_indexes"] = max_indexes
    if "progress" in accepted:
        options["progress"] = lambda message: console.note(f"  {message}")
    unknown = [name for name in options if name not in accepted]
    if unknown:
        raise AdviceError(f"this advisor does not support {', '.join(unknown)}")
    noun = "statement" if len(statements) == 1 else "statements"
    with console.progress(f"advising on {len(statements)} {noun}"):
        return advise(conn, statements, **options)


def _dump(obj: Any) -> Any:
    """JSON-ready data of an advisor result (pydantic models dump themselves; plans excluded)."""
    dump = getattr(obj, "model_dump", None)
    if dump is None:
        return str(obj)
    return dump(mode="json", exclude={"per_query": {"__all__": {"plan_before", "plan_after"}}})


def run_audit(args: argparse.Namespace, console: Console) -> int:
    """``planalyzer audit --dsn DSN``: the database's index problems, with the fixing SQL."""
    from planalyzer.cli._db import connect

    audit = advisor_function("audit")
    with connect(args.dsn) as conn, console.progress("auditing indexes"):
        result = audit(conn)
    if args.json:
        dump = getattr(result, "model_dump", None)
        console.print(
            json.dumps(dump(mode="json") if dump else str(result), indent=2, default=str),
            fold=False,
        )
    else:
        console.print(str(result))
    return 0
