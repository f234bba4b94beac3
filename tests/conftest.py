"""Shared fixtures: a real collector process on 127.0.0.1 with an ephemeral port, on SQLite or
on a real PostgreSQL.

Every end-to-end test uses :func:`collector` (function scope, fresh data dir) or
:func:`shared_collector` (session scope, for read-only or run-isolated tests).

Store contract: a test (or module, with ``pytestmark``) marked ``both_stores`` runs once per
backend: its ``collector`` (and ``store_backend``/``database_url``) is SQLite, then PostgreSQL
(a fresh database on the session's :class:`PgCluster`). Unmarked tests run on SQLite only.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.file_order import heaviest_files_first
from tests.helpers.postgres import PgCluster, private_cluster

BACKENDS = ("sqlite", "postgres")

# No per-example time limit for property tests: hypothesis' default 200 ms deadline is a timed
# assertion, which fails under load (parallel workers, a busy CI machine) and proves nothing.
settings.register_profile("rundial", deadline=None)
settings.load_profile("rundial")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_stores: run once on SQLite and once on PostgreSQL")
    _let_children_take_ctrl_c()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a pytest-xdist worker, the long files first (tests/helpers/file_order.py): with
    ``--no-loadscope-reorder`` (``make test``) that is the order the workers are handed them.
    A run without xdist keeps pytest's order."""
    if hasattr(config, "workerinput"):
        items[:] = heaviest_files_first(items)


def _let_children_take_ctrl_c() -> None:
    """Tests stop the CLI, ``make run`` and ``make run-cluster`` with SIGINT, as a user's
    Ctrl-C. A suite started in the background by a non-interactive shell (``make test &``)
    inherits SIGINT ignored, and every child would inherit that and never stop; a Python
    handler here is reset to the default at each child's exec."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if ("store_backend" in metafunc.fixturenames
            and metafunc.definition.get_closest_marker("both_stores") is not None):
        metafunc.parametrize("store_backend", BACKENDS)


@pytest.fixture
def store_backend() -> str:
    """The backend of this test's collector: "sqlite" unless the test is ``both_stores``."""
    return "sqlite"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One real PostgreSQL 15 server for the session, stopped and deleted at the end."""
    with private_cluster() as cluster:
        yield cluster


@pytest.fixture
def database_url(store_backend: str, request: pytest.FixtureRequest) -> str:
    """A fresh PostgreSQL database's URL for a ``postgres`` test, else "" (SQLite)."""
    if store_backend != "postgres":
        return ""
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


@pytest.fixture
def collector(tmp_path: Path, database_url: str) -> Iterator[CollectorProcess]:
    """A fresh collector with its own data dir (and database); stopped at the end."""
    proc = CollectorProcess(tmp_path / "collector-data", database_url=database_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def shared_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """One collector for the session (SQLite); tests must use their own run ids."""
    proc = CollectorProcess(tmp_path_factory.mktemp("shared-collector"))
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
