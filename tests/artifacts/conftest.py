"""Fixtures for the artifact tests: a collector with small multipart parts, and helpers.

The collector runs with 1 MiB parts (``RUNDIAL_COLLECTOR_ARTIFACT_PART_BYTES``), so multipart
paths are exercised with files of a few MiB; the 100 MB round trip uses the default 8 MiB.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rundial._artifacts.uploader import ArtifactUploader
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

SMALL_PART_BYTES = 1024 * 1024


@pytest.fixture
def small_parts_collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    """A fresh collector whose multipart threshold and part size are 1 MiB."""
    proc = CollectorProcess(tmp_path / "collector-data",
                            extra_env={"RUNDIAL_COLLECTOR_ARTIFACT_PART_BYTES":
                                       str(SMALL_PART_BYTES)})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def target(collector: CollectorProcess) -> dict[str, str]:
    """The workspace/project slugs of the bootstrap project, as request fields."""
    return {"workspace": collector.workspace, "project": collector.project}


def api(collector: CollectorProcess, method: str, path: str, body: Any = None,
        **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """One authenticated call to the collector."""
    return request(method, collector.url + path, body, api_key=collector.api_key, **kwargs)


def write_random(path: Path, size: int, chunk: int = 4 << 20) -> str:
    """Fill ``path`` with ``size`` random bytes (bounded memory); return their sha256."""
    hasher = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        left = size
        while left:
            data = os.urandom(min(chunk, left))
            fh.write(data)
            hasher.update(data)
            left -= len(data)
    return hasher.hexdigest()


def blob_files(collector: CollectorProcess) -> list[Path]:
    """Every published blob file on the collector's disk."""
    return sorted((collector.data_dir / "blobs" / "sha256").glob("*/*/*"))


def versions(collector: CollectorProcess, name: str, include_deleted: bool = False
             ) -> list[dict[str, Any]]:
    query = (f"/api/v1/artifacts/versions?workspace={collector.workspace}"
             f"&project={collector.project}&name={name}"
             + ("&includeDeleted=true" if include_deleted else ""))
    status, _, body = api(collector, "GET", query)
    assert status == 200, body
    return list(body["versions"])


@pytest.fixture
def make_uploader(tmp_path: Path) -> Iterator[Callable[..., ArtifactUploader]]:
    """Build uploaders against a collector; every one is closed at the end of the test."""
    made: list[ArtifactUploader] = []

    def build(collector: CollectorProcess, run_id: str = "run-art", **kwargs: Any
              ) -> ArtifactUploader:
        kwargs.setdefault("concurrency", 4)
        spool = kwargs.pop("spool_dir", tmp_path / "spool")
        uploader = ArtifactUploader(collector.url, collector.api_key, target(collector), run_id,
                                    spool, **kwargs)
        made.append(uploader)
        return uploader

    yield build
    for uploader in made:
        uploader.close(5.0)
