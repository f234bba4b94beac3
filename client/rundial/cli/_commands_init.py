"""``rundial init``: log in, optionally save a target, optionally start a first run.

Unlike the published CLI (which crashes after storing credentials when the run start is not
skipped), every step reports its result; JSON mode prints one line per step.
"""

from __future__ import annotations

from typing import Any

from rundial.cli._commands_auth import login_with_key
from rundial.cli._commands_runs import add_start_flags, start_run
from rundial.cli._commands_target import set_target
from rundial.cli._context import Context
from rundial.cli._parsing import ParserKit

__all__ = ["register"]


def register(kit: ParserKit, commands: Any) -> None:
    """Add ``init``."""
    init = kit.command(commands, "init", "first-run setup: log in, set the target, start a run",
                       cmd_init)
    add_start_flags(init, name_default="first-run")
    init.add_argument("--skip-run-start", action="store_true")


def cmd_init(ctx: Context) -> None:
    """Login with ``--api-key``/env, the key ``auth login`` saved for this endpoint, or a
    prompt; ``target use``; ``run start`` unless skipped."""
    login = login_with_key(ctx, use_stored=True)
    ctx.output.result(login, f"Logged in to {login['endpoint']}")
    workspace, project = ctx.workspace(required=False), ctx.project(required=False)
    if workspace and project:
        ctx.output.message(set_target(ctx, workspace, project))
    if not ctx.args.skip_run_start:
        result = start_run(ctx)
        ctx.output.result(result, f"Started run {result['run']['runId']}")
