"""One auto_explain server for the log tests: it runs the workload and its logs are captured.

Two sessions run the workload at once (so their entries interleave), first with
``auto_explain.log_format = json``, then ``text``; then an index is created and the workload
runs once more in JSON, so one query's plan changes. The three log files are copied out before
the server is removed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planalyzer.errors import DatabaseError
from planalyzer.live.throwaway import DEFAULT_MAJOR, find_pg_bin
from tests.fixtures_db import unavailable
from tests.integration.logs.autoexplain import (
    CapturedLogs,
    add_index,
    capture,
    logging_server,
    run_workload,
)


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> CapturedLogs:
    """The captured logs of the workload and what was executed (once per session)."""
    if find_pg_bin(DEFAULT_MAJOR) is None:
        unavailable(f"PostgreSQL {DEFAULT_MAJOR} server binaries not found")
    try:
        with logging_server() as server:
            executed = run_workload(server, rounds=3, threads=2, formats=("json", "text"))
            add_index(server)
            executed += run_workload(server, rounds=1, threads=2, formats=("json",))
            return capture(server, executed, tmp_path_factory.mktemp("server-logs"))
    except DatabaseError as err:
        unavailable(f"the auto_explain server did not start: {err}")
        raise  # unreachable: unavailable() skips or fails


@pytest.fixture(scope="session")
def log_dir(server_logs: CapturedLogs) -> Path:
    return server_logs.stderr.parent
