# pglast types every AST field Optional, although the parser always fills the ones read here
# after an isinstance check; these codes would flag every such access.
# mypy: disable-error-code="arg-type,index,union-attr,operator"
"""What a statement asks of each table, read from its pglast parse tree.

An index helps a statement through the conditions it puts on one table's columns (equality, IN,
ranges, IS NULL, LIKE with a fixed prefix, and the operators only GIN serves: pattern matching,
JSONB containment, full-text search), through the join keys that let the table be the inner side
of a nested loop, and through the order it wants rows in (ORDER BY with direction and NULLS
placement, GROUP BY) when a LIMIT makes stopping early worth it. Conditions on an expression of
one column (``lower(email) = $1``, ``payload->>'device' = 'ios'``, ``created_at::date = ...``)
are kept too, with the expression deparsed from the parse tree, so that an expression index can
repeat it exactly as the planner must match it. `extract` collects exactly those facts, per base
table: aliases are resolved to tables, CTE names and subqueries are kept apart
from tables, and unqualified columns are attributed through an optional ``columns_of`` lookup
(the catalog) when several tables are in scope.

The parse tree is walked with explicit stacks, never recursion, so deep expressions are safe.

Example:
    >>> shape = extract("SELECT * FROM orders o WHERE o.customer_id = 42 "
    ...                 "AND o.created_at >= '2024-01-01' ORDER BY o.created_at DESC LIMIT 10")
    >>> [(p.column, p.kind.value) for p in shape.predicates]
    [('customer_id', 'eq'), ('created_at', 'range')]
    >>> shape.orderings[0].keys[0].descending, shape.orderings[0].limit
    (True, 10)
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast, enums
from pglast.stream import RawStream

from planalyzer.errors import AdviceError

__all__ = [
    "ColumnRef",
    "JoinKey",
    "Ordering",
    "Predicate",
    "PredicateKind",
    "QueryShape",
    "SortKey",
    "TableRef",
    "Value",
    "extract",
    "referenced_tables",
]


@dataclass(frozen=True, order=True)
class TableRef:
    """A base table as the statement names it (schema only when written)."""

    schema: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a base table."""

    table: TableRef
    column: str


class PredicateKind(enum.Enum):
    """How a condition can use an index; the B-tree kinds first, then those only GIN serves."""

    EQ = "eq"
    """``col = const``, ``col IN (...)``, ``col = ANY(...)``, a boolean column tested alone."""
    RANGE = "range"
    """``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``."""
    IS_NULL = "is_null"
    IS_NOT_NULL = "is_not_null"
    LIKE_PREFIX = "like_prefix"
    """``LIKE 'abc%'``: a B-tree range scan in the C collation or with ``text_pattern_ops``."""
    PATTERN = "pattern"
    """``LIKE '%abc%'``, any ``ILIKE``, regular expressions: only a trigram GIN index helps."""
    JSONB = "jsonb"
    """``@>``, ``?``, ``?|``, ``?&`` on a jsonb column: a GIN index."""
    FULL_TEXT = "full_text"
    """``to_tsvector(...) @@ query``: a GIN index on the tsvector expression."""

    @property
    def btree(self) -> bool:
        """Whether a B-tree index can use this kind of condition."""
        return self not in (PredicateKind.PATTERN, PredicateKind.JSONB, PredicateKind.FULL_TEXT)


@dataclass(frozen=True)
class Value:
    """The right-hand side of a condition: a constant, a ``$n`` parameter or an expression.

    Attributes:
        literal: the SQL text of the constant or expression (``'failed'``, ``42``,
            ``now() - '1 day'::interval``); None for a parameter.
        text: the constant's value as text, comparable with ``pg_stats`` values; None for
            parameters and expressions.
        param: the parameter number of ``$n``, or None.
    """

    literal: str | None = None
    text: str | None = None
    param: int | None = None

    @property
    def constant(self) -> bool:
        """A plain constant (so a partial index can be written for it)."""
        return self.text is not None


