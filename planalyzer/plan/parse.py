"""Read EXPLAIN (FORMAT JSON) output, in any of the forms people paste it, into `Plan` objects.

Accepted: the full output (a list of statement objects), one statement object (also
auto_explain's, with ``Query Text``), a bare plan node, a JSON string holding any of these, and
the same text framed by psql or pasted from a terminal (see `planalyzer.plan._paste`). Every
failure is a `PlanParseError` that names the place (a JSON path such as
``$[0].Plan.Plans[1]["Actual Rows"]``, or a line and column) and the reason.

The tree is built with an explicit stack, so neither the caller's recursion limit nor the plan's
depth matters up to `MAX_PLAN_DEPTH`.
"""

from __future__ import annotations

import codecs
import gc
import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from planalyzer.errors import PlanParseError
from planalyzer.plan._json import JSONSyntaxError, loads_iterative
from planalyzer.plan._paste import salvage_note, statement_without_plan, unframe
from planalyzer.plan.metrics import compute_metrics
from planalyzer.plan.model import FIELD_BY_KEY, Plan, PlanNode, Worker, new_node
from planalyzer.plan.model import _links as node_links
from planalyzer.plan.text import is_text_plan, read_text

__all__ = ["MAX_PLAN_DEPTH", "load", "load_all", "parse", "parse_all"]

MAX_PLAN_DEPTH = 20_000
"""Deepest plan accepted. Real plans are rarely more than a few dozen levels deep; this bound
only stops pathological input before it costs unbounded memory."""

# How the input was shaped, so that to_json() can give back the same shape.
SHAPE_DOCUMENT = "document"
SHAPE_STATEMENT = "statement"
SHAPE_NODE = "node"


def parse(
    data: str | bytes | bytearray | list[Any] | dict[str, Any],
    *,
    sql: str | None = None,
    params: Any = None,
    server_version: int | None = None,
) -> Plan:
    """Parse one statement's EXPLAIN (FORMAT JSON) output into a `Plan`.

    Args:
        data: JSON text or bytes (framing from psql and similar clients is removed), or an
            already decoded list/dict.
        sql: the statement that was explained, when known (kept on the plan, not serialised).
        params: the parameters it was explained with.
        server_version: ``server_version_num`` of the server that produced the plan.

    Raises:
        PlanParseError: the input is not a plan, or holds several statements' plans (use
            `parse_all` for those).

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse('[{"Plan": {"Node Type": "Result", "Total Cost": 0.01}}]')
        >>> plan.root.node_type, plan.analyzed
        ('Result', False)
    """
    plans = parse_all(data)
    if len(plans) != 1:
        raise PlanParseError(
            "$", f"the document holds {len(plans)} statements' plans; use parse_all() for it"
        )
    plan = plans[0]
    if sql is not None or params is not None or server_version is not None:
        plan = plan.model_copy(
            update={"sql": sql, "params": params, "server_version": server_version}
        )
    return plan


def parse_all(data: str | bytes | bytearray | list[Any] | dict[str, Any]) -> list[Plan]:
    """Parse a document that may hold several statements' plans; one `Plan` each, in order.

    Example:
        >>> import planalyzer as pa
        >>> doc = '[{"Plan": {"Node Type": "Result"}}, {"Plan": {"Node Type": "Result"}}]'
        >>> len(pa.parse_all(doc))
        2
    """
    # The cyclic garbage collector would walk every object built so far each time enough new
    # containers pile up: on a 100,000-node plan that doubled the parse time. Nothing built here
    # is garbage until the parse ends, so it is paused, and resumed as the caller had it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        doc, notes = _decode(data)
        plans = [_build_plan(stmt, path, shape) for stmt, path, shape in _statements(doc)]
        for plan in plans:
            plan.warnings.extend(notes)
        return plans
    finally:
        if collecting:
            gc.enable()


def load(path: str | Path) -> Plan:
    """Read one statement's plan from a file (any form `parse` accepts)."""
    return parse(_read(path))


def load_all(path: str | Path) -> list[Plan]:
    """Read every statement's plan from a file."""
    return parse_all(_read(path))


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise PlanParseError(str(path), f"cannot read file: {err.strerror or err}") from err


# --- text to JSON value ---------------------------------------------------------------------


def decode(data: str | bytes | bytearray | list[Any] | dict[str, Any]) -> Any:
    """Turn the input into a decoded JSON value, undoing paste framing when needed."""
    return _decode(data)[0]


