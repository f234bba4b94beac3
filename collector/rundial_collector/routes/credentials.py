"""Credential login and logout (v1 doc §8.2, §8.3; docs/protocol.md §8.1).

* ``POST /api/v1/auth/login/credentials`` ``{"email", "password"}``: verify the password
  against the stored scrypt hash (:mod:`rundial_collector.web.passwords`), store a session bound
  to the user's backing key and set ``rd_session`` (HttpOnly, SameSite=Strict, Path=/, Secure
  over https). 200 ``{"authenticated": true, "principal": "user", "userId", "email",
  "expiresAtMs"}``. A wrong password and an unknown email are the same 401 with the same
  message, and both cost one scrypt hash (no user enumeration by message or timing); a disabled
  user with the right password gets 401 with :data:`DISABLED`. After
  :data:`MAX_FAILURES` failures for one (client address, email) within
  :data:`FAILURE_WINDOW_SECONDS` the pair gets 429 ``RATE_LIMITED`` until the window passes.
  A successful login is an audit event ``user.login``.
* ``POST /api/v1/auth/logout``: end the ``rd_session`` session (store and cookie); 200
  ``{"loggedOut": true}``, also without a session.

Both refuse (403) an ``Origin`` other than the collector's own; the rc1 CLI sends its endpoint's.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Annotated

import msgspec
from aiohttp import web

from rundial_collector.routes.ui_session import end_session, new_session
from rundial_collector.web import auditing, browser, errors, passwords
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import write_or_429

MAX_FAILURES = 10
FAILURE_WINDOW_SECONDS = 15 * 60
MAX_TRACKED_PAIRS = 10_000
BAD_CREDENTIALS = "the email or password is not correct"
DISABLED = "this user is disabled; ask a collector admin"


class CredentialsBody(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=passwords.MAX_PASSWORD_BYTES)]


class FailedLogins:
    """Failure counts per (client address, email) in a fixed window; bounded in size (the
    oldest pair is forgotten first). In-process: each collector counts its own."""

    def __init__(self, max_failures: int = MAX_FAILURES,
                 window_seconds: float = FAILURE_WINDOW_SECONDS) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._pairs: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()

    def retry_after_seconds(self, pair: tuple[str, str], now: float) -> int:
        """0 when ``pair`` may try; else the seconds until its window ends."""
        started, count = self._pairs.get(pair, (now, 0))
        if now - started >= self.window_seconds:
            self._pairs.pop(pair, None)
            return 0
        return int(self.window_seconds - (now - started)) + 1 if count >= self.max_failures \
            else 0

    def failed(self, pair: tuple[str, str], now: float) -> None:
        started, count = self._pairs.pop(pair, (now, 0))
        self._pairs[pair] = (started, count + 1)
        while len(self._pairs) > MAX_TRACKED_PAIRS:
            self._pairs.popitem(last=False)

    def succeeded(self, pair: tuple[str, str]) -> None:
        self._pairs.pop(pair, None)


FAILED_LOGINS = web.AppKey("rundial_failed_logins", FailedLogins)


async def login(request: web.Request) -> web.Response:
    """Exchange email and password for an ``rd_session`` cookie (200); 401 on bad credentials."""
    browser.require_same_origin(request, when_absent_ok=True)
    body = await decode_body(request, CredentialsBody)
    email = body.email.strip().lower()
    pair, now = (request.remote or "", email), time.monotonic()
    limiter = request.app[FAILED_LOGINS]
    wait_seconds = limiter.retry_after_seconds(pair, now)
    if wait_seconds:
        raise errors.ApiError(429, "RATE_LIMITED", "too many failed logins; retry later",
                              headers={"Retry-After": str(wait_seconds)})
    user = await request.app[STORE].find_user(email)
    stored = user.password_hash if user is not None else None
    if not await passwords.verify_in_thread(body.password, stored) or user is None:
        limiter.failed(pair, now)
        refused = errors.unauthorized(BAD_CREDENTIALS)
        refused.hint = "check the email and password, or log in with an API key"
        raise refused
    if user.disabled_ms is not None:  # told only to whoever knows the password
        limiter.failed(pair, now)
        raise errors.unauthorized(DISABLED)
    limiter.succeeded(pair)
    secret, expires_ms = await new_session(request, user.key_id)
    await write_or_429(request, request.app[STORE].append_audit(auditing.event(
        auditing.Actor("user", user.user_id), "user.login", "user", user.user_id,
        workspace_id=None)))
    response = json_response(request, {"authenticated": True, "principal": "user",
                                       "userId": user.user_id, "email": user.email,
                                       "expiresAtMs": expires_ms})
    browser.set_session_cookie(response, request, secret, browser.CLI_SESSION_COOKIE)
    return response


async def logout(request: web.Request) -> web.Response:
    """End the ``rd_session`` session (store and client); 200 even without one."""
    return await end_session(request, browser.CLI_SESSION_COOKIE)


async def _warm_dummy_hash(app: web.Application) -> None:
    """Compute the unknown-user dummy hash before the first login (so it is not slower): one
    scrypt, off the event loop."""
    await asyncio.get_running_loop().run_in_executor(None, passwords.warm_unknown)


def setup_routes(app: web.Application) -> None:
    app[FAILED_LOGINS] = FailedLogins()
    app.on_startup.append(_warm_dummy_hash)
    app.router.add_post("/api/v1/auth/login/credentials", login)
    app.router.add_post("/api/v1/auth/logout", logout)
