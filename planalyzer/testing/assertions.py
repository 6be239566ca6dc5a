"""Fluent assertions on query plans: ``assert_plan(plan).uses_index(on="orders").max_cost(1e3)``.

Each check returns the checker, so checks chain, and raises `PlanAssertionError` with a message
that stands on its own (see `planalyzer.testing._messages`). Plans may come from a live
``pa.explain`` or from a file, so unit tests of query shapes need no database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from planalyzer.errors import ConfigError
from planalyzer.plan.model import Plan, PlanNode
from planalyzer.plan.parse import load, parse
from planalyzer.rules.config import RuleConfig
from planalyzer.rules.finding import Finding, Severity
from planalyzer.rules.report import Report, analyze
from planalyzer.testing._messages import (
    PlanAssertionError,
    describe_node,
    failure_message,
    render_tree,
)
from planalyzer.testing._record import record
from planalyzer.testing._shape import first_difference, path_to

__all__ = [
    "DEFAULT_SEQ_SCAN_MIN_ROWS",
    "PlanChecker",
    "PlanLike",
    "as_plan",
    "assert_plan",
    "check_rule_ids",
    "seq_scan_rows",
]

PlanLike = Plan | str | bytes | os.PathLike[str] | dict[str, Any] | list[Any]
"""What `assert_plan` accepts: a Plan, EXPLAIN JSON (text, bytes or decoded) or a file path."""

DEFAULT_SEQ_SCAN_MIN_ROWS = 1000
"""`no_seq_scan` ignores scans reading fewer rows than this (all loops together).

A table of under a thousand narrow rows is a handful of 8 kB pages; reading it sequentially
costs about what a B-tree descent plus heap fetches costs, so no index would help (the same
reasoning as PostgreSQL's own planner, which prefers a seq scan for such tables). A small table
scanned in every loop of a nested loop adds up over the loops and is reported."""

# PostgreSQL's default cpu_tuple_cost (postgresql.conf.sample); each row a seq scan reads costs
# at least this much (costsize.c, cost_seqscan), so cost / cpu_tuple_cost bounds the rows read.
_DEFAULT_CPU_TUPLE_COST = 0.01

_JOIN_TYPES = ("Nested Loop", "Hash Join", "Merge Join")
_JOIN_ALIASES = {
    "nested loop": "Nested Loop",
    "nested loop join": "Nested Loop",
    "nestloop": "Nested Loop",
    "hash": "Hash Join",
    "hash join": "Hash Join",
    "merge": "Merge Join",
    "merge join": "Merge Join",
}


def as_plan(value: PlanLike) -> Plan:
    """A `Plan` from a Plan, EXPLAIN JSON (text, bytes, decoded) or the path of a plan file.

    A string is read as a path unless it looks like JSON (starts with ``[`` or ``{``) or spans
    several lines (pasted psql output).

    Example:
        >>> as_plan('{"Plan": {"Node Type": "Result"}}').root.node_type
        'Result'
    """
    if isinstance(value, Plan):
        return value
    if isinstance(value, os.PathLike):
        return load(Path(value))
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "{") or "\n" in text:
            return parse(text)
        return load(Path(text))
    return parse(value)


def assert_plan(
    plan: PlanLike,
    *,
    config: RuleConfig | None = None,
    conn: Any = None,
    prove_fixes: bool | None = None,
) -> PlanChecker:
    """Start a chain of checks on ``plan``; each check raises `PlanAssertionError` on failure.

    Args:
        plan: a `Plan`, EXPLAIN (FORMAT JSON) text, bytes or decoded JSON, or a file path.
        config: rule thresholds used for the findings shown in failure messages and checked
            by `PlanChecker.no_findings` (defaults to ``RuleConfig()``).
        conn: the psycopg connection the plan came from, for proving a fix on failure.
        prove_fixes: on a failing ``no_seq_scan`` / ``uses_index``, ask the advisor for an
            index proven with HypoPG and show it (None: as ``planalyzer_prove_fixes`` says).

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Index Scan", "Relation Name": "orders",
        ...                           "Index Name": "orders_pkey", "Total Cost": 8.44}})
        >>> assert_plan(plan).uses_index("orders_pkey", on="orders").max_cost(10).node_count(1)
        PlanChecker(Plan(root='Index Scan using orders_pkey on orders', nodes=1, analyzed=False))
    """
    checked = as_plan(plan)
    if checked.sql is not None:
        record(checked)  # a live plan: the pytest marker may check its findings too
    return PlanChecker(checked, config=config, conn=conn, prove_fixes=prove_fixes)


def check_rule_ids(ids: Iterable[str], *, what: str = "ignore") -> frozenset[str]:
    """Rule ids as given, refusing unknown ones (a typo would silently ignore nothing)."""
    from planalyzer.rules import ALL_RULES

    known = {rule.id for rule in ALL_RULES} | {"internal-error"}
    out = set()
    for value in [ids] if isinstance(ids, str) else ids:
        rule_id = str(value).strip().replace("_", "-")
        if rule_id not in known:
            raise ConfigError(
                f"{what}.{value}", f"no such rule (known: {', '.join(sorted(known))})"
            )
        out.add(rule_id)
    return frozenset(out)


def _matches_relation(node: PlanNode, relation: str) -> bool:
    """``relation`` names the node's table: bare, schema-qualified, or its alias."""
    if relation in (node.relation_name, node.relation, node.alias):
        return True
    # "public.orders" given, plan without schemas (no VERBOSE): compare the bare name
    schema, _, bare = relation.rpartition(".")
    return bool(schema) and node.schema_name is None and bare == node.relation_name


