"""The worker: registration, batching, retries with backoff, dead letters, splits, finish."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from rundial import MockTransport, Request, Response
from rundial._http.retry import Outcome
from tests.sdk.conftest import CollectorDouble, FakeClock, MakeRun, refused

ERR_409 = (409, {}, json.dumps({"error": {"code": "CONFLICT", "message": "run exists"}}).encode())


def test_registration_comes_before_the_first_batch(make_run: MakeRun, double: CollectorDouble) -> None:
    """resolve-target (workspace given), then runs/start with resume=allow for a minted id, then ingest."""
    run = make_run(workspace="ws", project="proj", name="n", tags=["t"], config={"opt": {"lr": 0.1}})
    run.log({"a": 1})
    run._worker.cycle()
    assert double.paths() == ["/api/v1/runs/resolve-target", "/api/v1/runs/start", "/api/v1/ingest/metrics"]
    start = double.calls[1][2]
    assert start["projectId"] == "prj_000000000001" and start["resume"] == "allow"
    assert start["runId"] == "run_test" and start["runName"] == "n" and start["tags"] == ["t"]
    assert start["config"] == {"opt.lr": 0.1}
    body = double.bodies[0]
    assert (body["workspace"], body["project"], body["runId"]) == ("ws", "proj", "run_test")
    assert run.state == "running"


def test_ingest_headers(make_run: MakeRun, transport: MockTransport) -> None:
    """gzip body, JSON type, bearer key, idempotency key, protocol and client headers."""
    run = make_run(api_key="rdk_x")
    run.log({"a": 1})
    run._worker.cycle()
    ingest = [r for r in transport.requests if r.path.endswith("/ingest/metrics")][0]
    assert ingest.headers["content-encoding"] == "gzip"
    assert ingest.headers["content-type"] == "application/json"
    assert ingest.headers["authorization"] == "Bearer rdk_x"
    assert len(ingest.headers["idempotency-key"]) == 32
    assert ingest.headers["x-rundial-protocol"] == "1"
    assert ingest.headers["x-rundial-client"].startswith("rundial-python/")


def test_user_run_id_sends_the_users_resume(make_run: MakeRun, double: CollectorDouble) -> None:
    """A user-given run id is started with the user's resume mode."""
    run = make_run(run_id="mine", minted=False, resume="must")
    run.log({"a": 1})
    run._worker.cycle()
    assert double.calls[0][2]["resume"] == "must"


ERR_404 = (404, {}, json.dumps({"error": {"code": "NOT_FOUND", "message": "no such run"}}).encode())


@pytest.mark.parametrize("resume,answer,status", [("never", ERR_409, "409"), ("must", ERR_404, "404")])
def test_registration_refusal_warns_sets_state_and_keeps_data(make_run: MakeRun, double: CollectorDouble,
                                                              tmp_path: Path, resume: str,
                                                              answer: tuple, status: str) -> None:
    """409 under never / 404 under must: warning, last_error, state, event; batches stay spooled."""
    double.script["/runs/start"] = [answer]
    events: list[dict] = []
    run = make_run(run_id="taken", minted=False, resume=resume, event_hook=events.append)
    run.log({"a": 1})
    with pytest.warns(RuntimeWarning, match="not registered"):
        run._worker.cycle()
    assert run.state == "registration_failed"
    assert [e["event"] for e in events] == ["registration_failure"]
    diag = run.diagnostics()
    assert status in (diag.last_error or "") and diag.spool_segments == 1
    assert "/api/v1/ingest/metrics" not in double.paths()
    assert run.finish() is False
    run_json = json.loads((tmp_path / "spool" / "taken" / "run.json").read_text())
    assert run_json["blocked"]


def test_retryable_failures_back_off_then_deliver_in_order(make_run: MakeRun, double: CollectorDouble,
                                                           clock: FakeClock) -> None:
    """Connection errors and 503s spool and back off; later batches queue behind; all arrive once."""
    double.script["/ingest/metrics"] = [refused(), (503, {}, b"")]
    run = make_run()
    run.log({"a": 1}, step=0)
    run._worker.cycle()
    assert run.diagnostics().failed_flush_attempts == 1
    run.log({"a": 1}, step=1)
    run._worker.cycle()  # still backing off: nothing sent
    assert double.steps() == []
    for _ in range(5):
        clock.advance(61.0)
        run._worker.cycle()
    assert double.steps() == [0, 1]
    diag = run.diagnostics()
    assert diag.retry_attempts == 2 and diag.accepted_points == 2 and diag.spool_segments == 0
    assert diag.last_error is None and diag.health == "healthy"  # a transient error clears


