"""The one JSON-call layer (``rundial._http.calls``): request building, the error envelope, the
classification of answers (ok / retry with Retry-After / fatal / auth) and ``reached``."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from rundial import MockTransport, Request, Response, TransportError
from rundial._artifacts.http import ArtifactHTTPError, ControlClient
from rundial._http.calls import (FATAL, OK, RETRY, Envelope, call, classify_status,
                                 parse_envelope, parse_retry_after, retryable_by_protocol)


def answer(status: int, body: bytes = b"", **headers: str) -> MockTransport:
    """A transport that answers every request with ``status``, ``body`` and ``headers``."""
    return MockTransport(lambda request: Response(status, body, dict(headers)))


def envelope_body(code: object = "NOT_FOUND", message: object = "no such run",
                  **extra: object) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, **extra},
                       "requestId": "req-1"}).encode()


@pytest.mark.parametrize("status,kind", [
    (200, OK), (201, OK), (204, OK), (299, OK),
    (408, RETRY), (429, RETRY), (500, RETRY), (501, RETRY), (502, RETRY), (503, RETRY),
    (504, RETRY), (507, RETRY), (599, RETRY),
    (301, FATAL), (400, FATAL), (401, FATAL), (403, FATAL), (404, FATAL), (409, FATAL),
    (413, FATAL), (415, FATAL), (422, FATAL),
])
def test_statuses_are_classified(status: int, kind: str) -> None:
    """2xx is ok; 408, 429 and every 5xx are worth retrying; anything else is a refusal."""
    assert classify_status(status) == kind
    assert call(answer(status), None, "POST", "/x", {}, 1.0, "op").kind == kind


@pytest.mark.parametrize("status,auth", [(401, True), (403, True), (400, False), (404, False),
                                         (409, False), (200, False), (503, False)])
def test_auth_marks_401_and_403_refusals_only(status: int, auth: bool) -> None:
    """``auth`` is a refinement of ``fatal``: the kind stays ``fatal`` for 401/403."""
    result = call(answer(status), "rdk_k", "GET", "/x", None, 1.0, "op")
    assert result.auth is auth
    assert (result.kind == FATAL) is (status not in (200, 503))


@pytest.mark.parametrize("status,reached", [(408, False), (429, False), (503, False),
                                            (500, True), (502, True), (504, True),
                                            (409, True), (400, True), (200, True)])
def test_reached_is_false_only_for_answers_that_applied_nothing(status: int, reached: bool) -> None:
    """408, 429 and 503 say the server did not process the request; others may have."""
    assert call(answer(status), None, "POST", "/x", {}, 1.0, "op").reached is reached


@pytest.mark.parametrize("sent", [True, False])
def test_no_answer_is_a_retry_that_carries_the_transport_error(sent: bool) -> None:
    """``TransportError.sent`` becomes ``reached``; the error itself is kept in ``failure``."""
    error = TransportError("ConnectionRefusedError: nope", sent=sent)

    def refuse(request: Request) -> Response:
        raise error

    result = call(MockTransport(refuse), None, "POST", "/api/v1/runs/start", {}, 1.0, "runs/start")
    assert (result.kind, result.status, result.reached) == (RETRY, None, sent)
    assert result.failure is error and result.response is None
    assert result.message == "runs/start failed: ConnectionRefusedError: nope"


def test_the_request_is_compact_json_with_the_sdk_headers() -> None:
    """A payload is sent as JSON with content-type; the API key goes in the Authorization."""
    transport = answer(200, b"{}")
    call(transport, "rdk_secret", "POST", "/api/v1/runs/r%2F1/config", {"config": {"a": 1}},
         2.5, "config")
    sent = transport.requests[0]
    assert (sent.method, sent.path, sent.timeout) == ("POST", "/api/v1/runs/r%2F1/config", 2.5)
    assert json.loads(sent.body or b"") == {"config": {"a": 1}}
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["authorization"] == "Bearer rdk_secret"
    assert sent.headers["x-rundial-protocol"] == "1"


def test_no_payload_means_no_body_and_given_headers_replace_the_sdk_ones() -> None:
    """``payload=None`` sends no body; ``headers=`` is sent as is (the CLI's, or none)."""
    transport = answer(200, b"{}")
    call(transport, "rdk_secret", "GET", "/health/ready", None, 1.0, "health", headers={})
    sent = transport.requests[0]
    assert sent.body is None and sent.headers == {}


@pytest.mark.parametrize("body,json_object,doc", [
    (b'{"runId": "r1"}', True, {"runId": "r1"}), (b"", False, {}), (b"[1, 2]", False, {}),
    (b"<html>ok</html>", False, {}), (b'"text"', False, {}),
])
def test_an_ok_answer_says_whether_it_was_a_json_object(body: bytes, json_object: bool,
                                                         doc: dict[str, str]) -> None:
    """The doc of a 2xx is its JSON object; anything else gives ``{}`` and ``json_object`` False."""
    result = call(answer(200, body), None, "GET", "/x", None, 1.0, "op")
    assert result.ok and result.json_object is json_object and result.doc == doc


def test_a_refusal_keeps_its_document_code_and_message() -> None:
    """A 409's body stays readable (the registrar reads ``startTokenMatched`` from it)."""
    body = json.dumps({"error": {"code": "CONFLICT", "message": "run exists"},
                       "startTokenMatched": False}).encode()
    result = call(answer(409, body), None, "POST", "/api/v1/runs/start", {}, 1.0, "runs/start")
    assert result.kind == FATAL and result.code == "CONFLICT"
    assert result.doc["startTokenMatched"] is False
    assert result.message == "runs/start failed with HTTP 409 (CONFLICT: run exists)"


def test_an_unrecognised_code_is_shown_but_not_reported_as_a_protocol_code() -> None:
    """``code`` is the protocol's codes only; the message names whatever the server sent."""
    result = call(answer(503, envelope_body("UNAVAILABLE", "shutting down")), None, "POST", "/x",
                  {}, 1.0, "heartbeat")
    assert result.code is None and result.envelope.code == "UNAVAILABLE"
    assert result.message == "heartbeat failed with HTTP 503 (UNAVAILABLE: shutting down)"


def test_the_envelope_is_parsed_whole() -> None:
    """code, message, details.field and requestId."""
    body = envelope_body("INVALID_REQUEST", "bad step", details={"field": "items[0].step"})
    assert parse_envelope(body) == Envelope("INVALID_REQUEST", "bad step", "items[0].step",
                                            "req-1")
    assert parse_envelope(body).recognised_code == "INVALID_REQUEST"
    assert parse_envelope(body).summary() == "INVALID_REQUEST: bad step"


@pytest.mark.parametrize("body", [
    b"", b"null", b"[]", b'{"error": "boom"}', b'{"error": {"details": [1]}}',
    json.dumps({"error": {"code": 7, "message": ["x"], "details": {"field": 3}},
                "requestId": 9}).encode(),
])
def test_a_malformed_envelope_gives_empty_parts_and_never_raises(body: bytes) -> None:
    """Parts that are absent or not strings are None; nothing raises."""
    parsed = parse_envelope(body)
    assert (parsed.code, parsed.message, parsed.field, parsed.request_id) == (None,) * 4
    assert parsed.summary() == ""


def test_a_body_that_is_not_json_is_quoted_on_one_short_line() -> None:
    """A proxy's page is quoted (200 characters at most, whitespace folded to one line)."""
    page = b"<html>\n  <title>502 Bad Gateway</title>\n" + b"x" * 500
    parsed = parse_envelope(page)
    assert parsed.code is None and parsed.text == page[:200].decode()
    assert parsed.summary().startswith("<html> <title>502 Bad Gateway</title> xxx")
    assert "\n" not in parsed.summary() and len(parsed.summary()) <= 200
    result = call(answer(502, page), None, "POST", "/x", {}, 1.0, "op")
    assert result.message.startswith("op failed with HTTP 502 (<html> <title>502 Bad Gateway")


@pytest.mark.parametrize("value,seconds", [
    ("7", 7.0), (" 2.5 ", 2.5), ("0", 0.0), ("-3", 0.0), ("99999", 3600.0), ("nan", None),
    ("soon", None), ("", None), (None, None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    """Delta-seconds, clamped to [0, 3600]; a past HTTP-date is 0; garbage is ignored."""
    assert parse_retry_after(value) == seconds


def test_retry_after_as_a_future_http_date() -> None:
    """An HTTP-date counts from now."""
    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    parsed = parse_retry_after(when)
    assert parsed is not None and 100 <= parsed <= 121


@pytest.mark.parametrize("status", [429, 503, 409])
def test_retry_after_is_read_from_any_refusal(status: int) -> None:
    """The hint reaches the result (the worker's backoff waits at least that long)."""
    result = call(answer(status, b"", **{"retry-after": "12"}), None, "POST", "/x", {}, 1.0, "op")
    assert result.retry_after == 12.0
    assert call(answer(status), None, "POST", "/x", {}, 1.0, "op").retry_after is None


@pytest.mark.parametrize("status,code,retryable", [
    (408, None, True), (429, "RATE_LIMITED", True), (500, "INVALID_REQUEST", True),
    (501, None, True), (501, "UNAVAILABLE", True), (505, "INVALID_REQUEST", False),
    (400, "RATE_LIMITED", True), (400, "INTERNAL_ERROR", True), (400, None, False),
    (400, "INVALID_REQUEST", False), (401, "UNAUTHORIZED", False), (404, "NOT_FOUND", False),
    (409, "CONFLICT", False), (413, "PAYLOAD_TOO_LARGE", False),
])
def test_protocol_retry_rule_for_data_plane_failures(status: int, code: str | None,
                                                     retryable: bool) -> None:
    """Protocol §1.5: status first, then the recognised code (ingest and artifact transfers)."""
    assert retryable_by_protocol(status, Envelope(code=code)) is retryable


def test_artifact_control_calls_raise_classified_errors() -> None:
    """ControlClient: a refusal is an ArtifactHTTPError with the envelope's code, field and
    the §1.5 class; a retryable one carries Retry-After; a 2xx without an object is a 502."""
    def handler(request: Request) -> Response:
        if request.path.endswith("/initiate"):
            return Response(400, envelope_body("INVALID_REQUEST", "bad", details={"field": "name"}))
        if request.path.endswith("/commit"):
            return Response(429, envelope_body("RATE_LIMITED", "later"), {"retry-after": "3"})
        return Response(200, b"not json")

    control = ControlClient("http://c.test", "rdk_k", 1.0, lambda e, t: MockTransport(handler))
    with pytest.raises(ArtifactHTTPError) as refused:
        control.post("/api/v1/artifacts/initiate", {"name": "m"})
    assert (refused.value.status, refused.value.code, refused.value.field) == (
        400, "INVALID_REQUEST", "name")
    assert not refused.value.retryable and refused.value.retry_after is None
    assert str(refused.value) == ("POST /api/v1/artifacts/initiate failed with HTTP 400 "
                                  "(INVALID_REQUEST: bad)")
    with pytest.raises(ArtifactHTTPError) as later:
        control.post("/api/v1/artifacts/commit", {})
    assert later.value.retryable and later.value.retry_after == 3.0
    with pytest.raises(ArtifactHTTPError) as garbled:
        control.post("/api/v1/artifacts/resolve", {})
    assert garbled.value.status == 502 and garbled.value.retryable


def test_artifact_control_calls_let_transport_errors_through() -> None:
    """No answer: the TransportError itself reaches the upload worker (retryable)."""
    def refuse(request: Request) -> Response:
        raise TransportError("ConnectionResetError: reset")

    control = ControlClient("http://c.test", None, 1.0, lambda e, t: MockTransport(refuse))
    with pytest.raises(TransportError, match="reset"):
        control.post("/api/v1/artifacts/initiate", {})
