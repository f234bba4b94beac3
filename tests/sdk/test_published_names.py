"""The published rc1 SDK's names on ours (issue #17.1): module names, type aliases, run
attributes, and its parameter names next to the aliases we shipped first — on the logging run
and on the disabled run alike."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from rundial import MockTransport, Request, Response
from rundial._config import DISTRIBUTED, KINDS, MODES, RESUMES
from rundial._producers.trace import Tracer
from rundial._run.noop import NoopRun
from rundial._run.run import Run
from tests.sdk.conftest import CollectorDouble, MakeRun


def noop_run(**kw: Any) -> NoopRun:
    return NoopRun("run_noop", state="disabled", project="test-proj", **kw)


class RecordingArtifacts:
    """Stands in for a run's artifact side: records what the run hands it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    def log_artifact(self, path: Any, **options: Any) -> bool:
        self.calls.append(("log_artifact", path, options))
        return True

    def checkpoint(self, path: Any, **options: Any) -> bool:
        self.calls.append(("checkpoint", path, options))
        return True

    def use_artifact(self, ref: str) -> str:
        self.calls.append(("use_artifact", ref, {}))
        return f"handle:{ref}"


# -- module names ------------------------------------------------------------------------
def test_published_class_names_are_our_classes() -> None:
    """``RundialRun`` & co. are the same objects as ours, from rundial and from rundial_sdk."""
    import rundial_sdk

    assert (rd.RundialRun, rd.RundialSpan, rd.RundialClient, rd.RundialDiagnostics) == (
        rd.Run, rd.Span, rd.Client, rd.Diagnostics)
    assert (rundial_sdk.RundialRun, rundial_sdk.RundialClient, rundial_sdk.Image,
            rundial_sdk.RundialRequestError) == (rd.Run, rd.Client, rd.Image,
                                                 rd.RundialRequestError)
    assert rundial_sdk.__all__ == sorted(n for n in vars(rundial_sdk) if not n.startswith("_"))


def test_type_aliases_name_the_values_init_accepts() -> None:
    """``rd.Mode`` etc. list exactly the values the settings validation accepts."""
    import rundial_sdk

    for alias, values in ((rd.Mode, MODES), (rd.ResumeMode, RESUMES), (rd.RunKind, KINDS),
                          (rd.Distributed, DISTRIBUTED), (rundial_sdk.ClientMode, MODES),
                          (rundial_sdk.DistributedPolicy, DISTRIBUTED)):
        assert sorted(typing.get_args(alias)) == sorted(values)
    assert rd.ConfigValue is object


# -- run attributes ------------------------------------------------------------------------
def test_project_id_is_the_project_until_the_collector_answers(make_run: MakeRun) -> None:
    """Without a workspace the project given is the project id; kind defaults to training."""
    run = make_run(kind="agent")
    assert (run.project_id, run.kind) == ("test-proj", "agent")
    run._worker.cycle()
    assert run.project_id == "test-proj"


def test_project_id_with_a_workspace_comes_from_the_collector(make_run: MakeRun) -> None:
    """With a workspace nothing is known before registration; then the collector's id."""
    run = make_run(workspace="ws")
    assert (run.project_id, run.kind) == (None, "training")
    run._worker.cycle()
    assert run.project_id == "prj_000000000001"


def test_disabled_run_has_project_id_and_kind() -> None:
    assert (noop_run(kind="eval").project_id, noop_run(kind="eval").kind) == ("test-proj", "eval")
    assert noop_run(workspace="ws").project_id is None
    run = rd.init(project="p", mode="disabled", kind="agent")
    assert (run.kind, run.project_id) == ("agent", "p")


# -- the end of a run ----------------------------------------------------------------------
def test_finish_takes_status_reason_and_timeout_seconds(make_run: MakeRun,
                                                        double: CollectorDouble) -> None:
    run = make_run()
    assert run.finish(timeout_seconds=1.0, status="failed", reason="oom") is True
    assert double.calls[-1][2] == {"status": "failed", "finishedAtMs": 1_700_000_000_000,
                                   "reason": "oom"}


@pytest.mark.parametrize("method,status", [("complete", "completed"), ("fail", "failed"),
                                           ("abort", "aborted")])
def test_complete_fail_abort_take_reason_first(make_run: MakeRun, double: CollectorDouble,
                                               method: str, status: str) -> None:
    """rc1's order: ``(reason, timeout_seconds)``, positionally or by keyword."""
    getattr(make_run(), method)("why", 1.0)
    assert double.calls[-1][2]["status"] == status and double.calls[-1][2]["reason"] == "why"


