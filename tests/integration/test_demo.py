"""`planalyzer demo` end to end, and the live CLI commands against the test server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from planalyzer.cli._demo import SLOW_QUERY

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "planalyzer", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def test_demo_runs_the_whole_job_and_cleans_up(pg_server):
    # pg_server makes CI fail (not skip) without the binaries; the demo starts its own server
    # from the same binaries, in a temporary directory of its own (so that other processes'
    # servers do not count) that must be empty again afterwards.
    private_tmp = Path(tempfile.mkdtemp(prefix="pa-demo-"))  # short: the server's socket is in it
    private_tmp.chmod(0o755)  # as root, the server runs as another user and must reach its dir
    result = run(
        "demo", env={"PLANALYZER_PG_BIN": str(pg_server.bin_dir), "TMPDIR": str(private_tmp)}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Part 1 — bundled plans" in out
    assert "Part 2 — a throwaway PostgreSQL" in out
    assert SLOW_QUERY in out
    # the advice, its migration, the real build, then the comparison
    assert "The migration it writes" in out
    assert out.count("CREATE INDEX CONCURRENTLY") >= 2
    assert "Building the recommended indexes for real" in out
    comparison = out[out.index("Plan comparison:") :]
    assert "faster" in comparison.splitlines()[0]
    assert "changed" in comparison
    after = out[out.index("The same query now:") : out.index("Plan comparison:")]
    assert "Seq Scan on orders" not in after
    assert "the throwaway server is stopped and its files deleted" in result.stderr
    assert not list(private_tmp.glob("planalyzer-pg-*"))
    private_tmp.rmdir()


def test_explain_command_on_the_demo_database(demo_dsn):
    result = run(
        "explain", "--dsn", demo_dsn, "SELECT * FROM orders WHERE customer_id = 42", "--json"
    )
    assert result.returncode == 0, result.stderr
    (statement,) = json.loads(result.stdout)["statements"]
    assert statement["analyzed"] is True
    assert statement["total_time_ms"] > 0
    rules = {f["rule"] for f in statement["findings"]}
    assert "seq-scan" in rules  # orders.customer_id has no index in the demo schema


def test_explain_refuses_ddl_with_exit_2(demo_dsn):
    result = run("explain", "--dsn", demo_dsn, "DROP TABLE orders")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("planalyzer: error: ")


def test_advise_command_writes_migrations(demo_dsn, tmp_path):
    workload = tmp_path / "workload.sql"
    workload.write_text(
        "SELECT * FROM orders WHERE customer_id = 42;\n"
        "SELECT * FROM order_items WHERE order_id = 7;\n"
    )
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    result = run(
        "advise", "--dsn", demo_dsn, str(workload), "--budget", "500MB",
        "--migrations", str(migrations),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "CREATE INDEX CONCURRENTLY" in result.stdout
    assert "advising on 2 statements" in result.stderr
    ups = sorted(migrations.glob("*.up.sql"))
    downs = sorted(migrations.glob("*.down.sql"))
    assert ups
    assert len(ups) == len(downs)
    assert all("CONCURRENTLY" in path.read_text() for path in ups + downs)


def test_advise_json(demo_dsn, tmp_path):
    workload = tmp_path / "w.sql"
    workload.write_text("SELECT * FROM orders WHERE customer_id = 42")
    result = run("advise", "--dsn", demo_dsn, str(workload), "--json", "--max-indexes", "1")
    assert result.returncode == 0, result.stderr
    advice = json.loads(result.stdout)
    assert len(advice["recommendations"]) == 1
    assert advice["recommendations"][0]["table"] == "public.orders"
