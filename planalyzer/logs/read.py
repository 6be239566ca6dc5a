"""`read_log`: stream the auto_explain entries of server logs, one entry in memory at a time."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from planalyzer.errors import LogReadError
from planalyzer.logs._assemble import assemble
from planalyzer.logs._records import FORMATS, Counts, records
from planalyzer.logs._source import Chunk, expand_paths
from planalyzer.logs.entry import LogEntry, Malformed

__all__ = ["DEFAULT_MAX_ENTRY_BYTES", "MALFORMED_KEPT", "LogStream", "read_chunk", "read_log"]

DEFAULT_MAX_ENTRY_BYTES = 64 << 20
"""Largest entry read (64 MiB); a longer one is reported as malformed, so one runaway record
cannot take unbounded memory."""

MALFORMED_KEPT = 100
"""Malformed entries whose ``file:line`` is kept; beyond that they are only counted."""

Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def read_chunk(
    chunk: Chunk, counts: Counts, *, log_format: str, max_entry_bytes: int
) -> Iterator[LogEntry | Malformed]:
    """Entries and malformed entries of one chunk, in log order."""
    for found in records(chunk, counts, log_format=log_format, max_entry_bytes=max_entry_bytes):
        yield assemble(found, chunk.path)


def check_format(log_format: str) -> str:
    """Validate a ``log_format`` argument."""
    if log_format != "auto" and log_format not in FORMATS:
        raise LogReadError(
            f"unknown log format {log_format!r}; expected auto, {', '.join(FORMATS)}"
        )
    return log_format


@dataclass
class LogStream:
    """The entries of some logs, read lazily; iterate it once.

    Malformed entries are not yielded: they are counted in `malformed_count` and the first
    `MALFORMED_KEPT` are listed in `malformed`, each with its ``file:line`` and reason, so none
    is lost silently. `lines` and `entries` count what has been read so far.
    """

    paths: list[str]
    log_format: str = "auto"
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
    malformed: list[Malformed] = field(default_factory=list)
    malformed_count: int = 0
    entries: int = 0
    counts: Counts = field(default_factory=Counts)

    @property
    def lines(self) -> int:
        """Log lines read so far."""
        return self.counts.lines

    def __iter__(self) -> Iterator[LogEntry]:
        for path in self.paths:
            chunk = Chunk(path)
            for item in read_chunk(
                chunk, self.counts, log_format=self.log_format, max_entry_bytes=self.max_entry_bytes
            ):
                if isinstance(item, Malformed):
                    self.malformed_count += 1
                    if len(self.malformed) < MALFORMED_KEPT:
                        self.malformed.append(item)
                    continue
                self.entries += 1
                yield item


def read_log(
    paths: Paths, *, log_format: str = "auto", max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
) -> LogStream:
    """Read the auto_explain entries of PostgreSQL server logs.

    Args:
        paths: a file, a glob (``"postgresql-*.log.gz"``) or a list of them; gzip is detected
            from the content.
        log_format: ``auto`` (from the name ``.csv``/``.json``, else the first line),
            ``stderr`` (any ``log_line_prefix``), ``csvlog`` or ``jsonlog``.
        max_entry_bytes: entries longer than this are reported as malformed and skipped.

    Returns:
        A `LogStream`: iterate it for `LogEntry` objects, then read its ``malformed`` list.

    Raises:
        LogReadError: a path matches no file, or the format name is unknown.

    Example:
        >>> import planalyzer as pa
        >>> stream = pa.read_log(["tests/unit/logs/data/server.log"])
        >>> sorted({e.plan_format for e in stream}) >= ["json"]
        True
    """
    return LogStream(expand_paths(paths), check_format(log_format), max_entry_bytes)
