"""The worker's idle heartbeat: when it is sent, what postpones it, failures, and when not."""

from __future__ import annotations

from tests.sdk.conftest import CollectorDouble, FakeClock, MakeRun, refused

BEAT = "/api/v1/runs/run_test/heartbeat"


def beats(double: CollectorDouble) -> int:
    return double.paths().count(BEAT)


def test_an_idle_registered_run_heartbeats(make_run: MakeRun, double: CollectorDouble,
                                           clock: FakeClock) -> None:
    """After an interval without a delivered batch the worker posts the heartbeat route."""
    run = make_run(heartbeat_interval_seconds=30)
    run.log({"a": 1.0})
    run._worker.cycle()
    clock.advance(29)
    run._worker.cycle()
    assert beats(double) == 0 and run._worker.wait_seconds() <= 1.0
    clock.advance(2)
    run._worker.cycle()
    assert beats(double) == 1 and double.calls[-1][2] == {}
    assert run.diagnostics().heartbeats_sent == 1


def test_ingest_counts_as_a_heartbeat(make_run: MakeRun, double: CollectorDouble,
                                      clock: FakeClock) -> None:
    """A delivered batch pushes the next heartbeat back by a whole interval."""
    run = make_run(heartbeat_interval_seconds=30)
    run._worker.cycle()  # registers
    clock.advance(20)
    run.log({"a": 1.0})
    run._worker.cycle()
    clock.advance(20)
    run._worker.cycle()
    assert beats(double) == 0
    clock.advance(11)
    run._worker.cycle()
    assert beats(double) == 1


def test_a_failed_heartbeat_is_counted_only(make_run: MakeRun, double: CollectorDouble,
                                            clock: FakeClock) -> None:
    """A heartbeat that fails is counted; no last_error, no backoff for ingest."""
    double.script[BEAT] = [refused()]
    run = make_run(heartbeat_interval_seconds=5)
    run._worker.cycle()
    clock.advance(6)
    run._worker.cycle()
    diag = run.diagnostics()
    assert diag.heartbeat_failures == 1 and diag.last_error is None
    assert run._worker.backoff.ready()
    clock.advance(6)
    run._worker.cycle()
    assert run.diagnostics().heartbeats_sent == 1


def test_no_heartbeat_offline_or_when_disabled(make_run: MakeRun, double: CollectorDouble,
                                               clock: FakeClock) -> None:
    """Offline runs and heartbeat_interval_seconds=0 never call the route."""
    offline = make_run(mode="offline", run_id="run_off")
    disabled = make_run(heartbeat_interval_seconds=0)
    for _ in range(3):
        clock.advance(100)
        offline._worker.cycle()
        disabled._worker.cycle()
    assert not any(p.endswith("/heartbeat") for p in double.paths())
