"""The eval store interface: suites, eval runs, result rows and the diff of two eval runs
(v1 doc §5.6, §7.6, §9; docs/protocol.md §9).

* A suite belongs to one project and holds its dataset reference and scorers. Creating a suite
  with a ``suite_id`` that exists in the same project returns the stored suite unchanged.
* An eval run binds a suite to its backing run (kind ``eval``); the handler starts that run
  through :meth:`ControlStore.start_run` first. Creating an eval run whose id exists for the
  same suite returns the stored one.
* Result rows are keyed by (project, eval run, example, scorer). Writing a key again replaces
  the row (the row accepted last wins), so an at-least-once re-send changes nothing.
* The diff is a full join of two eval runs' rows on (example, scorer), regressions first.

Failures a handler turns into HTTP errors are :class:`StoreConflict` (409) and
:class:`StoreNotFound` (404); the store never raises HTTP errors itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rundial_collector.store.control_base import StoreConflict


@dataclass(frozen=True)
class EvalSuite:
    """A stored suite; ``scorers_json`` is the JSON array of scorer objects as accepted."""

    suite_id: str
    project_id: str
    name: str
    dataset_id: str
    dataset_name: str
    dataset_version: str
    dataset_ref: str
    scorers_json: str
    created_ms: int


@dataclass(frozen=True)
class EvalRun:
    """A stored eval run; ``config_json`` is the flat config object as accepted."""

    eval_run_id: str
    project_id: str
    suite_id: str
    run_id: str
    config_json: str
    created_ms: int


@dataclass(frozen=True)
class EvalResult:
    """One (example, scorer) result row. ``evidence_json`` is ``{"artifactId", "path"}`` as
    JSON or None; ``meta_json`` a JSON object."""

    project_id: str
    eval_run_id: str
    example_id: str
    scorer: str
    score: float
    passed: bool
    trace_id: str | None
    evidence_json: str | None
    meta_json: str
    accepted_ms: int


@dataclass(frozen=True)
class EvalDiffQuery:
    """One page of a diff. ``after`` is the (rank, example id, scorer) of the last row seen."""

    project_id: str
    baseline_eval_run_id: str
    candidate_eval_run_id: str
    limit: int
    scorer: str | None = None
    after: tuple[int, str, str] | None = None


@dataclass(frozen=True)
class EvalDiffRow:
    """An (example, scorer) pair present in either eval run; a side is None when absent.
    ``rank`` is 0 for a regression (baseline passed, candidate failed), else 1."""

    rank: int
    example_id: str
    scorer: str
    baseline_score: float | None
    baseline_passed: bool | None
    candidate_score: float | None
    candidate_passed: bool | None

    @property
    def regressed(self) -> bool:
        return self.rank == 0


@dataclass(frozen=True)
class EvalDiffCounts:
    """Counts over the whole diff (every page): pairs, regressions, improvements (baseline
    failed, candidate passed), pairs only in the candidate (added) or the baseline (removed)."""

    total: int
    regressed: int
    improved: int
    added: int
    removed: int


def check_suite(stored: EvalSuite, wanted: EvalSuite) -> None:
    """:class:`StoreConflict` unless an existing suite is of the wanted project."""
    if stored.project_id != wanted.project_id:
        raise StoreConflict(f"eval suite {stored.suite_id} belongs to another project",
                            "suiteId")


def check_eval_run(stored: EvalRun, wanted: EvalRun) -> None:
    """:class:`StoreConflict` unless an existing eval run is of the wanted project and suite."""
    if stored.project_id != wanted.project_id:
        raise StoreConflict(f"eval run {stored.eval_run_id} belongs to another project",
                            "evalRunId")
    if stored.suite_id != wanted.suite_id:
        raise StoreConflict(f"eval run {stored.eval_run_id} belongs to suite {stored.suite_id}",
                            "evalRunId")


class EvalStore(Protocol):
    """Eval suites, eval runs, result rows and diffs."""

    async def create_eval_suite(self, suite: EvalSuite) -> tuple[EvalSuite, bool]:
        """Insert ``suite``; returns (stored suite, created). An existing id in the same
        project is returned unchanged (created False); in another project it is a
        :class:`StoreConflict`."""
        ...

    async def get_eval_suite(self, suite_id: str) -> EvalSuite | None:
        """The suite with this id, in any project."""
        ...

    async def create_eval_run(self, eval_run: EvalRun) -> tuple[EvalRun, bool]:
        """Insert ``eval_run``; returns (stored eval run, created). An existing id of the same
        project and suite is returned unchanged; of another project or suite it is a
        :class:`StoreConflict`."""
        ...

    async def get_eval_run(self, eval_run_id: str) -> EvalRun | None:
        """The eval run with this id, in any project."""
        ...

    async def ingest_eval_results(self, rows: Sequence[EvalResult]) -> int:
        """Store ``rows`` in one transaction, replacing rows with the same (project, eval run,
        example, scorer) key (a later row of ``rows`` wins); returns ``len(rows)``."""
        ...

    async def eval_results_page(self, project_id: str, eval_run_id: str,
                                after: tuple[str, str] | None, limit: int
                                ) -> tuple[list[EvalResult], bool]:
        """Rows of one eval run ordered by (example id, scorer) after ``after``, at most
        ``limit``, and whether more exist."""
        ...

    async def diff_eval_runs(self, query: EvalDiffQuery
                             ) -> tuple[list[EvalDiffRow], bool, EvalDiffCounts]:
        """One page of the diff ordered by (rank, example id, scorer), whether more rows
        exist, and the counts over the whole diff (filtered by ``query.scorer`` when set)."""
        ...
