"""Lone surrogates (``"\\udcff"``: a file name decoded with ``surrogateescape``) have no UTF-8
form, so no JSON body can carry them. Each entry point refuses them at the call (ValueError
naming what holds one), or drops only the item it sits in, and everything else still arrives."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundial as rd
from rundial._media import MediaFile
from rundial._producers.attrs import encode_attrs, normalise
from rundial._run.artifacts import RunArtifacts
from tests.sdk.conftest import CollectorDouble, MakeRun
from tests.sdk.test_eval_suite import Control, suite
from tests.sdk.test_registration import server_config

BAD = "x\udcff"


class StrHolding:
    """An object whose str() holds a lone surrogate (free-form values are sent as their str())."""

    def __str__(self) -> str:
        return BAD


def test_init_config_is_refused_naming_the_dotted_key(make_run: MakeRun) -> None:
    """rd.init(config=...) used to raise orjson's bare TypeError naming no key."""
    with pytest.raises(ValueError, match=r"rd\.init\(\): config key 'opt\.x\\udcff'"):
        make_run(config={"lr": 0.1, "opt": {BAD: 1}})
    with pytest.raises(ValueError, match=r"rd\.init\(\): the value of config key 'data\.files'"):
        make_run(config={"data": {"files": ["ok", BAD]}})


def test_update_config_is_refused_and_the_config_sent_is_intact(make_run: MakeRun,
                                                                 double: CollectorDouble) -> None:
    """A refused patch merges nothing (not even its good keys); earlier and later ones arrive."""
    run = make_run(config={"lr": 0.1})
    with pytest.raises(ValueError, match=r"update_config\(\): config key 'a\.x\\udcff'"):
        run.update_config({"good": 1, "a": {BAD: 2}})
    with pytest.raises(ValueError, match=r"the value of config key 'path'"), \
            warnings.catch_warnings():
        warnings.simplefilter("error")  # it used to warn "sent as its str()" just before
        run.update_config({"path": Path("/data") / BAD})  # its str() holds the surrogate
    run.update_config({"epochs": 3})
    run.log({"loss": 1.0}, step=0)
    assert run.finish() is True
    assert server_config(double) == {"lr": 0.1, "epochs": 3}
    assert run.config == {"lr": 0.1, "epochs": 3} and double.steps() == [0]
    assert run.diagnostics().last_error is None


def test_summary_is_refused_at_assignment_and_the_rest_is_sent(make_run: MakeRun,
                                                                double: CollectorDouble) -> None:
    """A bad summary key or value used to make the whole summary fail at finish (last_error)."""
    run = make_run()
    run.summary["best"] = np.float64(0.5)
    with pytest.raises(ValueError, match=r"run\.summary\['x\\udcff'\]"):
        run.summary[BAD] = 1
    with pytest.raises(ValueError, match=r"value of config key 'summary\.files\.train'"):
        run.summary["files"] = {"train": [BAD]}
    assert BAD not in run.summary and "files" not in run.summary
    run.log({"loss": 1.0}, step=0)
    assert run.finish() is True
    sent = server_config(double)
    assert sent == {"summary.best": 0.5} and run.diagnostics().last_error is None


def test_a_summary_value_changed_after_assignment_is_dropped_alone(
        make_run: MakeRun, double: CollectorDouble) -> None:
    """Only a value mutated after its (checked) assignment can still hold one at finish: that
    entry is dropped with a warning and counted; the other entries are sent."""
    run = make_run()
    files = ["a.txt"]
    run.summary["files"] = files
    run.summary["best"] = 2
    files.append(BAD)
    with pytest.warns(RuntimeWarning, match=r"'summary\.files'.*dropped"):
        assert run.finish() is True
    assert server_config(double) == {"summary.best": 2}
    assert run.diagnostics().config_truncations == 1 and run.diagnostics().last_error is None


def test_span_and_event_names_and_ids_are_refused_and_other_spans_arrive(
        make_run: MakeRun, double: CollectorDouble) -> None:
    """A bad span name used to drop its whole batch of spans as worker_error."""
    run = make_run(kind="agent")
    with pytest.raises(ValueError, match="span name"):
        run.trace(BAD)
    with pytest.raises(ValueError, match="trace_id"):
        run.trace("t", trace_id=BAD)
    with pytest.raises(ValueError, match="parent_span_id"):
        run.trace("t", parent_span_id=BAD)
    with pytest.raises(TypeError, match="trace_id must be a str or None, not int"):
        run.trace("t", trace_id=123)  # type: ignore[arg-type]  # the collector refuses it
    with pytest.raises(TypeError, match="parent_span_id must be a str or None, not bytes"):
        run.trace("t", parent_span_id=b"ab")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="span name"):
        run.tool_call(BAD)
    with run.trace("plan", attrs={BAD: BAD, "deep": [{BAD: 1}]}) as span:
        with pytest.raises(ValueError, match="event name"):
            span.event(BAD)
        span.event("ok", {"why": BAD})
    with run.trace("after"):
        pass
    run._worker.cycle()
    assert [s["name"] for s in double.spans] == ["plan", "after"]
    assert json.loads(double.spans[0]["attrsJson"]) == {"x?": "x?", "deep": [{"x?": 1}]}
    assert json.loads(double.spans[0]["events"][0]["attrsJson"]) == {"why": "x?"}
    assert run.diagnostics().dropped == {} and run.diagnostics().last_error is None


