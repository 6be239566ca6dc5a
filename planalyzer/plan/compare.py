"""`compare()`: which nodes of two plans of one statement correspond, and what changed.

The question after adding an index or changing a setting is "what did the planner do
differently, and what did it buy": the Seq Scan on ``orders`` that became an Index Scan, the
Hash Join that became a Nested Loop, the Gather that vanished. Nodes are matched in passes,
strongest evidence first:

1. nodes reading the same relation (same alias first, then the relation alone), preferring the
   same node type and index, so a Seq Scan replaced by an Index Scan on the same table is one
   *changed* match; index-only nodes (Bitmap Index Scan) by index name;
2. parents of matched nodes, when both are unmatched and of the same kind (both joins, both
   sorts ...): the Hash above the matched scan, the join above both;
3. the two roots, when neither is matched yet and neither reads a relation;
4. children of matched nodes, by the same node type then the same kind, in order.

Whatever is left is *vanished* (only before) or *added* (only after). Figures are compared on
inclusive time (the node and everything under it) when both plans were timed, else on total
cost: a replaced scan often brings a child with it (a Bitmap Heap Scan and its Bitmap Index
Scan), and the inclusive figure tells the whole story of that subtree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from planalyzer.plan.model import Plan, PlanNode

__all__ = ["NodeMatch", "PlanDiff", "compare"]

# Node types that do the same job differently; a change within a family is still a match.
_FAMILIES = {
    "Nested Loop": "join",
    "Hash Join": "join",
    "Merge Join": "join",
    "Sort": "sort",
    "Incremental Sort": "sort",
    "Gather": "gather",
    "Gather Merge": "gather",
    "Aggregate": "aggregate",
    "Append": "append",
    "Merge Append": "append",
    "Materialize": "cache",
    "Memoize": "cache",
}


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _sort_text(node: PlanNode) -> str:
    """``quicksort Memory 25 kB``: how a Sort sorted and where, or ``""``."""
    if not node.sort_method:
        return ""
    space = ""
    if node.sort_space_used_kb is not None:
        space = f" {node.sort_space_type or ''} {_count(node.sort_space_used_kb)} kB"
    return f"{node.sort_method}{space}".replace("  ", " ")


def _relations(plan: Plan) -> set[str]:
    return {n.relation for n in plan.nodes() if n.relation}


def _statement_text(plan: Plan) -> str | None:
    text = plan.query_text or plan.sql
    return " ".join(text.split()).rstrip(";").lower() if text else None


def _family(node: PlanNode) -> str:
    return _FAMILIES.get(node.node_type, node.node_type)


def _value(node: PlanNode, measure: str) -> float | None:
    """Inclusive time, or total cost, of ``node``."""
    return node.inclusive_time_ms if measure == "time" else node.total_cost


@dataclass(frozen=True)
class NodeMatch:
    """A node of the plan before and the node that corresponds to it after.

    Attributes:
        before: the node in the first plan.
        after: the node in the second plan.
        measure: ``"time"`` (inclusive ms) or ``"cost"`` (total cost), as in the `PlanDiff`.
    """

    before: PlanNode
    after: PlanNode
    measure: str = "time"

    @property
    def changed(self) -> bool:
        """True when the node is done differently: another type, index or join kind."""
        return self.before.display_name != self.after.display_name

    @property
    def value_before(self) -> float | None:
        """Inclusive time (ms) or total cost of the node before."""
        return _value(self.before, self.measure)

    @property
    def value_after(self) -> float | None:
        """Inclusive time (ms) or total cost of the node after."""
        return _value(self.after, self.measure)

    @property
    def delta(self) -> float | None:
        """After minus before (negative is better), in the diff's measure."""
        if self.value_before is None or self.value_after is None:
            return None
        return self.value_after - self.value_before

    @property
    def exclusive_time_delta_ms(self) -> float | None:
        """Change of the node's self time (ms), when both plans were timed."""
        b, a = self.before.exclusive_time_ms, self.after.exclusive_time_ms
        return None if a is None or b is None else a - b

    @property
    def rows_delta(self) -> float | None:
        """Change of the rows the node produced over all loops, when both were analysed."""
        b, a = self.before.rows_total, self.after.rows_total
        return None if a is None or b is None else a - b

    def changes(self) -> list[str]:
        """What changed for this node besides its time or cost, one short phrase each.

        Rows and loops, the heap blocks of a bitmap scan (exact and lossy), the sort method
        and where it sorted, hash batches, memory and disk used, and the buffers the node
        (with its children) touched; only figures both plans carry, and only when they differ.

        Example:
            >>> import planalyzer as pa
            >>> sort = {"Node Type": "Sort", "Total Cost": 10.0, "Actual Total Time": 5.0,
            ...         "Actual Rows": 100, "Actual Loops": 1, "Sort Method": "quicksort",
            ...         "Sort Space Used": 25, "Sort Space Type": "Memory"}
            >>> spill = {**sort, "Sort Method": "external merge", "Sort Space Type": "Disk",
            ...          "Sort Space Used": 2048}
            >>> compare(pa.parse({"Plan": spill}), pa.parse({"Plan": sort})).matches[0].changes()
            ['sort external merge Disk 2,048 kB → quicksort Memory 25 kB']
        """
        out: list[str] = []
        b, a = self.before, self.after
        for label, before, after in (
            ("rows", b.rows_total, a.rows_total),
            ("loops", b.actual_loops, a.actual_loops),
            ("est rows", b.plan_rows, a.plan_rows),
            ("exact heap blocks", b.exact_heap_blocks, a.exact_heap_blocks),
            ("lossy heap blocks", b.lossy_heap_blocks, a.lossy_heap_blocks),
            (
                "hash batches",
                b.hash_batches or b.hashagg_batches,
                a.hash_batches or a.hashagg_batches,
            ),
            ("memory kB", b.peak_memory_usage_kb, a.peak_memory_usage_kb),
            ("disk kB", b.disk_usage_kb, a.disk_usage_kb),
            ("heap fetches", b.heap_fetches, a.heap_fetches),
            (
                "rows removed by filter",
                b.rows_removed_by_filter_total,
                a.rows_removed_by_filter_total,
            ),
            ("shared hit", b.shared_hit_blocks, a.shared_hit_blocks),
            ("shared read", b.shared_read_blocks, a.shared_read_blocks),
            ("temp written", b.temp_written_blocks, a.temp_written_blocks),
        ):
            if before is not None and after is not None and before != after:
                out.append(f"{label} {_count(before)} → {_count(after)}")
        sort_b, sort_a = _sort_text(b), _sort_text(a)
        if sort_b and sort_a and sort_b != sort_a:
            out.append(f"sort {sort_b} → {sort_a}")
        if b.workers_launched is not None and a.workers_launched is not None:
            if b.workers_launched != a.workers_launched:
                out.append(f"workers {b.workers_launched} → {a.workers_launched}")
        return out


