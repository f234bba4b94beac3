"""``rundial workspace ls|create``, ``project ls|create``, ``target ls|use`` and ``config show``.

``workspace create SLUG`` and ``project create SLUG`` (in ``--workspace``) use the collector's
admin routes (``POST /api/v1/workspaces``, ``POST /api/v1/workspaces/{ws}/projects``): they
need an admin key; an existing slug is exit 1 (HTTP 409), a refused key exit 2.
"""

from __future__ import annotations

import sys
from typing import Any

from rundial.cli._common import list_all
from rundial.cli._context import Context
from rundial.cli._errors import CliError
from rundial.cli._http import ApiClient, seg
from rundial.cli._parsing import ParserKit

__all__ = ["register", "set_target"]


def register(kit: ParserKit, commands: Any) -> None:
    """Add the ``workspace``, ``project``, ``target`` and ``config`` groups."""
    workspace = kit.group(commands, "workspace", "workspaces")
    kit.command(workspace, "ls", "list the workspaces you can access", cmd_workspace_ls)
    _add_create(kit, workspace, "workspace", cmd_workspace_create)
    project = kit.group(commands, "project", "projects")
    kit.command(project, "ls", "list the projects of a workspace", cmd_project_ls)
    _add_create(kit, project, "project", cmd_project_create)
    target = kit.group(commands, "target", "the default workspace/project")
    kit.command(target, "ls", "list accessible workspace/project targets", cmd_target_ls)
    kit.command(target, "use", "save the default workspace/project", cmd_target_use)
    config = kit.group(commands, "config", "the CLI's configuration")
    show = kit.command(config, "show", "show the resolved configuration (no secrets)",
                       cmd_config_show)
    show.add_argument("--all", action="store_true", dest="all_profiles")


def _add_create(kit: ParserKit, group: Any, what: str, handler: Any) -> None:
    where = " in --workspace" if what == "project" else ""
    create = kit.command(group, "create", f"create a {what}{where} (needs an admin key)",
                         handler)
    create.add_argument("slug", help="[a-z0-9][a-z0-9_-]{0,62}, unique")
    create.add_argument("--name", help="display name (default: the slug)")


def cmd_workspace_create(ctx: Context) -> None:
    """Create a workspace (global admin key)."""
    payload = ctx.client().post("/api/v1/workspaces",
                                {"slug": ctx.args.slug, "name": ctx.args.name or ctx.args.slug})
    ctx.output.result({"ok": True, "workspace": payload},
                      f"Created workspace {ctx.args.slug} at {ctx.endpoint()}")


def cmd_project_create(ctx: Context) -> None:
    """Create a project in the resolved workspace (admin on that workspace)."""
    workspace = str(ctx.workspace())
    payload = ctx.client().post(f"/api/v1/workspaces/{seg(workspace)}/projects",
                                {"slug": ctx.args.slug, "name": ctx.args.name or ctx.args.slug})
    ctx.output.result({"ok": True, "workspace": workspace, "project": payload},
                      f"Created project {workspace}/{ctx.args.slug} at {ctx.endpoint()}")


def _workspaces(client: ApiClient) -> list[dict[str, Any]]:
    return list_all(client, "/api/v1/workspaces", "workspaces")


def _projects(client: ApiClient, workspace: str) -> list[dict[str, Any]]:
    return list_all(client, f"/api/v1/workspaces/{seg(workspace)}/projects", "projects")


def cmd_workspace_ls(ctx: Context) -> None:
    """List accessible workspaces."""
    workspaces = _workspaces(ctx.client())
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "workspaces": workspaces})
        return
    ctx.output.table("Accessible Workspaces", ["workspace", "name", "role"],
                     [[w.get("workspaceSlug"), w.get("name"), w.get("role")] for w in workspaces])


def cmd_project_ls(ctx: Context) -> None:
    """List the projects of the resolved workspace."""
    workspace = str(ctx.workspace())
    projects = _projects(ctx.client(), workspace)
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "workspace": workspace, "projects": projects})
        return
    ctx.output.table(f"Projects for {workspace}", ["project", "name", "runs"],
                     [[p.get("projectSlug"), p.get("name"), p.get("runCount") or 0]
                      for p in projects])


