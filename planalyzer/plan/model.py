"""The typed plan tree: `Plan`, `PlanNode` and their sub-models (pydantic v2, frozen).

This is the only module that knows PostgreSQL's JSON keys: each field carries the exact key as
its alias, so grepping for ``"Actual Rows"`` finds the one field that reads it. Keys a field does
not model are kept verbatim (``node.extra`` / ``plan.extra``) and written back by ``to_json()``.

Tree links (children, parent), pre-order ids and the derived metrics are attached by
`planalyzer.plan.parse` after validation, as private attributes, so a node stays immutable to its
users while the parser can still build the tree bottom-up without recursion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from planalyzer.plan.metrics import PlanMetrics, per_loop_total
from planalyzer.plan.node_types import NODE_TYPES, normalize, resolve

if TYPE_CHECKING:
    import networkx

    from planalyzer.plan.shape import PlanShape

__all__ = [
    "FIELD_BY_KEY",
    "KEY_BY_FIELD",
    "NODE_FIELDS",
    "JitInfo",
    "Plan",
    "PlanNode",
    "Trigger",
    "Worker",
    "new_node",
]

Number = int | float
"""PostgreSQL prints some figures as integers in one version and decimals in another
(``"Actual Rows": 1`` before 18, ``1.00`` from 18); keeping the parsed type makes the round
trip exact."""

_AGGREGATE_LABELS = {
    "Hashed": "HashAggregate",
    "Sorted": "GroupAggregate",
    "Mixed": "MixedAggregate",
}

_MODEL_CONFIG = ConfigDict(
    frozen=True,
    extra="allow",
    populate_by_name=True,
    serialize_by_alias=True,
    ser_json_inf_nan="constants",
)


class _Raw(BaseModel):
    """Base for every model read from EXPLAIN output: frozen, aliases, unknown keys kept."""

    model_config = _MODEL_CONFIG

    @property
    def extra(self) -> dict[str, Any]:
        """Keys the server printed that this version of planalyzer does not model."""
        return dict(self.__pydantic_extra__ or {})


class Worker(_Raw):
    """One parallel worker's own figures (printed under ``"Workers"`` with VERBOSE/ANALYZE)."""

    worker_number: int | None = Field(None, alias="Worker Number")
    actual_startup_time: float | None = Field(None, alias="Actual Startup Time")
    actual_total_time: float | None = Field(None, alias="Actual Total Time")
    actual_rows: Number | None = Field(None, alias="Actual Rows")
    actual_loops: Number | None = Field(None, alias="Actual Loops")


class Trigger(_Raw):
    """A trigger fired by the statement, with its total time over all calls (ms)."""

    trigger_name: str | None = Field(None, alias="Trigger Name")
    constraint_name: str | None = Field(None, alias="Constraint Name")
    relation: str | None = Field(None, alias="Relation")
    time_ms: float | None = Field(None, alias="Time")
    calls: int | None = Field(None, alias="Calls")


class JitInfo(_Raw):
    """The top-level ``"JIT"`` object: functions compiled, options, and time per phase."""

    functions: int | None = Field(None, alias="Functions")
    options: dict[str, Any] | None = Field(None, alias="Options")
    timing: dict[str, Any] | None = Field(None, alias="Timing")

    @property
    def total_ms(self) -> float | None:
        """Total JIT time in ms (``Timing.Total``), or the sum of the phases when absent.

        From PostgreSQL 16 ``Generation`` is itself an object with a ``Total``.
        """
        if not self.timing:
            return None
        total = self.timing.get("Total")
        if isinstance(total, int | float):
            return float(total)
        parts = 0.0
        for value in self.timing.values():
            if isinstance(value, dict):
                value = value.get("Total")
            if isinstance(value, int | float):
                parts += float(value)
        return parts


