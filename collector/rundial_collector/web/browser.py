"""What the browser UI needs from the HTTP layer: the session cookie, the same-origin rule and
the security headers of every UI response (docs/ui.md).

* The session cookie ``rundial_session`` is HttpOnly, SameSite=Strict, Path=/, and Secure when
  the request came over https. Its value is a random secret; only its sha256 is stored.
* A request authenticated by that cookie that changes state (any method but GET, HEAD and
  OPTIONS) or opens a WebSocket must carry an ``Origin`` equal to the collector's own origin
  (the request's scheme and ``Host``, or ``public_url``); otherwise it is a 403 ``FORBIDDEN``.
  Requests with an ``Authorization`` header (SDK, CLI) never reach this check.
* :func:`ui_headers` adds the Content-Security-Policy, ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: same-origin``.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from aiohttp import web

from rundial_collector.web import errors
from rundial_collector.web.appkeys import CONFIG

SESSION_COOKIE = "rundial_session"
CLI_SESSION_COOKIE = "rd_session"  # set by credential login (v1 doc §8.2), same attributes
SESSION_TTL_SECONDS = 12 * 3600
LOGIN_TOKEN_TTL_SECONDS = 15 * 60
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP_BASE = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self'; "
            "img-src 'self' data: blob:; media-src 'self'; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def new_session_secret() -> str:
    """A fresh session secret (256 bits); the browser holds it, the store its hash."""
    return "rds_" + secrets.token_urlsafe(32)


def new_login_token() -> str:
    """A fresh one-time login token (256 bits)."""
    return "rdo_" + secrets.token_urlsafe(32)


def own_origins(request: web.Request) -> set[str]:
    """The origins this collector answers as: scheme://Host of the request, and public_url."""
    origins = {f"{request.scheme}://{request.host}".lower()}
    public_url = request.app[CONFIG].public_url
    if public_url:
        parts = urlsplit(public_url)
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def require_same_origin(request: web.Request, *, when_absent_ok: bool) -> None:
    """403 unless ``Origin`` is one of :func:`own_origins` (a missing header passes only when
    ``when_absent_ok``)."""
    origin = request.headers.get("Origin")
    if origin is None and when_absent_ok:
        return
    if origin is None or origin.lower() not in own_origins(request):
        raise errors.forbidden("a cookie-authenticated request that changes state must come "
                               "from the collector's own pages (Origin mismatch)")


def check_cookie_request(request: web.Request) -> None:
    """The same-origin rule for a request authenticated by the session cookie."""
    upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
    if request.method not in SAFE_METHODS or upgrade:
        require_same_origin(request, when_absent_ok=False)


def set_session_cookie(response: web.StreamResponse, request: web.Request, secret: str,
                       name: str = SESSION_COOKIE) -> None:
    response.set_cookie(name, secret, max_age=SESSION_TTL_SECONDS, path="/",
                        httponly=True, samesite="Strict", secure=request.secure)


def clear_session_cookie(response: web.StreamResponse, request: web.Request,
                         name: str = SESSION_COOKIE) -> None:
    response.del_cookie(name, path="/", httponly=True, samesite="Strict",
                        secure=request.secure)


def content_security_policy(script_hashes: tuple[str, ...] = ()) -> str:
    """The UI's CSP; ``script_hashes`` (``sha256-...``) allow a page's inline import map."""
    return CSP_BASE.format(hashes="".join(f" '{h}'" for h in script_hashes))


def ui_headers(response: web.StreamResponse, script_hashes: tuple[str, ...] = ()) -> None:
    """Add the security headers every UI response carries."""
    response.headers["Content-Security-Policy"] = content_security_policy(script_hashes)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
