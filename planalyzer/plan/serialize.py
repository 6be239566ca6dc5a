"""Plans back to PostgreSQL's JSON shape, unknown keys included, without recursion.

Keys come back in the order they were read, at the statement level and in every node (a node
keeps its keys in input order, see `planalyzer.plan.model`), so ``json.dumps(plan.to_json())``
prints what was parsed.
"""

from __future__ import annotations

from typing import Any

from planalyzer.plan.model import KEY_BY_FIELD, NODE_FIELDS, Plan, PlanNode

__all__ = [
    "flat_document",
    "node_keys",
    "node_to_dict",
    "plan_to_dict",
    "statement_to_dict",
    "unflatten_document",
]


def node_keys(node: PlanNode) -> dict[str, Any]:
    """One node's own keys as printed, in order; ``"Plans"`` (if it had children) is None.

    Citus worker plans are not re-attached: they live, verbatim, in the node's
    ``"Distributed Query"`` key, which is kept as an unknown key.
    """
    private = node.__pydantic_private__ or {}
    source = private.get("_source")
    fields = node.__dict__
    if source is not None:  # a value was coerced: give back what was read
        if "Plans" in fields:
            return {k: (None if k == "Plans" else source[k]) for k in _json_keys(fields)}
        return dict(source)
    if node.__pydantic_extra__ is not None or len(fields) == len(NODE_FIELDS):
        # built by pydantic (PlanNode.model_validate), not by the parser
        return node.model_dump(by_alias=True, exclude_unset=True)
    key = KEY_BY_FIELD.get
    return {key(k, k): v for k, v in fields.items()}


def _json_keys(fields: dict[str, Any]) -> list[str]:
    return [KEY_BY_FIELD.get(k, k) for k in fields]


def node_to_dict(node: PlanNode) -> dict[str, Any]:
    """One node and its ``"Plans"`` subtree as PostgreSQL printed them."""
    root: dict[str, Any] = {}
    stack: list[tuple[PlanNode, dict[str, Any]]] = [(node, root)]
    while stack:
        current, out = stack.pop()
        out.update(node_keys(current))
        local = [c for c in current.children if not c.remote]
        if local:
            child_dicts: list[dict[str, Any]] = [{} for _ in local]
            out["Plans"] = child_dicts
            stack.extend(zip(local, child_dicts, strict=True))
        elif "Plans" in out:
            out["Plans"] = []  # printed empty
    return root


def _statement_keys(plan: Plan) -> dict[str, Any]:
    """The statement's own keys (all but ``"Plan"``), in input order."""
    fields = plan.model_dump(by_alias=True, exclude_unset=True, exclude={"root"})
    order = [k for k in plan._keys if k in fields]
    return {k: fields[k] for k in order} | fields


def statement_to_dict(plan: Plan) -> dict[str, Any]:
    """The statement object: ``{"Plan": ..., "Planning Time": ..., ...}``, keys in input order."""
    own = _statement_keys(plan)
    tree = node_to_dict(plan.root)
    keys = list(plan._keys) if "Plan" in plan._keys else ["Plan"]
    out: dict[str, Any] = {}
    for key in keys:
        if key == "Plan":
            out["Plan"] = tree
        elif key in own:
            out[key] = own[key]
    return out | own


def plan_to_dict(plan: Plan) -> Any:
    """The plan in the shape it was parsed from: a one-element list, an object or a node."""
    from planalyzer.plan.parse import SHAPE_DOCUMENT, SHAPE_NODE

    shape = plan._shape
    if shape == SHAPE_NODE:
        return node_to_dict(plan.root)
    statement = statement_to_dict(plan)
    return [statement] if shape == SHAPE_DOCUMENT else statement


def flat_document(plan: Plan) -> tuple[Any, ...]:
    """The plan's JSON as flat data: one ``(parent index, node keys)`` pair per node.

    Pickle recurses into nested containers, so a plan thousands of levels deep cannot be
    pickled as its nested JSON; this form has no nesting beyond one node's own keys.
    `unflatten_document` turns it back into the nested document.
    """
    index = {id(n): i for i, n in enumerate(plan.nodes())}
    nodes = [
        (-1 if n.parent is None else index[id(n.parent)], node_keys(n))
        for n in plan.nodes()
        if not n.remote
    ]
    document = statement_to_dict(plan) if plan._shape != "node" else {"Plan": None}
    statement = {k: (None if k == "Plan" else v) for k, v in document.items()}
    return (plan._shape, statement, nodes)


def unflatten_document(flat: tuple[Any, ...]) -> Any:
    """The nested JSON document back from `flat_document`'s output, without recursion."""
    from planalyzer.plan.parse import SHAPE_DOCUMENT, SHAPE_NODE

    shape, statement, nodes = flat
    dicts = [dict(fields) for _, fields in nodes]
    for node in dicts:
        if "Plans" in node:
            node["Plans"] = []
    for (parent, _), node in zip(nodes, dicts, strict=True):
        if parent >= 0:
            dicts[parent].setdefault("Plans", []).append(node)
    if shape == SHAPE_NODE:
        return dicts[0]
    document = {k: (dicts[0] if k == "Plan" else v) for k, v in statement.items()}
    if "Plan" not in document:
        document = {"Plan": dicts[0], **document}
    return [document] if shape == SHAPE_DOCUMENT else document