class PlanNode(_Raw):
    """One node of a plan, with the server's figures typed and derived metrics attached.

    Per-loop figures (``actual_*``, ``rows_removed_*``) are as PostgreSQL prints them: averages
    per loop. Derived figures that account for loops and parallel workers are properties
    (``exclusive_time_ms``, ``rows_total`` ...), documented in `planalyzer.plan.metrics`.
    """

    # identity and shape
    node_type: str = Field(alias="Node Type")
    parent_relationship: str | None = Field(None, alias="Parent Relationship")
    subplan_name: str | None = Field(None, alias="Subplan Name")
    custom_plan_provider: str | None = Field(None, alias="Custom Plan Provider")
    parallel_aware: bool | None = Field(None, alias="Parallel Aware")
    async_capable: bool | None = Field(None, alias="Async Capable")
    disabled: bool | None = Field(None, alias="Disabled")
    operation: str | None = Field(None, alias="Operation")
    strategy: str | None = Field(None, alias="Strategy")
    partial_mode: str | None = Field(None, alias="Partial Mode")
    join_type: str | None = Field(None, alias="Join Type")
    inner_unique: bool | None = Field(None, alias="Inner Unique")
    command: str | None = Field(None, alias="Command")
    scan_direction: str | None = Field(None, alias="Scan Direction")
    index_name: str | None = Field(None, alias="Index Name")
    relation_name: str | None = Field(None, alias="Relation Name")
    schema_name: str | None = Field(None, alias="Schema")
    alias: str | None = Field(None, alias="Alias")
    cte_name: str | None = Field(None, alias="CTE Name")
    function_name: str | None = Field(None, alias="Function Name")

    # estimates
    startup_cost: float | None = Field(None, alias="Startup Cost")
    total_cost: float | None = Field(None, alias="Total Cost")
    plan_rows: Number | None = Field(None, alias="Plan Rows")
    plan_width: int | None = Field(None, alias="Plan Width")

    # actuals (per loop)
    actual_startup_time: float | None = Field(None, alias="Actual Startup Time")
    actual_total_time: float | None = Field(None, alias="Actual Total Time")
    actual_rows: Number | None = Field(None, alias="Actual Rows")
    actual_loops: Number | None = Field(None, alias="Actual Loops")

    # expressions
    output: list[str] | None = Field(None, alias="Output")
    sort_key: list[str] | None = Field(None, alias="Sort Key")
    presorted_key: list[str] | None = Field(None, alias="Presorted Key")
    group_key: list[str] | None = Field(None, alias="Group Key")
    index_cond: str | None = Field(None, alias="Index Cond")
    recheck_cond: str | None = Field(None, alias="Recheck Cond")
    filter: str | None = Field(None, alias="Filter")
    join_filter: str | None = Field(None, alias="Join Filter")
    hash_cond: str | None = Field(None, alias="Hash Cond")
    merge_cond: str | None = Field(None, alias="Merge Cond")
    tid_cond: str | None = Field(None, alias="TID Cond")
    order_by: str | None = Field(None, alias="Order By")
    cache_key: str | None = Field(None, alias="Cache Key")

    # instrumentation (per loop, as printed)
    rows_removed_by_filter: Number | None = Field(None, alias="Rows Removed by Filter")
    rows_removed_by_index_recheck: Number | None = Field(
        None, alias="Rows Removed by Index Recheck"
    )
    rows_removed_by_join_filter: Number | None = Field(None, alias="Rows Removed by Join Filter")
    heap_fetches: Number | None = Field(None, alias="Heap Fetches")
    exact_heap_blocks: Number | None = Field(None, alias="Exact Heap Blocks")
    lossy_heap_blocks: Number | None = Field(None, alias="Lossy Heap Blocks")

    # sort, hash, aggregate, memoize
    sort_method: str | None = Field(None, alias="Sort Method")
    sort_space_used_kb: Number | None = Field(None, alias="Sort Space Used")
    sort_space_type: str | None = Field(None, alias="Sort Space Type")
    hash_buckets: int | None = Field(None, alias="Hash Buckets")
    original_hash_buckets: int | None = Field(None, alias="Original Hash Buckets")
    hash_batches: int | None = Field(None, alias="Hash Batches")
    original_hash_batches: int | None = Field(None, alias="Original Hash Batches")
    peak_memory_usage_kb: Number | None = Field(None, alias="Peak Memory Usage")
    planned_partitions: int | None = Field(None, alias="Planned Partitions")
    hashagg_batches: int | None = Field(None, alias="HashAgg Batches")
    disk_usage_kb: Number | None = Field(None, alias="Disk Usage")
    cache_mode: str | None = Field(None, alias="Cache Mode")
    cache_hits: int | None = Field(None, alias="Cache Hits")
    cache_misses: int | None = Field(None, alias="Cache Misses")
    cache_evictions: int | None = Field(None, alias="Cache Evictions")
    cache_overflows: int | None = Field(None, alias="Cache Overflows")
    full_sort_groups: dict[str, Any] | None = Field(None, alias="Full-sort Groups")
    pre_sorted_groups: dict[str, Any] | None = Field(None, alias="Pre-sorted Groups")

    # parallel query
    workers_planned: int | None = Field(None, alias="Workers Planned")
    workers_launched: int | None = Field(None, alias="Workers Launched")
    single_copy: bool | None = Field(None, alias="Single Copy")
    workers: list[Worker] | None = Field(None, alias="Workers")

    # BUFFERS (totals over all loops and processes, inclusive of children)
    shared_hit_blocks: int | None = Field(None, alias="Shared Hit Blocks")
    shared_read_blocks: int | None = Field(None, alias="Shared Read Blocks")
    shared_dirtied_blocks: int | None = Field(None, alias="Shared Dirtied Blocks")
    shared_written_blocks: int | None = Field(None, alias="Shared Written Blocks")
    local_hit_blocks: int | None = Field(None, alias="Local Hit Blocks")
    local_read_blocks: int | None = Field(None, alias="Local Read Blocks")
    local_dirtied_blocks: int | None = Field(None, alias="Local Dirtied Blocks")
    local_written_blocks: int | None = Field(None, alias="Local Written Blocks")
    temp_read_blocks: int | None = Field(None, alias="Temp Read Blocks")
    temp_written_blocks: int | None = Field(None, alias="Temp Written Blocks")
    io_read_time_ms: float | None = Field(None, alias="I/O Read Time")
    io_write_time_ms: float | None = Field(None, alias="I/O Write Time")
    shared_io_read_time_ms: float | None = Field(None, alias="Shared I/O Read Time")
    shared_io_write_time_ms: float | None = Field(None, alias="Shared I/O Write Time")
    local_io_read_time_ms: float | None = Field(None, alias="Local I/O Read Time")
    local_io_write_time_ms: float | None = Field(None, alias="Local I/O Write Time")
    temp_io_read_time_ms: float | None = Field(None, alias="Temp I/O Read Time")
    temp_io_write_time_ms: float | None = Field(None, alias="Temp I/O Write Time")

    # WAL
    wal_records: int | None = Field(None, alias="WAL Records")
    wal_fpi: int | None = Field(None, alias="WAL FPI")
    wal_bytes: int | None = Field(None, alias="WAL Bytes")

    # partitioning, ModifyTable
    subplans_removed: int | None = Field(None, alias="Subplans Removed")
    conflict_resolution: str | None = Field(None, alias="Conflict Resolution")
    tuples_inserted: Number | None = Field(None, alias="Tuples Inserted")
    conflicting_tuples: Number | None = Field(None, alias="Conflicting Tuples")

    # tree links and derived figures, attached by planalyzer.plan.parse
    _id: int = PrivateAttr(0)
    _depth: int = PrivateAttr(0)
    _children: tuple[PlanNode, ...] = PrivateAttr(())
    _parent: PlanNode | None = PrivateAttr(None)
    _remote: bool = PrivateAttr(False)  # noqa: FBT003 - PrivateAttr default
    _metrics: PlanMetrics | None = PrivateAttr(None)
    _source: dict[str, Any] | None = PrivateAttr(None)  # the keys as given, when coerced

    __eq__ = object.__eq__  # identity: nodes link to their parent, see Plan
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        where = f", relation={self.relation_name!r}" if self.relation_name else ""
        return f"PlanNode(id={self.id}, node_type={self.node_type!r}{where})"

    def __str__(self) -> str:
        """The node's lines as the text tree prints them: header, conditions, methods."""
        from planalyzer.display.text import render_node  # faces render the model

        return render_node(self)

    @property
    def extra(self) -> dict[str, Any]:
        """Keys the server printed that this version of planalyzer does not model."""
        own = {k: v for k, v in self.__dict__.items() if k not in NODE_FIELDS and k != "Plans"}
        return own | (self.__pydantic_extra__ or {})

    # --- tree -----------------------------------------------------------------------------
    @property
    def id(self) -> int:
        """Pre-order index of this node in its plan (the root is 0); stable for a given plan."""
        return self.__pydantic_private__["_id"]  # type: ignore[no-any-return,index]

    @property
    def depth(self) -> int:
        """Distance from the root (the root is 0)."""
        return self.__pydantic_private__["_depth"]  # type: ignore[no-any-return,index]

    @property
    def children(self) -> tuple[PlanNode, ...]:
        """Child nodes: ``"Plans"`` in order, then any Citus worker plans (``remote``)."""
        return self.__pydantic_private__["_children"]  # type: ignore[no-any-return,index]

    @property
    def parent(self) -> PlanNode | None:
        """The parent node, or None for the root."""
        return self.__pydantic_private__["_parent"]  # type: ignore[no-any-return,index]

    @property
    def remote(self) -> bool:
        """True for a plan that ran on another server (a Citus task's ``Remote Plan``)."""
        return self.__pydantic_private__["_remote"]  # type: ignore[no-any-return,index]

    @property
    def relation(self) -> str | None:
        """The relation this node reads, schema-qualified when the plan says the schema."""
        if self.relation_name is None:
            return None
        if self.schema_name:
            return f"{self.schema_name}.{self.relation_name}"
        return self.relation_name

    @property
    def display_name(self) -> str:
        """A short label as psql would print it: ``Seq Scan on orders o``."""
        label = self.node_type
        if self.strategy and self.node_type == "Aggregate":
            label = {
                "Hashed": "HashAggregate",
                "Sorted": "GroupAggregate",
                "Mixed": "MixedAggregate",
            }.get(self.strategy, label)
        if self.join_type and self.join_type != "Inner" and "Join" in self.node_type:
            label = label.replace("Join", f"{self.join_type} Join")
        if self.join_type and self.join_type != "Inner" and self.node_type == "Nested Loop":
            label = f"Nested Loop {self.join_type} Join"
        if self.partial_mode and self.partial_mode != "Simple":
            label = f"{self.partial_mode} {label}"  # "Finalize GroupAggregate", as psql prints
        if self.parallel_aware:
            label = f"Parallel {label}"
        if self.index_name:
            label += f" using {self.index_name}"
        target = self.relation_name or self.cte_name or self.function_name
        if target:
            label += f" on {target}"
            if self.alias and self.alias != target:
                label += f" {self.alias}"
        return label

    # --- derived metrics (see planalyzer.plan.metrics for the formulas) ---------------------
    def _m(self) -> tuple[PlanMetrics, int]:
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics | None = private["_metrics"]
        assert metrics is not None, "metrics are attached by planalyzer.plan.parse"
        return metrics, private["_id"]

    @property
    def inclusive_time_ms(self) -> float | None:
        """Wall-clock time spent in this node and its children, loops and workers accounted."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics = private["_metrics"]
        i: int = private["_id"]
        return metrics.inclusive[i]

    @property
    def exclusive_time_ms(self) -> float | None:
        """Self time: this node's wall-clock time minus its children's (never negative)."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics = private["_metrics"]
        i: int = private["_id"]
        return metrics.exclusive[i]

    @property
    def exclusive_time_clamped_ms(self) -> float:
        """How much negative self time was clamped to zero (rounding, CTE sharing); 0 if none."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics = private["_metrics"]
        i: int = private["_id"]
        return metrics.clamped[i]

    @property
    def time_share(self) -> float | None:
        """This node's exclusive time as a fraction (0..1) of the statement's total time."""
        metrics, i = self._m()
        return metrics.time_share(i)

    @property
    def exclusive_cost(self) -> float | None:
        """Total cost minus the children's total cost: the planner's idea of self work."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics = private["_metrics"]
        i: int = private["_id"]
        return metrics.exclusive_cost[i]

    @property
    def cost_share(self) -> float | None:
        """Exclusive cost as a fraction (0..1) of the root's total cost."""
        metrics, i = self._m()
        return metrics.cost_share(i)

    @property
    def rows_total(self) -> float | None:
        """Actual rows over all loops (``Actual Rows`` x ``Actual Loops``)."""
        return per_loop_total(self, self.actual_rows)

    @property
    def plan_rows_total(self) -> float | None:
        """Estimated rows over all actual loops (``Plan Rows`` x ``Actual Loops``)."""
        return per_loop_total(self, self.plan_rows)

    @property
    def rows_removed_by_filter_total(self) -> float | None:
        """Rows a Filter discarded over all loops (PostgreSQL prints a per-loop average)."""
        return per_loop_total(self, self.rows_removed_by_filter)

    @property
    def rows_removed_by_join_filter_total(self) -> float | None:
        """Rows a Join Filter discarded over all loops."""
        return per_loop_total(self, self.rows_removed_by_join_filter)

    @property
    def rows_removed_by_index_recheck_total(self) -> float | None:
        """Rows an index recheck discarded over all loops."""
        return per_loop_total(self, self.rows_removed_by_index_recheck)

    @property
    def estimate_factor(self) -> float | None:
        """How far the row estimate was off per loop, as a factor >= 1 (None without ANALYZE)."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics = private["_metrics"]
        i: int = private["_id"]
        return metrics.factor[i]

    @property
    def estimate_direction(self) -> str | None:
        """``"under"`` (more rows than planned), ``"over"``, ``"exact"``, or None."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics = private["_metrics"]
        i: int = private["_id"]
        return metrics.direction[i]

    def _blocks(self) -> dict[str, int]:
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics = private["_metrics"]
        i: int = private["_id"]
        return metrics.exclusive_blocks(i)

    @property
    def exclusive_shared_hit_blocks(self) -> int | None:
        """Shared buffer hits of this node alone (BUFFERS are cumulative up the tree)."""
        return self._blocks().get("shared_hit_blocks")

    @property
    def exclusive_shared_read_blocks(self) -> int | None:
        """Shared blocks read (not found in shared buffers) by this node alone."""
        return self._blocks().get("shared_read_blocks")

    @property
    def exclusive_shared_dirtied_blocks(self) -> int | None:
        """Shared blocks dirtied by this node alone."""
        return self._blocks().get("shared_dirtied_blocks")

    @property
    def exclusive_shared_written_blocks(self) -> int | None:
        """Shared blocks written by this node alone."""
        return self._blocks().get("shared_written_blocks")

    @property
    def exclusive_temp_read_blocks(self) -> int | None:
        """Temporary-file blocks read by this node alone."""
        return self._blocks().get("temp_read_blocks")

    @property
    def exclusive_temp_written_blocks(self) -> int | None:
        """Temporary-file blocks written by this node alone."""
        return self._blocks().get("temp_written_blocks")

    @property
    def exclusive_local_hit_blocks(self) -> int | None:
        """Local (temporary table) buffer hits of this node alone."""
        return self._blocks().get("local_hit_blocks")

    @property
    def exclusive_local_read_blocks(self) -> int | None:
        """Local (temporary table) blocks read by this node alone."""
        return self._blocks().get("local_read_blocks")

    @property
    def executed(self) -> bool | None:
        """False when ANALYZE shows the node never ran (``Actual Loops`` 0); None without it."""
        if self.actual_loops is None:
            return None
        return self.actual_loops > 0

    @property
    def parallel_processes(self) -> int:
        """How many processes ran this node at once (1 outside a Gather)."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        metrics: PlanMetrics = private["_metrics"]
        i: int = private["_id"]
        return metrics.processes[i]

    def walk(self) -> Iterator[PlanNode]:
        """This node and its descendants, pre-order, without recursion."""
        stack: list[PlanNode] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.__pydantic_private__["_children"]))  # type: ignore[index]


def _init_node_links(self: PlanNode, context: Any, /) -> None:
    """Give a node validated by pydantic (``PlanNode.model_validate``) its tree links.

    The parser does not validate through pydantic on the fast path (see `new_node`); this
    keeps a node built the generic way usable, with the same defaults.
    """
    object.__setattr__(self, "__pydantic_private__", _links())


def _links(index: int = 0, depth: int = 0, *, remote: bool = False) -> dict[str, Any]:
    """A node's private tree links (declared above as private attributes), as one dict."""
    return {
        "_id": index,
        "_depth": depth,
        "_children": (),
        "_parent": None,
        "_remote": remote,
        "_metrics": None,
        "_source": None,
    }


