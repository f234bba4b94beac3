"""Where a test PostgreSQL cluster keeps its files (tests/helpers/postgres.py): a throwaway one
(fsync off) in memory when /dev/shm has room, a durable one (the benchmarks') on disk."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import postgres
from tests.helpers.postgres import PgCluster, scratch_parent


def test_a_throwaway_cluster_goes_to_the_tmpfs_when_it_has_room(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(postgres, "TMPFS", tmp_path)
    monkeypatch.setattr(postgres, "TMPFS_MIN_FREE_BYTES", 1)
    assert scratch_parent(fsync=False) == tmp_path
    cluster = PgCluster()
    try:
        assert cluster.root.parent == tmp_path
    finally:
        shutil.rmtree(cluster.root)


def test_a_durable_cluster_stays_in_the_temp_dir(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(postgres, "TMPFS", tmp_path)
    monkeypatch.setattr(postgres, "TMPFS_MIN_FREE_BYTES", 1)
    assert scratch_parent(fsync=True) is None
    cluster = PgCluster(fsync=True)
    try:
        assert cluster.root.parent == Path(tempfile.gettempdir())
    finally:
        shutil.rmtree(cluster.root)


def test_a_full_or_missing_tmpfs_falls_back_to_the_temp_dir(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(postgres, "TMPFS", tmp_path)
    monkeypatch.setattr(postgres, "TMPFS_MIN_FREE_BYTES", shutil.disk_usage(tmp_path).free * 2)
    assert scratch_parent(fsync=False) is None
    monkeypatch.setattr(postgres, "TMPFS", tmp_path / "missing")
    monkeypatch.setattr(postgres, "TMPFS_MIN_FREE_BYTES", 1)
    assert scratch_parent(fsync=False) is None
