"""Index candidates an expert would write down, from each statement's shape and the catalog.

For each statement and each base table it touches, the generator combines:

- **Key order**: equality columns first (also ``IN``, ``IS NULL`` and join keys, because all of
  them pin the leading columns to single values), the most selective first by ``pg_stats``; then
  *one* range column or the ORDER BY / GROUP BY keys, because a B-tree can only use the columns
  after the first range condition as a filter, and can only return rows in key order after
  equality-pinned columns. This is the classic "equality, sort, range" rule (see Markus Winand,
  *SQL Performance Explained*, ch. 2 and 6).
- **Partial** variants when a condition picks a rare constant (``most_common_freqs`` at or below
  ``partial_max_fraction``), with the condition repeated exactly as the query writes it, so the
  planner can prove that the query implies the index predicate.
- **Covering** (``INCLUDE``) variants when every other column the statement reads from the table
  is known and small, so the scan can become an index-only scan.
- **Expression keys** for conditions on an expression of one column (``lower(email) = ...``,
  ``payload->>'device' = 'ios'``): the expression, as the statement writes it, leads the key
  (``pg_stats`` has no statistics for an expression that is not indexed yet, so it cannot be
  ranked against the columns), followed by the equality columns and one range column or range
  expression, as for plain columns. Whether the expression may be indexed at all (IMMUTABLE
  functions only) is decided by the server when HypoPG builds it.
- **Join keys**, so the table can be the inner side of a nested loop (and foreign keys without an
  index, which every delete of a referenced row also pays for).
- **GIN** suggestions for conditions no B-tree serves (trigram for ``ILIKE``/``LIKE '%x%'``,
  ``jsonb_path_ops`` for ``@>``, a tsvector expression for full text), marked unverifiable
  because HypoPG cannot build GIN indexes.

Candidates that an existing index already serves, candidates on tiny tables, and ``ORDER BY x
LIMIT n`` candidates that rely on a rare filter spread evenly along ``x`` when ``pg_stats`` says
it is clustered are not proposed; each is returned as a `Rejection` with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pglast
from pglast import ast
from pglast.stream import RawStream

from planalyzer.advisor.model import IndexCandidate, KeyColumn, Rejection
from planalyzer.advisor.predicates import (
    JoinKey,
    Ordering,
    Predicate,
    PredicateKind,
    QueryShape,
    SortKey,
    TableRef,
)
from planalyzer.advisor.stats import distinct_count, unknown_value_fraction, value_fraction
from planalyzer.live.catalog import ColumnStats, IndexColumn, IndexFacts, TableFacts

__all__ = [
    "CandidateOptions",
    "generate_candidates",
    "gin_refusal",
    "normalise_expression",
    "normalise_predicate",
    "order_equality_columns",
    "served_by",
]

_BLOCK_BYTES = 8192
_SKEW = 4.0


@dataclass(frozen=True)
class CandidateOptions:
    """Thresholds of the candidate generator; every one is an `advise` keyword too.

    Attributes:
        min_table_pages: tables smaller than this many 8 kB pages get no index: a sequential
            scan of 50 pages (400 kB) reads from cache in well under a millisecond, so an
            index would cost more in maintenance than it saves.
        partial_max_fraction: a constant selecting at most this fraction of the rows gets a
            partial-index variant (1 % ``failed`` orders: yes; 70 % ``delivered``: no). 5 % is
            where a partial index is typically at least 10x smaller than a full one.
        risky_order_max_fraction: an ``ORDER BY x LIMIT n`` index that leaves a filter this
            rare unindexed is refused when the filter column is clustered (see
            ``risky_order_min_correlation``).
        risky_order_min_correlation: ``|pg_stats.correlation|`` from which a filter column's
            matching rows are taken to be clustered rather than spread along the sort index.
        max_key_columns: longest key proposed (wider keys rarely pay for their size).
        max_include_columns: most INCLUDE columns for a covering variant.
        max_include_width_bytes: largest summed ``avg_width`` of INCLUDE columns.
        c_collation: the database sorts in the C collation, so a plain B-tree serves
            ``LIKE 'abc%'``; otherwise ``text_pattern_ops`` is used for such columns.
    """

    min_table_pages: int = 50
    partial_max_fraction: float = 0.05
    partial_max_distinct: int = 100
    risky_order_max_fraction: float = 0.1
    risky_order_min_correlation: float = 0.3
    max_key_columns: int = 4
    max_include_columns: int = 4
    max_include_width_bytes: int = 64
    c_collation: bool = True


@dataclass
class _Key:
    """A key under construction: columns, how many lead by equality, the partial predicate."""

    columns: list[KeyColumn]
    equality: int
    reason: str
    where: str | None = None
    where_column: str | None = None
    sort_only_filters: list[Predicate] = field(default_factory=list)


def generate_candidates(
    statements: Sequence[tuple[int, QueryShape]],
    tables: Mapping[TableRef, TableFacts],
    options: CandidateOptions | None = None,
) -> tuple[list[IndexCandidate], list[Rejection]]:
    """Generate candidates for a workload, merged across statements.

    Args:
        statements: ``(position, shape)`` per statement.
        tables: catalog facts per table reference as written in the statements (references
            that are not tables, e.g. views, are simply absent).
        options: thresholds.

    Returns:
        The candidates worth validating (deduplicated; each lists the statements it came
        from), and the rejected ones with their reasons.
    """
    options = options or CandidateOptions()
    merged: dict[tuple[object, ...], IndexCandidate] = {}
    rejected: dict[tuple[object, ...], Rejection] = {}
    for position, shape in statements:
        for ref in shape.tables:
            facts = tables.get(ref)
            if facts is None:
                continue
            made, refused = _for_table(shape, ref, facts, options)
            for candidate in made:
                candidate = candidate.model_copy(update={"statements": (position,)})
                _merge(merged, candidate)
            for rejection in refused:
                rejected.setdefault(rejection.candidate.key, rejection)
    _add_shared_prefixes(merged, tables)
    kept: list[IndexCandidate] = []
    for candidate in merged.values():
        facts = _facts_for(candidate.table, tables)
        assert facts is not None
        refusal = _refusal(candidate, facts, options)
        if refusal is not None:
            rejected.setdefault(candidate.key, refusal)
        else:
            kept.append(candidate)
    return kept, list(rejected.values())


def order_equality_columns(columns: Iterable[str], fractions: Mapping[str, float]) -> list[str]:
    """Equality columns, most selective (smallest fraction of rows) first, then by name.

    Example:
        >>> order_equality_columns(["status", "customer_id"], {"status": 0.01,
        ...                        "customer_id": 0.00002})
        ['customer_id', 'status']
    """
    return sorted(dict.fromkeys(columns), key=lambda c: (fractions.get(c, 1.0), c))


def served_by(candidate: IndexCandidate, indexes: Iterable[IndexFacts]) -> IndexFacts | None:
    """An existing index that can do everything ``candidate`` would, or None.

    It must be valid, of the same method, with the same partial predicate (or none); its
    leading key columns must be the candidate's equality columns in any order, followed by
    the candidate's remaining key columns in order with the same (or all reversed)
    directions; and it must hold every INCLUDE column, in its key or its INCLUDE list.

    Example:
        >>> from planalyzer.live.catalog import IndexColumn
        >>> existing = IndexFacts(name="o_s_c", method="btree", columns=[
        ...     IndexColumn(expression="status", attnum=3, descending=False, nulls_first=False),
        ...     IndexColumn(expression="created_at", attnum=4, descending=False,
        ...                 nulls_first=False)], include=[], predicate=None, unique=False,
        ...     primary=False, valid=True, size_bytes=0, idx_scan=0, definition="")
        >>> cand = IndexCandidate(table="public.orders", columns=(KeyColumn(name="status"),),
        ...                       equality_columns=1)
        >>> served_by(cand, [existing]).name
        'o_s_c'
    """
    for index in indexes:
        if not index.valid or index.method != candidate.method:
            continue
        if normalise_predicate(index.predicate) != normalise_predicate(candidate.where):
            continue
        names = [column.expression for column in index.columns]
        wanted = candidate.columns
        if len(names) < len(wanted):
            continue
        equality = candidate.equality_columns
        have_keys = [_index_key(c) for c in index.columns]
        if set(have_keys[:equality]) != {_wanted_key(c) for c in wanted[:equality]}:
            continue
        rest = list(zip(index.columns[equality:], wanted[equality:], strict=False))
        if any(_index_key(have) != _wanted_key(want) for have, want in rest):
            continue
        if any(want.opclass for want in wanted):
            continue  # the catalog facts do not carry operator classes: be conservative
        if rest and not _same_or_reversed(rest):
            continue
        if not set(candidate.include) <= set(names) | set(index.include):
            continue
        return index
    return None


def _index_key(column: IndexColumn) -> tuple[bool, str]:
    """An existing index column as ``(is expression, comparable text)``."""
    if column.attnum is None:
        return True, normalise_expression(column.expression)
    return False, column.expression


def _wanted_key(column: KeyColumn) -> tuple[bool, str]:
    """A candidate key column as ``(is expression, comparable text)``."""
    if column.expression:
        return True, normalise_expression(column.name)
    return False, column.name


def normalise_expression(text: str) -> str:
    """Compare index expressions as the server stores them with those taken from a statement.

    ``pg_get_indexdef`` prints ``(payload ->> 'device'::text)`` and ``lower((email)::text)``
    where the statement wrote ``payload->>'device'`` and ``lower(email)``: the server adds
    casts to the constants and the implicit casts to text. Both sides are parsed, those casts
    and the ``pg_catalog.`` qualification are dropped, and the deparsed text is compared
    without spaces or parentheses. Text that does not parse is compared as written.

    Example:
        >>> normalise_expression("(payload ->> 'device'::text)") == normalise_expression(
        ...     "payload->>'device'")
        True
        >>> normalise_expression("lower((email)::text)") == normalise_expression("lower(email)")
        True
        >>> normalise_expression("(created_at)::date") == normalise_expression("created_at")
        False
    """
    try:
        statement = pglast.parse_sql(f"SELECT {text}")[0].stmt
    except (pglast.parser.ParseError, RecursionError):
        return re.sub(r"\s+", "", text.lower())
    if not isinstance(statement, ast.SelectStmt) or not statement.targetList:
        return re.sub(r"\s+", "", text.lower())
    node = statement.targetList[0].val
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple | list):
            stack.extend(item)
            continue
        if not isinstance(item, ast.Node):
            continue
        if isinstance(item, ast.FuncCall) and item.funcname and len(item.funcname) == 2:
            if getattr(item.funcname[0], "sval", None) == "pg_catalog":
                item.funcname = item.funcname[1:]
        for member in item:
            child = getattr(item, member)
            if isinstance(child, ast.TypeCast) and _dropped_cast(child):
                setattr(item, member, child.arg)
                child = child.arg
            elif isinstance(child, tuple) and any(isinstance(c, ast.TypeCast) for c in child):
                child = tuple(
                    c.arg if isinstance(c, ast.TypeCast) and _dropped_cast(c) else c for c in child
                )
                setattr(item, member, child)
            stack.append(child)
    if isinstance(node, ast.TypeCast) and _dropped_cast(node):
        node = node.arg
    return re.sub(r"[\s()]+", "", str(RawStream()(node)).lower())


def _dropped_cast(cast: ast.TypeCast) -> bool:
    """A cast the server adds on its own: a constant's cast, or a cast to text."""
    if isinstance(cast.arg, ast.A_Const):
        return True
    type_names = (cast.typeName.names if cast.typeName is not None else None) or ()
    names = [getattr(n, "sval", "") for n in type_names]
    return bool(names) and names[-1] in ("text", "varchar")


