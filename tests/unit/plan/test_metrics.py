"""Derived metrics: expected figures written as arithmetic from the plans' printed numbers."""

from __future__ import annotations

import math

import pytest

import planalyzer as pa
from tests.unit.plan.builders import corpus_path, node, statement

approx = pytest.approx


def load(relative: str) -> pa.Plan:
    return pa.load(corpus_path(relative))


def only(plan: pa.Plan, node_type: str, **criteria: str) -> pa.PlanNode:
    found = plan.find(node_type=node_type, **criteria)
    assert len(found) == 1, found
    return found[0]


def assert_no_node_exceeds_statement(plan: pa.Plan) -> None:
    """The visualisers' classic bug: loops x time inflates parallel nodes 2-3x past the total."""
    assert plan.execution_time_ms is not None
    for n in plan.nodes():
        assert n.inclusive_time_ms is not None
        assert n.inclusive_time_ms <= plan.execution_time_ms, n
        assert n.exclusive_time_ms is not None
        assert n.exclusive_time_ms <= plan.execution_time_ms, n


# --- parallel plans ---------------------------------------------------------------------------


def test_parallel_verbose_divides_by_processes_that_looped() -> None:
    plan = load("pev2/parallel_verbose.json")
    gather = only(plan, "Gather")
    partial = plan.find(node_type="Aggregate")[1]
    scan = only(plan, "Seq Scan", relation="lineitem")
    # Workers Planned 4, Launched 2; each worker looped once, the leader took part: 3 processes.
    assert gather.workers_planned == 4
    assert gather.workers_launched == 2
    assert [w.actual_loops for w in scan.workers or []] == [1, 1]
    assert scan.parallel_processes == 2 + 1
    assert partial.parallel_processes == 2 + 1
    # wall time = the busiest process: each worker's time x loops, the leader's is the rest
    scan_leader = 344.447 * 3 - 344.435 - 344.431
    assert scan.inclusive_time_ms == approx(max(344.435, 344.431, scan_leader))
    partial_leader = 482.39 * 3 - 481.485 - 481.56
    assert partial.inclusive_time_ms == approx(max(481.485, 481.56, partial_leader))
    assert partial.exclusive_time_ms == approx(partial_leader - scan_leader)
    # the Gather runs in the leader alone: its time is its own, minus its child's wall time
    assert gather.parallel_processes == 1
    assert gather.exclusive_time_ms == approx(486.428 - partial_leader)
    # the top Aggregate printed less time than its Gather child (rounding of two clocks):
    # clamped to 0 and the difference kept
    top = plan.root
    assert top.exclusive_time_ms == 0
    assert top.exclusive_time_clamped_ms == approx(486.428 - 484.97)
    # rows are per-loop averages, totals multiply by loops (not by processes)
    assert scan.rows_total == approx(scan.actual_rows * 3)
    assert_no_node_exceeds_statement(plan)


def test_parallel_index_scan_one_worker_and_leader() -> None:
    plan = load("pg_store_plans/p40_parallel_index_scan.json")
    gather = plan.root
    scan = gather.children[0]
    # Workers Launched 1; Actual Loops 2 = worker's 1 + the leader's 1
    assert scan.actual_loops == 2
    assert scan.parallel_processes == 1 + 1
    # the worker found nothing to do (0.002 ms); the leader did the work: 0.076 x 2 - 0.002
    assert scan.inclusive_time_ms == approx(0.076 * 2 - 0.002)
    assert gather.exclusive_time_ms == approx(11.791 - (0.076 * 2 - 0.002))
    assert_no_node_exceeds_statement(plan)


def test_gather_merge_two_workers() -> None:
    plan = load("pg_store_plans/p41_gather_merge.json")
    gather, sort, scan = plan.nodes()
    assert gather.node_type == "Gather Merge"
    assert sort.parallel_processes == scan.parallel_processes == 2 + 1
    # the workers had almost nothing to do (0.223 and 0.246 ms): the leader's share is the rest
    sort_leader = 1.628 * 3 - 0.223 - 0.246
    scan_leader = 0.92 * 3 - 0.001 - 0.001
    assert sort.inclusive_time_ms == approx(sort_leader)
    assert sort.exclusive_time_ms == approx(sort_leader - scan_leader)
    assert gather.exclusive_time_ms == approx(12.403 - sort_leader)
    assert_no_node_exceeds_statement(plan)


