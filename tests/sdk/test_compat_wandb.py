"""rundial.compat.wandb against the collector double: W&B's step/commit rules, config forms,
define_metric summaries, several runs, the context manager, and a run ended by interpreter exit."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rundial.compat.wandb as wandb
from rundial import MockTransport
from rundial.compat.wandb import _session
from tests.sdk.conftest import CollectorDouble


@pytest.fixture
def opts(tmp_path: Path, double: CollectorDouble, isolated_env: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """rd.init options for a run on the double; no WANDB_* variables; open runs ended after."""
    for name in list(os.environ):
        if name.startswith("WANDB_"):
            monkeypatch.delenv(name)
    yield {"transport": MockTransport(double), "spool_directory": str(tmp_path / "spool"),
           "endpoint": "http://collector.test", "system_metrics": False}
    for run in list(_session._open):
        run.finish()


def rows(double: CollectorDouble, run_id: str) -> dict[int, dict[str, Any]]:
    """step -> the merged row the collector received for that step."""
    out: dict[int, dict[str, Any]] = {}
    for rid, step, _ts, row in double.rows:
        if rid == run_id:
            out.setdefault(step, {}).update(row)
    return out


def config(double: CollectorDouble, run_id: str) -> dict[str, Any]:
    """The run's config: runs/start's, then every patch merged in order."""
    merged: dict[str, Any] = {}
    for _method, path, doc in double.calls:
        if path.endswith("/runs/start") and doc and doc["runId"] == run_id:
            merged.update(doc.get("config") or {})
        elif path.endswith(f"/runs/{run_id}/config") and doc:
            merged.update(doc["config"])
    return merged


def test_steps_follow_wandbs_commit_rules(opts: dict[str, Any], double: CollectorDouble) -> None:
    run = wandb.init(project="p", **opts)
    wandb.log({"loss": 1.0})                      # row 0, committed
    wandb.log({"a": 1}, commit=False)             # open row 1
    wandb.log({"b": 2})                           # merged into row 1, committed
    wandb.log({"c": 3}, step=5)                   # commits nothing open; row 5 stays open
    wandb.log({"d": 4}, step=5)                   # merged into row 5
    with pytest.warns(RuntimeWarning, match="step 2 is below the current step 5"):
        wandb.log({"ignored": 9}, step=2)
    wandb.log({"e": 5}, step=7, commit=True)      # commits row 5, then row 7 at once
    assert run.step == 8
    wandb.log({"f": 6}, step=9)                   # row 9 stays open...
    wandb.log({})                                 # ...until a call without a step commits it
    wandb.log({"g": 7}, step=12)                  # open at finish: committed by finish
    wandb.finish()
    assert rows(double, run.id) == {0: {"loss": 1.0}, 1: {"a": 1, "b": 2}, 5: {"c": 3, "d": 4},
                                    7: {"e": 5}, 9: {"f": 6}, 12: {"g": 7}}


def test_an_empty_open_row_is_never_committed(opts: dict[str, Any], double: CollectorDouble) -> None:
    run = wandb.init(project="p", **opts)
    wandb.log({})
    wandb.log({}, commit=True)
    assert run.step == 0
    wandb.log({"x": 1})
    assert run.step == 1
    wandb.finish()
    assert rows(double, run.id) == {0: {"x": 1}}


def test_values_nested_dicts_scalars_and_strings(opts: dict[str, Any],
                                                 double: CollectorDouble) -> None:
    np = pytest.importorskip("numpy")
    run = wandb.init(project="p", **opts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wandb.log({"train": {"loss": np.float32(0.5), "acc": np.array(0.25)}, "val/loss": 2,
                   "flag": True, "phase": "warmup", "short": [1, 2], "one": np.array([3.0])})
    assert [str(w.message) for w in caught if "'short'" in str(w.message)]
    wandb.finish()
    assert rows(double, run.id) == {0: {"train.loss": 0.5, "train.acc": 0.25, "val/loss": 2,
                                        "flag": 1, "one": 3.0}}
    assert config(double, run.id)["summary.phase"] == "warmup"
    # a string is a history record too: one log line at its row's step
    assert [(line["level"], line["message"]) for line in double.lines] == [
        ("info", "[phase step=0] warmup")]


def test_log_rejects_what_wandb_rejects(opts: dict[str, Any]) -> None:
    wandb.init(project="p", **opts)
    with pytest.raises(TypeError, match="takes a dict"):
        wandb.log([("loss", 1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="keys must be str"):
        wandb.log({1: 2})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="step must be >= 0"):
        wandb.log({"a": 1}, step=-1)
    with pytest.raises(TypeError, match="step must be an int"):
        wandb.log({"a": 1}, step=1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("given, expected", [
    ({"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99]}},
     {"lr": 0.1, "opt.name": "adam", "opt.betas": [0.9, 0.99]}),
    (argparse.Namespace(lr=0.1, epochs=3), {"lr": 0.1, "epochs": 3}),
    (None, {}),
])
def test_config_forms(opts: dict[str, Any], double: CollectorDouble, given: Any,
                      expected: dict[str, Any]) -> None:
    run = wandb.init(project="p", config=given, **opts)
    wandb.finish()
    assert config(double, run.id) == expected


def test_config_attribute_item_update_and_namespace(opts: dict[str, Any],
                                                    double: CollectorDouble) -> None:
    run = wandb.init(project="p", config={"lr": 0.1}, config_exclude_keys=["secret"], **opts)
    wandb.config.batch_size = 32
    wandb.config["epochs"] = 3
    wandb.config.update(argparse.Namespace(dropout=0.2))
    wandb.config.update({"lr": 0.01}, allow_val_change=True)
    wandb.config.setdefaults({"lr": 9.0, "seed": 1})
    assert (wandb.config.lr, wandb.config["batch_size"], "epochs" in wandb.config) == (0.01, 32, True)
    assert run.config.as_dict() == {"lr": 0.01, "batch_size": 32, "epochs": 3, "dropout": 0.2,
                                    "seed": 1}
    with pytest.raises(TypeError, match="dict, an argparse.Namespace or None"):
        wandb.config.update(5)
    wandb.finish()
    assert config(double, run.id) == {"lr": 0.01, "batch_size": 32, "epochs": 3,
                                      "dropout": 0.2, "seed": 1}


def test_define_metric_summaries_and_globs(opts: dict[str, Any], double: CollectorDouble) -> None:
    run = wandb.init(project="p", **opts)
    wandb.define_metric("epoch")
    wandb.define_metric("val/*", step_metric="epoch", summary="min,max,mean")
    wandb.define_metric("val/acc", summary="best", goal="maximize")
    wandb.define_metric("train/noise", summary="none")
    for epoch, (loss, acc) in enumerate([(3.0, 0.1), (1.0, 0.7), (2.0, 0.4)]):
        wandb.log({"epoch": epoch, "train/noise": epoch})
        wandb.log({"val/loss": loss, "val/acc": acc})       # epoch synced into this row
    run.summary["best_epoch"] = 1
    assert run.summary["val/loss"] == {"min": 1.0, "max": 3.0, "mean": 2.0}
    assert wandb.summary["val/acc"] == {"best": 0.7}
    assert "train/noise" not in run.summary and run.summary["epoch"] == 2
    wandb.finish()
    got = rows(double, run.id)
    assert got[1] == {"val/loss": 3.0, "val/acc": 0.1, "epoch": 0}
    assert got[5] == {"val/loss": 2.0, "val/acc": 0.4, "epoch": 2}
    sent = config(double, run.id)
    assert {k: v for k, v in sent.items() if k.startswith("summary.")} == {
        "summary.epoch": 2, "summary.val/loss.min": 1.0, "summary.val/loss.max": 3.0,
        "summary.val/loss.mean": 2.0, "summary.val/acc.best": 0.7, "summary.best_epoch": 1}


def test_summary_assignment_holds_until_the_key_is_logged_again(opts: dict[str, Any]) -> None:
    run = wandb.init(project="p", **opts)
    wandb.log({"acc": 0.5})
    run.summary["acc"] = 0.9
    assert wandb.summary["acc"] == 0.9
    wandb.log({"acc": 0.6})
    assert run.summary["acc"] == 0.6
    run.summary.update({"extra": "x"})
    assert dict(run.summary) == {"acc": 0.6, "extra": "x"}


def test_define_metric_rejects_bad_arguments(opts: dict[str, Any]) -> None:
    wandb.init(project="p", **opts)
    with pytest.raises(ValueError, match="unknown summary mode"):
        wandb.define_metric("loss", summary="median")
    with pytest.raises(ValueError, match="goal"):
        wandb.define_metric("loss", goal="up")


def test_runs_in_sequence_reinit_and_context_manager(opts: dict[str, Any],
                                                     double: CollectorDouble) -> None:
    first = wandb.init(project="p", name="first", tags=["a"], group="g", job_type="train", **opts)
    assert wandb.init(project="p", **opts) is first  # return_previous outside notebooks
    wandb.log({"x": 1})
    second = wandb.init(project="p", name="second", reinit=True, **opts)
    assert second is not first and wandb.run is second and first.rundial_run.state == "completed"
    wandb.log({"x": 2})
    second.finish()
    assert wandb.run is None
    with pytest.raises(RuntimeError, match="before wandb.log"):
        wandb.log({"x": 3})
    with pytest.raises(ValueError, match="boom"):
        with wandb.init(project="p", name="third", **opts) as third:
            third.log({"x": 3})
            raise ValueError("boom")
    assert third.rundial_run.state == "failed" and wandb.run is None
    assert [rows(double, r.id) for r in (first, second, third)] == [
        {0: {"x": 1}}, {0: {"x": 2}}, {0: {"x": 3}}]
    start = [doc for _m, path, doc in double.calls if path.endswith("/runs/start")][0]
    assert (start["runName"], start["tags"], start["group"], start["jobType"]) == (
        "first", ["a"], "g", "train")


def test_environment_id_resume_and_modes(opts: dict[str, Any], double: CollectorDouble,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_PROJECT", "env-proj")
    monkeypatch.setenv("WANDB_ENTITY", "env-ws")
    monkeypatch.setenv("WANDB_RUN_ID", "abc123")
    run = wandb.init(resume=True, **opts)
    assert (run.id, run.rundial_run.project, run.rundial_run.workspace) == (
        "abc123", "env-proj", "env-ws")
    run.finish()
    start = [doc for _m, path, doc in double.calls if path.endswith("/runs/start")][0]
    assert start["resume"] == "allow"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    off = wandb.init(**opts)
    assert off.disabled and off.rundial_run.state == "disabled"
    off.log({"x": 1})
    off.finish()
    with pytest.raises(ValueError, match="mode must be one of"):
        wandb.init(mode="sometimes", **opts)


def test_unsupported_names_point_at_the_docs(opts: dict[str, Any]) -> None:
    with pytest.raises(NotImplementedError, match="docs/wandb-compat.md"):
        wandb.sweep  # noqa: B018
    run = wandb.init(project="p", **opts)
    with pytest.raises(NotImplementedError, match="docs/wandb-compat.md"):
        run.logged_artifacts  # noqa: B018
    # code that probes for a feature (integrations do) sees it missing instead of crashing
    assert not hasattr(wandb, "sweep") and getattr(run, "sweep_id", None) is None
    with pytest.raises(NotImplementedError, match="docs/wandb-compat.md"):
        wandb.init(project="p", sync_tensorboard=True, reinit="create_new", **opts)
    assert wandb.login(key="k-123") is True and os.environ["RUNDIAL_API_KEY"] == "k-123"
    assert wandb.require("core") is None


def test_join_is_finish_as_in_wandb(opts: dict[str, Any]) -> None:
    """wandb 0.31 keeps ``wandb.join`` (the sweeps cross-validation example ends runs with it)."""
    run = wandb.init(project="p", **opts)
    wandb.join(exit_code=1)
    assert wandb.run is None
    assert run.rundial_run.state == "failed"


def test_import_stays_light() -> None:
    code = ("import sys, rundial.compat.wandb as w; "
            "print(sorted(m for m in ('torch', 'numpy', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


EXIT_SCRIPT = """
import rundial.compat.wandb as wandb
run = wandb.init(project="p", endpoint="http://127.0.0.1:9", spool_directory={spool!r},
                 system_metrics=False, mode="offline", config={{"lr": 0.1}})
