"""``rundial evals diff BASELINE CANDIDATE`` (v1 doc §10.2, §7.6).

Resolves the target (``--workspace``/``--project``, env or profile) to its project id, asks
the collector for one page of the diff (``--limit``, default 100; ``--scorer`` to keep one
scorer) and prints it: JSON mode the published ``{"ok", "workspace", "project", "projectId",
"baselineEvalRunId", "candidateEvalRunId", "regressions", "result"}``, human mode a table and
a ``Regressions: N`` line. ``regressions`` counts the whole diff when the collector sends
``summary.regressed`` (ours does; it also lists regressions first), else the page's rows with
``regressed: true``. ``--fail-on-regression`` exits 1 when it is not zero.
"""

from __future__ import annotations

from typing import Any

from rundial.cli._common import positive, string_field
from rundial.cli._context import Context
from rundial.cli._errors import CliError
from rundial.cli._output import dict_rows
from rundial.cli._parsing import ParserKit

__all__ = ["register"]

COLUMNS = ("example_id", "scorer", "baseline", "candidate", "delta", "regressed")


def register(kit: ParserKit, commands: Any) -> None:
    """Add the ``evals`` group."""
    evals = kit.group(commands, "evals", "eval queries for CI: compare two eval runs")
    diff = kit.command(evals, "diff", "compare two eval runs (regressions first)", cmd_diff)
    diff.add_argument("baseline_eval_run_id")
    diff.add_argument("candidate_eval_run_id")
    diff.add_argument("--scorer", help="only this scorer's rows")
    diff.add_argument("--limit", type=int, default=100, help="rows to show (default 100)")
    diff.add_argument("--fail-on-regression", action="store_true",
                      help="exit 1 when any example regressed")


def regressions_of(payload: dict[str, Any], rows: list[dict[str, Any]]) -> int:
    """``summary.regressed`` when the collector sent it, else the regressed rows shown."""
    summary = payload.get("summary")
    counted = summary.get("regressed") if isinstance(summary, dict) else None
    if type(counted) is int and counted >= 0:
        return counted
    return sum(1 for row in rows if row.get("regressed") is True)


def cmd_diff(ctx: Context) -> None:
    """One page of the diff; exit 1 on a regression with ``--fail-on-regression``."""
    args = ctx.args
    positive("--limit", args.limit)
    workspace, project = ctx.target()
    client = ctx.client()
    resolved = client.post("/api/v1/runs/resolve-target",
                           {"workspace": workspace, "project": project})
    project_id = string_field(resolved, "projectId", "resolve-target")
    body: dict[str, Any] = {"projectId": project_id,
                            "baselineEvalRunId": args.baseline_eval_run_id,
                            "candidateEvalRunId": args.candidate_eval_run_id,
                            "limit": args.limit}
    if args.scorer and args.scorer.strip():
        body["scorer"] = args.scorer.strip()
    payload = client.post("/api/v1/query/evals/diff", body)
    rows = dict_rows(payload.get("rows"))
    regressions = regressions_of(payload, rows)
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "workspace": workspace, "project": project,
                         "projectId": project_id,
                         "baselineEvalRunId": args.baseline_eval_run_id,
                         "candidateEvalRunId": args.candidate_eval_run_id,
                         "regressions": regressions, "result": payload})
    else:
        ctx.output.table(f"Eval diff {args.baseline_eval_run_id} -> "
                         f"{args.candidate_eval_run_id}", COLUMNS,
                         [[row.get("exampleId"), row.get("scorer"), row.get("baselineScore"),
                           row.get("candidateScore"), row.get("delta"),
                           "yes" if row.get("regressed") is True else "no"] for row in rows])
        ctx.output.line(f"Regressions: {regressions}")
    if args.fail_on_regression and regressions:
        raise CliError(f"eval regression detected: {regressions} example(s) regressed", 1)
