"""Plans back to PostgreSQL's JSON shape, unknown keys included, without recursion."""

from __future__ import annotations

from typing import Any

from planalyzer.plan.model import Plan, PlanNode

__all__ = [
    "flat_document",
    "node_to_dict",
    "plan_to_dict",
    "statement_to_dict",
    "unflatten_document",
]


def node_to_dict(node: PlanNode) -> dict[str, Any]:
    """One node and its ``"Plans"`` subtree as PostgreSQL printed them.

    Citus worker plans are not re-attached: they live, verbatim, in the node's
    ``"Distributed Query"`` key, which is kept as an unknown key.
    """
    root: dict[str, Any] = {}
    stack: list[tuple[PlanNode, dict[str, Any]]] = [(node, root)]
    while stack:
        current, out = stack.pop()
        out.update(current.model_dump(by_alias=True, exclude_unset=True))
        local = [c for c in current.children if not c.remote]
        if local:
            child_dicts: list[dict[str, Any]] = [{} for _ in local]
            out["Plans"] = child_dicts
            stack.extend(zip(local, child_dicts, strict=True))
    return root


def statement_to_dict(plan: Plan) -> dict[str, Any]:
    """The statement object: ``{"Plan": ..., "Planning Time": ..., ...}``."""
    out: dict[str, Any] = {"Plan": node_to_dict(plan.root)}
    out.update(plan.model_dump(by_alias=True, exclude_unset=True, exclude={"root"}))
    return out


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
        (
            -1 if n.parent is None else index[id(n.parent)],
            n.model_dump(by_alias=True, exclude_unset=True),
        )
        for n in plan.nodes()
        if not n.remote
    ]
    statement = plan.model_dump(by_alias=True, exclude_unset=True, exclude={"root"})
    return (plan._shape, statement, nodes)


def unflatten_document(flat: tuple[Any, ...]) -> Any:
    """The nested JSON document back from `flat_document`'s output, without recursion."""
    from planalyzer.plan.parse import SHAPE_DOCUMENT, SHAPE_NODE

    shape, statement, nodes = flat
    dicts = [dict(fields) for _, fields in nodes]
    for (parent, _), node in zip(nodes, dicts, strict=True):
        if parent >= 0:
            dicts[parent].setdefault("Plans", []).append(node)
    if shape == SHAPE_NODE:
        return dicts[0]
    document = {"Plan": dicts[0], **statement}
    return [document] if shape == SHAPE_DOCUMENT else document
