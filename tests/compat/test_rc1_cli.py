"""The published rundial 1.0.0rc1 CLI, from its own venv, reads our collector with ``--json``.

Each command must exit 0 and print the published JSON shape (protocol doc §10.4). rc1 takes
global flags only before the sub-command and reads credentials from ``RUNDIAL_API_KEY``; HOME
points at a temp dir because it rewrites ``~/.config/rundial/config.toml`` on every run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.seeding import seed_run
from tests.compat.conftest import run_rc1
from tests.helpers.collector_proc import CollectorProcess

pytestmark = pytest.mark.compat

RC1_CLI = "import sys; from rundial.cli.app import main; sys.exit(main(sys.argv[1:]))"


def rc1_cli(python: Path, collector: CollectorProcess, cwd: Path, *args: str) -> dict:
    """Run ``rundial --json <args>`` with rc1; assert exit 0 and return the JSON document."""
    env = {"RUNDIAL_ENDPOINT": collector.url, "RUNDIAL_API_KEY": collector.api_key,
           "RUNDIAL_WORKSPACE": collector.workspace, "RUNDIAL_PROJECT": collector.project}
    script = f"import sys; sys.argv = ['rundial', *{list(args)!r}]\n" + RC1_CLI
    proc = run_rc1(python, script, env, cwd, timeout_seconds=60)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr[-2000:])
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, (args, proc.stdout)
    return json.loads(lines[0])


def test_rc1_cli_reads_our_collector(rc1_python: Path, shared_collector: CollectorProcess,
                                     tmp_path: Path) -> None:
    """whoami, workspace/project ls, run list/status, metrics/logs tail: exit 0, published shapes."""
    run_id = seed_run(shared_collector, steps=5, log_lines=3, name="rc1-cli")

    def call(*args: str) -> dict:
        return rc1_cli(rc1_python, shared_collector, tmp_path, "--json", *args)

    who = call("auth", "whoami")
    assert who["ok"] is True and who["whoami"]["principal"] == "api_key"
    assert "test-ws" in [w["workspaceSlug"] for w in call("workspace", "ls")["workspaces"]]
    assert "test-proj" in [p["projectSlug"] for p in call("project", "ls")["projects"]]
    assert run_id in [r["runId"] for r in call("run", "list", "--limit", "100")["result"]["runs"]]
    status = call("run", "status", run_id)["run"]
    assert status["runId"] == run_id and status["status"] == "running"
    series = call("metrics", "tail", run_id, "--points", "2")["series"]["series"]
    assert {s["metricKey"]: [p["step"] for p in s["points"]] for s in series} == \
        {"loss": [3, 4], "acc": [3, 4]}
    logs = call("logs", "tail", run_id)["logs"]["rows"]
    assert [row["message"] for row in logs] == ["line 3", "line 2", "line 1"]