def _same_or_reversed(pairs: list[tuple[IndexColumn, KeyColumn]]) -> bool:
    """The index order, scanned forwards or backwards, gives the candidate's order."""
    forwards = backwards = True
    for have, want in pairs:
        have_desc, have_nulls = have.descending, have.nulls_first
        want_nulls = want.descending if want.nulls_first is None else want.nulls_first
        forwards &= have_desc == want.descending and have_nulls == want_nulls
        backwards &= have_desc != want.descending and have_nulls != want_nulls
    return forwards or backwards


def normalise_predicate(text: str | None) -> str | None:
    """Compare predicates loosely: no parentheses, casts, quotes' spacing or case differences."""
    if text is None:
        return None
    text = re.sub(r"::[a-z_ ]+(\[\])?", "", text.lower())
    return re.sub(r"[\s()]+", "", text)


def _facts_for(table: str, tables: Mapping[TableRef, TableFacts]) -> TableFacts | None:
    return next((f for f in tables.values() if f.qualified_name == table), None)


def _merge(merged: dict[tuple[object, ...], IndexCandidate], candidate: IndexCandidate) -> None:
    existing = merged.get(candidate.key)
    if existing is None:
        merged[candidate.key] = candidate
        return
    merged[candidate.key] = existing.model_copy(
        update={
            "reasons": tuple(dict.fromkeys(existing.reasons + candidate.reasons)),
            "statements": tuple(sorted(set(existing.statements + candidate.statements))),
            "equality_columns": min(existing.equality_columns, candidate.equality_columns),
        }
    )


