"""The Dask engine on a LocalCluster with two worker processes equals the local engine."""

from __future__ import annotations

import gzip
import random
import re

import pytest

import planalyzer as pa
from planalyzer.logs.reservoir import RESERVOIR_SIZE
from tests.unit.logs.logdata import FILES, comparable
from tests.unit.logs.test_logs_reservoir import bound, rank_error

distributed = pytest.importorskip("distributed", reason="pip install 'planalyzer[dask]'")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        yield dask_client


def test_dask_equals_local_on_split_files(client, server_logs, tmp_path):
    files = [server_logs.stderr, server_logs.csvlog, server_logs.jsonlog]
    packed = tmp_path / "server.log.gz"
    packed.write_bytes(gzip.compress(server_logs.stderr.read_bytes()))
    files.append(packed)
    local = pa.summarize_log(files)
    # Small chunks: every plain file is cut into several pieces at arbitrary bytes.
    on_dask = pa.summarize_log(files, engine="dask", client=client, chunk_bytes=40_000)
    assert on_dask.engine == "dask"
    assert on_dask.partitions > len(files)
    assert comparable(on_dask) == comparable(local)
    worked = {w for w in client.run(lambda dask_worker: dask_worker.id).values()}
    assert len(worked) == 2


def test_dask_percentiles_within_the_reservoir_error_on_a_large_group(client, tmp_path):
    """One group larger than the reservoir: count and total exact, p95 within the rank error."""
    line = next(x for x in FILES["jsonlog"].read_text().splitlines() if "ms  plan:" in x)
    logged = re.search(r"duration: ([\d.]+) ms", line).group(0)
    rng = random.Random(16)
    values = [round(rng.lognormvariate(0, 1.2), 3) for _ in range(1_500)]
    path = tmp_path / "one-query.json"
    path.write_text("".join(line.replace(logged, f"duration: {v:.3f} ms") + "\n" for v in values))
    local = pa.summarize_log(path)
    on_dask = pa.summarize_log(path, engine="dask", client=client, chunk_bytes=400_000)
    assert on_dask.partitions > 2
    (mine,), (theirs,) = local.groups, on_dask.groups
    assert mine.count == theirs.count == len(values) > RESERVOIR_SIZE
    assert mine.total_ms == pytest.approx(sum(values))
    assert theirs.total_ms == pytest.approx(sum(values))
    assert mine.worst.source == theirs.worst.source
    for fraction, got in ((0.5, theirs.p50_ms), (0.95, theirs.p95_ms), (0.99, theirs.p99_ms)):
        assert rank_error(values, fraction, got) <= bound(fraction)
    for fraction, got in ((0.5, mine.p50_ms), (0.95, mine.p95_ms), (0.99, mine.p99_ms)):
        assert rank_error(values, fraction, got) <= bound(fraction)
