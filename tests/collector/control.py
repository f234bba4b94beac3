"""Helpers for control-plane tests: typed-ish calls, unique slugs, throw-away projects and keys.

Everything goes over HTTP to a real collector subprocess (no mocks).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

V1 = "/api/v1"


def unique(prefix: str) -> str:
    """A slug that no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def call(proc: CollectorProcess, method: str, path: str, body: Any = None,
         key: str | None = "admin", **kwargs: Any) -> tuple[int, Any]:
    """One request; ``key="admin"`` means the collector's bootstrap key, None no key."""
    api_key = proc.api_key if key == "admin" else key
    status, _, payload = request(method, proc.url + path, body, api_key=api_key, **kwargs)
    return status, payload


def assert_error(status: int, payload: Any, expected_status: int, code: str,
                 field: str | None = None) -> None:
    """The reply is the v1 error envelope with this status, code and (optionally) field."""
    assert status == expected_status, payload
    assert payload["error"]["code"] == code, payload
    assert isinstance(payload["requestId"], str)
    if field is not None:
        assert payload["error"]["details"].get("field") == field, payload


@dataclass
class Target:
    """A fresh workspace + project on a collector."""

    workspace: str
    project: str
    project_id: str

    @property
    def path(self) -> str:
        return f"{V1}/workspaces/{self.workspace}/projects/{self.project}"


def new_target(proc: CollectorProcess, workspace: str | None = None) -> Target:
    """Create a project (in a new workspace unless ``workspace`` is given) as the admin."""
    ws = workspace or unique("ws")
    if workspace is None:
        status, payload = call(proc, "POST", f"{V1}/workspaces", {"slug": ws})
        assert status == 201, payload
    proj = unique("proj")
    status, payload = call(proc, "POST", f"{V1}/workspaces/{ws}/projects", {"slug": proj})
    assert status == 201, payload
    return Target(ws, proj, payload["projectId"])


def new_key(proc: CollectorProcess, target: Target, scopes: list[str],
            **extra: Any) -> dict[str, Any]:
    """Create a project API key as the admin; returns the create reply (with ``apiKey``)."""
    status, payload = call(proc, "POST", f"{target.path}/api-keys", {"scopes": scopes, **extra})
    assert status == 201, payload
    return payload


def start_run(proc: CollectorProcess, target: Target, key: str | None = "admin",
              **fields: Any) -> tuple[int, Any]:
    """``POST runs/start`` for ``target`` with the given extra body fields."""
    body = {"projectId": target.project_id, "kind": "training", "resume": "never",
            "client": {"name": "test", "version": "0"}, **fields}
    return call(proc, "POST", f"{V1}/runs/start", body, key=key)


def details(proc: CollectorProcess, target: Target, run_id: str) -> dict[str, Any]:
    """The run details of ``run_id`` (asserting a 200)."""
    status, payload = call(proc, "GET", f"{target.path}/runs/{run_id}")
    assert status == 200, payload
    return payload


def finish(proc: CollectorProcess, run_id: str, status: str = "completed",
           key: str | None = "admin", **fields: Any) -> tuple[int, Any]:
    return call(proc, "POST", f"{V1}/runs/{run_id}/status", {"status": status, **fields},
                key=key)