@dataclass(frozen=True)
class Predicate:
    """One indexable condition on one column (or, for full text, expression) of one table.

    Attributes:
        table: the base table.
        column: the column (for FULL_TEXT the first column inside the expression).
        kind: how an index can use it.
        operator: the SQL operator or construct (``=``, ``IN``, ``>=``, ``BETWEEN``, ``~~``...).
        values: the constants or parameters compared with.
        sql: the condition with the column unqualified, as a partial index's WHERE clause
            would repeat it (only meaningful for constant conditions).
        expression: the indexed expression, deparsed by pglast with its column unqualified:
            the tsvector expression for FULL_TEXT, or, for a B-tree kind, the expression of
            ``column`` the condition compares (``lower(email)``); None for a plain column.
        bound: the constants came from bound parameters (``(sql, params)``): the application
            passes other values too, so they are not part of the statement's shape.
    """

    table: TableRef
    column: str
    kind: PredicateKind
    operator: str
    values: tuple[Value, ...] = ()
    sql: str = ""
    expression: str | None = None
    bound: bool = False

    @property
    def constant(self) -> bool:
        """Every compared value is a plain constant (IS NULL has none, and counts as constant)."""
        return all(value.constant for value in self.values)

    @property
    def on_expression(self) -> bool:
        """A B-tree condition on an expression of ``column`` rather than on the column."""
        return self.expression is not None and self.kind.btree


