"""Everything that needs a live PostgreSQL connection (psycopg 3 is only imported here).

`explain` runs EXPLAIN without changing the user's data or session, `catalog` reads the facts a
DBA looks up next to a plan, and `hypothetical` opens a HypoPG session that always cleans up.
"""

from planalyzer.live.catalog import (
    CatalogFacts,
    ColumnFacts,
    ColumnStats,
    ForeignKeyFacts,
    IndexColumn,
    IndexFacts,
    PlannerSettings,
    TableActivity,
    TableFacts,
    catalog,
)
from planalyzer.live.explain import explain
from planalyzer.live.hypopg import (
    HypotheticalIndex,
    HypotheticalSession,
    IndexColumnSpec,
    IndexSpec,
    hypothetical,
)

__all__ = [
    "CatalogFacts",
    "ColumnFacts",
    "ColumnStats",
    "ForeignKeyFacts",
    "HypotheticalIndex",
    "HypotheticalSession",
    "IndexColumn",
    "IndexColumnSpec",
    "IndexFacts",
    "IndexSpec",
    "PlannerSettings",
    "TableActivity",
    "TableFacts",
    "catalog",
    "explain",
    "hypothetical",
]
