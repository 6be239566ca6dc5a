"""``--planalyzer-report=PATH``: what each test sent and checked, as JSON CI can keep and diff.

One entry per test that recorded anything: the statements it captured, grouped by fingerprint
(first text and parameters, run count, call sites with counts); every statement or plan it
checked, with the plan (EXPLAIN JSON), its shape, its findings and a verdict; and the test's
outcome. Grouping and sorting keep the file stable from run to run, so a diff shows real
changes. The same figures go to JUnit XML as ``planalyzer_*`` test properties.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from planalyzer.plan.model import Plan
    from planalyzer.testing._run import TestRunChecks

__all__ = ["REPORT_VERSION", "add_test", "write_report"]

REPORT_VERSION = 1


def _plain(value: Any) -> Any:
    """Parameters as JSON: as they are when JSON can hold them, else their repr."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _findings(plan: Plan) -> list[dict[str, Any]]:
    from planalyzer.rules.report import analyze

    return [
        {
            "rule": f.rule,
            "severity": f.severity.value,
            "node_id": f.node_id,
            "message": f.message,
            "suggestion": f.suggestion,
        }
        for f in analyze(plan).findings
    ]


def _plan_entry(plan: Plan) -> dict[str, Any]:
    return {"shape": str(plan.shape()), "plan": plan.to_json(), "findings": _findings(plan)}


def _captured(statements: Sequence[Any]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for s in statements:
        group = groups.setdefault(
            s.fingerprint,
            {
                "fingerprint": s.fingerprint,
                "sql": s.sql,
                "params": _plain(s.params),
                "source": s.source,
                "count": 0,
                "call_sites": {},
            },
        )
        group["count"] += 1
        site = s.call_site or "unknown"
        group["call_sites"][site] = group["call_sites"].get(site, 0) + 1
    return list(groups.values())


def _checked(results: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        entry: dict[str, Any] = {
            "sql": r.statement.sql,
            "params": _plain(r.statement.params),
            "count": r.count,
            "verdict": "skipped" if r.skipped else ("failed" if r.failures else "passed"),
            "skipped": r.skipped,
            "failures": [f.expectation for f in r.failures],
        }
        if r.plan is not None:
            entry.update(_plan_entry(r.plan))
        out.append(entry)
    return out


def add_test(item: pytest.Item, run: TestRunChecks, outcome: str) -> None:
    """Add one test's entry to the session's report and its JUnit properties."""
    from planalyzer.testing._run import REPORT_KEY

    checked = _checked(run.queries.checked)
    checked_sql = {c["sql"] for c in checked}
    plans = [
        {"sql": p.sql, "params": _plain(p.params), **_plan_entry(p)}
        for p in run.plans
        if p.sql not in checked_sql
    ]
    captured = _captured(run.queries.statements)
    if not (checked or plans or captured):
        return
    failed_checks = sum(1 for c in checked if c["verdict"] == "failed")
    entry = {
        "test": item.nodeid,
        "outcome": outcome,
        "after_test_failure": run.failure_text,
        "statements_captured": len(run.queries.statements),
        "captured": captured,
        "checked": checked,
        "plans": plans,
    }
    item.config.stash.setdefault(REPORT_KEY, []).append(entry)
    item.user_properties.extend(
        [
            ("planalyzer_statements", len(run.queries.statements)),
            ("planalyzer_distinct_queries", len(captured)),
            ("planalyzer_plans_checked", len(checked) + len(plans)),
            ("planalyzer_failed_checks", failed_checks),
        ]
    )


def write_report(path: str | Path, entries: Sequence[dict[str, Any]]) -> Path:
    """Write the report (tests in node-id order) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "planalyzer_report": REPORT_VERSION,
        "tests": sorted(entries, key=lambda e: str(e["test"])),
    }
    target.write_text(
        json.dumps(document, indent=2, default=repr, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return target
