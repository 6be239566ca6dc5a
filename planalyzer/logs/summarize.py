"""`summarize_log`: one pass over server logs into query groups ranked by total time."""

from __future__ import annotations

from typing import Any

from planalyzer.errors import LogReadError
from planalyzer.logs._accumulate import SummaryAcc
from planalyzer.logs._source import Chunk, chunks_of, expand_paths
from planalyzer.logs.fingerprint import GROUP_BY
from planalyzer.logs.read import DEFAULT_MAX_ENTRY_BYTES, Paths, check_format, read_chunk
from planalyzer.logs.summary import LogSummary
from planalyzer.rules.config import RuleConfig

__all__ = ["DEFAULT_CHUNK_BYTES", "ENGINES", "summarize_chunk", "summarize_log"]

ENGINES = ("local", "dask")
DEFAULT_CHUNK_BYTES = 64 << 20
"""Plain files larger than this are split into pieces of about this size for Dask."""


def summarize_chunk(
    chunk: Chunk,
    *,
    log_format: str = "auto",
    group_by: str = "fingerprint",
    config: RuleConfig | None = None,
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
) -> SummaryAcc:
    """The partial summary of one chunk (a whole file or a byte range of one)."""
    acc = SummaryAcc(group_by=group_by, config=config)
    acc.files.add(chunk.path)
    for item in read_chunk(
        chunk, acc.counts, log_format=log_format, max_entry_bytes=max_entry_bytes
    ):
        acc.add(item)
    return acc


def summarize_log(
    paths: Paths,
    *,
    engine: str = "local",
    client: Any = None,
    top: int | None = None,
    group_by: str = "fingerprint",
    config: RuleConfig | None = None,
    log_format: str = "auto",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
) -> LogSummary:
    """Group the auto_explain entries of server logs by query and rank them by total time.

    One streaming pass: memory grows with the number of distinct queries (each keeps its
    aggregates, a bounded reservoir of durations, its slowest entry, its plan shapes and merged
    problems), never with the size of the logs.

    Args:
        paths: a file, a glob or a list of them (plain or gzip; see `read_log`).
        engine: ``local`` (this process, one core) or ``dask`` (needs ``planalyzer[dask]``):
            each file, and each ``chunk_bytes`` piece of a large plain file, is summarised as
            a task and the partial summaries are merged. The result equals the local one,
            the percentiles within the reservoir's error (`planalyzer.logs.reservoir`).
        client: a ``distributed.Client`` to run the Dask engine on (your cluster; the files
            must be readable by its workers under the same paths). Without one, an active
            default client is used, else a local process pool.
        top: keep only the N groups with the most total time.
        group_by: ``fingerprint`` (pglast's; the default) or ``queryid`` (the server's, when
            entries carry one).
        config: rule thresholds for the diagnosis of each plan.
        log_format: ``auto``, ``stderr``, ``csvlog`` or ``jsonlog``.
        chunk_bytes: piece size for the Dask engine.
        max_entry_bytes: longer entries are reported as malformed.

    Returns:
        A `LogSummary`; print it, show it in a notebook, or ``to_dict()`` it.

    Raises:
        LogReadError: a path matches nothing, or an option is unknown, or Dask is missing.

    Example:
        >>> import planalyzer as pa
        >>> summary = pa.summarize_log("tests/unit/logs/data/server.json")
        >>> summary.entries == sum(g.count for g in summary.groups)
        True
    """
    check_format(log_format)
    if engine not in ENGINES:
        raise LogReadError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if group_by not in GROUP_BY:
        raise LogReadError(f"unknown group_by {group_by!r}; expected one of {', '.join(GROUP_BY)}")
    if top is not None and top < 1:
        raise LogReadError(f"top must be at least 1, got {top}")
    files = expand_paths(paths)
    options: dict[str, Any] = {
        "log_format": log_format,
        "group_by": group_by,
        "config": config,
        "max_entry_bytes": max_entry_bytes,
    }
    if engine == "dask":
        from planalyzer.logs._dask import summarize_on_dask

        chunks = [chunk for path in files for chunk in chunks_of(path, chunk_bytes)]
        return summarize_on_dask(chunks, client=client, options=options).finish(
            top=top, engine="dask"
        )
    total = SummaryAcc(group_by=group_by, config=config)
    total.partitions = 0
    for path in files:
        total.merge(summarize_chunk(Chunk(path), **options))
    return total.finish(top=top, engine="local")
