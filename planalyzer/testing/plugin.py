"""pytest plugin entry point (``pytest11``): hooks and fixtures only.

Loaded in every pytest run of an environment where planalyzer is installed, so it stays inert
until used: options are only read, nothing connects and no plan is recorded unless a test asks
for a fixture, carries the ``planalyzer`` marker or an option is set. The logic lives in the
``planalyzer.testing`` modules these hooks call.

Fixtures:
    planalyzer_config: (session) frozen ``RuleConfig`` from ``planalyzer_disable``.
    explain: (function) ``explain(conn, sql, params=None, *, analyze=True) -> Plan``, always
        rolled back.
    planalyzer_conn: (function) a psycopg connection to ``planalyzer_dsn``; skips without one.
    plan_checker: (function) ``ConnectionPlans`` on ``planalyzer_conn``:
        ``plan_checker(sql, params).uses_index(on="orders")``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from planalyzer.testing._settings import PluginSettings

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan
    from planalyzer.rules.config import RuleConfig
    from planalyzer.testing.fixtures import ConnectionPlans

_SETTINGS = pytest.StashKey[PluginSettings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Each option as an ini key and a ``--flag`` sharing one help string."""
    from planalyzer.testing._settings import OPTIONS

    group = parser.getgroup("planalyzer", "planalyzer: query plan assertions")
    for name, help_text in OPTIONS:
        group.addoption(f"--{name.replace('_', '-')}", dest=name, default=None, help=help_text)
        parser.addini(name, help=help_text, default="")
    group.addoption(
        "--planalyzer-snapshot-update",
        action="store_true",
        default=False,
        help="write plan_snapshot files (__plan_snapshots__) instead of comparing with them.",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and resolve the options once (bad values are usage errors)."""
    from planalyzer.testing._settings import MARKER_HELP, OPTIONS, resolve

    config.addinivalue_line("markers", MARKER_HELP)
    names = [name for name, _ in OPTIONS]
    cli = {name: config.getoption(name, default=None) for name in names}
    ini = {name: config.getini(name) for name in names}
    try:
        config.stash[_SETTINGS] = resolve(cli, ini, dict(os.environ))
    except ValueError as err:
        raise pytest.UsageError(f"planalyzer: {err}") from None


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """The effective settings, and the server version when a DSN is set (only if configured)."""
    settings = config.stash.get(_SETTINGS, None)
    if settings is None or not settings.configured:
        return None
    from planalyzer.testing._settings import safe_dsn

    parts = []
    if settings.dsn:
        parts.append(f"dsn={safe_dsn(settings.dsn)} ({_server_version(settings.dsn)})")
    parts.append(f"fail_on={settings.fail_on.value if settings.fail_on else 'off'}")
    parts.append(f"disabled={','.join(settings.disabled) or 'none'}")
    if settings.max_queries is not None or settings.n_plus_one is not None:
        parts.append(f"max_queries={settings.max_queries}, n_plus_one={settings.n_plus_one}")
    if settings.prove_fixes:
        parts.append("prove_fixes=on")
    if settings.report:
        parts.append(f"report={settings.report}")
    return ["planalyzer: " + ", ".join(parts)]


def _server_version(dsn: str) -> str:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            version = conn.info.server_version
    except psycopg.Error as err:
        return f"unreachable: {str(err).strip().splitlines()[0] if str(err).strip() else err}"
    return f"PostgreSQL {version // 10000}.{version % 10000}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Under the marker or an option, record the test's plans and statements and check them."""
    settings = item.config.stash.get(_SETTINGS, None)
    marker = item.get_closest_marker("planalyzer")
    if marker is None and (settings is None or not settings.configured):
        return (yield)
    from planalyzer.testing._run import checked_run

    with checked_run(item, marker, settings) as run:
        result = yield
    failure = run.failure_text
    if failure:
        # the message says everything; a traceback into this hook would only add noise
        pytest.fail(failure, pytrace=False)
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write ``--planalyzer-report`` (also when no test recorded anything: an empty list)."""
    settings = session.config.stash.get(_SETTINGS, None)
    if settings is None or not settings.report:
        return
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: the controller writes
        return
    from planalyzer.testing._report import write_report
    from planalyzer.testing._run import REPORT_KEY

    entries: list[dict[str, Any]] = session.config.stash.get(REPORT_KEY, [])
    write_report(settings.report, entries)


@pytest.hookimpl(wrapper=True)
def pytest_assertrepr_compare(
    config: pytest.Config, op: str, left: Any, right: Any
) -> Generator[None, list[list[str]], list[list[str]]]:
    """Findings one per line, the structural difference of two plans, or a plan-shape tree diff.

    A wrapper, so that for a plan shape compared with syrupy's ``snapshot`` the tree diff comes
    before syrupy's text diff whatever order the plugins loaded in (pytest shows the first).
    Other operands are left to the other hooks untouched.
    """
    results = yield
    from planalyzer.testing._compare import explain_comparison, is_planalyzer_object

    if not (is_planalyzer_object(left) or is_planalyzer_object(right)):
        return results
    ours = explain_comparison(op, left, right, config.get_verbosity())
    return [ours, *results] if ours else results


@pytest.fixture(scope="session")
def planalyzer_config(pytestconfig: pytest.Config) -> RuleConfig:
    """The frozen ``RuleConfig`` of this session (rules in ``planalyzer_disable`` switched off)."""
    settings = pytestconfig.stash.get(_SETTINGS, None)
    if settings is None:
        from planalyzer.rules.config import RuleConfig

        return RuleConfig()
    return settings.rule_config()


@pytest.fixture
def explain() -> Callable[..., Plan]:
    """``explain(conn, sql, params=None, *, analyze=True) -> Plan``, always rolled back."""
    from planalyzer.testing.fixtures import explain_recorded

    return explain_recorded


@pytest.fixture
def planalyzer_conn(pytestconfig: pytest.Config) -> Iterator[Any]:
    """A psycopg connection to ``planalyzer_dsn`` (autocommit off); skips when none is set."""
    settings = pytestconfig.stash.get(_SETTINGS, None)
    if settings is None or not settings.dsn:
        why = (
            "planalyzer: no database configured; set planalyzer_dsn in the ini file, pass "
            "--planalyzer-dsn, or set PLANALYZER_DSN"
        )
        pytest.skip(reason=why)
    import psycopg

    from planalyzer.testing._settings import safe_dsn

    try:
        conn = psycopg.connect(settings.dsn)
    except psycopg.Error as err:
        problem = str(err)
    else:
        problem = ""
    if problem:  # failed outside the except block, so no chained psycopg traceback
        pytest.fail(
            f"planalyzer: cannot connect to planalyzer_dsn {safe_dsn(settings.dsn)}: {problem}",
            pytrace=False,
        )
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def plan_checker(planalyzer_conn: Any, planalyzer_config: RuleConfig) -> ConnectionPlans:
    """Explain and check statements on ``planalyzer_conn``: ``plan_checker(sql, params)``."""
    from planalyzer.testing.fixtures import ConnectionPlans

    return ConnectionPlans(planalyzer_conn, config=planalyzer_config)


@pytest.fixture
def plan_snapshot(request: pytest.FixtureRequest) -> Any:
    """Plan shapes stored beside the test: ``assert plan.shape() == plan_snapshot``.

    Files live in ``__plan_snapshots__/<module>/``; ``--planalyzer-snapshot-update`` (or
    syrupy's ``--snapshot-update``) writes them.
    """
    from planalyzer.testing._snapshots import SNAPSHOT_DIR, PlanSnapshot

    config = request.config
    update = bool(
        config.getoption("planalyzer_snapshot_update", default=False)
        or config.getoption("update_snapshots", default=False)  # syrupy's --snapshot-update
    )
    path = request.node.path
    return PlanSnapshot(path.parent / SNAPSHOT_DIR / path.stem, request.node.name, update=update)
