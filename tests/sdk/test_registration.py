"""Registration and run state: config patches racing the start call (#13.1), the recorded start
time (#13.5), the start token (#13.14) and final statuses (#13.15)."""

from __future__ import annotations

import json
import socket
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rundial import HttpTransport, MockTransport, Request, Response, TransportError
from rundial._config import build_settings
from rundial._run.init import batch_header, run_document
from rundial._run.run import Run
from tests.sdk.conftest import CollectorDouble, FakeClock, MakeRun, refused

# Where a config patch (or a summary assignment) happens relative to the control-plane calls:
# before the first cycle, inside the n-th runs/start call, inside a runs/{id}/config call,
# between cycles, or just before finish.
PHASES = ("before", "in_start", "in_config", "between", "at_finish")


def manual_run(spool: Path, transport: Any, **options: Any) -> Run:
    """A manual-mode run (no worker thread) on ``transport``, fake clocks and ``spool``."""
    options.setdefault("project", "test-proj")
    options.setdefault("endpoint", "http://collector.test")
    settings_ = build_settings({"spool_directory": str(spool), **options})
    doc = run_document(settings_, "run_race", "allow")
    return Run(settings_, doc, batch_header(settings_, "run_race", 0), transport=transport,
               clock=FakeClock(), wall=FakeClock(1_700_000_000.0), manual=True)


def server_config(double: CollectorDouble) -> dict[str, Any]:
    """The config the collector ends up with: the first accepted start, then patches in order."""
    merged: dict[str, Any] = {}
    for _method, path, body in double.calls:
        if body is not None and (path.endswith("/runs/start") or path.endswith("/config")):
            merged.update(body.get("config") or {})
    return merged


class Interleaver:
    """Wraps the collector double; runs the scheduled patches *during* the matching call."""

    def __init__(self, double: CollectorDouble, start_failures: int) -> None:
        self.double = double
        self.start_failures = start_failures
        self.during: dict[str, list[Any]] = {"start": [], "config": []}

    def __call__(self, request: Request) -> Response:
        kind = ("start" if request.path.endswith("/runs/start") else
                "config" if request.path.endswith("/config") else None)
        if kind is not None and self.during[kind]:
            self.during[kind].pop(0)()  # the user's thread patches while the call is in flight
        if kind == "start" and self.start_failures:
            self.start_failures -= 1
            self.double.calls.append((request.method, request.path, None))
            raise TransportError("timed out")
        return self.double(request)


patch_plan = st.lists(st.tuples(st.sampled_from(PHASES), st.booleans()), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=patch_plan, start_failures=st.integers(min_value=0, max_value=2))
def test_every_patch_arrives_whatever_the_interleaving(isolated_env: Path, plan: list[tuple[str, bool]],
                                                       start_failures: int) -> None:
    """Config patches and summary assignments made before, during (inside the runs/start or
    config call, including failing attempts), between or after registration all reach the
    collector, with the latest value of each key winning."""
    double = CollectorDouble()
    wire = Interleaver(double, start_failures)
    with tempfile.TemporaryDirectory() as tmp:
        run = manual_run(Path(tmp), MockTransport(wire), config={"base": 0})
        expected: dict[str, Any] = {"base": 0}
        finishing = False

        def patch(index: int, as_summary: bool) -> None:
            if finishing:  # a call made by finish() itself: a patch racing finish is not promised
                return
            if as_summary:
                run.summary[f"s{index}"] = index
                expected[f"summary.s{index}"] = index
            else:
                run.update_config({f"k{index}": index, "shared": index})
                expected.update({f"k{index}": index, "shared": index})

        late: list[Any] = []
        for index, (phase, as_summary) in enumerate(plan):
            action = (lambda i=index, s=as_summary: patch(i, s))
            if phase == "before":
                action()
            elif phase == "in_start":
                wire.during["start"].append(action)
            elif phase == "in_config":
                wire.during["config"].append(action)
            else:
                late.append((phase, action))
        run.log({"x": 1.0})
        for _ in range(start_failures + 1):
            run._worker.cycle()
            run._worker.backoff.until = 0.0  # the fake clock does not move: retry at once
        for phase, action in late:
            action()
            if phase == "between":
                run._worker.cycle()
        finishing = True
        assert run.finish(timeout_s=5.0) is True
        assert run.state == "completed"
        assert server_config(double) == expected  # patches scheduled in calls never made: not made


# -- #13.5 and #13.14: the recorded start time and the start token --------------------------
CONFLICT = (409, {}, json.dumps({"error": {"code": "CONFLICT", "message": "run exists"}}).encode())
CONFLICT_TOKEN_CHECKED = (409, {}, json.dumps({
    "error": {"code": "CONFLICT", "message": "run exists"}, "startTokenMatched": False}).encode())


def start_bodies(double: CollectorDouble) -> list[dict[str, Any]]:
    return [body for _m, path, body in double.calls if path.endswith("/runs/start") and body]


