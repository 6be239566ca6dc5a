"""A second opinion from the data: read a small sample of the real table, bounded and read-only.

Planner costs with hypothetical indexes are evidence, not proof. Some plan shapes are priced on
an assumption the statistics cannot check, and those are where an index makes a statement
slower in reality. The first is ``Limit`` over an ordered index scan whose filter discards rows:
the planner assumes the matching rows are spread evenly along the index, so it expects to stop
after ``LIMIT / selectivity`` rows. When they sit far along the index, the walk reads most of the
table. The second is any scan whose row estimate rests on conditions over correlated columns.

`Sampler` answers both from ``TABLESAMPLE SYSTEM`` (whole pages, a few percent of the table,
``REPEATABLE`` so results are stable) in a transaction that is read-only, rolled back and under
a ``statement_timeout``; each answer is cached per table and predicate. A sample that times out
or fails is no answer (the claim stays ``estimated``), never an error for the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.rows import tuple_row

__all__ = ["OrderWalk", "SampledRows", "Sampler"]

_SEED = 7


@dataclass(frozen=True)
class OrderWalk:
    """Where the rows passing a filter sit along an index order, from a sample.

    Attributes:
        sampled: sampled rows inside the index condition's range.
        matched: of those, rows passing the filter.
        before_first: rows inside the range that come before the first matching row in the
            walk's direction.
        sample_fraction: share of the table the sample read (``TABLESAMPLE`` percent / 100).
    """

    sampled: int
    matched: int
    before_first: int
    sample_fraction: float

    def rows_read(self, limit: float) -> float:
        """Table rows an ordered walk reads before ``limit`` rows have passed the filter."""
        scale = 1.0 / self.sample_fraction
        if self.matched == 0:
            return self.sampled * scale
        # Up to the first match, then matches at their average density over the range.
        after = limit * self.sampled / self.matched
        return min(self.sampled * scale, self.before_first * scale + after)


@dataclass(frozen=True)
class SampledRows:
    """How many rows of a table satisfy some conditions, from a sample."""

    sampled: int
    matched: int
    sample_fraction: float

    @property
    def fraction(self) -> float:
        """Share of the table's rows that satisfy the conditions."""
        return self.matched / self.sampled if self.sampled else 0.0


class Sampler:
    """Bounded, read-only, cached data checks on one connection.

    Args:
        conn: the connection (its transaction state is left as found).
        target_rows: about how many rows a sample reads (``TABLESAMPLE SYSTEM`` percent is set
            from ``reltuples`` to get this many).
        timeout_s: ``statement_timeout`` of each sample query.
    """

    def __init__(
        self, conn: psycopg.Connection[Any], *, target_rows: int = 30_000, timeout_s: float = 2.0
    ) -> None:
        self._conn = conn
        self._target = target_rows
        self._timeout_ms = max(1, round(timeout_s * 1000))
        self._cache: dict[tuple[object, ...], Any] = {}
        self.queries = 0
        self.failures: list[str] = []

    def _percent(self, rows: float) -> float:
        if rows <= self._target:
            return 100.0
        return max(0.01, 100.0 * self._target / rows)

    def order_walk(
        self,
        table: str,
        rows: float,
        range_conditions: Sequence[str],
        filter_conditions: Sequence[str],
        order_column: str,
        *,
        descending: bool,
    ) -> OrderWalk | None:
        """Where ``filter`` matches sit along ``order_column`` within ``range`` (None: no answer).

        Args:
            table: schema-qualified table.
            rows: its ``reltuples``.
            range_conditions: SQL conditions the index condition applies (equality prefix).
            filter_conditions: SQL conditions left to the filter.
            order_column: the column the walk follows.
            descending: the walk goes from the highest value down.
        """
        key: tuple[object, ...] = (
            "walk",
            table,
            tuple(range_conditions),
            tuple(filter_conditions),
            order_column,
            descending,
        )
        if key in self._cache:
            return self._cache[key]  # type: ignore[no-any-return]
        percent = self._percent(rows)
        column = pgsql.Identifier(order_column)
        first = pgsql.SQL("max" if descending else "min")
        before = pgsql.SQL(">" if descending else "<")
        query = pgsql.SQL(
            "WITH s AS (SELECT {column} AS k, ({match}) AS m FROM {table} "
            "TABLESAMPLE SYSTEM (%s) REPEATABLE ({seed}) WHERE {range}) "
            "SELECT count(*), count(*) FILTER (WHERE m), "
            "count(*) FILTER (WHERE k {before} (SELECT {first}(k) FROM s WHERE m)) FROM s"
        ).format(
            column=column,
            match=_conjunction(filter_conditions),
            table=_table(table),
            seed=pgsql.Literal(_SEED),
            range=_conjunction(range_conditions),
            before=before,
            first=first,
        )
        row = self._run(query, [percent])
        result = None
        if row is not None:
            sampled, matched, before_first = (int(v or 0) for v in row)
            if matched == 0:
                before_first = sampled
            result = OrderWalk(sampled, matched, before_first, percent / 100.0)
        self._cache[key] = result
        return result

    def matching(self, table: str, rows: float, conditions: Sequence[str]) -> SampledRows | None:
        """How many rows of ``table`` satisfy ``conditions`` (None: no answer)."""
        key = ("rows", table, tuple(conditions))
        if key in self._cache:
            return self._cache[key]  # type: ignore[no-any-return]
        percent = self._percent(rows)
        query = pgsql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE {match}) FROM {table} "
            "TABLESAMPLE SYSTEM (%s) REPEATABLE ({seed})"
        ).format(match=_conjunction(conditions), table=_table(table), seed=pgsql.Literal(_SEED))
        row = self._run(query, [percent])
        result = None
        if row is not None:
            result = SampledRows(int(row[0] or 0), int(row[1] or 0), percent / 100.0)
        self._cache[key] = result
        return result

    def _run(self, query: pgsql.Composed, params: list[Any]) -> tuple[Any, ...] | None:
        """One sample query: read-only, rolled back, under the timeout; None when it fails."""
        self.queries += 1
        try:
            with (
                self._conn.transaction(force_rollback=True),
                self._conn.cursor(row_factory=tuple_row) as cur,
            ):
                cur.execute(
                    "SELECT set_config('statement_timeout', %s, true), "
                    "set_config('transaction_read_only', 'on', true)",
                    [str(self._timeout_ms)],
                    prepare=False,
                )
                cur.execute(query, params, prepare=False)
                return cur.fetchone()
        except psycopg.Error as err:
            self.failures.append(err.diag.message_primary or str(err))
            return None


def _table(name: str) -> pgsql.Identifier:
    schema, _, table = name.rpartition(".")
    return pgsql.Identifier(schema, table) if schema else pgsql.Identifier(table)


def _conjunction(conditions: Sequence[str]) -> pgsql.Composable:
    """The conditions ANDed (they are fragments of the user's own statement); TRUE when none."""
    if not conditions:
        return pgsql.SQL("true")
    return pgsql.SQL(" AND ").join(pgsql.SQL("({})").format(pgsql.SQL(c)) for c in conditions)