def test_retry_after_is_honoured(make_run: MakeRun, double: CollectorDouble, clock: FakeClock) -> None:
    """After a 429 with Retry-After: 30 nothing is sent for 30 s."""
    double.script["/ingest/metrics"] = [(429, {"retry-after": "30"}, b"")]
    run = make_run()
    run.log({"a": 1})
    run._worker.cycle()
    clock.advance(29.0)
    run._worker.cycle()
    assert double.steps() == []
    assert run._worker.wait_seconds() <= 1.0 + 1e-9
    clock.advance(1.5)
    run._worker.cycle()
    assert double.steps() == [0]


def test_non_retryable_4xx_goes_to_rejected_and_is_counted(make_run: MakeRun, double: CollectorDouble,
                                                           tmp_path: Path) -> None:
    """A 400 moves the batch to ``rejected/`` with a reason note; later batches still go."""
    double.script["/ingest/metrics"] = [(400, {}, json.dumps({"error": {"code": "INVALID_REQUEST"}}).encode())]
    run = make_run()
    run.log({"a": 1, "b": 2})
    run._worker.cycle()
    run.log({"a": 1})
    run._worker.cycle()
    diag = run.diagnostics()
    assert diag.dropped_points_non_retryable == 2 and diag.batches_rejected == 1
    rejected = sorted(os.listdir(tmp_path / "spool" / "rejected"))
    assert len(rejected) == 2 and rejected[1].endswith(".reason")
    assert double.steps() == [1]


def test_413_splits_and_resends_halves(make_run: MakeRun, double: CollectorDouble) -> None:
    """A 413 splits the batch; halves carry derived idempotency keys; a lone row still 413 is rejected."""
    too_large = (413, {}, json.dumps({"error": {"code": "PAYLOAD_TOO_LARGE"}}).encode())
    double.script["/ingest/metrics"] = [too_large, too_large]
    run = make_run()
    for step in range(4):
        run.log({"a": step}, step=step)
    run._worker.cycle()
    assert sorted(double.steps()) == [0, 1, 2, 3]
    assert all(key.count("-") >= 1 for key in double.keys)
    double.script["/ingest/metrics"] = [too_large]
    run.log({"a": 1}, step=9)
    run._worker.cycle()
    assert run.diagnostics().batches_rejected == 1


def test_a_refused_half_of_a_split_is_a_dead_letter(make_run: MakeRun, double: CollectorDouble,
                                                    tmp_path: Path) -> None:
    """413, then a 400 for the first half: that half goes to rejected/ under its derived key."""
    too_large = (413, {}, json.dumps({"error": {"code": "PAYLOAD_TOO_LARGE"}}).encode())
    bad = (400, {}, json.dumps({"error": {"code": "INVALID_REQUEST"}}).encode())
    double.script["/ingest/metrics"] = [too_large, bad]
    run = make_run()
    for step in range(4):
        run.log({"a": step}, step=step)
    run._worker.cycle()
    assert double.steps() == [2, 3]
    diag = run.diagnostics()
    assert diag.dropped_points_non_retryable == 2 and diag.spool_segments == 0
    names = sorted(p.name for p in (tmp_path / "spool" / "rejected").iterdir())
    assert len(names) == 2 and names[0].endswith("-0.json.gz") and names[1].endswith(".reason")


