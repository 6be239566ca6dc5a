"""Failure text for plan assertions, and the error that carries it.

A failure message must be enough on its own: a developer reading a CI log cannot open the plan.
So every message has the same parts, in this order: what was expected, what was found (node
ids and figures), the statement, the plan as a tree with the offending node marked, and the
findings planalyzer has about the plan, with their suggestions. Each part is bounded, so a plan
of thousands of nodes still gives a message of a few screens at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planalyzer.plan.model import Plan, PlanNode
    from planalyzer.rules.finding import Finding

__all__ = [
    "MAX_FINDINGS",
    "MAX_FOUND_LINES",
    "MAX_TREE_LINES",
    "PlanAssertionError",
    "bounded",
    "describe_node",
    "failure_message",
    "render_findings",
    "render_statement",
    "render_tree",
]

MAX_TREE_LINES = 40
"""Tree lines shown at most; bigger trees are cut around the marked node."""

MAX_FOUND_LINES = 10
"""Offending nodes listed at most; the rest are counted."""

MAX_FINDINGS = 8
"""Findings listed at most; the rest are counted."""

_MAX_SQL_CHARS = 400
_MAX_LINE_CHARS = 300


class PlanAssertionError(AssertionError):
    """A plan did not meet a test's expectation.

    Deliberately an `AssertionError` and not a `planalyzer.PlanalyzerError`: it is a test
    failure, reported by pytest (or unittest) as one, not an error of the library.

    Attributes:
        expectation: the expectation that failed, in words (``"no Seq Scan on orders"``).
        node_ids: the offending nodes, most relevant first (empty for statement-level checks).
        found: what was found instead, one line per offending node or fact.
        plan: the plan that was checked (None for failures spanning several plans).
        proof: the proven-fix lines, when fixes were proven (``planalyzer_prove_fixes``).
    """

    def __init__(
        self,
        message: str,
        *,
        expectation: str = "",
        node_ids: Sequence[int] = (),
        found: Sequence[str] = (),
        plan: Plan | None = None,
        proof: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.expectation = expectation
        self.node_ids = tuple(node_ids)
        self.found = tuple(found)
        self.plan = plan
        self.proof = tuple(proof)

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only attributes are not in .args, so pickle them explicitly
        state = (str(self), self.expectation, self.node_ids, self.found, self.plan, self.proof)
        return (_rebuild, state)


PlanAssertionError.__module__ = "planalyzer.testing"  # tracebacks name the public path


def _rebuild(
    message: str,
    expectation: str,
    node_ids: tuple[int, ...],
    found: tuple[str, ...],
    plan: Plan | None,
    proof: tuple[str, ...] = (),
) -> PlanAssertionError:
    return PlanAssertionError(
        message, expectation=expectation, node_ids=node_ids, found=found, plan=plan, proof=proof
    )


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "?"
    return f"{value:,.{digits}f}"


def _ms(value: float | None) -> str:
    if value is None:
        return "? ms"
    return f"{value:,.3f} ms" if value < 10 else f"{value:,.1f} ms"


def describe_node(node: PlanNode) -> str:
    """One line about a node with the figures a reviewer needs: cost, rows, loops, self time.

    Example:
        >>> import planalyzer as pa
        >>> plan = pa.parse({"Plan": {"Node Type": "Seq Scan", "Relation Name": "orders",
        ...                           "Total Cost": 7454.0, "Plan Rows": 3}})
        >>> describe_node(plan.root)
        '[0] Seq Scan on orders: cost 7,454.00, est. rows 3'
    """
    facts = []
    if node.total_cost is not None:
        facts.append(f"cost {_num(node.total_cost, 2)}")
    if node.actual_loops is None:
        facts.append(f"est. rows {_num(node.plan_rows)}")
    elif node.actual_loops == 0:
        facts.append(f"est. rows {_num(node.plan_rows)}, never executed")
    else:
        loops = node.actual_loops
        facts.append(
            f"rows est. {_num(node.plan_rows)} / actual {_num(node.actual_rows)}"
            + (f" × {_num(loops)} loops" if loops != 1 else "")
        )
        if node.exclusive_time_ms is not None:
            share = f" ({node.time_share:.0%})" if node.time_share is not None else ""
            facts.append(f"self {_ms(node.exclusive_time_ms)}{share}")
    return f"[{node.id}] {node.display_name}: {', '.join(facts)}"


def render_statement(plan: Plan) -> str | None:
    """``statement: ...`` and its parameters when the plan knows them (live plans do)."""
    if plan.sql is None:
        return None
    sql = " ".join(plan.sql.split())
    if len(sql) > _MAX_SQL_CHARS:
        sql = sql[: _MAX_SQL_CHARS - 1] + "…"
    text = f"statement: {sql}"
    if plan.params is not None:
        params = repr(plan.params)
        if len(params) > 200:
            params = params[:199] + "…"
        text += f"\nparams:    {params}"
    return text


def render_tree(plan: Plan, *, mark: int | None = None, max_lines: int = MAX_TREE_LINES) -> str:
    """The plan as text with node ``mark`` flagged, cut to ``max_lines`` around that node.

    The renderer flags the marked node with ``>>`` in the margin; failing that, its ``[id]``
    label is looked for.
    """
    from planalyzer.display.text import render_plan

    marked = render_plan(plan, mark=mark).splitlines()
    if len(marked) <= max_lines:
        return "\n".join(marked)
    centre = 0
    if mark is not None:
        label = f"[{mark}] "
        hits = [i for i, line in enumerate(marked) if line.startswith(">>")]
        hits = hits or [i for i, line in enumerate(marked) if label in line]
        centre = hits[0] if hits else 0
    keep = max_lines - 2  # room for the two "... lines" notes
    start = max(0, min(centre - keep // 3, len(marked) - keep))
    end = min(len(marked), start + keep)
    lines = []
    if start:
        lines.append(f"... {start} lines above ...")
    lines.extend(_dedent(marked[start:end], gutter=3 if mark is not None else 0))
    if end < len(marked):
        lines.append(f"... {len(marked) - end} lines below ...")
    return "\n".join(lines)


def _dedent(lines: list[str], *, gutter: int) -> list[str]:
    """Shift a window of a deep tree left, keeping the margin, and cap each line's length.

    Deep in a big plan the indentation alone can be thousands of characters wide; the
    window's common indentation says nothing the ``[id]`` labels do not.
    """
    bodies = [line[gutter:] for line in lines]
    indents = [len(b) - len(b.lstrip(" ")) for b in bodies if b.strip()]
    common = min(indents, default=0)
    out = [
        (line[:gutter] + body[common:])[:_MAX_LINE_CHARS]
        for line, body in zip(lines, bodies, strict=True)
    ]
    if common:
        out.insert(0, f"(shifted left by {common} columns)")
    return out


def render_findings(findings: Sequence[Finding], *, limit: int = MAX_FINDINGS) -> str:
    """Findings one per line, each followed by its suggestion; at most ``limit`` of them."""
    lines = []
    for finding in findings[:limit]:
        lines.append(f"  {finding}")
        if finding.suggestion:
            lines.append(f"      suggestion: {finding.suggestion}")
    if len(findings) > limit:
        lines.append(f"  ... and {len(findings) - limit} more findings")
    return "\n".join(lines)


def bounded(lines: Iterable[str], *, limit: int = MAX_FOUND_LINES, what: str = "more") -> list[str]:
    """At most ``limit`` lines, with a count of the ones left out."""
    items = list(lines)
    if len(items) <= limit:
        return items
    return [*items[:limit], f"... and {len(items) - limit} {what}"]


def failure_message(
    *,
    expectation: str,
    found: Sequence[str],
    plan: Plan,
    mark: int | None,
    findings: Sequence[Finding] = (),
    findings_title: str = "findings",
    extra: Sequence[str] = (),
    max_tree_lines: int = MAX_TREE_LINES,
) -> str:
    """The full failure text: expectation, what was found, statement, tree, findings."""
    parts = [f"expected: {expectation}"]
    found_lines = bounded(found)
    if found_lines:
        parts.append("found:    " + "\n          ".join(found_lines))
    statement = render_statement(plan)
    if statement:
        parts.append(statement)
    title = f"plan (node {mark} marked):" if mark is not None else "plan:"
    parts.append(f"\n{title}\n{render_tree(plan, mark=mark, max_lines=max_tree_lines)}")
    parts.extend(extra)
    if findings:
        parts.append(f"\n{findings_title}:\n{render_findings(findings)}")
    return "\n".join(parts)
