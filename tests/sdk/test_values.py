"""Values reaching the wire: config lists (#13.7), numpy/torch-like scalars (#13.12) and
non-str identity options (#13.18)."""

from __future__ import annotations

import json
import pathlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundial as rd
from rundial._diagnostics import REASON_WORKER_ERROR
from rundial._run.run import Run
from rundial._run.runconfig import flatten_config
from rundial._values import UNSUPPORTED, plain_scalar, plain_value
from tests.sdk.conftest import CollectorDouble, MakeRun
from tests.sdk.test_registration import server_config


class ZeroDimTensor:
    """Duck-types a 0-d torch tensor: ``ndim == 0`` and ``item()``; not a float."""

    ndim = 0

    def __init__(self, value: float) -> None:
        self._value = value

    def item(self) -> float:
        return self._value


@pytest.mark.parametrize("value,expected", [
    (np.float64(3e-4), 3e-4), (np.float32(0.5), 0.5), (np.int64(7), 7), (np.int8(-2), -2),
    (np.uint64(2**63), 2**63), (np.bool_(True), True), (np.array(2.5), 2.5), (np.str_("x"), "x"),
    (ZeroDimTensor(1.5), 1.5),
])
def test_numpy_and_torch_scalars_become_python_scalars(value: Any, expected: Any) -> None:
    plain = plain_scalar(value)
    assert plain == expected and type(plain) is type(expected)


def test_unsupported_values_are_reported_not_guessed() -> None:
    assert plain_scalar(np.array([1.0, 2.0])) is UNSUPPORTED  # not 0-d
    assert plain_scalar(object()) is UNSUPPORTED
    assert plain_value(np.arange(3)) == ([0, 1, 2], True)
    assert plain_value((1, [2, (3.5, None)])) == ([1, [2, [3.5, None]]], True)
    assert plain_value([1, float("nan")]) == ([1, "nan"], False)


def test_config_lists_are_kept_and_numpy_values_converted(make_run: MakeRun,
                                                          double: CollectorDouble) -> None:
    """#13.7/#13.12: lists, nested lists, numpy scalars and arrays all reach runs/start."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these is changed: no warning at all
        run = make_run(config={"betas": [0.9, 0.99], "grid": [[1, 2], [3, 4]], "shape": (3, 4),
                               "lr": np.float64(3e-4), "n": np.int64(8), "h": np.float32(0.5),
                               "w": np.arange(3), "flag": np.bool_(False)})
    run.log({"x": 1})
    run._worker.cycle()
    assert server_config(double) == {"betas": [0.9, 0.99], "grid": [[1, 2], [3, 4]], "shape": [3, 4],
                                   "lr": 3e-4, "n": 8, "h": 0.5, "w": [0, 1, 2], "flag": False}
    assert run.diagnostics().config_truncations == 0


def test_unsupported_config_values_are_stringified_with_a_warning() -> None:
    """Never dropped in silence: an object becomes its str(), and the user is told."""
    with pytest.warns(RuntimeWarning, match="'data_dir'.*sent as its str"):
        flat, cuts = flatten_config({"data_dir": pathlib.PurePosixPath("/data/x")})
    assert flat == {"data_dir": "/data/x"} and cuts == 0
    with pytest.warns(RuntimeWarning, match="'ratio'"):
        flat, _ = flatten_config({"ratio": float("inf")})
    assert flat == {"ratio": "inf"}


def test_dropped_config_keys_are_warned_about() -> None:
    with pytest.warns(RuntimeWarning, match="longer than 128"):
        flat, cuts = flatten_config({"k" * 200: 1})
    assert flat == {} and cuts == 1


def test_numpy_summary_and_update_config_do_not_break_finish(make_run: MakeRun,
                                                             double: CollectorDouble) -> None:
    """#13.12: a numpy summary value used to make finish() raise, losing the queued points."""
    run = make_run()
    run.update_config({"lr": np.float64(1e-3), "epochs": np.int64(3)})
    for step in range(5):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
    run.summary["best_acc"] = np.mean(np.array([0.5, 0.7]))
    run.summary["best_step"] = np.int64(4)
    run.summary["scale"] = ZeroDimTensor(2.0)
    assert run.finish() is True
    assert double.steps() == [0, 1, 2, 3, 4]
    sent = server_config(double)
    assert sent["summary.best_acc"] == pytest.approx(0.6) and sent["summary.best_step"] == 4
    assert sent["summary.scale"] == 2.0 and sent["lr"] == 1e-3 and sent["epochs"] == 3
    assert [c for c in double.calls if c[1].endswith("/status")]