def test_gather_params_evaluated_initplan_runs_in_the_leader() -> None:
    plan = load("pganalyze_collector/parallel_params_evaluated.json")
    first_gather, second_gather = (
        n for n in plan.find(node_type="Gather") if n.parent_relationship == "Member"
    )
    # The Gather's InitPlan ("Params Evaluated") runs once, in the leader, before any worker.
    limit = first_gather.children[0]
    assert limit.parent_relationship == "InitPlan"
    assert limit.parallel_processes == 1
    assert limit.inclusive_time_ms == approx(0.491)
    inner_gather = limit.children[0]
    assert inner_gather.inclusive_time_ms == approx(0.49)
    # below that inner Gather: 4 workers launched + leader = 5 processes, 5 loops
    inner_scan = inner_gather.children[0]
    assert inner_scan.actual_loops == 5
    assert inner_scan.inclusive_time_ms == approx(0.593 * 5 / (4 + 1))
    # the Member Gather's own parallel scan: 3 launched + leader, 4 loops
    scan = first_gather.children[1]
    assert scan.parallel_processes == 3 + 1
    assert scan.inclusive_time_ms == approx(0.305 * 4 / 4)
    assert first_gather.exclusive_time_ms == approx(7.405 - 0.491 - 0.305)
    # Workers Launched 0: the leader ran the "parallel" scan alone, one loop
    assert second_gather.workers_launched == 0
    lone_scan = second_gather.children[1]
    assert lone_scan.parallel_processes == 1
    assert lone_scan.inclusive_time_ms == approx(1.173)
    assert_no_node_exceeds_statement(plan)


def test_gather_without_verbose_uses_workers_launched() -> None:
    scan = node(
        "Seq Scan", total=30.0, rows=100, loops=3, rel="Outer", raw={"Parallel Aware": True}
    )
    gather = node(
        "Gather", scan, total=35.0, rows=300, loops=1, workers_planned=2, workers_launched=2
    )
    plan = pa.parse(statement(gather, Execution_Time=36.0))
    assert plan.node(1).inclusive_time_ms == approx(30.0 * 3 / (2 + 1))
    assert plan.node(0).exclusive_time_ms == approx(35.0 - 30.0)
    assert plan.node(1).rows_total == 300


def test_single_copy_gather_runs_one_process() -> None:
    scan = node("Seq Scan", total=10.0, rows=1, loops=1, rel="Outer")
    gather = node(
        "Gather",
        scan,
        total=12.0,
        rows=1,
        loops=1,
        workers_planned=1,
        workers_launched=1,
        raw={"Single Copy": True},
    )
    plan = pa.parse(statement(gather))
    assert plan.node(1).parallel_processes == 1
    assert plan.node(0).exclusive_time_ms == approx(12.0 - 10.0)


# --- CTEs, InitPlans, SubPlans ------------------------------------------------------------------


def test_cte_body_is_charged_to_its_scan_not_to_its_host() -> None:
    plan = load(
        "pg_store_plans/p08_plain_aggregate_cte_recursive_union_worktable_scan_cte_scan.json"
    )
    aggregate = plan.root
    body = aggregate.children[0]
    scan = only(plan, "CTE Scan")
    assert body.subplan_name == "CTE cte1"
    # the Aggregate hosts the CTE InitPlan but only its CTE Scan child ran inside it
    assert aggregate.exclusive_time_ms == approx(0.036 - 0.02)
    # the CTE Scan pulled the body's rows: the body's time is inside the scan's
    assert scan.exclusive_time_ms == approx(0.02 - 0.016)


