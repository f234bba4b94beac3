"""End to end: two collectors on one PostgreSQL behind a real nginx (issue 16).

Real parts only: nginx (Debian's nginx-light, :mod:`tests.helpers.nginx`), collector
subprocesses sharing one PostgreSQL 15 (a private cluster of this module, since one test
restarts it) and one data directory (blobs, the artifact signing secret); SDK clients
(``import rundial as rd``) log through nginx's URL.

* kill -9 one collector mid-run: every point exactly once, the live stream on the survivor
  continues;
* restart PostgreSQL mid-run: 503 + Retry-After meanwhile, the SDK spools, everything arrives;
* a subscriber on collector B sees points ingested through A;
* a key revoked through A stops working on B within the auth cache TTL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

import rundial as rd
from rundial_collector.web.auth import CACHE_TTL_SECONDS
from tests.events.streaming import (call, closed, connect, post_points, receive_until,
                                    replayed, start_run, steps_of)
from tests.helpers.cluster import (CollectorPair, assert_exactly_once, count_through,
                                   sdk_run)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.nginx import nginx_available
from tests.helpers.postgres import PgCluster, private_cluster
from tests.helpers.waiting import wait_until

# nginx, two collectors and a PostgreSQL cluster per module, killed and restarted mid-run with
# delivery deadlines: `make test` runs these alone, after the parallel pass.
pytestmark = [pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available())),
              pytest.mark.serial]

V1 = "/api/v1"


# Several processes each (slow on a loaded 2-core machine): a longer timeout than the default.
slow = pytest.mark.timeout(300)


@dataclass
class Cluster:
    pg: PgCluster
    pair: CollectorPair

    @property
    def a(self) -> CollectorProcess:
        return self.pair.a

    @property
    def b(self) -> CollectorProcess:
        return self.pair.b

    @property
    def front(self) -> CollectorProcess:
        return self.pair.front


@pytest.fixture(scope="module")
def own_pg() -> Iterator[PgCluster]:
    """A PostgreSQL of this module's own (one test restarts it)."""
    with private_cluster() as pg:
        yield pg


@pytest.fixture
def cluster(own_pg: PgCluster, tmp_path: Path) -> Iterator[Cluster]:
    """Two collectors on one fresh database and one shared data directory, nginx in front."""
    try:
        with CollectorPair(tmp_path, own_pg.new_database("cluster")) as pair:
            yield Cluster(own_pg, pair)
    finally:
        if not (own_pg.data_dir / "postmaster.pid").exists():
            own_pg.start()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


class Logger:
    """Logs ``value = step`` for key ``a`` from a thread, ``per_tick`` steps at a time, until
    :meth:`stop`; ``logged`` is the number of steps logged so far."""

    def __init__(self, run: rd.Run, per_tick: int = 50) -> None:
        self.run = run
        self.per_tick = per_tick
        self.logged = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for step in range(self.logged, self.logged + self.per_tick):
                self.run.log({"a": float(step)}, step=step)
            self.logged += self.per_tick
            self._stop.wait(0.01)  # pacing of the simulated training loop, not a synchronisation

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.logged


@slow
async def test_kill_9_one_collector_mid_run(cluster: Cluster, tmp_path: Path,
                                           session: aiohttp.ClientSession) -> None:
    """Zero points lost, none duplicated; a subscriber on the survivor keeps receiving."""
    run = await asyncio.to_thread(sdk_run, cluster.front, tmp_path)
    ws = await connect(session, cluster.b, run.id)
    await receive_until(ws, replayed, timeout=20)
    reader = asyncio.ensure_future(closed(ws, timeout=300))  # every message until the close

    logger = Logger(run)
    logger.start()
    await asyncio.to_thread(
        wait_until, lambda: (count_through(cluster.b, run.id) >= 2000
                             and all("/ingest/metrics\" 202" in proc.log_text()
                                     for proc in (cluster.a, cluster.b))), 60, 0.05,
        "batches stored through both collectors")
    cluster.a.kill()  # SIGKILL, with batches in flight
    killed_at = logger.logged
    await asyncio.to_thread(wait_until, lambda: logger.logged >= killed_at + 3000, 60, 0.05,
                            "logging goes on after the kill")
    total = logger.stop()
    assert await asyncio.to_thread(run.finish, timeout_s=60) is True

    await asyncio.to_thread(assert_exactly_once, cluster.b, run.id, total)
    diag = run.diagnostics()
    assert diag.dropped == {}
    # The stream on B continued past the kill and closes when the run finishes.
    seen = await asyncio.wait_for(reader, 60)
    live_steps = set(steps_of(seen, "a"))
    assert set(range(killed_at, total)) <= live_steps
    assert ws.close_code == 1000, ws.close_code


