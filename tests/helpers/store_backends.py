"""A module-scoped ``shared_collector`` on each store backend, for HTTP test modules whose tests
share one collector (each with its own run ids) and test store behaviour.

Import it into a test module to override the session's SQLite-only ``shared_collector``::

    from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

Every test of the module then runs on a SQLite collector, then on a PostgreSQL one (a fresh
database on the session's :class:`PgCluster`); module-scoped fixtures built on
``shared_collector`` (e.g. a ``target`` project) follow it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.postgres import PgCluster


@pytest.fixture(scope="module", params=BACKENDS, name="shared_collector")
def shared_collector_per_backend(request: pytest.FixtureRequest,
                                 tmp_path_factory: pytest.TempPathFactory
                                 ) -> Iterator[CollectorProcess]:
    """One collector per backend for the module; stopped after its last test."""
    url = ""
    if request.param == "postgres":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database()
    proc = CollectorProcess(tmp_path_factory.mktemp(f"shared-{request.param}"), database_url=url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
