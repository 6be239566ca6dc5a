"""A throwaway server that logs every statement's plan through auto_explain, and a workload.

Used by the log integration tests and by ``benchmarks/bench_logs.py``. The server writes the
same messages to all three destinations at once (``stderr`` through the logging collector,
``csvlog`` and ``jsonlog``), into its own data directory; `capture` copies them out before the
server and its directory are removed.

Every statement the workload runs carries a marker comment (``/* pa:<n> */``), so a test can
match each logged entry to the one statement that produced it. Fingerprints ignore comments,
so the markers do not split the groups.
"""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from planalyzer.live.throwaway import ThrowawayServer, throwaway_server

LINE_PREFIX = "%m [%p] %q%u@%d app=%a "
LOG_SETTINGS = {
    "logging_collector": "on",
    "log_destination": "stderr,csvlog,jsonlog",
    "log_directory": "log",  # relative: inside the data directory, which the server owns
    "log_filename": "server.log",
    "log_file_mode": "0644",
    "log_rotation_age": "0",
    "log_rotation_size": "0",
    "log_line_prefix": LINE_PREFIX,
    "compute_query_id": "on",
}

SETUP = """
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, region text NOT NULL);
INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['north','south','east','west'])[g % 4 + 1]
  FROM generate_series(1, 2000) g;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
  total numeric NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO orders SELECT g, g % 2000 + 1, (ARRAY['new','paid','shipped'])[g % 3 + 1],
  (g % 997) * 1.5, now() - (g % 1000) * interval '1 hour' FROM generate_series(1, 30000) g;
ANALYZE customers; ANALYZE orders;
"""

# (family, statement, parameters): one family = one query = one expected group.
WORKLOAD: tuple[tuple[str, str, tuple[Any, ...] | None], ...] = (
    ("order-by-id", "SELECT * FROM orders WHERE id = %s", (17,)),
    ("order-by-id", "SELECT * FROM orders WHERE id = 4242", None),
    ("orders-of-customer", "SELECT count(*), sum(total) FROM orders WHERE customer_id = %s", (7,)),
    (
        "region-report",
        "SELECT c.region, count(*) FROM orders o JOIN customers c ON c.id = o.customer_id\n"
        "WHERE o.status = %s GROUP BY c.region ORDER BY 2 DESC",
        ("paid",),
    ),
    (
        "recent-orders",
        "SELECT id,\n       status\n  FROM orders\n WHERE created_at > now() - interval '2 hours'\n"
        " ORDER BY id\n LIMIT 5",
        None,
    ),
    ("touch-order", "UPDATE orders SET status = 'paid' WHERE id = %s", (99,)),
    (
        "top-customers",
        "SELECT customer_id, sum(total) FROM orders GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        None,
    ),
)


_MARKERS = itertools.count()  # unique across runs in one process


@dataclass(frozen=True)
class Executed:
    """One statement the workload ran: its marker, family and the log_format it was logged in."""

    marker: str
    family: str
    plan_format: str


@dataclass(frozen=True)
class CapturedLogs:
    """The three log files of one run and what was executed to produce them."""

    stderr: Path
    csvlog: Path
    jsonlog: Path
    executed: tuple[Executed, ...]


@contextmanager
def logging_server() -> Iterator[ThrowawayServer]:
    """A throwaway server logging to stderr, csvlog and jsonlog, with the workload's tables."""
    with throwaway_server(hypopg=False, settings=LOG_SETTINGS) as server:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute(SETUP)
        yield server


def _session(dsn: str, plan_format: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("LOAD 'auto_explain'")
    conn.execute("SET auto_explain.log_min_duration = 0")
    conn.execute("SET auto_explain.log_analyze = on")
    conn.execute("SET auto_explain.log_buffers = on")
    conn.execute("SET auto_explain.log_verbose = on")
    conn.execute(f"SET auto_explain.log_format = '{plan_format}'")
    return conn


def run_workload(
    server: ThrowawayServer, *, rounds: int, threads: int = 2, formats: tuple[str, ...] = ("json",)
) -> list[Executed]:
    """Run every workload statement ``rounds`` times per thread and format, threads at once.

    The threads' sessions run concurrently, so their entries interleave in the logs.
    """
    executed: list[Executed] = []
    lock = threading.Lock()
    # Lockstep: every thread starts each statement together, so the sessions' entries interleave.
    step = threading.Barrier(threads)

    def worker(thread: int) -> None:
        for plan_format in formats:
            with _session(server.dsn, plan_format) as conn:
                for _ in range(rounds):
                    for family, statement, params in WORKLOAD:
                        step.wait(timeout=60)
                        with lock:
                            marker = f"pa:{next(_MARKERS)}"
                        sql = f"/* {marker} */ {statement}"
                        conn.execute(sql, params)
                        with lock:
                            executed.append(Executed(marker, family, plan_format))

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return executed


def add_index(server: ThrowawayServer) -> None:
    """Index orders.customer_id: the orders-of-customer plan changes from a scan of the table."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("CREATE INDEX orders_customer_id_idx ON orders (customer_id)")
        conn.execute("ANALYZE orders")


def capture(server: ThrowawayServer, executed: list[Executed], into: Path) -> CapturedLogs:
    """Wait until the collector has written every entry, then copy the three logs to ``into``."""
    log_dir = server.data_dir / "log"
    names = {"stderr": "server.log", "csvlog": "server.csv", "jsonlog": "server.json"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # Every entry's first line has "ms  plan:" once, in every format.
        counts = [(log_dir / n).read_bytes().count(b"ms  plan:") for n in names.values()]
        if min(counts) >= len(executed):
            break
        time.sleep(0.2)
    into.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, name in names.items():
        paths[kind] = into / name
        shutil.copyfile(log_dir / name, paths[kind])
    return CapturedLogs(paths["stderr"], paths["csvlog"], paths["jsonlog"], tuple(executed))


def main(argv: list[str]) -> None:
    """``python -m tests.integration.logs.autoexplain DIR [ROUNDS]``: write sample logs to DIR."""
    into, rounds = Path(argv[0]), int(argv[1]) if len(argv) > 1 else 1
    with logging_server() as server:
        executed = run_workload(server, rounds=rounds, threads=1, formats=("json", "text"))
        add_index(server)
        executed += run_workload(server, rounds=1, threads=1, formats=("json",))
        capture(server, executed, into)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
