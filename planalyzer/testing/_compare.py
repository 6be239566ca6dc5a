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


def _unwrap_amber(text: str) -> str:
    """The string syrupy's amber format stored (``'''`` block or quoted single line)."""
    import textwrap

    lines = text.splitlines()
    if len(lines) >= 2 and lines[0].strip() == "'''" and lines[-1].strip() == "'''":
        return textwrap.dedent("\n".join(lines[1:-1]))
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == "'":
        return stripped[1:-1]
    return text


def _syrupy_expected(value: Any) -> tuple[str, str | None] | None:
    """(snapshot name, stored text or None when missing) of a syrupy ``snapshot``, else None.

    Read through syrupy's public attributes (``executions``, ``name``) so syrupy itself is
    never imported here.
    """
    executions = getattr(value, "executions", None)
    if not isinstance(executions, dict) or not executions or not hasattr(value, "name"):
        return None
    last = executions[max(executions)]
    stored = getattr(last, "recalled_data", None)
    name = str(getattr(last, "snapshot_name", value.name))
    return name, (_unwrap_amber(str(stored)) if stored is not None else None)


def _shape_comparison(left: Any, right: Any, verbosity: int) -> list[str] | None:
    """Explain a comparison of a plan shape with another, a string or a snapshot; else None."""
    from planalyzer.plan.shape import PlanShape
    from planalyzer.testing._shape import shape_diff_lines, shape_difference
    from planalyzer.testing._snapshots import PlanSnapshot

    for snap in (left, right):
        if isinstance(snap, PlanSnapshot):
            return snap.failure_lines()
    if not isinstance(right, PlanShape) or isinstance(left, PlanShape):
        found, expected = left, right
    else:
        found, expected = right, left
    if not isinstance(found, PlanShape):
        return None
    hint = None
    syrupy = _syrupy_expected(expected)
    if syrupy is not None:
        name, stored = syrupy
        hint = "if the new plan is intended, run pytest --snapshot-update to accept it"
        if stored is None:
            return [f"snapshot {name} does not exist; run pytest --snapshot-update to write it"]
        expected_text = stored
    elif isinstance(expected, str):
        expected_text = str(expected)
    else:
        return None
    where = shape_difference(found, expected_text)
    lines = [
        f"plan shape differs: {where}" if where else "plan shapes differ only in whitespace",
        "shape diff (- expected, + found):",
        *shape_diff_lines(found, expected_text),
    ]
    if hint:
        lines.append(hint)
    if isinstance(expected, PlanShape) and found.plan is not None and expected.plan is not None:
        lines.extend(_plans(found.plan, expected.plan, verbosity)[1:])
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

    shapes = _shape_comparison(left, right, verbosity)
    if shapes is not None:
        return _bounded([f"{_label(left)} {op} {_label(right)}", *shapes], verbosity)
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
