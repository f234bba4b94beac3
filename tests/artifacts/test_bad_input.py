"""Hostile or broken artifact requests get the right v1 error and change nothing."""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.parse
from typing import Any

import pytest

from rundial_collector.artifacts.signing import UrlSigner, load_or_create_secret
from tests.artifacts.conftest import SMALL_PART_BYTES, api, blob_files, target, versions
from tests.collector.control import assert_error, new_key, new_target
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

RUN = "run-bad-input"


def entry(data: bytes, path: str = "f.bin") -> dict[str, Any]:
    return {"path": path, "sizeBytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def initiate(c: CollectorProcess, files: list[dict[str, Any]], name: str = "thing",
             **extra: Any) -> tuple[int, Any]:
    body = {**target(c), "runId": RUN, "name": name, "files": files, **extra}
    status, _, payload = api(c, "POST", "/api/v1/artifacts/initiate", body)
    return status, payload


def finalize(c: CollectorProcess, started: dict[str, Any], **extra: Any) -> tuple[int, Any]:
    body = {**target(c), "runId": RUN, "artifactId": started["artifactId"],
            "uploadId": started["uploadId"], **extra}
    status, _, payload = api(c, "POST", "/api/v1/artifacts/finalize", body)
    return status, payload


@pytest.mark.parametrize("path", ["../escape", "a/../../b", "/etc/passwd", "a\x00b", "a\\b",
                                  "a//b", "./a", "a/", "", "a/./b"])
def test_unsafe_file_paths_are_rejected(shared_collector: CollectorProcess, path: str) -> None:
    """`..`, absolute paths, NUL, backslashes and empty or dot segments are a 400 on the path."""
    status, payload = initiate(shared_collector, [entry(b"x", path)])
    assert_error(status, payload, 400, "INVALID_REQUEST", "files[0].path")


@pytest.mark.parametrize("name", ["..", ".", "a/b", "a\\b", "a\x00b", "x:y", "", " pad"])
def test_unsafe_names_are_rejected(shared_collector: CollectorProcess, name: str) -> None:
    """Artifact names with separators, NUL, ':' or dot names are a 400 on ``name``."""
    status, payload = initiate(shared_collector, [entry(b"x")], name=name)
    assert_error(status, payload, 400, "INVALID_REQUEST", "name")


@pytest.mark.parametrize(("extra", "field"), [
    ({"aliases": ["v3"]}, "aliases[0]"),
    ({"aliases": ["ok", "bad alias"]}, "aliases[1]"),
    ({"retentionPolicy": {"strategy": "keep_last", "keepLast": 0}}, "retentionPolicy.keepLast"),
    ({"retentionPolicy": {"strategy": "keep_best", "keepLast": 2}}, "retentionPolicy.strategy"),
    ({"artifactType": "../x"}, "artifactType"),
])
def test_bad_aliases_types_and_retention_are_rejected(shared_collector: CollectorProcess,
                                                      extra: dict[str, Any], field: str) -> None:
    """Reserved or malformed aliases, types and retention hints are a 400 naming the field."""
    status, payload = initiate(shared_collector, [entry(b"x")], **extra)
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


@pytest.mark.parametrize(("files", "field"), [
    ([{"path": "a", "sizeBytes": 1, "sha256": "ABC"}], "files[0].sha256"),
    ([{"path": "a", "sizeBytes": -1, "sha256": "0" * 64}], "files[0].sizeBytes"),
    ([entry(b"x", "a"), entry(b"y", "a")], "files[1].path"),
    ([], "files"),
])
def test_bad_manifests_are_rejected(shared_collector: CollectorProcess,
                                    files: list[dict[str, Any]], field: str) -> None:
    """Bad hashes, negative sizes, duplicate paths and empty manifests are a 400."""
    status, payload = initiate(shared_collector, files)
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


@pytest.mark.parametrize(("extra", "files", "field"), [
    ({"aliases": ["best\n"]}, None, "aliases[0]"),
    ({"artifactType": "model\n"}, None, "artifactType"),
    ({"idempotencyKey": "key\n"}, None, "idempotencyKey"),
    ({}, [{**entry(b"x"), "sha256": "a" * 64 + "\n"}], "files[0].sha256"),
    ({}, [{**entry(b"x"), "contentType": "text/plain\x00"}], "files[0].contentType"),
    ({}, [{**entry(b"x"), "contentType": "text/plain\n"}], "files[0].contentType"),
    ({}, [{**entry(b"x"), "contentType": ""}], "files[0].contentType"),
])
def test_trailing_newlines_nul_and_control_characters_are_rejected(
        shared_collector: CollectorProcess, extra: dict[str, Any],
        files: list[dict[str, Any]] | None, field: str) -> None:
    """Values checked by pattern are matched whole: a trailing newline no longer slips past
    ``$`` (a sha256 with one named a blob file), and a content type is printable ASCII (a NUL
    in it was stored on SQLite and a 500 on PostgreSQL, whose text cannot hold NUL)."""
    status, payload = initiate(shared_collector, files or [entry(b"x")], **extra)
    assert_error(status, payload, 400, "INVALID_REQUEST", field)


