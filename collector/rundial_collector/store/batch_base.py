"""Batched reads for the web UI (docs/protocol.md §8): what a page would otherwise ask run by
run (each run's metric keys, each run's details) in one store call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rundial_collector.store.control_base import Run


@dataclass(frozen=True)
class RunKeys:
    """Metric keys of one run, from ``offset`` on, in ``metrics/keys`` order (user keys, then
    ``system/`` keys, each alphabetically). ``known`` False: the run has no runs row and no
    stored data in the project (``keys`` is then empty). ``complete``: no key follows."""

    run_id: str
    known: bool
    offset: int
    keys: tuple[str, ...]
    complete: bool


class BatchReadStore(Protocol):
    """Reads that answer for many runs at once."""

    async def keys_of_runs(self, project_id: str, run_ids: list[str], first_offset: int,
                           budget: int) -> list[RunKeys]:
        """The keys of ``run_ids`` in that order, at most ``budget`` keys in all: the first run
        from ``first_offset``, the others from their first key. It stops at the run whose keys
        exhaust the budget (that run's entry is then not ``complete``); the runs after it are
        not listed."""
        ...

    async def runs_by_id(self, project_id: str, run_ids: list[str]) -> list[Run]:
        """The runs of ``run_ids`` that exist in the project and are not deleted, in the order
        asked (with the derived ``lost`` status, as :meth:`get_run`)."""
        ...