def test_two_scans_of_one_cte_share_its_body_by_rows_read() -> None:
    body = node("Seq Scan", total=8.0, rows=100, loops=1, rel="InitPlan", subplan="CTE c", hit=40)
    scan_a = node("CTE Scan", total=9.0, rows=75, loops=1, rel="Outer", cte="c", hit=30)
    scan_b = node("CTE Scan", total=3.0, rows=25, loops=1, rel="Inner", cte="c", hit=10)
    join = node("Nested Loop", body, scan_a, scan_b, total=13.0, rows=1, loops=1, hit=40)
    plan = pa.parse(statement(join))
    _, body_n, a, b = plan.nodes()
    assert a.exclusive_time_ms == approx(9.0 - 8.0 * 75 / 100)
    assert b.exclusive_time_ms == approx(3.0 - 8.0 * 25 / 100)
    assert plan.root.exclusive_time_ms == approx(13.0 - 9.0 - 3.0)
    assert body_n.exclusive_time_ms == approx(8.0)
    assert a.exclusive_shared_hit_blocks == 30 - round(40 * 75 / 100)
    assert b.exclusive_shared_hit_blocks == 10 - round(40 * 25 / 100)
    assert plan.root.exclusive_shared_hit_blocks == 40 - 30 - 10


@pytest.mark.parametrize(
    "relative",
    [
        "pev2/many_ctes.json",
        "pg_flame/cte_aggregate_analyze.json",
        "handwritten/pg9_ctes_on_result_analyze.json",
    ],
)
def test_each_cte_body_is_subtracted_once_over_its_scans(relative: str) -> None:
    plan = load(relative)
    bodies = {
        n.subplan_name[4:]: n for n in plan.nodes() if (n.subplan_name or "").startswith("CTE ")
    }
    assert bodies
    charged = dict.fromkeys(bodies, 0.0)
    for n in plan.nodes():
        if n.node_type != "CTE Scan" or n.cte_name not in bodies:
            continue
        children = sum(
            c.inclusive_time_ms or 0.0
            for c in n.children
            if not (c.subplan_name or "").startswith("CTE ")
        )
        # what the scan's self time had taken off, besides its own children
        charged[n.cte_name] += (
            n.inclusive_time_ms - children - n.exclusive_time_ms + n.exclusive_time_clamped_ms
        )
    for name, body in bodies.items():
        assert charged[name] == approx(body.inclusive_time_ms, abs=1e-9), name


def test_ctes_initplan_hosted_on_result() -> None:
    plan = load("handwritten/pg9_ctes_on_result_analyze.json")
    result, cte_1, _cte_2, append, scan_1, scan_2 = plan.nodes()
    # host: minus the Append only (CTE bodies run inside the CTE Scans)
    assert result.exclusive_time_ms == approx(0.012 - 0.008)
    assert scan_1.exclusive_time_ms == approx(0.007 - 0.003)
    assert scan_2.exclusive_time_ms == approx(0.002 - 0.001)
    assert append.exclusive_time_ms == approx(0.0)
    assert append.exclusive_time_clamped_ms == approx(0.007 + 0.002 - 0.008)
    assert cte_1.exclusive_time_ms == approx(0.003)


def test_initplan_and_subplan_are_subtracted_from_their_host() -> None:
    plan = load("handwritten/pg9_initplan_subplan_analyze.json")
    host, initplan, subplan = plan.nodes()
    assert initplan.parent_relationship == "InitPlan"
    assert subplan.parent_relationship == "SubPlan"
    assert host.exclusive_time_ms == approx(0.062 - 0.011 - 0.029)


def test_subplan_looping_per_row_counts_all_its_loops() -> None:
    sub = node("Index Scan", total=0.01, rows=1, loops=500, rel="SubPlan", subplan="SubPlan 1")
    scan = node("Seq Scan", sub, total=9.0, rows=500, loops=1)
    plan = pa.parse(statement(scan))
    assert plan.node(1).inclusive_time_ms == approx(0.01 * 500)
    assert plan.root.exclusive_time_ms == approx(9.0 - 0.01 * 500)


# --- never executed, TIMING OFF, COSTS OFF, no ANALYZE ------------------------------------------


