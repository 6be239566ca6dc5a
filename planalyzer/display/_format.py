"""Number formatting shared by the text and HTML views, so both print the same figures."""

from __future__ import annotations

__all__ = ["fmt_bytes", "fmt_cost", "fmt_count", "fmt_factor", "fmt_ms", "fmt_share"]


def fmt_ms(ms: float | None) -> str:
    """A duration with the precision a DBA reads at a glance.

    psql prints three decimals everywhere; past 100 ms those decimals are noise, and past ten
    seconds so are the units.

    Example:
        >>> [fmt_ms(v) for v in (0.0123, 4.56789, 146.25, 30512.0, None)]
        ['0.012 ms', '4.57 ms', '146 ms', '30.5 s', '?']
    """
    if ms is None:
        return "?"
    if ms >= 10_000:
        return f"{ms / 1000:,.1f} s"
    if ms >= 100:
        return f"{ms:,.0f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms:.3f} ms"


def fmt_share(share: float | None) -> str:
    """A fraction as a percentage, never rounded to a misleading 0 % or 100 %.

    Example:
        >>> [fmt_share(v) for v in (0.973, 0.0042, 0.0, 0.9953, 1.0, None)]
        ['97%', '0.4%', '0%', '99.5%', '100%', '?']
    """
    if share is None:
        return "?"
    # Keep a decimal at both ends, so "0%" and "100%" mean exactly that.
    if 0 < share < 0.01 or 0.995 <= share < 1:
        return f"{min(share * 100, 99.9):.1f}%"
    return f"{share * 100:.0f}%"


def fmt_count(value: float | None) -> str:
    """A row or block count with thousands separators; per-loop averages keep decimals.

    Example:
        >>> [fmt_count(v) for v in (31250, 0.5, 12.0, None)]
        ['31,250', '0.5', '12', '?']
    """
    if value is None:
        return "?"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def fmt_cost(cost: float | None) -> str:
    """A planner cost: two decimals as EXPLAIN prints them, with separators.

    Example:
        >>> fmt_cost(4730.561), fmt_cost(None)
        ('4,730.56', '?')
    """
    return "?" if cost is None else f"{cost:,.2f}"


def fmt_factor(factor: float) -> str:
    """An estimate factor: ``×1.8`` below 10, whole numbers above.

    Example:
        >>> fmt_factor(1.84), fmt_factor(1250.0)
        ('×1.8', '×1,250')
    """
    return f"×{factor:.1f}" if factor < 10 else f"×{factor:,.0f}"


def fmt_bytes(size: float | None) -> str:
    """A size in binary units, as PostgreSQL's ``pg_size_pretty`` does (kB, MB, GB).

    Example:
        >>> [fmt_bytes(v) for v in (512, 8192, 6_750_000, 3 * 2**30, None)]
        ['512 bytes', '8 kB', '6.4 MB', '3 GB', '?']
    """
    if size is None:
        return "?"
    value = float(size)
    if abs(value) < 1024:
        return f"{value:,.0f} bytes"
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1024
        if abs(value) < 1024 or unit == "TB":
            break
    # One decimal while it says something (6.4 MB), none once the number is large or round.
    if abs(value) >= 100 or value.is_integer():
        return f"{value:,.0f} {unit}"
    return f"{value:.1f} {unit}"
