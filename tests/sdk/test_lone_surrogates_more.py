"""Lone surrogates, continued from ``test_lone_surrogates.py``: the import-swap shims' local
state, and file names inside a logged artifact directory."""

from __future__ import annotations

from pathlib import Path

import pytest

import rundial.compat.neptune as neptune
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