def _pages(facts: TableFacts) -> int:
    return max(facts.pages, facts.table_size_bytes // _BLOCK_BYTES)


def _refusal(
    candidate: IndexCandidate, facts: TableFacts, options: CandidateOptions
) -> Rejection | None:
    pages = _pages(facts)
    if pages < options.min_table_pages:
        return Rejection(
            candidate=candidate,
            code="tiny-table",
            reason=(
                f"{facts.qualified_name} has {pages} pages (< min_table_pages = "
                f"{options.min_table_pages}); a sequential scan of it is already cheap"
            ),
        )
    existing = served_by(candidate, facts.indexes)
    if existing is not None:
        return Rejection(
            candidate=candidate,
            code="existing-index",
            reason=f"the existing index {existing.name} already serves it: {existing.definition}",
        )
    return None


def _fraction(pred: Predicate, facts: TableFacts) -> float:
    """Fraction of rows an equality-like condition keeps (1.0 when unknown)."""
    column = facts.column(pred.column)
    stats: ColumnStats | None = column.stats if column else None
    rows = facts.row_estimate or 0.0
    if stats is None:
        return 1.0
    if pred.kind is PredicateKind.IS_NULL:
        return stats.null_frac
    if pred.kind is PredicateKind.IS_NOT_NULL:
        return 1.0 - stats.null_frac
    if pred.kind is PredicateKind.EQ and pred.values:
        total = 0.0
        for value in pred.values:
            if value.text is not None:
                total += value_fraction(stats, value.text, rows)
            else:
                total += unknown_value_fraction(stats, rows)
        return min(1.0, total)
    if pred.kind in (PredicateKind.RANGE, PredicateKind.LIKE_PREFIX):
        return _range_fraction(pred, stats)
    return 1.0


def _range_fraction(pred: Predicate, stats: ColumnStats) -> float:
    """Histogram share of a range condition; 1/3 when unknown (PostgreSQL's DEFAULT_INEQ_SEL)."""
    bounds = stats.histogram_bounds
    values = [v.text for v in pred.values]
    if not bounds or len(bounds) < 2 or any(v is None for v in values):
        return 1.0 / 3.0

    def position(value: str) -> float:
        below = sum(1 for bound in bounds if _less(bound, value))
        return below / len(bounds)

    if pred.operator in ("<", "<="):
        return position(values[0])  # type: ignore[arg-type]
    if pred.operator in (">", ">="):
        return 1.0 - position(values[0])  # type: ignore[arg-type]
    if pred.operator == "BETWEEN" and len(values) == 2:
        return max(0.0, position(values[1]) - position(values[0]))  # type: ignore[arg-type]
    return 1.0 / 3.0


def _less(left: str, right: str) -> bool:
    """Compare two values as numbers when both are, else as text (ISO dates sort as text)."""
    try:
        return float(left) < float(right)
    except ValueError:
        return left < right


def _sort_columns(keys: Sequence[SortKey], facts: TableFacts) -> list[KeyColumn]:
    """Index key columns whose order (or its reverse) is the requested order.

    A B-tree can be read backwards, so the keys are normalised to start ascending: ``ORDER BY
    a DESC`` becomes key ``(a)``, and ``ORDER BY a DESC, b`` becomes ``(a, b DESC)``. NULLS
    FIRST/LAST is written only where it differs from the direction's default and the column
    can hold NULLs.
    """
    flip = keys[0].descending
    columns: list[KeyColumn] = []
    for key in keys:
        descending, nulls_first = key.descending, key.effective_nulls_first
        if flip:
            descending, nulls_first = not descending, not nulls_first
        name = key.column
        column = facts.column(name)
        nullable = column is None or not column.not_null
        explicit = nulls_first if nullable and nulls_first != descending else None
        columns.append(KeyColumn(name=name, descending=descending, nulls_first=explicit))
    return columns


def _for_table(
    shape: QueryShape, ref: TableRef, facts: TableFacts, options: CandidateOptions
) -> tuple[list[IndexCandidate], list[Rejection]]:
    """Every candidate one statement suggests for one table."""
    on_table = shape.predicates_on(ref)
    # Conditions on expressions get their own keys (below); the column logic, which reads the
    # column's pg_stats, must not mistake lower(email) = 'x' for a condition on email.
    preds = [p for p in on_table if not p.on_expression]
    expression_preds = [p for p in on_table if p.on_expression]
    joins = [j for j in shape.joins if j.side(ref) is not None]
    equality = [p for p in preds if p.kind in (PredicateKind.EQ, PredicateKind.IS_NULL)]
    fractions: dict[str, float] = {}
    for pred in equality:
        fractions[pred.column] = min(fractions.get(pred.column, 1.0), _fraction(pred, facts))
    eq_columns = order_equality_columns((p.column for p in equality), fractions)
    ranges = [p for p in preds if p.kind in (PredicateKind.RANGE, PredicateKind.LIKE_PREFIX)]
    range_columns = list(dict.fromkeys(p.column for p in ranges if p.column not in eq_columns))
    orderings = [o for o in shape.orderings if o.keys and all(k.table == ref for k in o.keys)]
    described = _describe(on_table)

    keys: list[_Key] = []
    eq_keys = [KeyColumn(name=c) for c in eq_columns]
    if eq_keys:
        keys.append(_Key(list(eq_keys), len(eq_keys), f"equality on {', '.join(eq_columns)}"))
    range_keys = [_range_key(column, None, ranges, options) for column in range_columns[:2]]
    for column, range_key in zip(range_columns, range_keys, strict=False):
        keys.append(
            _Key(
                [*eq_keys, range_key],
                len(eq_keys),
                _join_words(
                    f"equality on {', '.join(eq_columns)}" if eq_columns else "",
                    f"range on {column}",
                ),
            )
        )
    rejected: list[Rejection] = []
    for ordering in orderings:
        key = _ordering_key(ordering, eq_keys, eq_columns, preds, facts, options, ref)
        if isinstance(key, Rejection):
            rejected.append(key)
        elif key is not None:
            keys.append(key)
    for join in joins:
        keys.extend(_join_keys(join, ref, eq_columns, fractions, facts))
    keys.extend(_expression_keys(expression_preds, eq_columns, fractions, range_keys, options))

    candidates: list[IndexCandidate] = []
    for key in keys:
        candidates.extend(_variants(key, shape, ref, facts, preds, options))
    candidates.extend(_rare_condition_keys(shape, ref, facts, preds, keys, options))
    candidates.extend(_gin_candidates(facts, preds))
    table = facts.qualified_name
    fixed = [
        c.model_copy(
            update={
                "table": table,
                "columns": c.columns[: options.max_key_columns],
                "equality_columns": min(c.equality_columns, options.max_key_columns),
                "reasons": tuple(
                    f"{reason} ({described})" if described else reason for reason in c.reasons
                ),
            }
        )
        for c in candidates
    ]
    return fixed, rejected


def _range_key(
    column: str, expression: str | None, ranges: Sequence[Predicate], options: CandidateOptions
) -> KeyColumn:
    """The key column for a range condition (``text_pattern_ops`` for LIKE 'abc%' if needed).

    Outside the C collation a plain B-tree cannot serve ``LIKE 'abc%'`` (its order is not
    byte order); ``text_pattern_ops`` compares byte-wise and can (PostgreSQL manual, 11.10).
    """
    like = any(
        p.column == column and p.expression == expression and p.kind is PredicateKind.LIKE_PREFIX
        for p in ranges
    )
    opclass = "text_pattern_ops" if like and not options.c_collation else None
    if expression is not None:
        return KeyColumn(name=expression, expression=True, opclass=opclass)
    return KeyColumn(name=column, opclass=opclass)


# The planner's selectivity for ``expr = const`` without statistics on expr (DEFAULT_EQ_SEL,
# src/include/utils/selfuncs.h): until an index on the expression is ANALYZEd, pg_stats knows
# nothing of its values, so this is also what the key order can go by.
_EXPRESSION_EQ_FRACTION = 0.005


def _expression_keys(
    preds: Sequence[Predicate],
    eq_columns: Sequence[str],
    fractions: Mapping[str, float],
    range_keys: Sequence[KeyColumn],
    options: CandidateOptions,
) -> list[_Key]:
    """Keys holding the expressions compared by equality, then as for columns.

    The equality expressions join the equality columns, ranked with the planner's own guess
    for them (0.5 %): a column known to be more selective (``customer_id``, 1 row in 40,000)
    still leads, so that the index also serves lookups by the column alone, while an
    expression leads a less selective column (``status = 'paid'``, 8 %). Then one range
    column, or one range expression.
    """
    eq_exprs = [
        e for e in dict.fromkeys(p.expression for p in preds if p.kind is PredicateKind.EQ) if e
    ]
    ranges = [p for p in preds if p.kind in (PredicateKind.RANGE, PredicateKind.LIKE_PREFIX)]
    range_exprs = list(dict.fromkeys(p for p in ranges if p.expression not in eq_exprs))
    ranked = order_equality_columns(
        [*eq_exprs, *eq_columns],
        {**fractions, **dict.fromkeys(eq_exprs, _EXPRESSION_EQ_FRACTION)},
    )
    expressions = set(eq_exprs)
    equality = [KeyColumn(name=n, expression=n in expressions) for n in ranked]
    said = f"equality on {', '.join(c.name for c in equality)}" if equality else ""
    keys: list[_Key] = []
    if eq_exprs:
        keys.append(_Key(list(equality), len(equality), said))
        for range_key in range_keys:
            keys.append(
                _Key(
                    [*equality, range_key],
                    len(equality),
                    _join_words(said, f"range on {range_key.name}"),
                )
            )
    seen: set[str] = set()
    for pred in range_exprs:
        if pred.expression is None or pred.expression in seen or len(seen) >= 2:
            continue
        seen.add(pred.expression)
        range_key = _range_key(pred.column, pred.expression, ranges, options)
        keys.append(
            _Key(
                [*equality, range_key],
                len(equality),
                _join_words(said, f"range on {pred.expression}"),
            )
        )
    return keys


def _join_words(*parts: str) -> str:
    return ", then ".join(p for p in parts if p)


def _describe(preds: Sequence[Predicate]) -> str:
    """The conditions as the statement writes them, for the reasons shown to users."""
    return " AND ".join(dict.fromkeys(p.sql for p in preds if p.sql))


def _ordering_key(
    ordering: Ordering,
    eq_keys: list[KeyColumn],
    eq_columns: list[str],
    preds: Sequence[Predicate],
    facts: TableFacts,
    options: CandidateOptions,
    ref: TableRef,
) -> _Key | Rejection | None:
    """Equality columns followed by the ORDER BY/GROUP BY keys (constant ones dropped)."""
    keys = [k for k in ordering.keys if k.column not in eq_columns]
    if not keys:
        return None
    if ordering.grouping:
        sort = [KeyColumn(name=k.column) for k in keys]
        what = f"GROUP BY {', '.join(k.column for k in keys)}"
    else:
        sort = _sort_columns(keys, facts)
        what = "ORDER BY " + ", ".join(k.column + (" DESC" if k.descending else "") for k in keys)
        if ordering.limit is not None:
            what += f" LIMIT {ordering.limit}" if ordering.limit >= 0 else " LIMIT $n"
    key_names = set(eq_columns) | {k.column for k in keys}
    unindexed = [
        p for p in preds if p.column not in key_names and p.kind is not PredicateKind.IS_NOT_NULL
    ]
    reason = _join_words(f"equality on {', '.join(eq_columns)}" if eq_columns else "", what)
    built = _Key([*eq_keys, *sort], len(eq_keys), reason)
    if ordering.limit is not None and unindexed:
        risk = _clustered_filter(unindexed, facts, options)
        if risk is not None:
            candidate = IndexCandidate(
                table=facts.qualified_name,
                columns=tuple(built.columns[: options.max_key_columns]),
                equality_columns=built.equality,
                reasons=(reason,),
            )
            return Rejection(candidate=candidate, code="risky-order", reason=risk)
    return built


def _clustered_filter(
    unindexed: Sequence[Predicate], facts: TableFacts, options: CandidateOptions
) -> str | None:
    """Why an order-providing index would be a trap for a rare, clustered filter, or None.

    Reading an index in ORDER BY order and stopping after LIMIT rows is cheap only when the
    rows passing the remaining filter are spread along that order; the planner assumes they
    are. When the filter keeps few rows and its column follows the physical order
    (``pg_stats.correlation`` far from 0), the matching rows sit together, possibly at the far
    end of the index, and the "cheap" scan reads most of the table first.
    """
    for pred in unindexed:
        column = facts.column(pred.column)
        stats = column.stats if column else None
        if stats is None or stats.correlation is None:
            continue
        fraction = _fraction(pred, facts)
        if (
            fraction <= options.risky_order_max_fraction
            and abs(stats.correlation) >= options.risky_order_min_correlation
        ):
            return (
                f"the filter {pred.sql} keeps about {fraction:.1%} of the rows and "
                f"{pred.column} is clustered (correlation {stats.correlation:+.2f}): reading "
                "an index in ORDER BY order until LIMIT rows pass may scan most of it; an "
                "index on the filter column is safer"
            )
    return None


def _join_keys(
    join: JoinKey,
    ref: TableRef,
    eq_columns: list[str],
    fractions: Mapping[str, float],
    facts: TableFacts,
) -> list[_Key]:
    """The join column (with the table's equality columns) for the inner side of a loop."""
    side = join.side(ref)
    assert side is not None
    mine, other = side
    column = facts.column(mine.column)
    stats = column.stats if column else None
    join_fraction = (
        unknown_value_fraction(stats, facts.row_estimate or 0.0) if stats is not None else 1.0
    )
    fk = next(
        (fk for fk in facts.foreign_keys if fk.columns == [mine.column] and not fk.indexed), None
    )
    note = f"join key {mine.column} = {other.table}.{other.column}"
    if fk is not None:
        note += f" (foreign key {fk.name} has no index)"
    keys = [_Key([KeyColumn(name=mine.column)], 1, note)]
    if eq_columns and mine.column not in eq_columns:
        ordered = order_equality_columns(
            [*eq_columns, mine.column], {**fractions, mine.column: join_fraction}
        )
        keys.append(
            _Key(
                [KeyColumn(name=c) for c in ordered],
                len(ordered),
                f"{note} with equality on {', '.join(eq_columns)}",
            )
        )
    return keys


def _variants(
    key: _Key,
    shape: QueryShape,
    ref: TableRef,
    facts: TableFacts,
    preds: Sequence[Predicate],
    options: CandidateOptions,
) -> list[IndexCandidate]:
    """The key as is, as a partial index for each rare constant in it, and covering forms."""
    base = IndexCandidate(
        table=facts.qualified_name,
        columns=tuple(key.columns),
        equality_columns=key.equality,
        reasons=(key.reason,),
    )
    found = [base]
    for pred in preds:
        partial = _partial_of(key, pred, facts, options)
        if partial is not None:
            found.append(partial)
    covering = []
    for candidate in found:
        extra = _covering(candidate, shape, ref, facts, options)
        if extra is not None:
            covering.append(extra)
    return found + covering


def _partial_of(
    key: _Key, pred: Predicate, facts: TableFacts, options: CandidateOptions
) -> IndexCandidate | None:
    """``key`` without ``pred``'s column, restricted to the rows ``pred`` keeps, when rare."""
    if not _rare_constant(pred, facts, options):
        return None
    names = [c.name for c in key.columns]
    if pred.column not in names[: key.equality]:
        return None
    remaining = [c for c in key.columns if c.name != pred.column]
    if not remaining:
        # Keyed on the very column its predicate pins, every entry holds the same value: the
        # index is a list of row pointers; what the statement still needs (another filter,
        # its order, its columns) is what a partial index should be keyed on.
        return None
    fraction = _fraction(pred, facts)
    return IndexCandidate(
        table=facts.qualified_name,
        columns=tuple(remaining),
        where=pred.sql,
        equality_columns=max(0, key.equality - 1) if len(key.columns) > 1 else 1,
        reasons=(f"{key.reason}; partial: {pred.sql} keeps {fraction:.1%} of the rows",),
    )


def _rare_constant(pred: Predicate, facts: TableFacts, options: CandidateOptions) -> bool:
    """A condition on one constant (or NULL-ness) that keeps few rows."""
    if pred.kind in (PredicateKind.IS_NULL, PredicateKind.IS_NOT_NULL):
        single = True
    elif pred.kind is PredicateKind.EQ:
        single = len(pred.values) == 1 and pred.constant and pred.operator in ("=", "IN", "OR")
    else:
        single = False
    # The tolerance absorbs float noise: 1 - 0.95 must count as 5 %.
    if pred.bound or not single:
        return False
    fraction = _fraction(pred, facts)
    if fraction > options.partial_max_fraction + 1e-9:
        return False
    if pred.kind is not PredicateKind.EQ:
        return True
    # A partial index suits a flag- or status-like column; for a key-like column (thousands of
    # values, each rare) the plain index serves every value and a partial one only this one.
    column = facts.column(pred.column)
    if column is None or column.stats is None:
        return False
    if distinct_count(column.stats, facts.row_estimate or 0.0) > options.partial_max_distinct:
        return False
    # Rare in a skewed distribution: another value is at least 4 times as common. One of 100
    # equally common values is not a rare value; the application queries the others too.
    most = max(column.stats.most_common_freqs or [0.0])
    return most >= _SKEW * fraction


def _rare_condition_keys(
    shape: QueryShape,
    ref: TableRef,
    facts: TableFacts,
    preds: Sequence[Predicate],
    keys: Sequence[_Key],
    options: CandidateOptions,
) -> list[IndexCandidate]:
    """Partial indexes for rare ``IS NOT NULL`` conditions (not part of any equality key)."""
    found: list[IndexCandidate] = []
    for pred in preds:
        if pred.kind is not PredicateKind.IS_NOT_NULL or not _rare_constant(pred, facts, options):
            continue
        fraction = _fraction(pred, facts)
        bases = [list(k.columns) for k in keys if all(c.name != pred.column for c in k.columns)]
        bases.append([KeyColumn(name=pred.column)])
        for columns in bases:
            candidate = IndexCandidate(
                table=facts.qualified_name,
                columns=tuple(columns),
                where=pred.sql,
                equality_columns=0,
                reasons=(f"partial: {pred.sql} keeps {fraction:.1%} of the rows",),
            )
            found.append(candidate)
            extra = _covering(candidate, shape, ref, facts, options)
            if extra is not None:
                found.append(extra)
    return found


def _covering(
    candidate: IndexCandidate,
    shape: QueryShape,
    ref: TableRef,
    facts: TableFacts,
    options: CandidateOptions,
) -> IndexCandidate | None:
    """The candidate with INCLUDE columns making it cover the statement, when small enough."""
    needed = shape.needed_columns(ref)
    if needed is None:
        return None
    where_columns = {p.column for p in shape.predicates_on(ref) if p.sql == candidate.where}
    extra = sorted(needed - set(candidate.column_names) - where_columns)
    if not extra or len(extra) > options.max_include_columns:
        return None
    width = 0
    for name in extra:
        column = facts.column(name)
        if column is None:
            return None  # not a column of this table after all
        width += column.stats.avg_width if column.stats else 8
    if width > options.max_include_width_bytes:
        return None
    return candidate.model_copy(
        update={
            "include": tuple(extra),
            "reasons": tuple(
                f"{r}; INCLUDE {', '.join(extra)} for an index-only scan" for r in candidate.reasons
            ),
        }
    )


def _gin_candidates(facts: TableFacts, preds: Sequence[Predicate]) -> list[IndexCandidate]:
    """GIN indexes for the conditions B-trees cannot serve (not verifiable with HypoPG).

    The operator class follows the column's type, or PostgreSQL refuses to build the index:
    ``array_ops`` for arrays (``@>``, ``&&``), ``jsonb_path_ops`` for a jsonb column searched
    only with ``@>`` (smaller and faster) and ``jsonb_ops`` for ``?``-style key tests,
    ``gin_trgm_ops`` for text patterns. Whether the class exists on the server (pg_trgm
    installed) is checked later against the catalog (`gin_refusal`).
    """
    found = []
    jsonb_ops: dict[str, set[str]] = {}
    for pred in preds:
        if pred.kind is PredicateKind.JSONB:
            jsonb_ops.setdefault(pred.column, set()).add(pred.operator)
    for pred in preds:
        column_facts = facts.column(pred.column)
        data_type = column_facts.data_type if column_facts else ""
        if pred.kind is PredicateKind.PATTERN:
            column = KeyColumn(name=pred.column, opclass="gin_trgm_ops")
            why = f"{pred.sql}: no B-tree serves it; a trigram GIN index (pg_trgm) does"
        elif pred.kind is PredicateKind.JSONB and data_type.endswith("[]"):
            column = KeyColumn(name=pred.column, opclass="array_ops")
            why = f"{pred.sql}: array containment needs a GIN index ({data_type}: array_ops)"
        elif pred.kind is PredicateKind.JSONB:
            ops = jsonb_ops[pred.column]
            opclass = "jsonb_path_ops" if ops == {"@>"} else "jsonb_ops"
            column = KeyColumn(name=pred.column, opclass=opclass)
            why = f"{pred.sql}: JSONB containment needs a GIN index"
        elif pred.kind is PredicateKind.FULL_TEXT and pred.expression:
            column = KeyColumn(name=pred.expression, expression=True)
            why = f"{pred.sql}: full-text search needs a GIN index on the tsvector expression"
        else:
            continue
        found.append(
            IndexCandidate(
                table=facts.qualified_name,
                columns=(column,),
                method="gin",
                equality_columns=1,
                verifiable=False,
                reasons=(why,),
            )
        )
    return found


_TEXT_TYPES = ("text", "character varying", "character", "citext")


def gin_refusal(
    candidate: IndexCandidate,
    facts: TableFacts,
    opclasses: frozenset[tuple[str, str, str]],
    extensions: frozenset[str],
) -> Rejection | None:
    """Why an index HypoPG cannot check would fail to build, from the catalog; None if it builds.

    Args:
        candidate: the (GIN) candidate.
        facts: its table.
        opclasses: ``(access method, opclass, column type)`` the server offers for the columns.
        extensions: installed extensions.
    """
    for column in candidate.columns:
        if column.expression or column.opclass is None:
            continue
        column_facts = facts.column(column.name)
        if column_facts is None:
            return Rejection(
                candidate=candidate, code="unsupported", reason=f"no column {column.name}"
            )
        data_type = column_facts.data_type
        base_type = re.sub(r"\([^)]*\)", "", data_type)
        if column.opclass == "gin_trgm_ops" and "pg_trgm" not in extensions:
            return Rejection(
                candidate=candidate,
                code="needs-extension",
                reason=(
                    f"a trigram index needs the pg_trgm extension, which is not installed: "
                    f"CREATE EXTENSION pg_trgm; then USING gin ({column.name} gin_trgm_ops)"
                ),
            )
        if column.opclass == "gin_trgm_ops" and not base_type.startswith(_TEXT_TYPES):
            return Rejection(
                candidate=candidate,
                code="unsupported",
                reason=f"{column.name} is {data_type}, not text: gin_trgm_ops cannot index it",
            )
        if (candidate.method, column.opclass, base_type) not in opclasses and (
            candidate.method,
            column.opclass,
            data_type,
        ) not in opclasses:
            return Rejection(
                candidate=candidate,
                code="unsupported",
                reason=(
                    f"the server has no {candidate.method} operator class {column.opclass} for "
                    f"{column.name} ({data_type}): the index would not build"
                ),
            )
    return None


def _add_shared_prefixes(
    merged: dict[tuple[object, ...], IndexCandidate], tables: Mapping[TableRef, TableFacts]
) -> None:
    """Variants that let one index serve two statements (indexes interact).

    When candidate A's equality columns are a proper subset of candidate B's (same table, same
    predicate), B is also proposed with A's columns leading, in A's order: one index then
    serves A's statement through its prefix and B's statement fully.
    """
    pool = [c for c in merged.values() if c.method == "btree" and not c.include]
    for a in pool:
        a_eq = a.column_names[: a.equality_columns]
        if not a_eq:
            continue
        for b in pool:
            if a is b or a.table != b.table or a.where != b.where:
                continue
            b_eq = b.column_names[: b.equality_columns]
            if not set(a_eq) < set(b_eq) or b_eq[: len(a_eq)] == a_eq:
                continue
            rest = [c for c in b.columns[: b.equality_columns] if c.name not in a_eq]
            columns = (*a.columns[: a.equality_columns], *rest, *b.columns[b.equality_columns :])
            variant = IndexCandidate(
                table=b.table,
                columns=columns,
                where=b.where,
                equality_columns=len(b_eq),
                reasons=(f"shared: {', '.join(a_eq)} first also serves {a.definition}",),
                statements=tuple(sorted(set(a.statements + b.statements))),
            )
            _merge(merged, variant)
