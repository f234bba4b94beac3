"""The web UI's artifact and media reads (docs/protocol.md §5.7, §5.8) over HTTP against a real
collector holding runs logged through the real SDK."""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from rundial_collector.store.postgres.store import PostgresStore
from tests.collector.control import V1, assert_error, call, new_target, start_run
from tests.collector.ui_assets_seed import (DATA_FILES, IMAGE_STEPS, MANY_FILES, MODEL_BYTES,
                                            Seeded, seeded_collector)
from tests.conftest import BACKENDS
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.postgres import PgCluster


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[CollectorProcess, Seeded]]:
    """The seeded collector on SQLite, then on PostgreSQL (the reads are store behaviour)."""
    url = ""
    if request.param == "postgres":
        if not hasattr(PostgresStore, "ingest_metrics"):  # the SDK's seeding logs metrics
            pytest.skip("seeding through the SDK needs the PostgreSQL metrics part (#16)")
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database()
    with seeded_collector(tmp_path_factory.mktemp("ui-assets"), url) as seeded:
        yield seeded


def _project(proc: CollectorProcess) -> str:
    return f"{V1}/workspaces/{proc.workspace}/projects/{proc.project}"


def _get(proc: CollectorProcess, path: str, **params: Any) -> tuple[int, Any]:
    query = urllib.parse.urlencode(params)
    return call(proc, "GET", _project(proc) + path + (f"?{query}" if query else ""))


def _assets(proc: CollectorProcess, run_id: str) -> dict[str, Any]:
    status, body = _get(proc, f"/runs/{run_id}/artifacts")
    assert status == 200, body
    return dict(body)


def _by_name(versions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in versions}


