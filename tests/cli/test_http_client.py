"""The CLI's thin wrapper over the call layer: exit codes, one-line messages naming the endpoint
or URL, headers and query strings; and its urllib transport (proxies, refused connections)."""

from __future__ import annotations

import http.server
import json
import socket
import threading

import pytest

from rundial import MockTransport, Request, Response, TransportError
from rundial.cli._errors import EXIT_AUTH, EXIT_ERROR
from rundial.cli._http import ApiClient, ApiError, UrllibTransport

ENDPOINT = "http://collector.test:8787"


def client_answering(status: int, body: bytes = b"", api_key: str | None = "rdk_k",
                     session: str | None = None) -> tuple[ApiClient, MockTransport]:
    transport = MockTransport(lambda request: Response(status, body, {"x-seen": "1"}))
    return ApiClient(ENDPOINT + "/", api_key, session, 2.0, transport=transport), transport


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


@pytest.mark.parametrize("status,exit_code", [(401, EXIT_AUTH), (403, EXIT_AUTH), (404, EXIT_ERROR),
                                              (409, EXIT_ERROR), (429, EXIT_ERROR),
                                              (500, EXIT_ERROR), (503, EXIT_ERROR)])
def test_refusals_map_to_exit_codes(status: int, exit_code: int) -> None:
    """401/403 exit 2, any other status exits 1; the status and code are kept."""
    client, _ = client_answering(status, error_body("SOME_CODE", "said no"))
    with pytest.raises(ApiError) as info:
        client.get("/api/v1/auth/whoami")
    assert (info.value.exit_code, info.value.status, info.value.code) == (
        exit_code, status, "SOME_CODE")
    assert info.value.message.startswith(
        f"GET {ENDPOINT}/api/v1/auth/whoami failed: HTTP {status} (SOME_CODE: said no)")


def test_401_says_how_to_log_in_to_this_endpoint() -> None:
    """The hint names the endpoint the key was missing for."""
    client, _ = client_answering(401, error_body("UNAUTHORIZED", "bad key"))
    with pytest.raises(ApiError) as info:
        client.post("/api/v1/runs/start", {})
    assert info.value.message.endswith(f"`rundial auth login --endpoint {ENDPOINT}`)")
    client, _ = client_answering(403, error_body("FORBIDDEN", "read-only key"))
    with pytest.raises(ApiError) as forbidden:
        client.post("/api/v1/runs/start", {})
    assert "auth login" not in forbidden.value.message


def test_no_answer_names_the_endpoint_and_the_reason() -> None:
    """A refused connection or a timeout is exit 1 with a human reason, status 0."""
    for cause, reason in ((ConnectionRefusedError(111, "Connection refused"),
                           "connection refused (is it running?)"),
                          (TimeoutError("timed out"), "no answer within 2 s")):
        def fail(request: Request, cause: BaseException = cause) -> Response:
            raise TransportError(str(cause)) from cause

        client = ApiClient(ENDPOINT, "rdk_k", timeout=2.0, transport=MockTransport(fail))
        with pytest.raises(ApiError) as info:
            client.get("/api/v1/workspaces")
        assert info.value.message == f"cannot reach the collector at {ENDPOINT}: {reason}"
        assert (info.value.exit_code, info.value.status) == (EXIT_ERROR, 0)


@pytest.mark.parametrize("body", [b"", b"[1]", b"<html></html>"])
def test_a_2xx_without_a_json_object_is_an_error(body: bytes) -> None:
    """get/post need an object; raw() hands the bytes and headers back as they came."""
    client, _ = client_answering(200, body)
    with pytest.raises(ApiError) as info:
        client.get("/api/v1/cli/capabilities")
    assert info.value.message == (f"GET {ENDPOINT}/api/v1/cli/capabilities: the collector "
                                  "answered HTTP 200 without a JSON object")
    reply = client.raw("GET", "/health/ready", api=False)
    assert (reply.status, reply.body, reply.headers["x-seen"]) == (200, body, "1")


def test_headers_query_and_body() -> None:
    """Key beats session; None query values are dropped; ``api=False`` sends no headers."""
    client, transport = client_answering(200, b'{"ok": true}', api_key="rdk_k", session="s")
    assert client.get("/api/v1/metrics/keys", {"runId": "r/1", "cursor": None}) == {"ok": True}
    assert client.post("/api/v1/workspaces", {"slug": "w"}) == {"ok": True}
    client.raw("GET", "/health/ready", api=False)
    get, post, health = transport.requests
    assert get.path == "/api/v1/metrics/keys?runId=r%2F1" and get.body is None
    assert get.headers["authorization"] == "Bearer rdk_k" and "cookie" not in get.headers
    assert get.headers["x-rundial-client"].startswith("rundial-cli/")
    assert json.loads(post.body or b"") == {"slug": "w"}
    assert post.headers["content-type"] == "application/json"
    assert health.headers == {}
    session_client, session_transport = client_answering(200, b"{}", api_key=None, session="s")
    session_client.post("/api/v1/auth/logout")
    assert session_transport.requests[0].headers["cookie"] == "rd_session=s"
    assert session_transport.requests[0].body == b"{}"


class Answer(http.server.BaseHTTPRequestHandler):
    """Answers every GET with 404 + envelope, recording the request line (a proxy sees the
    absolute URL)."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        Answer.seen.append(self.path)
        body = error_body("NOT_FOUND", "no such run")
        self.send_response(404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_urllib_transport_returns_error_answers_and_honours_proxies(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An error status is a Response (not an exception); ``http_proxy`` from the environment
    is used, as the CLI always did."""
    Answer.seen = []
    proxy = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    one_request = threading.Thread(target=proxy.handle_request, daemon=True)
    one_request.start()
    for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.server_address[1]}")
    try:
        response = UrllibTransport("http://collector.invalid", 2.0).send(
            Request("GET", "/api/v1/runs/r1", None, {}))
    finally:
        one_request.join(5)
        proxy.server_close()
    assert response.status == 404 and json.loads(response.body)["error"]["code"] == "NOT_FOUND"
    assert Answer.seen == ["http://collector.invalid/api/v1/runs/r1"]


def test_urllib_transport_says_a_refused_connection_sent_nothing() -> None:
    """Nothing listening: TransportError with ``sent`` False; the CLI names the endpoint."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    with pytest.raises(TransportError) as info:
        UrllibTransport(endpoint, 2.0).send(Request("GET", "/health/ready"))
    assert info.value.sent is False
    with pytest.raises(ApiError) as refused:
        ApiClient(endpoint, timeout=2.0).get("/api/v1/auth/whoami")
    assert refused.value.message == (f"cannot reach the collector at {endpoint}: "
                                     "connection refused (is it running?)")