def _decode(data: str | bytes | bytearray | list[Any] | dict[str, Any]) -> tuple[Any, list[str]]:
    """`decode`, plus what a reader must know about how the input was read (plan.warnings)."""
    if isinstance(data, list | dict):
        return data, []
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            try:  # plain JSON bytes: decoded without a text copy (one less plan-sized string)
                return _finish(from_json(raw.removeprefix(codecs.BOM_UTF8)))
            except ValueError:
                pass
        data = _bytes_to_text(raw)
    if not isinstance(data, str):
        raise PlanParseError(
            "$", f"expected JSON text, bytes, a list or a dict, got {type(data).__name__}"
        )
    text = data.lstrip("\ufeff").strip()
    if not text:
        raise PlanParseError("line 1, column 1", "the input is empty")
    notes: list[str] = []
    try:
        value = _loads(text)
    except ValueError as first_error:
        if is_text_plan(text):
            return read_text(text), []
        cleaned = unframe(text).strip()
        try:
            value = _loads(cleaned)
        except ValueError:
            found = _embedded_plan(text)
            if found is None:
                raise _json_error(text, cleaned, first_error) from None
            value, start, end = found
            note = salvage_note(text, start, end, later=_embedded_plan(text, after=end))
            if note is not None:
                notes.append(note)
    return _finish(value, notes)


def _finish(value: Any, notes: list[str] | None = None) -> tuple[Any, list[str]]:
    """Unwrap a client's result-set export, and JSON text stored as a JSON string.

    Returns the value and the notes for plan.warnings (those given plus any from inside).
    """
    notes = notes or []
    value = _unwrap_query_plan_column(value)
    if isinstance(value, str):  # JSON-encoded JSON, as some log shippers store it
        inner, inner_notes = _decode(value)
        return inner, notes + inner_notes
    return value, notes


_PLAN_KEYS = ("Plan", "Node Type", "QUERY PLAN")


def _looks_like_plan(value: Any) -> bool:
    """True for a statement object, a plan node or a result row holding one (or a list)."""
    if isinstance(value, list) and value:
        value = value[0]
    return isinstance(value, dict) and any(key in value for key in _PLAN_KEYS)


def _embedded_plan(text: str, *, after: int = 0) -> tuple[Any, int, int] | None:
    """The first JSON plan inside surrounding text (value, start, end offsets), or None.

    auto_explain writes its JSON after a log prefix (``LOG:  duration: 12.3 ms  plan:``), and
    plans pasted from chat or tickets carry a sentence before or after them. Each ``{`` or
    ``[`` that starts a line is tried, then any other, up to a few dozen candidates.
    """
    decoder = json.JSONDecoder()
    braces = [i for i, ch in enumerate(text) if ch in "{[" and i >= after]
    at_line_start = [i for i in braces if i == 0 or text[i - 1] == "\n"]
    elsewhere = [i for i in braces if i != 0 and text[i - 1] != "\n"]
    for start in (at_line_start + elsewhere)[:50]:
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        if _looks_like_plan(value):
            return value, start, end
    return None


def _unwrap_query_plan_column(value: Any) -> Any:
    """A client's export of the result set (``[{"QUERY PLAN": ...}]``) to the plan inside.

    pgAdmin, DBeaver and psql's JSON output formats export EXPLAIN's one-column result as rows
    keyed by the column name; the cell holds the plan document (decoded or as text).
    """
    rows = value if isinstance(value, list) else [value]
    if not rows or not all(isinstance(r, dict) and list(r) == ["QUERY PLAN"] for r in rows):
        return value
    cells = [r["QUERY PLAN"] for r in rows]
    if len(cells) == 1:
        return cells[0]
    documents: list[Any] = []
    for cell in cells:  # several statements' plans, one row each
        inner = decode(cell) if isinstance(cell, str) else cell
        documents.extend(inner if isinstance(inner, list) else [inner])
    return documents


def _bytes_to_text(raw: bytes) -> str:
    encoding = "utf-8"
    if raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise PlanParseError(f"byte {err.start}", f"the input is not {encoding} text") from err


def _loads(text: str) -> Any:
    """Decode JSON text: pydantic-core's decoder, else `json.loads`, else the iterative one.

    pydantic-core's ``from_json`` (jiter) is about 1.6x faster than `json.loads` and yields the
    same values (floats are correctly rounded, big integers kept), but it refuses documents
    nested more than a few hundred levels and lone surrogate escapes; those go to the standard
    library, and from there to `loads_iterative` when even that recurses too deeply.
    """
    try:
        return from_json(text)
    except ValueError:
        pass
    try:
        return json.loads(text)
    except RecursionError:
        return loads_iterative(text)


