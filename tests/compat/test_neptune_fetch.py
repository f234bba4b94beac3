"""Reading a run back through the Neptune-style shim: read-only runs, fetches, downloads.

Unit tests cover the pieces that shape what Neptune returns (namespaces, ``sys/*`` fields, the
``fetch_values`` DataFrame, download targets) and the reader's errors on a transport double;
end-to-end tests write a run through the shim into the real collector and read it back with
``init_run(with_id=..., mode="read-only")`` or a resumed run, as Neptune's docs do.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import rundial.compat.neptune as neptune
from rundial._http.transport import Request, Response
from rundial.compat.neptune._reader import RunReader
from rundial.compat.neptune._fetch import (file_target, nest, series_folder, series_frame,
                                           sys_fields, tree)
from rundial.compat.neptune.exceptions import (FetchError, MissingFieldException,
                                               NeedExistingRunForReadOnlyMode, RunNotFound)
from rundial.compat.neptune.types import File
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.compat_support import options
from tests.sdk.conftest import CollectorDouble

QUIET = {"capture_stdout": False, "capture_stderr": False, "capture_hardware_metrics": False}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No RUNDIAL_/NEPTUNE_ variables, an empty HOME and working directory."""
    for name in list(os.environ):
        if name.startswith(("RUNDIAL_", "NEPTUNE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def target(env: Path, shared_collector: CollectorProcess,
           monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared collector by environment; its ``workspace/project``."""
    monkeypatch.setenv("RUNDIAL_ENDPOINT", shared_collector.url)
    monkeypatch.setenv("RUNDIAL_API_KEY", shared_collector.api_key)
    monkeypatch.setenv("RUNDIAL_SPOOL_DIR", str(env / "spool"))
    return f"{shared_collector.workspace}/{shared_collector.project}"


# -- unit: what the reads return --------------------------------------------------------------
def test_pandas_is_imported_only_by_fetch_values() -> None:
    """Importing the shim (its reads included) does not load pandas."""
    code = ("import sys, rundial.compat.neptune, rundial.compat.neptune.exceptions; "
            "print(sorted(m for m in ('pandas',) if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out


def test_a_namespace_fetch_is_nested_single_values() -> None:
    """Neptune's namespace fetch: nested dicts of single values, string sets left out."""
    flat = {"params/lr": 0.1, "params/opt/name": "adam", "params/tags": {"a"}, "seed": 1}
    assert nest(flat, "params") == {"lr": 0.1, "opt": {"name": "adam"}}
    assert nest(flat, "") == {"params": {"lr": 0.1, "opt": {"name": "adam"}}, "seed": 1}
    assert nest(flat, "nothing") == {}
    assert tree(["c/d", "a", "a/b"], str.upper) == {"a": {"b": "A/B"}, "c": {"d": "C/D"}}


def test_sys_fields_are_read_from_the_run_itself() -> None:
    """sys/state is Active only while running; times are UTC datetimes (ms); the run's name
    wins over the config's, which wins over "Untitled"; tags are the run's and the config's."""
    run = {"status": "failed", "runName": None, "tags": ["a"], "startedAtMs": 1_700_000_000_123,
           "updatedAtMs": 1_700_000_001_000,
           "config": {"sys/tags": ["b"], "rundial.types/sys/tags": "string_set", "x": 1}}
    fields = sys_fields(run, "run_1")
    assert fields["sys/state"] == "Inactive" and fields["sys/failed"] is True
    assert fields["sys/creation_time"] == datetime(2023, 11, 14, 22, 13, 20, 123000,
                                                   tzinfo=timezone.utc)
    assert (fields["sys/id"], fields["sys/name"], fields["sys/tags"], fields["x"]) == (
        "run_1", "Untitled", {"a", "b"}, 1)
    running = sys_fields({"status": "running", "runName": "n", "config": {"sys/name": "c"}}, "r")
    assert (running["sys/state"], running["sys/failed"], running["sys/name"]) == (
        "Active", False, "n")
    assert sys_fields({"config": {"sys/name": "c"}}, "r")["sys/name"] == "c"


def test_fetch_values_is_neptunes_dataframe() -> None:
    """Columns step (float, as Neptune's steps), value and timestamp (naive local time)."""
    frame = series_frame([(0, 1_700_000_000_000, 0.5), (3, 1_700_000_001_500, 0.25)], True)
    assert list(frame.columns) == ["step", "value", "timestamp"]
    assert frame["step"].tolist() == [0.0, 3.0] and frame["step"].dtype == float
    assert frame["value"].tolist() == [0.5, 0.25]
    assert frame["timestamp"].tolist()[1] == datetime.fromtimestamp(1_700_000_001.5)
    assert list(series_frame([(1, 0, "text")], False).columns) == ["step", "value"]


def test_download_targets_follow_neptunes_rules(env: Path) -> None:
    """A file field: the destination file, or <field name><ext> in a directory or the working
    directory; an image series: the destination directory, else neptune/<field name>."""
    assert file_target("model/weights", "weights.pt", None) == Path("weights.pt")
    (env / "out").mkdir()
    assert file_target("model/ckpt", "a.bin", "out") == Path("out/ckpt.bin")
    assert file_target("model/ckpt", "a.bin", "here.bin") == Path("here.bin")
    assert series_folder("train/images", None) == Path("neptune/images")
    assert (env / "neptune" / "images").is_dir()


class Canned:
    """A transport answering every request with one status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, json.dumps(body).encode()
        self.requests: list[Request] = []

    def send(self, req: Request) -> Response:
        self.requests.append(req)
        return Response(self.status, self.body, {"content-type": "application/json"})

    def close(self) -> None:
        pass


def test_read_only_needs_an_existing_run(env: Path) -> None:
    """Without with_id: NeedExistingRunForReadOnlyMode (a ValueError); an unknown run:
    RunNotFound; a collector refusing the read: FetchError naming the status. Each is found
    at init_run, as Neptune looks the run up there."""
    opts = {"project": "ws/proj", "endpoint": "http://collector.test", "api_key": "rdk_x"}
    with pytest.raises(NeedExistingRunForReadOnlyMode, match="with_id"):
        neptune.init_run(mode="read-only", **opts)
    unknown = Canned(200, {"projectId": "prj_1", "runs": [], "unknownRunIds": ["nope"]})
    with pytest.raises(RunNotFound, match="'nope' was not found in project ws/proj"):
        neptune.init_run(with_id="nope", mode="read-only", transport=unknown, **opts)
    assert json.loads(unknown.requests[0].body or b"") == {
        "workspace": "ws", "project": "proj", "runIds": ["nope"]}
    refused = Canned(403, {"error": {"code": "FORBIDDEN", "message": "no project:read"}})
    with pytest.raises(FetchError, match="HTTP 403 \\(FORBIDDEN: no project:read\\)"):
        neptune.init_run(with_id="r", mode="read-only", transport=refused, **opts)


class Pages:
    """A transport answering each path with its own list of JSON bodies, in turn."""

    def __init__(self, answers: dict[str, list[dict[str, Any]]]) -> None:
        self.answers = answers
        self.requests: list[Request] = []

    def send(self, req: Request) -> Response:
        self.requests.append(req)
        path = req.path.split("?")[0]
        return Response(200, json.dumps(self.answers[path].pop(0)).encode())

    def close(self) -> None:
        pass


def test_reads_follow_the_collectors_pages() -> None:
    """A series read follows page.nextCursor while hasMore, sending the cursor back; the run's
    project is looked up once (query/runs) and its id used for every read."""
    run = {"runId": "r1", "projectId": "prj_9", "workspaceSlug": "ws", "projectSlug": "p"}
    point = {"step": 0, "timestampMs": 5, "value": 1.5}
    pages = Pages({
        "/api/v1/query/runs": [{"runs": [run]}],
        "/api/v1/query/series": [
            {"series": [{"metricKey": "loss", "points": [point]}],
             "page": {"hasMore": True, "nextCursor": "c1"}},
            {"series": [{"metricKey": "loss", "points": [{**point, "step": 1}]}],
             "page": {"hasMore": False, "nextCursor": None}}]})
    reader = RunReader("http://collector.test", "rdk_x", ("ws", "p"), "r1", transport=pages)
    assert reader.points("loss") == [(0, 5, 1.5), (1, 5, 1.5)]
    bodies = [json.loads(r.body or b"") for r in pages.requests[1:]]
    assert [b.get("cursor") for b in bodies] == [None, "c1"]
    assert {b["projectId"] for b in bodies} == {"prj_9"}
    assert reader.page_path() == "/p/ws/p/r/r1"


def test_an_offline_run_reads_only_its_own_values(env: Path) -> None:
    """Nothing is read from a server in offline mode: this process's values are answered,
    anything else is a MissingFieldException (also a KeyError)."""
    run = neptune.init_run(project="ws/proj", mode="offline", **QUIET)
    run["a/b"] = 1
    run["loss"].append(0.5)
    assert (run["a"].fetch(), run["loss"].fetch_last()) == ({"b": 1}, 0.5)
    assert run.exists("a") and not run.exists("elsewhere")
    with pytest.raises(KeyError, match='the field "elsewhere" was not found'):
        run["elsewhere"].fetch()
    with pytest.raises(MissingFieldException):
        run["loss"].fetch_values()
    run.stop()


def test_a_run_the_collector_does_not_know_yet_has_only_its_own_values(env: Path) -> None:
    """An online run not yet registered: the collector's "no such run" is a missing field
    (fetch) and not there (exists), as for a field nobody wrote."""
    double = CollectorDouble()  # answers query/runs with no runs
    run = neptune.init_run(project="ws/proj", **options(double, env), **QUIET)
    run["a"] = 1
    assert run["a"].fetch() == 1
    with pytest.raises(MissingFieldException):
        run["b"].fetch()
    assert not run.exists("b")
    assert any(path.endswith("/api/v1/query/runs") for _m, path, _d in double.calls)
    run.stop()


# -- end to end: the real collector ------------------------------------------------------------
def write_run(project: str, cwd: Path) -> str:
    """A run as a Neptune script logs one: values, series, a file and images; its id."""
    run = neptune.init_run(project=project, name="fetch-me", tags=["a", "b"], **QUIET)
    run["parameters"] = {"lr": 0.01, "epochs": 3, "amp": True, "opt": {"name": "adam"}}
    run["started"] = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    for epoch in range(3):
        run["train/loss"].append(1.0 / (epoch + 1), step=epoch * 2)
        run["train/notes"].append(f"epoch {epoch}")
        run["train/images"].append(File.as_image(np.full((4, 5), epoch * 40, dtype=np.uint8)))
    (cwd / "weights.pt").write_bytes(b"\x00weights\xff")
    run["model/weights"].upload(str(cwd / "weights.pt"))
    run_id = str(run["sys/id"].fetch())
    run.stop()
    return run_id


def test_a_read_only_run_fetches_what_was_logged(target: str, env: Path,
                                                  shared_collector: CollectorProcess) -> None:
    """init_run(with_id, mode="read-only") reads values with their types, sys fields,
    series (last value, DataFrame), the structure, the file and the images; its writes are
    dropped with Neptune's one warning."""
    run_id = write_run(target, env)
    run = neptune.init_run(project=target, with_id=run_id, mode="read-only")
    assert run["parameters"].fetch() == {"lr": 0.01, "epochs": 3, "amp": True,
                                         "opt": {"name": "adam"}}
    assert type(run["parameters/epochs"].fetch()) is int
    assert run["started"].fetch() == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    assert (run["sys/id"].fetch(), run["sys/name"].fetch(), run["sys/tags"].fetch(),
            run["sys/state"].fetch()) == (run_id, "fetch-me", {"a", "b"}, "Inactive")
    assert isinstance(run["sys/creation_time"].fetch(), datetime)
    assert (run["train/loss"].fetch_last(), run["train/notes"].fetch_last()) == (1 / 3, "epoch 2")
    loss = run["train/loss"].fetch_values()
    assert (loss["step"].tolist(), loss["value"].tolist()) == ([0.0, 2.0, 4.0], [1.0, 0.5, 1 / 3])
    notes = run["train/notes"].fetch_values(include_timestamp=False)
    assert notes.to_dict("list") == {"step": [0.0, 1.0, 2.0],
                                     "value": ["epoch 0", "epoch 1", "epoch 2"]}
    assert run.exists("parameters/opt") and run.exists("train/images")
    assert run.exists("train/notes") and not run.exists("train/nothing")
    structure = run.get_structure()
    assert sorted(structure["train"]) == ["images", "loss"]  # string series: not listed
    assert isinstance(structure["model"]["weights"], neptune.Handler)
    assert run.fetch()["parameters"]["opt"] == {"name": "adam"}
    assert run["model/weights"].fetch_extension() == "pt"
    run["model/weights"].download()
    assert (env / "weights.pt").read_bytes() == b"\x00weights\xff"
    run["train/images"].download()
    shades = [np.asarray(Image.open(env / "neptune" / "images" / f"{i}.png")).max()
              for i in range(3)]
    assert shades == [0, 40, 80]
    run["train/images"].download_last("last")
    assert os.listdir(env / "last") == ["2.png"]
    with pytest.raises(MissingFieldException):
        run["train/nothing"].download()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run["parameters/lr"] = 1.0
        run["train/loss"].append(9.0)
        run["sys/tags"].add("c")
    assert [str(w.message) for w in caught] == [
        "Client in read-only mode, nothing will be saved to server."]
    assert run.get_url() == (f"{shared_collector.url}/p/{target}/r/{run_id}")
    run.stop()
    status, _, details = request("GET", f"{shared_collector.url}/api/v1/workspaces/"
                                 f"{target.replace('/', '/projects/')}/runs/{run_id}",
                                 api_key=shared_collector.api_key)
    assert status == 200 and details["config"]["parameters/lr"] == 0.01
    assert details["tags"] == ["a", "b"] and details["status"] == "completed"


def test_a_resumed_run_appends_after_the_stored_steps(target: str, env: Path) -> None:
    """init_run(with_id) in async mode: values another process logged are fetched from the
    collector, and appends without a step continue each series after its stored last step
    (numbers and images), as Neptune's server numbers them."""
    run_id = write_run(target, env)
    run = neptune.init_run(project=target, with_id=run_id, **QUIET)
    assert run["parameters/lr"].fetch() == 0.01
    assert run["train/loss"].fetch_last() == pytest.approx(1 / 3)
    run["train/loss"].append(0.1)
    run["train/images"].append(File.as_image(np.zeros((2, 2), dtype=np.uint8)))
    run["seed"] = 5
    assert run["seed"].fetch() == 5  # this process's value: no read needed
    loss = run["train/loss"].fetch_values()  # flushes this process's points first
    assert loss["step"].tolist() == [0.0, 2.0, 4.0, 5.0]
    run.stop()
    reread = neptune.init_run(project=target, with_id=run_id, mode="read-only")
    reread["train/images"].download("all")
    assert sorted(os.listdir(env / "all")) == ["0.png", "1.png", "2.png", "3.png"]
    buffer = io.BytesIO((env / "all" / "3.png").read_bytes())
    assert Image.open(buffer).size == (2, 2)
    assert reread["seed"].fetch() == 5
