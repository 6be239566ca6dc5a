"""The unit the text reader works on: one plan line, with where it was in the input."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["BREAK", "Line"]

BREAK = "\x00break"
"""Content of a marker line: one statement's output ended here (a header, a footer, a log entry)."""


class Line(NamedTuple):
    """One plan line: 1-based line number in the input, column of its first character, text."""

    number: int
    column: int
    text: str
