"""Summaries of a spool: per run and in total (runs, batches, bytes, oldest/newest, jobs).

Reads directory listings, ``run.json`` files and the artifact journal's small job files; never
opens a batch. Used by
``rundial-spool inspect`` and by ``rundial doctor``'s spool check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rundial._artifacts import ArtifactJob
from rundial_spool._layout import ARTIFACTS_DIR, BatchFile, RunDir, SpoolScan

__all__ = ["artifact_jobs", "human_bytes", "run_summary", "spool_summary"]


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
    for path in sorted((base / "journal").glob("*.json")):
        try:
            job = ArtifactJob.from_json(path.read_bytes())
        except (OSError, ValueError):
            unreadable += 1
            continue
        jobs.append({"jobId": job.job_id, "runId": job.run_id, "name": job.name,
                     "endpoint": job.endpoint, "source": job.source, "createdMs": job.created_ms})
    rejected = sum(1 for _ in (base / "rejected").glob("*.json"))
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
    quarantine = {"rejected": sum(q.folder == "rejected" for q in scan.quarantined),
                  "corrupt": sum(q.folder == "corrupt" for q in scan.quarantined)}
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
