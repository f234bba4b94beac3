"""``rd.init``: resolve settings, pick the run class once, mint the run id locally.

``init`` never waits for the network: the worker registers the run in the background. It raises
only for programming errors (unknown option, invalid value, no project) — never for an
unreachable or refusing collector.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rundial._config import Settings, build_settings, check_run_id
from rundial._published import required
from rundial._run import signals
from rundial._run.noop import NoopRun
from rundial._pipeline.client_info import host_info
from rundial._run.rank import detect_rank, rank_is_set, shared_run_id
from rundial._run.run import Run
from rundial._run.runconfig import flatten_config
from rundial._warn import warn_user


_current: Run | NoopRun | None = None  # the run rd.checkpoint() targets: the latest init()


def mint_run_id() -> str:
    """A new run id in the collector's ``run_<32 hex>`` shape."""
    return "run_" + uuid.uuid4().hex


def init(*, project: str | None = None, workspace: str | None = None, name: str | None = None,
         endpoint: str | None = None, run_id: str | None = None, kind: str | None = None,
         resume: str | None = None, group: str | None = None, job_type: str | None = None,
         tags: Sequence[str] | None = None, config: Mapping[str, Any] | None = None,
         mode: str | None = None, distributed: str | None = None,
         distributed_rank: int | None = None, api_key: str | None = None,
         **options: Any) -> Run | NoopRun:
    """Start a run and return it (see ``docs/sdk.md`` for every parameter and option).

    Arguments win over ``RUNDIAL_*`` environment variables, which win over the active profile of
    ``~/.config/rundial/config.toml``. ``mode="disabled"`` and, under ``distributed="rank0"``,
    every rank but 0 get a :class:`NoopRun` with the same API that does nothing. A logging
    run installs the SIGTERM handler (``handle_sigterm``) and the uncaught-exception hook of
    ``_run.signals`` (main thread only).
    """
    global _current
    settings = build_settings({
        "project": project, "workspace": workspace, "name": name, "endpoint": endpoint,
        "run_id": run_id, "kind": kind, "resume": resume, "group": group, "job_type": job_type,
        "tags": tags, "config": config, "mode": mode, "distributed": distributed,
        "distributed_rank": distributed_rank, "api_key": api_key, **options})
    rank = settings.distributed_rank if settings.distributed_rank is not None else detect_rank()
    run_id, minted = _choose_run_id(settings, rank)
    if settings.mode == "disabled" or (settings.distributed == "rank0" and rank != 0):
        state = "disabled" if settings.mode == "disabled" else "non_logging_rank"
        _current = NoopRun(run_id, state=state, name=settings.name, project=settings.project,
                           workspace=settings.workspace, mode=settings.mode, rank=rank,
                           config=settings.config, kind=settings.kind)
        return _current
    doc = run_document(settings, run_id, "allow" if minted else settings.resume)
    known = (settings.distributed == "all" or settings.distributed_rank is not None
             or rank_is_set())
    doc["client"] = host_info(rank if known else None, settings.distributed)
    header = batch_header(settings, run_id, rank)
    registering = settings.distributed == "rank0" or rank == 0
    if settings.handle_sigterm:
        signals.install_sigterm()
    signals.install_excepthook()
    _current = Run(settings, doc, header, rank=rank, registering=registering,
                   transport=options.get("transport"))
    return _current


def checkpoint(model_path: str | Path | None = None, step: int | None = None,
               name: str = "checkpoint", metadata: Mapping[str, Any] | None = None,
               keep_last: int | None = 5, *, path: str | Path | None = None) -> bool:
    """``run.checkpoint(...)`` on the run most recently returned by :func:`init`.

    Returns at once (the upload runs on the artifact worker). Raises ``RuntimeError`` when no
    run was started in this process, ``ValueError`` when ``model_path`` does not exist, and
    ``TypeError`` when both or neither of ``model_path`` and its alias ``path`` are given.
    """
    target = required("checkpoint", "model_path", model_path, "path", path)
    if _current is None:
        raise RuntimeError("no active rundial run; call rd.init(...) before rd.checkpoint(...)")
    return _current.checkpoint(target, step=step, name=name, metadata=metadata,
                               keep_last=keep_last)


def _choose_run_id(settings: Settings, rank: int) -> tuple[str, bool]:
    """``(run_id, minted_by_us)``; under ``distributed="all"`` ranks share a derived id."""
    if settings.run_id:
        return settings.run_id, False
    if settings.distributed == "all":
        shared = shared_run_id()
        if shared:
            check_run_id(shared, "RUNDIAL_RUN_ID")
            return shared, True
        warn_user("rundial: distributed='all' without run_id= (or RUNDIAL_RUN_ID, or a launcher "
                  "job id): each rank creates its own run")
    return mint_run_id(), True


def run_document(settings: Settings, run_id: str, resume: str,
                 started_at_ms: int | None = None) -> dict[str, Any]:
    """The run's registration data, as stored in ``run.json`` (never the API key).

    It records when the run started (``startedAtMs``, default now: a run registered later, by
    a retry or ``rundial sync``, keeps its real start) and a fresh ``startToken`` that lets the
    collector recognise a repeat of this run's own start (docs/protocol.md §4.5).
    """
    target: dict[str, Any] = ({"workspace": settings.workspace, "project": settings.project}
                              if settings.workspace else {"projectId": settings.project,
                                                          "project": settings.project})
    config, _cuts = flatten_config(settings.config, warn=False, where="rd.init()")
    return {"endpoint": settings.endpoint, "runId": run_id, **target, "kind": settings.kind,
            "runName": settings.name, "group": settings.group, "jobType": settings.job_type,
            "tags": list(settings.tags), "config": config,
            "resume": resume, "registered": False,
            "startedAtMs": time.time_ns() // 1_000_000 if started_at_ms is None else started_at_ms,
            "startToken": "st_" + uuid.uuid4().hex}


def batch_header(settings: Settings, run_id: str, rank: int) -> dict[str, Any]:
    """Target fields every ingest body of this run carries (``rank`` only under ``"all"``)."""
    header: dict[str, Any] = ({"workspace": settings.workspace, "project": settings.project}
                              if settings.workspace else {"projectId": settings.project})
    header["runId"] = run_id
    if settings.distributed == "all":
        header["rank"] = rank
    return header
