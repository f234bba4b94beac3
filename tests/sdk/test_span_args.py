"""Span arguments are checked at the call, in every mode, before anything is opened or queued
(``rundial._producers.span_args``): ``run.tool_call``'s ``attrs`` and ``status`` (a bad status
used to raise after the span was registered as open, so it could be shipped later as an open
copy), and ``span.event``/``finish``/``set_status`` on a disabled run's span as on a logging
run's."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from rundial._producers.open_spans import OPEN_SPAN_SHIP_AFTER_SECONDS, OpenSpans
from tests.helpers.collector_proc import CollectorProcess
from tests.sdk.conftest import CollectorDouble, MakeRun
from tests.sdk.e2e_support import read_spans

BAD_TOOL_CALLS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"attrs": [("q", 1)]}, TypeError, r"^attrs must be a mapping, not list$"),
    ({"attrs": []}, TypeError, r"^attrs must be a mapping, not list$"),
    ({"attrs": "q=1"}, TypeError, r"^attrs must be a mapping, not str$"),
    ({"status": "done"}, ValueError, r"^status must be one of .*not 'done'$"),
    ({"status": 1}, ValueError, r"^status must be one of .*not 1$"),
]
SpanCall = Callable[[Any], Any]
BAD_SPAN_CALLS: list[tuple[str, SpanCall]] = [
    ("event timestamp float", lambda span: span.event("e", timestamp_ns=1.5)),
    ("event timestamp bool", lambda span: span.event("e", timestamp_ns=True)),
    ("event timestamp first", lambda span: span.event("a\x00", timestamp_ns="now")),
    ("finish end_ns", lambda span: span.finish(end_ns="now")),
    ("finish status", lambda span: span.finish("done")),
    ("finish end_ns first", lambda span: span.finish("done", end_ns=2.0)),
    ("set_status unknown", lambda span: span.set_status("failed")),
    ("set_status None", lambda span: span.set_status(None)),
]


@pytest.fixture(params=["online", "offline", "disabled"])
def any_run(request: pytest.FixtureRequest, make_run: MakeRun) -> Any:
    """A run in each mode: the checks are made at the call, never on the worker."""
    if request.param == "disabled":
        return rd.init(mode="disabled")
    return make_run(kind="agent", mode=request.param)


@pytest.mark.parametrize(("bad", "error", "message"), BAD_TOOL_CALLS)
def test_bad_tool_call_arguments_raise_at_the_call_in_every_mode(
        any_run: Any, bad: dict[str, Any], error: type[Exception], message: str) -> None:
    """``attrs`` that is not a mapping (an empty list included) is a TypeError naming attrs,
    an unknown ``status`` a ValueError naming status; nothing is queued."""
    depth = any_run.diagnostics().queue_depth
    with pytest.raises(error, match=message):
        any_run.tool_call("search", input="q", **bad)
    assert any_run.diagnostics().queue_depth == depth
    assert any_run.tool_call("search", attrs={"q": 1}, status=None) is True


def test_a_refused_tool_call_leaves_no_span_to_ship_open(make_run: MakeRun,
                                                          double: CollectorDouble) -> None:
    """A tool call refused for its status opens nothing: even while the error (and its
    traceback) is kept, the worker ships no open copy past the 2 s threshold."""
    run = make_run(kind="agent")
    now = [time.time_ns()]
    run._events.tracer.clock_ns = lambda: now[0]
    with pytest.raises(ValueError, match="status must be one of") as refused:
        run.tool_call("search", attrs={"q": 1}, status="done")
    now[0] += int(OPEN_SPAN_SHIP_AFTER_SECONDS * 1e9)
    run._worker.cycle()
    assert refused.value is not None and double.spans == []
    assert len(run._events.tracer.open_spans) == 0


@pytest.mark.parametrize(("label", "call"), BAD_SPAN_CALLS, ids=[c[0] for c in BAD_SPAN_CALLS])
def test_a_disabled_runs_span_refuses_what_a_span_refuses(make_run: MakeRun, label: str,
                                                          call: SpanCall) -> None:
    """``event``, ``finish`` and ``set_status`` raise the same error (type and message, the
    first bad argument in the same order) on a disabled run's span as on a logging run's."""
    errors = []
    for run in (make_run(kind="agent"), rd.init(mode="disabled")):
        with run.trace("step") as span:
            with pytest.raises((TypeError, ValueError)) as caught:
                call(span)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1], label


def test_finish_checks_its_arguments_even_on_an_ended_span(any_run: Any) -> None:
    """A second ``finish`` does nothing, but a bad status or ``end_ns`` still raises there,
    in every mode."""
    span = any_run.trace("step")
    span.finish()
    span.finish("ok")
    with pytest.raises(ValueError, match="status must be one of"):
        span.finish("done")
    with pytest.raises(TypeError, match="end_ns must be an int"):
        span.finish(end_ns=1.0)


def test_a_refused_finish_leaves_the_span_open(make_run: MakeRun,
                                               double: CollectorDouble) -> None:
    """``finish`` with a bad status changes nothing: the span stays open and ends later with
    the status it is then given."""
    run = make_run(kind="agent")
    span = run.trace("step")
    with pytest.raises(ValueError, match="status must be one of"):
        span.finish("done")
    assert not span.finished and span.status == "unset"
    span.finish("error")
    run._worker.cycle()
    assert [(s["name"], s["status"]) for s in double.spans] == [("step", "error")]


def test_a_refused_tool_call_ships_no_open_span_to_a_real_collector(
        shared_collector: CollectorProcess, isolated_env: Path, tmp_path: Path) -> None:
    """Against a real collector, with open copies shipped at once: tool calls refused for their
    status or attrs store nothing, not even an open span, while the error is still held; the
    accepted call after them is stored closed."""
    proc = shared_collector
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(tmp_path / "spool"), kind="agent",
                  run_id=f"run-span-args-{uuid.uuid4().hex[:8]}", system_metrics=False)
    assert isinstance(run, rd.Run)
    run._events.tracer.open_spans = OpenSpans(after_seconds=0.0)
    with pytest.raises(ValueError, match="status must be one of") as refused:
        run.tool_call("refused", input="q", status="done")
    with pytest.raises(TypeError, match="attrs must be a mapping"):
        run.tool_call("refused", attrs=["q"])
    run.tool_call("kept", input="q", status="error")
    assert run.flush(timeout_seconds=60) is True  # a worker cycle after the refused calls
    assert refused.value is not None and run.finish(timeout_s=60) is True
    stored = [(s["name"], s["status"], s["endNs"] is not None) for s in read_spans(proc, run)]
    assert stored == [("tool:kept", "error", True)]
    diagnostics = run.diagnostics()
    assert diagnostics.dropped == {} and diagnostics.batches_rejected == 0
