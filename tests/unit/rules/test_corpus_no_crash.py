"""Every rule over every plan of the vendored corpus: no exception, only sane findings.

The corpus (real plans from other projects, tests/corpus/SOURCES.md) is part of the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planalyzer as pa
from planalyzer.rules import ALL_RULES
from tests.unit.plan.builders import CORPUS, corpus_path

PATHS = sorted(CORPUS.glob("*/*.json"))


def corpus_plans(relative: str) -> list[pa.Plan]:
    """The statements of one corpus file (``"pev2/parallel_verbose.json"``)."""
    return pa.parse_all(corpus_path(relative).read_text(encoding="utf-8"))


def test_corpus_is_there() -> None:
    assert len(PATHS) >= 55  # 60 plans when vendored; a shrinking corpus is a bug


@pytest.mark.parametrize("path", [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in PATHS])
def test_every_rule_runs_cleanly(path: Path) -> None:
    plans = pa.parse_all(path.read_text(encoding="utf-8"))
    assert plans
    for plan in plans:
        report = pa.analyze(plan)
        assert set(report.rules_run) | set(report.rules_skipped) == {r.id for r in ALL_RULES}
        node_ids = {n.id for n in plan.nodes()}
        for finding in report.findings:
            assert finding.rule != "internal-error", finding.message
            assert finding.rule in report.rules_run
            assert finding.node_id is None or finding.node_id in node_ids, str(finding)
            assert isinstance(finding.severity, pa.Severity)
            assert finding.message.strip(), str(finding)
            assert finding.impact_ms is None or finding.impact_ms >= 0, str(finding)
            assert all(r in node_ids for r in finding.related_node_ids), str(finding)
        # rules that need ANALYZE never report on a plain EXPLAIN
        if not plan.analyzed:
            needs = {r.id for r in ALL_RULES if r.needs_analyze}
            assert not {f.rule for f in report.findings} & needs
            assert all(report.rules_skipped[r] == "needs EXPLAIN ANALYZE" for r in needs)


# --- hypothesis: odd but well-formed plans -------------------------------------------------

_NODE_TYPES = [
    "Seq Scan", "Index Scan", "Bitmap Heap Scan", "Bitmap Index Scan", "Hash", "Hash Join",
    "Aggregate", "Sort", "Limit", "Gather", "Gather Merge", "Nested Loop", "Append",
    "ModifyTable", "Result", "Memoize",
]  # fmt: skip
_NUMBERS = st.one_of(
    st.integers(min_value=-5, max_value=10**9),
    st.floats(min_value=-1.0, max_value=1e9, allow_nan=False),
)
_FIELDS = {
    "Actual Total Time": _NUMBERS, "Actual Rows": _NUMBERS, "Actual Loops": _NUMBERS,
    "Plan Rows": _NUMBERS, "Total Cost": _NUMBERS, "Hash Batches": st.integers(-1, 10**6),
    "Original Hash Batches": st.integers(-1, 10**6), "Peak Memory Usage": _NUMBERS,
    "HashAgg Batches": st.integers(-1, 10**6), "Disk Usage": _NUMBERS,
    "Planned Partitions": st.integers(0, 64), "Strategy": st.sampled_from(["Hashed", "Mixed"]),
    "Exact Heap Blocks": _NUMBERS, "Lossy Heap Blocks": _NUMBERS,
    "Rows Removed by Index Recheck": _NUMBERS, "Workers Planned": st.integers(-1, 64),
    "Workers Launched": st.integers(-1, 64), "Shared Hit Blocks": st.integers(0, 10**9),
    "Shared Read Blocks": st.integers(0, 10**9), "I/O Read Time": _NUMBERS,
    "Sort Key": st.lists(st.sampled_from(["a", "b DESC", "c ASC"]), max_size=3),
    "Sort Space Type": st.sampled_from(["Disk", "Memory"]), "Sort Space Used": _NUMBERS,
    "Workers": st.lists(
        st.fixed_dictionaries({}, optional={
            k: _NUMBERS
            for k in ("HashAgg Batches", "Disk Usage", "Peak Memory Usage", "Actual Loops")
        }),
        max_size=3,
    ),
}  # fmt: skip


def _node(children: list[dict]) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"Node Type": st.sampled_from(_NODE_TYPES)}, optional=_FIELDS).map(
        lambda d: {**d, "Plans": children} if children else d
    )


_TREES = st.recursive(
    _node([]),
    lambda inner: st.lists(inner, min_size=1, max_size=3).flatmap(_node),
    max_leaves=8,
)
_STATEMENTS = st.fixed_dictionaries(
    {"Plan": _TREES},
    optional={
        "Planning Time": _NUMBERS, "Execution Time": _NUMBERS,
        "Triggers": st.lists(st.fixed_dictionaries(
            {"Trigger Name": st.sampled_from(
                ["RI_ConstraintTrigger_a_1", "RI_ConstraintTrigger_c_2", "audit"]
            )},
            optional={"Constraint Name": st.sampled_from(["a_b_fkey", "x", "o'q_fkey"]),
                      "Relation": st.just("t"), "Time": _NUMBERS, "Calls": st.integers(0, 10**6)},
        ), max_size=2),
        "JIT": st.fixed_dictionaries({}, optional={
            "Functions": st.integers(0, 100),
            "Timing": st.dictionaries(st.sampled_from(["Generation", "Inlining", "Optimization",
                                                       "Emission", "Total"]), _NUMBERS),
        }),
        "Settings": st.dictionaries(
            st.sampled_from(["work_mem", "hash_mem_multiplier", "jit_above_cost",
                             "join_collapse_limit", "max_parallel_workers"]),
            st.sampled_from(["64kB", "4MB", "2", "0", "-1", "abc", ""]),
        ),
        "Planning": st.fixed_dictionaries({}, optional={"Shared Read Blocks": _NUMBERS}),
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_STATEMENTS)
def test_no_rule_raises_on_generated_plans(document: dict) -> None:
    try:
        plan = pa.parse(document)
    except pa.PlanParseError:
        return  # the parser's job, tested in tests/unit/plan
    report = pa.analyze(plan)
    errors = [f.message for f in report.findings if f.rule == "internal-error"]
    assert errors == []
    node_ids = {n.id for n in plan.nodes()}
    assert all(f.node_id is None or f.node_id in node_ids for f in report.findings)
