"""A script written for the published rc1 SDK's keyword names runs on ours against the real
collector, and what it asked for is stored (issue #17.1)."""

from __future__ import annotations

import os
from pathlib import Path

import rundial as rd
from rundial_sdk import RundialRun
from tests.helpers.collector_proc import CollectorProcess
from tests.sdk.e2e_support import init_run, read_points, run_details


def test_published_keyword_names_reach_the_collector(shared_collector: CollectorProcess,
                                                     tmp_path: Path) -> None:
    c = shared_collector
    model = tmp_path / "model.pt"
    model.write_bytes(os.urandom(50_000))
    producer = init_run(c, tmp_path / "spool", name="rc1-names", kind="agent")
    assert isinstance(producer, RundialRun) and producer.kind == "agent"
    producer.log_metric(metric_key="loss", value=0.25, step=3)
    producer.update_config({"lr": 0.1}, timeout_seconds=5)
    assert producer.checkpoint(model_path=model, step=3) is True
    assert rd.checkpoint(model_path=model, step=4) is True
    assert producer.flush(timeout_seconds=30) is True
    assert producer.finish(timeout_seconds=10, status="failed", reason="diverged") is True

    status, details = run_details(c, producer.run_id)
    assert status == 200, details
    assert (details["status"], details["reason"], details["kind"]) == ("failed", "diverged",
                                                                       "agent")
    assert producer.project_id == details["projectId"]
    assert details["config"]["lr"] == 0.1
    assert read_points(c, producer.run_id, ["loss"])["loss"] == {3: 0.25}

    with init_run(c, tmp_path / "spool", name="rc1-consumer") as consumer:
        handle = consumer.use_artifact(artifact_ref="checkpoint:latest")
        out = Path(handle.download(tmp_path / "dl"))
        assert consumer.complete(reason="restored", timeout_seconds=10) is True
    assert (out / "model.pt").read_bytes() == model.read_bytes()
    status, details = run_details(c, consumer.run_id)
    assert (details["status"], details["reason"]) == ("completed", "restored")


def test_the_published_readme_discovery_example(shared_collector: CollectorProcess,
                                                tmp_path: Path) -> None:
    """rc1's README "Discovery helpers" calls, with the keyword names rc1 accepts."""
    c = shared_collector
    with init_run(c, tmp_path / "spool", name="discovered") as run:
        run.log({"x": 1.0}, step=0)
    client = rd.Client(endpoint=c.url, api_key=c.api_key, spool_enabled=False,
                       start_worker_on_init=False)
    assert client.whoami()
    assert c.workspace in [w["workspaceSlug"] for w in client.list_workspaces(limit=1)]
    projects = client.list_projects(workspace_slug=c.workspace, limit=100, max_pages=1)
    assert c.project in [p["projectSlug"] for p in projects]
    details = client.get_run_details(workspace_slug=c.workspace, project_slug=c.project,
                                     run_id=run.run_id)
    assert details["runName"] == "discovered" and details["status"] == "completed"
    assert client.close(timeout_seconds=0.1, drain=False) is True