@dataclass(frozen=True)
class PlanDiff:
    """Two plans of one statement, their corresponding nodes and the totals before and after.

    Attributes:
        before: the first plan.
        after: the second plan.
        matches: corresponding node pairs, in the first plan's pre-order.
        vanished: nodes of the first plan with no counterpart.
        added: nodes of the second plan with no counterpart.
    """

    before: Plan
    after: Plan
    matches: tuple[NodeMatch, ...]
    vanished: tuple[PlanNode, ...]
    added: tuple[PlanNode, ...]
    _by_before: dict[int, NodeMatch] = field(default_factory=dict, repr=False, compare=False)
    _by_after: dict[int, NodeMatch] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for match in self.matches:
            self._by_before[match.before.id] = match
            self._by_after[match.after.id] = match

    @property
    def measure(self) -> str:
        """``"time"`` when both plans carry actual times, else ``"cost"``."""
        return "time" if self.before.timed and self.after.timed else "cost"

    @property
    def time_before_ms(self) -> float | None:
        """The first plan's total time (execution time when known)."""
        return self.before.total_time_ms

    @property
    def time_after_ms(self) -> float | None:
        """The second plan's total time."""
        return self.after.total_time_ms

    @property
    def cost_before(self) -> float | None:
        """The first plan's root total cost."""
        return self.before.root.total_cost

    @property
    def cost_after(self) -> float | None:
        """The second plan's root total cost."""
        return self.after.root.total_cost

    @property
    def speedup(self) -> float | None:
        """Before ÷ after in the diff's measure (> 1 is faster or cheaper), when both known."""
        if self.measure == "time":
            b, a = self.time_before_ms, self.time_after_ms
        else:
            b, a = self.cost_before, self.cost_after
        if b is None or not a:
            return None
        return b / a

    @property
    def changed(self) -> tuple[NodeMatch, ...]:
        """Matches whose node is done differently (Seq Scan → Index Scan ...)."""
        return tuple(m for m in self.matches if m.changed)

    @property
    def vanished_scans(self) -> tuple[PlanNode, ...]:
        """Scans of the first plan that have no counterpart at all."""
        return tuple(n for n in self.vanished if "Scan" in n.node_type)

    @property
    def added_scans(self) -> tuple[PlanNode, ...]:
        """Scans of the second plan that have no counterpart at all."""
        return tuple(n for n in self.added if "Scan" in n.node_type)

    @property
    def warnings(self) -> list[str]:
        """Reasons to doubt the comparison, one sentence each; empty when it looks sound.

        Comparing two plans only makes sense for one statement: the views show these first
        when the query texts differ or the plans read no relation in common, when only one
        plan was timed, and when planner settings differ (which can explain the change).
        """
        out: list[str] = []
        text_b, text_a = _statement_text(self.before), _statement_text(self.after)
        if text_b is not None and text_a is not None and text_b != text_a:
            out.append(
                "The two plans are of different statements (their query texts differ): "
                "the comparison matches nodes by relation and may mean little."
            )
        rel_b, rel_a = _relations(self.before), _relations(self.after)
        if rel_b and rel_a and not rel_b & rel_a:
            out.append(
                "The two plans read no relation in common ("
                + ", ".join(sorted(rel_b)[:4])
                + " vs "
                + ", ".join(sorted(rel_a)[:4])
                + "): they are probably not of the same statement."
            )
        if self.before.timed != self.after.timed:
            which = "first" if self.before.timed else "second"
            out.append(f"Only the {which} plan has actual times, so plans are compared on cost.")
        settings_b, settings_a = self.before.settings or {}, self.after.settings or {}
        changed = sorted(
            k for k in {*settings_b, *settings_a} if settings_b.get(k) != settings_a.get(k)
        )
        if changed:
            shown = ", ".join(
                f"{k} {settings_b.get(k, 'default')} → {settings_a.get(k, 'default')}"
                for k in changed[:6]
            )
            out.append(f"Planner settings differ: {shown}.")
        return out

    def match_before(self, node_id: int) -> NodeMatch | None:
        """The match of the first plan's node ``node_id``, or None when it vanished."""
        return self._by_before.get(node_id)

    def match_after(self, node_id: int) -> NodeMatch | None:
        """The match of the second plan's node ``node_id``, or None when it is new."""
        return self._by_after.get(node_id)

    def __repr__(self) -> str:
        return (
            f"PlanDiff(matches={len(self.matches)}, changed={len(self.changed)}, "
            f"vanished={len(self.vanished)}, added={len(self.added)})"
        )

    def __str__(self) -> str:
        from planalyzer.display.text import render_diff  # faces render the model

        return render_diff(self)

    def _repr_html_(self) -> str:
        from planalyzer.display.html import render_diff_html

        return render_diff_html(self)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """Text and HTML for Jupyter, honouring ``include``/``exclude``."""
        from planalyzer.display.html import mimebundle

        return mimebundle(self, str(self), self._repr_html_, include=include, exclude=exclude)


