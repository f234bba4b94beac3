"""Summaries of a spool: per run and in total (runs, batches, bytes, oldest/newest, jobs).

Reads directory listings, ``run.json`` files and the artifact journal's small job files; never
opens a batch. Used by
``rundial-spool inspect`` and by ``rundial doctor``'s spool check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rundial._artifacts.journal import ArtifactJob
from rundial._spool.layout import (ARTIFACT_JOBS_DIR, ARTIFACT_REJECTED_DIR, ARTIFACTS_DIR,
                                   CORRUPT_DIR, REJECTED_DIR)
from rundial._spool.orphans import same_endpoint
from rundial._spool.scan import BatchFile, RunDir, SpoolScan
from rundial._spool.send_as import held_back

__all__ = ["artifact_jobs", "counts_as_pending", "describe_left_behind", "human_bytes",
           "left_behind", "run_summary", "spool_summary"]


def _span(batches: list[BatchFile]) -> dict[str, int | None]:
    times = [b.mtime for b in batches]
    return {"oldestMs": int(min(times) * 1000) if times else None,
            "newestMs": int(max(times) * 1000) if times else None}


def artifact_jobs(root: Path) -> dict[str, Any]:
    """The artifact uploader's journal: pending jobs (``journal/*.json``) and rejected ones.

    Each pending job is summarised as ``{"jobId", "runId", "name", "endpoint", "source",
    "createdMs"}``; a file that does not parse as a job is counted in ``unreadable``.
    """
    base = root / ARTIFACTS_DIR
    jobs, unreadable = [], 0
    for path in sorted((base / ARTIFACT_JOBS_DIR).glob("*.json")):
        try:
            job = ArtifactJob.from_json(path.read_bytes())
        except (OSError, ValueError):
            unreadable += 1
            continue
        jobs.append({"jobId": job.job_id, "runId": job.run_id, "name": job.name,
                     "endpoint": job.endpoint, "source": job.source, "createdMs": job.created_ms})
    rejected = sum(1 for _ in (base / ARTIFACT_REJECTED_DIR).glob("*.json"))
    return {"pending": len(jobs), "rejected": rejected, "unreadable": unreadable, "jobs": jobs}


def run_summary(run: RunDir, jobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One run: identity from ``run.json``, writers, batches, bytes, age span, artifact jobs."""
    info = run.info or {}
    batches = run.batches
    return {"runId": run.run_id, "runFile": run.info is not None,
            "endpoint": info.get("endpoint"), "projectId": info.get("projectId"),
            "workspace": info.get("workspace"), "project": info.get("project"),
            "registered": info.get("registered"), "blocked": info.get("blocked") or None,
            "finalStatus": info.get("finalStatus"),
            "writers": len(run.writers), "liveWriters": sum(w.live for w in run.writers),
            "batches": len(batches), "bytes": sum(b.size for b in batches),
            "tmpFiles": sum(len(w.tmp_files) for w in run.writers),
            "artifactJobs": sum(j["runId"] == run.run_id for j in jobs or []), **_span(batches)}


def spool_summary(scan: SpoolScan) -> dict[str, Any]:
    """The whole spool: ``runs`` (list of run summaries), ``totals`` and ``quarantine``."""
    jobs = artifact_jobs(scan.root)
    runs = [run_summary(r, jobs["jobs"]) for r in scan.runs]
    totals = {key: sum(r[key] for r in runs) for key in
              ("batches", "bytes", "liveWriters", "tmpFiles")}
    totals["artifactJobs"] = jobs["pending"]
    totals["runs"] = len(runs)
    totals.update(_span(scan.batches))
    quarantine = {"rejected": sum(q.folder == REJECTED_DIR for q in scan.quarantined),
                  "corrupt": sum(q.folder == CORRUPT_DIR for q in scan.quarantined)}
    quarantine["artifactJobsRejected"] = jobs["rejected"]
    return {"spoolDir": str(scan.root), "exists": scan.root.is_dir(), "runs": runs,
            "totals": totals, "quarantine": quarantine, "artifactJobs": jobs}


def human_bytes(size: int) -> str:
    """``1.5 MiB``-style size."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _why_left(run: RunDir, endpoint: str | None) -> tuple[str, str]:
    """``(reason, detail)`` for a run whose batches are still in the spool."""
    info = run.info
    if info is None:
        return "no-run-file", "no run.json: nobody can register this run (see rundial-spool inspect)"
    if endpoint is not None and not same_endpoint(info.get("endpoint"), endpoint):
        return "other-endpoint", f"recorded for {info.get('endpoint')} (pass --endpoint to sync it)"
    if held_back(info):
        return "refused", (f"registration refused: {info.get('blocked')}; not sent into the existing "
                           f"run unless `rundial sync --run {run.run_id} --into-existing`, or sent as "
                           "a new run with `--as-new-run`")
    if info.get("blocked"):
        return "blocked", f"registration failed: {info['blocked']}"
    if any(w.live for w in run.writers):
        return "live", "a live process is still writing it"
    return "pending", "not uploaded yet (collector unreachable, or not synced yet)"


def left_behind(scan: SpoolScan, endpoint: str | None) -> list[dict[str, Any]]:
    """Every run with batches still in the spool, with why: the one count of pending data
    shared by ``rundial sync`` (its exit code) and ``rundial doctor``.

    Each item: ``{"runId", "endpoint", "batches", "bytes", "reason", "detail"}``; reasons are
    ``pending``, ``live``, ``blocked``, ``refused``, ``other-endpoint`` and ``no-run-file``
    (``endpoint`` None: no run counts as ``other-endpoint``).
    """
    out = []
    for run in scan.runs:
        batches = run.batches
        if not batches:
            continue
        reason, detail = _why_left(run, endpoint)
        out.append({"runId": run.run_id, "endpoint": (run.info or {}).get("endpoint"),
                    "batches": len(batches), "bytes": sum(b.size for b in batches),
                    "reason": reason, "detail": detail})
    return out


def counts_as_pending(item: dict[str, Any]) -> bool:
    """Left behind for this endpoint by no live process: what ``sync`` reports as pending."""
    return item["reason"] not in ("live", "other-endpoint")


def describe_left_behind(items: list[dict[str, Any]]) -> str:
    """One human line naming every pending run and why (empty when nothing is pending)."""
    pending = [i for i in items if counts_as_pending(i)]
    return "; ".join(f"run {i['runId']}: {i['batches']} batches, {i['detail']}" for i in pending)
