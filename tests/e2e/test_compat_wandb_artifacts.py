"""W&B artifacts and models through ``rundial.compat.wandb`` against the real collector: one run
logs a dataset artifact (two versions) and a model, a second run uses them by W&B refs and
downloads identical bytes; versions, aliases, metadata and lineage are read back over HTTP.
Strings logged with ``wandb.log`` come back as the run's log lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundial.compat.wandb as wandb
from rundial._artifacts.http import ArtifactHTTPError
from tests.e2e.test_compat_wandb import _get, env  # noqa: F401  (the env fixture)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.e2e_support import read_logs


def _lineage(c: CollectorProcess, run_id: str) -> dict[str, Any]:
    return dict(_get(c, f"/api/v1/artifacts/lineage?workspace={c.workspace}"
                        f"&project={c.project}&runId={run_id}"))


def _stored_file(c: CollectorProcess, artifact_id: str, path: str) -> bytes:
    status, _, body = request("GET", c.url + f"/api/v1/workspaces/{c.workspace}/projects/"
                              f"{c.project}/artifacts/{artifact_id}/file?path={path}",
                              api_key=c.api_key)
    assert status == 200 and isinstance(body, bytes), (status, body)
    return body


def _tree(root: str | Path) -> dict[str, bytes]:
    base = Path(root)
    return {p.relative_to(base).as_posix(): p.read_bytes()
            for p in sorted(base.rglob("*")) if p.is_file()}


def test_artifacts_and_models_round_trip_with_lineage(collector: CollectorProcess,
                                                     env: dict[str, Any],  # noqa: F811
                                                     tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    (data / "train" / "x.npy").write_bytes(bytes(range(256)) * 40)
    (data / "labels.csv").write_text("id,label\n1,7\n")
    (tmp_path / "cnn.pt").write_bytes(b"\x80\x02weights" * 1000)

    producer = wandb.init(name="producer", **env)
    first = wandb.Artifact("digits", "dataset", description="MNIST digits", metadata={"n": 2})
    first.add_dir(str(data))
    with first.new_file("README.md", mode="w") as f:
        f.write("# digits\n")
    producer.log_artifact(first, aliases=["raw"])
    (data / "labels.csv").write_text("id,label\n1,1\n")  # version 2 of the dataset
    second = wandb.Artifact("digits", "dataset")
    second.add_dir(str(data))
    wandb.log_artifact(second, aliases=["clean"])
    wandb.log_model(str(tmp_path / "cnn.pt"), name="cnn", aliases=["best"])
    preds = wandb.Artifact("preds", "predictions")
    pixels = np.full((3, 5, 3), 200, dtype=np.uint8)
    preds.add(wandb.Table(columns=["id", "img", "p"],
                          data=[[1, wandb.Image(pixels, caption="one"), 0.5], [2, None, 0.25]]),
              "my_table")
    preds.save()  # logged to wandb.run
    wandb.log({"loss": 0.5, "phase": "warmup"})
    wandb.finish()
    staged = first._staging.root
    assert staged is not None and not staged.exists()  # uploaded: the staging is removed

    produced = {(v["name"], v["version"]): v for v in _lineage(collector, producer.id)["produced"]}
    assert sorted(produced) == [("cnn", 1), ("digits", 1), ("digits", 2), ("preds", 1)]
    v1, v2, model = produced["digits", 1], produced["digits", 2], produced["cnn", 1]
    assert (v1["artifactType"], model["artifactType"]) == ("dataset", "model")
    assert v1["metadata"] == {"n": 2, "wandb.description": "MNIST digits"}
    assert sorted(v1["aliases"]) == ["raw"] and sorted(v2["aliases"]) == ["clean", "latest"]
    assert sorted(f["path"] for f in v1["files"]) == ["README.md", "labels.csv", "train/x.npy"]
    assert _stored_file(collector, v1["artifactId"], "labels.csv") == b"id,label\n1,7\n"
    assert _stored_file(collector, model["artifactId"], "cnn.pt") == (tmp_path / "cnn.pt"
                                                                      ).read_bytes()
    assert [line["message"] for line in read_logs(collector, producer.id)] == [
        "[phase step=0] warmup"]

    consumer = wandb.init(name="consumer", reinit=True, **env)
    old = consumer.use_artifact("digits:v0", type="dataset")  # W&B's v0: rundial's version 1
    assert (old.name, old.version, old.description) == ("digits:v0", "v0", "MNIST digits")
    got = _tree(old.download(str(tmp_path / "restore")))
    assert got == {**_tree(data), "labels.csv": b"id,label\n1,7\n", "README.md": b"# digits\n"}
    assert _tree(wandb.use_artifact("digits:clean").download(str(tmp_path / "v2"))) == _tree(data)
    model_path = wandb.use_model("cnn:best")
    assert Path(model_path).read_bytes() == (tmp_path / "cnn.pt").read_bytes()
    assert Path(model_path).parent == Path.cwd() / "artifacts" / "cnn:v0"
    table = wandb.use_artifact("preds:latest").get("my_table")
    assert (table.columns, table.get_column("p"), table.data[1][1]) == (
        ["id", "img", "p"], [0.5, 0.25], None)
    image = table.data[0][1]
    assert isinstance(image, wandb.Image) and image.caption == "one"
    assert image.render().source.read_bytes() == wandb.Image(pixels).render().data
    with pytest.raises(ArtifactHTTPError) as missing:
        wandb.use_artifact("digits:v2")  # only v0 and v1 exist
    assert missing.value.status == 404
    wandb.finish()

    used = {(v["name"], v["version"]) for v in _lineage(collector, consumer.id)["used"]}
    assert used == {("digits", 1), ("digits", 2), ("cnn", 1), ("preds", 1)}