class _Matcher:
    """The matching passes over two plans' nodes (ids on each side are pre-order indexes)."""

    def __init__(self, before: Plan, after: Plan) -> None:
        self.before = before
        self.after = after
        self.b2a: dict[int, int] = {}
        self.a2b: dict[int, int] = {}

    def pair(self, b: PlanNode, a: PlanNode) -> None:
        self.b2a[b.id] = a.id
        self.a2b[a.id] = b.id

    def free_before(self, nodes: Iterable[PlanNode]) -> list[PlanNode]:
        return [n for n in nodes if n.id not in self.b2a]

    def free_after(self, nodes: Iterable[PlanNode]) -> list[PlanNode]:
        return [n for n in nodes if n.id not in self.a2b]

    def pair_lists(self, bs: list[PlanNode], as_: list[PlanNode], same: Any) -> None:
        """Pair each free node of ``bs`` with the first free node of ``as_`` it is ``same`` as."""
        for b in bs:
            if b.id in self.b2a:
                continue
            for a in as_:
                if a.id not in self.a2b and same(b, a):
                    self.pair(b, a)
                    break

    def by_relation(self) -> None:
        """Pass 1: nodes on the same relation (alias, then relation), then index-only nodes."""
        keys: list[Any] = [
            lambda n: (n.relation, n.alias) if n.relation_name else None,
            lambda n: n.relation if n.relation_name else None,
            lambda n: n.index_name if n.index_name and not n.relation_name else None,
        ]
        for key in keys:
            groups_b: dict[Any, list[PlanNode]] = {}
            groups_a: dict[Any, list[PlanNode]] = {}
            for n in self.free_before(self.before.nodes()):
                if key(n) is not None:
                    groups_b.setdefault(key(n), []).append(n)
            for n in self.free_after(self.after.nodes()):
                if key(n) is not None:
                    groups_a.setdefault(key(n), []).append(n)
            for k, bs in groups_b.items():
                as_ = groups_a.get(k, [])
                self.pair_lists(bs, as_, lambda b, a: b.display_name == a.display_name)
                self.pair_lists(bs, as_, lambda b, a: True)

    def propagate(self) -> None:
        """Passes 2-4, repeated until nothing more pairs up (usually one or two rounds).

        A child's pre-order id is always larger than its parent's, so walking ids downwards
        climbs whole chains of parents in one sweep, and walking upwards descends them.
        """
        progress = True
        while progress:
            count = len(self.b2a)
            for b in reversed(self.before.nodes()):
                if b.id in self.b2a:
                    self.pair_parents(b, self.after.node(self.b2a[b.id]))
            rb, ra = self.before.root, self.after.root
            if rb.id not in self.b2a and ra.id not in self.a2b:
                if not rb.relation_name and not ra.relation_name:
                    self.pair(rb, ra)
            for b in self.before.nodes():
                if b.id in self.b2a:
                    self.pair_children(b, self.after.node(self.b2a[b.id]))
            progress = len(self.b2a) > count

    def pair_parents(self, b: PlanNode, a: PlanNode) -> None:
        """Pass 2: the parents of a matched pair, when both are free and of the same kind."""
        pb, pa = b.parent, a.parent
        if pb is None or pa is None or pb.id in self.b2a or pa.id in self.a2b:
            return
        if _family(pb) == _family(pa) and not pb.relation_name and not pa.relation_name:
            self.pair(pb, pa)

    def pair_children(self, b: PlanNode, a: PlanNode) -> None:
        """Pass 4: free children of a matched pair, same type first, then same kind."""
        kids_b = [k for k in self.free_before(b.children) if not k.relation_name]
        kids_a = [k for k in self.free_after(a.children) if not k.relation_name]
        if kids_b and kids_a:
            self.pair_lists(kids_b, kids_a, lambda x, y: x.node_type == y.node_type)
            self.pair_lists(kids_b, kids_a, lambda x, y: _family(x) == _family(y))


