"""What the rules ask of catalog facts, when the caller passed them to `analyze`.

The facts are `planalyzer.CatalogFacts` (read by ``pa.catalog(conn, ...)``), defined in the live
layer above the rules; the rules read them by attribute only, so they never import that layer.
Every question answers None ("cannot tell") without a catalog or for a table it does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "DEFAULT_EQ_SEL",
    "TEXT_TYPES",
    "column_type",
    "existing_index",
    "is_conversion",
    "referencing_index",
    "stale_statistics",
]

# autovacuum's defaults: a table is re-analyzed after 50 + 10 % of its rows changed
# (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor; PostgreSQL docs 24.1.6).
_ANALYZE_SCALE = 0.1
_ANALYZE_THRESHOLD = 50


def _table(catalog: Any, relation: str | None, schema: str | None = None) -> Any:
    if catalog is None or not relation:
        return None
    finder = getattr(catalog, "table", None)
    if finder is None:
        return None
    if schema:
        found = finder(f"{schema}.{relation}")
        if found is not None:
            return found
    return finder(relation)


def existing_index(
    catalog: Any, relation: str | None, columns: Sequence[str], schema: str | None = None
) -> str | None:
    """The name of a valid, non-partial index whose leading key columns are ``columns``.

    Order matters only as far as b-tree prefixes go: an index on (a, b) serves a proposal of
    (a) or (a, b), not (b).
    """
    table = _table(catalog, relation, schema)
    if table is None or not columns:
        return None
    wanted = [c.strip('"') for c in columns]
    for index in getattr(table, "indexes", ()):
        if not index.valid or index.predicate:
            continue
        keys = [c.expression.strip('"') for c in index.columns]
        if keys[: len(wanted)] == wanted:
            return str(index.name)
    return None


def column_type(catalog: Any, relation: str | None, column: str) -> str | None:
    """The column's SQL type (``integer``, ``text`` ...), or None."""
    table = _table(catalog, relation)
    found = None if table is None else table.column(column)
    return None if found is None else str(found.data_type)


def stale_statistics(catalog: Any, relation: str | None) -> str | None:
    """Why the table's statistics look stale (a sentence), or None when they look current.

    Stale means never analyzed, or the live row count has drifted from the analyzed one by more
    than autovacuum's re-analyze threshold (50 + 10 % of the rows).
    """
    table = _table(catalog, relation)
    if table is None:
        return None
    activity = getattr(table, "activity", None)
    analyzed_rows = table.row_estimate
    if analyzed_rows is None or (
        activity is not None and activity.last_analyze is None and activity.last_autoanalyze is None
    ):
        return f"{table.name} has never been analyzed"
    if activity is None:
        return None
    live = float(activity.n_live_tup)
    drift = abs(live - float(analyzed_rows))
    if drift > _ANALYZE_THRESHOLD + _ANALYZE_SCALE * max(float(analyzed_rows), 0.0):
        return (
            f"{table.name} has {live:,.0f} live rows but its statistics describe "
            f"{float(analyzed_rows):,.0f}"
        )
    return None


def referencing_index(catalog: Any, constraint: str | None) -> tuple[str, list[str], str | None]:
    """(referencing table, its FK columns, covering index or None) for a named foreign key.

    Returns ``("", [], None)`` when the catalog does not hold that constraint.
    """
    if catalog is None or not constraint:
        return "", [], None
    for table in getattr(catalog, "tables", ()):
        for fk in table.foreign_keys:
            if fk.name == constraint:
                return str(table.qualified_name), list(fk.columns), fk.covering_index
    return "", [], None


# The planner's selectivity for `expression = constant` when it has no statistics for the
# expression: DEFAULT_EQ_SEL in src/include/utils/selfuncs.h.
DEFAULT_EQ_SEL = 0.005
TEXT_TYPES = frozenset({"text", "character varying", "varchar", "character", "bpchar", "name"})


def is_conversion(catalog: Any, node: Any, column: str, cast: str | None) -> bool:
    """True when ``(column)::cast`` in ``node``'s condition converts the column's values.

    A cast to a text type is also how EXPLAIN shows a varchar column compared with text (a
    relabel an index still serves). The catalog's column type tells them apart; without a
    catalog, an estimate at exactly DEFAULT_EQ_SEL (within 20 %) of the rows read means the
    planner had no statistics for the compared value, so it was not the plain column.
    """
    if cast is None:
        return False
    declared = column_type(catalog, getattr(node, "relation_name", None), column)
    if declared is not None:
        return declared not in TEXT_TYPES or cast not in TEXT_TYPES
    if node.parallel_aware or node.plan_rows is None or node.rows_total is None:
        return False
    loops = max(float(node.actual_loops or 1), 1.0)
    read = (node.rows_total + (node.rows_removed_by_filter_total or 0.0)) / loops
    if read <= 0:
        return False
    return bool(abs(node.plan_rows / read - DEFAULT_EQ_SEL) <= 0.2 * DEFAULT_EQ_SEL)
