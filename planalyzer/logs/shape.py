"""A log entry's plan shape, as a short digest and a one-line outline, from ``plan.shape()``.

``Plan.shape()`` (`planalyzer.plan.shape`) keeps what the planner chose — node types,
strategies, join order, relations and indexes — and drops what varies per run. Two entries of
one query with different shapes mean its plan changed (new statistics, an index, another
parameter value). The digest keeps a group's memory small however large the plans are.
"""

from __future__ import annotations

import hashlib

from planalyzer.plan.model import Plan
from planalyzer.plan.shape import INDENT

__all__ = ["plan_shape"]

_OUTLINE_NODES = 12  # nodes spelled out in the outline; the digest covers all of them


def plan_shape(plan: Plan) -> tuple[str, str]:
    """The shape's digest (16 hex digits) and an outline of its first nodes.

    The outline lists nodes in pre-order, depth shown as ``>`` marks, e.g.
    ``Hash Join; >Seq Scan on orders; >Hash; >>Seq Scan on customers``.
    """
    text = str(plan.shape())
    digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    lines = text.splitlines()
    parts = []
    for line in lines[:_OUTLINE_NODES]:
        body = line.lstrip(" ")
        parts.append(">" * ((len(line) - len(body)) // len(INDENT)) + body)
    outline = "; ".join(parts)
    if len(lines) > _OUTLINE_NODES:
        outline += f"; … {len(lines) - _OUTLINE_NODES} more nodes"
    return digest, outline