def test_never_executed_nodes() -> None:
    plan = load("pev2/simple_join_verbose_analyze.json")
    never = [n for n in plan.nodes() if n.actual_loops == 0]
    assert {n.node_type for n in never} == {"Materialize", "Index Scan"}
    for n in never:
        assert n.executed is False
        assert n.exclusive_time_ms == 0
        assert n.inclusive_time_ms == 0
        assert n.rows_total == 0
        assert n.estimate_factor is None  # no loop: nothing to compare per loop
    assert all(n.executed for n in plan.nodes() if n.actual_loops)


def test_timing_off_keeps_rows_but_not_times() -> None:
    scan = node("Seq Scan", rows=40, loops=2, cost=5.0, plan_rows=10)
    top = node(
        "Sort", {**scan, "Parent Relationship": "Outer"}, rows=80, loops=1, cost=9.0, plan_rows=20
    )
    plan = pa.parse(statement(top, Execution_Time=1.5))
    assert plan.analyzed
    assert not plan.timed
    s = plan.node(1)
    assert s.exclusive_time_ms is None
    assert s.inclusive_time_ms is None
    assert s.time_share is None
    assert s.rows_total == 40 * 2
    assert s.estimate_factor == approx(40 / 10)
    assert s.estimate_direction == "under"
    assert plan.total_time_ms == 1.5


def test_timing_off_corpus_plan() -> None:
    plan = load("handwritten/worker_result_analyze_timing_off.json")
    assert plan.analyzed
    assert not plan.timed
    for n in plan.nodes():
        assert n.exclusive_time_ms is None
        assert n.rows_total == n.actual_rows * n.actual_loops


def test_costs_off_plan() -> None:
    plan = load("handwritten/distributed_join_count_costs_off_pre18.json")
    for n in plan.nodes():
        assert n.total_cost is None
        assert n.exclusive_cost is None
        assert n.cost_share is None
        assert n.estimate_factor is None


def test_plan_without_analyze_has_costs_but_no_actuals() -> None:
    plan = load("pev2/subquery_scan_plain.json")
    assert not plan.analyzed
    assert not plan.timed
    for n in plan.nodes():
        assert n.estimate_factor is None
        assert n.estimate_direction is None
        assert n.exclusive_time_ms is None
        assert n.rows_total is None
        assert n.executed is None
        assert n.exclusive_cost is not None
        children = sum(c.total_cost for c in n.children)
        assert n.exclusive_cost == approx(max(n.total_cost - children, 0.0))
        assert 0 <= n.cost_share <= 1
    assert plan.root.cost_share == approx(plan.root.exclusive_cost / plan.root.total_cost)


# --- clamping, buffers ----------------------------------------------------------------------


def test_child_slower_than_parent_is_clamped_and_reported() -> None:
    child = node("Seq Scan", total=5.25, rows=1, loops=1, rel="Outer")
    parent = node("Limit", child, total=5.0, rows=1, loops=1)
    plan = pa.parse(statement(parent))
    assert plan.root.exclusive_time_ms == 0.0
    assert plan.root.exclusive_time_clamped_ms == approx(5.25 - 5.0)
    assert plan.node(1).exclusive_time_clamped_ms == 0.0
    assert plan.root.time_share == 0.0
    assert plan.node(1).time_share == 1.0  # capped at 1 even though 5.25 / 5.0 > 1


def test_exclusive_buffers_subtract_children_and_clamp() -> None:
    left = node("Seq Scan", total=1.0, rows=1, loops=1, rel="Outer", hit=30, read=7, temp_read=0)
    right = node("Hash", total=1.0, rows=1, loops=1, rel="Inner", hit=25, read=2, temp_read=4)
    join = node("Hash Join", left, right, total=3.0, rows=1, loops=1, hit=60, read=8, temp_read=3)
    plan = pa.parse(statement(join))
    root = plan.root
    assert root.exclusive_shared_hit_blocks == 60 - 30 - 25
    assert root.exclusive_shared_read_blocks == 0  # 8 - 7 - 2 < 0: clamped
    assert root.exclusive_temp_read_blocks == 0
    assert plan.node(1).exclusive_shared_hit_blocks == 30
    assert root.exclusive_temp_written_blocks is None  # not printed, not invented


