"""Dedup never grants content on a hash alone, and racing part uploads get a 409 (#14.1, #14.2).

A project skips an upload only for content it already holds; any other project must upload the
bytes, and the initiate answer looks the same whether or not someone else stores the hash.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sqlite3
import urllib.parse
from typing import Any

import pytest

from tests.artifacts.conftest import SMALL_PART_BYTES, api, blob_files, target
from tests.collector.control import Target, assert_error, new_key, new_target
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401
from tests.helpers.waiting import wait_until

RUN = "run-dedup-scope"
SECRET = b"project A's private model weights: 51 bytes long!!"


def entry(data: bytes, size: int | None = None, path: str = "f.bin") -> dict[str, Any]:
    return {"path": path, "sizeBytes": len(data) if size is None else size,
            "sha256": hashlib.sha256(data).hexdigest()}


def call(c: CollectorProcess, route: str, body: dict[str, Any], where: dict[str, str],
         key: str | None) -> tuple[int, Any]:
    status, _, payload = request("POST", c.url + "/api/v1/artifacts/" + route,
                                 {**where, "runId": RUN, **body}, api_key=key or c.api_key)
    return status, payload


def initiate(c: CollectorProcess, files: list[dict[str, Any]], where: dict[str, str],
             key: str | None = None, name: str = "weights") -> tuple[int, Any]:
    return call(c, "initiate", {"name": name, "files": files}, where, key)


def finalize(c: CollectorProcess, started: dict[str, Any], where: dict[str, str],
             key: str | None = None, **extra: Any) -> tuple[int, Any]:
    return call(c, "finalize", {"artifactId": started["artifactId"],
                                "uploadId": started["uploadId"], **extra}, where, key)


def publish(c: CollectorProcess, data: bytes, where: dict[str, str],
            key: str | None = None) -> dict[str, Any]:
    """Initiate, PUT what the plan asks for and finalize; the finalize answer."""
    status, started = initiate(c, [entry(data)], where, key)
    assert status == 200, started
    for plan in started["files"]:
        assert request("PUT", plan["url"], raw=data)[0] == 200
    status, done = finalize(c, started, where, key)
    assert status == 200, done
    return dict(done)


def other_project(c: CollectorProcess) -> tuple[dict[str, str], str]:
    """A new project C and a key of it holding only ``artifacts:write``."""
    other: Target = new_target(c)
    key = new_key(c, other, ["artifacts:write"])["apiKey"]
    return {"workspace": other.workspace, "project": other.project}, str(key)


def plan_shape(started: dict[str, Any]) -> Any:
    """What an initiate answer says about the content (ids and signatures left out)."""
    return (started["state"], started["deduplicatedBytes"],
            [(f["path"], f["uploadStrategy"], len(f.get("parts", [])) or None)
             for f in started["files"]])


def test_a_hash_alone_never_grants_another_projects_content(
        collector: CollectorProcess) -> None:
    """C knows the sha256 of A's file: with a wrong or the right size, initiate answers as for
    unknown content, and finalize without uploading is a 409, so C never gets A's bytes."""
    c = collector
    publish(c, SECRET, target(c))
    where, key = other_project(c)
    unknown = os.urandom(len(SECRET))
    for size in (1, len(SECRET)):
        status, started = initiate(c, [entry(SECRET, size)], where, key)
        assert status == 200, started
        status, control = initiate(c, [entry(unknown, size)], where, key, name="control")
        assert status == 200, control
        assert plan_shape(started) == plan_shape(control) == (
            "pending", 0, [("f.bin", "single", None)])
        status, payload = finalize(c, started, where, key)
        assert_error(status, payload, 409, "CONFLICT", "files[0]")
    status, _, payload = request("GET", c.url + "/api/v1/artifacts/versions?" +
                                 urllib.parse.urlencode({**where, "name": "weights"}),
                                 api_key=key)
    assert status == 200 and payload["versions"] == [], payload