PlanNode.model_post_init = _init_node_links  # type: ignore[method-assign,assignment]
assert set(PlanNode.__private_attributes__) == set(_links()), (
    "keep _links in step with PlanNode's private attributes"
)

NODE_FIELDS: frozenset[str] = frozenset(PlanNode.model_fields)
"""Field names of `PlanNode` (the attribute names, not the JSON keys)."""
FIELD_BY_KEY: dict[str, str] = {
    f.alias or name: name for name, f in PlanNode.model_fields.items()
} | {name: name for name in PlanNode.model_fields}
"""JSON key (or field name, which pydantic also accepts) -> field name."""
KEY_BY_FIELD: dict[str, str] = {name: f.alias or name for name, f in PlanNode.model_fields.items()}
"""Field name -> the JSON key PostgreSQL prints."""

# Compact storage. A node's ``__dict__`` holds only the keys the server printed, in its order:
# modelled ones under their field name, unknown ones under their JSON key (never a valid
# identifier clash: they contain spaces or differ from every field name), and ``"Plans"`` as a
# placeholder where the children were. The ~110 fields a node does not carry are read from the
# class, where their defaults are set below, instead of being copied into every node: a node
# then costs about what its decoded JSON object costs (benchmarks/README.md).
for _name, _field in PlanNode.model_fields.items():
    if not _field.is_required():
        type.__setattr__(PlanNode, _name, _field.default)

