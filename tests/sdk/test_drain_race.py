"""The worker's drain against producer-side pops from other threads (#13.21)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from tests.sdk.conftest import MakeRun

ROUNDS = 300
RECORDS_PER_ROUND = 400


@pytest.fixture
def frequent_switches() -> Iterator[None]:
    """Switch threads every microsecond, so a read-then-pop race shows up at once."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_drain_never_runs_dry_while_a_producer_drops_oldest(make_run: MakeRun,
                                                            frequent_switches: None) -> None:
    """Every record is either encoded by the drain or dropped by the producer, counted once."""
    run = make_run(queue_capacity=100_000, flush_at_records=100_000)
    stop = threading.Event()

    def drop_oldest_forever() -> None:
        while not stop.is_set():
            if len(run._queue) > 100:
                run._full.drop_oldest(1)

    dropper = threading.Thread(target=drop_oldest_forever)
    dropper.start()
    try:
        for _round in range(ROUNDS):
            for step in range(RECORDS_PER_ROUND):
                run._queue.append((step, 1, {"a": 1.0}))
            run._worker.drain()  # raised IndexError before the fix, losing what it had popped
    finally:
        stop.set()
        dropper.join()
    run._worker.drain()
    logged = ROUNDS * RECORDS_PER_ROUND
    diag = run.diagnostics()
    spooled = sum(e.points or 0 for e in run._worker.spool.own.entries)
    assert not run._queue and diag.worker_errors == 0
    assert diag.dropped_points_queue_full + spooled == logged
    assert diag.enqueued_points == logged
