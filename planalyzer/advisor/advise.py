"""`advise`: from a workload to proven index recommendations and their migration.

The pipeline, each step in its own module:

1. normalise the workload (SQL, ``(sql, params)``, plans from `planalyzer.explain`, reports from
   `planalyzer.analyze`) and read the catalog facts of every table it names;
2. extract each statement's shape with pglast (`planalyzer.advisor.predicates`) and, for ``$n``
   statements, pick representative values from ``pg_stats`` (`planalyzer.advisor.params`);
3. generate candidates (`planalyzer.advisor.candidates`);
4. in one HypoPG session, validate each candidate alone (`planalyzer.advisor.validate`), then
   choose the set greedily with re-evaluation (`planalyzer.advisor.select`);
5. describe the result: names, migration text, what each index fixes, its price.

Nothing is created for real: every index is hypothetical and the session removes them all when
it ends, also on errors. Statements are only planned (plain EXPLAIN), never executed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from planalyzer.advisor.bitmap_or import or_arms
from planalyzer.advisor.candidates import CandidateOptions, generate_candidates, gin_refusal
from planalyzer.advisor.dbfacts import DatabaseFacts, read_database_facts
from planalyzer.advisor.guard import GuardResult, guard_selection
from planalyzer.advisor.migration import (
    create_statements,
    drop_statements,
    index_name,
    render_create,
)
from planalyzer.advisor.model import (
    Advice,
    IndexCandidate,
    KeyColumn,
    QueryAdvice,
    Recommendation,
    Rejection,
    ScenarioCost,
    WriteActivity,
)
from planalyzer.advisor.params import scenarios_for
from planalyzer.advisor.predicates import QueryShape, TableRef, extract
from planalyzer.advisor.sample import Sampler
from planalyzer.advisor.select import Selection, select_indexes
from planalyzer.advisor.size import estimate_btree_size
from planalyzer.advisor.statistics import StatisticsAdvice, advise_statistics
from planalyzer.advisor.validate import Key, Outcome, Unit, Validation, WhatIf, validate_candidates
from planalyzer.errors import AdviceError, DatabaseError, UnsafeStatementError
from planalyzer.live.catalog import TableFacts, catalog
from planalyzer.live.classify import classify
from planalyzer.live.hypopg import hypothetical
from planalyzer.plan.model import Plan, PlanNode
from planalyzer.rules.report import Report

__all__ = ["advise"]

_SCANS = ("Seq Scan", "Bitmap Heap Scan", "Index Scan", "Index Only Scan", "Tid Scan")


@dataclass(frozen=True)
class _Statement:
    position: int
    sql: str
    params: Any
    weight: float
    plan: Plan | None
    report: Report | None
    template: str | None = None
    """For ``(sql, params)``: the SQL with ``$n`` where the parameters were."""


def advise(
    conn: psycopg.Connection[Any],
    statements: Any,
    weights: Sequence[float] | None = None,
    *,
    budget_bytes: int | None = None,
    max_indexes: int | None = None,
    min_improvement_ratio: float = 0.2,
    min_cost_saving: float = 50.0,
    min_table_pages: int = 50,
    partial_max_fraction: float = 0.05,
    partial_max_distinct: int = 100,
    max_key_columns: int = 4,
    max_include_columns: int = 4,
    write_heavy_ratio: float = 2.0,
    data_checks: bool = True,
    sample_timeout_s: float = 2.0,
) -> Advice:
    """Recommend indexes for a workload, proven with HypoPG, with a zero-downtime migration.

    Args:
        conn: a psycopg 3 connection to the database (HypoPG installed or creatable). Its
            transaction state is left as found; nothing real is created.
        statements: one or a list of: SQL text (``$1`` parameters allowed: judged with common
            and rare values from ``pg_stats``), ``(sql, params)`` with psycopg placeholders,
            a `Plan` from `planalyzer.explain` (its ``sql``/``params`` are used), or a `Report`
            from `planalyzer.analyze` (then each recommendation names the findings it fixes).
        weights: relative frequency or importance per statement (default 1 each).
        budget_bytes: most total estimated index size to recommend (HypoPG's estimate).
        max_indexes: most indexes to recommend. GIN suggestions, which HypoPG cannot size or
            verify, are listed apart and count against neither limit.
        min_improvement_ratio: least relative planner-cost saving (0.2 = 20 %) an index must
            bring to a statement that uses it, alone and again given the indexes chosen before.
        min_cost_saving: least absolute saving, in planner cost units (1.0 = one sequential
            page read), on that statement: below ~50 page reads the real difference is noise,
            however often the statement runs.
        min_table_pages: tables under this many 8 kB pages get no index.
        partial_max_fraction: largest fraction of rows a constant may select for a partial
            index variant.
        partial_max_distinct: partial indexes only on columns with at most this many values.
        max_key_columns: longest index key proposed.
        max_include_columns: most INCLUDE columns in a covering variant.
        write_heavy_ratio: a table counts as write-heavy (noted on its recommendations) when
            rows inserted + updated + deleted since the statistics reset exceed this multiple
            of its live rows.
        data_checks: judge every statement under the final set and check the plan shapes the
            planner misjudges against a small, read-only ``TABLESAMPLE`` of the real table
            (`planalyzer.advisor.guard`); claims so checked say ``sampled``.
        sample_timeout_s: statement_timeout of each sample query.

    Returns:
        The `Advice`: recommendations, rejected candidates with reasons, per-statement costs
        and plans before and after.

    Raises:
        AdviceError: the workload is empty, malformed, or a statement cannot be analysed.
        ExtensionMissingError: HypoPG is not available.
        DatabaseError: the server failed a query.

    Example (needs a server, so not a doctest)::

        advice = advise(conn, ["SELECT * FROM orders WHERE customer_id = 42"], weights=[100])
        print(advice)
        up, down = advice.migration()
    """
    workload = _normalise(conn, statements, weights)
    options = CandidateOptions(
        min_table_pages=min_table_pages,
        partial_max_fraction=partial_max_fraction,
        partial_max_distinct=partial_max_distinct,
        max_key_columns=max_key_columns,
        max_include_columns=max_include_columns,
    )
    if not 0 <= min_improvement_ratio < 1:
        raise AdviceError("min_improvement_ratio must be in [0, 1)")
    shapes, tables, notes = _shapes(conn, workload)
    db = read_database_facts(conn, {f.qualified_name for f in tables.values()})
    options = CandidateOptions(**{**options.__dict__, "c_collation": db.c_collation})
    units = _units(workload, shapes, tables)
    candidates, rejected = generate_candidates(
        [(s.position, shapes[s.position]) for s in workload], tables, options
    )
    by_table = {f.qualified_name: f for f in tables.values()}
    verifiable = [c for c in candidates if c.verifiable]
    unverifiable = []
    for candidate in (c for c in candidates if not c.verifiable):
        refusal = gin_refusal(candidate, by_table[candidate.table], db.opclasses, db.extensions)
        if refusal is None:
            unverifiable.append(candidate)
        else:
            rejected.append(refusal)
    with hypothetical(conn) as session:
        whatif: WhatIf = WhatIf(session, lambda c: render_create(c).as_string(conn))
        whatif.sizer = lambda c: _estimate_size(c, by_table, db, whatif)
        validation = validate_candidates(
            whatif,
            units,
            verifiable,
            min_improvement_ratio=min_improvement_ratio,
            min_cost_saving=min_cost_saving,
        )
        selection = select_indexes(
            whatif,
            units,
            validation,
            budget_bytes=budget_bytes,
            max_indexes=max_indexes,
            min_improvement_ratio=min_improvement_ratio,
            min_cost_saving=min_cost_saving,
        )
        selection.chosen += or_arms(
            whatif,
            units,
            shapes,
            tables,
            selection.chosen,
            budget_bytes=budget_bytes,
            used_bytes=sum(whatif.size(c) for c in selection.chosen),
            min_improvement_ratio=min_improvement_ratio,
            min_cost_saving=min_cost_saving,
            min_table_pages=min_table_pages,
        )
        sampled: set[tuple[int, str]] = set()
        sampler = Sampler(conn, timeout_s=sample_timeout_s)
        if data_checks:
            guarded = _guard(
                sampler,
                whatif,
                units,
                selection,
                validation,
                verifiable,
                shapes,
                tables,
                budget_bytes=budget_bytes,
            )
            notes.extend(guarded.notes)
            sampled = guarded.sampled
        final = {(u.position, u.scenario.label): whatif.outcome(u, selection.chosen) for u in units}
        sizes = {c.key: whatif.size(c) for c in selection.chosen}
    statistics: list[StatisticsAdvice] = []
    if data_checks:
        plans = {
            u.position: validation.baseline[(u.position, u.scenario.label)].plan
            for u in units
            if not u.scenario.values
        }
        statistics = advise_statistics(
            conn, [(s.position, s.sql, s.plan) for s in workload], plans, shapes, tables, sampler
        )
    return _assemble(
        workload,
        units,
        tables,
        db,
        validation,
        selection,
        final,
        rejected,
        unverifiable,
        notes,
        sizes=sizes,
        sampled=sampled,
        statistics=statistics,
        budget_bytes=budget_bytes,
        max_indexes=max_indexes,
        write_heavy_ratio=write_heavy_ratio,
    )


def _normalise(
    conn: psycopg.Connection[Any], statements: Any, weights: Sequence[float] | None
) -> list[_Statement]:
    """Turn every accepted input form into (sql, params, weight, plan, report)."""
    if isinstance(statements, str | Plan | Report | tuple):
        statements = [statements]
    items = list(statements)
    if not items:
        raise AdviceError("the workload is empty: pass at least one statement")
    if weights is not None and len(weights) != len(items):
        raise AdviceError(f"{len(items)} statements but {len(weights)} weights")
    found: list[_Statement] = []
    for position, item in enumerate(items):
        weight = float(weights[position]) if weights is not None else 1.0
        if weight < 0:
            raise AdviceError(f"statement {position + 1}: weights must not be negative")
        plan = report = None
        params: Any = None
        if isinstance(item, Report):
            report, plan = item, item.plan
        elif isinstance(item, Plan):
            plan = item
        if plan is not None:
            if not plan.sql:
                raise AdviceError(
                    f"statement {position + 1}: the plan carries no SQL; use planalyzer.explain(), "
                    "or pass the SQL text"
                )
            sql, params = plan.sql, plan.params
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            sql, params = item
        elif isinstance(item, str):
            sql = item
        else:
            raise AdviceError(
                f"statement {position + 1}: expected SQL text, (sql, params), a Plan or a Report, "
                f"got {type(item).__name__}"
            )
        template = None
        if params is not None:
            template = _placeholders_to_dollar(sql)
            sql = _bind(conn, sql, params, position)
        try:
            classify(sql)
        except UnsafeStatementError as err:
            raise AdviceError(f"statement {position + 1}: {err}") from err
        found.append(_Statement(position, sql, None, weight, plan, report, template))
    return found


def _bind(conn: psycopg.Connection[Any], sql: str, params: Any, position: int) -> str:
    """Inline psycopg parameters as literals, so the values are visible to the advisor."""
    try:
        with psycopg.ClientCursor(conn) as cursor:
            return cursor.mogrify(sql, params)
    except (psycopg.Error, TypeError, KeyError, IndexError) as err:
        raise AdviceError(f"statement {position + 1}: cannot bind its parameters: {err}") from err


_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)[sbt]|%[sbt]")


def _placeholders_to_dollar(sql: str) -> str:
    """Psycopg placeholders as ``$n``, so pglast can tell parameters from literals.

    Example:
        >>> _placeholders_to_dollar("SELECT * FROM t WHERE k = %s AND s = 'x%%' AND a = %(a)s")
        "SELECT * FROM t WHERE k = $1 AND s = 'x%' AND a = $2"
    """
    numbers: dict[str, int] = {}
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name is not None and name in numbers:
            return f"${numbers[name]}"
        count += 1
        if name is not None:
            numbers[name] = count
        return f"${count}"

    return _PLACEHOLDER.sub(replace, sql)


def _mark_bound(shape: QueryShape, template: str, columns_of: Any) -> QueryShape:
    """Flag the conditions whose constants were bound parameters in the application's SQL."""
    try:
        plain = extract(template, columns_of)
    except AdviceError:
        return shape
    bound = {
        (p.table, p.column, p.expression)
        for p in plain.predicates
        if any(v.param is not None for v in p.values)
    }
    if not bound:
        return shape
    predicates = tuple(
        dataclasses.replace(p, bound=True) if (p.table, p.column, p.expression) in bound else p
        for p in shape.predicates
    )
    return dataclasses.replace(shape, predicates=predicates)


def _shapes(
    conn: psycopg.Connection[Any], workload: Sequence[_Statement]
) -> tuple[dict[int, QueryShape], dict[TableRef, TableFacts], list[str]]:
    """Shapes of every statement with unqualified columns attributed through the catalog."""
    first = {s.position: extract(s.sql) for s in workload}
    tables: dict[TableRef, TableFacts] = {}
    notes: list[str] = []
    for ref in dict.fromkeys(r for shape in first.values() for r in shape.tables):
        try:
            facts = catalog(conn, [ref.name if ref.schema is None else str(ref)])
        except DatabaseError as err:
            if err.sqlstate is not None:
                raise
            notes.append(f"{ref} is not a table (a view or foreign table?): not indexed")
            continue
        tables[ref] = facts.tables[0]
    columns = {ref: {c.name for c in facts.columns} for ref, facts in tables.items()}
    shapes = {s.position: extract(s.sql, columns.get) for s in workload}
    for s in workload:
        if s.template is not None:
            shapes[s.position] = _mark_bound(shapes[s.position], s.template, columns.get)
    return shapes, tables, notes


def _units(
    workload: Sequence[_Statement],
    shapes: Mapping[int, QueryShape],
    tables: Mapping[TableRef, TableFacts],
) -> list[Unit]:
    units: list[Unit] = []
    for statement in workload:
        shape = shapes[statement.position]
        scenarios = scenarios_for(shape, tables)
        names = frozenset(tables[r].qualified_name for r in shape.tables if r in tables)
        share = statement.weight / len(scenarios)
        units += [Unit(statement.position, s, share, names) for s in scenarios]
    return units


def _assemble(
    workload: Sequence[_Statement],
    units: Sequence[Unit],
    tables: Mapping[TableRef, TableFacts],
    db: DatabaseFacts,
    validation: Validation,
    selection: Selection,
    final: Mapping[tuple[int, str], Outcome],
    rejected: Sequence[Rejection],
    unverifiable: Sequence[IndexCandidate],
    notes: list[str],
    *,
    sizes: Mapping[Key, int],
    sampled: set[tuple[int, str]],
    statistics: Sequence[StatisticsAdvice],
    budget_bytes: int | None,
    max_indexes: int | None,
    write_heavy_ratio: float,
) -> Advice:
    by_name = {f.qualified_name: f for f in tables.values()}
    taken = {index.name for f in tables.values() for index in f.indexes}
    names: dict[Key, str] = {}
    for candidate in [*selection.chosen, *unverifiable]:
        name = index_name(candidate)
        if name in taken:
            name = index_name(candidate, suffix="planalyzer")
        taken.add(name)
        names[candidate.key] = name
    baseline = validation.baseline
    by_position: dict[int, list[Unit]] = {}
    for unit in units:
        by_position.setdefault(unit.position, []).append(unit)

    def average(position: int, outcomes: Mapping[tuple[int, str], Outcome]) -> float:
        scenario_units = by_position[position]
        return sum(outcomes[(u.position, u.scenario.label)].cost for u in scenario_units) / len(
            scenario_units
        )

    recommendations = []
    for candidate in selection.chosen:
        facts = by_name[candidate.table]
        served = sorted(
            {
                u.position
                for u in units
                if candidate.key in final[(u.position, u.scenario.label)].used
            }
        )
        name = names[candidate.key]
        recommendations.append(
            Recommendation(
                name=name,
                table=candidate.table,
                columns=tuple(c.sql_hint for c in candidate.columns),
                key_columns=candidate.columns,
                include=candidate.include,
                where=candidate.where,
                method=candidate.method,
                create_sql=create_statements(candidate, name, facts.partitions),
                drop_sql=drop_statements(candidate.table, name, partitioned=facts.partitioned),
                size_bytes=sizes.get(candidate.key),
                evidence="sampled"
                if any(
                    (u.position, u.scenario.label) in sampled for u in units if u.position in served
                )
                else "estimated",
                queries=tuple(served),
                cost_before=sum(average(p, baseline) for p in served),
                cost_after=sum(average(p, final) for p in served),
                benefit=selection.benefits.get(candidate.key),
                write_activity=_activity(facts),
                fixes=tuple(_fixes(candidate, served, workload, units, baseline, final, name)),
                verifiable=True,
                notes=tuple(_notes(candidate, facts, db, write_heavy_ratio)),
                reasons=candidate.reasons,
                checks=tuple(workload[p].sql for p in served),
            )
        )
    for candidate in unverifiable:
        facts = by_name[candidate.table]
        name = names[candidate.key]
        extra = list(_notes(candidate, facts, db, write_heavy_ratio))
        recommendations.append(
            Recommendation(
                name=name,
                table=candidate.table,
                columns=tuple(c.sql_hint for c in candidate.columns),
                key_columns=candidate.columns,
                method=candidate.method,
                create_sql=create_statements(candidate, name, facts.partitions),
                drop_sql=drop_statements(candidate.table, name, partitioned=facts.partitioned),
                queries=candidate.statements,
                write_activity=_activity(facts),
                verifiable=False,
                notes=(
                    "not verified: HypoPG cannot build GIN indexes, so neither use nor size "
                    "is proven; build it on a copy and compare EXPLAIN ANALYZE",
                    *extra,
                ),
                reasons=candidate.reasons,
                checks=tuple(workload[p].sql for p in candidate.statements),
            )
        )
    chosen_names = {c.key: names[c.key] for c in selection.chosen}
    per_query = [
        _query_advice(s, by_position[s.position], validation, final, chosen_names).model_copy(
            update={
                "evidence": "sampled"
                if any((u.position, u.scenario.label) in sampled for u in by_position[s.position])
                else "estimated"
            }
        )
        for s in workload
    ]
    all_rejected = [*rejected, *validation.rejected, *selection.rejected]
    return Advice(
        recommendations=tuple(recommendations),
        rejected=tuple(all_rejected),
        statistics=tuple(statistics),
        per_query=tuple(per_query),
        notes=tuple(notes),
        budget_bytes=budget_bytes,
        max_indexes=max_indexes,
        cost_before=sum(q.weight * q.cost_before for q in per_query),
        cost_after=sum(q.weight * q.cost_after for q in per_query),
    )


def _guard(
    sampler: Sampler,
    whatif: WhatIf,
    units: Sequence[Unit],
    selection: Selection,
    validation: Validation,
    verifiable: Sequence[IndexCandidate],
    shapes: Mapping[int, QueryShape],
    tables: Mapping[TableRef, TableFacts],
    *,
    budget_bytes: int | None,
) -> GuardResult:
    """Run the guard and fold its decisions into ``selection`` (chosen set, rejections)."""
    usable = {r.candidate.key for r in validation.rejected if r.code in _RETRYABLE}
    pool = [*validation.accepted, *(c for c in verifiable if c.key in usable)]
    guarded = guard_selection(
        whatif,
        units,
        selection.chosen,
        validation.baseline,
        shapes,
        {f.qualified_name: (ref, f) for ref, f in tables.items()},
        pool,
        sampler,
        size_of=whatif.size,
        budget_bytes=budget_bytes,
    )
    chosen = guarded.chosen
    # An index the guard made unused (the safe one serves its statements better) goes.
    used = set().union(*(o.used for o in guarded.outcomes.values())) if guarded.outcomes else set()
    for candidate in [c for c in chosen if c.key not in used and c.key not in guarded.added]:
        chosen.remove(candidate)
        selection.rejected.append(
            Rejection(
                candidate=candidate,
                code="superseded",
                reason="no final plan uses it once the guard made every statement safe",
                size_bytes=whatif.size(candidate),
            )
        )
    added = set(guarded.added)
    selection.rejected = [r for r in selection.rejected if r.candidate.key not in added]
    validation.rejected = [r for r in validation.rejected if r.candidate.key not in added]
    selection.rejected.extend(guarded.rejected)
    selection.chosen = chosen
    return guarded


_RETRYABLE = ("below-threshold", "not-used")


def _estimate_size(
    candidate: IndexCandidate,
    tables: Mapping[str, TableFacts],
    db: DatabaseFacts,
    whatif: WhatIf,
) -> int | None:
    """The catalog-based size of a B-tree candidate (None: let HypoPG estimate it)."""
    facts = tables.get(candidate.table)
    if facts is None or candidate.method != "btree" or not facts.row_estimate:
        return None
    fraction = 1.0
    if candidate.where is not None:
        fraction = whatif.row_fraction(candidate.table, candidate.where)
    layouts = db.layouts.get(candidate.table, {})
    key = [_column_of(c, facts) for c in candidate.columns]
    return estimate_btree_size(facts, key, candidate.include, layouts=layouts, fraction=fraction)


def _column_of(column: KeyColumn, facts: TableFacts) -> str:
    """The table column an index key column stores (an expression's first column)."""
    if not column.expression:
        return column.name
    names = re.findall(r"[a-z_][a-z0-9_]*", column.name.lower())
    return next((n for n in names if facts.column(n) is not None), column.name)


def _activity(facts: TableFacts) -> WriteActivity | None:
    if facts.activity is None:
        return None
    a = facts.activity
    return WriteActivity(
        n_tup_ins=a.n_tup_ins, n_tup_upd=a.n_tup_upd, n_tup_del=a.n_tup_del, n_live_tup=a.n_live_tup
    )


def _notes(
    candidate: IndexCandidate, facts: TableFacts, db: DatabaseFacts, write_heavy_ratio: float
) -> list[str]:
    """What a user must know before applying the index as written."""
    notes = []
    if facts.partitioned:
        notes.append(
            f"{facts.qualified_name} is partitioned: CONCURRENTLY is not allowed on the parent, "
            "so the migration builds each partition's index concurrently and attaches it"
        )
    if not facts.owned_by_current_role:
        notes.append(
            f"the connected role does not own {facts.qualified_name} (owner: {facts.owner}); "
            "CREATE INDEX must be run by the owner"
        )
    activity = facts.activity
    if activity is not None:
        writes = activity.n_tup_ins + activity.n_tup_upd + activity.n_tup_del
        if writes > write_heavy_ratio * max(activity.n_live_tup, 1):
            notes.append(
                f"write-heavy table: {writes:,} rows written since the statistics reset for "
                f"{activity.n_live_tup:,} live rows; every write also updates this index"
            )
    expressions = [c.name for c in candidate.columns if c.expression]
    if expressions and candidate.method == "btree":
        notes.append(
            f"no statistics exist for {', '.join(expressions)} until the index is built and "
            "ANALYZE runs, so the costs above assume the planner's default 0.5 % of rows per "
            "value; check the real gain with advice.verify() or EXPLAIN ANALYZE"
        )
    visible = db.all_visible_fraction.get(facts.qualified_name)
    if candidate.include and visible is not None and visible < 0.9:
        notes.append(
            f"only {visible:.0%} of {facts.qualified_name} is marked all-visible: index-only "
            "scans read the heap for the rest until VACUUM (or autovacuum) runs"
        )
    return notes


def _fixes(
    candidate: IndexCandidate,
    served: Sequence[int],
    workload: Sequence[_Statement],
    units: Sequence[Unit],
    baseline: Mapping[tuple[int, str], Outcome],
    final: Mapping[tuple[int, str], Outcome],
    name: str,
) -> list[str]:
    """The plan nodes (and findings) this index replaces, per served statement."""
    fixes: list[str] = []
    table = candidate.table.rpartition(".")[2]
    for position in served:
        unit = next(u for u in units if u.position == position)
        ident = (position, unit.scenario.label)
        before_plan = baseline[ident].plan
        after = final[ident]
        statement = workload[position]
        given = statement.plan
        source = given if given is not None else before_plan
        new_nodes = [after.plan.node(i) for i in after.nodes.get(candidate.key, ())]
        relations = {_relation_of(n) for n in new_nodes} - {None} or {table}
        old_nodes = [
            n for n in source.nodes() if n.node_type in _SCANS and n.relation_name in relations
        ]
        target = new_nodes[0].node_type if new_nodes else "index scan"
        for node in old_nodes[:1]:
            fixes.append(
                f"statement {position + 1}: {_node_label(node)} → {target} using {name}, "
                f"cost {_cost(before_plan.root.total_cost)} → {_cost(after.plan.root.total_cost)}"
            )
        sorts_before = [n for n in source.nodes() if n.node_type in ("Sort", "Incremental Sort")]
        sorts_after = [n for n in after.plan.nodes() if n.node_type in ("Sort", "Incremental Sort")]
        if len(sorts_after) < len(sorts_before):
            fixes.append(
                f"statement {position + 1}: {_node_label(sorts_before[0])} no longer needed"
            )
        if statement.report is not None:
            fixed_ids = {n.id for n in old_nodes} | {n.id for n in sorts_before}
            for finding in statement.report.findings:
                if finding.node_id in fixed_ids:
                    fixes.append(
                        f"statement {position + 1}: finding {finding.rule} on node "
                        f"{finding.node_id}: {finding.message}"
                    )
    return fixes


def _relation_of(node: PlanNode) -> str | None:
    """The table a node reads; a Bitmap Index Scan reads for the Bitmap Heap Scan above it."""
    current: PlanNode | None = node
    while current is not None:
        if current.relation_name:
            return current.relation_name
        current = current.parent
    return None


def _node_label(node: PlanNode) -> str:
    label = f"{node.display_name} (node {node.id}"
    if node.inclusive_time_ms is not None:
        label += f", {node.inclusive_time_ms:,.1f} ms"
    return label + ")"


def _cost(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "?"


def _query_advice(
    statement: _Statement,
    units: Sequence[Unit],
    validation: Validation,
    final: Mapping[tuple[int, str], Outcome],
    chosen_names: Mapping[Key, str],
) -> QueryAdvice:
    baseline = validation.baseline
    idents = [(u.position, u.scenario.label) for u in units]
    cost_before = sum(baseline[i].cost for i in idents) / len(idents)
    cost_after = sum(final[i].cost for i in idents) / len(idents)
    used = sorted({chosen_names[k] for i in idents for k in final[i].used if k in chosen_names})
    scenarios = []
    best_per_scenario = []
    for unit, ident in zip(units, idents, strict=True):
        best = _best_single(validation, ident)
        best_per_scenario.append(best)
        scenarios.append(
            ScenarioCost(
                label=unit.scenario.label,
                values=dict(unit.scenario.values or {}),
                cost_before=baseline[ident].cost,
                cost_after=final[ident].cost,
                best_index=best,
            )
        )
    usage = {frozenset(final[i].used) for i in idents}
    dependent = len(units) > 1 and (len(set(best_per_scenario)) > 1 or len(usage) > 1)
    notes = []
    if dependent:
        notes.append(
            "the best index depends on the parameter values: "
            + "; ".join(f"{s.label}: {s.best_index or 'no index'}" for s in scenarios)
        )
    given = statement.plan
    return QueryAdvice(
        position=statement.position,
        sql=statement.sql,
        params=given.params if given is not None else None,
        weight=statement.weight,
        cost_before=cost_before,
        cost_after=cost_after,
        plan_before=baseline[idents[0]].plan,
        plan_after=final[idents[0]].plan,
        indexes_used=tuple(used),
        scenarios=tuple(scenarios) if len(units) > 1 or units[0].scenario.values else (),
        value_dependent=dependent,
        time_before_ms=given.execution_time_ms if given is not None else None,
        notes=tuple(notes),
    )


def _best_single(validation: Validation, ident: tuple[int, str]) -> str | None:
    """The definition of the accepted candidate that alone gives ``ident`` its lowest cost."""
    best: tuple[float, str] | None = None
    base = validation.baseline[ident].cost
    for candidate in validation.accepted:
        outcome = validation.single[candidate.key].get(ident)
        if outcome is None or candidate.key not in outcome.used or outcome.cost >= base:
            continue
        entry = (outcome.cost, candidate.definition)
        if best is None or entry < best:
            best = entry
    return best[1] if best else None
