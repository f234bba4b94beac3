"""Upload a spool: ``rundial sync`` and ``rundial-spool replay`` (one implementation).

Each pass: (1) :func:`prune_delivered` drops files a live pass already delivered, (2) the SDK's
:func:`rundial.replay_spool` uploads every idle writer's batches run by run (register, send FIFO
with the stored batch id as Idempotency-Key, delete after 2xx, send the recorded final status),
(3) the SDK's :func:`rundial._artifacts.uploader.resume_journal` resumes journaled artifact jobs of
dead processes (up to ``--artifact-timeout-seconds``), (4) with ``--watch``, :class:`LiveUploader`
sends live writers' batches too. Artifact jobs still pending are reported, not counted in the
exit code (a live process may own them). Running it twice uploads nothing twice: delivered
files are gone, and a re-sent batch is answered ``duplicate``.

Before touching the spool the credentials are checked (``whoami``): a bad key exits 2 without
moving any file to ``rejected/``. Exit codes: 0 everything for this endpoint is uploaded (live
writers aside); 1 batches left in the spool for this endpoint (collector unreachable,
registration failed, or refused under the run's resume rule — each run named with its reason,
:func:`rundial.cli._spool_report.left_behind`), rejected or corrupt; 2 an
authentication/authorisation failure. ``--dry-run`` only reads the spool. A run refused under its
resume rule is sent only with ``--into-existing`` or ``--as-new-run``
(:mod:`rundial._spool.send_as`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rundial import replay_spool
from rundial._artifacts.uploader import resume_journal
from rundial._config import default_spool_directory
from rundial._http.transport import HttpTransport
from rundial._run.init import mint_run_id
from rundial._spool.orphans import same_endpoint
from rundial._spool.runfile import update_run_file
from rundial._spool.scan import scan
from rundial._spool.send_as import INTO_EXISTING, SEND_AS, held_back
from rundial.cli._context import Context
from rundial.cli._errors import EXIT_AUTH, EXIT_ERROR, CliError
from rundial.cli._http import ApiClient
from rundial.cli._output import Output
from rundial.cli._progress import Progress
from rundial.cli._spool_report import (artifact_jobs, counts_as_pending, describe_left_behind,
                                       left_behind, run_summary)
from rundial.cli._sync_live import LiveUploader, prune_delivered

__all__ = ["replay_command", "run_sync", "sync_command"]

ARTIFACT_TIMEOUT_S = 300.0  # how long one pass may spend resuming journaled artifact uploads


def _runs_for(root: Path, endpoint: str, run_id: str | None) -> tuple[list[dict[str, Any]],
                                                                       list[dict[str, Any]]]:
    """Run summaries recorded for ``endpoint``, and those recorded for other endpoints.

    A run directory without ``run.json`` is in neither list: nobody can register it, so the SDK
    leaves it alone (``rundial-spool inspect`` shows it).
    """
    mine: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for run in scan(root, run_id).runs:
        if run.info is None:
            continue
        summary = run_summary(run)
        (mine if same_endpoint(summary["endpoint"], endpoint) else other).append(summary)
    return mine, other


def _pass(ctx: Context, root: Path, run_id: str | None, live: LiveUploader | None,
          totals: dict[str, Any]) -> None:
    """One upload pass; adds to ``totals`` (sent, rejected, corrupt, pending, lastError)."""
    prune_delivered(root)
    client = ctx.client()
    runs, _ = _runs_for(root, client.endpoint, run_id)
    totals["pending"] = 0
    with Progress("sync", total=sum(r["batches"] for r in runs), unit="batches",
                  enabled=not (ctx.output.json_mode or ctx.output.quiet)) as bar:
        for run in runs:
            result = replay_spool(root, endpoint=client.endpoint, api_key=client.api_key,
                                  run_id=run["runId"], timeout_s=0, include_blocked=True,
                                  request_timeout_seconds=client.timeout)
            totals["uploaded"] += result.batches_sent
            totals["rejected"] += result.batches_rejected
            totals["corrupt"] += result.batches_corrupt
            totals["pending"] += result.batches_pending
            totals["lastError"] = result.last_error or totals["lastError"]
            bar.advance(run["batches"])
    _artifacts(ctx, root, client, totals)
    if live is not None:
        before = live.sent
        if not live.upload(run_id):
            totals["lastError"] = live.last_error
        totals["liveUploaded"] += live.sent - before


def _artifacts(ctx: Context, root: Path, client: ApiClient, totals: dict[str, Any]) -> None:
    """Resume journaled artifact jobs of dead processes for this endpoint (SDK's own uploader)."""
    def pending() -> int:
        return sum(same_endpoint(j["endpoint"], client.endpoint)
                   for j in artifact_jobs(root)["jobs"])

    if pending():
        timeout = float(ctx.flag("artifact_timeout_seconds", ARTIFACT_TIMEOUT_S))
        totals["artifactJobsUploaded"] += resume_journal(root, client.endpoint, client.api_key,
                                                         timeout_s=timeout)
    totals["artifactJobsPending"] = pending()


def _report(ctx: Context, root: Path, run_id: str | None,
            totals: dict[str, Any]) -> dict[str, Any]:
    """The result document. ``pending`` and ``leftBehind`` come from the spool on disk after
    the pass (:func:`rundial.cli._spool_report.left_behind`, the count ``doctor`` shows too)."""
    endpoint = ctx.endpoint()
    runs, other = _runs_for(root, endpoint, run_id)
    left = [item for item in left_behind(scan(root, run_id), endpoint) if counts_as_pending(item)]
    pending = sum(item["batches"] for item in left)
    return {"ok": not (pending or totals["rejected"] or totals["corrupt"]),
            "spoolDir": str(root), "endpoint": endpoint, "dryRun": False,
            **{**totals, "pending": pending}, "leftBehind": left,
            "liveWriters": sum(r["liveWriters"] for r in runs),
            "otherEndpointRuns": _elsewhere(other)}


def _release_refused(root: Path, endpoint: str, run_id: str | None,
                     how: str | None) -> list[dict[str, str]]:
    """Record where refused runs go, as the user asked (``into-existing`` or ``as-new-run``).

    Only runs with no live writer are changed. Returns ``[{"runId", "newRunId"}]`` for the runs
    re-addressed to a new run id (kept in ``run.json``, so a retried sync reuses it)."""
    moved: list[dict[str, str]] = []
    if how is None:
        return moved
    for run in scan(root, run_id).runs:
        info = run.info
        if (info is None or not same_endpoint(info.get("endpoint"), endpoint)
                or not held_back(info) or any(w.live for w in run.writers)):
            continue
        if how == "into-existing":
            update_run_file(run.path, **{INTO_EXISTING: True})
        else:
            new_id = mint_run_id()
            update_run_file(run.path, **{SEND_AS: new_id})
            moved.append({"runId": run.run_id, "newRunId": new_id})
    return moved


def _human(result: dict[str, Any]) -> str:
    text = (f"uploaded {result['uploaded']} batches ({result['liveUploaded']} from live writers); "
            f"{result['pending']} pending, {result['rejected']} rejected, "
            f"{result['corrupt']} corrupt, {result['liveWriters']} live writers; artifact jobs: "
            f"{result['artifactJobsUploaded']} uploaded, {result['artifactJobsPending']} pending")
    if result.get("sentAsNewRuns"):
        text += "; sent as new runs: " + ", ".join(f"{m['runId']} -> {m['newRunId']}"
                                                   for m in result["sentAsNewRuns"])
    if result["leftBehind"]:
        text += "; left in the spool: " + describe_left_behind(result["leftBehind"])
    if result["otherEndpointRuns"]:
        text += (f"; {len(result['otherEndpointRuns'])} runs belong to other endpoints "
                 "(pass --endpoint to sync them)")
    return text


def _elsewhere(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"runId": r["runId"], "endpoint": r["endpoint"]} for r in runs]


