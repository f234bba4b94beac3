"""One artifact GC sweeper per database (#16): while another collector of the same PostgreSQL
database sweeps, ``POST /api/v1/artifacts/gc`` answers 409 and deletes nothing; afterwards it
sweeps. The "other collector" is a second store on the database holding the sweep lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from rundial_collector.config import CollectorConfig
from rundial_collector.store.factory import open_store
from tests.artifacts.conftest import api, blob_files, target
from tests.artifacts.test_bad_input import entry
from tests.artifacts.test_retention import short_ttl_collector  # noqa: F401
from tests.collector.control import assert_error
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until


@pytest.fixture
def store_backend() -> str:
    """This module's collectors run on PostgreSQL (the lock is a PostgreSQL advisory lock)."""
    return "postgres"


async def test_gc_is_refused_while_another_collector_sweeps(
        short_ttl_collector: CollectorProcess, tmp_path: Path) -> None:
    """Pending uploads expire after 1 s on this collector (``short_ttl_collector``)."""
    c = short_ttl_collector
    data = b"abandoned upload " * 100
    status, _, started = api(c, "POST", "/api/v1/artifacts/initiate", {
        **target(c), "runId": "run-gc-lock", "name": "orphan", "files": [entry(data)]})
    assert status == 200, started
    assert request("PUT", started["files"][0]["url"], raw=data)[0] == 200
    other = open_store(CollectorConfig(data_dir=tmp_path / "other",
                                       database_url=c.database_url))
    await other.start()
    try:
        async with other.sweep_lock() as held:
            assert held
            status, _, payload = api(c, "POST", "/api/v1/artifacts/gc")
            assert_error(status, payload, 409, "CONFLICT", None)
            assert "another collector" in payload["error"]["message"]
            assert len(blob_files(c)) == 1
    finally:
        await other.close()

    def collect() -> int:  # once the upload expired (1 s), the sweep reclaims its blob
        status, _, swept = api(c, "POST", "/api/v1/artifacts/gc")
        assert status == 200, swept
        return int(swept["reclaimedBytes"])

    assert wait_until(collect, timeout_seconds=10, interval_seconds=0.2) == len(data)
    assert blob_files(c) == []
