"""``workspace create`` and ``project create`` over the collector's admin routes (issue 13,
CLI defects: "no way to create a workspace or project from the CLI")."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.cli.clirun import CliResult
from tests.cli.seeding import api
from tests.helpers.collector_proc import CollectorProcess


def test_create_a_workspace_and_a_project_then_log_into_it(
        cli: Callable[..., CliResult], as_admin: dict[str, str],
        shared_collector: CollectorProcess) -> None:
    slug = "ws-" + uuid.uuid4().hex[:8]
    made = cli("workspace", "create", slug, "--name", "Team A", "--json", env=as_admin)
    assert made.code == 0, made.err
    assert made.json()["workspace"]["workspaceSlug"] == slug
    project = cli("project", "create", "vision", "--workspace", slug, env=as_admin)
    assert project.code == 0, project.err
    assert project.out.strip() == f"Created project {slug}/vision at {shared_collector.url}"
    listed = cli("project", "ls", "--workspace", slug, "--json", env=as_admin).json()
    assert [p["projectSlug"] for p in listed["projects"]] == ["vision"]
    api(shared_collector, "POST", "/api/v1/runs/start",
        {"workspace": slug, "project": "vision", "runId": "run-in-new-project",
         "resume": "never", "client": {"name": "tests", "version": "0"}})


def test_an_existing_slug_is_exit_1_and_a_missing_workspace_too(
        cli: Callable[..., CliResult], as_admin: dict[str, str]) -> None:
    slug = "ws-" + uuid.uuid4().hex[:8]
    assert cli("workspace", "create", slug, env=as_admin).code == 0
    again = cli("workspace", "create", slug, env=as_admin)
    assert again.code == 1 and "HTTP 409" in again.err
    missing = cli("project", "create", "p", "--workspace", "no-such-" + slug, env=as_admin)
    assert missing.code == 1 and "HTTP 404" in missing.err


def test_a_key_without_admin_scope_is_exit_2(cli: Callable[..., CliResult],
                                             as_admin: dict[str, str]) -> None:
    key = cli("auth", "key", "create", "--scope", "metrics:write", "--json", env=as_admin)
    assert key.code == 0, key.err
    writer = {**as_admin, "RUNDIAL_API_KEY": key.json()["result"]["apiKey"]}
    refused = cli("workspace", "create", "ws-" + uuid.uuid4().hex[:8], env=writer)
    assert refused.code == 2 and "HTTP 403" in refused.err
