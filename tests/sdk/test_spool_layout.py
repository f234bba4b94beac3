"""One owner of the spool's on-disk layout: the SDK's orphan scan and the read-only scan used by
``rundial sync``, ``rundial doctor`` and ``rundial-spool`` list the same runs and writers."""

from __future__ import annotations

from pathlib import Path

from rundial._artifacts.journal import Journal
from rundial._spool import orphans
from rundial._spool.layout import ARTIFACTS_DIR, NOT_RUN_DIRS, SYNC_DIR, run_dir_names
from rundial._spool.scan import scan
from tests.spool_tools.spoolmaker import add_run, make_run

ENDPOINT = "http://127.0.0.1:9"


def _plant_lookalikes(root: Path) -> None:
    """Every non-run folder of the layout, each holding what looks like a run with a batch."""
    for name in (*sorted(NOT_RUN_DIRS), SYNC_DIR):
        add_run(root, name, ENDPOINT)
        (root / name / "w1").mkdir()


def test_both_scans_skip_every_folder_that_is_not_a_run(tmp_path: Path) -> None:
    root = tmp_path / "spool"
    make_run(root, "run_a", ENDPOINT, batches=2)
    make_run(root, "run_b", ENDPOINT, batches=1)
    _plant_lookalikes(root)
    orphan_runs = [run.run_id for run in orphans.scan(root, ENDPOINT)]
    for run in orphans.scan(root, ENDPOINT):  # release the adopted writers' locks
        for queue in run.queues:
            queue.close(remove_if_empty=False)
    tool_runs = [run.run_id for run in scan(root).runs]
    assert sorted(orphan_runs) == tool_runs == run_dir_names(root) == ["run_a", "run_b"]


def test_the_artifact_journal_lives_in_the_folder_the_scans_skip(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.root == tmp_path / ARTIFACTS_DIR and ARTIFACTS_DIR in NOT_RUN_DIRS