@dataclass(frozen=True)
class JoinKey:
    """An equality between columns of two tables (``a.x = b.y``), in either direction."""

    left: ColumnRef
    right: ColumnRef

    def side(self, table: TableRef) -> tuple[ColumnRef, ColumnRef] | None:
        """``(this table's column, the other table's column)``, or None if not on ``table``."""
        if self.left.table == table:
            return self.left, self.right
        if self.right.table == table:
            return self.right, self.left
        return None


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY or GROUP BY key that is a plain column of a base table.

    ``nulls_first`` is None when not written: PostgreSQL then puts NULLs last ascending and
    first descending, which is also what a B-tree column without NULLS FIRST/LAST gives.
    """

    table: TableRef
    column: str
    descending: bool = False
    nulls_first: bool | None = None

    @property
    def effective_nulls_first(self) -> bool:
        """Where NULLs actually go (PostgreSQL's default: last ascending, first descending)."""
        return self.descending if self.nulls_first is None else self.nulls_first


@dataclass(frozen=True)
class Ordering:
    """The ORDER BY (or GROUP BY) of one SELECT, with its LIMIT.

    Attributes:
        keys: the keys in order; empty when any key is not a plain column of a base table
            (an index cannot then provide the order).
        limit: the LIMIT constant, -1 for a ``$n`` or expression limit, None without LIMIT.
        grouping: True for GROUP BY keys (any order and direction will do).
    """

    keys: tuple[SortKey, ...]
    limit: int | None = None
    grouping: bool = False


@dataclass(frozen=True)
class QueryShape:
    """What one statement asks of its tables; the result of `extract`.

    Attributes:
        sql: the statement text.
        tables: every base table it reads or writes, each once.
        predicates: indexable conditions.
        joins: equality join keys between two base tables (also inside EXISTS/IN subqueries).
        orderings: ORDER BY and GROUP BY lists with their LIMIT.
        columns: per table, every column the statement mentions (select list, conditions,
            sort keys...). A table read with ``*`` is in ``star`` instead, because then every
            column is needed and no index can cover it.
        star: tables read with ``*`` (or ``t.*``, or a whole-row reference).
        params: the ``$n`` numbers used.
        unresolved: column names that could not be attributed to one table.
        or_groups: ``a = 1 OR b = 2`` on columns of one table: the columns, each needing its
            own index for a BitmapOr.
    """

    sql: str
    tables: tuple[TableRef, ...]
    predicates: tuple[Predicate, ...]
    joins: tuple[JoinKey, ...]
    orderings: tuple[Ordering, ...]
    columns: dict[TableRef, frozenset[str]]
    star: frozenset[TableRef]
    params: frozenset[int]
    unresolved: frozenset[str] = frozenset()
    or_groups: tuple[tuple[ColumnRef, ...], ...] = ()

    def predicates_on(self, table: TableRef) -> list[Predicate]:
        """The conditions on ``table``."""
        return [p for p in self.predicates if p.table == table]

    def needed_columns(self, table: TableRef) -> frozenset[str] | None:
        """Every column of ``table`` the statement needs, or None when it reads ``*``."""
        if table in self.star:
            return None
        return self.columns.get(table, frozenset())


ColumnsOf = Callable[[TableRef], Collection[str] | None]
"""Looks up a table's column names (None when unknown); used to place unqualified columns."""

_RANGE_OPS = {"<", "<=", ">", ">="}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_JSONB_OPS = {"@>", "?", "?|", "?&"}
_PATTERN_OPS = {"~~*", "!~~*", "~", "~*"}  # ILIKE and regex; LIKE is decided by its pattern
_FIELD_OPS = {"->>", "->", "#>>", "#>"}  # JSON field access: the expressions worth indexing


def referenced_tables(sql: str) -> list[TableRef]:
    """The base tables a statement names, each once (CTE names are not tables).

    Example:
        >>> [str(t) for t in referenced_tables(
        ...     "WITH r AS (SELECT * FROM sales.orders) SELECT * FROM r JOIN customers c ON true")]
        ['customers', 'sales.orders']
    """
    return list(extract(sql).tables)


def extract(sql: str, columns_of: ColumnsOf | None = None) -> QueryShape:
    """Read the indexable conditions, join keys, orderings and columns of one statement.

    Args:
        sql: exactly one SELECT, INSERT ... SELECT, UPDATE or DELETE statement. ``$n``
            parameters are fine; psycopg ``%s`` placeholders must be converted first.
        columns_of: returns a table's column names; needed to attribute an unqualified
            column when several tables are in scope. Without it such columns are reported in
            ``unresolved``.

    Raises:
        AdviceError: the text does not parse or is not exactly one statement.
    """
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError as err:
        raise AdviceError(f"cannot parse the statement: {err}") from err
    except RecursionError:
        raise AdviceError("the statement is nested too deeply to parse") from None
    if len(statements) != 1:
        raise AdviceError(f"expected exactly one statement, got {len(statements)}")
    collector = _Collector(columns_of)
    collector.run(statements[0].stmt)
    return collector.shape(sql)


@dataclass
class _Scope:
    """The relations visible in one SELECT: alias → base table (None for derived relations)."""

    relations: dict[str, TableRef | None] = field(default_factory=dict)
    parent: _Scope | None = None
    targets: dict[str, ast.Node] = field(default_factory=dict)
    target_list: list[ast.Node] = field(default_factory=list)

    def chain(self) -> Iterator[_Scope]:
        scope: _Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent


class _Collector:
    """Walks one statement with an explicit work list of (node, scope) pairs."""

    def __init__(self, columns_of: ColumnsOf | None) -> None:
        self.columns_of = columns_of
        self.ctes: set[str] = set()
        self.tables: list[TableRef] = []
        self.predicates: list[Predicate] = []
        self.joins: list[JoinKey] = []
        self.orderings: list[Ordering] = []
        self.columns: dict[TableRef, set[str]] = {}
        self.star: set[TableRef] = set()
        self.params: set[int] = set()
        self.unresolved: set[str] = set()
        self.or_groups: list[tuple[ColumnRef, ...]] = []
        self._work: list[tuple[Any, _Scope | None]] = []

    def shape(self, sql: str) -> QueryShape:
        return QueryShape(
            sql=sql,
            tables=tuple(self.tables),
            predicates=tuple(dict.fromkeys(self.predicates)),
            joins=tuple(dict.fromkeys(self.joins)),
            orderings=tuple(self.orderings),
            columns={table: frozenset(names) for table, names in self.columns.items()},
            star=frozenset(self.star),
            params=frozenset(self.params),
            unresolved=frozenset(self.unresolved),
            or_groups=tuple(dict.fromkeys(self.or_groups)),
        )

    def run(self, root: Any) -> None:
        self._work.append((root, None))
        while self._work:
            node, scope = self._work.pop()
            if isinstance(node, _Deferred):
                self._join_clause(node.join, node.scope)
            else:
                self._statement(node, scope)

    def _join_clause(self, join: Any, scope: _Scope) -> None:
        """A JOIN's ON conditions, or USING columns as join keys between its two sides."""
        self._conditions(join.quals, scope)
        self._mentions(join.quals, scope)
        for name in join.usingClause or ():
            sides = [self._side_owner(side, name.sval, scope) for side in (join.larg, join.rarg)]
            left, right = sides
            if left is not None and right is not None and left != right:
                self.joins.append(JoinKey(ColumnRef(left, name.sval), ColumnRef(right, name.sval)))
            for table in sides:
                if table is not None:
                    self.columns.setdefault(table, set()).add(name.sval)

    def _side_owner(self, side: Any, column: str, scope: _Scope) -> TableRef | None:
        """The base table on one side of a JOIN ... USING that has ``column``."""
        tables: list[TableRef] = []
        stack = [side]
        while stack:
            item = stack.pop()
            if isinstance(item, ast.JoinExpr):
                stack.extend((item.rarg, item.larg))
            elif isinstance(item, ast.RangeVar):
                alias = item.alias.aliasname if item.alias is not None else item.relname
                table = scope.relations.get(alias)
                if table is not None:
                    tables.append(table)
        if len(tables) == 1:
            return tables[0]
        holders = [t for t in tables if column in _column_names(self, t)]
        return holders[0] if len(holders) == 1 else None

    def _statement(self, node: Any, parent: _Scope | None) -> None:
        if isinstance(node, ast.SelectStmt):
            self._select(node, parent)
        elif isinstance(node, ast.InsertStmt):
            self._with(node.withClause)
            self._add_table(node.relation)
            if node.selectStmt is not None:
                self._work.append((node.selectStmt, parent))
        elif isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
            self._with(node.withClause)
            scope = _Scope(parent=parent)
            self._from_item(node.relation, scope)
            extra = node.fromClause if isinstance(node, ast.UpdateStmt) else node.usingClause
            for item in extra or ():
                self._from_item(item, scope)
            self._conditions(node.whereClause, scope)
            self._mentions(node.whereClause, scope)
            if isinstance(node, ast.UpdateStmt):
                for target in node.targetList or ():
                    self._mentions(target.val, scope)
            # RETURNING: returningList before pglast 8, a ReturningClause node since.
            for name in ("returningList", "returningClause"):
                self._mentions(getattr(node, name, None), scope)
        # Other statement kinds carry no query to index.

    def _with(self, clause: Any) -> None:
        for cte in (clause.ctes if clause is not None else None) or ():
            self.ctes.add(cte.ctename)
            self._work.append((cte.ctequery, None))

    def _select(self, node: Any, parent: _Scope | None) -> None:
        self._with(node.withClause)
        if node.op != enums.SetOperation.SETOP_NONE:
            self._work.append((node.larg, parent))
            self._work.append((node.rarg, parent))
            return
        if node.valuesLists:
            return
        scope = _Scope(parent=parent)
        for item in node.fromClause or ():
            self._from_item(item, scope)
        targets = list(node.targetList or ())
        scope.target_list = [target.val for target in targets]
        scope.targets = {t.name: t.val for t in targets if t.name is not None}
        for target in targets:
            self._mentions(target.val, scope)
        self._conditions(node.whereClause, scope)
        for part in (node.whereClause, node.havingClause, node.limitCount, node.limitOffset):
            self._mentions(part, scope)
        limit = _limit(node.limitCount)
        if node.sortClause:
            exprs = [self._output_target(i.node, scope, order_by=True) for i in node.sortClause]
            keys = [
                self._sort_key(e, scope, i) for e, i in zip(exprs, node.sortClause, strict=True)
            ]
            self._mentions(exprs, scope)
            resolved = tuple(k for k in keys if k is not None)
            if len(resolved) == len(keys):
                self.orderings.append(Ordering(keys=resolved, limit=limit))
        if node.groupClause:
            groups = [self._output_target(i, scope, order_by=False) for i in node.groupClause]
            group_keys = [self._sort_key(e, scope, None) for e in groups]
            self._mentions(groups, scope)
            resolved = tuple(k for k in group_keys if k is not None)
            if len(resolved) == len(group_keys):
                self.orderings.append(Ordering(keys=resolved, limit=limit, grouping=True))

    def _from_item(self, item: Any, scope: _Scope) -> None:
        """Register FROM items iteratively (joins nest on their left side)."""
        stack = [item]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.RangeVar):
                table = self._add_table(current)
                alias = current.alias.aliasname if current.alias is not None else current.relname
                scope.relations[alias] = table
            elif isinstance(current, ast.JoinExpr):
                stack.append(current.rarg)
                stack.append(current.larg)
                # ON conditions are read once both sides are registered (below, deferred).
                self._work.append((_Deferred(current, scope), None))
            elif isinstance(current, ast.RangeSubselect):
                if current.alias is not None:
                    scope.relations[current.alias.aliasname] = None
                self._work.append((current.subquery, scope if current.lateral else scope.parent))
            elif isinstance(current, ast.RangeFunction):
                if current.alias is not None:
                    scope.relations[current.alias.aliasname] = None
                self._mentions(current.functions, scope)

    def _add_table(self, var: Any) -> TableRef | None:
        if var.schemaname is None and var.relname in self.ctes:
            return None
        table = TableRef(var.schemaname, var.relname)
        if table not in self.tables:
            self.tables.append(table)
        return table

    def _resolve(self, ref: Any, scope: _Scope) -> ColumnRef | None:
        """The base-table column a ColumnRef means, or None (derived relation, unknown)."""
        names = [f.sval for f in ref.fields if isinstance(f, ast.String)]
        if any(isinstance(f, ast.A_Star) for f in ref.fields) or not names:
            return None
        column = names[-1]
        qualifier = names[-2] if len(names) >= 2 else None
        for current in scope.chain():
            if qualifier is not None:
                match = _by_qualifier(current, qualifier, names[-3] if len(names) >= 3 else None)
                if match is not _MISSING:
                    return ColumnRef(match, column) if match is not None else None
                continue
            owners = self._owners(current, column)
            if owners is None:
                continue
            return ColumnRef(owners, column) if isinstance(owners, TableRef) else None
        if qualifier is None:
            self.unresolved.add(column)
        return None

    def _owners(self, scope: _Scope, column: str) -> TableRef | bool | None:
        """The table in ``scope`` having ``column``; False: ambiguous or derived; None: none."""
        relations = list(scope.relations.values())
        if not relations:
            return None
        if len(relations) == 1:
            only = relations[0]
            if only is None:
                return False
            known = self.columns_of(only) if self.columns_of is not None else None
            # With the catalog, a column the table lacks belongs to an outer query.
            return None if known is not None and column not in known else only
        if self.columns_of is None:
            self.unresolved.add(column)
            return False
        holders = []
        for table in relations:
            if table is None:
                continue
            known = self.columns_of(table)
            if known is not None and column in known:
                holders.append(table)
        if len(holders) == 1:
            return holders[0]
        return False if holders else None

    def _mentions(self, node: Any, scope: _Scope) -> None:
        """Record every column mentioned under ``node``; queue the subqueries found there."""
        stack = [node]
        while stack:
            item = stack.pop()
            if item is None:
                continue
            if isinstance(item, tuple | list):
                stack.extend(item)
            elif isinstance(item, ast.SubLink):
                self._mentions(item.testexpr, scope)
                self._work.append((item.subselect, scope))
            elif isinstance(item, ast.ColumnRef):
                self._mention(item, scope)
            elif isinstance(item, ast.ParamRef):
                self.params.add(item.number)
            elif isinstance(item, ast.Node):
                stack.extend(getattr(item, member) for member in item)

    def _mention(self, ref: Any, scope: _Scope) -> None:
        fields = ref.fields
        if isinstance(fields[-1], ast.A_Star):
            qualifier = fields[-2].sval if len(fields) >= 2 else None
            for current in scope.chain():
                if qualifier is None:
                    self.star.update(t for t in current.relations.values() if t is not None)
                    return
                match = _by_qualifier(current, qualifier, None)
                if match is not _MISSING:
                    if match is not None:
                        self.star.add(match)
                    return
            return
        resolved = self._resolve(ref, scope)
        if resolved is not None:
            self.columns.setdefault(resolved.table, set()).add(resolved.column)
        elif len(fields) == 1:
            # A bare relation name used as a whole-row value (SELECT o FROM orders o).
            name = fields[0].sval
            for current in scope.chain():
                if name in current.relations:
                    table = current.relations[name]
                    if table is not None and name not in _column_names(self, table):
                        self.star.add(table)
                    return

    def _conditions(self, node: Any, scope: _Scope) -> None:
        """Read the top-level AND-ed conditions of a WHERE or ON clause."""
        stack = [node]
        while stack:
            item = stack.pop()
            if item is None:
                continue
            if isinstance(item, ast.BoolExpr):
                if item.boolop == enums.BoolExprType.AND_EXPR:
                    stack.extend(reversed(item.args))
                elif item.boolop == enums.BoolExprType.OR_EXPR:
                    self._or_as_in(item, scope)
                continue
            self._condition(item, scope)

    def _condition(self, item: Any, scope: _Scope) -> None:
        if isinstance(item, ast.ColumnRef):  # WHERE active
            ref = self._resolve(item, scope)
            if ref is not None:
                self._add(ref, PredicateKind.EQ, "=", (Value("true", "true"),), None)
            return
        if isinstance(item, ast.NullTest):
            if isinstance(item.arg, ast.ColumnRef):
                ref = self._resolve(item.arg, scope)
                if ref is not None:
                    null = item.nulltesttype == enums.NullTestType.IS_NULL
                    kind = PredicateKind.IS_NULL if null else PredicateKind.IS_NOT_NULL
                    self._add(ref, kind, "IS NULL" if null else "IS NOT NULL", (), item)
            return
        if isinstance(item, ast.A_Expr):
            self._expression(item, scope)

    def _expression(self, item: Any, scope: _Scope) -> None:
        kind = item.kind
        op = item.name[-1].sval if item.name else ""
        left, right = item.lexpr, item.rexpr
        if kind == enums.A_Expr_Kind.AEXPR_OP and op == "@@":
            self._full_text(item, scope)
            return
        flippable = kind == enums.A_Expr_Kind.AEXPR_OP and op in _FLIPPED
        if not isinstance(left, ast.ColumnRef) and isinstance(right, ast.ColumnRef) and flippable:
            left, right, op = right, left, _FLIPPED[op]
        expression: str | None = None
        if isinstance(left, ast.ColumnRef):
            ref = self._resolve(left, scope)
        else:
            # An expression of one column (lower(email) = ...), on either side of the operator.
            found = self._one_column_expression(left, scope)
            if found is None and flippable:
                found = self._one_column_expression(right, scope)
                if found is not None:
                    left, right, op = right, left, _FLIPPED[op]
            ref, expression = found if found is not None else (None, None)
        if ref is None:
            return
        if kind == enums.A_Expr_Kind.AEXPR_OP:
            if isinstance(right, ast.ColumnRef):
                other = self._resolve(right, scope)
                joinable = expression is None and other is not None and other.table != ref.table
                if op == "=" and joinable:
                    self.joins.append(JoinKey(ref, other))
                return
            value = _value(right, self)
            if value is None:
                return
            if op == "=":
                self._add(ref, PredicateKind.EQ, op, (value,), item, expression)
            elif op in _RANGE_OPS:
                self._add(ref, PredicateKind.RANGE, op, (value,), item, expression)
            elif expression is not None:
                return  # GIN on an expression (trigram, jsonb) is not proposed
            elif op in _JSONB_OPS:
                self._add(ref, PredicateKind.JSONB, op, (value,), item)
            elif op in _PATTERN_OPS:
                self._add(ref, PredicateKind.PATTERN, op, (value,), item)
        elif kind == enums.A_Expr_Kind.AEXPR_IN and op == "=":
            values = [_value(v, self) for v in right]
            if values and all(v is not None for v in values):
                self._add(ref, PredicateKind.EQ, "IN", tuple(values), item, expression)
        elif kind == enums.A_Expr_Kind.AEXPR_OP_ANY and op == "=":
            value = _value(right, self)
            if value is not None:
                self._add(ref, PredicateKind.EQ, "= ANY", (value,), item, expression)
        elif kind in (enums.A_Expr_Kind.AEXPR_BETWEEN, enums.A_Expr_Kind.AEXPR_BETWEEN_SYM):
            values = [_value(v, self) for v in right]
            if all(v is not None for v in values):
                self._add(ref, PredicateKind.RANGE, "BETWEEN", tuple(values), item, expression)
        elif kind in (enums.A_Expr_Kind.AEXPR_LIKE, enums.A_Expr_Kind.AEXPR_ILIKE):
            value = _value(right, self)
            if value is None or op.startswith("!"):
                return
            ilike = kind == enums.A_Expr_Kind.AEXPR_ILIKE
            prefix = value.text is not None and _fixed_prefix(value.text)
            if not ilike and prefix:
                self._add(ref, PredicateKind.LIKE_PREFIX, "LIKE", (value,), item, expression)
            elif expression is None and (value.text is not None or value.param is not None):
                name = "ILIKE" if ilike else "LIKE"
                self._add(ref, PredicateKind.PATTERN, name, (value,), item)

    def _one_column_expression(self, node: Any, scope: _Scope) -> tuple[ColumnRef, str] | None:
        """``(column, expression text)`` when ``node`` is an indexable expression of one column.

        Accepted: function calls (not aggregates or window calls), casts, and JSON field access
        (``->>``, ``->``, ``#>>``, ``#>``), nested freely, over constants and exactly one column
        of one base table. Arithmetic, CASE, subqueries and parameters are not: an index on
        ``total * 2`` is rarely what an expert writes (the condition is rewritten instead), and
        a ``$n`` inside the expression changes it per execution. Whether the functions are
        IMMUTABLE (an index expression must be) is left to the server: HypoPG applies the same
        check as CREATE INDEX, so a stable ``date_trunc('day', timestamptz)`` is rejected
        while validating, with the reason kept.

        The text is deparsed from the parse tree with the column unqualified, so the index
        repeats the expression the statement compares, which is what the planner matches.
        """
        if not isinstance(node, ast.FuncCall | ast.TypeCast | ast.A_Expr):
            return None
        refs: set[ColumnRef] = set()
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, ast.ColumnRef):
                ref = self._resolve(item, scope)
                if ref is None:
                    return None
                refs.add(ref)
            elif isinstance(item, ast.A_Const | ast.TypeName):
                continue
            elif isinstance(item, ast.FuncCall):
                aggregate = item.agg_star or item.agg_distinct or item.agg_within_group
                if aggregate or item.over is not None or item.agg_filter is not None:
                    return None
                if item.agg_order:
                    return None
                stack.extend(item.args or ())
            elif isinstance(item, ast.TypeCast):
                stack.append(item.arg)
            elif (
                isinstance(item, ast.A_Expr)
                and item.kind == enums.A_Expr_Kind.AEXPR_OP
                and item.name[-1].sval in _FIELD_OPS
            ):
                stack.extend((item.lexpr, item.rexpr))
            else:
                return None
        if len(refs) != 1:
            return None
        return refs.pop(), str(RawStream()(_unqualified(node)))

    def _or_as_in(self, item: Any, scope: _Scope) -> None:
        """``a = 1 OR a = 2`` is ``a IN (1, 2)``; other ORs are not indexed by one B-tree."""
        refs: set[ColumnRef] = set()
        values: list[Value] = []
        for arg in item.args:
            if not (
                isinstance(arg, ast.A_Expr)
                and arg.kind == enums.A_Expr_Kind.AEXPR_OP
                and arg.name[-1].sval == "="
                and isinstance(arg.lexpr, ast.ColumnRef)
            ):
                return
            ref = self._resolve(arg.lexpr, scope)
            value = _value(arg.rexpr, self)
            if ref is None or value is None:
                return
            refs.add(ref)
            values.append(value)
        if len(refs) == 1:
            self._add(refs.pop(), PredicateKind.EQ, "OR", tuple(values), item)
        elif len({ref.table for ref in refs}) == 1:
            # a = 1 OR b = 2: one B-tree per column, combined by a BitmapOr.
            self.or_groups.append(tuple(sorted(refs)))

    def _full_text(self, item: Any, scope: _Scope) -> None:
        for side in (item.lexpr, item.rexpr):
            if isinstance(side, ast.FuncCall) and side.funcname[-1].sval == "to_tsvector":
                refs = [a for a in side.args or () if isinstance(a, ast.ColumnRef)]
                resolved = [self._resolve(ref, scope) for ref in refs]
                if resolved and resolved[0] is not None:
                    expression = RawStream()(_unqualified(side))
                    self._add(resolved[0], PredicateKind.FULL_TEXT, "@@", (), item, expression)
                return

    def _add(
        self,
        ref: ColumnRef,
        kind: PredicateKind,
        operator: str,
        values: tuple[Value, ...],
        node: Any,
        expression: str | None = None,
    ) -> None:
        # A bare boolean column is its own condition; anything else is deparsed unqualified.
        sql = _quote_ident(ref.column) if node is None else _condition_sql(node)
        self.predicates.append(
            Predicate(ref.table, ref.column, kind, operator, values, sql, expression)
        )

    def _output_target(self, expr: Any, scope: _Scope, *, order_by: bool) -> Any:
        """Follow an ORDER BY/GROUP BY position or output name to the select-list expression.

        PostgreSQL resolves a bare name in ORDER BY to an output column first, and in GROUP BY
        to an input column first (SQL92 versus SQL99 rules); positions always mean outputs.
        """
        if isinstance(expr, ast.A_Const) and isinstance(expr.val, ast.Integer):
            position = expr.val.ival - 1
            if 0 <= position < len(scope.target_list):
                return scope.target_list[position]
            return None
        if (
            isinstance(expr, ast.ColumnRef)
            and len(expr.fields) == 1
            and isinstance(expr.fields[0], ast.String)
            and expr.fields[0].sval in scope.targets
        ):
            name = expr.fields[0].sval
            if order_by or not self._is_input_column(name, scope):
                return scope.targets[name]
        return expr

    def _is_input_column(self, name: str, scope: _Scope) -> bool:
        tables = [t for t in scope.relations.values() if t is not None]
        if self.columns_of is None:
            return False
        return any(name in (self.columns_of(t) or ()) for t in tables)

    def _sort_key(self, expr: Any, scope: _Scope, item: Any) -> SortKey | None:
        """A plain-column sort key (``expr`` already followed to the select list)."""
        if not isinstance(expr, ast.ColumnRef):
            return None
        ref = self._resolve(expr, scope)
        if ref is None:
            return None
        descending = False
        nulls_first = None
        if item is not None:
            descending = item.sortby_dir == enums.SortByDir.SORTBY_DESC
            if item.sortby_nulls == enums.SortByNulls.SORTBY_NULLS_FIRST:
                nulls_first = True
            elif item.sortby_nulls == enums.SortByNulls.SORTBY_NULLS_LAST:
                nulls_first = False
        return SortKey(ref.table, ref.column, descending, nulls_first)