@slow
async def test_postgres_restart_mid_run(cluster: Cluster, tmp_path: Path) -> None:
    """Collectors answer 503 + Retry-After while the database is down; the SDK spools; every
    point arrives once the database is back."""
    run = await asyncio.to_thread(sdk_run, cluster.front, tmp_path)
    logger = Logger(run)
    logger.start()
    await asyncio.to_thread(wait_until, lambda: count_through(cluster.b, run.id) >= 1000, 60,
                            0.05, "points before the restart")
    await asyncio.to_thread(cluster.pg.stop)
    try:
        probe = {"points": [{"projectId": cluster.a.project, "runId": run.id, "metricKey": "p",
                             "step": 0, "timestampMs": 1, "value": 0.0}]}

        def answered_503() -> dict[str, str] | None:
            status, headers, _ = request("POST", f"{cluster.a.url}{V1}/ingest/metrics", probe,
                                         api_key=cluster.a.api_key)
            assert status in (202, 503), status  # never a 500
            return headers if status == 503 else None

        headers = await asyncio.to_thread(wait_until, answered_503, 30, 0.05,
                                          "a 503 during the outage")
        assert int(headers["Retry-After"]) >= 1
        stopped_at = logger.logged
        await asyncio.to_thread(
            wait_until, lambda: (logger.logged >= stopped_at + 2000
                                 and run.diagnostics().failed_flush_attempts > 0), 60, 0.05,
            "failed flushes while the database is down")
    finally:
        await asyncio.to_thread(cluster.pg.start)
    total = logger.stop()
    # The running client delivers its spool once the database is back (before finish: finish
    # makes one more attempt only, and not within a pending Retry-After, docs/sdk.md "Exit").
    await asyncio.to_thread(wait_until, lambda: count_through(cluster.b, run.id) == total, 90,
                            0.1, "every point after the restart")
    assert await asyncio.to_thread(run.finish, timeout_s=30) is True
    await asyncio.to_thread(assert_exactly_once, cluster.a, run.id, total)
    await asyncio.to_thread(assert_exactly_once, cluster.b, run.id, total)
    assert run.diagnostics().dropped == {}


@slow
async def test_a_subscriber_on_b_sees_points_ingested_through_a(
        cluster: Cluster, session: aiohttp.ClientSession) -> None:
    pid, rid = await start_run(session, cluster.a)
    ws = await connect(session, cluster.b, rid)
    await receive_until(ws, replayed)
    await post_points(session, cluster.a, pid, rid, "loss", range(0, 10))
    live = await receive_until(ws, lambda ms: 9 in steps_of(ms, "loss"), timeout=15)
    assert sorted(set(steps_of(live, "loss"))) == list(range(10))
    await post_points(session, cluster.b, pid, rid, "loss", range(10, 20))  # and its own
    more = await receive_until(ws, lambda ms: 19 in steps_of(ms, "loss"), timeout=15)
    assert sorted(set(steps_of(more, "loss"))) == list(range(10, 20))
    status, _ = await call(session, cluster.a, "POST", f"/runs/{rid}/status",
                           {"status": "completed"})
    assert status == 200
    await closed(ws, timeout=15)
    assert ws.close_code == 1000, ws.close_code


@slow
async def test_a_key_revoked_on_a_stops_working_on_b_within_the_cache_ttl(
        cluster: Cluster, session: aiohttp.ClientSession) -> None:
    a, b = cluster.a, cluster.b
    path = f"/workspaces/{a.workspace}/projects/{a.project}/api-keys"
    status, key = await call(session, a, "POST", path, {"scopes": ["project:read"]})
    assert status == 201, key
    for proc in (a, b):  # both collectors have the key in their auth cache
        status, _ = await call(session, proc, "GET", "/auth/whoami", key=key["apiKey"])
        assert status == 200
    status, _ = await call(session, a, "POST", f"{path}/{key['keyId']}/revoke", {})
    assert status == 200
    revoked_at = time.monotonic()
    status, _ = await call(session, a, "GET", "/auth/whoami", key=key["apiKey"])
    assert status == 401  # at once where it was revoked
    deadline = revoked_at + CACHE_TTL_SECONDS + 2.0
    while (await call(session, b, "GET", "/auth/whoami", key=key["apiKey"]))[0] == 200:
        assert time.monotonic() < deadline, "B still accepts the revoked key after the TTL"
        await asyncio.sleep(0.05)
    assert time.monotonic() - revoked_at <= CACHE_TTL_SECONDS + 1.0
