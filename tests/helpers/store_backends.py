"""A module-scoped ``shared_collector`` on each store backend, for HTTP test modules whose tests
share one collector (each with its own run ids) and test store behaviour.

Import it into a test module to override the session's SQLite-only ``shared_collector``::

    from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

Every test of the module then runs on a SQLite collector, then on a PostgreSQL one (a fresh
database on the session's :class:`PgCluster`); module-scoped fixtures built on
``shared_collector`` (e.g. a ``target`` project) follow it.

:func:`database_rows` and :func:`database_dump` read a collector's database directly, on
either backend, for tests that check what is stored (e.g. hashes, never secrets).
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

import asyncpg
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


def database_rows(proc: CollectorProcess, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a parameterless ``sql`` read from ``proc``'s database (read only)."""
    if not proc.database_url:
        db = sqlite3.connect(f"file:{proc.data_dir / 'rundial.sqlite3'}?mode=ro", uri=True)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    async def fetch() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(proc.database_url)
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()
    return asyncio.run(fetch())


def database_dump(proc: CollectorProcess) -> str:
    """Every row of ``proc``'s database as SQL text (SQLite ``iterdump``, ``pg_dump``)."""
    if not proc.database_url:
        db = sqlite3.connect(f"file:{proc.data_dir / 'rundial.sqlite3'}?mode=ro", uri=True)
        try:
            return "\n".join(db.iterdump())
        finally:
            db.close()
    done = subprocess.run(["pg_dump", "--data-only", "--no-owner", proc.database_url],
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout
