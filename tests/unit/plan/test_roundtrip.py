"""Property tests: random valid plans keep the invariants; broken ones raise PlanParseError."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings

import planalyzer as pa
from planalyzer.testing.strategies import BLOCKS, GeneratedPlan, broken_inputs, plan_documents

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(plan_documents())
def test_random_plans_round_trip(generated: GeneratedPlan) -> None:
    text = json.dumps(generated.document, indent=2)
    plan = pa.parse(text)
    assert len(plan.nodes()) == generated.node_count
    assert plan.to_json() == generated.document
    assert pa.parse(plan.to_json()).to_json() == generated.document
    assert plan.analyzed is generated.analyze
    assert plan.timed is generated.timing
    # unknown keys are kept in extra and written back
    for node, raw in zip(plan.nodes(), _raw_nodes(generated.document), strict=True):
        assert node.node_type == raw["Node Type"]
        assert set(node.extra) == {k for k in raw if k.startswith(("Zz", "Extra", "x"))}


@FAST
@given(plan_documents())
def test_random_plans_metric_invariants(generated: GeneratedPlan) -> None:
    plan = pa.parse(generated.document)
    nodes = plan.nodes()
    for n in nodes:
        assert n.exclusive_time_clamped_ms >= 0
        if generated.timing:
            assert n.exclusive_time_ms is not None
            assert n.exclusive_time_ms >= 0
            # consistent figures: nothing to clamp beyond float rounding
            assert n.exclusive_time_clamped_ms <= 1e-9 * max(1.0, plan.root.inclusive_time_ms)
        else:
            assert n.exclusive_time_ms is None
        if generated.analyze:
            assert n.rows_total == n.actual_rows * n.actual_loops
            if n.actual_loops and generated.costs:
                assert n.estimate_factor >= 1
        else:
            assert n.estimate_factor is None
        if generated.costs:
            assert 0 <= n.exclusive_cost <= n.total_cost
    if generated.timing:
        total = sum(n.exclusive_time_ms for n in nodes)
        assert math.isclose(total, plan.root.inclusive_time_ms, rel_tol=1e-6, abs_tol=1e-9)
    if generated.buffers:
        # counters include the subtree, so the self counters add up to the root's
        for key in BLOCKS:
            name = key.lower().replace(" ", "_")
            own = sum(getattr(n, f"exclusive_{name}") for n in nodes)
            assert own == getattr(nodes[0], name)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_inputs())
def test_broken_input_gives_a_plan_or_a_parse_error(data: Any) -> None:
    error: pa.PlanParseError | None = None
    try:
        plan = pa.parse(data)
    except pa.PlanParseError as err:
        error = err
    if error is not None:
        assert error.path
        assert error.reason
        assert "\n" not in str(error)
        assert "validation error" not in str(error)
        return
    assert isinstance(plan, pa.Plan)
    plan.to_json()
    for n in plan.nodes():  # every derived figure is computable
        _ = (n.exclusive_time_ms, n.estimate_factor, n.rows_total, n.time_share)


def _raw_nodes(document: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    stack = [document[0]["Plan"]]
    while stack:
        raw = stack.pop()
        out.append(raw)
        stack.extend(reversed(raw.get("Plans", [])))
    return out
