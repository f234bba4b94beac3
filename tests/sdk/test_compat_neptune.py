"""The Neptune-style shim (rundial.compat.neptune): what each call records, on the collector double.

Scripts are written the way Neptune's docs write them; only the import differs.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

import pytest

import rundial as rd
import rundial.compat.neptune as neptune
from rundial.compat.neptune.utils import stringify_unsupported
from tests.sdk.compat_support import (final_status, messages, options, points, run_meta,
                                      run_offline_script, sent_config, start_body)
from tests.sdk.conftest import CollectorDouble


@pytest.fixture
def opts(double: CollectorDouble, tmp_path: Path, isolated_env: Path,
         monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    for name in ("NEPTUNE_PROJECT", "NEPTUNE_MODE", "NEPTUNE_CUSTOM_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    return {**options(double, tmp_path), "capture_stdout": False, "capture_stderr": False}


def test_series_get_implicit_per_series_steps(double: CollectorDouble, opts: dict) -> None:
    """append/log without a step count 0, 1, 2… per series; an explicit step moves that series'
    counter past it; a step not above the series' last is skipped with a warning."""
    run = neptune.init_run(project="ws/proj", **opts)
    for epoch in range(3):
        run["train/loss"].append(1.0 / (epoch + 1))
    run["train/acc"].append(0.5, step=10)
    run["train/acc"].log(0.6)
    with pytest.warns(RuntimeWarning, match="not above the last one of 'train/loss'"):
        run["train/loss"].append(9.0, step=1)
    run["eval"].append({"f1": 0.7, "auc": 0.8})
    run["eval/f1"].extend([0.71, 0.72])
    run.stop()
    assert points(double, "train/loss") == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]
    assert points(double, "train/acc") == [(10, 0.5), (11, 0.6)]
    assert points(double, "eval/f1") == [(0, 0.7), (1, 0.71), (2, 0.72)]
    assert points(double, "eval/auc") == [(0, 0.8)]
    assert final_status(double) == "completed"


def test_nan_none_and_bad_types_in_series(double: CollectorDouble, opts: dict) -> None:
    """NaN/Inf/None are skipped without using a step (Neptune skips them); a list is a
    TypeError; a string goes to the log as a string-series line."""
    run = neptune.init_run(**{"project": "ws/proj", **opts})
    with pytest.warns(RuntimeWarning, match="are skipped"):
        run["loss"].append(float("nan"))
    run["loss"].append(None)
    run["loss"].append(2.0)
    run["notes"].append("first")
    run["notes"].append("second", step=5)
    with pytest.raises(TypeError, match="cannot append a list"):
        run["loss"].append([1, 2])
    run.stop()
    assert points(double, "loss") == [(0, 2.0)]
    assert messages(double) == ["[notes step=0] first", "[notes step=5] second"]


def test_assigned_values_are_typed_config_and_namespaces_flatten(double: CollectorDouble,
                                                                   opts: dict) -> None:
    """Assignments become config keys joined with '/'; dicts and Namespaces are namespaces;
    datetimes keep their type; unsupported values are skipped with a warning unless passed
    through stringify_unsupported."""
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    run = neptune.init_run(project="ws/proj", **opts)
    run["parameters"] = {"lr": 0.001, "optimizer": {"name": "adam", "betas": 2}, "amp": True}
    run["args"] = argparse.Namespace(epochs=3)
    run["data"]["version"] = "v2"
    run["started"] = when
    run.assign({"model": {"depth": 50}})
    with pytest.warns(RuntimeWarning, match="'layers' \\(list\\) is not a supported type"):
        run["layers"] = [64, 32]
    run["extra"] = stringify_unsupported({"layers": [64, 32], "path": Path("/x")})
    assert run["parameters"].fetch() == {"lr": 0.001, "optimizer": {"name": "adam", "betas": 2},
                                         "amp": True}  # nested, as Neptune's namespace fetch
    assert run["sys/id"].fetch() == run.rundial_run.id
    run.stop()
    config = neptune.restore_types(sent_config(double))
    assert config == {"parameters/lr": 0.001, "parameters/optimizer/name": "adam",
                      "parameters/optimizer/betas": 2, "parameters/amp": True,
                      "args/epochs": 3, "data/version": "v2", "started": when,
                      "model/depth": 50, "extra/layers": "[64, 32]", "extra/path": "/x",
                      "sys/name": "Untitled", "sys/description": ""}