@pytest.mark.parametrize("alias", [False, True])
def test_flush_and_close_take_timeout_seconds_or_the_shipped_timeout_s(
        make_run: MakeRun, double: CollectorDouble, alias: bool) -> None:
    run = make_run()
    run.log({"a": 1.0})
    name = "timeout_s" if alias else "timeout_seconds"
    assert run.flush(**{name: 2.0}) is True and double.steps() == [0]
    assert run.close(**{name: 2.0}) is True
    assert double.calls[-1][2]["status"] == "completed"


@pytest.mark.parametrize("kind", ["run", "noop"])
@pytest.mark.parametrize("call", [
    lambda r: r.finish(timeout_seconds=1, timeout_s=1),
    lambda r: r.flush(timeout_seconds=1, timeout_s=1),
    lambda r: r.fail("x", 1, timeout_s=1),
    lambda r: r.complete(timeout_seconds=1, timeout_s=2),
])
def test_both_timeout_names_is_a_type_error(make_run: MakeRun, kind: str, call: Any) -> None:
    run = make_run() if kind == "run" else noop_run()
    with pytest.raises(TypeError, match="both timeout_seconds= and its alias timeout_s="):
        call(run)


def test_an_exception_as_reason_is_sent_as_its_type_and_message(make_run: MakeRun,
                                                               double: CollectorDouble) -> None:
    make_run().fail(ValueError("bad batch"))
    assert double.calls[-1][2]["reason"] == "ValueError: bad batch"


@pytest.mark.parametrize("kind", ["run", "noop"])
def test_bad_end_arguments_are_rejected_the_same_way(make_run: MakeRun, kind: str) -> None:
    run = make_run() if kind == "run" else noop_run()
    with pytest.raises(ValueError, match="status must be one of completed, failed, aborted"):
        run.finish(status="killed")
    with pytest.raises(TypeError, match="reason must be a str"):
        run.complete(10)
    with pytest.raises(TypeError, match="timeout_seconds must be a number"):
        run.finish(timeout_seconds="10")
    with pytest.raises(TypeError, match="timeout_seconds must be a number"):
        run.update_config({"a": 1}, timeout_seconds="soon")
    assert run.update_config({"a": 1}, timeout_seconds=0.5) is True


# -- metrics and artifacts ----------------------------------------------------------------
def test_log_metric_takes_metric_key_or_the_shipped_key(make_run: MakeRun,
                                                        double: CollectorDouble) -> None:
    run = make_run()
    assert run.log_metric(metric_key="loss", value=0.5, step=3) is True
    assert run.log_metric(key="acc", value=0.9, step=4) is True
    assert run.log_metric("lr", 0.1, 5) is True
    run._worker.cycle()
    assert [(step, row) for _r, step, _t, row in double.rows] == [
        (3, {"loss": 0.5}), (4, {"acc": 0.9}), (5, {"lr": 0.1})]


@pytest.mark.parametrize("kind", ["run", "noop"])
def test_log_metric_name_errors(make_run: MakeRun, kind: str) -> None:
    run = make_run() if kind == "run" else noop_run()
    with pytest.raises(TypeError, match="both metric_key= and its alias key="):
        run.log_metric(metric_key="a", key="a", value=1.0)
    with pytest.raises(TypeError, match="missing required argument: 'metric_key'"):
        run.log_metric(value=1.0)


def test_artifact_calls_take_published_and_shipped_names(make_run: MakeRun,
                                                         tmp_path: Path) -> None:
    """``path_or_dir``/``model_path``/``artifact_ref`` and ``path``/``ref`` reach the uploader
    the same way."""
    run = make_run()
    fake = RecordingArtifacts()
    run._artifacts = fake  # type: ignore[assignment]
    run.log_artifact(path_or_dir="d", name="n")
    run.log_artifact(path="d", name="n")
    run.checkpoint(model_path="m.pt", step=7)
    run.checkpoint(path="m.pt", step=7)
    assert run.use_artifact(artifact_ref="ckpt:latest") == run.use_artifact(ref="ckpt:latest")
    assert fake.calls[0] == fake.calls[1] and fake.calls[0][:2] == ("log_artifact", "d")
    assert fake.calls[2] == fake.calls[3] and fake.calls[2][1] == "m.pt"
    assert fake.calls[2][2]["step"] == 7
    assert fake.calls[4] == fake.calls[5] == ("use_artifact", "ckpt:latest", {})


@pytest.mark.parametrize("kind", ["run", "noop"])
@pytest.mark.parametrize("call,message", [
    (lambda r: r.log_artifact("d", path="d"), "log_artifact() got both path_or_dir="),
    (lambda r: r.checkpoint("m", path="m"), "checkpoint() got both model_path="),
    (lambda r: r.use_artifact("a", ref="a"), "use_artifact() got both artifact_ref="),
    (lambda r: r.checkpoint(step=1), "missing required argument: 'model_path'"),
])
def test_artifact_name_errors(make_run: MakeRun, kind: str, call: Any, message: str) -> None:
    run = make_run() if kind == "run" else noop_run()
    with pytest.raises(TypeError, match=re.escape(message)):
        call(run)


