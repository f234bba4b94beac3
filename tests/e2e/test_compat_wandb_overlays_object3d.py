"""Image boxes and masks, ``wandb.Object3D`` and ``wandb.Molecule`` logged through the W&B shim to the real
collector, read back over HTTP: boxes and classes in the image's metadata, each mask an image
item of its own with the class ids as pixels, and a point cloud as an ``object3d`` item holding
W&B's ``.pts.json``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundial.compat.wandb as wandb
from tests.e2e.test_compat_wandb import _download_json, _get, env  # noqa: F401 (fixture)
from tests.e2e.test_compat_wandb_plot_media import _file
from tests.helpers.collector_proc import CollectorProcess

PIL = pytest.importorskip("PIL.Image")


def test_boxes_masks_and_point_clouds_reach_the_collector(collector: CollectorProcess,
                                                          env: dict[str, Any],  # noqa: F811
                                                          tmp_path: Path) -> None:
    box = {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6}, "class_id": 1}
    image = wandb.Image(np.zeros((2, 3)), caption="frame", boxes={
        "pred": {"box_data": [box], "class_labels": {1: "car"}}},
        masks={"seg": {"mask_data": np.array([[0, 1, 2], [2, 1, 0]])}})
    run = wandb.init(name="overlays", **env)
    (tmp_path / "m.pdb").write_text("END\n")
    wandb.log({"frame": image, "cloud": wandb.Object3D(np.array([[1.0, 2.0, 3.0]])),
               "mol": wandb.Molecule(str(tmp_path / "m.pdb"))}, step=4)
    wandb.finish()

    media = _get(collector, f"/api/v1/media?workspace={collector.workspace}&project="
                            f"{collector.project}&runId={run.id}&limit=100")["items"]
    by_key = {item["mediaKey"]: item for item in media}
    assert {k: (v["mediaType"], v["step"]) for k, v in by_key.items()} == {
        "frame": ("image", 4), "frame/masks/seg": ("image", 4), "cloud": ("object3d", 4),
        "mol": ("molecule", 4)}
    mol, headers = _file(collector, by_key["mol"])
    assert mol == b"END\n" and headers["Content-Disposition"].startswith("attachment")
    frame = by_key["frame"]["metadata"]
    assert frame["boxes"] == {"pred": {"box_data": [box], "class_labels": {"1": "car"}}}
    assert frame["masks"]["seg"]["key"] == "frame/masks/seg"
    assert [c["id"] for c in frame["classes"]] == [1, 0, 2]
    mask = by_key["frame/masks/seg"]
    assert mask["metadata"]["image"] == "frame" and mask["metadata"]["index"] == 0
    png, _headers = _file(collector, mask)
    assert np.asarray(PIL.open(io.BytesIO(png))).tolist() == [[0, 1, 2], [2, 1, 0]]
    assert _download_json(collector, by_key["cloud"]) == [[1.0, 2.0, 3.0]]
    assert by_key["cloud"]["artifactPath"].endswith("points.pts.json")
    assert by_key["cloud"]["metadata"] == {"rundial.kind": "wandb_object3d", "format": "pts.json"}
