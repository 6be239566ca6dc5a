"""A throwaway PostgreSQL cluster started from the Debian server binaries.

The test suite, the fixture generator and ``planalyzer demo`` all need a real server with HypoPG
that nobody else uses and that leaves nothing behind. `throwaway_server` gives exactly that: it
runs ``initdb`` into a temporary directory, starts ``postgres`` on ``127.0.0.1`` and a free port
with trust authentication for the ``postgres`` role, optionally creates the ``hypopg``
extension, and always stops the server and deletes the directory on exit.

Durability is switched off (``fsync``, ``synchronous_commit``, ``full_page_writes``) because the
cluster is thrown away anyway and loading data becomes several times faster. Planner settings are
left at their defaults so plans look like those of a stock server.

``initdb`` refuses to run as root, so when the current process is root every server command runs
as the ``postgres`` operating-system user (through ``runuser``, else ``setpriv``) and the
temporary directory is handed to that user.

Usage (not a doctest, it needs the server binaries)::

    with throwaway_server() as server:
        with psycopg.connect(server.dsn) as conn:
            conn.execute("SELECT 1")
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from planalyzer.errors import DatabaseError, ExtensionMissingError

__all__ = [
    "DEFAULT_MAJOR",
    "ThrowawayServer",
    "find_pg_bin",
    "hypopg_available",
    "install_hint",
    "throwaway_server",
]

DEFAULT_MAJOR = 15
"""The PostgreSQL major version the test infrastructure targets."""

_PG_BIN_ENV = "PLANALYZER_PG_BIN"
_OS_USER = "postgres"
_SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_.]*$")
_START_ATTEMPTS = 3  # a free port can be taken between probing and binding it

# Settings every throwaway cluster gets. Durability is pointless for a cluster that is deleted on
# exit; English messages and UTC keep error texts and timestamps identical on every machine.
_BASE_SETTINGS: dict[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "lc_messages": "C",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "logging_collector": "off",
    "max_connections": "50",
    # Tables created and filled in one transaction skip WAL entirely at wal_level=minimal.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # Autovacuum would re-analyze and vacuum at arbitrary moments, making plans unrepeatable.
    "autovacuum": "off",
}


def install_hint(major: int = DEFAULT_MAJOR) -> str:
    """The one-line remedy for missing server binaries or HypoPG.

    Example:
        >>> install_hint(15)
        'apt-get update && apt-get install -y postgresql-15 postgresql-15-hypopg'
    """
    return f"apt-get update && apt-get install -y postgresql-{major} postgresql-{major}-hypopg"


def find_pg_bin(major: int = DEFAULT_MAJOR) -> Path | None:
    """Locate the directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    ``$PLANALYZER_PG_BIN`` wins when set (for a server built elsewhere); otherwise the Debian
    layout ``/usr/lib/postgresql/<major>/bin`` is used. ``PATH`` is deliberately not searched:
    it often holds only the client tools, or those of another major version.

    Args:
        major: the PostgreSQL major version wanted.

    Returns:
        The directory, or None when the binaries are not installed.
    """
    override = os.environ.get(_PG_BIN_ENV)
    candidates = [Path(override)] if override else []
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def hypopg_available(bin_dir: Path) -> bool:
    """Tell whether the HypoPG extension files are installed for the server in ``bin_dir``."""
    try:
        share = subprocess.run(
            [str(bin_dir / "pg_config"), "--sharedir"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        # No pg_config (a separate package on some systems): assume the Debian layout.
        share = f"/usr/share/postgresql/{bin_dir.parent.name}"
    return (Path(share) / "extension" / "hypopg.control").is_file()


@dataclass(frozen=True)
class ThrowawayServer:
    """A running throwaway cluster, valid inside the `throwaway_server` block only.

    Attributes:
        host: always ``127.0.0.1``.
        port: the TCP port the server listens on.
        major: the server's major version (read from the data directory).
        data_dir: the cluster's data directory (deleted on exit).
        bin_dir: where the server binaries were found.
    """

    host: str
    port: int
    major: int
    data_dir: Path
    bin_dir: Path

    @property
    def dsn(self) -> str:
        """Conninfo for the ``postgres`` database as the ``postgres`` role (trust auth)."""
        return self.dsn_for("postgres")

    def dsn_for(self, dbname: str) -> str:
        """Conninfo for another database on this server, e.g. one made with CREATE DATABASE."""
        return make_conninfo(host=self.host, port=self.port, user=_OS_USER, dbname=dbname)


@contextlib.contextmanager
def throwaway_server(
    *,
    hypopg: bool = True,
    settings: Mapping[str, str] | None = None,
    major: int = DEFAULT_MAJOR,
) -> Iterator[ThrowawayServer]:
    """Start a private PostgreSQL cluster, yield it, then stop it and delete its files.

    Args:
        hypopg: create the ``hypopg`` extension in the ``postgres`` database. New databases made
            with ``CREATE DATABASE`` copy ``template1``, so they need their own
            ``CREATE EXTENSION hypopg``.
        settings: extra ``postgresql.conf`` settings (name → value), applied after the defaults.
        major: the major version to look for.

    Yields:
        The running server.

    Raises:
        DatabaseError: the binaries are missing, or the cluster could not be created or started
            (the message quotes the server log).
        ExtensionMissingError: ``hypopg=True`` but the extension is not installed.
    """
    bin_dir = find_pg_bin(major)
    if bin_dir is None:
        raise DatabaseError(
            f"PostgreSQL {major} server binaries not found (looked in ${_PG_BIN_ENV} and "
            f"/usr/lib/postgresql/{major}/bin). Install them with: {install_hint(major)}"
        )
    if hypopg and not hypopg_available(bin_dir):
        raise ExtensionMissingError.hypopg(
            f"no hypopg.control for the server in {bin_dir}", server_major=major
        )
    conf = {**_BASE_SETTINGS, **(settings or {})}
    for name in conf:
        if not _SETTING_NAME.match(name):
            raise DatabaseError(f"invalid server setting name {name!r}")

    runner = _Runner.for_current_user()
    root = Path(tempfile.mkdtemp(prefix="planalyzer-pg-"))
    data_dir = root / "data"
    initialized = False
    try:
        runner.give(root)
        runner.run(
            bin_dir / "initdb",
            "-D", str(data_dir), "-U", _OS_USER, "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
            cwd=root,
        )  # fmt: skip
        initialized = True
        conf["unix_socket_directories"] = str(root)
        port = _start(runner, bin_dir, data_dir, root, conf)
        server = ThrowawayServer(
            host="127.0.0.1",
            port=port,
            major=int((data_dir / "PG_VERSION").read_text().strip()),
            data_dir=data_dir,
            bin_dir=bin_dir,
        )
        if hypopg:
            _create_hypopg(server)
        yield server
    finally:
        if initialized:
            # Also after a failed or interrupted start, as the postmaster may be up. Immediate
            # mode: nothing here needs a clean shutdown, and it takes milliseconds.
            with contextlib.suppress(DatabaseError):
                runner.run(bin_dir / "pg_ctl", "-D", str(data_dir), "-m", "immediate", "-w",
                           "stop", cwd=root)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _start(runner: _Runner, bin_dir: Path, data_dir: Path, root: Path, conf: dict[str, str]) -> int:
    """Write the settings with a free port and start the server; retry if the port was taken."""
    log = root / "server.log"
    last_error: DatabaseError | None = None
    for _ in range(_START_ATTEMPTS):
        port = _free_port()
        _write_conf(data_dir / "postgresql.auto.conf", {**conf, "port": str(port)})
        try:
            runner.run(bin_dir / "pg_ctl", "-D", str(data_dir), "-l", str(log), "-w",
                       "-t", "60", "start", cwd=root)  # fmt: skip
        except DatabaseError as err:
            last_error = err
            continue
        return port
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    message = last_error.message if last_error else "the server did not start"
    raise DatabaseError(f"{message}\nserver log:\n{tail}") from last_error


def _write_conf(path: Path, conf: Mapping[str, str]) -> None:
    """Write settings in postgresql.conf syntax, quoting every value."""
    lines = [f"{name} = '{value.replace(chr(39), chr(39) * 2)}'" for name, value in conf.items()]
    path.write_text("\n".join(lines) + "\n")


def _free_port() -> int:
    """Ask the kernel for a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _create_hypopg(server: ThrowawayServer) -> None:
    """Create the hypopg extension in the ``postgres`` database."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(server.dsn, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            return
        except psycopg.OperationalError as err:
            # pg_ctl -w returned, but a freshly started server may still refuse for a moment.
            if time.monotonic() > deadline:
                raise DatabaseError(
                    "the throwaway server does not accept connections",
                    sqlstate=err.sqlstate,
                    server_message=str(err).strip(),
                ) from err
            time.sleep(0.1)
        except psycopg.Error as err:
            raise ExtensionMissingError.hypopg(
                err.diag.message_primary or str(err), server_major=server.major
            ) from err


@dataclass(frozen=True)
class _Runner:
    """Runs server commands, switching to the ``postgres`` OS user when we are root."""

    prefix: tuple[str, ...]
    uid: int | None
    gid: int | None

    @classmethod
    def for_current_user(cls) -> _Runner:
        if os.geteuid() != 0:
            return cls(prefix=(), uid=None, gid=None)
        try:
            account = pwd.getpwnam(_OS_USER)
        except KeyError:
            raise DatabaseError(
                "running as root, and initdb refuses to run as root, but there is no "
                f"'{_OS_USER}' OS user to run it as. Installing the server package creates it: "
                f"{install_hint()}"
            ) from None
        if shutil.which("runuser"):
            prefix: tuple[str, ...] = ("runuser", "-u", _OS_USER, "--")
        else:
            prefix = ("setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
                      "--init-groups", "--")  # fmt: skip
        return cls(prefix=prefix, uid=account.pw_uid, gid=account.pw_gid)

    def give(self, path: Path) -> None:
        """Hand ``path`` to the user the server runs as."""
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)

    def run(self, program: Path, *args: str, cwd: Path) -> None:
        """Run one server command; raise DatabaseError with its output when it fails."""
        argv = [*self.prefix, str(program), *args]
        try:
            subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True)
        except subprocess.CalledProcessError as err:
            output = (err.stderr or err.stdout or "").strip()[-2000:]
            raise DatabaseError(f"{program.name} failed (exit {err.returncode}): {output}") from err
        except OSError as err:
            raise DatabaseError(f"cannot run {program}: {err}") from err
