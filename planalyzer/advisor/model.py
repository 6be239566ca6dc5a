"""The advisor's results as plain data: candidates, recommendations, rejections and `Advice`.

Everything here is a frozen pydantic model, so advice can be printed, compared, serialised
(``model_dump``) and handed to the display layer without a connection. `Advice` also carries the
few actions a user takes next: the migration text, files for a migration tool, and an opt-in
real check (`Advice.verify`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from planalyzer.advisor.statistics import StatisticsAdvice
from planalyzer.plan.model import Plan

if TYPE_CHECKING:
    import psycopg

    from planalyzer.advisor.verify import Verification

__all__ = [
    "Advice",
    "Evidence",
    "IndexCandidate",
    "KeyColumn",
    "QueryAdvice",
    "Recommendation",
    "Rejection",
    "ScenarioCost",
    "WriteActivity",
]


Evidence = Literal["estimated", "sampled", "measured"]
"""How a claim is known: the planner with hypothetical indexes (``estimated``), checked
against a sample of the real rows (``sampled``), or built and run by verify() (``measured``)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class KeyColumn(_Model):
    """One key column (or expression) of an index, with its order and operator class.

    Example:
        >>> KeyColumn(name="created_at", descending=True).sql_hint
        'created_at DESC'
    """

    name: str = Field(description="column name, or the expression text when `expression`")
    descending: bool = False
    nulls_first: bool | None = Field(None, description="None: the direction's default")
    opclass: str | None = Field(None, description="operator class, e.g. gin_trgm_ops")
    expression: bool = Field(default=False, description="`name` is an expression, not a column")

    @property
    def sql_hint(self) -> str:
        """A readable rendering (unquoted; the migration quotes names properly)."""
        parts = [f"({self.name})" if self.expression else self.name]
        if self.opclass:
            parts.append(self.opclass)
        if self.descending:
            parts.append("DESC")
        if self.nulls_first is not None:
            parts.append("NULLS FIRST" if self.nulls_first else "NULLS LAST")
        return " ".join(parts)


