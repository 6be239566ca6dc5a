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

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planalyzer.plan.model import PlanNode

__all__ = [
    "BLOCK_FIELDS",
    "PlanMetrics",
    "compute_metrics",
    "estimate",
    "exclusive_time_rounding_ms",
    "inclusive_time_rounding_ms",
    "per_loop_total",
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


class PlanMetrics:
    """The figures that depend on the tree, for every node of one plan, indexed by node id.

    Stored as columns (one list per figure) rather than one object per node: cheaper to build
    and to keep. Figures that only need the node's own keys (``rows_total``,
    ``rows_removed_by_filter_total`` ...) are computed when read (`per_loop_total`), and
    exclusive buffers on the first read of any of them; the estimate factor, which rules read
    for every node, is a column too. Read through the `PlanNode` properties.
    """

    __slots__ = (
        "_blocks",
        "_cte",
        "clamped",
        "counted",
        "direction",
        "exclusive",
        "exclusive_cost",
        "factor",
        "inclusive",
        "nodes",
        "processes",
    )

    def __init__(self, nodes: tuple[PlanNode, ...]) -> None:
        n = len(nodes)
        self.nodes = nodes
        self.processes: list[int] = [1] * n
        self.inclusive: list[float | None] = [None] * n
        self.exclusive: list[float | None] = [None] * n
        self.clamped: list[float] = [0.0] * n
        self.exclusive_cost: list[float | None] = [None] * n
        self.factor: list[float | None] = [None] * n  # estimate factor, see `estimate`
        self.direction: list[str | None] = [None] * n
        self.counted: list[list[int] | None] = [None] * n  # children included in its figures
        self._cte: dict[int, tuple[int, float]] = {}  # CTE scan -> (body, its share of it)
        self._blocks: list[dict[str, int]] | None = None

    def time_share(self, i: int) -> float | None:
        """Node ``i``'s exclusive time as a fraction (0..1) of the root's time."""
        root_time = self.inclusive[0]
        mine = self.exclusive[i]
        if mine is None or root_time is None:
            return None
        if root_time:
            return min(mine / root_time, 1.0)
        return 0.0

    def cost_share(self, i: int) -> float | None:
        """Node ``i``'s exclusive cost as a fraction (0..1) of the root's total cost."""
        root_cost = self.nodes[0].total_cost
        mine = self.exclusive_cost[i]
        if not root_cost or mine is None:
            return None
        return min(mine / root_cost, 1.0)

    def exclusive_blocks(self, i: int) -> dict[str, int]:
        """Node ``i``'s own buffer counters (computed for the whole plan on first use)."""
        if self._blocks is None:
            self._blocks = _exclusive_blocks(self)
        return self._blocks[i]


def per_loop_total(node: PlanNode, value: float | None) -> float | None:
    """A per-loop figure of ``node`` times its loops; None without ANALYZE or the figure."""
    loops = node.actual_loops
    if loops is None or value is None:
        return None
    return float(value) * loops


def estimate(node: PlanNode) -> tuple[float | None, str | None]:
    """(estimate factor, direction) of a node that ran; (None, None) otherwise."""
    loops = node.actual_loops
    if not loops or loops <= 0:
        return None, None
    return _estimate(node.actual_rows, node.plan_rows)


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
    return max(workers, 0) + 1  # a negative count (hand-edited input) counts as none


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


def compute_metrics(nodes: tuple[PlanNode, ...], parents: list[int]) -> PlanMetrics:
    """Compute the tree figures of ``nodes`` (a whole plan in pre-order); no recursion.

    ``parents[i]`` is the index of node ``i``'s parent (-1 for the root).
    """
    metrics = PlanMetrics(nodes)
    counted = metrics.counted
    processes = metrics.processes
    inclusive = metrics.inclusive
    factor, direction = metrics.factor, metrics.direction
    # Pass 1, pre-order: parallelism flows down from Gather nodes; each node's wall time.
    for i, node in enumerate(nodes):
        p = parents[i]
        fields = node.__dict__  # the keys the node carries (model.py); getattr() is slower
        remote = node.remote
        if p < 0 or remote:
            inherited = 1
        else:
            if not remote and not is_cte_body(node):
                kids = counted[p]
                if kids is None:
                    counted[p] = [i]
                else:
                    kids.append(i)
            parent = nodes[p]
            if (
                parent.node_type in _GATHER_TYPES
                and fields.get("parent_relationship") not in _RUN_BY_LEADER
            ):
                inherited = _gather_processes(parent)
            else:
                inherited = processes[p]
        workers = fields.get("workers")
        mine = _processes(node, inherited) if workers else inherited
        loops = fields.get("actual_loops")
        if loops is None:
            processes[i] = mine
            continue
        if loops and mine > loops:
            mine = max(int(loops), 1)  # n loops cannot keep more processes busy
        processes[i] = mine
        if loops > 0:
            factor[i], direction[i] = _estimate(fields.get("actual_rows"), fields.get("plan_rows"))
        total_time = fields.get("actual_total_time")
        if total_time is not None:
            if mine <= 1 or not workers:
                inclusive[i] = float(total_time) * loops / mine
            else:
                inclusive[i] = _wall_time(node, float(loops), mine)

    cte_time = _cte_shares(metrics)

    # Pass 2: self figures (any order works now that inclusive figures are known).
    exclusive = metrics.exclusive
    clamped = metrics.clamped
    exclusive_cost = metrics.exclusive_cost
    for i, node in enumerate(nodes):
        included = counted[i] or ()
        mine_time = inclusive[i]
        if mine_time is not None:
            self_time = mine_time - cte_time.get(i, 0.0)
            for c in included:
                self_time -= inclusive[c] or 0.0
            if self_time < 0:
                clamped[i] = -self_time
                self_time = 0.0
            exclusive[i] = self_time
        cost = node.total_cost
        if cost is not None:
            for c in included:
                cost -= nodes[c].total_cost or 0.0
            exclusive_cost[i] = cost if cost > 0 else 0.0
    return metrics


def _exclusive_blocks(metrics: PlanMetrics) -> list[dict[str, int]]:
    """Each node's buffer counters minus those of the children it includes, clamped at 0.

    A CTE Scan also gives up its share of the CTE body's counters (see `_cte_shares`).
    """
    nodes = metrics.nodes
    out: list[dict[str, int]] = []
    for i, node in enumerate(nodes):
        fields = node.__dict__
        kids = metrics.counted[i] or ()
        body = metrics._cte.get(i)
        if not kids and body is None:  # a leaf, the commonest node: its own figures
            out.append(
                {
                    name: own if own > 0 else 0
                    for name in BLOCK_FIELDS
                    if (own := fields.get(name)) is not None
                }
            )
            continue
        body_fields = nodes[body[0]].__dict__ if body is not None else {}
        fraction = body[1] if body is not None else 0.0
        kid_fields = [nodes[c].__dict__ for c in kids]
        blocks: dict[str, int] = {}
        for name in BLOCK_FIELDS:
            own = fields.get(name)
            if own is None:
                continue
            rest = own - round((body_fields.get(name) or 0) * fraction)
            for kid in kid_fields:
                rest -= kid.get(name) or 0
            blocks[name] = rest if rest > 0 else 0
        out.append(blocks)
    return out


def _cte_shares(metrics: PlanMetrics) -> dict[int, float]:
    """Split each CTE body's time (and, later, buffers) among the CTE Scans that read it.

    The body runs when a scan first asks for rows beyond what is already stored, so the scan
    that read the most rows caused the most of it; shares are in proportion to rows read.
    Returns each scan's share of body time; the fractions are kept for the buffers.
    """
    nodes = metrics.nodes
    bodies: dict[str, int] = {}
    scans: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        name = node.subplan_name
        if name is not None and name.startswith("CTE "):
            bodies.setdefault(name[4:], i)
        if node.node_type == "CTE Scan" and node.cte_name is not None:
            scans.setdefault(node.cte_name, []).append(i)
    shares: dict[int, float] = {}
    for name, scan_ids in scans.items():
        body = bodies.get(name)
        if body is None:
            continue
        body_time = metrics.inclusive[body] or 0.0
        weights = [
            max(per_loop_total(nodes[i], nodes[i].actual_rows) or 0.0, 0.0) for i in scan_ids
        ]
        total_weight = sum(weights)
        for i, weight in zip(scan_ids, weights, strict=True):
            fraction = weight / total_weight if total_weight > 0 else 1.0 / len(scan_ids)
            metrics._cte[i] = (body, fraction)
            shares[i] = body_time * fraction
    return shares


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
