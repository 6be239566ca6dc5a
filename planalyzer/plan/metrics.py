"""Derived per-node figures: self time, totals over loops, estimate error, self buffers.

PostgreSQL prints ``Actual Total Time`` and ``Actual Rows`` as **averages per loop**, and for a
node run by parallel workers the loops of every process are added together (so a Seq Scan under
a Gather with two workers and a participating leader shows ``Actual Loops: 3``). BUFFERS
counters, on the other hand, are **totals** over all loops and processes, and both times and
buffers of a node include its children. The formulas below follow from that
(src/backend/commands/explain.c, ``show_instrumentation_count`` and ``ExplainNode``):

- ``inclusive_time_ms`` is the node's wall-clock time: ``actual_total_time x actual_loops`` outside
  a Gather. Below a Gather/Gather Merge the processes run at the same time, so it is the total
  of the busiest process when VERBOSE printed the per-worker ``Workers`` array (each worker's
  per-loop time x its loops; the leader's is the node's total minus the workers'), else the
  total divided by the processes that ran it (``Workers Launched`` + the leader, never more
  than the node's loops: a node looped once ran in one process). Multiplying by loops alone,
  as several visualisers do, counts parallel work two or three times over. A Gather's own
  InitPlans (``Params Evaluated``) run once in the leader before the workers start, so they
  count as 1 process.
- ``exclusive_time_ms = inclusive - sum(inclusive of children that ran inside it)``. InitPlans and
  SubPlans run inside the node they hang from, so they are subtracted. A CTE body (an InitPlan
  named ``CTE x``) runs lazily inside the CTE Scans that read it, so it is subtracted from those
  scans, shared in proportion to the rows each scan read, not from the node it hangs from.
  Citus worker plans (``remote``) ran on other servers and are not subtracted.
- Rounding of the printed averages can make a difference slightly negative; it is clamped to 0
  and the clamped amount kept in ``exclusive_time_clamped_ms`` so nothing is hidden.
- ``rows_total = actual_rows x actual_loops``; per-loop ``Rows Removed by ...`` likewise.
- ``estimate_factor = max(a, p) / min(a, p)`` with ``a = max(actual_rows, 1)`` and
  ``p = max(plan_rows, 1)``, both per loop: the planner never estimates fewer than one row, so an
  empty result against an estimate of one is not a misestimate.
- Exclusive buffers: the same subtraction as time, on the totals, clamped at 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.plan.model import PlanNode

__all__ = [
    "BLOCK_FIELDS",
    "NodeMetrics",
    "compute_metrics",
    "exclusive_time_rounding_ms",
    "inclusive_time_rounding_ms",
]

BLOCK_FIELDS = (
    "shared_hit_blocks",
    "shared_read_blocks",
    "shared_dirtied_blocks",
    "shared_written_blocks",
    "local_hit_blocks",
    "local_read_blocks",
    "local_dirtied_blocks",
    "local_written_blocks",
    "temp_read_blocks",
    "temp_written_blocks",
)

_GATHER_TYPES = frozenset({"Gather", "Gather Merge"})


@dataclass(slots=True)
class NodeMetrics:
    """Figures derived for one node; read them through the `PlanNode` properties."""

    parallel_processes: int = 1
    inclusive_time_ms: float | None = None
    exclusive_time_ms: float | None = None
    exclusive_time_clamped_ms: float = 0.0
    time_share: float | None = None
    exclusive_cost: float | None = None
    cost_share: float | None = None
    rows_total: float | None = None
    plan_rows_total: float | None = None
    rows_removed_by_filter_total: float | None = None
    rows_removed_by_join_filter_total: float | None = None
    rows_removed_by_index_recheck_total: float | None = None
    estimate_factor: float | None = None
    estimate_direction: str | None = None
    exclusive_blocks: dict[str, int] = field(default_factory=dict)


def is_cte_body(node: PlanNode) -> bool:
    """True for the InitPlan that computes a materialized CTE (``Subplan Name: CTE x``)."""
    name = node.subplan_name
    return name is not None and name.startswith("CTE ")


def _processes(node: PlanNode, inherited: int) -> int:
    """How many processes executed ``node`` concurrently."""
    # Only a Workers array with per-worker loops says who ran the node; with VERBOSE off a Sort
    # or Hash still lists its workers, but only with their sort/hash figures.
    if node.workers and any(w.actual_loops is not None for w in node.workers):
        worker_loops = sum((w.actual_loops or 0) for w in node.workers)
        looped = sum(1 for w in node.workers if (w.actual_loops or 0) > 0)
        leader = 1 if (node.actual_loops or 0) > worker_loops else 0
        if looped + leader > 0:
            return looped + leader
    return inherited


def _wall_time(node: PlanNode, loops: float, processes: int) -> float:
    """Wall-clock time of a node: its slowest process's total, or the average as a fallback.

    With per-worker figures (VERBOSE), each worker's total is its per-loop time x its loops and
    the leader's is what remains of the node's total; processes run at the same time, so the
    busiest one is how long the node kept the statement waiting. Without them only the average
    over ``processes`` is known, which understates an unbalanced node.
    """
    total = float(node.actual_total_time or 0.0) * loops
    if processes <= 1 or not node.workers:
        return total / max(processes, 1)
    worker_totals = [
        float(w.actual_total_time) * float(w.actual_loops)
        for w in node.workers
        if w.actual_total_time is not None and w.actual_loops is not None
    ]
    if not worker_totals:
        return total / processes
    worker_loops = sum(float(w.actual_loops or 0) for w in node.workers)
    busiest = max(worker_totals)
    if loops > worker_loops:  # the leader ran it too; its share is what the workers leave
        busiest = max(busiest, total - sum(worker_totals))
    return busiest


def _gather_processes(gather: PlanNode) -> int:
    """Processes under a Gather: the workers that started plus the leader (when it takes part)."""
    workers = gather.workers_launched
    if workers is None:
        workers = gather.workers_planned or 0
    if gather.single_copy and workers > 0:
        return 1  # single-copy: one worker runs the subtree, the leader only gathers
    return workers + 1


def _estimate(actual: float | None, planned: float | None) -> tuple[float | None, str | None]:
    if actual is None or planned is None:
        return None, None
    a = max(float(actual), 1.0)
    p = max(float(planned), 1.0)
    if a > p:
        return a / p, "under"
    if a < p:
        return p / a, "over"
    return 1.0, "exact"


# A Gather's InitPlans (PostgreSQL prints them as "Params Evaluated") run once, in the leader,
# before the workers start (ExecGather -> ExecSetParamPlanMulti): they are not parallel.
_RUN_BY_LEADER = frozenset({"InitPlan", "SubPlan"})


def compute_metrics(nodes: tuple[PlanNode, ...]) -> list[NodeMetrics]:
    """Compute `NodeMetrics` for ``nodes`` (a whole plan in pre-order); no recursion.

    Returns the metrics in the same order; the parser attaches them to the nodes.
    """
    metrics = [NodeMetrics() for _ in nodes]
    index = {id(n): i for i, n in enumerate(nodes)}
    parents = [-1] * len(nodes)
    counted: list[list[int]] = [[] for _ in nodes]  # children whose figures the node includes
    for i, node in enumerate(nodes):
        parent = node.parent
        if parent is not None:
            parents[i] = p = index[id(parent)]
            if not node.remote and not is_cte_body(node):
                counted[p].append(i)

    # Pass 1, pre-order: parallelism flows down from Gather nodes; per-node figures.
    for i, node in enumerate(nodes):
        m = metrics[i]
        p = parents[i]
        if p < 0 or node.remote:
            inherited = 1
        elif nodes[p].node_type in _GATHER_TYPES and node.parent_relationship not in _RUN_BY_LEADER:
            inherited = _gather_processes(nodes[p])
        else:
            inherited = metrics[p].parallel_processes
        m.parallel_processes = _processes(node, inherited) if node.workers else inherited

        loops = node.actual_loops
        if loops is None:
            continue
        # the per-loop figures times loops; inlined, this loop runs once per node of the plan
        m.rows_total = None if node.actual_rows is None else float(node.actual_rows) * loops
        m.plan_rows_total = None if node.plan_rows is None else float(node.plan_rows) * loops
        if node.rows_removed_by_filter is not None:
            m.rows_removed_by_filter_total = float(node.rows_removed_by_filter) * loops
        if node.rows_removed_by_join_filter is not None:
            m.rows_removed_by_join_filter_total = float(node.rows_removed_by_join_filter) * loops
        if node.rows_removed_by_index_recheck is not None:
            m.rows_removed_by_index_recheck_total = (
                float(node.rows_removed_by_index_recheck) * loops
            )
        if loops > 0:
            m.estimate_factor, m.estimate_direction = _estimate(node.actual_rows, node.plan_rows)
        if loops and m.parallel_processes > loops:
            m.parallel_processes = max(int(loops), 1)  # n loops cannot keep more processes busy
        if node.actual_total_time is not None:
            m.inclusive_time_ms = _wall_time(node, float(loops), m.parallel_processes)

    cte_share = _cte_shares(nodes, metrics, index)

    # Pass 2: self figures (any order works now that inclusive figures are known).
    for i, node in enumerate(nodes):
        m = metrics[i]
        kids = counted[i]
        body_time, body_blocks = cte_share.get(i, (0.0, {}))
        if m.inclusive_time_ms is not None:
            self_time = m.inclusive_time_ms - body_time
            for c in kids:
                self_time -= metrics[c].inclusive_time_ms or 0.0
            if self_time < 0:
                m.exclusive_time_clamped_ms = -self_time
                self_time = 0.0
            m.exclusive_time_ms = self_time
        fields = node.__dict__  # the validated fields; getattr() per block field is slower
        if node.total_cost is not None:
            cost = node.total_cost
            for c in kids:
                cost -= nodes[c].total_cost or 0.0
            m.exclusive_cost = cost if cost > 0 else 0.0
        if not kids and not body_blocks:  # a leaf, the commonest node: its own figures
            m.exclusive_blocks = {
                name: own if own > 0 else 0
                for name in BLOCK_FIELDS
                if (own := fields[name]) is not None
            }
            continue
        kid_fields = [nodes[c].__dict__ for c in kids]
        blocks = m.exclusive_blocks
        for name in BLOCK_FIELDS:
            own = fields[name]
            if own is None:
                continue
            rest = own - body_blocks.get(name, 0)
            for kid in kid_fields:
                rest -= kid[name] or 0
            blocks[name] = rest if rest > 0 else 0

    _shares(nodes, metrics)
    return metrics


def _cte_shares(
    nodes: tuple[PlanNode, ...], metrics: list[NodeMetrics], index: dict[int, int]
) -> dict[int, tuple[float, dict[str, int]]]:
    """Split each CTE body's time and buffers among the CTE Scans that read it.

    The body runs when a scan first asks for rows beyond what is already stored, so the scan
    that read the most rows caused the most of it; shares are in proportion to rows read.
    """
    bodies: dict[str, PlanNode] = {}
    for node in nodes:
        if is_cte_body(node) and node.subplan_name is not None:
            bodies.setdefault(node.subplan_name[4:], node)
    scans: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        if node.node_type == "CTE Scan" and node.cte_name in bodies:
            scans.setdefault(node.cte_name, []).append(i)
    shares: dict[int, tuple[float, dict[str, int]]] = {}
    for name, scan_ids in scans.items():
        body = bodies[name]
        body_time = metrics[index[id(body)]].inclusive_time_ms or 0.0
        weights = [max(metrics[i].rows_total or 0.0, 0.0) for i in scan_ids]
        total_weight = sum(weights)
        for i, weight in zip(scan_ids, weights, strict=True):
            fraction = weight / total_weight if total_weight > 0 else 1.0 / len(scan_ids)
            blocks = {
                f: round((getattr(body, f) or 0) * fraction)
                for f in BLOCK_FIELDS
                if getattr(body, f) is not None
            }
            shares[i] = (body_time * fraction, blocks)
    return shares


def _shares(nodes: tuple[PlanNode, ...], metrics: list[NodeMetrics]) -> None:
    """Each node's share of the statement's node time and of the root's cost."""
    if not nodes:
        return
    root_time = metrics[0].inclusive_time_ms
    root_cost = nodes[0].total_cost
    for m in metrics:
        if root_time and m.exclusive_time_ms is not None:
            m.time_share = min(m.exclusive_time_ms / root_time, 1.0)
        elif root_time == 0 and m.exclusive_time_ms is not None:
            m.time_share = 0.0
        if root_cost and m.exclusive_cost is not None:
            m.cost_share = min(m.exclusive_cost / root_cost, 1.0)


# EXPLAIN prints per-loop times with 3 decimals (ExplainPropertyFloat(..., 3, ...) in explain.c),
# so each printed figure is off by up to half a microsecond, and a total over n loops by n times
# that. A node looped 20,000 times at "0.002 ms" took anywhere from 30 to 50 ms in all.
_HALF_ROUNDING_MS = 0.0005


def inclusive_time_rounding_ms(node: PlanNode) -> float:
    """How far ``inclusive_time_ms`` may be off because per-loop times are rounded (a bound).

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Result", "Actual Total Time": 0.002,
        ...                           "Actual Rows": 1, "Actual Loops": 20000}})
        >>> inclusive_time_rounding_ms(plan.root)
        10.0
    """
    if node.actual_total_time is None:
        return 0.0
    return _HALF_ROUNDING_MS * float(node.actual_loops or 0)


def exclusive_time_rounding_ms(node: PlanNode) -> float:
    """How far ``exclusive_time_ms`` may be off: the node's rounding plus its children's."""
    bound = inclusive_time_rounding_ms(node)
    for child in node.children:
        if not child.remote and not is_cte_body(child):
            bound += inclusive_time_rounding_ms(child)
    return bound
