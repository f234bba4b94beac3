"""``wandb.plot`` charts, ``Video``, ``Audio`` and ``Html`` logged through the W&B shim to the
real collector, read back over HTTP: chart tables under W&B's keys with their spec, and the
files as video, audio and html media items with their bytes."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

import numpy as np

import rundial.compat.wandb as wandb
from tests.e2e.test_compat_wandb import _download_json, _get, env  # noqa: F401 (fixture)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

GIF_BYTES = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def _file(c: CollectorProcess, item: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    status, headers, body = request(
        "GET", c.url + f"/api/v1/workspaces/{c.workspace}/projects/{c.project}/artifacts/"
        f"{item['artifactId']}/file?path={item['artifactPath']}", api_key=c.api_key)
    assert status == 200 and isinstance(body, bytes)
    return body, headers


def test_plots_and_file_media_reach_the_collector(collector: CollectorProcess,
                                                  env: dict[str, Any],  # noqa: F811
                                                  tmp_path: Path) -> None:
    clip = tmp_path / "clip.gif"
    clip.write_bytes(GIF_BYTES)
    table = wandb.Table(columns=["x", "y"], data=[[0, 1.0], [1, 0.5]])
    run = wandb.init(name="plots", **env)
    wandb.log({"loss": 1.0, "curve": wandb.plot.line(table, "x", "y", title="loss"),
               "cm": wandb.plot.confusion_matrix(y_true=[0, 1, 1], preds=[0, 1, 0],
                                                 class_names=["no", "yes"])})
    wandb.log({"clip": wandb.Video(str(clip), caption="first"),
               "voice": wandb.Audio(np.array([0.0, 0.5, -0.5]), sample_rate=8000),
               "page": wandb.Html("<p>hi</p>")}, step=3)
    wandb.finish()

    media = _get(collector, f"/api/v1/media?workspace={collector.workspace}&project="
                            f"{collector.project}&runId={run.id}&limit=100")["items"]
    by_key = {item["mediaKey"]: item for item in media}
    assert sorted(by_key) == ["clip", "cm_table", "curve_table", "page", "voice"]
    curve = by_key["curve_table"]
    assert (curve["mediaType"], curve["step"], curve["metadata"]["spec"],
            curve["metadata"]["title"]) == ("table", 0, "wandb/line/v0", "loss")
    assert _download_json(collector, curve) == {"columns": ["x", "y"],
                                                "rows": [[0, 1.0], [1, 0.5]]}
    assert _download_json(collector, by_key["cm_table"])["rows"] == [
        ["no", "no", 1.0], ["no", "yes", 0.0], ["yes", "no", 1.0], ["yes", "yes", 1.0]]

    assert {k: (by_key[k]["mediaType"], by_key[k]["step"]) for k in ("clip", "voice", "page")} \
        == {"clip": ("video", 3), "voice": ("audio", 3), "page": ("html", 3)}
    assert by_key["clip"]["caption"] == "first"
    assert _file(collector, by_key["clip"])[0] == GIF_BYTES
    with wave.open(io.BytesIO(_file(collector, by_key["voice"])[0])) as wav:
        frames = wav.readframes(wav.getnframes())
        assert (wav.getframerate(), np.frombuffer(frames, "<i2").tolist()) == (
            8000, [0, 16384, -16384])
    assert by_key["voice"]["metadata"]["sampleRate"] == 8000
    page, headers = _file(collector, by_key["page"])
    assert page == b'<base target="_blank"><p>hi</p>'
    assert headers["Content-Disposition"].startswith("attachment")  # never rendered inline

    keys = _get(collector, f"/api/v1/workspaces/{collector.workspace}/projects/"
                           f"{collector.project}/runs/{run.id}/media/keys")["keys"]
    assert {k["mediaKey"]: k["mediaType"] for k in keys}["voice"] == "audio"
    produced = _get(collector, f"/api/v1/workspaces/{collector.workspace}/projects/"
                               f"{collector.project}/runs/{run.id}/artifacts")["produced"]
    assert produced == []  # media artifacts are internal, the new kinds too


def test_an_unknown_media_type_is_rejected_naming_it(collector: CollectorProcess) -> None:
    item = {"mediaKey": "m", "mediaType": "hologram", "step": 1, "timestampMs": 1,
            "artifactPath": "f", "artifactId": "art_x", "artifactVersion": 1,
            "artifactSha256": "a" * 64}
    status, _, reply = request("POST", collector.url + "/api/v1/ingest/media",
                               {"workspace": collector.workspace, "project": collector.project,
                                "runId": "r1", "items": [item]}, api_key=collector.api_key)
    assert status == 200 and reply["rejected"] == 1
    assert reply["errors"][0]["field"] == "items[0].mediaType"
    assert "video, audio, html" in reply["errors"][0]["message"]
