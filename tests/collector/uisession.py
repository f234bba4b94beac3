"""Helpers for the UI-session tests: log in over HTTP and read the session cookie."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

SESSION = "/api/v1/ui/session"
LOGOUT = "/api/v1/ui/logout"
LOGIN_LINKS = "/api/v1/ui/login-links"
COOKIE = "rundial_session"


def set_cookie(headers: dict[str, str]) -> SimpleCookie:
    """The reply's ``Set-Cookie`` parsed (empty when there is none)."""
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers.get("Set-Cookie", ""))
    return jar


def login(proc: CollectorProcess, api_key: str | None = None) -> tuple[str, dict[str, str]]:
    """``POST /api/v1/ui/session`` with a key; returns (session secret, reply headers)."""
    status, headers, payload = request("POST", proc.url + SESSION,
                                       {"apiKey": api_key or proc.api_key},
                                       headers={"Origin": proc.url})
    assert status == 201, payload
    return set_cookie(headers)[COOKIE].value, headers


def with_cookie(proc: CollectorProcess, method: str, path: str, secret: str, body: Any = None,
                origin: str | None = None) -> tuple[int, dict[str, str], Any]:
    """One request authenticated only by the session cookie (and an optional Origin)."""
    headers = {"Cookie": f"{COOKIE}={secret}"}
    if origin is not None:
        headers["Origin"] = origin
    return request(method, proc.url + path, body, headers=headers)