def test_name_and_tags(double: CollectorDouble, opts: dict) -> None:
    """init's name and tags are the run's; tags added or removed later and sys/name edit the
    run's tags and name (in the start request or as a run edit) and land in the config."""
    run = neptune.init_run(project="ws/proj", name="baseline", tags=["resnet"],
                           description="first try", **opts)
    run["sys/tags"].add("v2")
    run.sync()  # registered by now: the next changes are run edits
    run["sys/tags"].add(["bert", "gpu"])
    run["sys/tags"].remove("gpu")
    run["sys/name"] = "renamed"
    run.stop()
    assert start_body(double)["runName"] == "baseline"
    assert run_meta(double) == ("renamed", {"resnet", "v2", "bert"})
    assert any(m == "PATCH" and p.endswith("/workspaces/ws/projects/proj/runs/" + run.rundial_run.id)
               for m, p, _d in double.calls)
    config = neptune.restore_types(sent_config(double))
    assert config["sys/tags"] == {"resnet", "v2", "bert"}
    assert config["sys/name"] == "renamed" and config["sys/description"] == "first try"


def test_a_resumed_run_edits_its_name_but_not_its_tags(double: CollectorDouble,
                                                       opts: dict) -> None:
    """with_id: the earlier process's tags are unknown, so sys/tags stays config only (an edit
    would replace them); the name is still edited."""
    run = neptune.init_run(with_id="run_old", project="ws/proj", **opts)
    run.sync()
    run["sys/tags"].add("late")
    run["sys/name"] = "resumed"
    run.stop()
    assert [d for m, _p, d in double.calls if m == "PATCH"] == [{"runName": "resumed"}]
    assert neptune.restore_types(sent_config(double))["sys/tags"] == {"late"}


