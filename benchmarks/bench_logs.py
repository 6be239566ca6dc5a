"""Log summarising speed (MB/s per core, local and Dask) and peak memory against log size.

Run: ``python benchmarks/bench_logs.py`` (``--base-mb 10 --big-mb 500`` are the defaults;
``--big-mb 50`` for a quicker run). Needs the PostgreSQL 15 server binaries and, for the Dask
rows, ``pip install 'planalyzer[dask]'``.

1. A throwaway server with auto_explain (``log_min_duration = 0``, ANALYZE, BUFFERS, VERBOSE)
   runs the test workload from two sessions at once, in JSON and in text format, until its
   stderr log reaches ``--base-mb``; an index is created half-way so one plan changes.
2. That log is replicated (concatenated) to ``--big-mb``. Files go to a temporary directory
   under /tmp and are deleted at the end; nothing is written into the repository.
3. Speed: ``summarize_log`` on the base log, local (one process) and on a Dask LocalCluster
   with 1 and 2 single-threaded worker processes, chunks of a quarter of the file.
4. Memory: peak RSS (VmHWM) of a fresh interpreter summarising the base and the big log (local).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import planalyzer as pa  # noqa: E402
from tests.integration.logs.autoexplain import (  # noqa: E402
    add_index,
    capture,
    logging_server,
    run_workload,
)

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
_PEAK = """
import json, sys, time
import planalyzer as pa
start = time.perf_counter()
summary = pa.summarize_log(sys.argv[1])
print(json.dumps({"entries": summary.entries, "groups": summary.group_count,
                  "seconds": time.perf_counter() - start,
                  "peak_mb": next(int(line.split()[1]) for line in open("/proc/self/status")
                                  if line.startswith("VmHWM:")) / 1024}))
"""


def generate(into: Path, base_mb: float) -> Path:
    """Replay the workload under auto_explain until the stderr log holds ``base_mb``."""
    with logging_server() as server:
        executed = []
        log = server.data_dir / "log" / "server.log"
        indexed = False
        while log.stat().st_size < base_mb * 1e6:
            executed += run_workload(server, rounds=5, threads=2, formats=("json", "text"))
            if not indexed and log.stat().st_size > base_mb * 1e6 / 2:
                add_index(server)
                indexed = True
        return capture(server, executed, into).stderr


def replicate(source: Path, target: Path, mb: float) -> Path:
    text = source.read_bytes()
    with target.open("wb") as out:
        written = 0
        while written < mb * 1e6:
            out.write(text)
            written += len(text)
    return target


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def dask_rate(path: Path, workers: int) -> tuple[float, object]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        size = path.stat().st_size
        return timed(
            lambda: pa.summarize_log(
                path, engine="dask", client=client, chunk_bytes=max(1, size // 4 + 1)
            )
        )


def peak(path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-mb", type=float, default=10)
    parser.add_argument("--big-mb", type=float, default=500)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="planalyzer-bench-logs-"))
    try:
        generated = generate(work / "server", args.base_mb)
        base = replicate(generated, work / "base.log", args.base_mb)
        big = replicate(generated, work / "big.log", args.big_mb)
        mb = base.stat().st_size / 1e6
        rows = []
        seconds, summary = timed(lambda: pa.summarize_log(base))
        rows.append(("local, 1 process", 1, seconds, summary))
        if not args.no_dask:
            for workers in (1, 2):
                seconds, summary = dask_rate(base, workers)
                rows.append((f"dask, {workers} worker process(es)", workers, seconds, summary))
        load = os.getloadavg()[0]
        print(f"Machine: {os.cpu_count()} CPUs, load average {load:.1f}, Python "
              f"{platform.python_version()}, {datetime.date.today()}")  # fmt: skip
        print(f"Log: {mb:.1f} MB stderr, {rows[0][3].entries:,} entries, "
              f"{rows[0][3].group_count} groups (JSON and text plans)\n")  # fmt: skip
        print("| engine | seconds | MB/s | MB/s per core | entries/s |")
        print("|---|---:|---:|---:|---:|")
        for name, cores, seconds, summary in rows:
            print(f"| {name} | {seconds:.1f} | {mb / seconds:.2f} | {mb / seconds / cores:.2f} "
                  f"| {summary.entries / seconds:,.0f} |")  # fmt: skip
        print()
        print("| log | MB | entries | seconds | peak RSS MB |")
        print("|---|---:|---:|---:|---:|")
        for name, path in (("base", base), ("replicated", big)):
            figures = peak(path)
            print(f"| {name} | {path.stat().st_size / 1e6:.0f} | {figures['entries']:,} | "
                  f"{figures['seconds']:.0f} | {figures['peak_mb']:.0f} |")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
