"""Find what EXPLAIN ANALYZE of a statement would run that its rollback does not undo.

`assess` starts from the statement's parse tree and follows everything that executes with it:
the functions it calls (resolved through the catalog like the server does: schema-qualified or
along ``search_path``, overloads matched by argument count), the queries of the views it reads,
and for each table it writes, the column defaults and identity sequences an INSERT uses, the
triggers the write fires (on the table and its partitions or child tables) and the writes its
foreign-key actions (``ON DELETE CASCADE``, ``SET NULL``, ``SET DEFAULT``) make elsewhere.
The bodies of user functions in SQL and PL/pgSQL (triggers included), view queries and
constant query texts given to ``query_to_xml`` and kin are parsed with pglast and followed
the same way, a few levels deep.

Each function found is classified by `planalyzer.live.function_classes`. The catalog is reached
through the small `SideEffectCatalog` protocol, so the logic is tested with a fake one; the live
implementation is `planalyzer.live.side_effect_catalog`.

Not followed (documented in docs/safety.md): C and other function bodies and SQL text built at
run time (``EXECUTE`` of a non-constant string) — their functions are listed as user code
instead —, operators and casts, CHECK constraints, row-level security policies, rules, and the base
table of a view written through.
Functions marked STABLE or IMMUTABLE are taken at their word.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from pglast import ast

from planalyzer.errors import UnsafeStatementError
from planalyzer.live.calls import (
    Call,
    StatementCalls,
    WriteTarget,
    find_calls,
    parse_calls,
    parse_plpgsql_calls,
)
from planalyzer.live.function_classes import (
    CORE_SCHEMAS,
    LIST_TRIGGER,
    LIST_USER_VOLATILE,
    SQL_TEXT_ARGUMENT,
    SQL_TEXT_UNKNOWN,
    FunctionClass,
    Treatment,
    known_class,
)

__all__ = [
    "Assessment",
    "FunctionInfo",
    "SequenceRef",
    "SideEffect",
    "SideEffectCatalog",
    "TableFacts",
    "TriggerInfo",
    "assess",
]

MAX_DEPTH = 4
"""How many levels of function bodies and views are followed (a function calling a function
calling a function ...). Deeper code is still classified by name, only not opened."""

_STATEMENT = "in the statement"
_READABLE = frozenset({"sql", "plpgsql"})  # languages whose bodies pglast can read

_NEXTVAL_UNKNOWN = FunctionClass(
    "sequence-advance",
    Treatment.WARN,
    "draws values from a sequence only known at run time; the rollback does not return them",
    frozenset(),
)


@dataclass(frozen=True)
class FunctionInfo:
    """One ``pg_proc`` row: what is needed to resolve a call and classify the function.

    Attributes:
        oid: its oid.
        schema: its schema.
        name: its name.
        volatility: ``provolatile``: ``i`` immutable, ``s`` stable, ``v`` volatile.
        language: ``sql``, ``plpgsql``, ``internal``, ``c`` ...
        extension: the extension that owns it, if any.
        nargs: number of declared input arguments.
        nargdefaults: how many of them have defaults.
        variadic: the last argument is VARIADIC.
    """

    oid: int
    schema: str
    name: str
    volatility: str = "v"
    language: str = "internal"
    extension: str | None = None
    nargs: int = 0
    nargdefaults: int = 0
    variadic: bool = False

    @property
    def qualified(self) -> str:
        """``schema.name``."""
        return f"{self.schema}.{self.name}"

    def accepts(self, call: Call) -> bool:
        """True when the call's argument count fits this function's signature."""
        count = len(call.args)
        if call.variadic:
            return self.variadic and count == self.nargs
        if self.variadic and count >= self.nargs - 1:
            return True
        return self.nargs - self.nargdefaults <= count <= self.nargs


@dataclass(frozen=True)
class SequenceRef:
    """A sequence to read before and after EXPLAIN ANALYZE.

    Attributes:
        oid: its oid.
        name: its schema-qualified name, for messages.
    """

    oid: int
    name: str


@dataclass(frozen=True)
class TriggerInfo:
    """A user trigger (not an internal foreign-key one) that is enabled.

    Attributes:
        name: the trigger's name.
        table: the table it is on, qualified.
        events: the events it fires on (``INSERT``, ``UPDATE``, ``DELETE``, ``TRUNCATE``).
        function: its trigger function.
    """

    name: str
    table: str
    events: frozenset[str]
    function: FunctionInfo


@dataclass(frozen=True)
class TableFacts:
    """What writing to a table runs besides the statement itself.

    Attributes:
        name: the table's qualified name.
        defaults: ``(column, default expression text)`` for every column with a default or a
            generation expression.
        sequences: sequences owned by its columns (identity columns, ``serial``).
        triggers: its enabled user triggers and those of its partitions and child tables.
        cascades: writes its foreign-key actions make on referencing tables, as ``(event on
            this table, write it causes)``: ``ON DELETE CASCADE`` gives ``("DELETE", a DELETE
            on the referencing table)``, ``SET NULL``/``SET DEFAULT`` an UPDATE.
    """

    name: str
    defaults: tuple[tuple[str, str], ...] = ()
    sequences: tuple[SequenceRef, ...] = ()
    triggers: tuple[TriggerInfo, ...] = ()
    cascades: tuple[tuple[str, WriteTarget], ...] = ()


class SideEffectCatalog(Protocol):
    """The catalog lookups `assess` needs (the live one queries pg_proc, pg_trigger ...)."""

    def search_path(self) -> tuple[str, ...]:
        """Schemas searched for an unqualified function name, in order (pg_catalog included)."""
        ...

    def functions(self, names: Collection[str]) -> list[FunctionInfo]:
        """Every function, in any schema, whose name is one of ``names``."""
        ...

    def function_bodies(self, oids: Collection[int]) -> dict[int, str]:
        """Body text of the SQL functions among ``oids``, whole definitions of PL/pgSQL ones."""
        ...

    def sequences(self, names: Collection[str]) -> dict[str, SequenceRef]:
        """The sequences named (as ``nextval`` would read the text), keyed by the text given."""
        ...

    def views(self, names: Collection[tuple[str | None, str]]) -> dict[str, str]:
        """Qualified name -> query text of the plain views among the relations named."""
        ...

    def table(self, target: WriteTarget) -> TableFacts | None:
        """Defaults, owned sequences and triggers of a written table; None if unknown."""
        ...


@dataclass(frozen=True)
class SideEffect:
    """A function that EXPLAIN ANALYZE would run, with its class.

    Attributes:
        function: the function, schema-qualified (or what the statement ran, such as
            ``COPY TO PROGRAM``).
        function_class: what it does and how it is treated.
        where: where it was found: ``in the statement``, ``in the default of t.id``,
            ``trigger audit on public.orders``, ``inside public.f()`` ...
    """

    function: str
    function_class: FunctionClass
    where: str

    @property
    def treatment(self) -> Treatment:
        """Refuse, warn or list."""
        return self.function_class.treatment

    @property
    def sentence(self) -> str:
        """``pg_catalog.setval (in the statement) sets a sequence's value, ...``."""
        return f"{self.function} ({self.where}) {self.function_class.reason}"


