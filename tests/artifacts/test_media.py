"""Media: rd.Image from a path, a PIL image or a numpy array, rd.Table, queried per run/step."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

from rundial._artifacts.uploader import ArtifactUploader
from rundial._media import Image, Table
from tests.artifacts.conftest import api
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401


def _media(c: CollectorProcess, run_id: str, **params: Any) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    status, _, body = api(c, "GET", f"/api/v1/media?workspace={c.workspace}"
                                    f"&project={c.project}&runId={run_id}&{query}")
    assert status == 200, body
    return list(body["items"])


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return bytes(resp.read())


def _log(uploader: ArtifactUploader, key: str, step: int, value: Any) -> None:
    assert uploader.log_media(key, step, value, int(time.time() * 1000))


ARRAYS = {
    "grey": np.arange(6 * 7, dtype=np.uint8).reshape(6, 7),
    "grey1": np.arange(6 * 7, dtype=np.uint8).reshape(6, 7, 1),
    "rgb": np.random.default_rng(1).integers(0, 255, (5, 4, 3), dtype=np.uint8),
    "rgba": np.random.default_rng(2).integers(0, 255, (3, 8, 4), dtype=np.uint8),
}


def test_images_from_every_source_round_trip(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """Paths, PIL images and uint8 arrays of all four shapes come back pixel-identical."""
    run = "run-media-images"
    uploader = make_uploader(shared_collector, run_id=run)
    on_disk = tmp_path / "photo.png"
    PILImage.new("RGB", (9, 4), (10, 200, 30)).save(on_disk)
    _log(uploader, "img/path", 1, Image(on_disk, caption="from disk"))
    _log(uploader, "img/pil", 1, Image(PILImage.new("L", (3, 2), 77)))
    for name, array in ARRAYS.items():
        _log(uploader, f"img/{name}", 2, Image(array))
    assert uploader.flush(30), uploader.diagnostics()
    items = {i["mediaKey"]: i for i in _media(shared_collector, run)}
    assert items["img/path"]["caption"] == "from disk"
    assert (items["img/path"]["width"], items["img/path"]["height"]) == (9, 4)
    assert items["img/path"]["artifactPath"] == "photo.png"
    assert _fetch(items["img/path"]["url"]) == on_disk.read_bytes()
    pil = PILImage.open(io.BytesIO(_fetch(items["img/pil"]["url"])))
    assert (pil.mode, pil.size, pil.getpixel((0, 0))) == ("L", (3, 2), 77)
    for name, array in ARRAYS.items():
        item = items[f"img/{name}"]
        decoded = np.asarray(PILImage.open(io.BytesIO(_fetch(item["url"]))))
        assert decoded.tobytes() == array.tobytes(), name
        assert (item["height"], item["width"], item["step"]) == (*array.shape[:2], 2)


def test_tables_and_step_queries(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader]
        ) -> None:
    """Tables serialise to columns/rows JSON; queries filter by key and step."""
    run = "run-media-tables"
    uploader = make_uploader(shared_collector, run_id=run)
    for step in range(3):
        rows = [[f"ex{step}-{i}", i * 0.5, object()] for i in range(step + 1)]
        _log(uploader, "preds", step, Table(columns=["id", "score", "blob"], rows=rows))
    _log(uploader, "other", 1, Table(columns=["a"], data=[[1]]))
    assert uploader.flush(30), uploader.diagnostics()
    at_one = _media(shared_collector, run, mediaKey="preds", step=1)
    assert [(i["step"], i["tableRows"], i["tableColumns"]) for i in at_one] == [(1, 2, 3)]
    table = json.loads(_fetch(at_one[0]["url"]))
    assert table["columns"] == ["id", "score", "blob"]
    assert [row[:2] for row in table["rows"]] == [["ex1-0", 0.0], ["ex1-1", 0.5]]
    assert isinstance(table["rows"][0][2], str)
    ranged = _media(shared_collector, run, minStep=1, maxStep=2)
    assert sorted((i["mediaKey"], i["step"]) for i in ranged) == [
        ("other", 1), ("preds", 1), ("preds", 2)]
    page = _media(shared_collector, run, limit=2)
    assert len(page) == 2


def test_media_values_are_validated_at_construction(tmp_path: Path) -> None:
    """Bad media inputs raise on the caller's thread, before anything is queued."""
    with pytest.raises(ValueError):
        Image(tmp_path / "missing.png")
    with pytest.raises(TypeError):
        Image(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError):
        Image(np.zeros((2, 2, 2), dtype=np.uint8))
    with pytest.raises(TypeError):
        Image(42)
    with pytest.raises(ValueError):
        Table(columns=[], rows=[])
    with pytest.raises(ValueError):
        Table(columns=["a"], rows=[[0]] * 10_001)


def test_arrays_are_copied_when_logged(
        shared_collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader]
        ) -> None:
    """Changing an array after logging it does not change what is uploaded."""
    run = "run-media-copy"
    uploader = make_uploader(shared_collector, run_id=run)
    array = np.zeros((2, 2), dtype=np.uint8)
    value = Image(array)
    array[:] = 255
    _log(uploader, "copy", 0, value)
    assert uploader.flush(30)
    (item,) = _media(shared_collector, run)
    assert np.asarray(PILImage.open(io.BytesIO(_fetch(item["url"])))).max() == 0


def test_numpy_and_pillow_are_imported_only_when_media_is_used() -> None:
    """Importing the uploader and media modules loads neither numpy nor Pillow."""
    code = ("import sys, rundial._artifacts.uploader, rundial._media, rundial._artifacts.handle; "
            "print(sorted(m for m in ('numpy', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
