"""End to end: several collectors behind a real nginx (issue 16).

Real parts only: nginx (Debian's nginx-light, :mod:`tests.helpers.nginx`), collector
subprocesses, and for the cluster tests one real PostgreSQL 15 (a private cluster of this module,
since one test restarts it) that two collectors share, together with one data directory (blobs,
the artifact signing secret). SDK clients (``import rundial as rd``) log through nginx's URL.

* The harness tests run on SQLite (two collectors with separate data dirs): nginx balances
  them, moves requests off a killed one, lets the collector answer large bodies, and passes the
  WebSocket upgrade.
* The cluster tests: kill -9 one collector mid-run (every point exactly once, the live stream
  on the survivor continues); restart PostgreSQL mid-run (503 + Retry-After meanwhile, the SDK
  spools, everything arrives); a subscriber on collector B sees points ingested through A; a key
  revoked through A stops working on B within the auth cache TTL.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

import rundial as rd
from rundial_collector.web.auth import CACHE_TTL_SECONDS
from tests.events.streaming import (call, closed, connect, post_points, receive_until,
                                    replayed, start_run, steps_of)
from tests.helpers.cluster import CollectorPair, behind
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.nginx import NginxProcess, nginx_available
from tests.helpers.postgres import PgCluster, free_port, postgres_available, private_cluster
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import read_points, series_stats

pytestmark = pytest.mark.skipif(nginx_available() is not None,
                                reason=str(nginx_available()))

FAST_RETRY = {"retry_base_delay_seconds": 0.05, "retry_max_delay_seconds": 0.5,
              "flush_interval_seconds": 0.1, "system_metrics": False}
V1 = "/api/v1"
REPO = Path(__file__).resolve().parents[2]


def access_lines(proc: CollectorProcess, marker: str) -> int:
    return proc.log_text().count(marker)


# -- the harness, on SQLite -------------------------------------------------------------------

@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[CollectorPair]:
    """Two SQLite collectors (separate stores, same admin key) behind nginx."""
    with CollectorPair(tmp_path) as pair:
        yield pair


def test_nginx_balances_two_collectors_and_skips_a_dead_one(sqlite_pair: CollectorPair
                                                             ) -> None:
    a, b, front = sqlite_pair.a, sqlite_pair.b, sqlite_pair.front
    marker = f"probe-{uuid.uuid4().hex}"
    for _ in range(8):
        status, _, body = request("GET", f"{front.url}/health/ready?{marker}=1")
        assert status == 200 and body["status"] == "ready"
    wait_until(lambda: access_lines(a, marker) + access_lines(b, marker) == 8, 10,
               message="both access logs written")
    assert access_lines(a, marker) > 0 and access_lines(b, marker) > 0  # round robin

    b.kill()
    for _ in range(6):  # every request lands on the survivor, none fails
        status, _, body = request("GET", f"{front.url}/health/ready")
        assert status == 200, body


def test_the_collector_not_nginx_answers_bodies(sqlite_pair: CollectorPair) -> None:
    """A 1 MiB body goes through nginx's temp file to the collector, which answers with the
    protocol's envelope (nginx's worker can write its temp directory; its size limit is above
    the collector's)."""
    big = b'{"points": [' + b" " * (1024 * 1024) + b"1]}"
    for _ in range(2):  # one per collector
        status, _, body = request("POST", f"{sqlite_pair.front.url}{V1}/ingest/metrics",
                                  raw=big, api_key=sqlite_pair.a.api_key,
                                  headers={"content-type": "application/json"})
        assert sqlite_pair.nginx is not None
        assert status == 400, (status, body, sqlite_pair.nginx.error_log())
        assert isinstance(body, dict) and body["error"]["code"], body


