"""The line of application code that sent a statement: the first frame outside the libraries.

Frames inside planalyzer, the database drivers and ORMs (psycopg, SQLAlchemy, Django and their
helpers) and the standard library are skipped, so for a lazy load deep inside an ORM the call
site is the application line that touched the attribute — the line an N+1 report must name.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import sysconfig
from dataclasses import dataclass
from typing import Any

__all__ = ["CallSite", "call_site"]

_LIBRARIES = ("planalyzer", "psycopg", "psycopg_pool", "sqlalchemy", "django", "asgiref")
_MAX_FRAMES = 200  # a call site deeper than this in library code is reported as unknown


@dataclass(frozen=True)
class CallSite:
    """Where a statement came from.

    Attributes:
        file: the source file, relative to the working directory when under it.
        line: the line number.
        function: the function's name.
    """

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@functools.cache
def _skipped_roots() -> tuple[str, ...]:
    roots = set()
    for name in _LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            roots.add(os.path.join(os.path.realpath(location), ""))
    for key in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.join(os.path.realpath(path), ""))
    return tuple(sorted(roots))


@functools.lru_cache(maxsize=2048)
def _skipped(filename: str) -> bool:
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return not filename.startswith("<doctest")
    real = os.path.realpath(filename)
    # site-packages sits under the stdlib folder on most installs: do not skip all of it
    if f"{os.sep}site-packages{os.sep}" in real or f"{os.sep}dist-packages{os.sep}" in real:
        return any(real.startswith(root) for root in _skipped_roots() if "-packages" in root)
    return any(real.startswith(root) for root in _skipped_roots())


def _relative(filename: str) -> str:
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return filename if relative.startswith("..") else relative


def call_site() -> CallSite | None:
    """The first frame of the running call stack outside the libraries (None if none is)."""
    frame = sys._getframe(1)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return None
        code = frame.f_code
        if not _skipped(code.co_filename):
            return CallSite(_relative(code.co_filename), frame.f_lineno, _function(frame))
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _function(frame: Any) -> str:
    """The frame's function, or for a comprehension or lambda the function around it.

    Before Python 3.12 a list comprehension runs in a frame of its own named ``<listcomp>``;
    the function a reader looks for is the one that holds it.
    """
    name: str = frame.f_code.co_name
    outer = frame.f_back
    while name.startswith("<") and name != "<module>" and outer is not None:
        if outer.f_code.co_filename != frame.f_code.co_filename:
            break
        name = outer.f_code.co_name
        outer = outer.f_back
    return name