def test_start_carries_the_recorded_start_time_and_a_token(make_run: MakeRun,
                                                           double: CollectorDouble,
                                                           tmp_path: Path) -> None:
    """#13.5: the start time is the SDK's, also when registration succeeds only much later;
    #13.14: every attempt of one run sends the same token, which run.json keeps for sync."""
    before_ms = time.time_ns() // 1_000_000
    double.script["/runs/start"] = [refused(), refused()]
    run = make_run()
    after_ms = time.time_ns() // 1_000_000
    run.log({"a": 1.0})
    for _ in range(3):
        run._worker.cycle()
        run._worker.backoff.until = 0.0
    attempts = [c for c in double.calls if c[1].endswith("/runs/start")]
    assert len(attempts) == 3 and run.state == "running"
    body = start_bodies(double)[-1]
    assert before_ms <= body["startedAtMs"] <= after_ms
    assert body["startToken"].startswith("st_") and len(body["startToken"]) > 16
    assert all(b["startToken"] == body["startToken"] for b in start_bodies(double))
    run_json = json.loads((tmp_path / "spool" / "run_test" / "run.json").read_text())
    assert (run_json["startedAtMs"], run_json["startToken"]) == (body["startedAtMs"], body["startToken"])


@pytest.mark.parametrize("first,conflict,registered", [
    # connection refused (nothing sent), then a 409 from a collector without tokens: refused
    # (it used to attach to the other run: #13.14)
    (TransportError("refused", sent=False), CONFLICT, False),
    # a timed-out attempt is ambiguous, but a 409 that checked our token is a refusal
    (TransportError("timed out"), CONFLICT_TOKEN_CHECKED, False),
    # a collector without tokens: a 409 counts as our own start only after an attempt that
    # may have been applied (sent with its answer lost, or a gateway timeout)
    (TransportError("timed out"), CONFLICT, True), ((504, {}, b""), CONFLICT, True),
    ((503, {}, b""), CONFLICT, False), ((429, {}, b""), CONFLICT, False),
])
def test_a_409_is_a_refusal_unless_it_may_answer_our_own_start(
        make_run: MakeRun, double: CollectorDouble, first: Any, conflict: Any,
        registered: bool) -> None:
    double.script["/runs/start"] = [first, conflict]
    run = make_run(run_id="exp-collide", minted=False, resume="never")
    run.log({"loss": 99.0}, step=0)
    run._worker.cycle()
    run._worker.backoff.until = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run._worker.cycle()
    refused_warnings = [w for w in caught if "not registered" in str(w.message)]
    assert run.state == ("running" if registered else "registration_failed")
    assert len(refused_warnings) == (0 if registered else 1)
    assert ("/api/v1/ingest/metrics" in double.paths()) is registered


def test_http_transport_says_a_refused_connection_sent_nothing() -> None:
    """The real transport marks a failure to connect as provably unsent."""
    with socket.socket() as sock:  # bind, never listen: connecting is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        transport = HttpTransport(f"http://127.0.0.1:{port}", timeout=2.0)
        with pytest.raises(TransportError) as caught:
            transport.send(Request("POST", "/api/v1/runs/start", b"{}"))
    assert caught.value.sent is False


# -- #13.15: a final status is never stale, and a refused one is not success -----------------
def test_a_409_on_the_final_status_is_not_success(make_run: MakeRun, double: CollectorDouble,
                                                  tmp_path: Path) -> None:
    double.script["/status"] = [CONFLICT]
    run = make_run()
    run.log({"a": 1.0})
    run._worker.cycle()
    assert run.fail("OOM") is False
    assert "409" in (run.diagnostics().last_error or "")
    assert not (tmp_path / "spool" / "run_test" / "run.json").exists()  # nothing left to retry


def test_an_adopted_stale_final_status_never_overrides_the_live_run(
        make_run: MakeRun, double: CollectorDouble, tmp_path: Path) -> None:
    """Process 1 registered, then finished while the collector was down (its run.json holds
    finalStatus completed); process 2 resumes the run and adopts process 1's batches: the old
    status is never sent (nor left for a later sync), process 2's own one is."""
    def start_only(request: Request) -> Response:
        if request.path.endswith("/runs/start"):
            return double(request)
        raise refused()

    first = make_run(run_id="resumed", minted=False, resume="allow",
                     transport_=MockTransport(start_only))
    first.log({"loss": 1.0}, step=0)
    first._worker.cycle()
    assert first.finish(timeout_s=0.5) is False
    run_json = tmp_path / "spool" / "resumed" / "run.json"
    assert json.loads(run_json.read_text())["finalStatus"]["status"] == "completed"
    second = make_run(run_id="resumed", minted=False, resume="allow")
    second._worker.cycle()  # adopts process 1's writer and delivers its batch
    assert double.steps("resumed") == [0]
    second.log({"loss": 2.0}, step=1)
    second._worker.cycle()
    assert double.steps("resumed") == [0, 1]
    assert not [c for c in double.calls if c[1].endswith("/status")]
    assert not json.loads(run_json.read_text()).get("finalStatus")
    assert second.fail("OOM") is True
    statuses = [body["status"] for _m, path, body in double.calls if path.endswith("/status") and body]
    assert statuses == ["failed"]
