"""The pytest plugin, run as an installed package would be: in a subprocess pytest (pytester).

Nothing here registers the plugin by hand: the subprocess finds it through the ``pytest11``
entry point of the installed distribution, as a user's test run would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import planalyzer as pa

# Load the rules now, at collection: pytester restores sys.modules after each test, so modules
# that `import planalyzer` defers and a test body first imports would be dropped and imported
# afresh by the next test, leaving two copies of Severity and friends that do not compare.
pa.analyze(pa.parse({"Plan": {"Node Type": "Result"}}))

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
SEQ = PLANS / "seq-scan" / "fires--filter-removes-most.json"
SORT_SPILL = PLANS / "sort-spill" / "fires--external-merge.json"
PK_LOOKUP = PLANS / "seq-scan" / "quiet--primary-key-lookup.json"


def match(output: pytest.LineMatcher, patterns: list[str], **kwargs: bool) -> None:
    """``fnmatch_lines`` with ``[``/``]`` taken literally (node ids are printed as ``[3]``)."""
    literal = [p.replace("[", "\x00").replace("]", "[]]").replace("\x00", "[[]") for p in patterns]
    output.fnmatch_lines(literal, **kwargs)


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run pytest in a subprocess with the plan paths available to the test files."""
    monkeypatch.delenv("PLANALYZER_DSN", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makepyfile(
        plans=f"SEQ = {str(SEQ)!r}\nSORT_SPILL = {str(SORT_SPILL)!r}\nPK = {str(PK_LOOKUP)!r}\n"
    )

    def _run(*args: str, autoload: bool = False) -> pytest.RunResult:
        # Other installed plugins (hypothesis, syrupy, ...) double the start-up time, so most
        # runs load only ours: autoloading off and `-p planalyzer`, which pytest resolves
        # through the same pytest11 entry point. The discovery tests use full autoloading.
        if autoload:
            monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
            return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "planalyzer", *args)

    return _run


def test_options_are_discovered_through_the_entry_point(run):
    result = run("--help", autoload=True)
    text = result.stdout.str()
    for flag in ("--planalyzer-dsn", "--planalyzer-fail-on", "--planalyzer-disable"):
        assert flag in text
    for ini in ("planalyzer_dsn (string)", "planalyzer_fail_on (string)", "planalyzer_disable"):
        assert ini in text
    assert "PLANALYZER_DSN" in text


def test_fixtures_are_listed(run):
    result = run("--fixtures", autoload=True)
    match(
        result.stdout,
        [
            "*planalyzer_config*",
            "*explain*",
            "*planalyzer_conn*",
            "*plan_checker*",
        ],
        consecutive=False,
    )
    match(result.stdout, ["*fixtures defined from planalyzer.testing.plugin*"])


def test_marker_is_registered_for_strict_markers(run):
    result = run("--markers", autoload=True)
    match(
        result.stdout,
        [
            "@pytest.mark.planalyzer(fail_on='warning', ignore=(), max_queries=None,"
            " n_plus_one=None):*"
        ],
    )


def test_passing_assertions(pytester, run):
    pytester.makepyfile(
        test_ok="""
        from planalyzer.testing import assert_plan
        from plans import PK

        def test_lookup():
            assert_plan(PK).uses_index("orders_pkey", on="orders").no_seq_scan().max_cost(100)
        """
    )
    result = run("--strict-markers", "-W", "error")
    result.assert_outcomes(passed=1)


def test_failing_assertion_shows_expectation_figures_marked_tree(pytester, run):
    plan = pa.load(SEQ)
    node = plan.root
    pytester.makepyfile(
        test_seq="""
        from planalyzer.testing import assert_plan
        from plans import SEQ

        def test_customer_orders():
            assert_plan(SEQ).uses_index(on="orders")
        """
    )
    result = run()
    result.assert_outcomes(failed=1)
    match(
        result.stdout,
        [
            '>       assert_plan(SEQ).uses_index(on="orders")',
            "E       planalyzer.testing.PlanAssertionError: expected: an index scan on orders",
            f"E       found:    [0] Seq Scan on orders: cost {node.total_cost:,.2f}, *",
            "E       plan (node 0 marked):",
            "E       >> [0] Seq Scan on orders*",
        ],
    )
    # __tracebackhide__: the traceback stops at the user's line
    assert "assertions.py" not in result.stdout.str()


