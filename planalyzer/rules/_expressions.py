"""Read the conditions EXPLAIN prints (Filter, Index Cond, Join Filter ...) with pglast.

EXPLAIN deparses each condition as an SQL expression (``((city = 'Paris'::text) AND (country =
'FR'::text))``), so the rules parse it as the WHERE clause of a dummy statement and walk the AST
instead of matching text. What they need from it is which columns are compared with what:

- a column compared with a constant or a parameter (``customer_id = 4242``, ``created_at >=
  $1``) is a candidate index column; equality (``=``, ``IN``, ``= ANY``, ``IS NULL``, a bare
  boolean column) goes before range (``<``, ``>=``, ``BETWEEN``) in a b-tree;
- a column compared with a column of another relation (``id = o.customer_id``) is a join key;
- anything else (``<>``, ``LIKE``, arithmetic on two columns, a correlated SubPlan) cannot be
  served by a plain b-tree and is kept as ``kind="other"``.

Conditions pglast cannot parse yield no comparisons: the rules then say less, never fail.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType
from pglast.keywords import (
    COL_NAME_KEYWORDS,
    RESERVED_KEYWORDS,
    TYPE_FUNC_NAME_KEYWORDS,
)
from pglast.stream import RawStream

if TYPE_CHECKING:
    from planalyzer.plan.model import PlanNode

__all__ = [
    "Column",
    "Comparison",
    "comparisons",
    "create_index_sql",
    "index_columns",
    "node_comparisons",
    "quote_ident",
    "quote_relation",
    "show_condition",
]

Kind = Literal["equality", "range", "other"]

# Placeholders EXPLAIN prints for subqueries are not SQL: ``(SubPlan 1)``, ``(hashed SubPlan 2)``,
# ``(InitPlan 1).col1``, ``(alternatives: SubPlan 1 or hashed SubPlan 2)``. An InitPlan's value is
# fixed for the whole execution (an index can use it); a SubPlan's changes per outer row.
_SUBPLAN = re.compile(
    r"\((?:alternatives: [^()]*|(?:hashed )?SubPlan \d+)\)(?:\.col\d+)?", re.IGNORECASE
)
_INITPLAN = re.compile(r"\(InitPlan \d+\)(?:\.col\d+)?", re.IGNORECASE)
_SUBPLAN_FN = "__planalyzer_subplan"
_INITPLAN_FN = "__planalyzer_initplan"

_EQUALITY_OPS = frozenset({"="})
_RANGE_OPS = frozenset({"<", "<=", ">", ">="})
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_RELABEL_TYPES = frozenset({"text", "varchar", "bpchar", "name", "citext"})
_KEYWORDS = RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS
_PLAIN_IDENT = re.compile(r"[a-z_][a-z0-9_$]*")


@dataclass(frozen=True)
class Column:
    """A column reference as written in the condition: ``o.customer_id`` or ``customer_id``.

    ``expression`` is set instead of a plain name when the indexed side is an expression of one
    relation's columns (``lower(email)``): it is the deparsed text, usable in an expression index.
    """

    name: str
    qualifier: str | None = None
    expression: str | None = None

    def belongs_to(self, node: PlanNode) -> bool:
        """True when this column is (most likely) of the relation ``node`` scans.

        EXPLAIN leaves a scan's own columns unqualified unless VERBOSE, where it qualifies them
        with the alias; columns of other relations (outer references) are always qualified.
        """
        if self.qualifier is None:
            return True
        return self.qualifier in {node.alias, node.relation_name}

    @property
    def index_key(self) -> str:
        """How to write it in ``CREATE INDEX``: a quoted name or a parenthesised expression."""
        if self.expression is not None:
            return f"({self.expression})"
        return quote_ident(self.name)

    def __str__(self) -> str:
        if self.expression is not None:
            return self.expression
        return f"{self.qualifier}.{self.name}" if self.qualifier else self.name


@dataclass(frozen=True)
class Comparison:
    """One comparison in a condition, oriented with ``column`` on the left.

    Attributes:
        column: the compared column (or single-relation expression).
        operator: ``=``, ``<``, ``>=``, ``IN``, ``= ANY``, ``BETWEEN``, ``IS NULL``, ``~~`` ...
        kind: ``equality`` / ``range`` (what a b-tree can use) or ``other``.
        other: the column on the other side when it is a column reference (a join key), else None
            (a constant, a parameter, an InitPlan value: fixed while the node runs).
        in_or: True when the comparison sits under an OR (an index on it alone rarely helps).
        cast: the type the column was cast to before the comparison (``(id)::text``), or None.
            A cast to a text type may be a harmless relabel of a varchar column or a real
            conversion of another type; only the column's type (a catalog) tells them apart.
    """

    column: Column
    operator: str
    kind: Kind
    other: Column | None = None
    in_or: bool = False
    cast: str | None = None

    @property
    def against_constant(self) -> bool:
        """True when the other side is a constant, a parameter or an InitPlan value."""
        return self.other is None

    def flipped(self) -> Comparison | None:
        """The same comparison with the sides swapped (only for column = column), else None."""
        if self.other is None or self.column.expression is not None:
            return None
        return Comparison(
            column=self.other,
            operator=_FLIPPED.get(self.operator, self.operator),
            kind=self.kind,
            other=self.column,
            in_or=self.in_or,
        )


def parse_condition(text: str | None) -> Any:
    """The AST of a condition printed by EXPLAIN, or None when it cannot be parsed."""
    if not text or not text.strip():
        return None
    sql = _INITPLAN.sub(f"{_INITPLAN_FN}()", _SUBPLAN.sub(f"{_SUBPLAN_FN}()", text))
    try:
        statements = parse_sql(f"SELECT 1 WHERE {sql}")
    except Exception:  # pglast raises ParseError, but be safe on any odd text
        return None
    if len(statements) != 1:
        return None
    stmt = statements[0].stmt
    return getattr(stmt, "whereClause", None)


def comparisons(text: str | None) -> list[Comparison]:
    """Every comparison of a column in a condition, in the order written.

    Example:
        >>> [(str(c.column), c.operator, c.kind, c.against_constant)
        ...  for c in comparisons("((city = 'Paris'::text) AND (o.total > $1))")]
        [('city', '=', 'equality', True), ('o.total', '>', 'range', True)]
        >>> comparisons("(SubPlan 1)")
        []
    """
    return list(_comparisons(text))


@functools.lru_cache(maxsize=4096)
def _comparisons(text: str | None) -> tuple[Comparison, ...]:
    """`comparisons`, parsed once per condition text.

    EXPLAIN prints the same condition on every partition of an Append and rules read each
    condition several times; parsing with pglast is the costliest step of `analyze`, and its
    results are immutable (frozen dataclasses), so they are shared (benchmarks/README.md).
    """
    tree = parse_condition(text)
    if tree is None:
        return ()
    out: list[Comparison] = []
    # Iterative walk (conditions can be long AND/OR chains); each item: (node, under an OR).
    stack: list[tuple[Any, bool]] = [(tree, False)]
    while stack:
        expr, in_or = stack.pop()
        if isinstance(expr, ast.BoolExpr):
            if expr.boolop == BoolExprType.NOT_EXPR:
                col = _column(expr.args[0]) if expr.args else None
                if col is not None:  # NOT active: equality with false
                    out.append(Comparison(col, "= false", "equality", in_or=in_or))
                continue
            nested_or = in_or or expr.boolop == BoolExprType.OR_EXPR
            stack.extend((arg, nested_or) for arg in reversed(expr.args or ()))
            continue
        comparison = _comparison(expr, in_or=in_or)
        if comparison is not None:
            out.append(comparison)
    return tuple(out)


def node_comparisons(
    node: PlanNode, *fields: str, own_only: bool = True, source: PlanNode | None = None
) -> list[Comparison]:
    """Comparisons in some conditions, oriented so ``column`` is of the relation ``node`` scans.

    ``fields`` are PlanNode attribute names (``"filter"``, ``"index_cond"``, ``"join_filter"``
    ...) read from ``source`` (default: ``node`` itself; a join above it for its Join Filter).
    With ``own_only`` comparisons whose column belongs to another relation are dropped.
    """
    foreign = source is not None and source is not node

    def own(col: Column) -> bool:
        # In a join's condition EXPLAIN qualifies every column; an unqualified one is not ours.
        return col.belongs_to(node) and not (foreign and col.qualifier is None)

    out: list[Comparison] = []
    for name in fields:
        for comp in comparisons(getattr(source or node, name, None)):
            if not own(comp.column):
                flipped = comp.flipped()
                if flipped is not None and own(flipped.column):
                    comp = flipped
                elif own_only:
                    continue
            if comp.other is not None and own(comp.other):
                # a = b within one relation: no index on either column can answer it
                comp = Comparison(comp.column, comp.operator, "other", comp.other, comp.in_or)
            out.append(comp)
    return out


def index_columns(comps: list[Comparison], *, join_keys: bool = True) -> list[Column]:
    """The b-tree key for these comparisons: equality columns first, then range, no repeats.

    Equality columns lead because a b-tree can only use a range condition on the last column
    it descends on; comparisons under an OR or of kind ``other`` are left out. With
    ``join_keys`` a column compared with another relation's column counts as equality (a
    parameterised lookup); without it only constants count.

    Example:
        >>> comps = comparisons("((created_at > $1) AND (account_id = 42))")
        >>> [str(c) for c in index_columns(comps)]
        ['account_id', 'created_at']
    """
    usable = [
        c for c in comps if c.kind != "other" and not c.in_or and (join_keys or c.against_constant)
    ]
    ordered = [c.column for c in usable if c.kind == "equality"]
    ordered += [c.column for c in usable if c.kind == "range"]
    seen: set[str] = set()
    out: list[Column] = []
    for col in ordered:
        key = col.index_key
        if key not in seen:
            seen.add(key)
            out.append(col)
    return out


def quote_ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL's ``quote_ident`` does: only when needed.

    Example:
        >>> [quote_ident(n) for n in ("customer_id", "Order", "user", 'a"b')]
        ['customer_id', '"Order"', '"user"', '"a""b"']
    """
    if _PLAIN_IDENT.fullmatch(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_relation(node: PlanNode) -> str:
    """The relation ``node`` scans, schema-qualified when the plan says so, quoted as needed."""
    name = quote_ident(node.relation_name or "?")
    if node.schema_name:
        return f"{quote_ident(node.schema_name)}.{name}"
    return name


def create_index_sql(node: PlanNode, columns: list[Column]) -> str:
    """``CREATE INDEX ON <relation> (<columns>)`` for the relation ``node`` scans."""
    keys = ", ".join(c.index_key for c in columns)
    return f"CREATE INDEX ON {quote_relation(node)} ({keys})"


def show_condition(text: str | None) -> str:
    """A condition for a message: the outer parentheses EXPLAIN adds removed."""
    if not text:
        return ""
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    quoted = False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _comparison(expr: Any, *, in_or: bool) -> Comparison | None:
    """A `Comparison` for one leaf of a condition, or None when no column is compared."""
    if isinstance(expr, ast.NullTest):
        col = _key(expr.arg)
        if col is None:
            return None
        if expr.nulltesttype == NullTestType.IS_NULL:
            return Comparison(col, "IS NULL", "equality", in_or=in_or)
        return Comparison(col, "IS NOT NULL", "other", in_or=in_or)
    col = _column(expr)
    if col is not None:  # a bare boolean column: WHERE active
        return Comparison(col, "= true", "equality", in_or=in_or)
    if not isinstance(expr, ast.A_Expr):
        return None
    op = _operator(expr)
    if expr.kind == A_Expr_Kind.AEXPR_BETWEEN:
        col = _key(expr.lexpr)
        bounds = expr.rexpr if isinstance(expr.rexpr, tuple | list) else ()
        if col is None or not all(_is_constant(b) for b in bounds):
            return None
        return Comparison(col, "BETWEEN", "range", in_or=in_or)
    left, right = _key(expr.lexpr), _key(expr.rexpr)
    if expr.kind == A_Expr_Kind.AEXPR_IN:
        values = expr.rexpr if isinstance(expr.rexpr, tuple | list) else (expr.rexpr,)
        if left is None or not all(_is_constant(v) for v in values):
            return None
        kind: Kind = "equality" if op == "=" else "other"
        return Comparison(left, "IN" if op == "=" else "NOT IN", kind, in_or=in_or)
    if expr.kind == A_Expr_Kind.AEXPR_OP_ANY:
        if left is None or not _is_constant(expr.rexpr):
            return None
        return Comparison(left, f"{op} ANY", "equality" if op == "=" else "other", in_or=in_or)
    if expr.kind != A_Expr_Kind.AEXPR_OP:
        return None
    kind = "equality" if op in _EQUALITY_OPS else "range" if op in _RANGE_OPS else "other"
    if left is not None and right is not None:
        return Comparison(left, op, kind, other=right, in_or=in_or, cast=_cast(expr.lexpr))
    if left is not None and _is_constant(expr.rexpr):
        return Comparison(left, op, kind, in_or=in_or, cast=_cast(expr.lexpr))
    if right is not None and _is_constant(expr.lexpr):
        return Comparison(right, _FLIPPED.get(op, op), kind, in_or=in_or, cast=_cast(expr.rexpr))
    return None


def _cast(expr: Any) -> str | None:
    """The type a plain column is cast to (``(id)::text`` -> ``text``), else None."""
    if isinstance(expr, ast.TypeCast) and isinstance(expr.arg, ast.ColumnRef):
        return _type_name(expr)
    return None


def _operator(expr: ast.A_Expr) -> str:
    names = expr.name or ()
    last = names[-1] if names else None
    return str(getattr(last, "sval", "")) if last is not None else ""


def _column(expr: Any) -> Column | None:
    """The plain column ``expr`` is, casts removed (``(status)::text`` -> status); else None."""
    # EXPLAIN shows a varchar column compared with text as (status)::text: a relabel that an
    # index on the column still serves. Any other cast (int -> numeric) needs an expression index.
    while isinstance(expr, ast.TypeCast) and _type_name(expr) in _RELABEL_TYPES:
        expr = expr.arg
    if not isinstance(expr, ast.ColumnRef):
        return None
    names = [getattr(f, "sval", None) for f in expr.fields or ()]
    if not names or any(n is None for n in names):
        return None  # a * or something unusual
    return Column(name=str(names[-1]), qualifier=str(names[-2]) if len(names) > 1 else None)


def _type_name(cast: ast.TypeCast) -> str:
    names = getattr(cast.typeName, "names", None) or ()
    return str(getattr(names[-1], "sval", "")) if names else ""


def _key(expr: Any) -> Column | None:
    """A column, or an expression over one relation's columns (``lower(email)``); else None."""
    col = _column(expr)
    if col is not None:
        return col
    if not isinstance(expr, ast.FuncCall | ast.A_Expr | ast.CoalesceExpr | ast.TypeCast):
        return None
    refs = _column_refs(expr)
    qualifiers = {q for q, _ in refs}
    if not refs or len(qualifiers) != 1 or _has_subplan(expr):
        return None
    # An index expression names bare columns: drop the alias VERBOSE plans put in front.
    stack = [expr]
    while stack:
        item = stack.pop()
        fields = item.fields if isinstance(item, ast.ColumnRef) else None
        if fields is not None and len(fields) > 1:
            item.fields = fields[-1:]
        elif isinstance(item, ast.Node):
            stack.extend(_children(item))
        elif isinstance(item, tuple | list):
            stack.extend(item)
    try:
        text = RawStream()(expr)
    except Exception:  # pglast cannot print every node it parses; then no expression key
        return None
    return Column(name=text, qualifier=next(iter(qualifiers)), expression=text)


def _column_refs(expr: Any) -> list[tuple[str | None, str]]:
    """(qualifier, name) of every column reference inside ``expr``."""
    refs = []
    stack = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.ColumnRef):
            names = [str(getattr(f, "sval", "*")) for f in item.fields or ()]
            refs.append((names[-2] if len(names) > 1 else None, names[-1]))
        elif isinstance(item, ast.Node):
            stack.extend(_children(item))
        elif isinstance(item, tuple | list):
            stack.extend(item)
    return refs


def _children(item: ast.Node) -> list[Any]:
    """The attribute values of an AST node (iterating a pglast node yields its slot names)."""
    return [getattr(item, attr, None) for attr in item]


def _has_subplan(expr: Any) -> bool:
    stack = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.SubLink):
            return True
        if isinstance(item, ast.FuncCall):
            names = [getattr(n, "sval", "") for n in item.funcname or ()]
            if _SUBPLAN_FN in names:
                return True
        if isinstance(item, ast.Node):
            stack.extend(_children(item))
        elif isinstance(item, tuple | list):
            stack.extend(item)
    return False


def _is_constant(expr: Any) -> bool:
    """True for a literal, a parameter or an expression of them (no column, no SubPlan)."""
    if expr is None:
        return False
    if isinstance(expr, tuple | list):
        return all(_is_constant(e) for e in expr)
    return not _column_refs(expr) and not _has_subplan(expr)
