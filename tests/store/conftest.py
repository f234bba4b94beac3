"""Store contract tests: each test here runs against SQLite and against a real PostgreSQL (a
fresh database on the session's cluster), through the backend-neutral :class:`Store` protocol,
so the two backends cannot drift."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rundial_collector.config import CollectorConfig
from rundial_collector.store.base import Store
from rundial_collector.store.factory import open_store
from rundial_collector.store.postgres.store import PostgresStore
from tests.conftest import BACKENDS
from tests.helpers.postgres import PgCluster


@pytest.fixture(params=BACKENDS)
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> CollectorConfig:
    """A collector configuration on SQLite, then on a fresh PostgreSQL database."""
    url = ""
    if request.param == "postgres":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database()
    return CollectorConfig(data_dir=tmp_path / "data", database_url=url)


@pytest.fixture
async def store(store_config: CollectorConfig) -> AsyncIterator[Store]:
    """A started store of either backend; closed at the end."""
    opened = open_store(store_config)
    store_config.data_dir.mkdir(parents=True, exist_ok=True)
    await opened.start()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def peer_store(store: Store, store_config: CollectorConfig) -> AsyncIterator[Store]:
    """A second started store on the same database as ``store``: another collector on
    PostgreSQL, a second process's store on the same SQLite file."""
    opened = open_store(store_config)
    await opened.start()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def two_pg_stores(pg_cluster: PgCluster, tmp_path: Path
                        ) -> AsyncIterator[list[PostgresStore]]:
    """Two started PostgreSQL stores on one fresh database and one shared data directory, as
    two collectors behind a load balancer have; closed at the end."""
    config = CollectorConfig(data_dir=tmp_path / "shared", database_url=pg_cluster.new_database())
    config.data_dir.mkdir(parents=True, exist_ok=True)
    stores = [PostgresStore(config), PostgresStore(config)]
    for store in stores:
        await store.start()
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()