def test_offline_mode_only_spools(make_run: MakeRun, double: CollectorDouble, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Offline: no request at all; batches and run.json (without the key) stay in the spool."""
    run = make_run(mode="offline", api_key="rdk_secret", name="off")
    run.log({"a": 1})
    run._worker.cycle()
    assert run.state == "offline"
    assert run.finish() is True
    assert double.calls == []
    run_dir = tmp_path / "spool" / "run_test"
    doc = json.loads((run_dir / "run.json").read_text())
    assert doc["runName"] == "off" and doc["finalStatus"]["status"] == "completed"
    assert "rdk_secret" not in (run_dir / "run.json").read_text()
    assert "pending in" in capsys.readouterr().err


def test_finish_sends_status_after_the_data(make_run: MakeRun, double: CollectorDouble,
                                            tmp_path: Path) -> None:
    """finish: last batches, then status with finishedAtMs; the spool directory is cleaned up."""
    run = make_run()
    run.log({"a": 1})
    assert run.finish() is True
    assert double.paths()[-1] == "/api/v1/runs/run_test/status"
    assert double.calls[-1][2] == {"status": "completed", "finishedAtMs": 1_700_000_000_000}
    assert run.state == "completed" and run.finish() is True and run.fail("x") is False
    assert not (tmp_path / "spool" / "run_test").exists()


def test_fail_reason_is_trimmed_and_cut(make_run: MakeRun, double: CollectorDouble) -> None:
    """fail(reason) sends status failed and at most 512 characters of reason."""
    run = make_run()
    run.fail("  " + "x" * 600 + "  ")
    assert double.calls[-1][2]["status"] == "failed"
    assert double.calls[-1][2]["reason"] == "x" * 512


def test_finish_with_collector_down_spools_and_records_the_status(
        make_run: MakeRun, double: CollectorDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Collector down at exit: one stderr line, batches and the final status left for replay."""
    double.script["/runs/start"] = [refused()] * 5
    double.script["/ingest/metrics"] = [refused()] * 5
    run = make_run()
    for step in range(3):
        run.log({"a": 1, "b": 2}, step=step)
    assert run.finish(timeout_s=1.0) is False
    err = capsys.readouterr().err
    assert "1 batches (6 points) of run run_test pending in" in err and "rundial sync" in err
    doc = json.loads((tmp_path / "spool" / "run_test" / "run.json").read_text())
    assert doc["finalStatus"]["status"] == "completed" and doc["registered"] is False


def test_config_updates_before_and_after_registration(make_run: MakeRun, double: CollectorDouble) -> None:
    """Before registration a patch joins the start payload; after it, it is POSTed."""
    run = make_run(config={"a": 1})
    run.update_config({"b": {"c": 2}})
    run.log({"x": 1})
    run._worker.cycle()
    assert double.calls[0][2]["config"] == {"a": 1, "b.c": 2}
    run.update_config({"d": "e"})
    run._worker.cycle()
    assert ("POST", "/api/v1/runs/run_test/config", {"config": {"d": "e"}}) in double.calls
    assert run.config == {"a": 1, "b.c": 2, "d": "e"}


def test_summary_tracks_last_values_and_sends_assigned_ones(make_run: MakeRun,
                                                           double: CollectorDouble) -> None:
    """run.summary shows last logged values; assigned values are sent as summary.* config."""
    run = make_run()
    run.log({"loss": 2.0})
    run.log({"loss": 1.0, "acc": 0.5})
    run._worker.cycle()
    assert dict(run.summary) == {"loss": 1.0, "acc": 0.5}
    run.summary["best"] = 0.9
    run.finish()
    assert ("POST", "/api/v1/runs/run_test/config", {"config": {"summary.best": 0.9}}) in double.calls


def test_event_hook_and_worker_errors_are_counted(make_run: MakeRun, double: CollectorDouble) -> None:
    """An exception inside a cycle is counted and the worker carries on; the hook sees events."""
    events: list[dict] = []
    run = make_run(event_hook=events.append)
    double.script["/ingest/metrics"] = [refused()]
    run.log({"a": 1})
    run._worker.cycle()
    assert any(e["event"] == "retry_scheduled" for e in events)

    def broken() -> None:
        raise RuntimeError("boom")

    run._worker.drain = broken  # type: ignore[method-assign]
    run._worker.safe_cycle()
    assert "boom" in (run.diagnostics().last_error or "")
    assert run.diagnostics().worker_errors == 1


@pytest.mark.serial
def test_finish_never_hangs_on_a_stuck_collector(tmp_path: Path, isolated_env: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A request that never returns is cut off: finish returns near its deadline, data spooled."""
    import threading

    import rundial as rd

    release = threading.Event()

    def hang(request: Request) -> Response:
        release.wait(10)
        raise refused("aborted")

    transport = MockTransport(hang)
    transport.abort = release.set  # type: ignore[attr-defined]
    run = rd.init(project="p", transport=transport, spool_directory=str(tmp_path / "spool"),
                  endpoint="http://stuck.test")
    run.log({"a": 1})
    started = time.monotonic()
    assert run.finish(timeout_s=0.5) is False
    assert time.monotonic() - started < 2.0
    assert "pending in" in capsys.readouterr().err
    assert Outcome.RETRY


def test_worker_can_start_lazily(tmp_path: Path, isolated_env: Path) -> None:
    """start_worker_on_init=False: no thread until the first log."""
    import rundial as rd

    double = CollectorDouble()
    run = rd.init(project="p", transport=MockTransport(double), spool_directory=str(tmp_path),
                  start_worker_on_init=False, flush_at_records=3)
    assert run._worker.thread is None
    run.log({"a": 1})
    assert run._worker.thread is not None
    run.log({"a": 1})
    run.log({"a": 1})
    assert run.finish(timeout_s=5) and double.steps() == [0, 1, 2]
