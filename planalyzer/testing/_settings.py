"""The plugin's options, resolved once per session into a frozen `PluginSettings`.

Each option is an ini key and a command-line flag with the same stem and one help string
(``planalyzer_fail_on = warning`` / ``--planalyzer-fail-on=warning``). Precedence: command line,
then the environment (``PLANALYZER_DSN`` only), then the ini file — a CI job sets the
environment, a developer overrides on the command line, the project file holds the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planalyzer.rules.config import RuleConfig
    from planalyzer.rules.finding import Severity

__all__ = [
    "DSN_ENV",
    "MARKER_HELP",
    "OPTIONS",
    "PluginSettings",
    "count_option",
    "resolve",
    "safe_dsn",
    "split_ids",
]

DSN_ENV = "PLANALYZER_DSN"

# here rather than in _marker, which imports the library: the plugin registers it in every run
MARKER_HELP = (
    "planalyzer(fail_on='warning', ignore=(), max_queries=None, n_plus_one=None): fail the test "
    "when plans it explains through planalyzer have findings at fail_on or above (None "
    "switches the check off; ignore lists rule ids that never fail), when it sends more than "
    "max_queries statements, or when one query runs n_plus_one times or more from one call "
    "site (statements from capture_queries blocks and every SQLAlchemy engine / Django "
    "connection)."
)

OPTIONS: tuple[tuple[str, str], ...] = (
    (
        "planalyzer_dsn",
        "libpq connection string for the planalyzer_conn and plan_checker fixtures "
        f"(also the {DSN_ENV} environment variable); without it those fixtures skip.",
    ),
    (
        "planalyzer_fail_on",
        "fail every test whose plans explained through planalyzer (fixtures, assert_plan on a "
        "live plan, captured.assert_plans) have findings at this severity or above: "
        "info, warning or critical. The planalyzer marker overrides it per test or module.",
    ),
    (
        "planalyzer_max_queries",
        "query budget for every test: fail a test whose captured statements (capture_queries, "
        "and every SQLAlchemy engine and Django connection while it runs) number more than "
        "this. The planalyzer marker's max_queries overrides it.",
    ),
    (
        "planalyzer_n_plus_one",
        "fail a test in which one query (same fingerprint) runs this many times or more from "
        "one call site (N+1), counted as for planalyzer_max_queries; the marker's n_plus_one "
        "overrides it.",
    ),
    (
        "planalyzer_prove_fixes",
        "true: failing no_seq_scan / uses_index / assert_plans checks on a live plan ask the "
        "advisor for an index, proven with HypoPG on the test's connection, and show it with "
        "its cost before and after (needs the hypopg extension; slower).",
    ),
    (
        "planalyzer_report",
        "write a JSON report to this path: every statement captured or checked in each test, "
        "its plan, findings and verdict (and planalyzer_* properties in --junitxml).",
    ),
    (
        "planalyzer_disable",
        "rule ids to switch off, separated by commas or spaces (e.g. jit-overhead); applies "
        "to planalyzer_config and to fail_on checks.",
    ),
)
"""(ini name, shared help) for every option; the flag is ``--`` + the name with dashes."""


def split_ids(value: Any) -> list[str]:
    """Rule ids from ``"a, b c"``, a list of such strings, or None."""
    if not value:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [part for item in items for part in re.split(r"[\s,]+", str(item)) if part]


def safe_dsn(dsn: str) -> str:
    """The DSN with any password removed, for headers and messages."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(dsn)
    except Exception:  # an unparsable DSN is shown as a placeholder rather than leaked
        return "<unparsable dsn>"
    params.pop("password", None)
    return make_conninfo("", **params)


@dataclass(frozen=True)
class PluginSettings:
    """The effective plugin settings.

    Attributes:
        dsn: connection string for the DSN-bound fixtures, or None.
        fail_on: severity at which findings fail a test (None: only the marker decides).
        disabled: rule ids switched off.
    """

    dsn: str | None = None
    fail_on: Severity | None = None
    disabled: tuple[str, ...] = ()
    max_queries: int | None = None
    n_plus_one: int | None = None
    prove_fixes: bool = False
    report: str | None = None

    @property
    def configured(self) -> bool:
        """True when any option is set (the report header stays silent otherwise)."""
        return bool(
            self.dsn
            or self.fail_on
            or self.disabled
            or self.max_queries is not None
            or self.n_plus_one is not None
            or self.prove_fixes
            or self.report
        )

    def rule_config(self) -> RuleConfig:
        """A `RuleConfig` with the disabled rules switched off."""
        from planalyzer.rules.config import RuleConfig

        return RuleConfig(disabled=list(self.disabled))


def resolve(cli: dict[str, Any], ini: dict[str, Any], env: dict[str, str]) -> PluginSettings:
    """Settings from command-line values, ini values and the environment (see module doc).

    Raises:
        ValueError: an unknown severity or rule id (the plugin turns it into a usage error).
    """

    def pick(name: str) -> Any:
        if cli.get(name):
            return cli[name]
        if name == "planalyzer_dsn" and env.get(DSN_ENV):
            return env[DSN_ENV]
        return ini.get(name) or None

    dsn = pick("planalyzer_dsn")
    fail_on_text = pick("planalyzer_fail_on")
    fail_on = None
    if fail_on_text and str(fail_on_text).strip().lower() not in ("none", "off"):
        from planalyzer.rules.finding import Severity

        fail_on = Severity.parse(str(fail_on_text))
    disabled: tuple[str, ...] = ()
    ids = split_ids(pick("planalyzer_disable"))
    if ids:
        from planalyzer.testing.assertions import check_rule_ids

        disabled = tuple(sorted(check_rule_ids(ids, what="planalyzer_disable")))
    prove = str(pick("planalyzer_prove_fixes") or "").strip().lower()
    if prove not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ValueError(f"planalyzer_prove_fixes must be true or false, got {prove!r}")
    report = pick("planalyzer_report")
    return PluginSettings(
        dsn=str(dsn).strip() if dsn else None,
        fail_on=fail_on,
        disabled=disabled,
        max_queries=count_option("planalyzer_max_queries", pick("planalyzer_max_queries"), 0),
        n_plus_one=count_option("planalyzer_n_plus_one", pick("planalyzer_n_plus_one"), 2),
        prove_fixes=prove in ("1", "true", "yes", "on"),
        report=str(report).strip() if report else None,
    )


def count_option(name: str, value: Any, least: int) -> int | None:
    """A whole-number option (None when unset or ``off``).

    Raises:
        ValueError: not a whole number, or below ``least``.
    """
    if value is None or str(value).strip().lower() in ("", "none", "off"):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number < least:
        raise ValueError(f"{name} must be {least} or more, got {number}")
    return number
