"""``rundial sync`` and ``rundial doctor`` against the real collector: refused runs, late final
statuses, data left behind (issue 13 items 2, 3, 4, 17)."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rundial as rd
from tests.cli.clirun import CliResult
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.e2e_support import read_points


def run_doc(collector: CollectorProcess, run_id: str) -> dict[str, Any]:
    """The collector's run document (status, finish time, config)."""
    status, _, body = request(
        "GET", f"{collector.url}/api/v1/workspaces/{collector.workspace}/projects/"
               f"{collector.project}/runs/{run_id}", api_key=collector.api_key)
    assert status == 200, body
    return dict(body.get("run", body))


def env_for(collector: CollectorProcess) -> dict[str, str]:
    return {"RUNDIAL_ENDPOINT": collector.url, "RUNDIAL_API_KEY": collector.api_key}


def start(collector: CollectorProcess, spool: Path, *, api_key: str | None = None,
          workspace: str | None = None, **extra: Any) -> rd.Run:
    """``rd.init`` against ``collector`` (no key unless given), spooling into ``spool``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = rd.init(workspace=workspace or collector.workspace, project=collector.project,
                      endpoint=collector.url, api_key=api_key, spool_directory=str(spool),
                      system_metrics=False, **extra)
    assert isinstance(run, rd.Run)
    return run


def finish_quietly(run: rd.Run) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run.finish(timeout_s=5)


def test_a_run_synced_later_ends_with_its_local_status_time_and_summary(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """No key at first (registration refused with 401, data spooled), then ``rundial sync``."""
    spool = tmp_path / "spool"
    run = start(shared_collector, spool, run_id="late-" + uuid.uuid4().hex[:8])
    run.log({"loss": 0.5}, step=0)
    run.summary["best"] = 0.25
    finish_quietly(run)
    result = cli("sync", str(spool), "--json", env=env_for(shared_collector))
    assert result.code == 0, result.err
    doc = run_doc(shared_collector, run.run_id)
    assert doc["status"] == "completed"
    assert doc.get("finishedAtMs")
    assert doc["config"].get("summary.best") == 0.25
    assert read_points(shared_collector, run.run_id, ["loss"])["loss"] == {0: 0.5}
    assert not (spool / run.run_id).exists()


def refused_run(collector: CollectorProcess, spool: Path) -> str:
    """``my-run`` logs loss=1.0 at step 0; a second ``rd.init`` with the same id (resume="never")
    is refused with 409 and logs loss=0.0 at step 0, which stays in the spool."""
    run_id = "refused-" + uuid.uuid4().hex[:8]
    first = start(collector, tmp_spool(spool, "first"), api_key=collector.api_key, run_id=run_id)
    first.log({"loss": 1.0}, step=0)
    assert first.finish(timeout_s=10)
    second = start(collector, spool, api_key=collector.api_key, run_id=run_id)
    second.log({"loss": 0.0}, step=0)
    finish_quietly(second)
    assert list((spool / run_id).rglob("*.json.gz"))
    return run_id


def tmp_spool(spool: Path, name: str) -> Path:
    return spool.parent / f"{spool.name}-{name}"


def test_sync_never_writes_a_refused_run_into_the_existing_run(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    run_id = refused_run(shared_collector, spool)
    result = cli("sync", str(spool), "--json", env=env_for(shared_collector))
    assert result.code == 1
    report = result.json()
    assert report["pending"] == 1
    assert [(r["runId"], r["reason"]) for r in report["leftBehind"]] == [(run_id, "refused")]
    assert "--as-new-run" in result.err and run_id in result.err
    assert read_points(shared_collector, run_id, ["loss"])["loss"] == {0: 1.0}
    assert list((spool / run_id).rglob("*.json.gz"))


def sync_refused_with(flag: str, cli: Callable[..., CliResult], collector: CollectorProcess,
                      spool: Path) -> tuple[str, CliResult]:
    """A refused run, then ``rundial sync --<flag>``, which must succeed."""
    run_id = refused_run(collector, spool)
    result = cli("sync", str(spool), "--json", flag, env=env_for(collector))
    assert result.code == 0, result.err
    assert not (spool / run_id).exists()
    return run_id, result


def test_sync_into_existing_sends_a_refused_run_only_when_asked(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess, tmp_path: Path) -> None:
    run_id, _ = sync_refused_with("--into-existing", cli, shared_collector, tmp_path / "spool")
    assert read_points(shared_collector, run_id, ["loss"])["loss"] == {0: 0.0}


def test_sync_as_new_run_sends_a_refused_run_under_a_new_id(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess, tmp_path: Path) -> None:
    run_id, result = sync_refused_with("--as-new-run", cli, shared_collector, tmp_path / "spool")
    [moved] = result.json()["sentAsNewRuns"]
    assert moved["runId"] == run_id and moved["newRunId"] != run_id
    assert read_points(shared_collector, run_id, ["loss"])["loss"] == {0: 1.0}
    assert read_points(shared_collector, moved["newRunId"], ["loss"])["loss"] == {0: 0.0}
    assert run_doc(shared_collector, moved["newRunId"])["status"] == "completed"


def test_sync_exits_1_and_names_a_run_aimed_at_a_missing_project(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """Registration refused for good (no such workspace): the batches stay, sync says so, and
    doctor counts them the same way."""
    spool = tmp_path / "spool"
    run = start(shared_collector, spool, api_key=shared_collector.api_key,
                workspace="no-such-ws-" + uuid.uuid4().hex[:6])
    run.log({"loss": 0.5}, step=0)
    finish_quietly(run)
    env = env_for(shared_collector)
    result = cli("sync", str(spool), "--json", env=env)
    assert result.code == 1
    report = result.json()
    assert report["pending"] == 1 and report["ok"] is False
    [left] = report["leftBehind"]
    assert left["runId"] == run.run_id and left["reason"] == "blocked" and left["batches"] == 1
    assert "404" in left["detail"] or "not" in left["detail"]
    assert run.run_id in result.err
    doctor = cli("doctor", "--offline", "--spool-dir", str(spool), "--json", env=env)
    [check] = [c for c in doctor.json()["checks"] if c["name"] == "spool"]
    assert "1 pending batches" in check["detail"] and run.run_id in check["detail"]


def test_config_and_summary_changed_while_the_collector_is_down_reach_it_through_sync(
        cli: Callable[..., CliResult], collector: CollectorProcess, tmp_path: Path) -> None:
    """The run registers, the collector stops, config and summary change, finish(); sync later
    sends the config patch before the final status."""
    spool = tmp_path / "spool"
    run = start(collector, spool, api_key=collector.api_key, config={"lr": 0.1})
    run.log({"loss": 0.5}, step=0)
    assert run.flush(timeout_s=10)
    collector.stop()
    run.update_config({"extra": 1, "lr": 0.2})
    run.summary["best"] = 0.25
    finish_quietly(run)
    collector.start()
    result = cli("sync", str(spool), "--json", env=env_for(collector))
    assert result.code == 0, result.err
    doc = run_doc(collector, run.run_id)
    assert doc["status"] == "completed"
    assert doc["config"]["extra"] == 1 and doc["config"]["lr"] == 0.2
    assert doc["config"]["summary.best"] == 0.25
