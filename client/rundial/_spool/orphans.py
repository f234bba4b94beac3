"""Find spooled runs whose writers are gone, so this process (or ``rundial sync``) can replay them.

A writer directory is an orphan when its ``.lock`` can be flock'ed: its owner exited or was
killed. Runs are matched on the ``endpoint`` recorded in ``run.json`` (no run file: skipped, the
data is left alone). A run that was never registered is only adopted when none of its writers is
alive (the caller's own ``skip_writer`` aside: its earlier writers are adopted at once, so they
are sent before its own data), so a live process keeps control of its own registration; a run with a live writer and
nothing to adopt is not returned (its owner finishes it). Runs marked ``blocked``
(registration refused for good) are skipped unless ``include_blocked``. A run's queues come
oldest writer first (by its oldest pending batch), the order they are sent in; a run ``refused`` under
its resume rule is skipped until ``rundial sync`` records where to send it (:mod:`rundial._spool.send_as`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rundial import _endpoint
from rundial._spool.disk import CORRUPT_DIR, REJECTED_DIR
from rundial._spool.runfile import read_run_file
from rundial._spool.send_as import held_back, target_run_id
from rundial._spool.writer_queue import WriterQueue

SKIPPED_DIRS = frozenset({REJECTED_DIR, CORRUPT_DIR})


@dataclass(slots=True)
class OrphanRun:
    """One spooled run: its directory, run file, and the writer queues we now hold locks on."""

    run_dir: Path
    info: dict[str, Any]
    queues: list[WriterQueue] = field(default_factory=list)
    live_writers: int = 0

    @property
    def run_id(self) -> str:
        return str(self.info.get("runId") or self.run_dir.name)

    @property
    def target_id(self) -> str:
        """The run id its data is sent to (``sendAsRunId`` after ``rundial sync --as-new-run``)."""
        return target_run_id(self.info, self.run_dir.name)


def same_endpoint(a: str | None, b: str | None) -> bool:
    """Endpoints compare as :func:`rundial._endpoint.same_endpoint` does (normal form,
    loopback spellings as one server); two missing ones are equal."""
    if not a or not b:
        return not a and not b
    return _endpoint.same_endpoint(a, b)


def scan(root: Path, endpoint: str | None, *, skip_writer: str | None = None,
         include_blocked: bool = False, run_id: str | None = None) -> Iterator[OrphanRun]:
    """Yield orphan runs under ``root`` for ``endpoint`` (None: any endpoint), locks acquired.

    The caller owns the yielded queues (release their locks with ``WriterQueue.close``).
    One ``listdir`` per run directory; never called per batch.
    """
    try:
        run_names = sorted(os.listdir(root))
    except OSError:
        return
    for name in run_names:
        if name in SKIPPED_DIRS or name.startswith(".") or (run_id is not None and name != run_id):
            continue
        run = _scan_run(root / name, endpoint, skip_writer, include_blocked)
        if run is not None:
            yield run


def _scan_run(run_dir: Path, endpoint: str | None, skip_writer: str | None,
              include_blocked: bool) -> OrphanRun | None:
    if not run_dir.is_dir():
        return None
    info = read_run_file(run_dir)
    if info is None or (endpoint is not None and not same_endpoint(info.get("endpoint"), endpoint)):
        return None
    if (info.get("blocked") and not include_blocked) or held_back(info):
        return None
    run = OrphanRun(run_dir, info)
    for writer_dir in _writer_dirs(run_dir):
        if writer_dir.name == skip_writer:
            continue  # our own writer: we register the run ourselves, it does not hold it back
        queue = WriterQueue.adopt(writer_dir, info)
        if queue is None:
            run.live_writers += 1
        else:
            run.queues.append(queue)
    run.queues.sort(key=_writer_age)
    if run.live_writers and (not run.queues or not info.get("registered")):
        for queue in run.queues:
            queue.close(remove_if_empty=False)
        return None
    return run


def _writer_age(queue: WriterQueue) -> float:
    """When a writer wrote its oldest pending batch: older writers of a run are sent first, so
    a newer writer's values at the same steps are the ones the server keeps."""
    return min((e.created_s for e in queue.entries), default=float("inf"))


def _writer_dirs(run_dir: Path) -> list[Path]:
    try:
        names = sorted(os.listdir(run_dir))
    except OSError:
        return []
    return [run_dir / n for n in names if not n.startswith(".") and (run_dir / n).is_dir()]