def test_a_failing_step_of_finish_never_skips_the_drain_or_the_status(
        make_run: MakeRun, double: CollectorDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever breaks inside finish() (here the summary patch), the queue is still drained,
    sent, the status recorded, and the error counted."""
    run = make_run()
    run.log({"loss": 1.0}, step=0)
    run.summary["best"] = 1.0

    def broken(self: Any, config: Any) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(Run, "_merge_summary", broken)
    run.finish()
    assert double.steps() == [0]
    assert [c for c in double.calls if c[1].endswith("/status")]
    assert run.state == "completed" and "boom" in (run.diagnostics().last_error or "")


@pytest.mark.parametrize("option,value,error", [
    ("name", pathlib.Path("exp"), TypeError), ("run_id", 25127, TypeError),
    ("group", 3, TypeError), ("job_type", b"train", TypeError), ("project", pathlib.Path("p"), TypeError),
    ("run_id", "a/b", ValueError), ("run_id", "", ValueError), ("run_id", "r" * 129, ValueError),
    ("name", "n" * 513, ValueError), ("tags", ["t" * 513], ValueError),
    # a lone surrogate (a file name decoded with surrogateescape) has no UTF-8 form: it used to
    # fail every batch of the run later (all of its points dropped as worker_error)
    ("name", "exp\udcff", ValueError), ("group", "\ud800", ValueError),
    ("job_type", "t\udc80", ValueError), ("project", "p\udcff", ValueError),
    ("tags", ["ok", "t\udcff"], ValueError), ("tags", "\udcff", ValueError),
])
def test_identity_options_are_validated_at_init(isolated_env: Path, tmp_path: Path, option: str,
                                                value: Any, error: type[Exception]) -> None:
    """#13.18: a non-str name/run id/group/job type used to lose every batch later."""
    options: dict[str, Any] = {"project": "p", "mode": "offline", "system_metrics": False,
                               "spool_directory": str(tmp_path / "spool"), option: value}
    with pytest.raises(error, match=option if option != "tags" else "tags"):
        rd.init(**options)


def test_a_failing_spool_write_counts_the_popped_records(make_run: MakeRun,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """#13.18: an exception while spooling a drained batch is counted, never silent."""
    run = make_run()
    for step in range(4):
        run.log({"a": 1.0, "b": 2.0}, step=step)

    def broken(batch: Any) -> None:
        raise TypeError("unsupported operand type(s) for /: 'PosixPath' and 'int'")

    monkeypatch.setattr(run._worker.spool, "append", broken)
    run._worker.cycle()
    diagnostics = run.diagnostics()
    assert diagnostics.dropped.get(REASON_WORKER_ERROR) == 8
    assert "PosixPath" in (diagnostics.last_error or "")
    assert not run._queue


def test_numpy_values_in_artifact_metadata_and_table_cells(isolated_env: Path, tmp_path: Path) -> None:
    """The same class elsewhere: artifact metadata raised into user code, and a table cell
    failed its render (np.float64) or became a string (np.float32)."""
    source = tmp_path / "model.pt"
    source.write_bytes(b"weights")
    run = rd.init(project="p", mode="offline", spool_directory=str(tmp_path / "spool"),
                  system_metrics=False)
    assert run.log_artifact(source, metadata={"acc": np.float64(0.5), "n": np.int64(2),
                                              "shape": np.arange(2)},
                            retention_policy={"strategy": "keep_last", "keepLast": np.int64(3)})
    assert run.checkpoint(source, step=np.int64(3), metadata={"loss": np.float32(0.25)}) is True
    run.finish()
    jobs = [json.loads(p.read_text()) for p in (tmp_path / "spool" / "artifacts" / "journal").iterdir()]
    assert sorted((job["metadata"] for job in jobs), key=len) == [
        {"loss": 0.25, "step": 3}, {"acc": 0.5, "n": 2, "shape": [0, 1]}]
    assert {"strategy": "keep_last", "keepLast": 3} in [job["retention"] for job in jobs]
    table = rd.Table(columns=["a", "b"], data=[[np.float64(1.5), np.float32(2.5)]],
                     metadata={"n": np.int64(1)})
    assert json.loads(table.render().data or b"") == {"columns": ["a", "b"], "rows": [[1.5, 2.5]]}
    assert table.metadata == {"n": 1}


def test_a_failing_send_in_finish_still_records_the_final_state(
        make_run: MakeRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """#13.12, the worker's half: an unexpected error while sending at finish never skips
    closing the spool, so the batch and the final status stay in run.json for sync."""
    run = make_run()
    run.log({"loss": 1.0}, step=0)
    run._worker.cycle()  # registered, first batch sent, run.json written (no final status yet)
    run.log({"loss": 0.5}, step=1)

    def broken(keep_going: Any) -> None:
        raise RuntimeError("pump broke")

    monkeypatch.setattr(run._worker.pump, "pump", broken)
    assert run.finish() is False
    run_json = json.loads((tmp_path / "spool" / "run_test" / "run.json").read_text())
    assert run_json["finalStatus"]["status"] == "completed"
    assert "pump broke" in (run.diagnostics().last_error or "")
    assert run.diagnostics().spool_segments == 1