@pytest.mark.parametrize("ref", ["a/b:latest", "x:", "x:bad alias", "..", "a\x00:latest"])
def test_bad_refs_are_rejected(shared_collector: CollectorProcess, ref: str) -> None:
    """Malformed artifact refs are a 400 on ``artifactRef``."""
    status, _, payload = api(shared_collector, "POST", "/api/v1/artifacts/use",
                             {**target(shared_collector), "runId": RUN, "artifactRef": ref})
    assert_error(status, payload, 400, "INVALID_REQUEST", "artifactRef")


def test_unknown_refs_and_paths_are_not_found(shared_collector: CollectorProcess) -> None:
    """An unknown ref is a 404, and so is a download path the version does not hold."""
    c = shared_collector
    status, _, payload = api(c, "POST", "/api/v1/artifacts/use",
                             {**target(c), "runId": RUN, "artifactRef": "nothing-here:v7"})
    assert_error(status, payload, 404, "NOT_FOUND", "artifactRef")
    started = _publish_small(c, b"payload", "known")
    for path, code, want in (("other.bin", "NOT_FOUND", 404), ("../f.bin", "INVALID_REQUEST", 400)):
        status, _, payload = api(c, "POST", "/api/v1/artifacts/download", {
            **target(c), "runId": RUN, "artifactId": started["artifactId"], "path": path})
        assert_error(status, payload, want, code, "path")


def _publish_small(c: CollectorProcess, data: bytes, name: str) -> dict[str, Any]:
    status, started = initiate(c, [entry(data)], name=name)
    assert status == 200, started
    for plan in started["files"]:
        assert request("PUT", plan["url"], raw=data)[0] == 200
    status, done = finalize(c, started)
    assert status == 200, done
    return started


def test_tampered_signatures_are_forbidden(shared_collector: CollectorProcess) -> None:
    """Changing the signature, a signed parameter, the blob or the method is a 403."""
    data = os.urandom(64)
    status, started = initiate(shared_collector, [entry(data)], name="tamper")
    url = started["files"][0]["url"]
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    forged = [
        {**query, "sig": query["sig"][:-2] + ("AA" if not query["sig"].endswith("AA") else "BB")},
        {**query, "size": str(len(data) + 1)},
        {k: v for k, v in query.items() if k != "sig"},
        {**query, "exp": str(int(query["exp"]) + 3600)},
    ]
    for q in forged:
        bad = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))
        status, _, payload = request("PUT", bad, raw=data)
        assert_error(status, payload, 403, "FORBIDDEN")
    other_blob = url.replace(entry(data)["sha256"], "0" * 64)
    assert_error(*_status_payload(request("PUT", other_blob, raw=data)), 403, "FORBIDDEN")
    assert_error(*_status_payload(request("GET", url)), 403, "FORBIDDEN")


def _status_payload(answer: tuple[int, dict[str, str], Any]) -> tuple[int, Any]:
    return answer[0], answer[2]


def test_expired_urls_are_forbidden(shared_collector: CollectorProcess) -> None:
    """A correctly signed URL past its expiry is a 403, for uploads and downloads alike."""
    signer = UrlSigner(load_or_create_secret(shared_collector.data_dir))
    path = f"/api/v1/artifacts/blobs/{'a' * 64}"
    for method in ("PUT", "GET"):
        url, _ = signer.sign(shared_collector.url, method, path, -5, {"size": "1"})
        status, _, payload = request(method, url, raw=b"x" if method == "PUT" else None)
        assert_error(status, payload, 403, "FORBIDDEN")
        assert "expired" in payload["error"]["message"]