def test_project_resume_and_modes(double: CollectorDouble, opts: dict,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """'ws/proj' targets workspace+project; with_id resumes ('must'), custom_run_id shares
    ('allow'); debug mode records nothing; read-only without with_id and unknown modes
    raise."""
    run = neptune.init_run(with_id="run_resumed", project="ws/proj", **opts)
    assert run.get_url() == "http://collector.test/p/ws/proj/r/run_resumed"
    run.stop()
    body = start_body(double)
    assert (body["runId"], body["resume"]) == ("run_resumed", "must")
    assert any(path.endswith("/runs/resolve-target") and doc == {"workspace": "ws", "project": "proj"}
               for _m, path, doc in double.calls)
    monkeypatch.setenv("NEPTUNE_MODE", "debug")
    assert isinstance(neptune.init_run(project="p", **opts).rundial_run, rd.NoopRun)
    with pytest.raises(ValueError, match="pass with_id"):
        neptune.init_run(project="p", mode="read-only", **opts)
    with pytest.raises(ValueError, match="mode must be one of"):
        neptune.init_run(project="p", mode="fast", **opts)
    with pytest.raises(ValueError, match="workspace/project"):
        neptune.init_run(project="a/b/c", **opts)


def test_api_token_of_another_tracker_is_ignored(double: CollectorDouble, opts: dict) -> None:
    """A Neptune token is not sent to the collector; a rundial key (rdk_) is."""
    with pytest.warns(RuntimeWarning, match="not a rundial key"):
        run = neptune.init_run(project="ws/proj", api_token=neptune.ANONYMOUS_API_TOKEN, **opts)
    run.stop()
    assert not any("authorization" in r.headers for r in opts["transport"].requests)  # type: ignore[attr-defined]
    run = neptune.init_run(project="ws/proj", api_token="rdk_abc", **opts)
    run.stop()
    assert opts["transport"].requests[-1].headers["authorization"] == "Bearer rdk_abc"  # type: ignore[attr-defined]


def test_upload_queues_a_file_artifact(opts: dict, tmp_path: Path) -> None:
    """upload() of a missing file is a ValueError, of a non-path a TypeError; a file is queued
    without waiting (the e2e test reads it back)."""
    run = neptune.init_run(project="ws/proj", **opts)
    with pytest.raises(ValueError):
        run["model"].upload(str(tmp_path / "missing.pt"))
    with pytest.raises(TypeError, match="file path"):
        run["model"].upload(b"bytes")
    run.rundial_run.abort("test", 0)


def test_context_manager_failure_and_unknown_api(double: CollectorDouble, opts: dict) -> None:
    """An exception leaving `with` ends the run failed; an unknown method raises
    NotImplementedError naming the docs page."""
    with pytest.raises(ZeroDivisionError):
        with neptune.init_run(project="ws/proj", **opts) as run:
            1 / 0
    assert final_status(double) == "failed"
    with pytest.raises(NotImplementedError, match="docs/neptune-compat.md"):
        run.print_structure()
    with pytest.raises(NotImplementedError, match="neptune.init_model"):
        neptune.init_model
    with pytest.raises(NotImplementedError):
        run["x"].upload_files("a")


def test_a_run_never_stopped_is_stopped_at_exit(tmp_path: Path) -> None:
    """A script that never calls stop() still ends its run completed, config written; an
    offline run's later tags are in run.json for `rundial sync` to register."""
    doc = run_offline_script(tmp_path, """
        import rundial.compat.neptune as neptune
        run = neptune.init_run(name="left-open", capture_stdout=False, capture_stderr=False,
                               system_metrics=False)
        run["parameters/lr"] = 0.1
        run["train/loss"].append(0.5)
        run["sys/tags"].add("offline")
    """)
    assert doc["finalStatus"]["status"] == "completed"
    assert doc["config"]["parameters/lr"] == 0.1 and doc["config"]["sys/name"] == "left-open"
    assert (doc["runName"], doc["tags"]) == ("left-open", ["offline"])  # for `rundial sync`


class _FakeTensor:
    """Duck-typed like a torch tensor: detach().cpu().numpy()."""

    def __init__(self, array: object) -> None:
        self.array = array

    def detach(self) -> _FakeTensor:
        return self

    def cpu(self) -> _FakeTensor:
        return self

    def numpy(self) -> object:
        return self.array


def test_file_images_become_uint8_images() -> None:
    """File.as_image reads floats as 0-1 (scaled to 0-255), clips other integer types, takes
    tensors as arrays; File(path) is a file; as_html refuses what it cannot convert (as
    Neptune does: ValueError) and File() needs something to hold."""
    import numpy as np

    from rundial.compat.neptune.types import File, _uint8_image

    floats = _uint8_image(np.array([[0.0, 0.5, 2.0]]))
    assert floats.dtype == np.uint8 and floats.tolist() == [[0, 128, 255]]
    assert _uint8_image(np.array([[-5, 300]], dtype=np.int16)).tolist() == [[0, 255]]
    assert _uint8_image(_FakeTensor(np.ones((2, 2)))).tolist() == [[255, 255], [255, 255]]
    assert isinstance(File.as_image(np.zeros((2, 3))).media(), rd.Image)
    assert File.from_path("a/b.png").path == Path("a/b.png")
    with pytest.raises(TypeError):
        File.as_image(object()).media()
    with pytest.raises(ValueError, match="File.as_html takes"):
        File.as_html("<p>")
    with pytest.raises(ValueError):
        File()


def test_init_project_needs_a_workspace_and_known_options(
        monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> None:
    """Without "workspace/project" (argument or NEPTUNE_PROJECT) init_project is a ValueError
    before any request; an unknown option a TypeError; Neptune's ignored options pass."""
    monkeypatch.delenv("NEPTUNE_PROJECT", raising=False)
    monkeypatch.delenv("RUNDIAL_WORKSPACE", raising=False)
    with pytest.raises(ValueError, match="workspace/project"):
        neptune.init_project("showroom", endpoint="http://127.0.0.1:9")
    with pytest.raises(TypeError):
        neptune.init_project("ws/showroom", colour="blue")
    project = neptune.init_project("ws/showroom", mode="read-only", proxies=None,
                                   endpoint="http://127.0.0.1:9")
    with pytest.raises(NotImplementedError, match="Project.fetch_models_table"):
        project.fetch_models_table()
    project.stop()
