"""Every rule on random valid plans: never raises, never claims more than the statement, and fires.

The plans come from the public strategies (`planalyzer.testing.strategies`), which draw the
shapes the rules look for (loops in the thousands, filters with rows removed, spills, lossy
bitmaps, parallel workers, CTEs, triggers), so a rule that crashes on a shape it was not tested
with fails here rather than becoming a silent ``internal-error`` finding.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

import planalyzer as pa
from planalyzer.rules import ALL_RULES
from planalyzer.testing.strategies import NODE_TYPES, GeneratedPlan, plan_documents

FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

# Rules that no valid random plan can trigger, and why.
NEVER_ON_VALID_PLANS = {
    "inconsistent-plan": "needs node times above the statement's total: only edited plans",
    "jit-overhead": "needs a JIT section; not drawn",
    "slow-planning": "needs planning far above execution; drawn plans plan in <= 100 ms",
    "large-offset": "needs a Limit whose startup cost shows a skipped OFFSET",
    "correlated-subplan": "needs a SubPlan re-run per row with a matching condition",
    "workers-not-launched": "needs a Gather whose launched workers fall short, with timing",
}


@FAST
@given(plan_documents())
def test_rules_never_raise_and_never_claim_more_than_the_statement(g: GeneratedPlan) -> None:
    plan = pa.parse(g.document)
    report = pa.analyze(plan)
    assert report.by_rule("internal-error") == [], report.by_rule("internal-error")
    total = plan.total_time_ms
    problems = report.problems()
    if plan.timed and total is not None:
        planning = plan.planning_time_ms or 0.0
        for f in report.findings:
            cap = total if f.node_id is not None else total + planning
            assert (f.impact_ms or 0.0) <= cap + 1e-9, f
    # every finding is in exactly one problem, whose time is counted once
    assert sorted(id(f) for p in problems for f in p.findings) == sorted(
        id(f) for f in report.findings
    )
    for p in problems:
        impacts = [f.impact_ms for f in p.findings if f.impact_ms is not None]
        assert p.impact_ms == (max(impacts) if impacts else None)
        assert p.severity == p.headline.severity
        assert p.title


# Node kinds to draw for a rule whose shape random trees of every kind rarely make.
FOCUS = {
    "nested-loop-blowup": (("Nested Loop", "Seq Scan", "Materialize"), 3),
    "inefficient-index": (("Index Scan", "Limit"), 3),
    "slow-trigger": (("Result", "Seq Scan"), 2),
    "poor-cache-hit": (("Seq Scan", "Index Scan", "Aggregate"), 6),
    "row-misestimate": (("Hash Join", "Seq Scan", "Index Scan", "Hash"), 6),
    "memoize-low-hit-rate": (("Nested Loop", "Memoize", "Index Scan", "Seq Scan"), 6),
    "post-join-filter": (("Hash Join", "Merge Join", "Seq Scan", "Hash"), 6),
    "seq-scan": (("Seq Scan", "Aggregate"), 3),
    "hash-spill": (("Hash Join", "Hash", "Seq Scan"), 4),
    "lossy-bitmap": (("Bitmap Heap Scan", "Bitmap Index Scan", "Aggregate"), 3),
    "sort-spill": (("Sort", "Seq Scan"), 3),
}


@pytest.mark.parametrize(
    "rule_id", sorted(r.id for r in ALL_RULES if r.id not in NEVER_ON_VALID_PLANS)
)
def test_every_rule_fires_on_some_generated_plan(rule_id: str) -> None:
    def fires(g: GeneratedPlan) -> bool:
        return bool(pa.analyze(pa.parse(g.document)).by_rule(rule_id))

    kinds, size = FOCUS.get(rule_id, (NODE_TYPES, 8))
    strategy = plan_documents(
        min_nodes=min(size, 3), max_nodes=size, node_types=kinds, timed=rule_id in FOCUS or None
    )
    found = find(
        strategy,
        fires,
        settings=settings(
            max_examples=500,
            deadline=None,
            database=None,
            derandomize=True,  # the same search every run: a pass here is not luck
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert fires(found)
