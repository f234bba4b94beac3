"""Every rundial command end to end against the real collector, with --json shapes and exits."""

from __future__ import annotations

import csv
import json
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.cli.clirun import CliResult
from tests.cli.seeding import add_logs, api, seed_run
from tests.collector.control import new_target
from tests.helpers.collector_proc import CollectorProcess


def test_login_then_whoami_with_flags_after_the_command(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess) -> None:
    """``auth login --api-key K --endpoint URL`` stores the key; whoami has the published shape."""
    login = cli("auth", "login", "--api-key", shared_collector.api_key,
                "--endpoint", shared_collector.url, "--allow-plaintext-store", "--json")
    assert login.code == 0, login.err
    doc = login.json()
    assert doc["ok"] is True and doc["authMode"] == "api_key"
    assert doc["endpoint"] == shared_collector.url and doc["profile"] == "default"
    who = cli("auth", "whoami", "--json").json()
    assert set(who) == {"ok", "endpoint", "profile", "whoami"}
    assert who["whoami"]["principal"] == "api_key"
    bad = cli("auth", "login", "--api-key", "rdk_wrong", "--endpoint", shared_collector.url)
    assert bad.code == 2 and "401" in bad.err


def test_discovery_commands(cli: Callable[..., CliResult], as_admin: dict[str, str],
                            shared_collector: CollectorProcess) -> None:
    """workspace ls, project ls and target ls return the published shapes."""
    workspaces = cli("workspace", "ls", "--json", env=as_admin).json()
    assert workspaces["ok"] and any(w["workspaceSlug"] == "test-ws"
                                    for w in workspaces["workspaces"])
    projects = cli("project", "ls", "--json", env=as_admin).json()
    assert projects["workspace"] == "test-ws"
    assert "test-proj" in [p["projectSlug"] for p in projects["projects"]]
    targets = cli("target", "ls", "--json", env=as_admin).json()
    assert ["test-ws", "test-proj", "test-proj"] in targets["targets"]
    human = cli("project", "ls", env=as_admin)
    assert human.out.splitlines()[0] == "Projects for test-ws"
    assert human.out.splitlines()[1].split() == ["project", "name", "runs"]


def test_run_lifecycle(cli: Callable[..., CliResult], as_admin: dict[str, str]) -> None:
    """run start, list, status and finish; finishing twice is fine, changing state is exit 1."""
    started = cli("run", "start", "--name", "cli-run", "--kind", "agent", "--json", env=as_admin)
    run = started.json()["run"]
    assert set(run) == {"runId", "kind", "workspace", "project"} and run["kind"] == "agent"
    listed = cli("run", "list", "--search", "cli-run", "--json", env=as_admin).json()
    assert run["runId"] in [r["runId"] for r in listed["result"]["runs"]]
    status = cli("run", "status", run["runId"], "--json", env=as_admin).json()["run"]
    assert status["status"] == "running" and status["runName"] == "cli-run"
    assert status["host"] == socket.gethostname()  # runs/start's client (docs/protocol.md §4.12)
    done = cli("run", "finish", run["runId"], "--json", env=as_admin).json()["run"]
    assert done["status"] == "completed"
    assert cli("run", "finish", run["runId"], env=as_admin).code == 0
    conflict = cli("run", "finish", run["runId"], "--state", "failed", env=as_admin)
    assert conflict.code == 1 and "409" in conflict.err
    assert cli("run", "status", "run_does_not_exist", env=as_admin).code == 1


def test_metrics_keys_and_tail(cli: Callable[..., CliResult], as_admin: dict[str, str],
                               seeded_run: str) -> None:
    """metrics keys lists both keys; tail shows the last N points per key, ascending."""
    keys = cli("metrics", "keys", seeded_run, "--json", env=as_admin).json()
    assert sorted(k["metricKey"] for k in keys["keys"]) == ["acc", "loss"]
    tail = cli("metrics", "tail", seeded_run, "--points", "3", "--keys", "loss",
               "--json", env=as_admin).json()
    series, = tail["series"]["series"]
    assert [p["step"] for p in series["points"]] == [17, 18, 19]
    human = cli("metrics", "tail", seeded_run, "--points", "2", env=as_admin)
    assert human.code == 0 and any(line.split()[:2] == ["loss", "19"]
                                   for line in human.out.splitlines())


