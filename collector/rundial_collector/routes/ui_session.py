"""Browser sessions for the web UI (docs/protocol.md §7, docs/ui.md).

* ``POST /api/v1/ui/session`` ``{"apiKey": "rdk_..."}``: verify the key, store a session (its
  hash, bound to the key, expiring after :data:`browser.SESSION_TTL_SECONDS`) and set the
  session cookie. 201 ``{"keyId", "expiresAtMs"}``; 401 for a bad key.
* ``POST /api/v1/ui/logout`` and ``DELETE /api/v1/ui/session``: end the cookie's session in
  the store and clear the cookie. 200 ``{"loggedOut": true}`` (also without a session).
* ``POST /api/v1/ui/login-links`` (``Authorization: Bearer`` only): a single-use login token
  for the calling key, valid :data:`browser.LOGIN_TOKEN_TTL_SECONDS`, as a ``/login?once=``
  URL. ``GET /login?once=`` (:mod:`rundial_collector.routes.ui`) redeems it.

Every one of them refuses (403) a browser ``Origin`` other than the collector's own.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from rundial_collector.store.control_base import ApiKey
from rundial_collector.store.sessions_base import NewUiSession, SessionKind
from rundial_collector.web import auth, browser, errors
from rundial_collector.web.appkeys import CONFIG, STORE
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import now_ms, write_or_429


class SessionBody(msgspec.Struct, forbid_unknown_fields=True):
    apiKey: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


async def create_session(request: web.Request) -> web.Response:
    """Exchange an API key for a session cookie (201)."""
    browser.require_same_origin(request, when_absent_ok=True)
    body = await decode_body(request, SessionBody)
    principal = await auth.key_principal(request, body.apiKey.strip())
    secret, expires_ms = await new_session(request, principal.key_id)
    response = json_response(request, {"keyId": principal.key_id, "expiresAtMs": expires_ms},
                             status=201)
    browser.set_session_cookie(response, request, secret)
    return response


async def new_session(request: web.Request, key_id: str) -> tuple[str, int]:
    """Store a new session for ``key_id``; returns (its secret, its expiry in ms)."""
    secret = browser.new_session_secret()
    expires_ms = await _store_token(request, secret, "session", key_id,
                                    browser.SESSION_TTL_SECONDS)
    return secret, expires_ms


async def logout(request: web.Request) -> web.Response:
    """End the cookie's session (store and browser); 200 even without one."""
    return await end_session(request, browser.SESSION_COOKIE)


async def end_session(request: web.Request, cookie: str) -> web.Response:
    """Delete the session named by cookie ``cookie`` and clear that cookie: 200
    ``{"loggedOut": true}``, also without a session; 403 for a foreign ``Origin``."""
    browser.require_same_origin(request, when_absent_ok=True)
    secret = request.cookies.get(cookie)
    if secret:
        await write_or_429(request, request.app[STORE].delete_ui_session(auth.hash_key(secret)))
        auth.forget_session(request.app, secret)
    response = json_response(request, {"loggedOut": True})
    browser.clear_session_cookie(response, request, cookie)
    return response


async def create_login_link(request: web.Request) -> web.Response:
    """A one-time login URL for the bearer key (201); a cookie is not enough (401)."""
    if "Authorization" not in request.headers:
        raise errors.unauthorized("login links are minted with an API key")
    principal = await auth.authenticate(request)
    token = browser.new_login_token()
    expires_ms = await _store_token(request, token, "once", principal.key_id,
                                    browser.LOGIN_TOKEN_TTL_SECONDS)
    base = request.app[CONFIG].public_url or f"{request.scheme}://{request.host}"
    return json_response(request, {"url": f"{base.rstrip('/')}/login?once={token}",
                                   "expiresAtMs": expires_ms}, status=201)


async def redeem_login_token(request: web.Request, token: str) -> ApiKey | None:
    """The usable key behind a one-time token, consuming it; None when unknown, used, expired
    or its key is revoked or expired."""
    key = await write_or_429(request, request.app[STORE].consume_login_token(
        auth.hash_key(token), now_ms()))
    if key is None or key.revoked_ms is not None:
        return None
    if key.expires_ms is not None and key.expires_ms <= now_ms():
        return None
    return key


async def _store_token(request: web.Request, secret: str, kind: SessionKind, key_id: str,
                       ttl_seconds: int) -> int:
    created_ms = now_ms()
    expires_ms = created_ms + ttl_seconds * 1000
    await write_or_429(request, request.app[STORE].create_ui_session(NewUiSession(
        auth.hash_key(secret), kind, key_id, created_ms, expires_ms)))
    return expires_ms


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/ui/session", create_session)
    app.router.add_delete("/api/v1/ui/session", logout)
    app.router.add_post("/api/v1/ui/logout", logout)
    app.router.add_post("/api/v1/ui/login-links", create_login_link)
