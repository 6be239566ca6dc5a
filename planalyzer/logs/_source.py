"""Where log text comes from: paths and globs, gzip or plain, whole files or byte ranges.

A `Chunk` is the unit of work of both engines: a whole file, or the byte range of a large
plain file. Ranges are cut anywhere; the record reader owns exactly the records whose first
line starts inside its range (it skips the tail of the previous record and reads its own last
record past the end), so consecutive chunks neither lose nor repeat an entry.
"""

from __future__ import annotations

import glob
import gzip
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from planalyzer.errors import LogReadError

__all__ = ["Chunk", "Line", "chunks_of", "expand_paths", "is_gzip", "lines_of"]

_GZIP_MAGIC = b"\x1f\x8b"
_COUNT_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Chunk:
    """A file, or the part of a plain file from byte ``start`` to ``end`` (None: to its end)."""

    path: str
    start: int = 0
    end: int | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a log: 1-based number, byte offset and size, text without the newline."""

    number: int
    offset: int
    text: str
    size: int


def expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """Turn a path, a glob or a list of them into existing file names, in a stable order.

    Raises:
        LogReadError: a name matches no file.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    out: list[str] = []
    for item in items:
        name = os.fspath(item)
        if Path(name).is_file():
            out.append(name)
            continue
        matches = sorted(m for m in glob.glob(name) if Path(m).is_file())
        if not matches:
            raise LogReadError(f"{name}: no such log file (nor a glob that matches one)")
        out.extend(matches)
    return list(dict.fromkeys(out))


def is_gzip(path: str) -> bool:
    """True when the file starts with the gzip magic bytes (whatever its name says)."""
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def chunks_of(path: str, chunk_bytes: int | None) -> list[Chunk]:
    """Split a file into chunks of about ``chunk_bytes``; gzip files cannot be split."""
    size = os.path.getsize(path)
    if chunk_bytes is None or size <= chunk_bytes or is_gzip(path):
        return [Chunk(path)]
    starts = list(range(0, size, chunk_bytes))
    return [
        Chunk(path, start, starts[i + 1] if i + 1 < len(starts) else None)
        for i, start in enumerate(starts)
    ]


def _open(path: str) -> BinaryIO:
    try:
        if is_gzip(path):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb")
    except OSError as err:
        raise LogReadError(f"{path}: cannot open: {err.strerror or err}") from err


def _lines_before(f: BinaryIO, offset: int) -> int:
    """Count newlines in the first ``offset`` bytes (to number the lines of a later chunk)."""
    f.seek(0)
    count, left = 0, offset
    while left > 0:
        block = f.read(min(_COUNT_BLOCK, left))
        if not block:
            break
        count += block.count(b"\n")
        left -= len(block)
    return count


def lines_of(chunk: Chunk) -> Iterator[Line]:
    """Yield the lines of a chunk, from the first line starting at or after ``chunk.start``.

    Lines past ``chunk.end`` are yielded too: the record reader decides where to stop. Bytes
    that are not UTF-8 are replaced, never fatal.
    """
    with _open(chunk.path) as f:
        number, offset = 0, 0
        if chunk.start > 0:
            number = _lines_before(f, chunk.start - 1)
            f.seek(chunk.start - 1)
            offset = chunk.start - 1
            # Starting mid-line: the partial line belongs to the previous chunk.
            head = f.readline()
            offset += len(head)
            number += head.count(b"\n")
        for raw in f:
            number += 1
            text = raw.decode("utf-8", "replace")
            yield Line(number, offset, text.rstrip("\r\n"), len(raw))
            offset += len(raw)