def _heap_node(node: PlanNode) -> PlanNode:
    """The node naming the table an index scan serves: a Bitmap Index Scan's heap scan."""
    current: PlanNode | None = node
    while current is not None and current.relation_name is None:
        if current.node_type not in ("Bitmap Index Scan", "BitmapAnd", "BitmapOr"):
            break
        current = current.parent
    return current if current is not None and current.relation_name else node


def _reads(node: PlanNode, relation: str) -> bool:
    return _matches_relation(_heap_node(node), relation)


def _index_matches(index_name: str, wanted: str) -> bool:
    # index names in plans are never schema-qualified; accept "public.orders_pkey" too
    return wanted.rpartition(".")[2] == index_name


def _detail(node: PlanNode) -> str:
    """The conditions and removal counts that explain a scan, for the "found" lines."""
    bits = []
    for label, value in (
        ("Index Cond", node.index_cond),
        ("Recheck Cond", node.recheck_cond),
        ("Filter", node.filter),
        ("Join Filter", node.join_filter),
        ("Hash Cond", node.hash_cond),
        ("Merge Cond", node.merge_cond),
    ):
        if value:
            text = value if len(value) <= 120 else value[:119] + "…"
            bits.append(f"{label}: {text}")
    removed = node.rows_removed_by_filter_total
    if removed:
        bits.append(f"removed by filter: {removed:,.0f}")
    return "; ".join(bits)


def _found(node: PlanNode, note: str = "") -> str:
    line = describe_node(node)
    detail = _detail(node)
    if detail:
        line += f"; {detail}"
    if note:
        line += f" — {note}"
    return line


def _relations_read(plan: Plan) -> list[str]:
    seen: dict[str, None] = {}
    for node in plan.nodes():
        if node.relation is not None:
            seen.setdefault(node.relation)
    return list(seen)


def _parallel_divisor(node: PlanNode) -> int:
    """Processes sharing a parallel-aware scan: planned workers of the Gather above, + leader."""
    if not node.parallel_aware:
        return 1
    current = node.parent
    while current is not None:
        if current.workers_planned is not None:
            return current.workers_planned + 1
        current = current.parent
    return 1