def _dry_run(ctx: Context, root: Path, run_id: str | None) -> None:
    runs, other = _runs_for(root, ctx.endpoint(), run_id)
    result = {"ok": True, "dryRun": True, "spoolDir": str(root), "endpoint": ctx.endpoint(),
              "runs": runs, "batches": sum(r["batches"] for r in runs),
              "bytes": sum(r["bytes"] for r in runs), "otherEndpointRuns": _elsewhere(other)}
    ctx.output.result(result, f"would upload {result['batches']} batches "
                              f"({result['bytes']} bytes) of {len(runs)} runs to "
                              f"{ctx.endpoint()}; nothing was sent")


def run_sync(ctx: Context, root: Path, run_id: str | None, watch: bool, interval: float,
             dry_run: bool, refused: str | None = None) -> None:
    """Sync once (or until Ctrl-C with ``watch``); raises CliError for a non-zero exit.

    ``refused`` (``"into-existing"`` / ``"as-new-run"``) releases runs whose registration was
    refused under their resume rule; without it their data stays and is reported as refused."""
    if dry_run:
        _dry_run(ctx, root, run_id)
        return
    client = ctx.client()
    client.get("/api/v1/auth/whoami")  # a bad key exits 2 here, before any file moves
    totals: dict[str, Any] = {"uploaded": 0, "liveUploaded": 0, "rejected": 0, "corrupt": 0,
                              "pending": 0, "artifactJobsUploaded": 0, "artifactJobsPending": 0,
                              "lastError": None}
    live = LiveUploader(root, client.endpoint, client.api_key,
                        HttpTransport(client.endpoint, client.timeout), client.timeout) \
        if watch else None
    moved = _release_refused(root, client.endpoint, run_id, refused)
    try:
        shown = None
        while True:
            _pass(ctx, root, run_id, live, totals)
            if not watch:
                break
            snapshot = tuple(totals.values())
            if snapshot != shown:
                shown = snapshot
                report = _report(ctx, root, run_id, totals)
                ctx.output.result(report, _human(report))
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        if live is not None:
            live.transport.close()
    result = {**_report(ctx, root, run_id, totals), "sentAsNewRuns": moved}
    ctx.output.result(result, _human(result))
    _raise_for(result)