class IndexCandidate(_Model):
    """An index the advisor considered.

    Attributes:
        table: the schema-qualified table.
        columns: key columns in index order.
        include: non-key columns stored in the index (for index-only scans).
        where: predicate of a partial index, written as the query writes it.
        method: access method (btree, gin).
        equality_columns: how many leading key columns are compared by equality only; their
            order does not change what the index can do for the statements it came from.
        verifiable: HypoPG can build it hypothetically (False for GIN).
        reasons: why it was generated, one line per statement shape.
        statements: positions of the statements it was generated for.
    """

    table: str
    columns: tuple[KeyColumn, ...]
    include: tuple[str, ...] = ()
    where: str | None = None
    method: str = "btree"
    equality_columns: int = 0
    verifiable: bool = True
    reasons: tuple[str, ...] = ()
    statements: tuple[int, ...] = ()

    @property
    def key(self) -> tuple[Any, ...]:
        """Identity of the index itself (what would be built), ignoring why it was proposed."""
        return (self.table, self.columns, self.include, self.where, self.method)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The key column names (expressions as written)."""
        return tuple(column.name for column in self.columns)

    @property
    def definition(self) -> str:
        """``public.orders (customer_id, created_at DESC) INCLUDE (total) WHERE ...``."""
        using = f" USING {self.method}" if self.method != "btree" else ""
        text = f"{self.table}{using} ({', '.join(c.sql_hint for c in self.columns)})"
        if self.include:
            text += f" INCLUDE ({', '.join(self.include)})"
        if self.where:
            text += f" WHERE {self.where}"
        return text

    def __str__(self) -> str:
        return self.definition


class WriteActivity(_Model):
    """Rows written to the table since the statistics were reset (``pg_stat_user_tables``).

    Every index adds work to each of these writes (HOT updates excepted when no indexed column
    changes), which is the maintenance price of an index.
    """

    n_tup_ins: int
    n_tup_upd: int
    n_tup_del: int
    n_live_tup: int

    @property
    def writes(self) -> int:
        """Inserted + updated + deleted rows."""
        return self.n_tup_ins + self.n_tup_upd + self.n_tup_del


class Recommendation(_Model):
    """An index the advisor recommends, with its proof and its price.

    Attributes:
        name: the index name used in the migration (deterministic, at most 63 bytes).
        table: the schema-qualified table.
        columns: key columns as readable text (``created_at DESC``).
        key_columns: the same with their options as data.
        include: INCLUDE columns.
        where: partial-index predicate, or None.
        method: access method.
        create_sql: ``CREATE INDEX CONCURRENTLY ...`` (per-partition form for a partitioned
            parent: several statements).
        drop_sql: the statement that removes it again.
        size_bytes: estimated size (HypoPG's estimate); None when it cannot be estimated.
        queries: positions (in ``advice.per_query``) of the statements whose chosen plan uses it.
        cost_before: summed planner cost of those statements without any recommended index.
        cost_after: the same with the whole recommended set.
        benefit: weighted cost saved when it was chosen (given the indexes chosen before it).
        write_activity: the table's write counters, the maintenance price.
        fixes: the plan nodes (and findings) it removes, e.g. ``Seq Scan on orders``.
        verifiable: False when HypoPG cannot prove it (GIN, trigram): untested advice.
        notes: what to know before applying it (partitioned parent, not owner, write-heavy).
        reasons: why it was proposed.
        checks: the statements to EXPLAIN after building it, to see the planner use it.
    """

    name: str
    table: str
    columns: tuple[str, ...]
    key_columns: tuple[KeyColumn, ...]
    include: tuple[str, ...] = ()
    where: str | None = None
    method: str = "btree"
    create_sql: str
    drop_sql: str
    size_bytes: int | None = None
    queries: tuple[int, ...] = ()
    cost_before: float | None = None
    cost_after: float | None = None
    benefit: float | None = None
    write_activity: WriteActivity | None = None
    fixes: tuple[str, ...] = ()
    verifiable: bool = True
    notes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    evidence: Evidence = Field(
        "estimated",
        description="estimated (planner + HypoPG), sampled (checked against real rows) or "
        "measured (built and run by verify())",
    )

    @property
    def candidate(self) -> IndexCandidate:
        """The index as an `IndexCandidate` (for re-validation or comparison)."""
        return IndexCandidate(
            table=self.table,
            columns=self.key_columns,
            include=self.include,
            where=self.where,
            method=self.method,
            verifiable=self.verifiable,
        )


class Rejection(_Model):
    """A candidate that was not recommended, and why.

    ``code`` is one of: ``existing-index`` (an index already serves it), ``tiny-table``,
    ``not-used`` (the planner did not choose it), ``below-threshold`` (saves too little),
    ``over-budget``, ``max-indexes``, ``superseded`` (another chosen index already gives the
    benefit), ``merged`` (folded into a chosen index with a longer key), ``not-immutable`` (an
    index expression calls a function that is not IMMUTABLE), ``hypopg-error``, ``unsupported``.
    """

    candidate: IndexCandidate
    code: str
    reason: str
    size_bytes: int | None = None
    benefit: float | None = None


class ScenarioCost(_Model):
    """Costs of a ``$n`` statement with one set of representative parameter values."""

    label: str = Field(description="'common values', 'rare values', 'generic plan'...")
    values: dict[int, str] = Field(description="parameter number -> value used")
    cost_before: float
    cost_after: float | None = None
    best_index: str | None = Field(None, description="the single candidate that helps most")


class QueryAdvice(_Model):
    """One statement of the workload: its cost before and after, and both plans.

    For a ``$n`` statement the costs are the average over the value scenarios in
    ``scenarios``; the plans are those of the first scenario.
    """

    position: int
    sql: str
    params: Any = None
    weight: float
    cost_before: float
    cost_after: float
    plan_before: Plan | None = None
    plan_after: Plan | None = None
    indexes_used: tuple[str, ...] = ()
    scenarios: tuple[ScenarioCost, ...] = ()
    value_dependent: bool = False
    time_before_ms: float | None = Field(None, description="from a given EXPLAIN ANALYZE plan")
    notes: tuple[str, ...] = ()
    evidence: Evidence = Field("estimated", description="how the after-cost is known")

    @property
    def improvement_ratio(self) -> float:
        """``cost_before / cost_after`` (1.0 means unchanged)."""
        return self.cost_before / self.cost_after if self.cost_after > 0 else float("inf")


class Advice(_Model):
    """What `planalyzer.advisor.advise` found: the recommended indexes, the rest, and why.

    Attributes:
        recommendations: indexes to create, most valuable first.
        rejected: every other candidate with the reason it was not kept.
        statistics: proven statistics fixes (CREATE STATISTICS, ANALYZE), applied after the
            indexes in the migration.
        per_query: each statement with its costs and plans before and after.
        notes: workload-wide remarks (e.g. a missing extension, an unvacuumed table).
        budget_bytes: the size budget applied, if any.
        max_indexes: the count limit applied, if any.
        cost_before: weighted workload cost without the recommendations.
        cost_after: weighted workload cost with them (verifiable ones only).
    """

    recommendations: tuple[Recommendation, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    statistics: tuple[StatisticsAdvice, ...] = ()
    per_query: tuple[QueryAdvice, ...] = ()
    notes: tuple[str, ...] = ()
    budget_bytes: int | None = None
    max_indexes: int | None = None
    cost_before: float = 0.0
    cost_after: float = 0.0

    __hash__ = object.__hash__

    @property
    def total_size_bytes(self) -> int:
        """Estimated size of every recommended index that has an estimate."""
        return sum(r.size_bytes or 0 for r in self.recommendations)

    def migration(self) -> tuple[str, str]:
        """The whole migration as ``(up_sql, down_sql)`` text.

        Each statement uses CONCURRENTLY and must run outside a transaction block; the
        header comment says so and what to check afterwards.
        """
        from planalyzer.advisor.migration import migration_text

        return migration_text(self.recommendations, self.statistics)

    def write_migration(self, directory: str | Path, *, start: int | None = None) -> list[Path]:
        """Write one ``NNN_<index>.up.sql`` / ``.down.sql`` pair per recommendation.

        One pair per index because ``CREATE INDEX CONCURRENTLY`` cannot share a transaction
        block, and most migration tools wrap each file in one unless told otherwise: a file per
        index keeps each step separately retryable. Numbering continues after the highest
        ``NNN_`` already in ``directory`` unless ``start`` is given.

        Returns:
            The files written, in order.
        """
        from planalyzer.advisor.migration import write_migration_files

        return write_migration_files(self.recommendations, Path(directory), start=start)

    def verify(
        self,
        conn: psycopg.Connection[Any],
        *,
        runs: int = 3,
        revert_regressions: bool = False,
        tolerance: float = 0.1,
        timeout_s: float | None = 60.0,
        keep: bool = False,
    ) -> Verification:
        """Build the recommended indexes for real, measure, and drop them again (opt-in).

        **This creates real objects**: each verifiable recommendation is built with
        ``CREATE INDEX CONCURRENTLY`` (which needs an autocommit connection and the right to
        create indexes on the table), every served statement is run with EXPLAIN ANALYZE
        before and after (inside rolled-back transactions), and each index is dropped with
        ``DROP INDEX CONCURRENTLY`` at the end, also on errors. Table data is never changed,
        but building indexes takes time, I/O and locks that block schema changes. Run it on a
        copy of production, not on production.

        As a guard: with ``revert_regressions=True`` every index used by a statement that got
        slower by more than ``tolerance`` (default 10 %) is dropped and everything is measured
        again; with ``keep=True`` the surviving indexes stay built (the migration applied,
        minus what made anything slower). Each run has ``timeout_s`` as statement_timeout.
        The result reports each index's estimated and built size.
        """
        from planalyzer.advisor.verify import verify_advice

        return verify_advice(
            self,
            conn,
            runs=runs,
            revert_regressions=revert_regressions,
            tolerance=tolerance,
            timeout_s=timeout_s,
            keep=keep,
        )

    def __str__(self) -> str:
        from planalyzer.advisor.text import render_advice

        return render_advice(self)

    def __repr__(self) -> str:
        return (
            f"Advice(recommendations={len(self.recommendations)}, "
            f"rejected={len(self.rejected)}, statements={len(self.per_query)})"
        )

    def _repr_html_(self) -> str:
        from planalyzer.display.html import render_advice_html

        return str(render_advice_html(self))

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """Text and HTML for Jupyter, honouring ``include``/``exclude``."""
        bundle = {"text/plain": str(self), "text/html": self._repr_html_()}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle
