"""Where the CLI writes: results to stdout (coloured on a terminal only), notes to stderr."""

from __future__ import annotations

import json
import re
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from planalyzer.display.theme import use_color

__all__ = ["Console", "UsageError", "fold"]

_SGR = re.compile(r"\x1b\[[0-9;]*m")


class UsageError(Exception):
    """A command-line option's value cannot be used; the message names the option.

    Raised by the commands and reported by `planalyzer.cli.main` as a one-line usage error
    (exit status 2), like argparse's own.
    """


def fold(text: str, width: int | None) -> str:
    r"""Fit every line of ``text`` into ``width`` columns (colour codes do not count).

    The renderers already wrap to the width; this catches what they cannot (a very long
    identifier, text from the advisor or the server), breaking only lines that are too long.

    Example:
        >>> fold("short\n" + "x" * 12, 10)
        'short\nxxxxxxxxxx\n  xx'
    """
    if width is None:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        plain = _SGR.sub("", line)
        if len(plain) <= width:
            out.append(line)
            continue
        indent = " " * min(len(plain) - len(plain.lstrip()) + 2, width // 2)
        out.extend(
            textwrap.wrap(
                plain,
                width=width,
                subsequent_indent=indent,
                break_on_hyphens=False,
                drop_whitespace=True,
            )
            or [plain[:width]]
        )
    return "\n".join(out)


_fold = fold


def _is_json(text: str) -> bool:
    """True for a JSON document (``--json`` output), which must never be folded."""
    body = text.strip()
    if not (body[:1] in ("{", "[") and body[-1:] in ("}", "]")):
        return False
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


class Console:
    """The CLI's two streams, the colour decision, and a progress line for long runs.

    Results go to stdout so they can be piped; progress and notes go to stderr, where they
    never end up in a redirected report or in ``--json`` output.
    """

    def __init__(
        self,
        *,
        color: str = "auto",
        out: TextIO | None = None,
        err: TextIO | None = None,
        width: int | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.color = use_color(self.out, color)
        self.width = width

    def print(self, text: str = "", *, fold: bool = True) -> None:
        """A line (or block) of results, every line within the width.

        ``fold=False`` writes the text as is (SQL to copy, Markdown); a JSON document (text
        starting with ``{`` or ``[``) is never folded, since a folded string would not parse.
        """
        if fold and not _is_json(text):
            text = _fold(text, self.width)
        self.out.write(text + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        """A remark for the person at the terminal (stderr)."""
        self.err.write(text + "\n")
        self.err.flush()

    @contextmanager
    def progress(self, what: str) -> Iterator[None]:
        """Show ``what`` and the elapsed seconds on stderr while the block runs.

        On a terminal the line updates every half second; elsewhere (CI logs) a start line and
        an end line are written, so logs stay readable.
        """
        start = time.monotonic()
        live = bool(getattr(self.err, "isatty", None) and self.err.isatty())
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(0.5):
                self.err.write(f"\r{what} … {time.monotonic() - start:.0f} s")
                self.err.flush()

        ticker = threading.Thread(target=tick, daemon=True) if live else None
        if ticker is not None:
            ticker.start()
        else:
            self.note(f"{what} …")
        try:
            yield
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
                self.err.write("\r")
            self.note(f"{what}: done in {time.monotonic() - start:.1f} s")
