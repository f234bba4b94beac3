"""JSON over HTTP to the collector with the stdlib (no aiohttp, no SDK worker).

Contract of :class:`ApiClient`: every call returns the parsed JSON object of a 2xx answer or
raises :class:`ApiError` (a :class:`CliError`) with a one-line message: exit code 2 for HTTP
401/403, 1 for any other status, for network failures (refused, DNS, timeout) and for a 2xx body
that is not a JSON object. Nothing else escapes. Headers: ``x-rundial-protocol: 1``,
``x-rundial-client``, ``authorization: Bearer <key>`` when a key is known, else the
``rd_session`` cookie when a session token is known.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rundial._version import __version__
from rundial.cli._errors import EXIT_ERROR, CliError, exit_code_for_status

__all__ = ["ApiClient", "ApiError", "RawReply", "seg"]

CLIENT_HEADER = f"rundial-cli/{__version__}"
DEFAULT_TIMEOUT_SECONDS = 30.0
_AUTH_HINT = (" (set RUNDIAL_API_KEY, pass --api-key, or run `rundial auth login --endpoint "
              "{endpoint}`)")


class ApiError(CliError):
    """A failed API call; ``status`` is the HTTP status, or 0 when no answer arrived."""

    def __init__(self, message: str, status: int = 0, code: str | None = None) -> None:
        super().__init__(message, exit_code_for_status(status) if status else EXIT_ERROR)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class RawReply:
    """A 2xx answer: status, lower-cased headers and the undecoded body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def seg(value: str) -> str:
    """Percent-encode one path segment with no safe characters (``/`` becomes ``%2F``)."""
    return urllib.parse.quote(value, safe="")


class ApiClient:
    """Synchronous JSON calls against one endpoint; see the module docstring."""

    def __init__(self, endpoint: str, api_key: str | None = None, session_token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.api_key = api_key
        self.session_token = session_token
        self.timeout = timeout

    def get(self, path: str, query: Mapping[str, object] | None = None) -> dict[str, Any]:
        """GET ``path`` (with ``query`` parameters whose value is not None) → JSON object."""
        return self._json(self.raw("GET", path, query=query), "GET", path)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST ``body`` as compact JSON → JSON object."""
        return self._json(self.raw("POST", path, body=dict(body or {})), "POST", path)

    def raw(self, method: str, path: str, body: Any = None,
            query: Mapping[str, object] | None = None, api: bool = True) -> RawReply:
        """Send one request; return the 2xx reply or raise :class:`ApiError`.

        ``api=False`` sends no rundial headers at all (``/health/ready``).
        """
        request = self._request(method, path, body, query, api)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return RawReply(resp.status, _lower(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as err:
            raise _http_error(method, self.endpoint + path, err, self.endpoint) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError(f"cannot reach the collector at {self.endpoint}: "
                           f"{_reason(exc, self.timeout)}") from None

    def _request(self, method: str, path: str, body: Any, query: Mapping[str, object] | None,
                 api: bool) -> urllib.request.Request:
        url = self.endpoint + path
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = self._headers() if api else {}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["content-type"] = "application/json"
        return urllib.request.Request(url, data=data, method=method, headers=headers)

    def _headers(self) -> dict[str, str]:
        headers = {"x-rundial-protocol": "1", "x-rundial-client": CLIENT_HEADER}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        elif self.session_token:
            headers["cookie"] = f"rd_session={self.session_token}"
        return headers

    def _json(self, reply: RawReply, method: str, path: str) -> dict[str, Any]:
        try:
            payload = json.loads(reply.body) if reply.body else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise ApiError(f"{method} {self.endpoint}{path}: the collector answered HTTP "
                           f"{reply.status} without a JSON object")
        return payload


def _http_error(method: str, url: str, err: urllib.error.HTTPError, endpoint: str) -> ApiError:
    code, message = _envelope(err)
    text = f"{method} {url} failed: HTTP {err.code}"
    if code or message:
        text += f" ({': '.join(p for p in (code, message) if p)})"
    if err.code == 401:
        text += _AUTH_HINT.format(endpoint=endpoint)
    return ApiError(text, err.code, code)


def _envelope(err: urllib.error.HTTPError) -> tuple[str | None, str | None]:
    try:
        payload = json.loads(err.read() or b"null")
    except (ValueError, OSError):
        return None, None
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (code if isinstance(code, str) else None,
            message if isinstance(message, str) else None)


def _reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is it running?)"
    return str(getattr(exc, "strerror", None) or exc) or type(exc).__name__


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}
