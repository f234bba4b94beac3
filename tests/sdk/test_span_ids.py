"""Trace and span ids are checked at the call against the collector's rules
(``rundial._wire.trace_ids``): a ``trace_id`` over 128 characters, or NUL in any id, used to be
queued and then rejected by the collector (the span or eval row lost there, or on PostgreSQL the
whole request); now ``run.trace`` and ``log_eval_result`` raise in every mode, as do
``run.trace``, ``run.tool_call`` and ``span.event`` for a name holding NUL. Ids the collector
accepts (any alphabet, up to the limit, a parent of any length) reach a real one unchanged."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.conftest import CollectorDouble, MakeRun
from tests.sdk.e2e_support import read_spans

LONG_TRACE = "t" * 129
AT_LIMIT = "é" * 128  # characters, not bytes, are counted (256 UTF-8 bytes)
BAD_SPAN_IDS: list[tuple[dict[str, str], str]] = [
    ({"trace_id": LONG_TRACE}, r"trace_id must be at most 128 characters .*; got 129"),
    ({"trace_id": "ab\x00cd"}, r"trace_id must not hold NUL .*at index 2"),
    ({"parent_span_id": "0123\x00"}, r"parent_span_id must not hold NUL .*at index 4"),
]
BAD_EVAL_TRACES = [(LONG_TRACE, r"trace must be at most 128 characters .*; got 129"),
                   ("a\x00b", r"trace must not hold NUL .*at index 1")]


@pytest.fixture(params=["online", "offline", "disabled"])
def any_run(request: pytest.FixtureRequest, make_run: MakeRun) -> Any:
    """A run in each mode: the checks are made at the call, never on the worker."""
    if request.param == "disabled":
        return rd.init(mode="disabled")
    return make_run(kind="agent", mode=request.param)


def test_bad_span_ids_raise_at_the_call_in_every_mode(any_run: Any) -> None:
    """Each id the collector would refuse is a ValueError naming it, and nothing is queued."""
    depth = any_run.diagnostics().queue_depth
    with any_run.trace("open"):
        for ids, message in BAD_SPAN_IDS:
            with pytest.raises(ValueError, match=message):
                any_run.trace("child", **ids)
        assert any_run.diagnostics().queue_depth == depth
    for ids, message in BAD_SPAN_IDS:
        with pytest.raises(ValueError, match=message):
            any_run.trace("root", **ids)


def test_bad_eval_trace_ids_raise_at_the_call_in_every_mode(any_run: Any) -> None:
    """An eval row's trace id over 128 characters or holding NUL is a ValueError naming trace,
    and no row is queued."""
    depth = any_run.diagnostics().queue_depth
    for trace, message in BAD_EVAL_TRACES:
        with pytest.raises(ValueError, match=message):
            any_run.log_eval_result("ev_1", "ex", scores={"s": True}, trace=trace)
    assert any_run.diagnostics().queue_depth == depth


def test_span_and_event_names_with_nul_raise_at_the_call_in_every_mode(any_run: Any) -> None:
    """A span, tool or event name holding NUL (the collector rejects the span; on PostgreSQL
    it refused the whole batch) is a ValueError naming it, and nothing is opened or queued."""
    depth = any_run.diagnostics().queue_depth
    with any_run.trace("open") as span:
        with pytest.raises(ValueError, match=r"the span name must not hold NUL .*at index 4"):
            any_run.trace("plan\x00")
        with pytest.raises(ValueError, match=r"the span name must not hold NUL .*at index 6"):
            any_run.tool_call("a\x00b")
        with pytest.raises(ValueError, match=r"the event name must not hold NUL .*at index 0"):
            span.event("\x00step")
        assert any_run.diagnostics().queue_depth == depth
    if isinstance(span, rd.Span):
        assert span.events == [] and any_run.diagnostics().queue_depth == depth + 1


def test_an_empty_parent_span_id_makes_a_root_sent_without_one(
        make_run: MakeRun, double: CollectorDouble) -> None:
    """``parent_span_id=""`` inside an open span means "no parent": a root in its own trace,
    sent with ``parentSpanId`` null (it used to go out as ""); an empty ``trace_id`` is None."""
    run = make_run(kind="agent")
    with run.trace("open") as open_span:
        with run.trace("inherits", trace_id="") as inherits:
            pass
        with run.trace("root", parent_span_id="") as root:
            pass
    run._worker.cycle()
    sent = {span["name"]: span for span in double.spans}
    assert (inherits.parent_span_id, inherits.trace_id) == (open_span.span_id,
                                                            open_span.trace_id)
    assert root.parent_span_id is None and sent["root"]["parentSpanId"] is None
    assert root.trace_id not in ("", open_span.trace_id) and len(root.trace_id) == 32
    assert sent["inherits"]["traceId"] == open_span.trace_id


def test_ids_the_collector_accepts_reach_it_and_refused_ones_raise(
        shared_collector: CollectorProcess, isolated_env: Path, tmp_path: Path) -> None:
    """Against a real collector: a refused id raises at the call; a 128-character non-hex trace
    id, a 300-character parent and an empty parent are all stored, none rejected."""
    proc = shared_collector
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(tmp_path / "spool"), kind="agent",
                  run_id=f"run-span-ids-{uuid.uuid4().hex[:8]}", system_metrics=False)
    assert isinstance(run, rd.Run)
    with pytest.raises(ValueError, match="trace_id must be at most 128"):
        run.trace("refused", trace_id=LONG_TRACE)
    with run.trace("limit", trace_id=AT_LIMIT) as limit:
        with run.trace("child"):
            pass
        run.trace("orphan", parent_span_id="").finish()
    run.trace("far", parent_span_id="p" * 300).finish()
    assert run.finish(timeout_s=60) is True
    roots = {span["name"]: span for span in read_spans(proc, run)}
    assert sorted(roots) == ["far", "limit", "orphan"]
    assert roots["limit"]["traceId"] == AT_LIMIT and roots["limit"]["spanId"] == limit.span_id
    assert [c["name"] for c in roots["limit"]["children"]] == ["child"]
    assert roots["orphan"]["parentSpanId"] is None and roots["far"]["parentSpanId"] == "p" * 300
    diagnostics = run.diagnostics()
    assert diagnostics.dropped == {} and diagnostics.batches_rejected == 0
    assert diagnostics.accepted_points == 4


def test_eval_trace_ids_the_collector_accepts_reach_it_and_refused_ones_raise(
        shared_collector: CollectorProcess, isolated_env: Path, tmp_path: Path) -> None:
    """An eval row's 128-character trace id is stored as given; one over the limit raises at
    ``log_result`` and queues nothing."""
    proc = shared_collector
    suite = rd.eval.suite("span-ids", dataset="d:v1", scorers=["s"], workspace=proc.workspace,
                          project=proc.project, endpoint=proc.url, api_key=proc.api_key,
                          spool_directory=str(tmp_path / "spool"))
    with suite.run() as eval_run:
        with pytest.raises(ValueError, match="trace must be at most 128"):
            eval_run.log_result("bad", scores={"s": True}, trace=LONG_TRACE)
        assert eval_run.log_result("good", scores={"s": True}, trace=AT_LIMIT)
    assert eval_run.run.state == "completed"
    status, _, reply = request("GET", f"{proc.url}/api/v1/evals/runs/{eval_run.eval_run_id}"
                                      "/results?limit=10", api_key=proc.api_key)
    assert status == 200, reply
    assert [(r["exampleId"], r["traceId"]) for r in reply["rows"]] == [("good", AT_LIMIT)]
    assert eval_run.run.diagnostics().dropped == {}