def test_failing_no_findings_shows_the_suggestion(pytester, run):
    finding = pa.analyze(pa.load(SORT_SPILL)).at_least("warning")[0]
    pytester.makepyfile(
        test_spill="""
        from planalyzer.testing import assert_plan
        from plans import SORT_SPILL

        def test_report():
            assert_plan(SORT_SPILL).no_findings()
        """
    )
    result = run()
    result.assert_outcomes(failed=1)
    match(
        result.stdout,
        [
            "*PlanAssertionError: expected: no findings at warning or above",
            "E       findings:",
            f"E         {finding}",
            f"E             suggestion: {finding.suggestion}",
        ],
    )


MARKED = """
import json
import pytest
import planalyzer as pa
from planalyzer.testing import assert_plan
from plans import SORT_SPILL, PK

def live(path):  # a plan as pa.explain returns it: it carries its statement
    return pa.parse(open(path).read(), sql="SELECT * FROM orders ORDER BY amount_cents")

{marker}
def test_spill():
    assert_plan(live(SORT_SPILL)).has_node("Sort")

{marker}
def test_lookup():
    assert_plan(live(PK)).uses_index()

def test_file_plan_not_checked():
    assert_plan(SORT_SPILL).has_node("Sort")
"""


def test_marker_fails_a_test_whose_live_plans_have_findings(pytester, run):
    finding = pa.analyze(pa.load(SORT_SPILL)).at_least("warning")[0]
    pytester.makepyfile(
        test_marked=MARKED.format(marker='@pytest.mark.planalyzer(fail_on="warning")')
    )
    result = run("--strict-markers")
    result.assert_outcomes(passed=2, failed=1)
    match(
        result.stdout,
        [
            "*test_spill*",
            "@pytest.mark.planalyzer(fail_on='warning'):"
            " 1 of 1 plans explained in this test have findings at warning or above",
            "[1] statement: SELECT * FROM orders ORDER BY amount_cents",
            f">> *[{finding.node_id}]*",
            "findings:",
            f"  {finding}",
            f"      suggestion: {finding.suggestion}",
        ],
    )


def test_marker_ignore_and_module_level_mark(pytester, run):
    rules = sorted({f.rule for f in pa.analyze(pa.load(SORT_SPILL)).at_least("warning")})
    marker = f"pytestmark = pytest.mark.planalyzer(fail_on='warning', ignore={rules!r})"
    pytester.makepyfile(test_marked=MARKED.format(marker="") + "\n" + marker + "\n")
    run().assert_outcomes(passed=3)


def test_fail_on_option_applies_without_marker(pytester, run):
    pytester.makepyfile(test_marked=MARKED.format(marker=""))
    run().assert_outcomes(passed=3)
    run("--planalyzer-fail-on=warning").assert_outcomes(passed=2, failed=1)
    pytester.makeini("[pytest]\nplanalyzer_fail_on = warning\n")
    run().assert_outcomes(passed=2, failed=1)
    # a marker with fail_on=None switches the check off for one test
    pytester.makepyfile(test_marked=MARKED.format(marker="@pytest.mark.planalyzer(fail_on=None)"))
    run().assert_outcomes(passed=3)


def test_marker_with_unknown_argument_fails_clearly(pytester, run):
    pytester.makepyfile(test_marked=MARKED.format(marker="@pytest.mark.planalyzer(fail='x')"))
    result = run()
    result.assert_outcomes(passed=1, failed=2)
    match(result.stdout, ["*planalyzer marker: unknown arguments ['fail']*"])


