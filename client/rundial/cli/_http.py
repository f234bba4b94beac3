"""The CLI's JSON calls: :func:`rundial._http.calls.call` with its headers, errors as exit codes.

Contract of :class:`ApiClient`: every call returns the parsed JSON object of a 2xx answer or
raises :class:`ApiError` (a :class:`CliError`) with a one-line message that names the endpoint
or URL used: exit code 2 for HTTP 401/403 (the call layer's ``auth`` refusals), 1 for any other
status, for network failures (refused, DNS, timeout) and for a 2xx body that is not a JSON
object. Nothing else escapes. Headers: ``x-rundial-protocol: 1``, ``x-rundial-client``,
``authorization: Bearer <key>`` when a key is known, else the ``rd_session`` cookie when a
session token is known.

The default transport is :class:`UrllibTransport` (one request per connection, through the
proxies named by the environment and following redirects, as ``urllib`` does); any
:class:`~rundial._http.transport.Transport` can be injected instead.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rundial._http.calls import CallResult, call, status_text
from rundial._http.calls import quote as seg
from rundial._http.transport import Request, Response, Transport, TransportError
from rundial._version import __version__
from rundial.cli._errors import EXIT_AUTH, EXIT_ERROR, CliError

__all__ = ["ApiClient", "ApiError", "RawReply", "UrllibTransport", "seg"]

CLIENT_HEADER = f"rundial-cli/{__version__}"
DEFAULT_TIMEOUT_SECONDS = 30.0
_AUTH_HINT = (" (set RUNDIAL_API_KEY, pass --api-key, or run `rundial auth login --endpoint "
              "{endpoint}`)")


class ApiError(CliError):
    """A failed API call; ``status`` is the HTTP status, or 0 when no answer arrived."""

    def __init__(self, message: str, status: int = 0, code: str | None = None,
                 exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message, exit_code)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class RawReply:
    """A 2xx answer: status, lower-cased headers and the undecoded body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class ApiClient:
    """Synchronous JSON calls against one endpoint; see the module docstring."""

    def __init__(self, endpoint: str, api_key: str | None = None, session_token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS, transport: Transport | None = None
                 ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.api_key = api_key
        self.session_token = session_token
        self.timeout = timeout
        self._transport = transport or UrllibTransport(self.endpoint, timeout)

    def get(self, path: str, query: Mapping[str, object] | None = None) -> dict[str, Any]:
        """GET ``path`` (with ``query`` parameters whose value is not None) → JSON object."""
        return self._json(self._call("GET", path, None, query, True), "GET", path)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST ``body`` as compact JSON → JSON object."""
        return self._json(self._call("POST", path, dict(body or {}), None, True), "POST", path)

    def raw(self, method: str, path: str, body: Any = None,
            query: Mapping[str, object] | None = None, api: bool = True) -> RawReply:
        """Send one request; return the 2xx reply or raise :class:`ApiError`.

        ``api=False`` sends no rundial headers at all (``/health/ready``).
        """
        answer = self._call(method, path, body, query, api).response
        assert answer is not None  # _call raised when no answer came
        return RawReply(answer.status, answer.headers, answer.body)

    def _call(self, method: str, path: str, body: Any, query: Mapping[str, object] | None,
              api: bool) -> CallResult:
        """One call; its 2xx result, else :class:`ApiError` naming the endpoint or URL."""
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        target = path + ("?" + urllib.parse.urlencode(params) if params else "")
        result = call(self._transport, None, method, target, body, self.timeout,
                      f"{method} {self.endpoint}{path}", headers=self._headers() if api else {})
        if result.response is None:
            raise ApiError(f"cannot reach the collector at {self.endpoint}: "
                           f"{_reason(result.failure, self.timeout)}")
        if not result.ok:
            raise _http_error(method, self.endpoint + path, result, self.endpoint)
        return result

    def _headers(self) -> dict[str, str]:
        headers = {"x-rundial-protocol": "1", "x-rundial-client": CLIENT_HEADER}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        elif self.session_token:
            headers["cookie"] = f"rd_session={self.session_token}"
        return headers

    def _json(self, result: CallResult, method: str, path: str) -> dict[str, Any]:
        if not result.json_object:
            raise ApiError(f"{method} {self.endpoint}{path}: the collector answered HTTP "
                           f"{result.status} without a JSON object")
        return result.doc


def _http_error(method: str, url: str, result: CallResult, endpoint: str) -> ApiError:
    """The refusal as one line; 401 adds how to log in, 401/403 exit 2."""
    status = result.status or 0
    text = f"{method} {url} failed: {status_text(status, result.envelope)}"
    if status == 401:
        text += _AUTH_HINT.format(endpoint=endpoint)
    return ApiError(text, status, result.envelope.code, EXIT_AUTH if result.auth else EXIT_ERROR)


def _reason(failure: BaseException | None, timeout: float) -> str:
    """Why no answer came, in words (the transport error's root cause)."""
    exc: BaseException | None = failure
    while exc is not None and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if exc is None:
        return "no answer"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is it running?)"
    return str(getattr(exc, "strerror", None) or exc) or type(exc).__name__


class UrllibTransport:
    """A :class:`~rundial._http.transport.Transport` on ``urllib.request``: the proxies named by
    the environment when it is made, redirects as ``urllib`` follows them, a new connection per
    request. Thread-safe."""

    def __init__(self, endpoint: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._timeout = timeout
        self._opener = urllib.request.build_opener()  # as urlopen's, with today's proxies

    def send(self, request: Request) -> Response:
        """Send ``request``; any HTTP status is a :class:`Response`, no answer a
        :class:`TransportError` (``sent`` False when refused or the host is unknown)."""
        prepared = urllib.request.Request(self.endpoint + request.path, data=request.body,
                                          method=request.method, headers=request.headers)
        timeout = self._timeout if request.timeout is None else request.timeout
        try:
            with self._opener.open(prepared, timeout=timeout) as resp:
                return Response(resp.status, resp.read(), _lower(resp.headers.items()))
        except urllib.error.HTTPError as err:
            return Response(err.code, _error_body(err), _lower((err.headers or {}).items()))
        except (OSError, http.client.HTTPException) as exc:
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            refused = isinstance(cause, (ConnectionRefusedError, socket.gaierror))
            raise TransportError(f"{type(exc).__name__}: {exc}", sent=not refused) from exc

    def close(self) -> None:
        """Nothing is kept open."""


def _error_body(err: urllib.error.HTTPError) -> bytes:
    try:
        return err.read()
    except (OSError, http.client.HTTPException):
        return b""
    finally:
        err.close()


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}