def compare(before: Plan, after: Plan) -> PlanDiff:
    """Match the nodes of two plans of the same statement and measure what changed.

    Args:
        before: the plan before the change (e.g. without the index).
        after: the plan after it.

    Returns:
        A `PlanDiff`: ``matches`` (with ``changed`` ones), ``vanished`` and ``added`` nodes,
        and the totals; ``str()`` tells the story, ``_repr_html_`` shows it in a notebook.

    Example:
        >>> import planalyzer as pa
        >>> seq = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders",
        ...     "Total Cost": 7454.0, "Plan Rows": 3}})
        >>> idx = pa.parse({"Plan": {"Node Type": "Index Scan", "Relation Name": "orders",
        ...     "Index Name": "orders_customer_id_idx", "Total Cost": 8.44, "Plan Rows": 3}})
        >>> diff = compare(seq, idx)
        >>> [(m.before.node_type, m.after.node_type, m.changed) for m in diff.matches]
        [('Seq Scan', 'Index Scan', True)]
        >>> round(diff.speedup)
        883
    """
    matcher = _Matcher(before, after)
    matcher.by_relation()
    matcher.propagate()
    measure = "time" if before.timed and after.timed else "cost"
    matches = tuple(
        NodeMatch(before.node(b_id), after.node(matcher.b2a[b_id]), measure)
        for b_id in sorted(matcher.b2a)
    )
    return PlanDiff(
        before=before,
        after=after,
        matches=matches,
        vanished=tuple(matcher.free_before(before.nodes())),
        added=tuple(matcher.free_after(after.nodes())),
    )