def _raise_for(result: dict[str, Any]) -> None:
    error = result["lastError"] or ""
    if result["rejected"] or result["corrupt"]:
        auth = "HTTP 401" in error or "HTTP 403" in error
        raise CliError(f"{result['rejected']} batches rejected, {result['corrupt']} corrupt "
                       f"(see `rundial-spool quarantine ls`): {error}",
                       EXIT_AUTH if auth else EXIT_ERROR)
    if result["pending"]:
        raise CliError(f"{result['pending']} batches left in the spool: "
                       f"{describe_left_behind(result['leftBehind'])}")


def sync_command(ctx: Context) -> None:
    """``rundial sync [SPOOL_DIR]``."""
    args = ctx.args
    root = Path(args.spool_dir_positional or args.spool_dir or default_spool_directory())
    if args.interval_seconds <= 0:
        raise CliError("--interval-seconds must be positive")
    run_sync(ctx, root.expanduser(), args.run, args.watch, args.interval_seconds, args.dry_run,
             _refused_choice(args))


def replay_command(args: argparse.Namespace, root: Path, output: Output) -> int:
    """``rundial-spool replay --endpoint URL``: the same upload, credentials as ``rundial``."""
    ctx = Context(argparse.Namespace(endpoint=args.endpoint, api_key=args.api_key), output)
    run_sync(ctx, root, args.run, False, 1.0, args.dry_run, _refused_choice(args))
    return 0


def _refused_choice(args: argparse.Namespace) -> str | None:
    """``"as-new-run"``, ``"into-existing"`` or None from the two exclusive flags."""
    if getattr(args, "as_new_run", False) and getattr(args, "into_existing", False):
        raise CliError("--as-new-run and --into-existing exclude each other")
    if getattr(args, "as_new_run", False):
        return "as-new-run"
    return "into-existing" if getattr(args, "into_existing", False) else None