@dataclass(frozen=True)
class Assessment:
    """The outcome of `assess`.

    Attributes:
        effects: every function found that is refused, warned about or listed, in the order
            found, without repeats.
        sequences: sequences the statement may advance; read before and after running it.
    """

    effects: tuple[SideEffect, ...] = ()
    sequences: tuple[SequenceRef, ...] = ()

    @property
    def refused(self) -> tuple[SideEffect, ...]:
        """The effects that make EXPLAIN ANALYZE refuse the statement."""
        return tuple(e for e in self.effects if e.treatment is Treatment.REFUSE)

    def refusal(self, statement: str) -> UnsafeStatementError:
        """The error to raise when the statement is refused (names each function and why)."""
        refused = self.refused
        details = "; ".join(effect.sentence for effect in refused)
        return UnsafeStatementError(
            "refusing to run this statement under EXPLAIN ANALYZE, because a rollback would "
            f"not undo what it does: {details}. Pass allow_side_effects=True to run it anyway, "
            "or analyze=False for the estimated plan (nothing is executed)",
            statement=statement,
            functions=tuple(effect.function for effect in refused),
            reasons=tuple(effect.function_class.reason for effect in refused),
        )

    def warnings(self) -> list[str]:
        """One sentence per effect for ``plan.warnings`` (refused ones: when run anyway)."""
        lines = []
        for e in self.effects:
            ran = f"EXPLAIN ANALYZE ran {e.function} ({e.where})"
            if e.treatment is Treatment.REFUSE:
                lines.append(
                    f"allow_side_effects=True: {ran} although a rollback does not undo what it "
                    f"does: it {e.function_class.reason}"
                )
            else:
                lines.append(f"{ran}, which {e.function_class.reason}")
        return lines