_NEITHER = (
    "; and it is not text-format EXPLAIN output either (no node line such as "
    "'Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)')"
)


def _json_error(original: str, cleaned: str, error: ValueError) -> PlanParseError:
    """The error for input that is neither JSON nor text EXPLAIN: both formats are named."""
    hint = statement_without_plan(original)
    if hint is not None:
        return PlanParseError("line 1, column 1", hint)
    err = _json_error_at(original, cleaned, error)
    return PlanParseError(err.path, err.reason + _NEITHER)


def _json_error_at(original: str, cleaned: str, error: ValueError) -> PlanParseError:
    # Report the error against the cleaned text when that is what got furthest.
    for text in (cleaned, original):
        try:
            _loads(text)
        except json.JSONDecodeError as err:
            return PlanParseError(
                f"line {err.lineno}, column {err.colno}", f"invalid JSON: {err.msg}"
            )
        except JSONSyntaxError as err:
            lineno = text.count("\n", 0, err.pos) + 1
            column = err.pos - (text.rfind("\n", 0, err.pos) + 1) + 1
            return PlanParseError(f"line {lineno}, column {column}", f"invalid JSON: {err.msg}")
        except ValueError:
            continue
    return PlanParseError("line 1, column 1", f"invalid JSON: {error}")


# --- JSON value to statements ----------------------------------------------------------------


