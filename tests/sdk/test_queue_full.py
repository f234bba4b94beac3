"""A full queue: ``log`` waits for the worker (bounded, once per stall episode) or drops (#13.8)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from rundial import MockTransport, Request, Response
from tests.helpers.waiting import wait_until
from tests.sdk.conftest import CollectorDouble

CAPACITY = 100


@dataclass
class Valve:
    """A collector double whose metric ingest can be held shut (a stuck worker)."""

    double: CollectorDouble
    shut: threading.Event
    opened: threading.Event
    entered: threading.Event

    def __call__(self, request: Request) -> Response:
        if request.path.endswith("/ingest/metrics") and self.shut.is_set():
            self.entered.set()
            self.opened.wait(30)
        return self.double(request)

    def release(self) -> None:
        self.shut.clear()
        self.opened.set()


@pytest.fixture
def valve(isolated_env: Path) -> Iterator[Valve]:
    v = Valve(CollectorDouble(), threading.Event(), threading.Event(), threading.Event())
    yield v
    v.release()


def _run(tmp_path: Path, valve: Valve, **options: Any) -> Any:
    return rd.init(project="p", transport=MockTransport(valve), endpoint="http://valve.test",
                   spool_directory=str(tmp_path / "spool"), queue_capacity=CAPACITY,
                   flush_at_records=10, system_metrics=False, **options)


def _stick_worker(run: Any, valve: Valve) -> None:
    """Log steps 0-9 and wait until the worker is blocked sending them."""
    valve.shut.set()
    for step in range(10):
        run.log({"a": 1.0}, step=step)
    wait_until(valve.entered.is_set, message="the worker to block in ingest")


@pytest.mark.serial
def test_a_loop_faster_than_the_worker_loses_nothing(tmp_path: Path, valve: Valve) -> None:
    """50x the queue's capacity in a tight loop: every point arrives, nothing is dropped."""
    run = _run(tmp_path, valve)
    calls = 50 * CAPACITY
    for step in range(calls):
        run.log({"a": 1.0, "b": 2.0}, step=step)
    assert run.finish(timeout_s=30)
    diag = run.diagnostics()
    assert diag.dropped == {} and diag.lost_step_ranges == ()
    assert diag.queue_full_waits > 0 and diag.queue_full_wait_timeouts == 0
    assert valve.double.steps() == list(range(calls))


def test_a_stuck_worker_costs_one_wait_per_episode(tmp_path: Path, valve: Valve) -> None:
    """The first call over capacity waits and drops; later ones drop at once until the worker
    drains; the dropped steps are reported and sent with the final status."""
    run = _run(tmp_path, valve, queue_full_wait_seconds=0.05)
    _stick_worker(run, valve)
    with pytest.warns(RuntimeWarning, match="queue is full"):
        for step in range(10, 510):
            run.log({"a": 1.0}, step=step)
    diag = run.diagnostics()
    assert (diag.queue_full_waits, diag.queue_full_wait_timeouts) == (1, 1)
    assert diag.queue_full_wait_seconds >= 0.05
    assert diag.dropped_points_queue_full == 400 and diag.queue_depth == CAPACITY
    assert [r[1:] for r in diag.lost_step_ranges] == [(110, 509)]
    valve.release()
    wait_until(lambda: not run._queue, message="the worker to drain")
    for step in range(510, 510 + 3 * CAPACITY):  # a new episode: the worker is only behind now
        run.log({"a": 1.0}, step=step)
    diag = run.diagnostics()
    assert diag.queue_full_wait_timeouts == 1 and diag.dropped_points_queue_full == 400
    assert run.finish(timeout_s=10)
    status = [doc for _m, path, doc in valve.double.calls if path.endswith("/status")]
    assert status[-1]["droppedStepRanges"] == [[110, 509]]
    assert valve.double.steps() == [*range(110), *range(510, 810)]


def test_drop_mode_never_waits_and_drops_the_oldest(tmp_path: Path, valve: Valve) -> None:
    """``on_queue_full="drop"``: no wait at all, the oldest records go, their steps are recorded."""
    run = _run(tmp_path, valve, on_queue_full="drop")
    _stick_worker(run, valve)
    with pytest.warns(RuntimeWarning, match="dropping the oldest"):
        for step in range(10, 510):
            run.log({"a": 1.0}, step=step)
    diag = run.diagnostics()
    assert diag.queue_full_waits == 0 and diag.queue_full_wait_seconds == 0.0
    assert diag.dropped_points_queue_full == 400
    assert [r[1:] for r in diag.lost_step_ranges] == [(10, 409)]
    valve.release()
    assert run.finish(timeout_s=10)
    assert valve.double.steps() == [*range(10), *range(410, 510)]


@pytest.mark.parametrize(("options", "message"), [
    ({"on_queue_full": "block"}, "on_queue_full"),
    ({"queue_full_wait_seconds": -1}, "queue_full_wait_seconds"),
])
def test_bad_queue_full_options_raise(isolated_env: Path, options: dict[str, Any],
                                      message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rd.init(project="p", mode="offline", **options)
