"""``run.log``: argument checks, steps, snapshots, the bounded queue and the rare branch."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest

from tests.sdk.conftest import CollectorDouble, MakeRun


def test_log_snapshots_the_mapping(make_run: MakeRun, double: CollectorDouble) -> None:
    """Mutating the dict after ``log`` does not change what is sent."""
    run = make_run()
    metrics = {"loss": 1.0}
    run.log(metrics)
    metrics["loss"] = 2.0
    run._worker.cycle()
    assert double.rows[0][3] == {"loss": 1.0}


def test_missing_step_auto_increments_and_explicit_steps_do_not(make_run: MakeRun,
                                                                double: CollectorDouble) -> None:
    """Auto steps count 0, 1, 2 ...; an explicit step does not advance the counter."""
    run = make_run()
    run.log({"a": 1})
    run.log({"a": 1}, step=100)
    run.log({"a": 1})
    run.log_metric("b", 2.0)
    run._worker.cycle()
    assert double.steps() == [0, 100, 1, 2]


@pytest.mark.parametrize("metrics,error", [
    ([("a", 1)], TypeError), (None, TypeError), ("loss", TypeError), ({}, ValueError),
    (OrderedDict(), ValueError),
])
def test_unusable_metrics_raise(make_run: MakeRun, metrics: Any, error: type[Exception]) -> None:
    """A non-mapping is a TypeError, an empty mapping a ValueError."""
    with pytest.raises(error):
        make_run().log(metrics)


def test_mapping_subclasses_are_accepted(make_run: MakeRun, double: CollectorDouble) -> None:
    """Any Mapping works (copied into a dict)."""
    run = make_run()
    run.log(OrderedDict(a=1.5))
    run._worker.cycle()
    assert double.rows[0][3] == {"a": 1.5}


@pytest.mark.parametrize("step,error", [
    (-1, ValueError), (2.5, TypeError), ("3", TypeError), (True, TypeError), (float("nan"), TypeError),
])
def test_bad_steps_raise_and_never_reach_a_batch(make_run: MakeRun, double: CollectorDouble,
                                                 step: Any, error: type[Exception]) -> None:
    """A bad step raises at the call and poisons nothing."""
    run = make_run()
    with pytest.raises(error):
        run.log({"a": 1}, step=step)
    run.log({"a": 1}, step=7)
    run._worker.cycle()
    assert double.steps() == [7]


def test_numpy_integer_and_integral_float_steps_are_accepted(make_run: MakeRun,
                                                             double: CollectorDouble) -> None:
    """``operator.index`` types (numpy ints) and 3.0 become plain ints."""
    np = pytest.importorskip("numpy")
    run = make_run()
    run.log({"a": 1}, step=np.int64(5))
    run.log({"a": 1}, step=6.0)
    run._worker.cycle()
    assert double.steps() == [5, 6]
    assert double.bodies[0]["rows"][0][0] == 5


def test_time_ms_is_used_and_validated(make_run: MakeRun, double: CollectorDouble) -> None:
    """``time_ms`` sets the timestamp; a negative or non-numeric one raises."""
    run = make_run()
    run.log({"a": 1}, time_ms=1_700_000_000_123)
    with pytest.raises(ValueError):
        run.log({"a": 1}, time_ms=-5)
    with pytest.raises(TypeError):
        run.log({"a": 1}, time_ms="now")
    run._worker.cycle()
    assert double.rows[0][2] == 1_700_000_000_123


def test_full_queue_drops_the_oldest_and_counts_points(make_run: MakeRun,
                                                       double: CollectorDouble) -> None:
    """Beyond ``queue_capacity`` the oldest records go, counted by points, with one warning."""
    run = make_run(queue_capacity=10, flush_at_records=5)
    with pytest.warns(RuntimeWarning, match="queue is full"):
        for step in range(25):
            run.log({"a": 1, "b": 2}, step=step)
    diag = run.diagnostics()
    assert diag.dropped_points_queue_full == 30
    assert diag.dropped == {"queue_full": 30}
    run._worker.cycle()
    assert double.steps() == list(range(15, 25))
    assert run.diagnostics().enqueued_points == 50


def test_worker_is_woken_only_at_the_threshold(make_run: MakeRun) -> None:
    """Below ``flush_at_records`` the event stays clear; at the threshold it is set once."""
    run = make_run(flush_at_records=3)
    run.log({"a": 1})
    run.log({"a": 1})
    assert not run._wake.is_set()
    run.log({"a": 1})
    assert run._wake.is_set()


def test_log_after_finish_is_counted_not_sent(make_run: MakeRun, double: CollectorDouble) -> None:
    """A ``log`` after ``finish`` is dropped, counted as ``after_finish`` and warned once."""
    run = make_run()
    run.log({"a": 1})
    assert run.finish()
    with pytest.warns(RuntimeWarning, match="after finish"):
        run.log({"a": 1, "b": 2})
    assert run.diagnostics().dropped == {"after_finish": 2}
    assert double.steps() == [0]


def test_a_huge_int_step_drops_only_its_row(make_run: MakeRun, double: CollectorDouble) -> None:
    """A step beyond int64 passes the cheap check but the worker drops just that row."""
    run = make_run()
    run.log({"a": 1}, step=1)
    with pytest.warns(RuntimeWarning, match="beyond int64"):
        run.log({"a": 1, "b": 2}, step=2**70)
        run.log({"a": 1}, step=3)
        run._worker.cycle()
    assert double.steps() == [1, 3]
    assert run.diagnostics().dropped == {"invalid": 2}


def test_context_is_accepted_and_ignored_with_a_warning(make_run: MakeRun, double: CollectorDouble) -> None:
    """log(context=...) from the published API is accepted; the row is still logged."""
    run = make_run()
    with pytest.warns(RuntimeWarning, match="context"):
        run.log({"a": 1}, context={"split": "val"})
    run._worker.cycle()
    assert double.steps() == [0]