def test_metrics_export_csv_and_json(cli: Callable[..., CliResult], as_admin: dict[str, str],
                                     seeded_run: str, tmp_path: Path) -> None:
    """Paged exports hold every row; negative numbers are not apostrophe-escaped in CSV."""
    out_csv, out_json = tmp_path / "m.csv", tmp_path / "m.json"
    done = cli("metrics", "export", seeded_run, "--format", "csv", "--out", str(out_csv),
               "--page-size", "7", "--json", env=as_admin).json()
    assert done == {"ok": True, "out": str(out_csv), "rows": 40, "format": "csv"}
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 40 and {r["metricKey"] for r in rows} == {"loss", "acc"}
    assert {r["value"] for r in rows if r["metricKey"] == "acc" and r["step"] == "3"} == {"-0.3"}
    assert cli("metrics", "export", seeded_run, "--out", str(out_json), "--keys", "loss",
               env=as_admin).code == 0
    doc = json.loads(out_json.read_text())
    assert doc["type"] == "metrics" and doc["runId"] == seeded_run and len(doc["rows"]) == 20
    assert doc["export"] == {"pageCount": 1, "truncatedByPageLimit": False}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "m.csv", "m.json"]


def test_metrics_export_without_keys_exports_every_key(
        cli: Callable[..., CliResult], as_admin: dict[str, str],
        shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """Without --keys the export holds every key of a run with more than 1,000 keys (#14.4: it
    stopped at 1,000 and lost system/cpu). The run lives in a project of its own, so that the
    project-wide key listings of other tests do not see its keys."""
    target = new_target(shared_collector)
    run_id = "run_cli_" + uuid.uuid4().hex[:12]
    api(shared_collector, "POST", "/api/v1/runs/start", {
        "projectId": target.project_id, "runId": run_id, "kind": "training", "resume": "never",
        "client": {"name": "tests", "version": "0"}})
    keys = [f"k{i:04d}" for i in range(1500)] + ["system/cpu"]
    api(shared_collector, "POST", "/api/v1/ingest/metrics", {
        "projectId": target.project_id, "runId": run_id,
        "rows": [[0, int(time.time() * 1000), {key: 1.0 for key in keys}]]})
    out = tmp_path / "all.csv"
    env = {**as_admin, "RUNDIAL_WORKSPACE": target.workspace, "RUNDIAL_PROJECT": target.project}
    done = cli("metrics", "export", run_id, "--format", "csv", "--out", str(out), "--json",
               env=env).json()
    rows = list(csv.DictReader(out.open()))
    assert done["rows"] == len(rows) == 1501
    assert sorted(r["metricKey"] for r in rows) == sorted(keys)


def test_logs_tail_and_export(cli: Callable[..., CliResult], as_admin: dict[str, str],
                              shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """logs tail filters by --min-level; logs export writes every line oldest first."""
    run_id = seed_run(shared_collector, steps=1, log_lines=3)
    add_logs(shared_collector, run_id, [10], level="error")
    tail = cli("logs", "tail", run_id, "--min-level", "warn", "--json", env=as_admin).json()
    assert [r["message"] for r in tail["logs"]["rows"]] == ["line 10"]
    human = cli("logs", "tail", run_id, env=as_admin).out.splitlines()
    assert human[-1].endswith("error  line 10") and human[2].endswith("line 1")
    out = tmp_path / "l.csv"
    assert cli("logs", "export", run_id, "--format", "csv", "--out", str(out),
               env=as_admin).code == 0
    assert [r["message"] for r in csv.DictReader(out.open())] == \
        ["line 1", "line 2", "line 3", "line 10"]


def test_api_key_lifecycle_and_auth_failures(cli: Callable[..., CliResult],
                                             as_admin: dict[str, str],
                                             shared_collector: CollectorProcess) -> None:
    """key create/list/revoke; a revoked key exits 2; a key lacking a scope exits 2 (403)."""
    created = cli("auth", "key", "create", "--scope", "ingest:metrics", "--label", "ci",
                  "--json", env=as_admin).json()["result"]
    assert created["scopes"] == ["metrics:write"] and created["apiKey"].startswith("rdk_")
    listed = cli("auth", "key", "list", "--json", env=as_admin).json()
    assert created["keyId"] in [k["keyId"] for k in listed["keys"]]
    limited = {**as_admin, "RUNDIAL_API_KEY": created["apiKey"]}
    assert cli("workspace", "ls", env=limited).code == 0
    forbidden = cli("run", "list", "--json", env=limited)
    assert forbidden.code == 2 and "403" in forbidden.error()["error"]["message"]
    assert cli("auth", "key", "create", env=limited).code == 2
    assert cli("auth", "key", "revoke", created["keyId"], env=as_admin).code == 0
    assert cli("auth", "whoami", env=limited).code == 2


def test_init_logs_in_sets_the_target_and_starts_a_run(cli: Callable[..., CliResult],
                                                       shared_collector: CollectorProcess) -> None:
    """``rundial init --endpoint URL`` (flag after the command) runs all three steps, no crash."""
    result = cli("init", "--endpoint", shared_collector.url, "--api-key", shared_collector.api_key,
                 "--workspace", "test-ws", "--project", "test-proj", "--kind", "eval",
                 "--allow-plaintext-store", "--json")
    assert result.code == 0, result.err
    login, target, started = result.lines()
    assert login["authMode"] == "api_key" and "test-ws/test-proj" in target["message"]
    assert started["run"]["kind"] == "eval"
    assert cli("run", "list", "--json").code == 0  # endpoint, key and target were saved


def test_doctor(cli: Callable[..., CliResult], as_admin: dict[str, str],
                shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """doctor reports each check; a dead endpoint fails checks but exits 0 unless --strict."""
    report = cli("doctor", "--spool-dir", str(tmp_path), "--json", env=as_admin).json()
    names = [c["name"] for c in report["checks"]]
    assert names == ["health_ready", "clock_skew", "capabilities", "auth", "secret_store", "spool"]
    assert report["ok"] is True and report["endpoint"] == shared_collector.url
    dead = {**as_admin, "RUNDIAL_ENDPOINT": "http://127.0.0.1:9"}
    down = cli("doctor", "--json", env=dead)
    assert down.code == 0 and down.json()["ok"] is False
    assert cli("doctor", "--strict", env=dead).code == 1
    offline = cli("doctor", "--offline", "--json", env=dead).json()
    assert offline["ok"] is True


def test_wrong_key_exits_2_everywhere(cli: Callable[..., CliResult], as_admin: dict[str, str],
                                      seeded_run: str) -> None:
    """A rejected key exits 2 on every kind of command (rc1 crashed on some of them)."""
    env = {**as_admin, "RUNDIAL_API_KEY": "rdk_not_a_key"}
    for args in (["auth", "whoami"], ["workspace", "ls"], ["run", "start"],
                 ["run", "status", seeded_run], ["metrics", "tail", seeded_run],
                 ["logs", "tail", seeded_run], ["run", "finish", seeded_run]):
        result = cli(*args, "--json", env=env)
        assert result.code == 2, (args, result.err)
        assert result.error()["error"]["exitCode"] == 2
    doctor = cli("doctor", "--json", env=env)  # rc1 crashed here; we report the failed check
    assert doctor.code == 0
    assert [c["ok"] for c in doctor.json()["checks"] if c["name"] == "auth"] == [False]
    assert cli("doctor", "--strict", env=env).code == 2