def test_exclusive_buffers_on_corpus_plan() -> None:
    plan = load("pev2/aggregate_four_joins.json")
    for n in plan.nodes():
        assert n.shared_hit_blocks is not None
        kids = sum(c.shared_hit_blocks for c in n.children)
        assert n.exclusive_shared_hit_blocks == max(n.shared_hit_blocks - kids, 0)


# --- estimate factor ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "planned", "factor", "direction"),
    [
        (1000, 10, 1000 / 10, "under"),
        (10, 1000, 1000 / 10, "over"),
        (7, 7, 1.0, "exact"),
        # 0 rows read against an estimate of 1 is not an error: the planner's floor is 1 row
        (0, 1, 1.0, "exact"),
        # 0 rows against 500 planned: off by 500x (0 counts as 1)
        (0, 500, 500 / 1, "over"),
        (250, 0, 250 / 1, "under"),
        (0.5, 2, 2 / 1, "over"),  # PostgreSQL 18 prints fractional averages
    ],
)
def test_estimate_factor_rules(
    actual: float, planned: float, factor: float, direction: str
) -> None:
    plan = pa.parse(statement(node("Seq Scan", rows=actual, plan_rows=planned, loops=4, total=1.0)))
    assert plan.root.estimate_factor == approx(factor)
    assert plan.root.estimate_factor >= 1
    assert plan.root.estimate_direction == direction
    assert plan.root.plan_rows_total == approx(planned * 4)


# --- Citus-shaped distributed plans (hand-written, see tests/corpus/SOURCES.md) -----------


def test_citus_remote_plans_are_nodes() -> None:
    plan = load("handwritten/distributed_join_count_costs_off_pg18.json")
    remote = [n for n in plan.nodes() if n.remote]
    assert remote
    assert all(not n.remote for n in plan.nodes()[:1])
    for n in remote:
        assert n.parent is not None
        assert n in n.parent.children
        assert n.parent.remote or "Distributed Query" in n.parent.extra
    scans = plan.find(predicate=lambda n: n.remote and n.relation_name is not None)
    assert scans
    assert all(n in remote for n in scans)
    relation = scans[0].relation_name
    assert scans[0] in plan.find(relation=relation)
    # remote plans are not re-attached under "Plans" by to_json: kept in "Distributed Query"
    assert plan.to_json() == load_raw("handwritten/distributed_join_count_costs_off_pg18.json")


def load_raw(relative: str) -> object:
    import json

    return json.loads(corpus_path(relative).read_bytes())


def test_remote_time_is_not_subtracted_locally() -> None:
    remote_scan = {
        "Node Type": "Seq Scan",
        "Actual Total Time": 50.0,
        "Actual Rows": 1,
        "Actual Loops": 1,
    }
    custom = node(
        "Custom Scan",
        total=20.0,
        rows=1,
        loops=1,
        raw={
            "Custom Plan Provider": "Citus Adaptive",
            "Distributed Query": {"Job": {"Tasks": [{"Remote Plan": [{"Plan": remote_scan}]}]}},
        },
    )
    plan = pa.parse(statement(custom))
    assert plan.node(1).remote
    assert plan.node(1).inclusive_time_ms == 50.0
    assert plan.root.exclusive_time_ms == 20.0


@pytest.mark.parametrize(
    "value", [-9223372036854775808, 9223372036854775807, -1, 18446744073709551615]
)
def test_query_identifier_is_kept_exactly(value: int) -> None:
    text = f'[{{"Plan": {{"Node Type": "Result"}}, "Query Identifier": {value}}}]'
    plan = pa.parse(text)
    assert plan.query_identifier == value
    assert isinstance(plan.query_identifier, int)
    assert plan.to_json()[0]["Query Identifier"] == value


def test_query_identifier_from_corpus() -> None:
    plan = load(
        "pg_store_plans/p08_plain_aggregate_cte_recursive_union_worktable_scan_cte_scan.json"
    )
    assert (
        plan.query_identifier
        == load_raw(
            "pg_store_plans/p08_plain_aggregate_cte_recursive_union_worktable_scan_cte_scan.json"
        )["Query Identifier"]
    )
    assert plan.query_identifier < 0


