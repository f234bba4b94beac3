"""Registration and run state: config patches racing the start call (#13.1)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rundial import MockTransport, Request, Response, TransportError
from rundial._config import build_settings
from rundial._init import batch_header, run_document
from rundial._run import Run
from tests.sdk.conftest import CollectorDouble, FakeClock

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
