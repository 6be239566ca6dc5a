"""Memory stays flat as the log grows: peak RSS of a subprocess summarising a replicated log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.unit.logs.logdata import FILES

ROOT = Path(__file__).resolve().parents[3]

# Run in a fresh interpreter and read its own high-water mark (VmHWM). Not ru_maxrss: Linux
# carries that over from the parent across fork and exec, so it would report pytest's peak.
_SCRIPT = """
import json, sys
import planalyzer as pa
mode, path = sys.argv[1], sys.argv[2]
if mode == "summary":
    result = pa.summarize_log(path)
    entries = result.entries
else:  # what an implementation holding every entry would cost
    kept = list(pa.read_log(path))
    entries = len(kept)
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"entries": entries, "peak_mb": peak_kb / 1024}))
"""


def measure(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(out.stdout)


def replicate(path: Path, copies: int) -> Path:
    text = FILES["stderr"].read_text()
    with path.open("w") as out:
        for _ in range(copies):
            out.write(text)
    return path


def test_peak_memory_does_not_grow_with_the_log(tmp_path):
    small = replicate(tmp_path / "small.log", 8)
    large = replicate(tmp_path / "large.log", 80)  # ten times the log, ~4 MB
    small_run = measure("summary", small)
    large_run = measure("summary", large)
    assert large_run["entries"] == 10 * small_run["entries"]
    kept = measure("keep-all", large)
    growth = large_run["peak_mb"] - small_run["peak_mb"]
    retained = kept["peak_mb"] - small_run["peak_mb"]
    # Generous: a summary may grow by a few MB of allocator noise, never by what holding the
    # entries costs (measured alongside, so the bound means something on any machine).
    assert growth < 15, (small_run, large_run)
    assert growth < retained / 3, (small_run, large_run, kept)
