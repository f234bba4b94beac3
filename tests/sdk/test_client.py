"""``rd.Client`` discovery calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rundial as rd
from rundial import MockTransport, Request, Response


def test_discovery_calls_follow_pages(isolated_env: Path) -> None:
    """whoami, list_workspaces (following cursors) and list_projects hit the right routes."""
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.path)
        if request.path.startswith("/api/v1/auth/whoami"):
            return Response(200, b'{"authenticated": true, "principal": "api_key"}')
        if request.path == "/api/v1/workspaces?limit=100":
            return Response(200, json.dumps({"workspaces": [{"workspaceSlug": "a"}],
                                             "page": {"hasMore": True, "nextCursor": "c/2"}}).encode())
        if request.path.startswith("/api/v1/workspaces?"):
            return Response(200, json.dumps({"workspaces": [{"workspaceSlug": "b"}],
                                             "page": {"hasMore": False, "nextCursor": None}}).encode())
        return Response(200, json.dumps({"projects": [{"projectSlug": "p"}], "page": {}}).encode())

    client = rd.Client("http://c.test", "rdk_k", transport=MockTransport(handler))
    assert client.whoami()["principal"] == "api_key"
    assert [w["workspaceSlug"] for w in client.list_workspaces()] == ["a", "b"]
    assert client.list_projects(workspace_slug="w/x") == [{"projectSlug": "p"}]
    assert "/api/v1/workspaces?limit=100&cursor=c%2F2" in seen
    assert "/api/v1/workspaces/w%2Fx/projects?limit=100" in seen


def test_errors_raise_request_errors(isolated_env: Path) -> None:
    """A non-2xx answer raises RundialRequestError with status and code."""
    body = json.dumps({"error": {"code": "UNAUTHORIZED", "message": "no key"}}).encode()
    client = rd.Client("http://c.test", transport=MockTransport(lambda r: Response(401, body)))
    with pytest.raises(rd.RundialRequestError) as info:
        client.whoami()
    assert info.value.status == 401 and info.value.code == "UNAUTHORIZED"
