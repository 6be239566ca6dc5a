# pglast types every AST field Optional, although the parser always fills the ones read here
# after an isinstance check; these codes would flag every such access.
# mypy: disable-error-code="arg-type,index,union-attr,operator"
"""Representative values for ``$n`` parameters, so candidates are judged on custom plans.

A generic plan estimates ``status = $1`` with the average frequency of a status, which is right
for no actual value: 70 % for ``delivered``, 1 % for ``failed``. The best index (or whether any
index helps) can depend on the value, so each parametrised statement is planned with two sets of
values read from ``pg_stats``:

- **common**: the most common value of an equality column; a wide range (the median histogram
  bound) for a range condition;
- **rare**: a value outside the most-common list (the middle histogram bound, which by the
  definition of ``pg_stats`` is not an MCV) or, failing that, the least common MCV; a narrow range
  (the last histogram bucket) for a range condition.

When a parameter cannot be tied to a column with statistics (``LIMIT $1``, a function argument),
the statement falls back to its generic plan. Values are substituted as untyped string literals,
which PostgreSQL coerces to the column's type exactly as it would a bound parameter.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.stream import RawStream

from planalyzer.advisor.predicates import Predicate, PredicateKind, QueryShape, TableRef
from planalyzer.live.catalog import ColumnStats, TableFacts

__all__ = ["Scenario", "scenarios_for", "substitute"]


@dataclass(frozen=True)
class Scenario:
    """One way to plan a statement: its SQL (values substituted) and psycopg parameters.

    Attributes:
        label: ``as given``, ``common values``, ``rare values`` or ``generic plan``.
        sql: the text to explain.
        params: psycopg parameters to bind (only for statements given with values).
        values: ``$n`` number → the value substituted.
    """

    label: str
    sql: str
    params: object = None
    values: Mapping[int, str] | None = None


def scenarios_for(shape: QueryShape, tables: Mapping[TableRef, TableFacts]) -> list[Scenario]:
    """The scenarios to plan a ``$n`` statement with (one generic scenario if values are unknown).

    Example:
        >>> from planalyzer.advisor.predicates import extract
        >>> [s.label for s in scenarios_for(extract("SELECT 1 FROM t LIMIT $1"), {})]
        ['generic plan']
    """
    if not shape.params:
        return [Scenario("as given", shape.sql)]
    choices: dict[int, tuple[str, str]] = {}
    for number in sorted(shape.params):
        picked = _values_for(number, shape, tables)
        if picked is None:
            return [Scenario("generic plan", shape.sql)]
        choices[number] = picked
    common = {n: pair[0] for n, pair in choices.items()}
    rare = {n: pair[1] for n, pair in choices.items()}
    found = [Scenario("common values", substitute(shape.sql, common), values=common)]
    if rare != common:
        found.append(Scenario("rare values", substitute(shape.sql, rare), values=rare))
    return found


def substitute(sql: str, values: Mapping[int, str]) -> str:
    """Replace ``$n`` parameters by string literals (the text is re-generated from the tree).

    Example:
        >>> substitute("SELECT * FROM orders WHERE status = $1 AND id > $2", {1: "failed", 2: "7"})
        "SELECT * FROM orders WHERE status = 'failed' AND id > '7'"
    """
    tree: Any = copy.deepcopy(pglast.parse_sql(sql)[0].stmt)
    _replace_params(tree, lambda number: values.get(number))
    return str(RawStream()(tree))


def _replace_params(root: Any, value_of: Callable[[int], str | None]) -> None:
    """Swap every ParamRef with a known value for an A_Const string, walking iteratively."""
    stack: list[object] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            for member in item:
                child = getattr(item, member)
                replaced = _swap(child, value_of)
                if replaced is not child:
                    setattr(item, member, replaced)
                stack.append(replaced)
        elif isinstance(item, tuple):
            stack.extend(item)


def _swap(child: object, value_of: Callable[[int], str | None]) -> object:
    if isinstance(child, ast.ParamRef):
        value = value_of(child.number)
        if value is not None:
            return ast.A_Const(isnull=False, val=ast.String(sval=value))
    if isinstance(child, tuple) and any(isinstance(c, ast.ParamRef) for c in child):
        return tuple(_swap(c, value_of) for c in child)
    return child


def _values_for(
    number: int, shape: QueryShape, tables: Mapping[TableRef, TableFacts]
) -> tuple[str, str] | None:
    """``(common, rare)`` values for parameter ``number``, or None if no statistics apply."""
    for pred in shape.predicates:
        positions = [i for i, v in enumerate(pred.values) if v.param == number]
        if not positions or pred.expression is not None:
            continue  # the column's pg_stats say nothing of lower(column)'s values
        facts = tables.get(pred.table)
        column = facts.column(pred.column) if facts else None
        stats = column.stats if column else None
        if stats is None:
            continue
        picked = _pick(pred, positions[0], stats)
        if picked is not None:
            return picked
    return None


def _pick(pred: Predicate, position: int, stats: ColumnStats) -> tuple[str, str] | None:
    mcv = stats.most_common_vals or []
    freqs = stats.most_common_freqs or []
    bounds = stats.histogram_bounds or []
    if pred.kind is PredicateKind.EQ:
        common = mcv[0] if mcv else (bounds[len(bounds) // 2] if bounds else None)
        if bounds:
            rare = bounds[len(bounds) // 2]
        elif mcv:
            rare = mcv[min(range(len(freqs)), key=freqs.__getitem__)] if freqs else mcv[-1]
        else:
            rare = None
        if common is None or rare is None:
            return None
        return common, rare
    if pred.kind is PredicateKind.RANGE and len(bounds) >= 3:
        median, low, high = bounds[len(bounds) // 2], bounds[1], bounds[-2]
        if pred.operator in (">", ">="):
            return median, high  # wide: upper half; narrow: the last bucket
        if pred.operator in ("<", "<="):
            return median, low
        if pred.operator == "BETWEEN":
            # BETWEEN $a AND $b: wide = first bound .. median, narrow = one bucket at the end.
            if position == 0:
                return bounds[0], bounds[-2]
            return median, bounds[-1]
    return None
