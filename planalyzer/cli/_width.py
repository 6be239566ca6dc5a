"""How wide the CLI's text may be, and the ``--width`` option's checks.

The width follows the terminal as other command-line tools do: ``COLUMNS`` when set (shells
export it, and a user can set it for one command), else the size of the terminal standard
output is attached to, else 100 columns (a pipe or a file: wide enough for a plan line, narrow
enough for a review pane).
"""

from __future__ import annotations

import argparse
import os
from typing import TextIO

__all__ = ["DEFAULT_WIDTH", "MIN_WIDTH", "terminal_width", "width_option"]

DEFAULT_WIDTH = 100
"""Width when the output is not a terminal and ``COLUMNS`` is not set."""

MIN_WIDTH = 50
"""Narrowest width the text views can honour: a node label, its figures and a condition need
this much once indented (deep trees stop indenting and print their level instead)."""


def terminal_width(stream: TextIO, environ: dict[str, str] | None = None) -> int:
    """``COLUMNS``, else the terminal's width, else `DEFAULT_WIDTH`; never below `MIN_WIDTH`.

    Example:
        >>> import io
        >>> terminal_width(io.StringIO(), {"COLUMNS": "132"}), terminal_width(io.StringIO(), {})
        (132, 100)
    """
    env = os.environ if environ is None else environ
    columns = env.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        try:
            return max(os.get_terminal_size(stream.fileno()).columns, MIN_WIDTH)
        except (OSError, ValueError):
            pass
    return DEFAULT_WIDTH


def width_option(text: str) -> int:
    """``--width``'s type: a whole number of columns, at least `MIN_WIDTH`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of columns, got {text!r}") from None
    if value < MIN_WIDTH:
        raise argparse.ArgumentTypeError(
            f"{value} columns is too narrow to print a plan; use at least {MIN_WIDTH}"
        )
    return value