def seq_scan_rows(plan: Plan, node: PlanNode) -> tuple[float, bool]:
    """Rows a Seq Scan reads, all loops together, and whether that is measured.

    With ANALYZE: rows returned plus rows removed by the filter, summed over loops. Without
    (or for a node that never ran), an upper bound from the cost: each row read costs at least
    ``cpu_tuple_cost`` (0.01 unless the plan's Settings say otherwise; costsize.c
    cost_seqscan), split across the processes of a parallel scan.

    Returns:
        ``(rows, measured)``.
    """
    if node.executed:
        return (node.rows_total or 0.0) + (node.rows_removed_by_filter_total or 0.0), True
    try:
        per_row = float((plan.settings or {}).get("cpu_tuple_cost", _DEFAULT_CPU_TUPLE_COST))
    except (TypeError, ValueError):
        per_row = _DEFAULT_CPU_TUPLE_COST
    if per_row <= 0 or node.total_cost is None:
        return float("inf"), False
    return node.total_cost / per_row * _parallel_divisor(node), False


def _node_names(node: PlanNode) -> set[str]:
    """Names a test may use for a node's kind (``HashAggregate``, ``Hash Left Join`` ...).

    They are the node type and the display name without ``using``/``on``, with and without
    a ``Parallel`` prefix.
    """
    label = node.display_name.split(" using ")[0].split(" on ")[0]
    names = {node.node_type, label}
    if label.startswith("Parallel "):
        names.add(label.removeprefix("Parallel "))
    return names


def _subtree_reads(node: PlanNode, relation: str) -> bool:
    return any(_matches_relation(n, relation) for n in node.walk())


def _join_sides(node: PlanNode) -> str:
    sides = []
    for child in node.children:
        rels = sorted({n.relation for n in child.walk() if n.relation} or {"no table"})
        sides.append(", ".join(rels))
    return " ⋈ ".join(sides)


