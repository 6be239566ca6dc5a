"""Plan snapshots as a user runs them: syrupy's ``snapshot`` and the ``plan_snapshot`` fixture.

In-process pytester runs (no subprocess start-up) of a test file that loads a plan from a path
held in ``plan_path.txt``, so each run can swap the plan the "application" produces.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PLANS = Path(__file__).resolve().parents[3] / "fixtures" / "plans"
MEMOIZE = PLANS / "memoize-low-hit-rate" / "quiet--lookup-keys.json"
CHANGED = PLANS / "memoize-low-hit-rate" / "fires--distinct-keys.json"

USER_TESTS = """
from pathlib import Path
import planalyzer as pa

def current_plan():
    return pa.load(Path(__file__).with_name("plan_path.txt").read_text().strip())

def test_with_syrupy(snapshot):
    assert current_plan().shape() == snapshot

def test_with_plan_snapshot(plan_snapshot):
    assert current_plan().shape() == plan_snapshot
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    # only the two plugins under test: an in-process run re-imports every plugin it loads
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_orders=USER_TESTS)
    (pytester.path / "plan_path.txt").write_text(str(MEMOIZE))
    return pytester


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "-p", "planalyzer", "-p", "syrupy", "-p", "no:cacheprovider", "-vv", *args
    )


def test_snapshots_created_matched_broken_and_accepted(project):
    from planalyzer.plan.parse import load

    assert load(MEMOIZE).shape() != load(CHANGED).shape()  # the premise of this test
    first = _run(project)
    first.assert_outcomes(failed=2)
    first.stdout.fnmatch_lines(["*snapshot test_with_syrupy does not exist*", "*no plan snapshot*"])

    _run(project, "--snapshot-update").assert_outcomes(passed=2)
    stored = project.path / "__plan_snapshots__" / "test_orders" / "test_with_plan_snapshot.txt"
    assert stored.read_text() == load(MEMOIZE).shape() + "\n"
    assert (project.path / "__snapshots__" / "test_orders.ambr").exists()
    _run(project).assert_outcomes(passed=2)

    (project.path / "plan_path.txt").write_text(str(CHANGED))
    broken = _run(project)
    broken.assert_outcomes(failed=2)
    text = broken.stdout.str()
    assert "plan shape differs: node Nested Loop" in text  # syrupy's snapshot
    assert "plan shape differs from " in text  # plan_snapshot's file
    assert "shape diff (- expected, + found):" in text
    assert "shape diff (- stored, + found):" in text
    assert "run pytest --snapshot-update to accept it" in text

    _run(project, "--planalyzer-snapshot-update", "-k", "plan_snapshot").assert_outcomes(passed=1)
    _run(project, "--snapshot-update").assert_outcomes(passed=2)
    _run(project).assert_outcomes(passed=2)
    assert stored.read_text() == load(CHANGED).shape() + "\n"
