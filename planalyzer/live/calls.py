"""What a statement calls and which tables it writes, read from its pglast parse tree.

EXPLAIN ANALYZE executes the statement, so before running it `planalyzer.live.side_effects`
needs every function it calls and every table it writes (whose column defaults and triggers run
too). This module only reads the parse tree: names are not resolved here (that needs the
catalog), so ``setval`` and ``pg_catalog.setval`` are both reported as written.

Example:
    >>> found = parse_calls("INSERT INTO shop.orders (id) VALUES (nextval('orders_id_seq'))")
    >>> [(call.name, call.args) for call in found.calls]
    [(('nextval',), ('orders_id_seq',))]
    >>> [(t.schema, t.table, sorted(t.events)) for t in found.targets]
    [('shop', 'orders', ['INSERT'])]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import pglast
from pglast import ast, enums

__all__ = [
    "NOT_CONSTANT",
    "Call",
    "StatementCalls",
    "WriteTarget",
    "find_calls",
    "parse_calls",
    "parse_plpgsql_calls",
    "walk",
]


class _NotConstant:
    """The type of `NOT_CONSTANT`."""

    def __repr__(self) -> str:
        return "NOT_CONSTANT"


NOT_CONSTANT: Final = _NotConstant()
"""Stands for an argument whose value is only known when the statement runs."""

_MERGE_EVENTS = {
    enums.CmdType.CMD_INSERT: "INSERT",
    enums.CmdType.CMD_UPDATE: "UPDATE",
    enums.CmdType.CMD_DELETE: "DELETE",
}


@dataclass(frozen=True)
class Call:
    """One function call as written.

    Attributes:
        name: the name parts as written, lower-cased by the parser unless quoted:
            ``("setval",)`` or ``("pg_catalog", "setval")``.
        args: each positional argument's constant value (str, int, bool, None for NULL, a
            float as its text), or `NOT_CONSTANT`.
        variadic: the call passes an array with ``VARIADIC``.
    """

    name: tuple[str, ...]
    args: tuple[object, ...]
    variadic: bool = False

    @property
    def written(self) -> str:
        """The name as the statement wrote it, dotted."""
        return ".".join(self.name)


@dataclass(frozen=True)
class WriteTarget:
    """A table the statement inserts into, updates or deletes from.

    Attributes:
        schema: the schema as written, or None for a name found through ``search_path``.
        table: the table (or view) name.
        events: the trigger events the statement can fire on it: ``INSERT``, ``UPDATE``,
            ``DELETE`` (an ``INSERT ... ON CONFLICT DO UPDATE`` may fire both).
        set_default: an UPDATE sets a column to ``DEFAULT``, so column defaults run.
    """

    schema: str | None
    table: str
    events: frozenset[str]
    set_default: bool = False

    @property
    def inserts(self) -> bool:
        """True when rows may be inserted, so column defaults and identity columns run."""
        return "INSERT" in self.events

    @property
    def written(self) -> str:
        """The table name as the statement wrote it."""
        return f"{self.schema}.{self.table}" if self.schema else self.table


@dataclass(frozen=True)
class StatementCalls:
    """Everything `find_calls` found in one or more statements.

    Attributes:
        calls: function calls, in the order written, without repeats.
        targets: written tables, one entry per table with the events merged.
        copies: ``COPY`` statements that read or write a server file or run a program (only
            possible inside a function body: a top-level COPY is never explained).
        relations: every relation named, as ``(schema or None, name)``: a view among them
            runs its own query, so its functions count too.
    """

    calls: tuple[Call, ...] = ()
    targets: tuple[WriteTarget, ...] = ()
    copies: tuple[str, ...] = ()
    relations: tuple[tuple[str | None, str], ...] = ()


def walk(root: Any) -> list[ast.Node]:
    """Every node under ``root`` in pre-order, found iteratively so deep trees cannot overflow."""
    found: list[ast.Node] = []
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        elif isinstance(item, ast.Node):
            found.append(item)
            stack.extend(reversed([getattr(item, member) for member in item]))
    return found


def find_calls(roots: Iterable[ast.Node]) -> StatementCalls:
    """The function calls, written tables and file COPYs under the given statement nodes."""
    calls: dict[Call, None] = {}
    targets: dict[tuple[str | None, str], WriteTarget] = {}
    copies: list[str] = []
    relations: dict[tuple[str | None, str], None] = {}
    for root in roots:
        for node in walk(root):
            if isinstance(node, ast.FuncCall):
                calls.setdefault(_call(node))
            elif isinstance(node, ast.RangeVar):
                if node.relname is not None:
                    relations.setdefault((node.schemaname, node.relname))
            elif isinstance(node, ast.CopyStmt):
                if node.filename is not None or node.is_program:
                    copies.append(_describe_copy(node))
            else:
                target = _target(node)
                if target is not None:
                    key = (target.schema, target.table)
                    if key in targets:
                        target = _merge(targets[key], target)
                    targets[key] = target
    return StatementCalls(tuple(calls), tuple(targets.values()), tuple(copies), tuple(relations))


def parse_calls(text: str) -> StatementCalls | None:
    """`find_calls` on SQL text (a function body: one or more statements); None if unparsable.

    Callers use this on text the server already accepted (a function body, a column default),
    so a parse failure means pglast cannot read it, and the caller falls back to reporting the
    function itself.
    """
    try:
        statements = pglast.parse_sql(text)
    except (pglast.parser.ParseError, RecursionError):
        return None
    return find_calls(raw.stmt for raw in statements if raw.stmt is not None)


def parse_plpgsql_calls(definition: str) -> StatementCalls | None:
    """`find_calls` over the SQL inside a PL/pgSQL function; None if pglast cannot read it.

    ``definition`` is the whole ``CREATE FUNCTION`` text (``pg_get_functiondef``). Every SQL
    statement and expression of the body is read: ``PERFORM``, assignments, conditions,
    declarations' defaults, ``RETURN QUERY`` ... Text run by ``EXECUTE`` is only read when it
    is a constant string.

    Example:
        >>> found = parse_plpgsql_calls(
        ...     "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        ...     "PERFORM pg_advisory_lock(1); NEW.n := nextval('s'); RETURN NEW; END $$")
        >>> [call.written for call in found.calls]
        ['pg_advisory_lock', 'nextval']
    """
    try:
        tree = pglast.parse_plpgsql(definition)
    except (pglast.parser.ParseError, RecursionError, ValueError):
        return None
    texts: list[str] = []
    executed: list[str] = []  # the query expressions of EXECUTE
    stack: list[Any] = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            expr = item.get("PLpgSQL_expr")
            if isinstance(expr, dict) and isinstance(expr.get("query"), str):
                texts.append(_plpgsql_sql(expr["query"], expr.get("parseMode", 0)))
            dynamic = item.get("PLpgSQL_stmt_dynexecute")
            if isinstance(dynamic, dict):
                query = dynamic.get("query", {}).get("PLpgSQL_expr", {}).get("query")
                if isinstance(query, str):
                    executed.append(query)
            stack.extend(reversed(list(item.values())))
    parts = [find_calls(_statements(text)) for text in texts]
    for query in executed:
        constant = _string_constant(query)
        found = parse_calls(constant) if constant is not None else None
        if found is not None:
            parts.append(found)
    return _combine(parts)


def _statements(text: str) -> list[ast.Node]:
    """The statements of ``text``; none when pglast cannot read it (the rest still count)."""
    try:
        return [raw.stmt for raw in pglast.parse_sql(text) if raw.stmt is not None]
    except (pglast.parser.ParseError, RecursionError):
        return []


def _string_constant(expression: str) -> str | None:
    """The value of an expression that is a single string literal, else None."""
    statements = _statements(f"SELECT {expression}")
    root = statements[0] if len(statements) == 1 else None
    if not isinstance(root, ast.SelectStmt) or not root.targetList or len(root.targetList) != 1:
        return None
    value = root.targetList[0].val
    if isinstance(value, ast.A_Const) and isinstance(value.val, ast.String):
        return str(value.val.sval)
    return None


def _plpgsql_sql(query: str, mode: int) -> str:
    """A PL/pgSQL expression's text as a statement pglast can parse.

    Modes follow PostgreSQL's RawParseMode: 0 a whole statement, 1 a type name, 2 an
    expression, 3-5 an assignment ``target := expression``.
    """
    if mode in (3, 4, 5):
        _, sep, value = query.partition(":=")
        if not sep:
            _, _, value = query.partition("=")
        return f"SELECT {value}"
    if mode == 0:
        return query
    return f"SELECT {query}"


def _combine(parts: list[StatementCalls]) -> StatementCalls:
    calls = tuple(dict.fromkeys(c for p in parts for c in p.calls))
    targets = tuple(t for p in parts for t in p.targets)
    copies = tuple(c for p in parts for c in p.copies)
    relations = tuple(dict.fromkeys(r for p in parts for r in p.relations))
    return StatementCalls(calls, targets, copies, relations)


def _call(node: ast.FuncCall) -> Call:
    names = tuple(str(part.sval) for part in node.funcname or () if isinstance(part, ast.String))
    args = tuple(_constant(arg) for arg in node.args or ())
    return Call(names, args, variadic=bool(node.func_variadic))


def _constant(node: Any) -> object:
    """The value of a literal argument (through a cast), else `NOT_CONSTANT`."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.A_Const):
        return NOT_CONSTANT  # an expression, a parameter, or a named argument (order unknown)
    if node.isnull:
        return None
    value = node.val
    if isinstance(value, ast.String):
        return value.sval
    if isinstance(value, ast.Integer):
        return value.ival
    if isinstance(value, ast.Boolean):
        return value.boolval
    if isinstance(value, ast.Float):
        return value.fval
    return NOT_CONSTANT


def _target(node: ast.Node) -> WriteTarget | None:
    """The table a data-changing statement node writes, with the events it can fire."""
    if isinstance(node, ast.InsertStmt):
        events = {"INSERT"}
        conflict = node.onConflictClause
        if conflict is not None and conflict.action == enums.OnConflictAction.ONCONFLICT_UPDATE:
            events.add("UPDATE")
        return _relation_target(node.relation, events, set_default=False)
    if isinstance(node, ast.UpdateStmt):
        return _relation_target(
            node.relation, {"UPDATE"}, set_default=_sets_default(node.targetList)
        )
    if isinstance(node, ast.DeleteStmt):
        return _relation_target(node.relation, {"DELETE"}, set_default=False)
    if isinstance(node, ast.MergeStmt):
        clauses = node.mergeWhenClauses or ()
        events = {_MERGE_EVENTS[c.commandType] for c in clauses if c.commandType in _MERGE_EVENTS}
        set_default = any(_sets_default(c.targetList) for c in clauses)
        return _relation_target(node.relation, events, set_default=set_default)
    return None


def _relation_target(
    relation: ast.RangeVar | None, events: set[str], *, set_default: bool
) -> WriteTarget | None:
    if relation is None or relation.relname is None:
        return None
    return WriteTarget(relation.schemaname, relation.relname, frozenset(events), set_default)


def _sets_default(target_list: Any) -> bool:
    return any(isinstance(node, ast.SetToDefault) for node in walk(target_list or ()))


def _merge(first: WriteTarget, second: WriteTarget) -> WriteTarget:
    return WriteTarget(
        first.schema,
        first.table,
        first.events | second.events,
        first.set_default or second.set_default,
    )


def _describe_copy(node: ast.CopyStmt) -> str:
    direction = "FROM" if node.is_from else "TO"
    where = "PROGRAM" if node.is_program else "a server file"
    return f"COPY {direction} {where}"
