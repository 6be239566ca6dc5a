"""The Dask engine: one task per chunk, partial summaries merged pairwise in a tree.

Dask and distributed are imported here only, so the rest of planalyzer does not need them.
"""

from __future__ import annotations

from typing import Any

from planalyzer.errors import LogReadError
from planalyzer.logs._accumulate import SummaryAcc
from planalyzer.logs._source import Chunk

__all__ = ["summarize_on_dask"]


def _merge(left: SummaryAcc, right: SummaryAcc) -> SummaryAcc:
    return left.merge(right)


def _summarize(chunk: Chunk, options: dict[str, Any]) -> SummaryAcc:
    from planalyzer.logs.summarize import summarize_chunk

    return summarize_chunk(chunk, **options)


def summarize_on_dask(chunks: list[Chunk], *, client: Any, options: dict[str, Any]) -> SummaryAcc:
    """Summarise every chunk as a task on ``client`` (or the default scheduler) and merge."""
    try:
        from dask.base import compute
        from dask.delayed import delayed
    except ImportError as err:
        raise LogReadError("engine='dask' needs Dask: pip install 'planalyzer[dask]'") from err
    if not chunks:
        empty = SummaryAcc(group_by=options["group_by"], config=options["config"])
        empty.partitions = 0
        return empty
    parts = [delayed(_summarize)(chunk, options) for chunk in chunks]
    # A tree of pairwise merges: log2(n) rounds, each merge on whichever worker holds a side.
    while len(parts) > 1:
        parts = [
            delayed(_merge)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    result: SummaryAcc
    if client is None:
        client = _default_client()
    if client is not None:
        result = client.compute(parts[0]).result()
    else:
        (result,) = compute(parts[0], scheduler="processes")  # type: ignore[no-untyped-call]
    return result


def _default_client() -> Any:
    """The active distributed client, if the user made one; else None."""
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client running
        return None