def test_disabled_run_accepts_the_published_names() -> None:
    run = noop_run()
    assert run.checkpoint(model_path="m.pt", step=1, keep_last=2) is False
    assert run.log_artifact(path_or_dir="d", type="dataset") is False
    assert run.log_metric(metric_key="a", value=1.0, step=1, timestamp_ms=5) is True
    assert run.finish(timeout_seconds=1, status="aborted", reason="x") is True
    with pytest.raises(RuntimeError, match="use_artifact is not available"):
        run.use_artifact(artifact_ref="a:latest")
    with run.trace("t") as span:
        span.event("e", timestamp_ns=5)
        span.finish(end_ns=9)


def test_rd_checkpoint_takes_model_path(isolated_env: Path) -> None:
    rd.init(project="p", mode="disabled")
    assert rd.checkpoint(model_path="m.pt") is False and rd.checkpoint(path="m.pt") is False
    with pytest.raises(TypeError, match="both model_path= and its alias path="):
        rd.checkpoint("m.pt", path="m.pt")


# -- spans and images ----------------------------------------------------------------------
def test_span_event_and_finish_take_explicit_times() -> None:
    ended: list[Any] = []
    tracer = Tracer(ended.append, clock_ns=lambda: 1_000)
    span = tracer.trace("s", "internal", None, None, None)
    span.event("e", timestamp_ns=1_500)
    span.finish(end_ns=2_000)
    assert span.events[0][1] == 1_500 and span.end_ns == 2_000 and ended == [span]
    early = tracer.trace("early", "internal", None, None, None)
    early.finish(end_ns=10)
    assert early.end_ns == early.start_ns  # never ends before it starts
    late = tracer.trace("late", "internal", None, None, None)
    with pytest.raises(TypeError, match="timestamp_ns must be an int"):
        late.event("e", timestamp_ns=True)
    with pytest.raises(TypeError, match="end_ns must be an int"):
        late.finish(end_ns=1.5)
    assert late.end_ns is None


def test_image_takes_path_or_image_or_the_shipped_data(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert rd.Image(path_or_image=png)._path == rd.Image(data=png)._path == png.resolve()
    with pytest.raises(TypeError, match="both path_or_image= and its alias data="):
        rd.Image(png, data=png)


def test_run_and_disabled_run_offer_the_same_public_methods() -> None:
    """Every public method of the logging run exists on the disabled run."""
    methods = {n for n in dir(Run) if not n.startswith("_") and callable(getattr(Run, n))}
    assert methods - set(dir(NoopRun)) == set()


# -- rd.Client -------------------------------------------------------------------------------
def test_client_takes_the_published_options_and_parameter_names(isolated_env: Path) -> None:
    """rc1's README discovery example: client options, paging and close arguments."""
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.path)
        return Response(200, json.dumps({"projects": [{"projectSlug": "p"}], "page": {
            "hasMore": True, "nextCursor": f"c{len(seen)}"}, "runId": "r"}).encode())

    client = rd.Client(endpoint="http://c.test", api_key="rdk_k", spool_enabled=False,
                       start_worker_on_init=False, transport=MockTransport(handler))
    assert client.endpoint == "http://c.test"
    assert len(client.list_projects(workspace_slug="w", limit=5, max_pages=2)) == 2
    assert seen == ["/api/v1/workspaces/w/projects?limit=5",
                    "/api/v1/workspaces/w/projects?limit=5&cursor=c1"]
    assert client.get_run_details(workspace_slug="w", project_slug="p", run_id="r")["runId"] == "r"
    assert client.get_run_details("w", "p", "r")["runId"] == "r"
    assert seen[-1] == seen[-2] == "/api/v1/workspaces/w/projects/p/runs/r"
    with pytest.raises(TypeError, match="both workspace_slug= and its alias workspace="):
        client.get_run_details("w", workspace_slug="w", project_slug="p", run_id="r")
    with pytest.raises(TypeError, match="missing required argument: 'run_id'"):
        client.get_run_details(workspace_slug="w", project_slug="p")
    with pytest.raises(ValueError, match="limit must be a positive int"):
        client.list_workspaces(limit=0)
    assert client.close(timeout_seconds=0.1, drain=False) is True
    with pytest.raises(TypeError, match=re.escape("rd.Client() got unexpected keyword")):
        rd.Client("http://c.test", transport=MockTransport(handler), spool=False)