@dataclass(frozen=True)
class _Deferred:
    """A JOIN's ON/USING clause, read after every relation of the FROM list is registered."""

    join: Any
    scope: _Scope


_MISSING = object()


def _by_qualifier(scope: _Scope, qualifier: str, schema: str | None) -> Any:
    """The relation ``qualifier`` names in ``scope``: a TableRef, None (derived) or _MISSING."""
    if qualifier in scope.relations:
        table = scope.relations[qualifier]
        if schema is None or table is None or table.schema in (None, schema):
            return table
    for table in scope.relations.values():
        if table is not None and table.name == qualifier and schema in (None, table.schema):
            return table
    return _MISSING


def _column_names(collector: _Collector, table: TableRef) -> Collection[str]:
    if collector.columns_of is None:
        return ()
    return collector.columns_of(table) or ()


def _limit(node: Any) -> int | None:
    if node is None:
        return None
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return None  # LIMIT NULL / LIMIT ALL
        if isinstance(node.val, ast.Integer):
            return node.val.ival
    return -1


def _value(node: Any, collector: _Collector) -> Value | None:
    """A comparable right-hand side: constant, parameter, or an expression free of columns."""
    if isinstance(node, ast.ParamRef):
        collector.params.add(node.number)
        return Value(param=node.number)
    if isinstance(node, ast.TypeCast) and isinstance(node.arg, ast.ParamRef):
        collector.params.add(node.arg.number)
        return Value(param=node.arg.number)
    constant = node.arg if isinstance(node, ast.TypeCast) else node
    if isinstance(constant, ast.A_Const) and not constant.isnull:
        val = constant.val
        if isinstance(val, ast.String):
            text = val.sval
        elif isinstance(val, ast.Integer):
            text = str(val.ival)
        elif isinstance(val, ast.Float):
            text = val.fval
        elif isinstance(val, ast.Boolean):
            text = "true" if val.boolval else "false"
        else:
            return None
        return Value(literal=RawStream()(node), text=text)
    if _has_column(node):
        return None
    if isinstance(node, ast.Node):
        return Value(literal=RawStream()(node))
    return None


def _has_column(node: Any) -> bool:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.ColumnRef | ast.SubLink):
            return True
        if isinstance(item, tuple | list):
            stack.extend(item)
        elif isinstance(item, ast.Node):
            stack.extend(getattr(item, member) for member in item)
    return False


def _fixed_prefix(pattern: str) -> bool:
    """A LIKE pattern whose first character is literal (a B-tree can range-scan the prefix)."""
    return bool(pattern) and pattern[0] not in "%_"


def _unqualified(node: Any) -> Any:
    """A copy of ``node`` with every column reference reduced to its bare column name."""
    copied = copy.deepcopy(node)
    stack = [copied]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.ColumnRef):
            item.fields = item.fields[-1:]
        elif isinstance(item, tuple | list):
            stack.extend(item)
        elif isinstance(item, ast.Node):
            stack.extend(getattr(item, member) for member in item)
    return copied


def _condition_sql(node: Any) -> str:
    """The condition as SQL with the column unqualified (a partial index's WHERE clause)."""
    return str(RawStream()(_unqualified(node)))


def _quote_ident(name: str) -> str:
    """Deparse a bare column name the way PostgreSQL would need it written."""
    return str(RawStream()(ast.ColumnRef(fields=(ast.String(sval=name),))))