def test_attrs_keys_survive_the_truncation_marker_and_evidence() -> None:
    """Keys reach the wire through the truncation marker and evidence placeholders too; both
    used to raise from encode_attrs (the span's whole batch lost as worker_error)."""
    marker = json.loads(encode_attrs(normalise({f"k{i}{BAD}": "v" * 4000 for i in range(5)})))
    assert marker["rundial.originalKeys"] == [f"k{i}x?" for i in range(5)]
    evidence: list[Any] = []
    attrs = normalise({BAD: "y" * 20_000}, evidence)
    evidence[0].mark("offline_unavailable")
    assert json.loads(encode_attrs(attrs))["x?"]["key"] == "x?"


def test_a_span_that_cannot_be_encoded_is_dropped_alone_as_invalid(
        make_run: MakeRun, double: CollectorDouble) -> None:
    """A value set after the checks (here a name changed on the span object) drops that span
    alone, counted as invalid, not its whole batch as worker_error."""
    run = make_run(kind="agent")
    with run.trace("first"):
        pass
    with run.trace("bad") as span:
        span.name = BAD
    with run.trace("last"):
        pass
    with pytest.warns(RuntimeWarning, match=r"dropped\['invalid'\]"):
        run._worker.cycle()
    assert [s["name"] for s in double.spans] == ["first", "last"]
    assert run.diagnostics().dropped == {"invalid": 1}


@pytest.mark.parametrize("arguments,named", [
    ({"eval_run_id": BAD}, "eval_run_id"), ({"example_id": BAD}, "example_id"),
    ({"scores": {BAD: 1.0}}, "scorer name"), ({"trace": BAD}, "trace"),
    ({"meta": {"m": [BAD]}}, "meta"), ({"meta": {"m": StrHolding()}}, "meta"),
    ({"trace": None, "evidence": {"artifactId": "a", "path": BAD}}, "evidence"),
])
def test_eval_results_are_refused_naming_the_argument(make_run: MakeRun, double: CollectorDouble,
                                                      arguments: dict[str, Any],
                                                      named: str) -> None:
    """Eval rows used to fail their eval run's whole body on the worker."""
    run = make_run(kind="eval")
    call: dict[str, Any] = {"eval_run_id": "evr_a", "example_id": "ex", "scores": {"ok": 1.0},
                            "passed": True, "trace": "t" * 32, **arguments}
    with pytest.raises(ValueError, match=named):
        run.log_eval_result(call.pop("eval_run_id"), call.pop("example_id"), **call)
    assert run.log_eval_result("evr_a", "ex2", scores={"ok": True}, trace="t" * 32)
    run._worker.cycle()
    rows = [row for _m, path, doc in double.calls if path == "/api/v1/evals/results"
            for row in (doc or {}).get("rows", [])]
    assert [row["exampleId"] for row in rows] == ["ex2"]