def test_uploading_the_bytes_grants_them_and_stores_them_once(
        collector: CollectorProcess) -> None:
    """C that does upload A's content gets its own version; the blob is still stored once,
    and from then on C's later uploads of it are deduplicated."""
    c = collector
    publish(c, SECRET, target(c))
    where, key = other_project(c)
    done = publish(c, SECRET, where, key)
    assert done["deduped"] is False and done["artifact"]["sizeBytes"] == len(SECRET)
    assert len(blob_files(c)) == 1
    status, again = initiate(c, [entry(SECRET)], where, key)
    assert status == 200 and plan_shape(again) == ("pending", len(SECRET), []), again


@pytest.mark.both_stores
def test_a_size_other_than_the_stored_contents_is_refused(collector: CollectorProcess) -> None:
    """A project naming content it holds with another size gets a 409 on the size; a manifest
    naming one sha256 with two sizes is a 400."""
    c = collector
    publish(c, SECRET, target(c))
    status, payload = initiate(c, [entry(SECRET, 1)], target(c))
    assert_error(status, payload, 409, "CONFLICT", "files[0].sizeBytes")
    twice = [entry(SECRET, path="a"), entry(SECRET, 7, path="b")]
    status, payload = initiate(c, twice, target(c))
    assert_error(status, payload, 400, "INVALID_REQUEST", "files[1].sizeBytes")