@dataclass
class _Work:
    """One piece of SQL to look into: what it calls, where it came from, how deep it is."""

    found: StatementCalls
    where: str
    depth: int


@dataclass
class _Search:
    """The state of one `assess` run."""

    catalog: SideEffectCatalog
    _path: tuple[str, ...] | None = None
    effects: dict[tuple[str, str], SideEffect] = field(default_factory=dict)
    sequences: dict[int, SequenceRef] = field(default_factory=dict)
    seen_bodies: set[int] = field(default_factory=set)
    queued: dict[int, tuple[FunctionInfo, str, int]] = field(default_factory=dict)
    seen_views: set[str] = field(default_factory=set)
    seen_tables: set[tuple[str | None, str, frozenset[str], bool]] = field(default_factory=set)

    @property
    def path(self) -> tuple[str, ...]:
        """The search path, asked for once and only when a call needs resolving."""
        if self._path is None:
            self._path = self.catalog.search_path()
        return self._path

    def queue_body(self, info: FunctionInfo, where: str, depth: int) -> None:
        """Read a user function's body at the end of this level, if its language is readable."""
        if info.language in _READABLE and depth < MAX_DEPTH and info.oid not in self.seen_bodies:
            self.seen_bodies.add(info.oid)
            self.queued[info.oid] = (info, where, depth)

    def add(self, function: str, cls: FunctionClass, where: str) -> None:
        """Record an effect; a function found again elsewhere keeps the first place found."""
        self.effects.setdefault((function, cls.key), SideEffect(function, cls, where))


def assess(roots: Iterable[ast.Node], catalog: SideEffectCatalog) -> Assessment:
    """Find the side effects of running the statement(s) under ``roots``.

    Args:
        roots: pglast statement nodes (`planalyzer.live.classify.Statement.root`).
        catalog: where functions, views and tables are looked up.

    Returns:
        The functions found with their treatment, and the sequences to measure.
    """
    search = _Search(catalog)
    pending = [_Work(find_calls(roots), _STATEMENT, 0)]
    while pending:
        level, pending = pending, []
        pending.extend(_functions(search, level))
        pending.extend(_views(search, level))
        for work in level:
            for copy in work.found.copies:
                search.add(copy, _COPY_CLASS, work.where)
            for target in work.found.targets:
                pending.extend(_table(search, target, work.depth))
        pending.extend(_bodies(search))
    return Assessment(tuple(search.effects.values()), tuple(search.sequences.values()))


_COPY_CLASS = FunctionClass(
    "server-files",
    Treatment.REFUSE,
    "reads or writes a file on the database server or runs a program there, outside the "
    "transaction",
    frozenset(),
)


def _functions(search: _Search, level: list[_Work]) -> list[_Work]:
    """Resolve and classify the calls of one level; return the bodies and texts to open next."""
    names = {call.name[-1] for work in level for call in work.found.calls if call.name}
    if not names:
        return []
    by_name: dict[str, list[FunctionInfo]] = {}
    for info in search.catalog.functions(names):
        by_name.setdefault(info.name, []).append(info)
    follow: list[_Work] = []
    sequence_names: dict[str, str] = {}
    for work in level:
        for call in work.found.calls:
            for info in _resolve(call, by_name.get(call.name[-1], []), search.path):
                cls = known_class(info.schema, info.name, info.extension, call.args)
                if cls is not None and cls.key == "sequence-advance":
                    name = call.args[0] if call.args else None
                    if isinstance(name, str):
                        sequence_names.setdefault(name, work.where)
                    else:
                        search.add(info.qualified, _NEXTVAL_UNKNOWN, work.where)
                elif cls is not None:
                    search.add(info.qualified, cls, work.where)
                elif info.schema == "pg_catalog" and info.name in SQL_TEXT_ARGUMENT:
                    follow.extend(_sql_text(search, info, call, work))
                elif info.schema not in CORE_SCHEMAS:
                    if info.volatility == "v":
                        search.add(info.qualified, LIST_USER_VOLATILE, work.where)
                    search.queue_body(info, work.where, work.depth)
    if sequence_names:
        for ref in search.catalog.sequences(sequence_names).values():
            search.sequences.setdefault(ref.oid, ref)
    return follow