_SHARED_FIELDS_SET: set[str] = set()


def new_node(fields: dict[str, Any], links: dict[str, Any]) -> PlanNode:
    """A `PlanNode` over ``fields`` (already checked, keyed as described above), no copying.

    Used by the parser, which checks each value's type itself (`planalyzer.plan.parse`).
    """
    node = object.__new__(PlanNode)
    object.__setattr__(node, "__dict__", fields)
    object.__setattr__(node, "__pydantic_fields_set__", _SHARED_FIELDS_SET)
    object.__setattr__(node, "__pydantic_extra__", None)
    object.__setattr__(node, "__pydantic_private__", links)
    return node


class Plan(_Raw):
    """One statement's plan: the node tree plus the statement-level figures.

    Build it with `planalyzer.parse`; the fields mirror the keys of one element of
    ``EXPLAIN (FORMAT JSON)`` output.
    """

    root: PlanNode = Field(alias="Plan")
    planning_time_ms: float | None = Field(None, alias="Planning Time")
    execution_time_raw_ms: float | None = Field(None, alias="Execution Time")
    total_runtime_ms: float | None = Field(None, alias="Total Runtime")
    triggers: list[Trigger] | None = Field(None, alias="Triggers")
    jit: JitInfo | None = Field(None, alias="JIT")
    settings: dict[str, Any] | None = Field(None, alias="Settings")
    planning: dict[str, Any] | None = Field(None, alias="Planning")
    serialization: dict[str, Any] | None = Field(None, alias="Serialization")
    query_identifier: int | None = Field(None, alias="Query Identifier")
    query_text: str | None = Field(None, alias="Query Text")

    # not printed by EXPLAIN: what the live layer knows about how the plan was obtained
    sql: str | None = Field(None, exclude=True)
    params: Any = Field(None, exclude=True)
    server_version: int | None = Field(None, exclude=True)
    warnings: list[str] = Field(default_factory=list, exclude=True)
    """What a reader must know about how this plan was obtained or read, one sentence each:
    side effects EXPLAIN ANALYZE ran (planalyzer.live), input that was salvaged rather than
    parsed as printed (planalyzer.plan). Not part of EXPLAIN's output, so not in to_json()."""

    _nodes: tuple[PlanNode, ...] = PrivateAttr(())
    _shape: str = PrivateAttr("statement")  # input shape, given back by to_json()
    _keys: tuple[str, ...] = PrivateAttr(())  # the statement's keys in input order

    # Identity semantics: a plan is a tree with parent links; field-wise comparison would walk
    # it recursively. Compare plans with planalyzer.compare() or their to_json().
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        from planalyzer.plan.serialize import flat_document

        flat = flat_document(self)
        return (
            _unpickle_plan,
            (flat, self.sql, self.params, self.server_version, list(self.warnings)),
        )

    def __repr__(self) -> str:
        return (
            f"Plan(root={self.root.display_name!r}, nodes={len(self._nodes)}, "
            f"analyzed={self.analyzed})"
        )

    def __str__(self) -> str:
        from planalyzer.display.text import render_plan  # faces render the model

        return render_plan(self)

    def _repr_html_(self) -> str:
        from planalyzer.display.html import render_plan_html

        return render_plan_html(self)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """Text and HTML for Jupyter, honouring ``include``/``exclude``."""
        from planalyzer.display.html import mimebundle

        return mimebundle(self, str(self), self._repr_html_, include=include, exclude=exclude)

    @property
    def execution_time_ms(self) -> float | None:
        """Execution time (ms); ``Total Runtime`` on PostgreSQL 9.3 and older."""
        if self.execution_time_raw_ms is not None:
            return self.execution_time_raw_ms
        return self.total_runtime_ms

    @property
    def analyzed(self) -> bool:
        """True when the plan carries actual figures (EXPLAIN ANALYZE or auto_explain)."""
        return self.root.actual_loops is not None

    @property
    def timed(self) -> bool:
        """True when actual times were measured (ANALYZE without TIMING OFF)."""
        return self.root.actual_total_time is not None

    @property
    def total_time_ms(self) -> float | None:
        """The time findings are measured against: execution time, else the root's time."""
        if self.execution_time_ms is not None:
            return self.execution_time_ms
        return self.root.inclusive_time_ms

    @property
    def trigger_time_ms(self) -> float:
        """Time spent in triggers (including foreign-key checks), summed."""
        return sum(t.time_ms or 0.0 for t in self.triggers or ())

    def nodes(self) -> tuple[PlanNode, ...]:
        """Every node in pre-order; ``plan.nodes()[i].id == i``."""
        nodes: tuple[PlanNode, ...] = self.__pydantic_private__["_nodes"]  # type: ignore[index]
        return nodes

    def __len__(self) -> int:
        """The number of nodes (``len(plan) == len(plan.nodes())``)."""
        return len(self._nodes)

    def __iter__(self) -> Iterator[PlanNode]:  # type: ignore[override]
        """The nodes in pre-order (the ids in order), as `nodes` returns them."""
        return iter(self._nodes)

    def node(self, node_id: int) -> PlanNode:
        """The node with this pre-order id.

        Raises:
            KeyError: no node has this id (ids run from 0 to ``len(plan) - 1``; negative ids
                are not positions from the end).

        Example:
            >>> import planalyzer as pa
            >>> plan = pa.parse({"Plan": {"Node Type": "Result"}})
            >>> plan.node(0).node_type
            'Result'
            >>> plan.node(-1)
            Traceback (most recent call last):
            ...
            KeyError: 'no node -1 in this plan: node ids run from 0 to 0'
        """
        nodes = self._nodes
        if (
            isinstance(node_id, bool)
            or not isinstance(node_id, int)
            or not (0 <= node_id < len(nodes))
        ):
            raise KeyError(
                f"no node {node_id!r} in this plan: node ids run from 0 to {len(nodes) - 1}"
            )
        return nodes[node_id]

    def find(
        self,
        node_type: str | None = None,
        relation: str | None = None,
        *,
        index: str | None = None,
        predicate: Any = None,
    ) -> list[PlanNode]:
        """Nodes matching every given criterion, in pre-order.

        ``relation`` matches the bare or schema-qualified name, or the alias. ``node_type``
        ignores case and spaces (``"seq scan"``, ``"SeqScan"``); ``"Parallel Seq Scan"`` finds
        only parallel-aware scans, and the text format's names (``"HashAggregate"``,
        ``"Insert"``) find the node they stand for.

        Raises:
            ValueError: ``node_type`` is not a node type PostgreSQL has (nor one in this plan).

        Example:
            >>> import planalyzer as pa
            >>> plan = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders"}})
            >>> [n.id for n in plan.find(node_type="seq scan", relation="orders")]
            [0]
        """
        query = None
        if node_type is not None:
            if node_type in NODE_TYPES:
                query = resolve(node_type)
            else:
                query = resolve(node_type, {n.node_type for n in self._nodes})
        found = []
        for node in self._nodes:
            if query is not None and (
                normalize(node.node_type) != query.key
                # EXPLAIN's JSON says "Seq Scan" + "Parallel Aware"; the text form and users
                # say "Parallel Seq Scan"
                or (query.parallel and not node.parallel_aware)
                or (query.strategy is not None and node.strategy != query.strategy)
                or (query.operation is not None and node.operation != query.operation)
            ):
                continue
            if relation is not None and relation not in (
                node.relation_name,
                node.relation,
                node.alias,
            ):
                continue
            if index is not None and node.index_name != index:
                continue
            if predicate is not None and not predicate(node):
                continue
            found.append(node)
        return found

    def shape(self) -> PlanShape:
        """What the planner chose, as stable text to pin in a test (`planalyzer.plan.shape`).

        Node types, strategies, join types and order, relations, indexes and parallelism; no
        costs, rows or times. ``assert plan.shape() == snapshot`` works with syrupy.
        """
        from planalyzer.plan.shape import plan_shape

        return plan_shape(self)

    def to_json(self) -> dict[str, Any]:
        """This plan in the shape it was given (document list, statement object or bare node).

        Unknown keys are included, so ``plan.to_json() == json.loads(text)`` holds.
        """
        from planalyzer.plan.serialize import plan_to_dict

        document: dict[str, Any] = plan_to_dict(self)
        return document

    def to_text(self) -> str:
        """This plan as text-format ``EXPLAIN`` would have printed it (explain.c's layout).

        Example:
            >>> import planalyzer as pa
            >>> print(pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "t",
            ...     "Alias": "t", "Startup Cost": 0.0, "Total Cost": 35.5, "Plan Rows": 2550,
            ...     "Plan Width": 4}}).to_text(), end="")
            Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)
        """
        from planalyzer.plan.text import plan_to_text

        return plan_to_text(self)

    def to_networkx(self) -> networkx.DiGraph[int]:
        """A directed graph parent -> child keyed by node id, node attributes included."""
        from planalyzer.plan.graph import plan_to_networkx

        return plan_to_networkx(self)


def _unpickle_plan(
    flat: tuple[Any, ...],
    sql: str | None,
    params: Any,
    server_version: int | None,
    warnings: list[str] | None = None,
) -> Plan:
    """Rebuild a pickled plan by parsing its JSON again (derived figures are recomputed)."""
    from planalyzer.plan.parse import parse
    from planalyzer.plan.serialize import unflatten_document

    document = unflatten_document(flat)
    plan: Plan = parse(document, sql=sql, params=params, server_version=server_version)
    plan.warnings.extend(warnings or ())
    return plan