def _statements(doc: Any) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Yield (statement object, its JSON path, input shape) for each statement in ``doc``."""
    if isinstance(doc, list):
        if not doc:
            raise PlanParseError("$", "the document is an empty list, not a plan")
        for i, item in enumerate(doc):
            path = f"$[{i}]"
            if isinstance(item, dict) and "Plan" in item:
                yield item, path, SHAPE_DOCUMENT
            elif isinstance(item, dict) and "Node Type" in item:
                yield {"Plan": item}, path, SHAPE_NODE
            else:
                raise PlanParseError(
                    path, f"expected a statement object with 'Plan', got {_kind(item)}"
                )
    elif isinstance(doc, dict):
        if "Plan" in doc:
            yield doc, "$", SHAPE_STATEMENT
        elif "Node Type" in doc:
            yield {"Plan": doc}, "$", SHAPE_NODE
        else:
            keys = ", ".join(repr(k) for k in list(doc)[:5]) or "no keys"
            raise PlanParseError("$", f"an object with neither 'Plan' nor 'Node Type' ({keys})")
    else:
        raise PlanParseError("$", f"expected a JSON list or object, got {_kind(doc)}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _key_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key.isidentifier():
        return f"{path}.{key}"
    return f'{path}["{key}"]'


# --- statement to Plan -----------------------------------------------------------------------


def _build_plan(stmt: dict[str, Any], path: str, shape: str) -> Plan:
    root_raw = stmt["Plan"]
    root_path = path if shape == SHAPE_NODE else _key_path(path, "Plan")
    nodes, parents = _build_nodes(root_raw, root_path)
    fields = {k: v for k, v in stmt.items() if k != "Plan"}
    fields["Plan"] = nodes[0]
    plan: Plan = _validate(Plan, fields, path)
    plan._nodes = nodes
    plan._shape = shape
    plan._keys = tuple(stmt)
    metrics = compute_metrics(nodes, parents)
    for node in nodes:
        node.__pydantic_private__["_metrics"] = metrics  # type: ignore[index]
    return plan


def _build_nodes(root_raw: Any, root_path: str) -> tuple[tuple[PlanNode, ...], list[int]]:
    """Check every node, pre-order, and link parents and children; no recursion.

    Returns the nodes and each one's parent index (-1 for the root).
    """
    nodes: list[PlanNode] = []
    parents: list[int] = []
    children: list[list[PlanNode]] = []
    links: list[dict[str, Any]] = []  # each node's private tree links, written directly
    # (raw node, JSON path, parent index or -1, depth, remote); the path is built lazily, as a
    # (parent path, index) pair, because it is only read when something is wrong.
    stack: list[tuple[Any, Any, int, int, bool]] = [(root_raw, root_path, -1, 0, False)]
    while stack:
        raw, where, parent_index, depth, remote = stack.pop()
        if not isinstance(raw, dict):
            raise PlanParseError(_path(where), f"expected a plan node object, got {_kind(raw)}")
        if depth > MAX_PLAN_DEPTH:
            raise PlanParseError(
                _path(where), f"the plan is nested deeper than {MAX_PLAN_DEPTH} levels"
            )
        index = len(nodes)
        private = node_links(index, depth, remote=remote)
        node = _new_node(raw, private, where)
        nodes.append(node)
        parents.append(parent_index)
        children.append([])
        links.append(private)
        if parent_index >= 0:
            private["_parent"] = nodes[parent_index]
            children[parent_index].append(node)
        sub_plans = raw.get("Plans")
        if sub_plans is not None and not isinstance(sub_plans, list):
            raise PlanParseError(
                _key_path(_path(where), "Plans"),
                f"expected a list of nodes, got {_kind(sub_plans)}",
            )
        for citus_key in _CITUS_KEYS:
            if citus_key in raw:
                stack.extend(
                    (child, child_path, index, depth + 1, True)
                    for child, child_path in reversed(
                        list(_remote_plans(raw[citus_key], _key_path(_path(where), citus_key)))
                    )
                )
        if sub_plans:
            # pushed last so that "Plans" come first in pre-order, then the remote plans
            stack.extend(
                (sub_plans[i], (where, i), index, depth + 1, remote)
                for i in range(len(sub_plans) - 1, -1, -1)
            )
    for private, kids in zip(links, children, strict=True):
        if kids:
            private["_children"] = tuple(kids)
    return tuple(nodes), parents


def _accepted_types(annotation: Any) -> frozenset[type]:
    """The value types a field takes as they are, from its annotation (None always allowed).

    ``float`` also takes ``int`` (PostgreSQL prints ``0`` for some costs and times); anything
    else (``list[Worker]``, a value pydantic would coerce) goes to pydantic (`_slow_node`).
    """
    accepted: set[type] = {type(None)}
    for arg in typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ():
        origin = typing.get_origin(arg) or arg
        if arg is float:
            accepted |= {float, int}
        elif origin is list and typing.get_args(arg) == (str,):
            accepted.add(list)  # the items are checked in _new_node
        elif origin is dict or arg in (str, int, bool):
            accepted.add(origin)
        elif origin is list:
            accepted.add(list)  # ``Workers``: validated in _new_node
        elif arg is not type(None):
            return frozenset()  # anything else: through pydantic
    return frozenset(accepted)


class _Anything:
    """Accepts every type: unknown keys are kept as they are."""

    def __contains__(self, item: object) -> bool:
        return True


_ANY = _Anything()
_WORKERS: TypeAdapter[list[Worker]] = TypeAdapter(list[Worker])
# JSON key (or field name) -> the value types its field takes as they are
_KEY_TYPES: dict[str, frozenset[type]] = {
    key: _accepted_types(PlanNode.model_fields[name].annotation)
    for key, name in FIELD_BY_KEY.items()
}
_KEY_TYPES["Node Type"] = _KEY_TYPES["node_type"] = frozenset({str})  # required: never None
_STR_LIST_KEYS = frozenset(
    key
    for key, name in FIELD_BY_KEY.items()
    if list[str] in typing.get_args(PlanNode.model_fields[name].annotation)
)


# A node's shape (its keys and its values' types, in order) -> its field names and the string
# list keys to check item by item, or None when pydantic must validate it. Plans repeat a few
# shapes thousands of times, so each is checked once; bounded, like re's pattern cache.
_Shape = tuple[tuple[str, ...], tuple[type, ...]]
_SHAPES: dict[_Shape, tuple[tuple[str, ...], tuple[str, ...], bool] | None] = {}
_MAX_SHAPES = 4096


def _new_node(raw: dict[str, Any], links: dict[str, Any], where: Any) -> PlanNode:
    """A node over ``raw``'s keys with each value's type checked; pydantic only when needed.

    Validating every node through pydantic cost 2-3x the JSON decoding (benchmarks/README.md).
    Values of the right type are kept as decoded, so ``to_json()`` gives back the same values in
    the same key order; a value of another type goes to pydantic (`_slow_node`), which
    coerces it as before or raises the `PlanParseError` that names the key.
    """
    shape = (tuple(raw), tuple(map(type, raw.values())))
    try:
        known = _SHAPES[shape]
    except KeyError:
        known = _learn_shape(shape)
    if known is None:
        return _slow_node(raw, links, where)
    names, str_lists, has_plans = known
    for key in str_lists:
        if not all(type(item) is str for item in raw[key]):
            return _slow_node(raw, links, where)
    fields = dict(zip(names, raw.values(), strict=True))
    if has_plans:
        fields["Plans"] = None  # where the children were, for the key order of to_json()
    workers = fields.get("workers")
    if workers:  # parallel nodes: only the workers through pydantic, not the whole node
        try:
            fields["workers"] = _WORKERS.validate_python(workers)
        except ValidationError:
            return _slow_node(raw, links, where)  # raises with the path
        links["_source"] = {k: v for k, v in raw.items() if k != "Plans"}
    return new_node(fields, links)


def _learn_shape(shape: _Shape) -> tuple[tuple[str, ...], tuple[str, ...], bool] | None:
    """Check a shape's value types against the fields' and remember the verdict."""
    keys, value_types = shape
    accepted = _KEY_TYPES.get
    names = tuple(FIELD_BY_KEY.get(k, k) for k in keys)
    ok = "node_type" in names and all(
        t in accepted(k, _ANY) for k, t in zip(keys, value_types, strict=True)
    )
    known = None
    if ok:
        str_lists = tuple(
            k for k, t in zip(keys, value_types, strict=True) if k in _STR_LIST_KEYS and t is list
        )
        known = (names, str_lists, "Plans" in keys)
    if len(_SHAPES) >= _MAX_SHAPES:
        _SHAPES.clear()
    _SHAPES[shape] = known
    return known


def _slow_node(raw: dict[str, Any], links: dict[str, Any], where: Any) -> PlanNode:
    """Validate a node through pydantic: coerced values kept typed, the given ones for to_json."""
    given = {k: v for k, v in raw.items() if k != "Plans"}
    checked = _validate(PlanNode, given, _path(where))  # raises with the path
    typed = checked.__dict__
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        name = FIELD_BY_KEY.get(key)
        if key == "Plans":
            fields["Plans"] = None
        elif name is None:
            fields[key] = value
        else:
            fields[name] = typed[name]
    links["_source"] = given
    return new_node(fields, links)


def _path(where: Any) -> str:
    """The JSON path of a node from its lazy form: a string, or (parent's form, child index)."""
    indexes: list[int] = []
    while not isinstance(where, str):
        where, i = where
        indexes.append(i)
    path: str = where
    for i in reversed(indexes):
        path = f"{_key_path(path, 'Plans')}[{i}]"
    return path


# Where Citus nests plans in a Custom Scan: its distributed plan, and the inner query of an
# INSERT ... SELECT or MERGE run through the coordinator (multi_explain.c).
_CITUS_KEYS = ("Distributed Query", "Select Query", "Source Query")


def _remote_plans(value: Any, path: str) -> Iterator[tuple[Any, str]]:
    """Plan roots nested in a Citus ``Distributed Query`` (tasks' and subplans' plans), in order.

    Citus wraps each worker's EXPLAIN output (``Remote Plan``) and each subplan's
    (``PlannedStmt``) as statement objects; any object with a ``Plan`` holding a ``Node Type``
    is one.
    """
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, item_path = stack.pop()
        if isinstance(item, dict):
            plan = item.get("Plan")
            if isinstance(plan, dict) and "Node Type" in plan:
                yield plan, _key_path(item_path, "Plan")
                continue
            stack.extend((v, _key_path(item_path, k)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, f"{item_path}[{i}]") for i, v in reversed(list(enumerate(item))))


def _validate(model: type[Any], fields: dict[str, Any], path: str) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        first = errors[0]
        where = path
        for part in _input_loc(fields, first["loc"]):
            where = _key_path(where, part)
        if first["type"] == "missing":
            reason = f"required key {first['loc'][-1]!r} is missing"
        else:
            reason = f"{first['msg'].lower()} (got {first['input']!r:.60})"
        # a value failing both branches of ``int | float`` is one problem, not two
        more = len({_input_loc(fields, e["loc"]) for e in errors}) - 1
        if more:
            reason += f"; and {more} more problem{'s' if more > 1 else ''} in this object"
        raise PlanParseError(where, reason) from None


def _input_loc(fields: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The part of a pydantic error location that exists in the input.

    pydantic appends union branch names (``Actual Rows`` -> ``int``) that are not keys.
    """
    kept: list[int | str] = []
    current = fields
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        elif not kept or isinstance(current, dict):
            kept.append(part)  # a missing key: still where the problem is
            break
        else:
            break
        kept.append(part)
    return tuple(kept)