def test_media_and_artifacts_are_refused_at_the_call(isolated_env: Path, tmp_path: Path) -> None:
    """Captions, table cells, metadata and artifact names/paths used to fail later, on the
    artifact worker or as a bare TypeError from the journal."""
    pixels = np.zeros((2, 2, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="rd.Image caption"):
        rd.Image(pixels, caption=BAD)
    with pytest.raises(ValueError, match="rd.Table columns and cells"):
        rd.Table(columns=["a"], rows=[[BAD]])
    with pytest.raises(ValueError, match="MediaFile metadata"):
        MediaFile("audio", data=b"x", filename="a.wav", metadata={"m": BAD})
    source = tmp_path / "model.pt"
    source.write_bytes(b"weights")
    undecodable = tmp_path / BAD
    undecodable.write_bytes(b"w")
    run = rd.init(project="p", mode="offline", spool_directory=str(tmp_path / "spool"),
                  system_metrics=False)
    for call, named in [({"name": BAD}, "artifact name"), ({"aliases": [BAD]}, "aliases"),
                        ({"metadata": {"k": BAD}}, "artifact metadata"),
                        ({"path_or_dir": undecodable}, "artifact path")]:
        with pytest.raises(ValueError, match=named):
            run.log_artifact(**{"path_or_dir": source, **call})
    assert run.log_artifact(source, name="model")
    run.finish()
    journal = tmp_path / "spool" / "artifacts" / "journal"
    assert [json.loads(p.read_text())["name"] for p in journal.iterdir()] == ["model"]


def test_a_run_edit_with_a_lone_surrogate_is_refused(make_run: MakeRun,
                                                     double: CollectorDouble) -> None:
    """Tags or notes set after init (the import-swap shims) used to fail the start request on
    every retry (no run, every point lost) or the edit."""
    run = make_run()
    with pytest.raises(ValueError, match="run tags"):
        run._update_meta({"tags": ["ok", BAD]})
    with pytest.raises(ValueError, match="run notes"):
        run._update_meta({"notes": BAD})
    run._update_meta({"tags": ["ok"]})
    run.log({"loss": 1.0}, step=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run.finish() is True
    starts = [doc for _m, path, doc in double.calls if path.endswith("/runs/start")]
    assert starts and starts[-1]["tags"] == ["ok"] and double.steps() == [0]


@pytest.mark.parametrize("mode", ["disabled", "offline"])
def test_bad_config_fails_alike_in_disabled_and_enabled_modes(isolated_env: Path,
                                                              tmp_path: Path, mode: str) -> None:
    """A disabled run used to swallow a config it could not flatten (a lone surrogate, a
    patch that is not a mapping), so a script that ran disabled failed once enabled."""
    options = {"project": "p", "mode": mode, "spool_directory": str(tmp_path / "spool"),
               "system_metrics": False}
    with pytest.raises(ValueError, match=r"rd\.init\(\): config key 'a\.x\\udcff'"):
        rd.init(config={"a": {BAD: 1}}, **options)
    with pytest.raises(TypeError, match=r"rd\.init\(\): config must be a mapping.*str"):
        rd.init(config="lr=0.1", **options)
    run = rd.init(config=[("lr", 0.1)], **options)
    with pytest.raises(ValueError, match=r"update_config\(\): the value of config key 'f'"):
        run.update_config({"f": [BAD]})
    for patch in (None, [("a", 1)]):
        with pytest.raises(TypeError, match=r"update_config\(\): config must be a mapping"):
            run.update_config(patch)
    assert run.update_config({1: 2}) and run.config == {"lr": 0.1, "1": 2}
    run.finish()


def test_eval_meta_is_sent_as_plain_json(make_run: MakeRun, double: CollectorDouble) -> None:
    """A Path or numpy int in meta used to drop its row at encode (counted invalid, warned
    about as a lone surrogate); a non-str key was orjson's bare TypeError at the call."""
    run = make_run(kind="eval")
    meta = {"path": Path("/data/f"), "n": np.int64(3), 7: "seven"}
    assert run.log_eval_result("evr_a", "ex", scores={"ok": True}, trace="t" * 32, meta=meta)
    run._worker.cycle()
    rows = [row for _m, path, doc in double.calls if path == "/api/v1/evals/results"
            for row in (doc or {}).get("rows", [])]
    assert [row["meta"] for row in rows] == [{"path": "/data/f", "n": 3, "7": "seven"}]
    assert run.diagnostics().dropped == {}


@pytest.mark.parametrize("mode", ["disabled", "online"])
def test_eval_suite_texts_are_refused_before_any_call(isolated_env: Path, tmp_path: Path,
                                                      mode: str) -> None:
    """Suite and eval-run texts used to be orjson's bare TypeError naming nothing (online) or
    were taken without a word (disabled)."""
    control = Control()
    for kwargs, named in [({"scorers": [BAD]}, "scorer"), ({"dataset": BAD}, "dataset"),
                          ({"scorers": [{"name": "s", "config": {"k": BAD}}]}, "scorer config")]:
        with pytest.raises(ValueError, match=named):
            suite(control, tmp_path, mode=mode, **kwargs)
    made = suite(control, tmp_path, mode=mode)
    for call, named in [({"run_id": BAD}, "run_id"), ({"eval_run_id": BAD}, "eval_run_id"),
                        ({"config": {"k": [BAD]}}, r"suite\.run\(\): the value of config key")]:
        with pytest.raises(ValueError, match=named):
            made.run(**call)
    assert not [path for path in control.paths() if path.endswith("/evals/runs")]


def test_use_artifact_refuses_a_ref_it_cannot_send(make_run: MakeRun) -> None:
    """A lone surrogate in the ref used to be orjson's bare TypeError; a non-str ref an
    AttributeError."""
    run = make_run()
    with pytest.raises(ValueError, match="artifact_ref must be valid Unicode text"):
        run.use_artifact(BAD)
    with pytest.raises(TypeError, match="artifact_ref must be a str, not int"):
        run.use_artifact(5)  # type: ignore[arg-type]


def test_media_under_a_refused_key_is_dropped_as_invalid(make_run: MakeRun, double: CollectorDouble,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A media value under a key with a lone surrogate used to reach the uploader (its media
    row could never be sent); it is dropped and counted like a number under that key."""
    routed: list[str] = []
    monkeypatch.setattr(RunArtifacts, "route_media",
                        lambda self, key, step, value, ts: routed.append(key))
    run = make_run()
    image = rd.Image(np.zeros((2, 2, 3), dtype=np.uint8))
    run.log({BAD: image, "img/ok": image, "loss": 1.0}, step=0)
    with pytest.warns(RuntimeWarning, match=r"dropping metric 'x\\udcff'"):
        run._worker.cycle()
    assert routed == ["img/ok"] and double.steps() == [0]
    assert run.diagnostics().dropped == {"invalid": 1}