def test_bad_option_values_are_usage_errors(run):
    result = run("--planalyzer-fail-on=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    match(result.stderr, ["*planalyzer: unknown severity 'sometimes'*"])
    result = run("--planalyzer-disable=seq-scann")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    match(result.stderr, ["*planalyzer_disable.seq-scann*no such rule*"])


def test_config_fixture_and_disable_option(pytester, run):
    rule = sorted({f.rule for f in pa.analyze(pa.load(SORT_SPILL)).at_least("warning")})[0]
    pytester.makepyfile(
        test_cfg=f"""
        from planalyzer.testing import assert_plan
        from plans import SORT_SPILL

        def test_disabled(planalyzer_config):
            assert not planalyzer_config.is_enabled({rule!r})
            assert_plan(SORT_SPILL, config=planalyzer_config).no_findings()
        """
    )
    run().assert_outcomes(failed=1)
    run(f"--planalyzer-disable={rule}").assert_outcomes(passed=1)
    pytester.makeini(f"[pytest]\nplanalyzer_disable = {rule}\n")
    run().assert_outcomes(passed=1)


def test_report_header_only_when_configured(run, pytester):
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = run()
    assert "planalyzer:" not in result.stdout.str()
    result = run(
        "--planalyzer-fail-on=critical",
        "--planalyzer-disable=sort-spill",
        "--planalyzer-dsn=host=127.0.0.1 port=1 dbname=app password=hunter2",
    )
    match(
        result.stdout,
        [
            "planalyzer: dsn=dbname=app host=127.0.0.1 port=1 (unreachable: *),"
            " fail_on=critical, disabled=sort-spill"
        ],
    )
    assert "hunter2" not in result.stdout.str()


def test_conn_fixtures_skip_without_dsn(pytester, run):
    pytester.makepyfile(
        test_db="""
        def test_conn(planalyzer_conn):
            pass

        def test_checker(plan_checker):
            pass
        """
    )
    result = run("-rs")
    result.assert_outcomes(skipped=2)
    match(
        result.stdout,
        [
            "*planalyzer: no database configured; set planalyzer_dsn in the ini file, pass "
            "--planalyzer-dsn, or set PLANALYZER_DSN*"
        ],
    )


def test_unreachable_dsn_fails_the_fixture_clearly(pytester, run, monkeypatch):
    monkeypatch.setenv("PLANALYZER_DSN", "host=127.0.0.1 port=1 password=hunter2 connect_timeout=2")
    pytester.makepyfile(test_db="def test_conn(planalyzer_conn):\n    pass\n")
    result = run()
    result.assert_outcomes(errors=1)
    match(
        result.stdout,
        ["planalyzer: cannot connect to planalyzer_dsn *host=127.0.0.1 port=1: *refused*"],
    )
    assert "hunter2" not in result.stdout.str()


def test_plan_fixture_binds_to_a_named_connection_fixture(pytester, run):
    pytester.makeconftest(
        """
        import pytest
        from planalyzer.testing import ConnectionPlans, plan_fixture

        class FakeConn:
            pass

        @pytest.fixture
        def my_conn():
            return FakeConn()

        plans = plan_fixture("my_conn")
        """
    )
    pytester.makepyfile(
        test_bound="""
        from planalyzer.testing import ConnectionPlans

        def test_bound(plans, my_conn, planalyzer_config):
            assert isinstance(plans, ConnectionPlans)
            assert plans.conn is my_conn
            assert plans.config is planalyzer_config
        """
    )
    run().assert_outcomes(passed=1)
    match(
        run("--fixtures").stdout,
        ["plans*", "*Explain and check plans on the connection of fixture 'my_conn'.*"],
    )


def test_assertrepr_lists_findings_one_per_line(pytester, run):
    findings = pa.analyze(pa.load(SORT_SPILL)).findings
    pytester.makepyfile(
        test_repr="""
        import planalyzer as pa
        from plans import SORT_SPILL

        def test_findings():
            assert pa.analyze(pa.load(SORT_SPILL)).findings == ()
        """
    )
    result = run()
    result.assert_outcomes(failed=1)
    match(
        result.stdout,
        [
            f"E       AssertionError: assert ({len(findings)} Finding*) == ()",
            f"E         left: {len(findings)} findings",
            f"E           {findings[0]}",
            f"E               suggestion: {findings[0].suggestion}",
            "E         right: no findings",
        ],
    )


def test_assertrepr_diffs_two_plans_and_leaves_other_types_alone(pytester, run):
    other = json.loads(SEQ.read_text())
    other[0]["Plan"]["Node Type"] = "Index Scan"
    pytester.makepyfile(
        other=json.dumps(other).join(["DOC = r'''", "'''\n"]),
        test_repr="""
        import planalyzer as pa
        from plans import SEQ
        from other import DOC

        def test_plans():
            assert pa.load(SEQ) == pa.parse(DOC)

        def test_ints():
            assert 1 == 2
        """,
    )
    result = run()
    result.assert_outcomes(failed=2)
    match(
        result.stdout,
        [
            "E       AssertionError: assert Plan(*) == Plan(*)",
            "E         plans differ at Seq Scan: node type 'Index Scan' expected, 'Seq Scan' found",
            "E           left:  [0] Seq Scan on orders*",
            "E           right: [0] Index Scan on orders*",
        ],
    )
    match(result.stdout, ["E       assert 1 == 2"])


def test_plugin_can_be_disabled_and_is_inert_under_warnings_as_errors(pytester, run):
    pytester.makepyfile(test_x="def test_x():\n    assert True\n")
    run("-W", "error", "--strict-markers", autoload=True).assert_outcomes(passed=1)
    result = run("-p", "no:planalyzer", "--help", autoload=True)
    assert "--planalyzer-dsn" not in result.stdout.str()
