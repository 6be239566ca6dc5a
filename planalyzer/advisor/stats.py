"""Fractions of a table's rows a condition selects, estimated from ``pg_stats`` as the planner does.

The formulas are PostgreSQL's own (``var_eq_const`` and ``var_eq_non_const`` in
``src/backend/utils/adt/selfuncs.c``): a value in the most-common-values list has its listed
frequency; any other value gets an equal share of what the list and NULLs leave over; an unknown
value (a parameter, a join key) gets ``1 / n_distinct``. They rank equality columns (most
selective first) and decide when a constant is rare enough for a partial index.
"""

from __future__ import annotations

from planalyzer.live.catalog import ColumnStats

__all__ = ["distinct_count", "non_mcv_fraction", "unknown_value_fraction", "value_fraction"]


_BOOLEAN_TEXT = {"true": "t", "false": "f"}


def distinct_count(stats: ColumnStats, rows: float) -> float:
    """The number of distinct non-NULL values (``n_distinct`` < 0 is a fraction of the rows).

    Example:
        >>> s = ColumnStats(null_frac=0, n_distinct=-0.5, most_common_vals=None,
        ...                 most_common_freqs=None, histogram_bounds=None, correlation=None,
        ...                 avg_width=8)
        >>> distinct_count(s, 1000)
        500.0
    """
    if stats.n_distinct < 0:
        return max(1.0, -stats.n_distinct * rows)
    return max(1.0, stats.n_distinct)


def non_mcv_fraction(stats: ColumnStats, rows: float) -> float:
    """The fraction of rows holding one particular value that is not in the MCV list."""
    mcv_count = len(stats.most_common_vals or ())
    mcv_total = sum(stats.most_common_freqs or ())
    remaining = max(0.0, 1.0 - mcv_total - stats.null_frac)
    others = distinct_count(stats, rows) - mcv_count
    if others <= 0:
        return 0.0
    # selfuncs.c also caps this below the least common MCV frequency.
    fraction = remaining / others
    if stats.most_common_freqs:
        fraction = min(fraction, min(stats.most_common_freqs))
    return fraction


def value_fraction(stats: ColumnStats, value: str, rows: float) -> float:
    """The fraction of rows where the column equals ``value`` (compared as the server's text).

    Example:
        >>> s = ColumnStats(null_frac=0, n_distinct=3, most_common_vals=["a", "b", "c"],
        ...                 most_common_freqs=[0.7, 0.29, 0.01], histogram_bounds=None,
        ...                 correlation=None, avg_width=2)
        >>> value_fraction(s, "c", 100), value_fraction(s, "z", 100)
        (0.01, 0.0)
    """
    # pg_stats prints booleans as t/f; a statement writes true/false.
    value = _BOOLEAN_TEXT.get(value.lower(), value) if value.lower() in _BOOLEAN_TEXT else value
    for mcv, freq in zip(stats.most_common_vals or (), stats.most_common_freqs or (), strict=False):
        if mcv == value:
            return freq
    return non_mcv_fraction(stats, rows)


def unknown_value_fraction(stats: ColumnStats, rows: float) -> float:
    """The fraction for an equality with a value not known at planning time (``$n``, join)."""
    return (1.0 - stats.null_frac) / distinct_count(stats, rows)