def test_time_share_sums_to_one_for_a_serial_plan() -> None:
    plan = load("pev2/aggregate_four_joins.json")
    total = sum(n.time_share for n in plan.nodes())
    clamped = sum(n.exclusive_time_clamped_ms for n in plan.nodes())
    assert total == approx(1.0 + clamped / plan.root.inclusive_time_ms)
    assert math.isclose(
        sum(n.exclusive_time_ms for n in plan.nodes()), plan.root.inclusive_time_ms + clamped
    )


def _worker(number: int, total_ms: float, loops: int = 1) -> dict[str, float]:
    return {"Worker Number": number, "Actual Total Time": total_ms, "Actual Loops": loops}


def test_unbalanced_parallel_hash_join_takes_the_busiest_process() -> None:
    """Figures from a real PostgreSQL 15 run (VERBOSE) of a two-worker parallel hash join.

    The leader built the hash alone (its Seq Scan on orders looped once, ``Workers: []``) and
    then probed longer than the workers; averaging over 3 processes made the join look 36 ms
    and the Gather's own time 29 ms, where the leader really spent 59 ms in the join.
    """
    orders = {"Node Type": "Seq Scan", "Parallel Aware": True, "Relation Name": "orders",
              "Actual Total Time": 18.068, "Actual Rows": 120, "Actual Loops": 1,
              "Workers": []}  # fmt: skip
    hash_ = {"Node Type": "Hash", "Parallel Aware": True, "Actual Total Time": 6.048,
             "Actual Rows": 40, "Actual Loops": 3,
             "Workers": [_worker(0, 0.014), _worker(1, 0.014)], "Plans": [orders]}  # fmt: skip
    items = {"Node Type": "Seq Scan", "Parallel Aware": True, "Relation Name": "order_items",
             "Actual Total Time": 13.881, "Actual Rows": 150009, "Actual Loops": 3,
             "Workers": [_worker(0, 14.468), _worker(1, 6.82)]}  # fmt: skip
    join = {"Node Type": "Hash Join", "Parallel Aware": True, "Actual Total Time": 36.626,
            "Actual Rows": 62, "Actual Loops": 3, "Plans": [items, hash_],
            "Workers": [_worker(0, 23.416), _worker(1, 27.14)]}  # fmt: skip
    gather = {"Node Type": "Gather", "Workers Planned": 2, "Workers Launched": 2,
              "Actual Total Time": 65.599, "Actual Rows": 186, "Actual Loops": 1,
              "Plans": [join]}  # fmt: skip
    plan = pa.parse({"Plan": gather, "Execution Time": 65.7})
    g, j, i, h, o = plan.nodes()
    assert o.parallel_processes == 1  # one loop: one process, whatever the Gather launched
    assert o.inclusive_time_ms == approx(18.068)
    assert h.inclusive_time_ms == approx(6.048 * 3 - 0.014 - 0.014)
    assert i.inclusive_time_ms == approx(13.881 * 3 - 14.468 - 6.82)
    assert j.inclusive_time_ms == approx(36.626 * 3 - 23.416 - 27.14)
    assert g.exclusive_time_ms == approx(65.599 - (36.626 * 3 - 23.416 - 27.14))
    assert sum(n.exclusive_time_ms for n in plan.nodes()) == approx(65.599)


def test_a_negative_worker_count_does_not_divide_by_zero() -> None:
    # found by hypothesis (test_no_rule_raises_on_generated_plans): -1 workers + the leader = 0
    plan = pa.parse(
        {
            "Plan": {
                "Node Type": "Gather",
                "Workers Planned": -1,
                "Actual Total Time": 2.0,
                "Actual Rows": 1,
                "Actual Loops": 1,
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Parent Relationship": "Outer",
                        "Actual Total Time": 1.0,
                        "Actual Rows": 1,
                        "Actual Loops": 1,
                    }
                ],
            }
        }
    )
    assert plan.nodes()[1].inclusive_time_ms == 1.0
