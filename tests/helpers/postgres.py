"""A real, throwaway PostgreSQL 15 cluster for the tests: initdb into a temp dir, pg_ctl on a
free port, one fresh database per test, stopped at the end.

PostgreSQL refuses to run as root, and the tests may run as root, so the cluster is created and
run as the ``postgres`` system user (``runuser``) in a directory that user owns. ``fsync=off``:
a test cluster is thrown away, so durability is not what is measured here (benchmarks that
claim durability leave fsync on). Nothing is mocked.

A throwaway cluster (``fsync=off``) lives in memory, under /dev/shm, when that tmpfs has
:data:`TMPFS_MIN_FREE_BYTES` free, else in the temp dir. On this machine's disk (ext4 mounted
with ``discard``) a ``CREATE DATABASE`` cost ~0.25 s against ~0.07 s in memory, and deleting
a worker's cluster of a few hundred databases at the end of the suite ~20 s (every freed
block is discarded). A cluster with fsync on (the benchmarks') stays on disk.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("RUNDIAL_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT_SECONDS = 60
PORT_ATTEMPTS = 3
TMPFS = Path("/dev/shm")
# A suite's worker creates a few hundred databases of ~8 MB on its cluster (none is dropped).
TMPFS_MIN_FREE_BYTES = 8 * 1024**3


def postgres_available() -> str | None:
    """None when a cluster can be started here, else why not."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL server binaries not found in {PG_BIN} (make postgres installs them)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is missing (needed to run PostgreSQL as the postgres user)"
    return None


def scratch_parent(fsync: bool) -> Path | None:
    """Where a cluster's directory goes: /dev/shm for a throwaway (``fsync`` off) cluster when
    it has room, else None (the temp dir)."""
    if fsync or not TMPFS.is_dir():
        return None
    try:
        free_bytes = shutil.disk_usage(TMPFS).free
    except OSError:
        return None
    return TMPFS if free_bytes >= TMPFS_MIN_FREE_BYTES else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_on_a_free_port(start: Callable[[int], None]) -> int:
    """Call ``start(port)`` on a free port and return it. A port picked here can be taken by
    another process (e.g. a parallel test worker) before the server binds it: when ``start``
    raises RuntimeError naming "Address already in use", another free port is tried, up to
    :data:`PORT_ATTEMPTS` times; any other error is raised at once."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        try:
            start(port)
            return port
        except RuntimeError as exc:
            if attempt == PORT_ATTEMPTS or "Address already in use" not in str(exc):
                raise
    raise AssertionError("unreachable")


class PgCluster:
    """One PostgreSQL server. :meth:`start`, then :meth:`new_database` per test, :meth:`stop`.

    ``fsync``: False for tests (throwaway, in memory when there is room: :func:`scratch_parent`),
    True for benchmarks that claim durability (on disk).
    """

    def __init__(self, *, fsync: bool = False, max_connections: int = 300,
                 extra_options: str = "") -> None:
        self.extra_options = extra_options  # more ``-c name=value`` server settings
        self.port = 0
        self.fsync = fsync
        self.max_connections = max_connections
        self.root = Path(tempfile.mkdtemp(prefix="rundial-pg-", dir=scratch_parent(fsync)))
        self._counter = itertools.count(1)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "pg.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """initdb (first time only) and start the server on a free port; wait until it
        accepts connections. Raises RuntimeError with the server log on failure.

        A port picked here can be taken by another process (e.g. a parallel test worker)
        before the server binds it: then another free port is tried
        (:func:`start_on_a_free_port`). A port already set (a restart) is kept."""
        if not self.data_dir.exists():
            self._as_postgres_owner()
            self._run([str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-A", "trust",
                       "-U", "postgres", "--no-sync", "-E", "UTF8"])
        if self.port:
            self._start_on_port()
            return
        self.port = start_on_a_free_port(self._start_on)

    def _start_on(self, port: int) -> None:
        self.port = port
        self._start_on_port()

    def _start_on_port(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   f"-c fsync={'on' if self.fsync else 'off'} "
                   f"-c max_connections={self.max_connections} "
                   "-c synchronous_commit=on -c shared_buffers=128MB "
                   f"{self.extra_options}")
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_path),
                   "-w", "-t", str(START_TIMEOUT_SECONDS), "-o", options, "start"])

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: disconnect clients; ``immediate``: a crash)."""
        if self.data_dir.exists() and (self.data_dir / "postmaster.pid").exists():
            self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w",
                       "stop"], check=False)

    def restart(self, mode: str = "fast") -> None:
        """Stop then start on the same port and data: what a database restart looks like."""
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        """Stop the server and delete its files."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` with psql as the superuser; returns its output (tuples only).

        The server's own psql (Debian's ``/usr/bin/psql`` is a Perl wrapper that costs ~0.1 s
        a call, and every PostgreSQL test creates a database with one), run as the caller:
        it logs in over TCP as ``postgres`` (trust), so it needs no ``runuser``."""
        out = self._run([str(PG_BIN / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                         "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
                         database, "-c", sql], as_owner=False)
        return out

    def _as_postgres_owner(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.root.chmod(0o700)

    def _run(self, cmd: list[str], check: bool = True, as_owner: bool = True) -> str:
        if as_owner and os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, check=False)
        if check and done.returncode != 0:
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n"
                               f"{done.stderr}\n{log[-4000:]}")
        return done.stdout


@contextmanager
def private_cluster() -> Iterator[PgCluster]:
    """A started cluster of the caller's own (one a test may stop and restart), destroyed at
    the end; fails the test when PostgreSQL cannot run here."""
    reason = postgres_available()
    if reason is not None:
        pytest.fail(reason)
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()
