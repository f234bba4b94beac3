"""One artifact GC sweeper per database (#16): while another collector of the same PostgreSQL
database sweeps, ``POST /api/v1/artifacts/gc`` answers 409 and deletes nothing; afterwards it
sweeps. The "other collector" is a second store on the database holding the sweep lock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rundial_collector.config import CollectorConfig
from rundial_collector.store.factory import open_store
from tests.artifacts.conftest import api, blob_files, target
from tests.artifacts.test_bad_input import entry
from tests.collector.control import assert_error
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.postgres import PgCluster
from tests.helpers.waiting import wait_until


@pytest.fixture
def pg_collector(tmp_path: Path, pg_cluster: PgCluster) -> Iterator[CollectorProcess]:
    """A collector on a fresh PostgreSQL database whose pending uploads expire after 1 s."""
    proc = CollectorProcess(tmp_path / "data", database_url=pg_cluster.new_database(),
                            extra_env={"RUNDIAL_COLLECTOR_ARTIFACT_PENDING_TTL_SECONDS": "1"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


async def test_gc_is_refused_while_another_collector_sweeps(pg_collector: CollectorProcess,
                                                             tmp_path: Path) -> None:
    c = pg_collector
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