wandb.log({{"loss": 1.0}})
wandb.log({{"loss": 0.5}}, commit=False)
run.summary["best"] = 0.5
print(run.id)
"""


def test_a_run_left_open_is_finished_at_interpreter_exit(tmp_path: Path) -> None:
    """No finish(): the open row, the summary and the status still reach the spool."""
    import gzip
    import json

    spool = tmp_path / "spool"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "RUNDIAL_"))}
    env["HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", EXIT_SCRIPT.format(spool=str(spool))], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    doc = json.loads((spool / run_id / "run.json").read_text())
    assert doc["finalStatus"]["status"] == "completed"
    assert doc["config"]["summary.best"] == 0.5 and doc["config"]["summary.loss"] == 0.5
    bodies = [json.loads(gzip.decompress(seg.read_bytes()))
              for seg in (spool / run_id).rglob("*.json.gz")]
    assert sorted(row[0] for body in bodies for row in body.get("rows", [])) == [0, 1]


def test_public_names() -> None:
    assert sorted(wandb.__all__) == [
        "AlertLevel", "Artifact", "Audio", "Classes", "EvalTable", "Histogram", "Html", "Image",
        "Metric", "Molecule", "Object3D",
        "Run", "Settings", "Table", "Video", "alert", "define_metric", "finish", "init",
        "join", "link_model", "log", "log_artifact", "log_model", "login", "plot", "plot_table",
        "require", "save", "setup", "termerror", "termlog", "termwarn", "unwatch",
        "use_artifact", "use_model", "util", "watch"]
    assert all(hasattr(wandb, name) for name in wandb.__all__)
    assert wandb.run is None
    with pytest.raises(RuntimeError, match="before wandb.config"):
        wandb.config  # noqa: B018


def test_a_resumed_run_continues_at_its_next_step(opts: dict[str, Any],
                                                  double: CollectorDouble) -> None:
    first = wandb.init(project="p", id="resume-me", **opts)
    for loss in (3.0, 2.0, 1.0):
        wandb.log({"loss": loss})
    first.finish()
    again = wandb.init(project="p", id="resume-me", resume="allow", **opts)
    assert again.step == 3
    wandb.log({"loss": 0.5})
    again.finish()
    fresh = wandb.init(project="p", id="other-run", resume="allow", **opts)
    assert fresh.step == 0  # nothing recorded for this id
    fresh.finish()
    assert rows(double, "resume-me") == {0: {"loss": 3.0}, 1: {"loss": 2.0}, 2: {"loss": 1.0},
                                         3: {"loss": 0.5}}


def test_log_without_arguments_commits_the_open_row(opts: dict[str, Any],
                                                    double: CollectorDouble) -> None:
    """The W&B examples' "metrics at different steps" pattern: commit=False pieces, then log()."""
    run = wandb.init(project="p", **opts)
    for i in range(3):
        wandb.log({"loss": 1.0 / (i + 1), "acc": i / 10}, commit=False)
        if i % 2 == 0:
            wandb.log({"val_acc": i}, commit=False)
        wandb.log()
    wandb.finish()
    assert rows(double, run.id) == {0: {"loss": 1.0, "acc": 0.0, "val_acc": 0},
                                    1: {"loss": 0.5, "acc": 0.1},
                                    2: {"loss": 1 / 3, "acc": 0.2, "val_acc": 2}}


