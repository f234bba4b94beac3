"""``run.log_eval_result`` in the SDK (v1 doc §5.6, §11.4): argument checks on the caller's
thread, one row per scorer, held back inside an open span, delivered by the worker as one
``/api/v1/evals/results`` body per eval run; a disabled run does nothing."""

from __future__ import annotations

from typing import Any

import pytest

import rundial as rd
from rundial._wire.records import EVALS, kind_of
from tests.sdk.conftest import CollectorDouble, MakeRun

RESULTS = "/api/v1/evals/results"


def result_bodies(double: CollectorDouble) -> list[dict[str, Any]]:
    return [doc for _m, path, doc in double.calls if path == RESULTS and doc is not None]


def test_rows_are_queued_and_sent_per_eval_run(make_run: MakeRun, double: CollectorDouble
                                               ) -> None:
    run = make_run()
    assert run.log_eval_result("evr_a", "ex1", scores={"exact": 1, "judge": {"score": 0.25,
                               "passed": False, "meta": {"why": "x"}}}, passed={"exact": True},
                               trace="t" * 32, meta={"model": "m"})
    assert run.log_eval_result("evr_b", "ex2", scores={"ok": True},
                               evidence={"artifactId": "art_1", "path": "e.txt"})
    assert not result_bodies(double)  # nothing sent before the worker runs: no I/O
    run._worker.cycle()
    bodies = {body["evalRunId"]: body for body in result_bodies(double)}
    assert set(bodies) == {"evr_a", "evr_b"}
    assert bodies["evr_a"]["projectId"] == "test-proj"
    assert bodies["evr_a"]["rows"] == [
        {"evalRunId": "evr_a", "exampleId": "ex1", "scorer": "exact", "score": 1.0,
         "passed": True, "traceId": "t" * 32, "evidenceRef": None, "meta": {"model": "m"}},
        {"evalRunId": "evr_a", "exampleId": "ex1", "scorer": "judge", "score": 0.25,
         "passed": False, "traceId": "t" * 32, "evidenceRef": None,
         "meta": {"model": "m", "why": "x"}}]
    assert bodies["evr_b"]["rows"][0]["score"] == 1.0 and bodies["evr_b"]["rows"][0]["passed"]
    assert bodies["evr_b"]["rows"][0]["evidenceRef"] == {"artifactId": "art_1", "path": "e.txt"}


def test_results_inside_a_span_wait_for_it(make_run: MakeRun, double: CollectorDouble) -> None:
    run = make_run()
    with run.trace("example") as span:
        run.log_eval_result("evr_a", "ex1", scores={"s": 0.5}, passed=True)
        run._worker.cycle()
        assert not result_bodies(double)  # held while the span is open
    run._worker.cycle()
    rows = result_bodies(double)[0]["rows"]
    assert rows[0]["traceId"] == span.trace_id
    spans = [path for path in double.paths() if path.endswith("/ingest/traces")]
    assert spans and double.paths().index(spans[0]) < double.paths().index(RESULTS)


def test_held_rows_go_out_at_finish(make_run: MakeRun, double: CollectorDouble) -> None:
    run = make_run()
    span = run.trace("never ended").__enter__()
    run.log_eval_result("evr_a", "ex1", scores={"s": True})
    assert run.finish(timeout_s=1)
    assert [r["traceId"] for r in result_bodies(double)[0]["rows"]] == [span.trace_id]


@pytest.mark.parametrize(("kwargs", "error", "text"), [
    ({"scores": {}}, ValueError, "scores"),
    ({"scores": {"s": 0.5}}, ValueError, "passed is required"),
    ({"scores": {"s": float("nan")}, "passed": True}, ValueError, "finite"),
    ({"scores": {"s": "high"}, "passed": True}, TypeError, "number"),
    ({"scores": {"s": True}, "trace": None, "evidence": None, "_no_trace": True}, ValueError,
     "needs a trace"),
    ({"scores": {"s": True}, "evidence": {"path": "p"}}, TypeError, "artifactId"),
    ({"scores": {"s": True}, "meta": {"m": "x" * 9000}}, ValueError, "meta"),
    ({"scores": {"x" * 129: True}}, ValueError, "scorer name"),
    ({"scores": {"s": True}, "example_id": "e" * 257}, ValueError, "example_id"),
    ({"scores": {"s": True}, "eval_run_id": "a/b"}, ValueError, "eval_run_id"),
])
def test_bad_arguments_raise_and_queue_nothing(make_run: MakeRun, double: CollectorDouble,
                                               kwargs: dict[str, Any], error: type[Exception],
                                               text: str) -> None:
    run = make_run()
    args = {"trace": "t" * 32, **kwargs}
    if args.pop("_no_trace", False):
        args["trace"] = None
    eval_run_id = args.pop("eval_run_id", "evr_a")
    example_id = args.pop("example_id", "ex1")
    with pytest.raises(error, match=text):
        run.log_eval_result(eval_run_id, example_id, **args)
    run._worker.cycle()
    assert not result_bodies(double)


def test_eval_batches_replay_to_the_results_route() -> None:
    assert kind_of("eval_0123") == EVALS and kind_of("0123") != EVALS


def test_a_disabled_run_accepts_and_drops(isolated_env: object) -> None:
    run = rd.init(project="p", mode="disabled")
    assert run.log_eval_result("evr_a", "ex1", scores={"s": True}) is True
