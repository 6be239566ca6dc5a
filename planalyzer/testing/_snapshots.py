"""Plan-shape snapshots without syrupy: text files in ``__plan_snapshots__`` beside the test.

The ``plan_snapshot`` fixture compares ``plan.shape()`` with
``<test dir>/__plan_snapshots__/<module>/<test name>[.<n or name>].txt``. A missing or
different file fails the test (a CI run must not accept a new plan silently); with
``--planalyzer-snapshot-update`` (or syrupy's ``--snapshot-update``) the file is written and
the test passes. The files are plain shape text, one node per line, so a code review shows a
plan change as a readable diff.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from planalyzer.testing._messages import PlanAssertionError

__all__ = ["SNAPSHOT_DIR", "PlanSnapshot", "shape_text"]

SNAPSHOT_DIR = "__plan_snapshots__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]]+")


def shape_text(value: Any) -> str:
    """The shape text of a `Plan`, a `PlanShape` or a shape string."""
    from planalyzer.plan.model import Plan

    if isinstance(value, Plan):
        return str(value.shape())
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"plan_snapshot compares a Plan or plan.shape(), got {type(value).__name__}")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("_") or "snapshot"


class PlanSnapshot:
    """Compare plan shapes with files under ``__plan_snapshots__``; what the fixture returns.

    ``assert plan.shape() == plan_snapshot`` or ``plan_snapshot.assert_match(plan)``; each
    comparison in a test uses the next file (``test_x.txt``, ``test_x.2.txt`` ...) unless
    ``name=`` picks one.

    Attributes:
        directory: the folder of this test module's snapshots.
        test_name: the file stem (the test's name, made safe for file systems).
        update: write instead of compare.
    """

    def __init__(self, directory: Path, test_name: str, *, update: bool = False) -> None:
        self.directory = directory
        self.test_name = _safe(test_name)
        self.update = update
        self._count = 0
        self.last: tuple[Path, str | None, str] | None = None
        """(file, stored text or None when missing, shape compared) of the last comparison."""

    def __repr__(self) -> str:
        return f"PlanSnapshot({self.directory / self.test_name})"

    def path(self, name: str | None = None) -> Path:
        """The file the next comparison (or the one named ``name``) uses."""
        if name is not None:
            return self.directory / f"{self.test_name}.{_safe(name)}.txt"
        suffix = "" if self._count <= 1 else f".{self._count}"
        return self.directory / f"{self.test_name}{suffix}.txt"

    def matches(self, value: Any, *, name: str | None = None) -> bool:
        """Compare (or, when updating, write) one shape; remembers it for the failure text."""
        text = shape_text(value).rstrip("\n")
        if name is None:
            self._count += 1
        path = self.path(name)
        stored = path.read_text(encoding="utf-8").rstrip("\n") if path.exists() else None
        self.last = (path, stored, text)
        if stored == text:
            return True
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
            self.last = (path, text, text)
            return True
        return False

    def __eq__(self, other: object) -> bool:
        return self.matches(other)

    __hash__ = object.__hash__

    def assert_match(self, value: Any, *, name: str | None = None) -> None:
        """Fail with a tree diff when ``value``'s shape differs from the stored one.

        Raises:
            PlanAssertionError: the snapshot is missing or differs.
        """
        __tracebackhide__ = True
        if not self.matches(value, name=name):
            raise PlanAssertionError(
                "\n".join(self.failure_lines()), expectation="the stored plan shape"
            )

    def failure_lines(self) -> list[str]:
        """Why the last comparison failed: the file, the first differing node, the diff."""
        from planalyzer.testing._shape import shape_diff_lines, shape_difference

        if self.last is None:
            return ["no plan shape was compared"]
        path, stored, text = self.last
        hint = "run pytest with --planalyzer-snapshot-update to accept it"
        if stored is None:
            return [
                f"no plan snapshot at {path}; {hint}",
                "the plan's shape:",
                *(f"  {line}" for line in text.splitlines()),
            ]
        where = shape_difference(text, stored) or "the shapes differ"
        return [
            f"plan shape differs from {path}",
            f"first difference: {where}",
            "shape diff (- stored, + found):",
            *shape_diff_lines(text, stored),
            f"if the new plan is intended, {hint}",
        ]