def test_wandb_resume_variable_and_a_missing_project(opts: dict[str, Any], double: CollectorDouble,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_RESUME", "must")
    run = wandb.init(project="p", id="env-resume", **opts)
    run.finish()
    start = [doc for _m, path, doc in double.calls if path.endswith("/runs/start")][0]
    assert start["resume"] == "must"
    with pytest.raises(ValueError, match="WANDB_PROJECT"):
        wandb.init(**opts)


def test_every_rank_that_calls_init_logs_its_own_run(opts: dict[str, Any], double: CollectorDouble,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """W&B's DDP "log all" pattern: rank 1's init is a real run, not rundial's no-op rank."""
    monkeypatch.setenv("RANK", "1")
    run = wandb.init(project="p", group="DDP", **opts)
    assert run.rundial_run.state != "non_logging_rank"
    wandb.log({"batch_loss": 0.5})
    run.finish()
    assert rows(double, run.id) == {0: {"batch_loss": 0.5}}
    explicit = wandb.init(project="p", distributed="rank0", **opts)
    assert explicit.rundial_run.state == "non_logging_rank"
    explicit.finish()


@pytest.mark.parametrize("module", ["keras", "sklearn", "apis", "integration.keras"])
def test_unsupported_submodules_say_so_on_import(module: str) -> None:
    code = f"import rundial.compat.wandb.{module}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert "NotImplementedError" in out.stderr and "docs/wandb-compat.md" in out.stderr


def test_config_copies_and_a_bare_instance_has_no_private_attributes(opts: dict[str, Any]) -> None:
    """copy/pickle build instances without __init__: private look-ups must not recurse."""
    import copy

    from rundial.compat.wandb._config import Config

    run = wandb.init(project="p", config={"lr": 0.1}, **opts)
    assert copy.copy(run.config).lr == 0.1
    bare = Config.__new__(Config)
    assert getattr(bare, "_items", None) is None
