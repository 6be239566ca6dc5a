"""The one colour scheme: heat bands for a node's share of time, severity colours, ANSI codes.

Colour encodes one thing in every view, the share of the statement's time a node spends on its
own (exclusive time; the cost share for plans without ANALYZE), and is never the only signal:
the percentage is always printed next to it. The bands are our choice, made so that the one or
two nodes that dominate a plan stand out while the many cheap ones stay quiet.
"""

from __future__ import annotations

import os
from typing import TextIO

__all__ = ["HEAT_BANDS", "Painter", "heat_level", "use_color"]

HEAT_BANDS: tuple[float, ...] = (0.05, 0.15, 0.30, 0.60)
"""Lower bounds of heat levels 1..4 (share of exclusive time); below the first is level 0."""

# SGR codes (ECMA-48): plain 16-colour codes only, readable on dark and light terminals alike.
_ANSI: dict[str, str] = {
    "bold": "1",
    "dim": "2",
    "critical": "1;31",
    "warning": "1;33",
    "info": "36",
    "mark": "1;35",
    "good": "32",
    "bad": "31",
    "heat0": "",
    "heat1": "33",
    "heat2": "1;33",
    "heat3": "31",
    "heat4": "1;37;41",
}


def heat_level(share: float | None) -> int:
    """The heat level (0..4) of a share of time, by `HEAT_BANDS`.

    Example:
        >>> [heat_level(s) for s in (None, 0.01, 0.05, 0.2, 0.45, 0.97)]
        [0, 0, 1, 2, 3, 4]
    """
    if share is None:
        return 0
    return sum(1 for bound in HEAT_BANDS if share >= bound)


def use_color(stream: TextIO, choice: str = "auto") -> bool:
    """Whether to colour output written to ``stream``.

    ``always``/``never`` decide outright; ``auto`` colours a terminal only, and honours the
    ``FORCE_COLOR`` (force-color.org: non-empty and not ``0``/``false``, colour even a pipe,
    as CI log viewers want) and ``NO_COLOR`` (no-color.org: non-empty, no colour)
    conventions, then ``TERM=dumb``. ``FORCE_COLOR`` wins over ``NO_COLOR`` when both are
    set, as in Node.js.
    """
    if choice == "always":
        return True
    if choice == "never":
        return False
    force = os.environ.get("FORCE_COLOR")
    if force and force.strip().lower() not in ("0", "false"):
        return True
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Painter:
    r"""Wraps text in ANSI colour codes, or returns it unchanged when colour is off.

    Renderers lay out plain text first (widths count characters, and escape codes have none)
    and paint the finished pieces, so a coloured line is exactly as wide as a plain one.

    Example:
        >>> Painter(enabled=False)("slow", "critical")
        'slow'
        >>> Painter(enabled=True)("slow", "critical")
        '\x1b[1;31mslow\x1b[0m'
    """

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, role: str | None) -> str:
        """``text`` in the colour of ``role`` (a key of the scheme), or unchanged."""
        code = _ANSI.get(role or "", "")
        if not self.enabled or not code or not text:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"
