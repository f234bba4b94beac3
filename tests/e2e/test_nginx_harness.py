"""End to end: the nginx harness (tests/helpers/nginx.py, the configuration of
rundial_collector/nginx_conf.py) in front of real collectors on SQLite (two collectors with
separate data dirs, same admin key): nginx balances them, moves requests off a killed one, lets
the collector answer large bodies, passes the client's Host and the WebSocket upgrade.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.events.streaming import (connect, post_points, receive_until, replayed, start_run,
                                    steps_of)
from tests.helpers.cluster import CollectorPair, behind
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.nginx import NginxProcess, nginx_available
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.skipif(nginx_available() is not None,
                                reason=str(nginx_available()))

V1 = "/api/v1"


def access_lines(proc: CollectorProcess, marker: str) -> int:
    return proc.log_text().count(marker)


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