def cmd_target_ls(ctx: Context) -> None:
    """Every (workspace, project) pair, or one workspace's projects with ``--workspace``."""
    client = ctx.client()
    chosen = ctx.flag("workspace")
    if chosen:
        projects = _projects(client, chosen)
        if ctx.output.json_mode:
            ctx.output.json({"ok": True, "workspace": chosen, "projects": projects})
        else:
            ctx.output.table("Accessible Projects", ["workspace", "project", "name"],
                             [[chosen, p.get("projectSlug"), p.get("name")] for p in projects])
        return
    workspaces = _workspaces(client)
    targets = [[w["workspaceSlug"], p.get("projectSlug") or "", p.get("name") or ""]
               for w in workspaces if isinstance(w.get("workspaceSlug"), str)
               for p in _projects(client, w["workspaceSlug"])]
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "workspaces": workspaces, "targets": targets})
        return
    ctx.output.table("Accessible Projects", ["workspace", "project", "name"], targets)


def set_target(ctx: Context, workspace: str, project: str) -> str:
    """Save the target (and endpoint) into the profile; returns the confirmation message."""
    ctx.remember(workspace=workspace, project=project, endpoint=ctx.endpoint())
    return f"Default target set to {workspace}/{project} for profile {ctx.profile_name}"


def cmd_target_use(ctx: Context) -> None:
    """Save ``--workspace``/``--project``; prompts for a missing one on a terminal."""
    workspace = ctx.flag("workspace") or _choose(ctx, "Workspace", lambda c: [
        w.get("workspaceSlug") for w in _workspaces(c)])
    project = ctx.flag("project") or _choose(ctx, "Project", lambda c: [
        p.get("projectSlug") for p in _projects(c, workspace)])
    ctx.output.message(set_target(ctx, workspace, project))


def _choose(ctx: Context, what: str, choices_of: Any) -> str:
    if ctx.flag("non_interactive") or not sys.stdin.isatty():
        raise CliError(f"--{what.lower()} is required (no terminal to prompt on)")
    choices = [c for c in choices_of(ctx.client()) if isinstance(c, str) and c]
    if not choices:
        raise CliError(f"no accessible {what.lower()}s found")
    return input(f"{what} slug {choices} [{choices[0]}]: ").strip() or choices[0]


def cmd_config_show(ctx: Context) -> None:
    """The active profile and the resolved endpoint/target/format; never a secret. Human mode
    prints aligned tables, JSON mode the published documents."""
    if ctx.flag("all_profiles"):
        profiles = {n: p.public() for n, p in sorted(ctx.config.profiles.items())}
        payload = {"ok": True, "config": {"activeProfile": ctx.config.active_profile,
                                          "path": str(ctx.config.path), "profiles": profiles}}
        if ctx.output.json_mode:
            ctx.output.json(payload)
            return
        ctx.output.table(f"Profiles in {ctx.config.path}",
                         ["profile", "active", "endpoint", "workspace", "project", "auth",
                          "stored_key"],
                         [[n, "yes" if n == ctx.config.active_profile else "", p["endpoint"],
                           p["workspace"], p["project"], p["authMode"],
                           "yes" if p["hasStoredApiKey"] else ""] for n, p in profiles.items()])
        return
    api_key, session = ctx.credentials()
    resolved = {"endpoint": ctx.endpoint(), "workspace": ctx.workspace(False),
                "project": ctx.project(False), "format": "json" if ctx.output.json_mode else "human",
                "authenticated": bool(api_key or session), "configPath": str(ctx.config.path)}
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "profile": ctx.profile.public(), "resolved": resolved})
        return
    profile = ctx.profile
    ctx.output.table(f"Configuration (profile {profile.name})", ["field", "value"], [
        ["endpoint", resolved["endpoint"]], ["workspace", resolved["workspace"] or "(not set)"],
        ["project", resolved["project"] or "(not set)"],
        ["credentials", "yes" if resolved["authenticated"] else "none for this endpoint"],
        ["auth_mode", profile.auth_mode], ["default_format", profile.default_format],
        ["config_file", resolved["configPath"]], ["updated_at_ms", profile.updated_at_ms]])
