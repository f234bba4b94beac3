"""``rd.init``: network-free start, modes, rank detection and policies, the no-op run."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

import rundial as rd
from rundial import MockTransport
from rundial._run.rank import detect_rank, shared_run_id
from tests.sdk.conftest import CollectorDouble


def dead_endpoint() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.mark.serial
def test_init_with_the_collector_down_is_fast_and_logging_spools(isolated_env: Path, tmp_path: Path) -> None:
    """Init returns in under 50 ms (best of 3) with nothing listening; logged data reaches the spool."""
    timings = []
    for attempt in range(3):
        started = time.perf_counter()
        run = rd.init(project="p", endpoint=dead_endpoint(), spool_directory=str(tmp_path / "s"),
                      flush_interval_seconds=0.05)
        timings.append(time.perf_counter() - started)
        if attempt < 2:
            run.abort(timeout_s=0)
    assert min(timings) < 0.05
    assert run.id.startswith("run_") and len(run.id) == 36
    for step in range(10):
        run.log({"a": step})
    assert run.flush(timeout_s=0.3) is False
    assert run.diagnostics().spool_segments >= 1
    assert run.finish(timeout_s=0.2) is False


@pytest.mark.parametrize("env,rank", [
    ({}, 0), ({"RANK": "3"}, 3), ({"SLURM_PROCID": "2", "LOCAL_RANK": "0"}, 2),
    ({"OMPI_COMM_WORLD_RANK": "5"}, 5), ({"PMI_RANK": "4"}, 4), ({"LOCAL_RANK": "1"}, 1),
    ({"RUNDIAL_RANK": "7", "RANK": "1"}, 7), ({"RANK": "x", "LOCAL_RANK": "2"}, 2),
])
def test_rank_detection_order(env: dict[str, str], rank: int) -> None:
    """RUNDIAL_RANK first, launcher global ranks next, LOCAL_RANK last; junk is skipped."""
    assert detect_rank(env) == rank


def test_shared_run_id_from_launcher() -> None:
    """All ranks of one SLURM step derive the same run id."""
    env = {"SLURM_JOB_ID": "12", "SLURM_STEP_ID": "0"}
    assert shared_run_id(env) == shared_run_id(dict(env)) and shared_run_id(env).startswith("run_")
    assert shared_run_id({"RUNDIAL_RUN_ID": "abc"}) == "abc" and shared_run_id({}) is None


def test_rank0_policy_gives_other_ranks_a_noop(isolated_env: Path, tmp_path: Path) -> None:
    """distributed="rank0": rank 1 gets a run that accepts anything and never raises."""
    run = rd.init(project="p", distributed_rank=1, spool_directory=str(tmp_path))
    assert isinstance(run, rd.NoopRun) and run.state == "non_logging_rank"
    assert run.log("not even a mapping", step=-3) is True
    run.log_metric("k", 1.0)
    run.update_config({"a": 1})
    with run:
        pass
    assert run.finish() and run.diagnostics().enqueued_points == 0
    assert not tmp_path.joinpath("spool").exists()


def test_all_policy_tags_rows_with_rank_and_only_rank0_registers(isolated_env: Path, tmp_path: Path) -> None:
    """distributed="all": every rank sends, each body carries its rank; rank 1 never registers."""
    double = CollectorDouble()
    for rank in (0, 1):
        run = rd.init(project="p", run_id="shared", distributed="all", distributed_rank=rank,
                      transport=MockTransport(double), spool_directory=str(tmp_path / f"s{rank}"),
                      system_metrics=False)
        run.log({"a": rank}, step=rank)
        assert run.finish(timeout_s=2)
    assert sorted((b["runId"], b["rank"]) for b in double.bodies) == [("shared", 0), ("shared", 1)]
    starts = [d for _m, p, d in double.calls if p.endswith("/runs/start")]
    statuses = [p for _m, p, _d in double.calls if p.endswith("/status")]
    assert len(starts) == 1 and len(statuses) == 1


def test_disabled_mode_is_a_noop(isolated_env: Path) -> None:
    """mode="disabled": no project needed, nothing sent, same API."""
    run = rd.init(mode="disabled")
    assert isinstance(run, rd.NoopRun) and run.state == "disabled"
    with run as r:
        r.log({"a": float("nan")})
        r.summary["x"] = 1
    assert run.diagnostics().health == "healthy"


def test_env_mode_and_workspace_slug_bodies(isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    """RUNDIAL_MODE=offline is honoured; slug-mode bodies carry workspace + project."""
    monkeypatch.setenv("RUNDIAL_MODE", "offline")
    run = rd.init(project="proj", workspace="ws", spool_directory=str(tmp_path))
    assert run.mode == "offline" and run.state == "offline"
    run.finish()
