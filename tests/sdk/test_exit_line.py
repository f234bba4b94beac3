"""The line a run prints at exit when batches stay behind says what is true (issue 13 item 9)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from tests.sdk.conftest import CollectorDouble, MakeRun, refused


def conflict() -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"code": "CONFLICT", "message": "run exists"}}
    return 409, {}, json.dumps(body).encode()


def end(run: object, capsys: pytest.CaptureFixture[str]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run._worker.cycle()  # type: ignore[attr-defined]
        run.finish(timeout_s=1.0)  # type: ignore[attr-defined]
    return capsys.readouterr().err


def test_a_refused_run_says_its_data_is_not_sent_and_how_to_send_it(
        make_run: MakeRun, double: CollectorDouble, capsys: pytest.CaptureFixture[str]) -> None:
    double.script["/runs/start"] = [conflict()]
    run = make_run(minted=False, resume="never")
    run.log({"a": 1}, step=0)
    err = end(run, capsys)
    assert "will be sent by the next run" not in err
    assert "refused" in err and "will not be sent" in err
    assert "--run run_test --as-new-run" in err and "--into-existing" in err
    assert "/api/v1/ingest/metrics" not in double.paths()


def test_a_run_blocked_for_another_reason_says_to_fix_it_then_sync(
        make_run: MakeRun, double: CollectorDouble, capsys: pytest.CaptureFixture[str]) -> None:
    double.script["/runs/start"] = [(403, {}, b'{"error":{"code":"FORBIDDEN","message":"no"}}')]
    run = make_run()
    run.log({"a": 1}, step=0)
    err = end(run, capsys)
    assert "will be sent by the next run" not in err
    assert "registration failed" in err and "HTTP 403" in err
    assert "rundial sync" in err and "--run run_test" in err


def test_an_unreachable_collector_names_the_endpoint_and_spool_to_sync_from(
        make_run: MakeRun, double: CollectorDouble, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    double.script["/runs/start"] = [refused()] * 10
    run = make_run()
    run.log({"a": 1, "b": 2}, step=0)
    err = end(run, capsys)
    assert "1 batches (2 points) of run run_test pending in" in err
    assert "endpoint http://collector.test" in err
    assert f"rundial sync {tmp_path / 'spool'} --endpoint http://collector.test" in err


def test_adopted_batches_of_other_runs_are_not_counted_as_this_runs(
        make_run: MakeRun, double: CollectorDouble, capsys: pytest.CaptureFixture[str]) -> None:
    """An orphan adopted from an earlier process and still unsent is reported on its own."""
    earlier = make_run(run_id="run_earlier", mode="offline")
    for step in range(3):
        earlier.log({"a": 1}, step=step)
    earlier._worker.cycle()
    earlier.log({"a": 1}, step=4)
    assert earlier.finish()
    capsys.readouterr()
    double.script["/ingest/metrics"] = [refused()] * 10
    run = make_run()
    run.log({"a": 1, "b": 2}, step=0)
    err = end(run, capsys)
    assert "1 batches (2 points) of run run_test" in err
    assert "2 batches adopted from earlier processes (run run_earlier) are not counted" in err
