"""The goodseed-style shim (rundial.compat.goodseed): configs keep their types, steps, close.

Scripts follow goodseed's own docs; only the import differs.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import pytest

import rundial as rd
from rundial.compat import goodseed
from tests.sdk.compat_support import (final_status, messages, options, points, run_meta,
                                      run_offline_script, sent_config, start_body)
from tests.sdk.conftest import CollectorDouble

WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)


@pytest.fixture
def opts(double: CollectorDouble, tmp_path: Path, isolated_env: Path,
         monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    for name in ("GOODSEED_PROJECT", "GOODSEED_STORAGE", "GOODSEED_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    return {**options(double, tmp_path), "capture_stdout": False, "capture_stderr": False,
            "capture_hardware_metrics": False}


def test_typed_configs_round_trip_through_json(double: CollectorDouble, opts: dict) -> None:
    """bool, int, float (3.0 included), str, datetime, None and set come back with their types
    after a JSON round trip of the config, as the collector returns it."""
    typed = {"flag": True, "epochs": 10, "lr": 0.001, "ratio": 3.0, "model": "resnet50",
             "when": WHEN, "nothing": None, "labels": {"cat", "dog"}}
    with goodseed.Run(name="exp", project="ws/proj", **opts) as run:
        run.log_configs(typed)
    stored = json.loads(json.dumps(sent_config(double)))
    restored = goodseed.restore_types(stored)
    for key, value in typed.items():
        assert restored[key] == value and type(restored[key]) is type(value), key
    assert stored["when"] == WHEN.isoformat() and stored["rundial.types/when"] == "datetime"
    assert not any(key.startswith("rundial.types/") for key in restored)


def test_a_typed_value_replaced_by_a_plain_one_loses_its_marker(double: CollectorDouble,
                                                                  opts: dict) -> None:
    """Re-assigning a datetime key with a string clears the marker: it reads back as str."""
    with goodseed.Run(project="ws/proj", **opts) as run:
        run["when"] = WHEN
        run["when"] = "2024-01-01T00:00:00"
    assert goodseed.restore_types(sent_config(double))["when"] == "2024-01-01T00:00:00"


def test_namespaces_flatten_like_goodseed(double: CollectorDouble, opts: dict) -> None:
    """Dicts and Namespaces flatten with '/', lists inside them to indexed keys; a top-level
    list and unsupported objects become their str(); flatten=False keeps a dict as text."""
    with goodseed.Run(project="ws/proj", **opts) as run:
        run["parameters"] = {"lr": 0.001, "layers": [64, 32], "train": {"max_epochs": 10}}
        run["args"] = argparse.Namespace(batch=32)
        run["shape"] = [3, 224]
        run["path"] = Path("/data")
        run.log_configs({"raw": {"a": 1}}, flatten=False)
    config = sent_config(double)
    assert {k: config[k] for k in ("parameters/lr", "parameters/layers/0", "parameters/layers/1",
                                   "parameters/train/max_epochs", "args/batch", "shape", "path",
                                   "raw")} == {
        "parameters/lr": 0.001, "parameters/layers/0": 64, "parameters/layers/1": 32,
        "parameters/train/max_epochs": 10, "args/batch": 32, "shape": "[3, 224]",
        "path": "/data", "raw": "{'a': 1}"}


def test_metric_and_string_steps(double: CollectorDouble, opts: dict) -> None:
    """Explicit steps in any order; step=None takes one past the path's highest step; values
    coerce to float; strings are log lines; a non-number metric is a TypeError."""
    with goodseed.Run(project="ws/proj", **opts) as run:
        run.log_metrics({"loss": 0.5, "acc": 1}, step=5)
        run["loss"].log(0.4, step=2)
        run["loss"].log(0.3)
        run.log_metrics({"loss": 0.2})
        run["text"].log("hello", step=3)
        run.log_strings({"text": 42})
        with pytest.raises(TypeError, match="must be a number"):
            run.log_metrics({"loss": "high"}, step=9)
        with pytest.raises(TypeError, match="use int, float or str"):
            run["loss"].log([1.0], step=1)
    assert points(double, "loss") == [(5, 0.5), (2, 0.4), (6, 0.3), (7, 0.2)]
    assert points(double, "acc") == [(5, 1.0)] and isinstance(points(double, "acc")[0][1], float)
    assert messages(double) == ["[text step=3] hello", "[text step=4] 42"]


def test_log_string_series_is_the_deprecated_log_strings(double: CollectorDouble,
                                                        opts: dict) -> None:
    """log_string_series (goodseed's DOCS.md; deprecated in 0.4) logs like log_strings and
    warns DeprecationWarning each call."""
    with goodseed.Run(project="ws/proj", **opts) as run:
        with pytest.warns(DeprecationWarning, match="use 'log_strings' instead"):
            run.log_string_series({"output": "Generated text"}, step=100)
        with pytest.warns(DeprecationWarning):
            run.log_string_series({"output": 7}, step=101)
    assert messages(double) == ["[output step=100] Generated text", "[output step=101] 7"]


def test_sys_fields_close_status_and_closed_run(double: CollectorDouble, opts: dict) -> None:
    """sys/* configs as goodseed writes them; close('failed') ends the run failed; a second
    close does nothing; writing after close is a RuntimeError; a bad status a ValueError."""
    run = goodseed.Run(name="exp", description="d", tags=["a"], project="ws/proj", **opts)
    run["sys/tags"].add(["b", "c"])
    run["sys/tags"].remove("c")
    with pytest.raises(ValueError, match="status must be one of"):
        run.close(status="done")
    run.close(status="failed")
    run.close()
    with pytest.raises(RuntimeError, match="closed"):
        run.log_metrics({"x": 1}, step=0)
    config = goodseed.restore_types(sent_config(double))
    assert config["sys/id"] == run.run_id and config["sys/name"] == "exp"
    assert config["sys/tags"] == {"a", "b"} and config["sys/state"] == "failed"
    datetime.datetime.fromisoformat(config["sys/closed_time"])
    datetime.datetime.fromisoformat(config["sys/creation_time"])
    assert final_status(double) == "failed"
    assert run_meta(double) == ("exp", {"a", "b"})


def test_context_manager_marks_failed_on_exception(double: CollectorDouble, opts: dict) -> None:
    """An exception in `with` sets sys/state failed and ends the rundial run failed."""
    with pytest.raises(KeyError):
        with goodseed.Run(project="ws/proj", **opts) as run:
            raise KeyError("boom")
    assert sent_config(double)["sys/state"] == "failed" and final_status(double) == "failed"
    assert run.rundial_run.state == "failed"


def test_ids_storage_and_unsupported(double: CollectorDouble, opts: dict) -> None:
    """run_id creates ('never'), resume_run_id continues ('must'); both is a ValueError;
    storage maps to modes; read_only and unknown names raise NotImplementedError."""
    with goodseed.Run(run_id="run_new", project="ws/proj", **opts):
        pass
    assert (start_body(double)["runId"], start_body(double)["resume"]) == ("run_new", "never")
    double.calls.clear()
    with goodseed.Run(resume_run_id="run_new", project="ws/proj", **opts) as run:
        run["eval/f1"] = 0.85
    assert start_body(double)["resume"] == "must" and "sys/creation_time" not in sent_config(double)
    with pytest.raises(ValueError, match="both run_id and resume_run_id"):
        goodseed.Run(run_id="a", resume_run_id="b", **opts)
    assert isinstance(goodseed.Run(storage="disabled", **opts).rundial_run, rd.NoopRun)
    assert goodseed.Run(storage="local", project="p", **opts).rundial_run.mode == "offline"
    with pytest.raises(ValueError, match="storage must be one of"):
        goodseed.Run(storage="s3", **opts)
    with pytest.raises(NotImplementedError, match="docs/goodseed-compat.md"):
        goodseed.Run(read_only=True, **opts)
    with pytest.raises(NotImplementedError, match="Run.get_metric_data"):
        run.get_metric_data("loss")


def test_a_run_never_closed_is_closed_at_exit(tmp_path: Path) -> None:
    """Without close() or `with`, the exit hook closes the run 'finished' (sys/state written)."""
    doc = run_offline_script(tmp_path, """
        from rundial.compat import goodseed
        run = goodseed.Run(name="left-open", capture_stdout=False, capture_stderr=False,
                           capture_hardware_metrics=False)
        run.log_metrics({"loss": 0.5}, step=0)
    """)
    assert doc["finalStatus"]["status"] == "completed"
    assert doc["config"]["sys/state"] == "finished" and "sys/closed_time" in doc["config"]
