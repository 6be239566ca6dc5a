"""Readable ``assert`` comparisons of planalyzer objects (``pytest_assertrepr_compare``).

Only plans, nodes, reports and findings (alone or in a list/tuple) are explained; anything else
returns None at once so pytest's own output is untouched. Output is a screenful (25 lines) by
default, 100 lines with ``-v`` and unbounded with ``-vv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["explain_comparison", "is_planalyzer_object"]

_LINES_BY_VERBOSITY = {0: 25, 1: 100}


def _ours(value: Any) -> bool:
    return type(value).__module__.startswith("planalyzer.")


def is_planalyzer_object(value: Any) -> bool:
    """A planalyzer object, or a non-empty list/tuple of them (checked cheaply, by module)."""
    if _ours(value):
        return True
    if isinstance(value, list | tuple) and value:
        return all(_ours(item) for item in value)
    return False


def _findings(value: Any) -> list[Any] | None:
    from planalyzer.rules.finding import Finding
    from planalyzer.rules.report import Report

    if isinstance(value, Report):
        return list(value.findings)
    if isinstance(value, Finding):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, Finding) for v in value):
        return list(value)
    return None


def _describe_findings(side: str, value: Any) -> list[str]:
    from planalyzer.testing._messages import render_findings

    findings = _findings(value)
    if findings is None:
        return [f"{side}: {value!r}"]
    if not findings:
        return [f"{side}: no findings"]
    return [
        f"{side}: {len(findings)} findings",
        *render_findings(findings, limit=len(findings)).splitlines(),
    ]


def _plans(left: Any, right: Any, verbosity: int) -> list[str]:
    from planalyzer.testing._messages import describe_node, render_tree
    from planalyzer.testing._shape import first_difference, path_to

    diff = first_difference(left, right)
    lines = []
    if diff is None:
        lines.append("the plans have the same shape (node types, relations, indexes, joins);")
        lines.append("Plan == compares identity: use assert_plan(a).matches(b) for shapes")
    else:
        where = diff.actual or (left.node(diff.parent_id) if diff.parent_id is not None else None)
        lines.append(f"plans differ at {path_to(where) if where else 'the root'}: {diff.reason}")
        if diff.actual is not None:
            lines.append(f"  left:  {describe_node(diff.actual)}")
        if diff.expected is not None:
            lines.append(f"  right: {describe_node(diff.expected)}")
    from planalyzer.plan.compare import compare

    lines.append("pa.compare(left, right):")
    lines.extend(f"  {line}" for line in str(compare(left, right)).splitlines())
    if verbosity >= 1:
        mark_left = diff.mark if diff is not None else None
        mark_right = diff.expected.id if diff is not None and diff.expected is not None else None
        lines.append("left plan:")
        lines.append(render_tree(left, mark=mark_left, max_lines=40 if verbosity < 2 else 10**6))
        lines.append("right plan:")
        lines.append(render_tree(right, mark=mark_right, max_lines=40 if verbosity < 2 else 10**6))
    return lines


def _label(value: Any) -> str:
    """A short name for one side, for pytest's first line (``assert <left> == <right>``)."""
    if isinstance(value, list | tuple) and value and all(_ours(v) for v in value):
        kind = type(value[0]).__name__
        inner = f"{len(value)} {kind}{'s' if len(value) != 1 else ''}"
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    text = repr(value)
    return text if len(text) <= 60 else f"<{type(value).__name__}>"


def explain_comparison(op: str, left: Any, right: Any, verbosity: int) -> list[str] | None:
    """Lines explaining ``left op right``, or None when neither side is a planalyzer object."""
    if not (is_planalyzer_object(left) or is_planalyzer_object(right)):
        return None
    from planalyzer.plan.model import Plan

    if isinstance(left, Plan) and isinstance(right, Plan):
        lines = [f"{_label(left)} {op} {_label(right)}", *_plans(left, right, verbosity)]
    else:
        lines = [f"{_label(left)} {op} {_label(right)}"]
        lines += _describe_findings("left", left) + _describe_findings("right", right)
    return _bounded(lines, verbosity)


def _bounded(lines: Sequence[str], verbosity: int) -> list[str]:
    out = [line for block in lines for line in (block.splitlines() or [""])]
    limit = _LINES_BY_VERBOSITY.get(verbosity)
    if limit is None or len(out) <= limit:
        return out
    return [*out[: limit - 1], f"... {len(out) - limit + 1} more lines (use -v or -vv to see them)"]
