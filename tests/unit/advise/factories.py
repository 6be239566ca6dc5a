"""Catalog facts built by hand, so candidate generation can be tested without a server."""

from __future__ import annotations

from planalyzer.live.catalog import ColumnFacts, ColumnStats, IndexColumn, IndexFacts, TableFacts


def stats(
    n_distinct,
    mcv=None,
    freqs=None,
    *,
    null_frac=0.0,
    correlation=0.0,
    bounds=None,
    width=8,
):
    return ColumnStats(
        null_frac=null_frac,
        n_distinct=n_distinct,
        most_common_vals=mcv,
        most_common_freqs=freqs,
        histogram_bounds=bounds,
        correlation=correlation,
        avg_width=width,
    )


def index(name, *columns, unique=False, predicate=None, include=(), method="btree"):
    return IndexFacts(
        name=name,
        method=method,
        columns=[
            IndexColumn(
                expression=c.removesuffix(" DESC"),
                attnum=n + 1,
                descending=c.endswith(" DESC"),
                nulls_first=c.endswith(" DESC"),
            )
            for n, c in enumerate(columns)
        ],
        include=list(include),
        predicate=predicate,
        unique=unique,
        primary=unique and name.endswith("_pkey"),
        valid=True,
        size_bytes=8192,
        idx_scan=0,
        definition=f"CREATE INDEX {name} ON t ({', '.join(columns)})",
    )


def table(name="orders", *, rows=300_000, pages=3_000, columns=None, indexes=(), schema="public"):
    columns = columns or {}
    return TableFacts(
        schema_name=schema,
        name=name,
        partitioned=False,
        partitions=[],
        row_estimate=rows,
        pages=pages,
        total_size_bytes=pages * 8192,
        table_size_bytes=pages * 8192,
        indexes_size_bytes=0,
        owner="postgres",
        owned_by_current_role=True,
        activity=None,
        columns=[
            ColumnFacts(name=c, number=n + 1, data_type="text", not_null=True, stats=s)
            for n, (c, s) in enumerate(columns.items())
        ],
        indexes=list(indexes),
        foreign_keys=[],
    )


ORDERS_COLUMNS = {
    "id": stats(-1, correlation=1.0),
    "customer_id": stats(40_000, ["1"], [0.005]),
    "status": stats(
        5,
        ["delivered", "shipped", "paid", "pending", "failed"],
        [0.70, 0.15, 0.08, 0.06, 0.01],
    ),
    "created_at": stats(
        -1,
        correlation=1.0,
        bounds=[f"2024-{month:02d}-{day:02d}" for month in range(1, 13) for day in (1, 15)],
    ),
    "total": stats(40_000, correlation=0.01),
    "note": stats(1, ["gift wrap"], [0.05], null_frac=0.95, width=10),
}