def _bodies(search: _Search) -> list[_Work]:
    """Open the function bodies queued at this level (SQL and PL/pgSQL), once each."""
    queued, search.queued = search.queued, {}
    if not queued:
        return []
    follow = []
    for oid, text in search.catalog.function_bodies(queued).items():
        info, caller, depth = queued[oid]
        found = parse_plpgsql_calls(text) if info.language == "plpgsql" else parse_calls(text)
        if found is not None:
            where = _inside(f"inside {info.qualified}()", caller)
            follow.append(_Work(found, where, depth + 1))
    return follow


def _inside(place: str, caller: str) -> str:
    """``inside public.f(), called in the default of public.t.v``: where, then how it got there."""
    if caller == _STATEMENT:
        return place
    return (
        f"{place}, run by {caller}"
        if caller.startswith("trigger ")
        else f"{place}, called {caller}"
    )


def _resolve(
    call: Call, candidates: list[FunctionInfo], path: tuple[str, ...]
) -> list[FunctionInfo]:
    """The functions a call may run: by schema, else along the search path; then by arity.

    When overloads in several schemas fit the argument count, all of them are kept: the
    server picks by argument types, which are not known here, so any of them may run.
    """
    if len(call.name) >= 2:
        visible = [c for c in candidates if c.schema == call.name[-2]]
    else:
        visible = [c for c in candidates if c.schema in path]
    fitting = [c for c in visible if c.accepts(call)]
    return fitting or visible


def _sql_text(search: _Search, info: FunctionInfo, call: Call, work: _Work) -> list[_Work]:
    """Follow the query text given to ``query_to_xml`` and kin, or warn when it is not constant."""
    position = SQL_TEXT_ARGUMENT[info.name]
    text = call.args[position] if len(call.args) > position else None
    if len(call.args) <= position or not isinstance(text, str):
        if info.name != "ts_rewrite" or len(call.args) == 2:  # ts_rewrite/3 takes no query
            search.add(info.qualified, SQL_TEXT_UNKNOWN, work.where)
        return []
    found = parse_calls(text)
    if found is None:
        return []
    where = _inside(f"in the query given to {info.qualified}", work.where)
    return [_Work(found, where, work.depth + 1)]


def _views(search: _Search, level: list[_Work]) -> list[_Work]:
    """The queries of the views read at this level, to be followed like function bodies."""
    names = {rel for work in level if work.depth < MAX_DEPTH for rel in work.found.relations}
    if not names:
        return []
    depth = min(work.depth for work in level)
    follow = []
    for name, text in search.catalog.views(names).items():
        if name in search.seen_views:
            continue
        search.seen_views.add(name)
        found = parse_calls(text)
        if found is not None:
            follow.append(_Work(found, f"in view {name}", depth + 1))
    return follow


def _table(search: _Search, target: WriteTarget, depth: int) -> list[_Work]:
    """Triggers, defaults, identity sequences and foreign-key cascades of one written table."""
    key = (target.schema, target.table, target.events, target.set_default)
    if key in search.seen_tables:
        return []
    search.seen_tables.add(key)
    facts = search.catalog.table(target)
    if facts is None:
        return []
    follow = []
    cascades = [write for event, write in facts.cascades if event in target.events]
    if cascades:
        where = f"by a foreign-key action from {facts.name}"
        follow.append(_Work(StatementCalls(targets=tuple(cascades)), where, depth))
    for trigger in facts.triggers:
        if trigger.events & target.events and trigger.function.schema not in CORE_SCHEMAS:
            where = f"trigger {trigger.name} on {trigger.table}"
            search.add(trigger.function.qualified, LIST_TRIGGER, where)
            search.queue_body(trigger.function, where, depth)
    if not (target.inserts or target.set_default):
        return follow
    for ref in facts.sequences:
        search.sequences.setdefault(ref.oid, ref)
    for column, expression in facts.defaults:
        found = parse_calls(f"SELECT {expression}")
        if found is not None:
            follow.append(_Work(found, f"in the default of {facts.name}.{column}", depth))
    return follow