def test_wrong_single_upload_is_refused_and_nothing_is_published(
        shared_collector: CollectorProcess) -> None:
    """Bytes that do not match the manifest are a 409 on PUT, then a 409 at finalize."""
    c = shared_collector
    declared = b"hello world"
    status, started = initiate(c, [entry(declared)], name="wrong-single")
    url = started["files"][0]["url"]
    assert_error(*_status_payload(request("PUT", url, raw=b"HELLO WORLD")), 409, "CONFLICT")
    assert_error(*_status_payload(request("PUT", url, raw=b"hello")), 409, "CONFLICT")
    assert_error(*finalize(c, started), 409, "CONFLICT", "files[0]")
    assert versions(c, "wrong-single") == []


def test_wrong_multipart_content_is_refused_and_nothing_is_published(
        small_parts_collector: CollectorProcess) -> None:
    """Parts that assemble to another sha256 are a 409 at finalize; a wrong ETag is too."""
    c = small_parts_collector
    declared, sent = os.urandom(SMALL_PART_BYTES + 100), os.urandom(SMALL_PART_BYTES + 100)
    status, started = initiate(c, [entry(declared)], name="wrong-multi")
    parts = started["files"][0]["parts"]
    etags = []
    for part in parts:
        chunk = sent[part["offsetBytes"]:part["offsetBytes"] + part["sizeBytes"]]
        status, headers, _ = request("PUT", part["url"], raw=chunk)
        assert status == 200
        etags.append({"partNumber": part["partNumber"], "etag": headers["ETag"]})
    wrong_etag = [{**etags[0], "etag": '"' + "0" * 64 + '"'}, *etags[1:]]
    status, payload = finalize(c, started, multipartParts=[{"path": "f.bin", "parts": wrong_etag}])
    assert_error(status, payload, 409, "CONFLICT", "multipartParts[0].parts[0].etag")
    status, payload = finalize(c, started, multipartParts=[{"path": "f.bin", "parts": etags}])
    assert_error(status, payload, 409, "CONFLICT", "files[0].sha256")
    assert versions(c, "wrong-multi") == [] and blob_files(c) == []
    assert not list((c.data_dir / "blobs" / "staging").iterdir())


def test_oversized_bodies_are_payload_too_large(small_parts_collector: CollectorProcess) -> None:
    """More bytes than a blob or part holds is a 413, announced or streamed chunked."""
    c = small_parts_collector
    small = b"0123456789"
    status, started = initiate(c, [entry(small, "s.bin"),
                                   entry(os.urandom(SMALL_PART_BYTES * 2), "m.bin")], name="big")
    single, multi = started["files"]
    assert_error(*_status_payload(request("PUT", single["url"], raw=small + b"!")), 413,
                 "PAYLOAD_TOO_LARGE")
    part_url = multi["parts"][0]["url"]
    too_big = b"x" * (SMALL_PART_BYTES + 1)
    assert_error(*_status_payload(request("PUT", part_url, raw=too_big)), 413,
                 "PAYLOAD_TOO_LARGE")
    assert _chunked_put(single["url"], [small, b"extra"]) == 413
    assert blob_files(c) == []


def _chunked_put(url: str, chunks: list[bytes]) -> int:
    """PUT with Transfer-Encoding: chunked (no Content-Length); the status."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("PUT", f"{parts.path}?{parts.query}", body=iter(chunks),
                     encode_chunked=True)
        return conn.getresponse().status
    finally:
        conn.close()


def test_auth_and_scopes_are_enforced(shared_collector: CollectorProcess) -> None:
    """No key is a 401; a key without artifacts:write is a 403; another project is a 404/403."""
    c = shared_collector
    body = {**target(c), "runId": RUN, "name": "auth", "files": [entry(b"x")]}
    status, _, payload = request("POST", c.url + "/api/v1/artifacts/initiate", body)
    assert_error(status, payload, 401, "UNAUTHORIZED")
    other = new_target(c)
    metrics_only = new_key(c, other, ["metrics:write"])["apiKey"]
    scoped = {**body, "workspace": other.workspace, "project": other.project}
    status, _, payload = request("POST", c.url + "/api/v1/artifacts/initiate", scoped,
                                 api_key=metrics_only)
    assert_error(status, payload, 403, "FORBIDDEN")
    status, _, payload = request("POST", c.url + "/api/v1/artifacts/initiate", body,
                                 api_key=metrics_only)
    assert_error(status, payload, 403, "FORBIDDEN")
    started = _publish_small(c, b"secret", "private")
    status, _, payload = api(c, "POST", "/api/v1/artifacts/download", {
        "workspace": other.workspace, "project": other.project, "runId": RUN,
        "artifactId": started["artifactId"], "path": "f.bin"})
    assert_error(status, payload, 404, "NOT_FOUND", "artifactId")