def _put_parts(started: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    etags = []
    for part in started["files"][0]["parts"]:
        chunk = data[part["offsetBytes"]:part["offsetBytes"] + part["sizeBytes"]]
        status, headers, payload = request("PUT", part["url"], raw=chunk)
        assert status == 200, payload
        etags.append({"partNumber": part["partNumber"], "etag": headers["ETag"]})
    return etags


def test_parts_staged_by_another_project_are_not_shared(
        small_parts_collector: CollectorProcess) -> None:
    """A's fully staged (unfinalized) multipart upload neither shows in C's plan nor lets C
    finalize the content without sending every part itself."""
    c = small_parts_collector
    data = os.urandom(2 * SMALL_PART_BYTES + 10)
    status, started = initiate(c, [entry(data)], target(c))
    assert status == 200, started
    _put_parts(started, data)
    where, key = other_project(c)
    status, theirs = initiate(c, [entry(data)], where, key)
    assert status == 200, theirs
    assert plan_shape(theirs) == ("pending", 0, [("f.bin", "multipart", 3)])
    status, payload = finalize(c, theirs, where, key)
    assert_error(status, payload, 409, "CONFLICT", "files[0]")
    done_etags = _put_parts(theirs, data)
    status, done = finalize(c, theirs, where, key,
                            multipartParts=[{"path": "f.bin", "parts": done_etags}])
    assert status == 200 and done["artifact"]["files"][0]["sha256"] == entry(data)["sha256"]


def _open_put(url: str, total_bytes: int, first: bytes) -> http.client.HTTPConnection:
    """Start a PUT announcing ``total_bytes`` and send only ``first``; the open connection."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest("PUT", f"{parts.path}?{parts.query}")
    conn.putheader("Content-Length", str(total_bytes))
    conn.endheaders()
    conn.send(first)
    return conn


def test_racing_writes_of_one_part_and_an_early_finalize_are_conflicts(
        small_parts_collector: CollectorProcess) -> None:
    """While part 1 is being received, a second PUT of part 1 and a finalize are 409s; once
    the first PUT is done, finalize publishes exactly the declared bytes."""
    c = small_parts_collector
    data = os.urandom(2 * SMALL_PART_BYTES)
    status, started = initiate(c, [entry(data)], target(c))
    assert status == 200, started
    part1, part2 = started["files"][0]["parts"]
    staging = c.data_dir / "blobs" / "staging"
    slow = _open_put(part1["url"], SMALL_PART_BYTES, data[:1000])
    try:
        wait_until(lambda: list(staging.glob("*.data")), message="part 1 to be receiving")
        status, _, payload = request("PUT", part1["url"], raw=os.urandom(SMALL_PART_BYTES))
        assert_error(status, payload, 409, "CONFLICT")
        status, headers, _ = request("PUT", part2["url"], raw=data[SMALL_PART_BYTES:])
        assert status == 200
        etags = [{"partNumber": 2, "etag": headers["ETag"]}]
        status, payload = finalize(c, started, target(c),
                                   multipartParts=[{"path": "f.bin", "parts": etags}])
        assert_error(status, payload, 409, "CONFLICT", "files[0]")
        slow.send(data[1000:SMALL_PART_BYTES])
        answer = slow.getresponse()
        assert answer.status == 200
        etags.insert(0, {"partNumber": 1, "etag": answer.getheader("ETag")})
    finally:
        slow.close()
    status, done = finalize(c, started, target(c),
                            multipartParts=[{"path": "f.bin", "parts": etags}])
    assert status == 200, done
    status, _, link = api(c, "POST", "/api/v1/artifacts/download", {
        **target(c), "runId": RUN, "artifactId": started["artifactId"], "path": "f.bin"})
    assert status == 200 and request("GET", link["url"])[2] == data


def test_a_blob_stored_wrong_before_the_fix_is_no_dedup_target_and_heals(
        collector: CollectorProcess) -> None:
    """A data directory of an older collector whose blob holds other bytes than its sha256 (the
    race of #14.1): after the upgrade nobody holds it, so the owner's next upload of the true
    content is not deduplicated against it; that verified upload replaces it."""
    c = collector
    done = publish(c, SECRET, target(c))
    c.stop()
    (blob,) = blob_files(c)
    blob.write_bytes(b"X" * len(SECRET))  # what the race left behind, same size
    with sqlite3.connect(c.data_dir / "rundial.sqlite3") as db:
        db.execute("DROP TABLE IF EXISTS blob_holders")  # as an older collector left it
    c.start()
    again = publish(c, SECRET, target(c))
    assert again["deduped"] is False and again["artifact"]["version"] == 2
    for artifact_id in (done["artifact"]["artifactId"], again["artifact"]["artifactId"]):
        status, _, link = api(c, "POST", "/api/v1/artifacts/download", {
            **target(c), "runId": RUN, "artifactId": artifact_id, "path": "f.bin"})
        assert status == 200 and request("GET", link["url"])[2] == SECRET


def test_a_part_resent_with_other_bytes_is_refused_at_finalize(
        small_parts_collector: CollectorProcess) -> None:
    """The issue's repro over HTTP: part 1 PUT right, then at once again with other bytes, the
    rest right, finalize with the ETags returned: a 409 and nothing published. The honest upload
    that follows publishes, and serves, exactly the declared bytes. (Whether the second PUT
    lands while part 1 is still being hashed depends on timing here; test_staging_race.py
    forces that interleaving.)"""
    c = small_parts_collector
    data = os.urandom(2 * SMALL_PART_BYTES + 4096)
    status, started = initiate(c, [entry(data)], target(c), name="resent")
    assert status == 200, started
    parts = started["files"][0]["parts"]
    size1 = parts[0]["sizeBytes"]
    etags = _put_parts({"files": [{"parts": parts[:1]}]}, data)
    status, headers, _ = request("PUT", parts[0]["url"], raw=os.urandom(size1))
    assert status == 200
    etags = [{"partNumber": 1, "etag": headers["ETag"]}]
    etags += _put_parts({"files": [{"parts": parts[1:]}]}, data)
    status, payload = finalize(c, started, target(c),
                               multipartParts=[{"path": "f.bin", "parts": etags}])
    assert_error(status, payload, 409, "CONFLICT", "files[0].sha256")
    assert blob_files(c) == []
    status, again = initiate(c, [entry(data)], target(c), name="resent")
    assert status == 200, again
    etags = _put_parts(again, data)
    status, done = finalize(c, again, target(c), multipartParts=[{"path": "f.bin", "parts": etags}])
    assert status == 200, done
    status, _, link = api(c, "POST", "/api/v1/artifacts/download", {
        **target(c), "runId": RUN, "artifactId": again["artifactId"], "path": "f.bin"})
    assert status == 200
    assert hashlib.sha256(request("GET", link["url"])[2]).digest() == hashlib.sha256(data).digest()
