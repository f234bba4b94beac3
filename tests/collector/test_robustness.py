"""Bad input that used to answer 500: deep nesting and integers past int64 (issue 14).

Every test talks HTTP to a real collector process; every answer must be the protocol's 4xx
envelope (or a 2xx with the bad part dropped), never a 500.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.collector.control import V1, assert_error
from tests.collector.dataplane import project_id, run_id
from tests.collector.routes import valid_requests
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request


def _routes(proc: CollectorProcess) -> list[tuple[str, str, Any]]:
    return valid_requests(project_id(proc), run_id(), proc.workspace, proc.project)


def _send(proc: CollectorProcess, method: str, path: str, raw: bytes | None
          ) -> tuple[int, Any]:
    status, _, payload = request(method, proc.url + path, api_key=proc.api_key, raw=raw,
                                 headers={"content-type": "application/json"})
    return status, payload


@pytest.mark.parametrize("depth", [65, 2_000, 200_000])
def test_deeply_nested_bodies_are_400_on_every_route(shared_collector: CollectorProcess,
                                                     depth: int) -> None:
    """Nesting past the 64-level bound, at the top level or inside a free-form field, is a
    400 on every JSON route (was a RecursionError and a 500)."""
    nested = b"[" * depth + b"]" * depth
    for method, path, body in _routes(shared_collector):
        if body is None:
            continue
        for raw in (nested, orjson.dumps({**body, "extra": 0}).replace(b"0}", nested + b"}")):
            status, payload = _send(shared_collector, method, path, raw)
            assert_error(status, payload, 400, "INVALID_REQUEST")


def test_nesting_within_the_bound_is_accepted(shared_collector: CollectorProcess) -> None:
    """A free-form value 60 levels deep is still accepted (runs/start ``client``)."""
    pid, run = project_id(shared_collector), run_id()
    client: Any = "leaf"
    for _ in range(60):
        client = {"n": client}
    status, payload = _send(shared_collector, "POST", f"{V1}/runs/start", orjson.dumps(
        {"projectId": pid, "runId": run, "client": client}))
    assert status == 201, payload
