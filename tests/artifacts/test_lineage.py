"""use_artifact: ref grammar, lineage records, download verification and safety."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rundial._artifacts.handle import ArtifactHandle, ArtifactIntegrityError
from rundial._artifacts.http import ArtifactHTTPError
from rundial._artifacts.uploader import ArtifactUploader
from tests.artifacts.conftest import api, target, write_random
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401


def _produce(collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
             tmp_path: Path) -> None:
    producer = make_uploader(collector, run_id="run-producer")
    for i, aliases in enumerate([["stable"], [], ["candidate"]]):
        path = tmp_path / f"d{i}" / "data.csv"
        write_random(path, 100 + i)
        assert producer.log_artifact(path, name="dataset", type="dataset", aliases=aliases)
        assert producer.flush(30)


def test_refs_resolve_by_alias_version_and_bare_name(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """``name:alias``, ``name:vN`` and a bare name (latest) select the expected versions."""
    _produce(shared_collector, make_uploader, tmp_path)
    consumer = make_uploader(shared_collector, run_id="run-consumer")
    assert consumer.use_artifact("dataset:stable").version == 1
    assert consumer.use_artifact("dataset:v2").version == 2
    assert consumer.use_artifact("dataset").version == 3
    assert consumer.use_artifact("dataset:latest").aliases == ["candidate", "latest"]
    with pytest.raises(ArtifactHTTPError) as missing:
        consumer.use_artifact("dataset:v9")
    assert missing.value.status == 404


def test_use_artifact_records_lineage_both_ways(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """The consuming run lists what it used, and the version lists the runs that used it."""
    c = shared_collector
    producer = make_uploader(c, run_id="run-lineage-producer")
    path = tmp_path / "weights.bin"
    write_random(path, 1000)
    assert producer.log_artifact(path, name="lineage-weights") and producer.flush(30)
    consumer = make_uploader(c, run_id="run-lineage-consumer")
    handle = consumer.use_artifact("lineage-weights:latest")
    consumer.use_artifact("lineage-weights:v1")
    query = f"/api/v1/artifacts/lineage?workspace={c.workspace}&project={c.project}"
    status, _, by_run = api(c, "GET", query + "&runId=run-lineage-consumer")
    assert status == 200, by_run
    assert [(u["artifactId"], u["useCount"], u["ref"]) for u in by_run["used"]] == [
        (handle.artifact_id, 2, "lineage-weights:v1")]
    status, _, by_artifact = api(c, "GET", query + f"&artifactId={handle.artifact_id}")
    assert by_artifact["artifact"]["runId"] == "run-lineage-producer"
    assert [u["runId"] for u in by_artifact["consumers"]] == ["run-lineage-consumer"]
    status, _, produced = api(c, "GET", query + "&runId=run-lineage-producer")
    assert [v["name"] for v in produced["produced"]] == ["lineage-weights"]


def test_download_refuses_corrupt_content(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """A manifest hash that does not match the bytes served raises and leaves no file behind."""
    uploader = make_uploader(shared_collector, run_id="run-corrupt")
    path = tmp_path / "real.bin"
    write_random(path, 4096)
    assert uploader.log_artifact(path, name="corrupt-check") and uploader.flush(30)
    good = uploader.use_artifact("corrupt-check")
    files = [{**good.files[0], "sha256": "0" * 64}]
    lying = ArtifactHandle({**good.artifact, "files": files}, target(shared_collector),
                           uploader._control, uploader._blob_http)
    with pytest.raises(ArtifactIntegrityError):
        lying.download(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("path", ["../evil", "/abs", "a/../../b", "a\\b"])
def test_download_refuses_paths_outside_the_directory(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path, path: str) -> None:
    """A server-supplied path that would escape the destination raises before any request."""
    uploader = make_uploader(shared_collector)
    handle = ArtifactHandle({"artifactId": "art_x", "runId": "r", "files": [
        {"path": path, "sizeBytes": 1, "sha256": "0" * 64}]}, target(shared_collector),
        uploader._control, uploader._blob_http)
    with pytest.raises(ValueError):
        handle.download(tmp_path / "dest")
    assert not (tmp_path / "evil").exists()