class PlanChecker:
    """Chainable checks on one plan; build it with `assert_plan`.

    Attributes:
        plan: the plan being checked.
        config: the rule configuration used for findings.
    """

    def __init__(
        self,
        plan: Plan,
        *,
        config: RuleConfig | None = None,
        conn: Any = None,
        prove_fixes: bool | None = None,
    ) -> None:
        self.plan = plan
        self.config = config or RuleConfig()
        self.conn = conn
        self.prove_fixes = prove_fixes
        self._report: Report | None = None
        self._proof: list[str] | None = None

    def __repr__(self) -> str:
        return f"PlanChecker({self.plan!r})"

    @property
    def report(self) -> Report:
        """``pa.analyze`` of the plan with the checker's config (computed once)."""
        if self._report is None:
            self._report = analyze(self.plan, config=self.config)
        return self._report

    # --- failure ------------------------------------------------------------------------
    def _relevant_findings(self, node_ids: Sequence[int]) -> list[Finding]:
        """Findings on the offending nodes and their causes first, then other warnings."""
        report = self.report
        ids = set(node_ids)
        first = [f for f in report.findings if f.node_id in ids]
        causes = [c for f in first for c in report.causes(f) if c not in first]
        rest = [f for f in report.at_least(Severity.WARNING) if f not in first and f not in causes]
        return first + causes + rest

    def _fail(
        self,
        expectation: str,
        found: Sequence[str],
        node_ids: Sequence[int] = (),
        *,
        extra: Sequence[str] = (),
        findings: Sequence[Finding] | None = None,
        findings_title: str = "findings (pa.analyze)",
        prove: bool = False,
    ) -> PlanAssertionError:
        mark = node_ids[0] if node_ids else None
        proof: list[str] = []
        if prove:
            from planalyzer.testing._proof import enabled, proof_lines

            if enabled(explicit=self.prove_fixes):
                if self._proof is None:
                    self._proof = proof_lines(self.plan, self.conn, self.report)
                proof = self._proof
                extra = [*extra, "\n".join(proof)]
        message = failure_message(
            expectation=expectation,
            found=found,
            plan=self.plan,
            mark=mark,
            findings=self._relevant_findings(node_ids) if findings is None else findings,
            findings_title=findings_title,
            extra=extra,
        )
        return PlanAssertionError(
            message,
            expectation=expectation,
            node_ids=node_ids,
            found=found,
            plan=self.plan,
            proof=proof,
        )

    def _need_analyze(self, check: str) -> None:
        __tracebackhide__ = True
        if not self.plan.analyzed:
            raise self._fail(
                f"{check} needs a plan with actual figures (EXPLAIN ANALYZE)",
                ["the plan was explained without ANALYZE; use pa.explain(..., analyze=True)"],
            )

    # --- checks ---------------------------------------------------------------------------
    def uses_index(self, name: str | None = None, *, on: str | None = None) -> PlanChecker:
        """Some node reads through an index (``name`` if given) on table ``on`` (if given).

        Index Scan, Index Only Scan and Bitmap Index Scan count; for a bitmap scan the table
        is the one its Bitmap Heap Scan reads.
        """
        __tracebackhide__ = True
        index_nodes = [n for n in self.plan.nodes() if n.index_name is not None]
        hits = [
            n
            for n in index_nodes
            if (name is None or _index_matches(n.index_name or "", name))
            and (on is None or _reads(n, on))
        ]
        if hits:
            return self
        expectation = "an index scan"
        expectation += f" using {name}" if name else ""
        expectation += f" on {on}" if on else ""
        if on is not None:
            scans = [n for n in self.plan.nodes() if _reads(n, on)]
            if not scans:
                read = ", ".join(_relations_read(self.plan)) or "none"
                raise self._fail(expectation, [f"{on} is not read by this plan (tables: {read})"])
            raise self._fail(
                expectation, [_found(n) for n in scans], [n.id for n in scans], prove=True
            )
        if index_nodes:
            found = [_found(n, f"uses {n.index_name}, not {name}") for n in index_nodes]
            raise self._fail(expectation, found, [n.id for n in index_nodes], prove=True)
        scans = [n for n in self.plan.nodes() if n.relation_name is not None]
        found = [_found(n) for n in scans] or ["no node reads a table"]
        raise self._fail(
            expectation, ["no node uses an index", *found], [n.id for n in scans], prove=True
        )

    def no_seq_scan(
        self, *, on: str | None = None, min_rows: float = DEFAULT_SEQ_SCAN_MIN_ROWS
    ) -> PlanChecker:
        """No Seq Scan (parallel or not) on ``on`` (or any table) that reads ``min_rows`` or more.

        Rows read are counted over all loops (see `seq_scan_rows`), so a five-row lookup table
        read once passes, and the same table read in each of 10,000 loops fails. Pass
        ``min_rows=0`` to forbid every seq scan.
        """
        __tracebackhide__ = True
        offending: list[tuple[PlanNode, str]] = []
        for node in self.plan.find(node_type="Seq Scan"):
            if on is not None and not _matches_relation(node, on):
                continue
            rows, measured = seq_scan_rows(self.plan, node)
            if rows < min_rows:
                continue
            if measured:
                note = f"read {rows:,.0f} rows"
                if node.rows_removed_by_filter_total:
                    note += f", returned {node.rows_total or 0:,.0f}"
            else:
                note = f"estimated plan: cost allows up to {rows:,.0f} rows read"
            offending.append((node, note))
        if not offending:
            return self
        target = f" on {on}" if on else ""
        expectation = f"no Seq Scan{target} reading {min_rows:,.0f} rows or more"
        raise self._fail(
            expectation,
            [_found(node, note) for node, note in offending],
            [node.id for node, _ in offending],
            prove=True,
        )

    def max_cost(self, limit: float) -> PlanChecker:
        """The planner's total cost (the root's Total Cost) is at most ``limit``."""
        __tracebackhide__ = True
        cost = self.plan.root.total_cost
        if cost is None or cost <= limit:
            return self
        top = sorted(
            (n for n in self.plan.nodes() if n.exclusive_cost is not None),
            key=lambda n: -(n.exclusive_cost or 0.0),
        )[:3]
        found = [f"total cost {cost:,.2f} ({cost / limit:,.1f}× the limit); costliest nodes:"]
        found += [
            f"  {_found(n, f'own cost {n.exclusive_cost:,.2f} ({n.cost_share or 0:.0%})')}"
            for n in top
        ]
        raise self._fail(f"total cost at most {limit:,.2f}", found, [n.id for n in top])

    def max_time_ms(self, limit_ms: float) -> PlanChecker:
        """Execution time (without planning time) is at most ``limit_ms``; needs ANALYZE."""
        __tracebackhide__ = True
        expectation = f"execution time at most {limit_ms:,.3f} ms"
        if not self.plan.timed:
            raise self._fail(
                expectation,
                ["the plan has no timing (no ANALYZE, or TIMING OFF); explain with analyze=True"],
            )
        total = self.plan.total_time_ms
        if total is None or total <= limit_ms:
            return self
        top = sorted(self.plan.nodes(), key=lambda n: -n.exclusive_time_clamped_ms)[:3]
        found = [f"execution time {total:,.3f} ms"]
        if self.plan.planning_time_ms is not None:
            found[0] += f" (planning {self.plan.planning_time_ms:,.3f} ms, not counted)"
        found.append("slowest nodes (self time):")
        found += [f"  {_found(n)}" for n in top]
        raise self._fail(expectation, found, [n.id for n in top])

    def max_rows_removed(
        self, limit: float | None = None, *, ratio: float | None = None, on: str | None = None
    ) -> PlanChecker:
        """No node throws away more than ``limit`` rows, or more than ``ratio`` of what it read.

        Removed rows are those dropped by Filter, Join Filter and index recheck, over all loops;
        the ratio is removed ÷ (removed + returned). A ``limit`` below 1 is read as a ratio.
        With both given, a node fails only when it exceeds both (a ratio with a floor).
        Needs ANALYZE.
        """
        __tracebackhide__ = True
        if limit is not None and 0 < limit < 1 and ratio is None:
            limit, ratio = None, limit
        if limit is None and ratio is None:
            raise TypeError("max_rows_removed() needs a row limit or ratio=")
        self._need_analyze("max_rows_removed")
        offending = []
        for node in self.plan.nodes():
            if on is not None and not _reads(node, on):
                continue
            removed = sum(
                v or 0.0
                for v in (
                    node.rows_removed_by_filter_total,
                    node.rows_removed_by_join_filter_total,
                    node.rows_removed_by_index_recheck_total,
                )
            )
            if not removed:
                continue
            share = removed / (removed + (node.rows_total or 0.0))
            over_limit = limit is None or removed > limit
            over_ratio = ratio is None or share > ratio
            if over_limit and over_ratio:
                offending.append((node, removed, share))
        if not offending:
            return self
        offending.sort(key=lambda item: -item[1])
        parts = []
        if limit is not None:
            parts.append(f"{limit:,.0f} rows")
        if ratio is not None:
            parts.append(f"{ratio:.0%} of the rows read")
        target = f" on {on}" if on else ""
        expectation = f"no node{target} removing more than {' and '.join(parts)}"
        found = [
            _found(
                n,
                f"removed {removed:,.0f} of {removed + (n.rows_total or 0):,.0f} rows read"
                f" ({share:.1%})",
            )
            for n, removed, share in offending
        ]
        raise self._fail(expectation, found, [n.id for n, _, _ in offending])

    def estimates_within(self, factor: float, *, on: str | None = None) -> PlanChecker:
        """Every executed node's row estimate is within ``factor`` of the actual rows (per loop).

        The factor is ``max(actual, planned) / min(actual, planned)`` (`PlanNode.estimate_factor`).
        The marked node is where the misestimate starts: an offending node none of whose
        descendants is off, since parents inherit their children's errors.
        """
        __tracebackhide__ = True
        self._need_analyze("estimates_within")
        bad = [
            n
            for n in self.plan.nodes()
            if n.estimate_factor is not None
            and n.estimate_factor > factor
            and (on is None or _reads(n, on))
        ]
        if not bad:
            return self
        bad_ids = {n.id for n in bad}
        origins = [n for n in bad if not any(d.id in bad_ids for d in n.walk() if d is not n)]
        origins.sort(key=lambda n: -(n.estimate_factor or 0.0))
        ordered = origins + [n for n in bad if n not in origins]
        found = [
            _found(
                n,
                f"{n.estimate_factor:,.1f}× "
                f"{'more' if n.estimate_direction == 'under' else 'fewer'} rows than estimated"
                + (" (starts here)" if n in origins else ""),
            )
            for n in ordered
        ]
        target = f" on {on}" if on else ""
        raise self._fail(
            f"row estimates{target} within {factor:g}× of the actual rows",
            found,
            [n.id for n in ordered],
        )

    def no_findings(
        self,
        min_severity: Severity | str = Severity.WARNING,
        *,
        ignore: Iterable[str] = (),
        config: RuleConfig | None = None,
    ) -> PlanChecker:
        """``pa.analyze`` finds nothing at ``min_severity`` or above, except ``ignore``d rules.

        An ``internal-error`` finding (a rule raised on this plan) always fails the check.

        Raises:
            ConfigError: an id in ``ignore`` names no rule (a typo would ignore nothing).
        """
        __tracebackhide__ = True
        floor = Severity.parse(min_severity)
        ignored = check_rule_ids(ignore)
        report = self.report if config is None else analyze(self.plan, config=config)
        # A rule that raised reports an info internal-error and nothing of its own: fail on it
        # at any floor, or a broken rule would pass this check.
        bad = [
            f
            for f in report.findings
            if f.rule not in ignored and (f.severity >= floor or f.rule == "internal-error")
        ]
        if not bad:
            return self
        expectation = f"no findings at {floor.value} or above"
        if ignored:
            expectation += f" (ignoring {', '.join(sorted(ignored))})"
        node_ids = [f.node_id for f in bad if f.node_id is not None]
        where = [
            f"{f.rule} on [{f.node_id}] {self.plan.node(f.node_id).display_name}"
            if f.node_id is not None
            else f"{f.rule} (statement)"
            for f in bad
        ]
        found = [f"{len(bad)} finding{'s' if len(bad) != 1 else ''}: {'; '.join(where)}"]
        raise self._fail(expectation, found, node_ids, findings=bad, findings_title="findings")

    def node_count(
        self, n: int | None = None, *, min: int | None = None, max: int | None = None
    ) -> PlanChecker:
        """The plan has exactly ``n`` nodes, or between ``min`` and ``max`` (inclusive)."""
        __tracebackhide__ = True
        if n is None and min is None and max is None:
            raise TypeError("node_count() needs n, min= or max=")
        count = len(self.plan.nodes())
        low = n if n is not None else min
        high = n if n is not None else max
        if (low is None or count >= low) and (high is None or count <= high):
            return self
        if n is not None:
            expectation = f"exactly {n} nodes"
        elif low is not None and high is not None:
            expectation = f"between {low} and {high} nodes"
        elif low is not None:
            expectation = f"at least {low} nodes"
        else:
            expectation = f"at most {high} nodes"
        kinds: dict[str, int] = {}
        for node in self.plan.nodes():
            kinds[node.node_type] = kinds.get(node.node_type, 0) + 1
        summary = ", ".join(f"{k} ×{v}" if v > 1 else k for k, v in kinds.items())
        raise self._fail(expectation, [f"{count} node{'s' if count != 1 else ''}: {summary}"])

    def has_node(self, node_type: str, *, on: str | None = None) -> PlanChecker:
        """Some node is a ``node_type``, reading table ``on`` if given.

        ``node_type`` is PostgreSQL's node type or the name psql shows: ``"Hash Join"``,
        ``"HashAggregate"``, ``"Parallel Seq Scan"``, ``"Hash Left Join"``.
        """
        __tracebackhide__ = True
        for node in self.plan.nodes():
            if node_type in _node_names(node) and (on is None or _reads(node, on)):
                return self
        target = f" on {on}" if on else ""
        article = "an" if node_type[:1].lower() in "aeiou" else "a"
        expectation = f"{article} {node_type} node{target}"
        if on is not None:
            near = [n for n in self.plan.nodes() if _reads(n, on)]
            if near:
                raise self._fail(expectation, [_found(n) for n in near], [n.id for n in near])
            read = ", ".join(_relations_read(self.plan)) or "none"
            raise self._fail(expectation, [f"{on} is not read by this plan (tables: {read})"])
        kinds = sorted({name for n in self.plan.nodes() for name in _node_names(n)})
        raise self._fail(expectation, [f"node types in the plan: {', '.join(kinds)}"])

    def join_strategy(self, expected: str, *, on: Sequence[str] | None = None) -> PlanChecker:
        """Tables ``on=(a, b)`` are joined by the ``expected`` join method.

        ``expected`` is ``"Hash Join"``, ``"Merge Join"`` or ``"Nested Loop"`` (``"hash"``,
        ``"merge"``, ``"nestloop"`` are accepted too).
        The join checked is the lowest one with ``a`` under one input and ``b`` under the other.
        Without ``on``, every join in the plan must use ``expected``.
        """
        __tracebackhide__ = True
        wanted = _JOIN_ALIASES.get(expected.strip().lower())
        if wanted is None:
            raise ValueError(f"unknown join strategy {expected!r}; expected one of {_JOIN_TYPES}")
        joins = [n for n in self.plan.nodes() if n.node_type in _JOIN_TYPES]
        if on is None:
            bad = [n for n in joins if n.node_type != wanted]
            if joins and not bad:
                return self
            found = [_found(n, f"joins {_join_sides(n)}") for n in bad] or ["the plan has no join"]
            raise self._fail(f"every join to be a {wanted}", found, [n.id for n in bad])
        if isinstance(on, str) or len(on) != 2:
            raise TypeError(
                "join_strategy(on=...) takes two table names, e.g. ('orders', 'customers')"
            )
        left, right = on
        expectation = f"{left} and {right} joined by a {wanted}"
        for join in sorted(joins, key=lambda n: -n.depth):
            pairs = itertools.permutations(join.children, 2)
            if any(_subtree_reads(a, left) and _subtree_reads(b, right) for a, b in pairs):
                if join.node_type == wanted:
                    return self
                raise self._fail(
                    expectation, [_found(join, f"joins {_join_sides(join)}")], [join.id]
                )
        found = []
        for table in (left, right):
            scans = [n for n in self.plan.nodes() if _matches_relation(n, table)]
            if scans:
                found.append(
                    f"{table} is read by " + ", ".join(f"[{n.id}] {n.display_name}" for n in scans)
                )
            else:
                found.append(f"{table} is not read by this plan")
        found.append("no join has one of them under each input")
        raise self._fail(expectation, found)

    def matches(self, other: PlanLike) -> PlanChecker:
        """The plan has the same shape as ``other`` (a Plan, JSON or a plan file path).

        Same node types, strategies, join types, relations, indexes and parallelism, in the
        same tree; costs, rows and times are ignored (see `planalyzer.testing._shape`).
        For plan-regression tests: save a reviewed plan as a fixture and assert new plans
        still match it.
        """
        __tracebackhide__ = True
        reference = as_plan(other)
        diff = first_difference(self.plan, reference)
        if diff is None:
            return self
        where = diff.actual or (
            self.plan.node(diff.parent_id) if diff.parent_id is not None else None
        )
        found = [f"first difference at {path_to(where) if where else 'the root'}: {diff.reason}"]
        if diff.actual is not None:
            found.append(f"this plan: {_found(diff.actual)}")
        if diff.expected is not None:
            found.append(f"reference: {_found(diff.expected)}")
        ref_mark = diff.expected.id if diff.expected is not None else None
        extra = [f"\nreference plan:\n{render_tree(reference, mark=ref_mark, max_lines=20)}"]
        mark = diff.mark
        raise self._fail(
            "the same plan shape as the reference plan",
            found,
            [mark] if mark is not None else [],
            extra=extra,
        )
