"""Lone surrogates, continued from ``test_lone_surrogates.py``: the import-swap shims' local
state, and file names inside a logged artifact directory."""

from __future__ import annotations

from pathlib import Path

import pytest

import rundial.compat.neptune as neptune
from rundial._artifacts.uploader import ArtifactUploader
from tests.artifacts.conftest import target, versions
from tests.helpers.collector_proc import CollectorProcess
from tests.sdk.compat_support import options, run_meta, sent_config
from tests.sdk.conftest import CollectorDouble

BAD = "x\udcff"


def test_a_refused_shim_assignment_changes_nothing(double: CollectorDouble, tmp_path: Path,
                                                   isolated_env: Path) -> None:
    """A tag or name the run refuses used to be kept locally first: reads returned it and
    every later tag add raised again (the kept set still held it)."""
    run = neptune.init_run(project="ws/proj", name="n", tags=["a"], capture_stdout=False,
                           capture_stderr=False, **options(double, tmp_path))
    with pytest.raises(ValueError, match="config key 'sys/tags'"):
        run["sys/tags"].add(BAD)
    run["sys/tags"].add("b")
    with pytest.raises(ValueError, match="config key 'sys/name'"):
        run["sys/name"] = BAD
    assert run["sys/tags"].fetch() == {"a", "b"} and run["sys/name"].fetch() == "n"
    run.stop()
    assert run_meta(double) == ("n", {"a", "b"})
    assert neptune.restore_types(sent_config(double))["sys/tags"] == {"a", "b"}


def test_a_directory_file_with_a_lone_surrogate_is_left_out_counted_and_warned(
        shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """The directory is walked on the artifact worker, so such a file cannot be refused at
    the call: it used to fail the whole artifact (rejected for good); now the rest is
    published without it, with a warning and a count."""
    folder = tmp_path / "dataset"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"a")
    (folder / "sub" / BAD).write_bytes(b"b")
    uploader = ArtifactUploader(shared_collector.url, shared_collector.api_key,
                                target(shared_collector), "run-surrogate-files",
                                tmp_path / "spool")
    try:
        with pytest.warns(RuntimeWarning, match=r"without 1 file.*'sub/x\?'"):
            assert uploader.log_artifact(folder, name="surrogate-files")
            assert uploader.flush(30), uploader.diagnostics()
        stats = uploader.diagnostics()
    finally:
        uploader.close(5.0)
    assert stats["skipped_files"] == 1 and stats["rejected_jobs"] == 0
    (published,) = versions(shared_collector, "surrogate-files")
    assert [f["path"] for f in published["files"]] == ["a.txt"]
