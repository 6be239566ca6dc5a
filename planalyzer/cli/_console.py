"""Where the CLI writes: results to stdout (coloured on a terminal only), notes to stderr."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from planalyzer.display.theme import use_color

__all__ = ["Console"]


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
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.color = use_color(self.out, color)

    def print(self, text: str = "") -> None:
        """A line (or block) of results."""
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