def test_links_the_collectors_sign_point_back_through_nginx(sqlite_pair: CollectorPair
                                                             ) -> None:
    """The collectors see the client's Host (nginx passes it on every route), so the URLs they
    build from it (login links, artifact URLs) point at nginx, not at the upstream's name."""
    front = sqlite_pair.front
    for _ in range(2):  # one per collector
        status, _, body = request("POST", f"{front.url}{V1}/ui/login-links", {},
                                  api_key=front.api_key)
        assert status in (200, 201), body
        assert body["url"].startswith(f"{front.url}/"), body["url"]


async def test_the_live_stream_upgrades_through_nginx(collector: CollectorProcess) -> None:
    with NginxProcess([f"127.0.0.1:{collector.port}"]) as nginx:
        front = behind(nginx, collector)
        async with aiohttp.ClientSession() as session:
            pid, rid = await start_run(session, front)
            ws = await connect(session, front, rid)
            await receive_until(ws, replayed)
            await post_points(session, front, pid, rid, "loss", range(5))
            live = await receive_until(ws, lambda ms: steps_of(ms, "loss")[-1:] == [4])
            assert steps_of(live, "loss") == [0, 1, 2, 3, 4]
            await ws.close()


# -- two collectors on one PostgreSQL ---------------------------------------------------------

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


def sdk_run(front: CollectorProcess, tmp_path: Path) -> rd.Run:
    run = rd.init(workspace=front.workspace, project=front.project, endpoint=front.url,
                  api_key=front.api_key, spool_directory=str(tmp_path / "spool"), **FAST_RETRY)
    assert isinstance(run, rd.Run)
    wait_until(lambda: run.state == "running", 30, message="run registered through nginx")
    return run


def count_through(proc: CollectorProcess, run_id: str) -> int:
    try:
        return series_stats(proc, run_id, ["a"])["a"][0]
    except (OSError, AssertionError, KeyError):
        return 0


def assert_exactly_once(proc: CollectorProcess, run_id: str, steps: int) -> None:
    """Every step 0..steps-1 resolved once with its own value, and no raw duplicate stored."""
    assert series_stats(proc, run_id, ["a"]) == {"a": (steps, 0)}
    assert read_points(proc, run_id, ["a"])["a"] == {s: float(s) for s in range(steps)}


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


# -- make run-cluster -------------------------------------------------------------------------

@slow
def test_make_run_cluster_serves_through_nginx_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """examples/run_cluster.py (``make run-cluster``): PostgreSQL, two collectors and nginx come
    up, an SDK run through nginx arrives, Ctrl+C stops every part."""
    reason = postgres_available()
    if reason is not None:
        pytest.fail(reason)
    port = free_port()
    # The postgres user must reach the data dir: pytest's temp dirs are private to root.
    root = Path(tempfile.mkdtemp(prefix="rundial-run-cluster-"))
    root.chmod(0o711)
    base = root / "data-cluster"
    log = tmp_path / "run-cluster.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(REPO / "examples" / "run_cluster.py"),
                                 "--port", str(port), "--data-dir", str(base), "--no-example"],
                                stdout=out, stderr=subprocess.STDOUT, cwd=REPO)

    def guide_printed() -> bool:
        assert proc.poll() is None, log.read_text()
        return "rundial cluster is running" in log.read_text()

    try:
        wait_until(guide_printed, 200, 0.1, "the cluster's guide")
        front = CollectorProcess(base / "shared")
        front.port = port
        front.api_key = (base / "shared" / "admin_api_key").read_text().strip()
        front.workspace, front.project = "default-workspace", "default-project"
        run = sdk_run(front, tmp_path)
        for step in range(100):
            run.log({"a": float(step)}, step=step)
        assert run.finish(timeout_s=30) is True
        assert_exactly_once(front, run.id, 100)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=90)
        text = log.read_text()
        pg_running = (base / "pg" / "data" / "postmaster.pid").exists()
        shutil.rmtree(root, ignore_errors=True)
    assert proc.returncode == 0, text
    assert "cluster stopped" in text
    assert not pg_running  # PostgreSQL was stopped too
    with socket.socket() as sock:  # nginx let go of its port (TIME_WAIT aside)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