def test_run_artifacts_lists_produced_and_used_with_lineage(
        seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    consumer = _assets(proc, runs.consumer)
    [used] = consumer["used"]
    assert (used["name"], used["version"], used["runId"]) == ("data", 1, runs.producer)
    assert used["use"]["ref"] == "data:golden"
    assert sorted(used["aliases"]) == ["golden", "latest"]
    assert used["fileCount"] == 2
    assert used["sizeBytes"] == sum(len(b) for b in DATA_FILES.values())
    assert "files" not in used
    assert _by_name(consumer["produced"])["model"]["sizeBytes"] == len(MODEL_BYTES)
    assert consumer["runs"][runs.producer]["runName"] == "producer"
    assert consumer["runs"][runs.consumer]["runName"] == "consumer"
    produced = _by_name(_assets(proc, runs.producer)["produced"])
    assert [c["runId"] for c in produced["data"]["consumers"]] == [runs.consumer]
    assert produced["data"]["consumerCount"] == 1
    assert produced["many"]["fileCount"] == MANY_FILES


def _files_of(proc: CollectorProcess, artifact_id: str, **params: Any) -> tuple[int, Any]:
    return _get(proc, f"/artifacts/{artifact_id}/files", **params)


def test_files_are_paged_and_every_file_is_listed_once(
        seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    many = _by_name(_assets(proc, runs.producer)["produced"])["many"]["artifactId"]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 1000}
    pages = 0
    while True:
        status, body = _files_of(proc, many, **params)
        assert status == 200, body
        assert len(body["files"]) <= 1000 and body["total"] == MANY_FILES
        assert all(f["stored"] for f in body["files"])
        seen += [f["path"] for f in body["files"]]
        pages += 1
        if not body["page"]["hasMore"]:
            break
        params["cursor"] = body["page"]["nextCursor"]
    assert pages == 2 and len(seen) == len(set(seen)) == MANY_FILES
    status, body = _files_of(proc, many, limit=5000)
    assert len(body["files"]) == 1000  # capped


@pytest.mark.parametrize("params, field", [({"limit": 0}, "limit"), ({"limit": "x"}, "limit"),
                                           ({"cursor": "nope"}, "cursor"),
                                           ({"cursor": "WyJhIl0"}, "cursor")])
def test_bad_file_paging_is_a_400(seeded: tuple[CollectorProcess, Seeded],
                                  params: dict[str, Any], field: str) -> None:
    proc, runs = seeded
    data = _assets(proc, runs.consumer)["used"][0]["artifactId"]
    assert_error(*_files_of(proc, data, **params), 400, "INVALID_REQUEST", field)


def _file(proc: CollectorProcess, artifact_id: str, path: str, **extra: str
          ) -> tuple[int, dict[str, str], Any]:
    query = urllib.parse.urlencode({"path": path, **extra})
    return request("GET", f"{proc.url}{_project(proc)}/artifacts/{artifact_id}/file?{query}",
                   api_key=proc.api_key)


def test_file_download_serves_the_bytes_as_an_attachment(
        seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    data = _assets(proc, runs.consumer)["used"][0]["artifactId"]
    for path, content in DATA_FILES.items():
        status, headers, body = _file(proc, data, path, inline="true")
        assert status == 200
        assert hashlib.sha256(body).digest() == hashlib.sha256(content).digest()
        base = path.rsplit("/", 1)[-1]
        assert headers["Content-Disposition"] == (f'attachment; filename="{base}"; '
                                                  f"filename*=UTF-8''{base}")
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in headers["Content-Security-Policy"]


def test_media_image_is_served_inline_as_png(seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    status, _, body = request("GET", f"{proc.url}{V1}/media?workspace={proc.workspace}"
                              f"&project={proc.project}&runId={runs.consumer}"
                              "&mediaKey=samples&step=5", api_key=proc.api_key)
    assert status == 200, body
    [item] = body["items"]
    status, headers, png = _file(proc, item["artifactId"], item["artifactPath"], inline="1")
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith("inline;")


def test_file_errors_are_clear(seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    data = _assets(proc, runs.consumer)["used"][0]["artifactId"]
    status, _, body = _file(proc, data, "../etc/passwd")
    assert_error(status, body, 400, "INVALID_REQUEST", "path")
    status, _, body = _file(proc, data, "nothere.txt")
    assert_error(status, body, 404, "NOT_FOUND")
    status, _, body = _file(proc, "art_unknown", "a.txt")
    assert_error(status, body, 404, "NOT_FOUND")


def test_missing_blob_is_marked_and_answers_404(seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    model = _by_name(_assets(proc, runs.consumer)["produced"])["model"]["artifactId"]
    sha = hashlib.sha256(MODEL_BYTES).hexdigest()
    blob = proc.data_dir / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha
    assert blob.is_file()
    blob.rename(blob.with_name("moved"))
    try:
        status, body = _files_of(proc, model)
        assert status == 200 and [f["stored"] for f in body["files"]] == [False]
        status, _, body = _file(proc, model, "model.bin")
        assert_error(status, body, 404, "NOT_FOUND")
        assert "no longer stored" in body["error"]["message"]
    finally:
        blob.with_name("moved").rename(blob)


def test_media_keys_and_steps(seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    status, body = _get(proc, f"/runs/{runs.consumer}/media/keys")
    assert status == 200, body
    assert [(k["mediaKey"], k["mediaType"], k["stepCount"]) for k in body["keys"]] == [
        ("preds", "table", 1), ("samples", "image", len(IMAGE_STEPS))]
    assert body["page"]["hasMore"] is False
    status, first = _get(proc, f"/runs/{runs.consumer}/media/keys", limit=1)
    assert [k["mediaKey"] for k in first["keys"]] == ["preds"]
    status, second = _get(proc, f"/runs/{runs.consumer}/media/keys", limit=1,
                          cursor=first["page"]["nextCursor"])
    assert [k["mediaKey"] for k in second["keys"]] == ["samples"]
    status, steps = _get(proc, f"/runs/{runs.consumer}/media/steps", mediaKey="samples",
                         limit=3)
    assert steps["steps"] == list(IMAGE_STEPS[:3]) and steps["page"]["hasMore"]
    status, rest = _get(proc, f"/runs/{runs.consumer}/media/steps", mediaKey="samples",
                        cursor=steps["page"]["nextCursor"])
    assert rest["steps"] == list(IMAGE_STEPS[3:])
    status, none = _get(proc, f"/runs/{runs.producer}/media/keys")
    assert status == 200 and none["keys"] == []


def test_media_bad_input(seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    assert_error(*_get(proc, f"/runs/{runs.consumer}/media/steps"), 400, "INVALID_REQUEST",
                 "mediaKey")
    assert_error(*_get(proc, f"/runs/{runs.consumer}/media/steps", mediaKey="samples",
                       cursor="WyJ4Il0"), 400, "INVALID_REQUEST", "cursor")
    assert_error(*_get(proc, f"/runs/{runs.consumer}/media/keys", cursor="WzFd"), 400,
                 "INVALID_REQUEST", "cursor")


@pytest.mark.parametrize("suffix", ["/artifacts", "/media/keys",
                                    "/media/steps?mediaKey=samples"])
def test_unknown_run_and_other_project_are_404(seeded: tuple[CollectorProcess, Seeded],
                                               suffix: str) -> None:
    proc, runs = seeded
    assert_error(*call(proc, "GET", f"{_project(proc)}/runs/run-unknown{suffix}"), 404,
                 "NOT_FOUND")
    other = new_target(proc)
    elsewhere = f"run-elsewhere-{other.project}"
    status, started = start_run(proc, other, runId=elsewhere)
    assert status in (200, 201), started
    assert_error(*call(proc, "GET", f"{_project(proc)}/runs/{elsewhere}{suffix}"), 404,
                 "NOT_FOUND")
    assert_error(*call(proc, "GET", f"{other.path}/runs/{runs.consumer}{suffix}"), 404,
                 "NOT_FOUND")


def test_version_of_another_project_is_404(seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    data = _assets(proc, runs.consumer)["used"][0]["artifactId"]
    other = new_target(proc)
    for tail in ("/files", "/file?path=a.txt"):
        assert_error(*call(proc, "GET", f"{other.path}/artifacts/{data}{tail}"), 404,
                     "NOT_FOUND")


def test_reads_need_auth_and_accept_the_session_cookie(
        seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    path = f"{_project(proc)}/runs/{runs.consumer}/artifacts"
    assert_error(*call(proc, "GET", path, key=None), 401, "UNAUTHORIZED")
    status, headers, _ = request("POST", proc.url + f"{V1}/ui/session",
                                 {"apiKey": proc.api_key})
    assert status == 201
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    data = _assets(proc, runs.consumer)["used"][0]["artifactId"]
    for url in (path, f"{_project(proc)}/artifacts/{data}/file?path=a.txt"):
        status, _, body = request("GET", proc.url + url, headers={"Cookie": cookie})
        assert status == 200, body


def test_a_key_of_another_project_gets_no_read(seeded: tuple[CollectorProcess, Seeded],
                                               tmp_path: Path) -> None:
    proc, runs = seeded
    other = new_target(proc)
    status, key = call(proc, "POST", f"{other.path}/api-keys", {"scopes": ["project:read"]})
    assert status == 201, key
    status, body = call(proc, "GET", f"{_project(proc)}/runs/{runs.consumer}/artifacts",
                        key=key["apiKey"])
    assert status in (403, 404), body


def test_sdk_media_artifacts_are_left_out_unless_asked(
        seeded: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = seeded
    assert [v["name"] for v in _assets(proc, runs.consumer)["produced"]] == ["model"]
    status, body = _get(proc, f"/runs/{runs.consumer}/artifacts", includeInternal="true")
    assert status == 200, body
    types = sorted({v["artifactType"] for v in body["produced"]})
    assert types == ["media_image", "media_table", "model"]
    assert len(body["produced"]) == 1 + len(IMAGE_STEPS) + 1


def test_a_non_ascii_file_name_survives_the_download(seeded: tuple[CollectorProcess, Seeded],
                                                      tmp_path: Path) -> None:
    """The name reaches the browser whole (RFC 6266 ``filename*``), with an ASCII fallback."""
    proc, _ = seeded
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(tmp_path / "spool"), name="names")
    assert isinstance(run, rd.Run)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "résumé \"x\".txt").write_bytes(b"r")
    assert run.log_artifact(tmp_path / "d", name="names")
    assert run.flush(timeout_s=60) and run.finish(timeout_s=60)
    [version] = _assets(proc, run.run_id)["produced"]
    status, headers, body = _file(proc, version["artifactId"], 'résumé "x".txt')
    assert status == 200 and body == b"r"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"r_sum_ _x_.txt\"; "
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22.txt")
