"""End to end: registration and run state against the real collector — config patches racing
registration (#13.1), late registration keeps the start time (#13.5), config lists and numpy
values (#13.7, #13.12), resume="never" after an outage (#13.14), a resumed run's stale final
status (#13.15)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import rundial as rd
from rundial import HttpTransport, Request, Response, TransportError
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import init_run, read_points, run_details

FAST = {"retry_base_delay_seconds": 0.05, "retry_max_delay_seconds": 0.3,
        "flush_interval_seconds": 0.05}


def details(proc: CollectorProcess, run_id: str) -> dict[str, Any]:
    status, payload = run_details(proc, run_id)
    assert status == 200, payload
    return dict(payload)


def test_patches_right_after_init_always_arrive(collector: CollectorProcess, tmp_path: Path) -> None:
    """#13.1 repro: update_config and summary right after init, in short runs, every time."""
    for attempt in range(8):
        with init_run(collector, tmp_path / "spool", **FAST) as run:
            run.update_config({"extra": attempt})
            run.log({"loss": 0.5})
            run.summary["best"] = 0.1
        config = details(collector, run.id)["config"]
        assert config.get("extra") == attempt and config.get("summary.best") == 0.1, config


def test_config_lists_and_numpy_values_arrive(collector: CollectorProcess, tmp_path: Path) -> None:
    """#13.7 and #13.12 repros, against the real collector."""
    accs = np.array([0.5, 0.75])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing here is changed: no warning
        with init_run(collector, tmp_path / "spool",
                      config={"betas": [0.9, 0.99], "lr": np.float64(3e-4), "bs": np.int64(32),
                              "wd": np.float32(0.5)}, **FAST) as run:
            run.update_config({"grid": [[1, 2], [3, 4]]})
            run.log({"acc": accs[1]}, step=0)
            run.summary["best_acc"] = max(accs)
    assert run.state == "completed"
    run_doc = details(collector, run.id)
    assert run_doc["status"] == "completed"
    assert run_doc["config"] == {"betas": [0.9, 0.99], "lr": 3e-4, "bs": 32, "wd": 0.5,
                                 "grid": [[1, 2], [3, 4]], "summary.best_acc": 0.75}
    assert read_points(collector, run.id, ["acc"])["acc"] == {0: 0.75}
    assert run.diagnostics().config_truncations == 0


def test_a_run_registered_late_keeps_its_start_time(collector: CollectorProcess,
                                                    tmp_path: Path) -> None:
    """#13.5: started while the collector was down, registered after its restart."""
    collector.stop()
    before_ms = time.time_ns() // 1_000_000
    run = init_run(collector, tmp_path / "spool", **FAST)
    run.log({"loss": 1.0}, step=0)
    wait_until(lambda: run.diagnostics().retry_attempts > 0, 10, message="a failed attempt")
    down_until_ms = time.time_ns() // 1_000_000
    collector.start()
    assert run.finish(timeout_s=10) is True
    run_doc = details(collector, run.id)
    assert before_ms <= run_doc["startedAtMs"] < down_until_ms
    assert run_doc["startedAtMs"] <= run_doc["finishedAtMs"]


def test_never_does_not_attach_after_an_outage(collector: CollectorProcess, tmp_path: Path) -> None:
    """#13.14 repro: exp-collide exists; a second resume='never' process starts while the
    collector is down: it must be refused, and step 0 keeps its value."""
    with init_run(collector, tmp_path / "spool", run_id="exp-collide", **FAST) as first:
        first.log({"loss": 1.0}, step=0)
    collector.stop()
    second = init_run(collector, tmp_path / "spool", run_id="exp-collide", resume="never", **FAST)
    second.log({"loss": 99.0}, step=0)
    wait_until(lambda: second.diagnostics().retry_attempts > 0, 10, message="a failed attempt")
    collector.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the "not registered" warning
        wait_until(lambda: second.state == "registration_failed", 15, message="the refusal")
        assert second.finish(timeout_s=5) is False
    assert read_points(collector, "exp-collide", ["loss"])["loss"] == {0: 1.0}


class LoseFirstStartAnswer:
    """Sends everything to the collector; the answer to the first runs/start is lost."""

    def __init__(self, url: str) -> None:
        self.inner = HttpTransport(url, 5.0)
        self.lost = False
        self.start_statuses: list[int] = []

    def send(self, request: Request) -> Response:
        response = self.inner.send(request)
        if request.path.endswith("/runs/start"):
            self.start_statuses.append(response.status)
            if not self.lost:
                self.lost = True
                raise TransportError("timed out (the answer was lost)")
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_lost_start_answer_is_recognised_by_its_token(collector: CollectorProcess,
                                                        tmp_path: Path) -> None:
    """#13.14: the retry of a start that was applied is answered 200 (the token matches), so
    resume='never' with our own id registers, and its data arrives."""
    transport = LoseFirstStartAnswer(collector.url)
    run = init_run(collector, tmp_path / "spool", run_id="exp-lost-answer", resume="never",
                   transport=transport, **FAST)
    run.log({"loss": 2.0}, step=0)
    assert run.finish(timeout_s=10) is True
    assert transport.start_statuses == [201, 200]
    assert read_points(collector, "exp-lost-answer", ["loss"])["loss"] == {0: 2.0}


def test_a_resumed_run_never_gets_the_previous_process_status(collector: CollectorProcess,
                                                              tmp_path: Path) -> None:
    """#13.15 repro: process 1 finishes while the collector is down (its run.json records
    completed); process 2 resumes: the run stays running, and fail('OOM') is what is stored."""
    spool = tmp_path / "spool"
    first = init_run(collector, spool, run_id="exp-resume", resume="allow", **FAST)
    first.log({"loss": 1.0}, step=0)
    assert first.flush(10)
    collector.stop()
    first.log({"loss": 0.9}, step=1)
    assert first.finish(timeout_s=1) is False
    collector.start()
    second = init_run(collector, spool, run_id="exp-resume", resume="allow", **FAST)
    second.log({"loss": 0.5}, step=2)
    assert second.flush(10)  # process 1's batch was adopted and delivered too
    assert read_points(collector, "exp-resume", ["loss"])["loss"] == {0: 1.0, 1: 0.9, 2: 0.5}
    assert details(collector, "exp-resume")["status"] == "running"
    assert second.fail("OOM") is True
    run_doc = details(collector, "exp-resume")
    assert (run_doc["status"], run_doc["reason"]) == ("failed", "OOM")
    rd.replay_spool(spool, endpoint=collector.url, api_key=collector.api_key, timeout_s=0)
    assert details(collector, "exp-resume")["status"] == "failed"
