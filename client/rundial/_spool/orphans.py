"""Find spooled runs whose writers are gone, so this process (or ``rundial sync``) can replay them.

A writer directory is an orphan when its ``.lock`` can be flock'ed: its owner exited or was
killed. Runs are matched on the ``endpoint`` recorded in ``run.json`` (no run file: skipped, the
data is left alone). A run that was never registered is only adopted when none of its writers is
alive (the caller's own ``skip_writer`` aside: its earlier writers are adopted at once, so they
are sent before its own data), so a live process keeps control of its own registration; a run with a live writer and
nothing to adopt is not returned (its owner finishes it). Runs marked ``blocked``
(registration refused for good) are skipped unless ``include_blocked``. A run's queues come
oldest writer first (by its oldest pending batch), the order they are sent in; a run ``refused`` under
its resume rule is skipped until ``rundial sync`` records where to send it
(:mod:`rundial._spool.send_as`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rundial import _endpoint
from rundial._spool.layout import run_dir_names, writer_dir_names
from rundial._spool.runfile import read_run_file
from rundial._spool.send_as import held_back, target_run_id
from rundial._spool.writer_queue import WriterQueue


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
    Runs and writers are listed by :mod:`rundial._spool.layout` (one ``listdir`` per run
    directory); never called per batch.
    """
    for name in run_dir_names(root, run_id):
        run = _scan_run(root / name, endpoint, skip_writer, include_blocked)
        if run is not None:
            yield run


def _scan_run(run_dir: Path, endpoint: str | None, skip_writer: str | None,
              include_blocked: bool) -> OrphanRun | None:
    info = read_run_file(run_dir)
    if info is None or (endpoint is not None and not same_endpoint(info.get("endpoint"), endpoint)):
        return None
    if (info.get("blocked") and not include_blocked) or held_back(info):
        return None
    run = OrphanRun(run_dir, info)
    for writer_name in writer_dir_names(run_dir):
        if writer_name == skip_writer:
            continue  # our own writer: we register the run ourselves, it does not hold it back
        queue = WriterQueue.adopt(run_dir / writer_name, info)
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
