"""HMAC-SHA256 signed URLs: credential-free, expiring, scoped to one method and one path.

A signed URL is ``<base><path>?<params>&exp=<unix s>&sig=<b64url>`` where the signature covers
the HTTP method, the path and every query parameter (sorted), ``exp`` included. Changing any of
them, or using the URL after ``exp``, is a 403 ``FORBIDDEN``. Upload and download URLs of the
same blob differ by method, so one can never stand in for the other.

The 32-byte secret is generated once, stored ``0600`` at ``<data_dir>/artifact-signing.key`` and
re-read on every start, so URLs survive a restart. The base URL is ``config.public_url`` when
set, else the scheme and ``Host`` of the request that asked for the URL (v1 doc §12.1 item 3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from rundial_collector.web import errors

SECRET_FILE_NAME = "artifact-signing.key"
SECRET_BYTES = 32
_RESERVED = frozenset({"exp", "sig"})


def load_or_create_secret(data_dir: Path) -> bytes:
    """The signing secret under ``data_dir``; created ``0600`` (atomically) when missing.

    Collectors sharing ``data_dir`` (docs/collector.md "Deploying several collectors") end up
    with one secret: the file is written under a temporary name and hard-linked into place, so
    it appears with its content or not at all, and the first link wins.

    Raises ``OSError`` when the file cannot be read or created, and ``ValueError`` when it
    exists but is not a hex secret of the right length (never silently replaced: that would
    invalidate every outstanding URL without telling anyone).
    """
    path = data_dir / SECRET_FILE_NAME
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        tmp = data_dir / f".{SECRET_FILE_NAME}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(SECRET_BYTES))
            os.link(tmp, path)
        except FileExistsError:
            pass  # another collector's secret won
        finally:
            tmp.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    text = path.read_text().strip()
    if len(text) != 2 * SECRET_BYTES:
        raise ValueError(f"{path} does not hold a {SECRET_BYTES}-byte hex secret")
    return bytes.fromhex(text)


class UrlSigner:
    """Signs and verifies URLs with one secret. Thread-safe (stateless after construction)."""

    def __init__(self, secret: bytes, public_url: str | None = None) -> None:
        self._secret = secret
        self._public_url = public_url.rstrip("/") if public_url else None

    def base_url(self, request: web.Request) -> str:
        """``public_url``, else ``<scheme>://<Host>`` of ``request``."""
        if self._public_url:
            return self._public_url
        return f"{request.scheme}://{request.host}"

    def sign(self, base_url: str, method: str, path: str, ttl_s: float,
             params: Mapping[str, str] | None = None) -> tuple[str, int]:
        """``base_url + path`` signed for ``method`` for ``ttl_s`` seconds; (URL, expiry ms)."""
        expires_s = int(time.time() + ttl_s)
        query = {k: str(v) for k, v in (params or {}).items()}
        if _RESERVED & query.keys():
            raise ValueError("exp and sig are reserved query parameters")
        query["exp"] = str(expires_s)
        query["sig"] = self._signature(method, path, query)
        return f"{base_url}{path}?{urlencode(query)}", expires_s * 1000

    def verify(self, request: web.Request) -> dict[str, str]:
        """The request's query parameters when its signature is valid and unexpired; else 403."""
        query = {k: v for k, v in request.query.items()}
        if len(query) != len(request.query):
            raise errors.forbidden("the URL signature is invalid (repeated parameter)")
        given = query.get("sig", "")
        expected = self._signature(request.method, request.path, query)
        if not given or not hmac.compare_digest(given, expected):
            raise errors.forbidden("the URL signature is invalid")
        if int(query["exp"]) < time.time():
            raise errors.forbidden("the URL has expired; ask for a new one")
        return {k: v for k, v in query.items() if k not in _RESERVED}

    def _signature(self, method: str, path: str, query: Mapping[str, str]) -> str:
        exp = query.get("exp", "")
        if not exp.isdigit():
            raise errors.forbidden("the URL signature is invalid (no expiry)")
        signed = sorted((k, v) for k, v in query.items() if k != "sig")
        message = "\n".join([method.upper(), path, urlencode(signed)]).encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
