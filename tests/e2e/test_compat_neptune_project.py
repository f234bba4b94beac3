"""End to end: ``neptune.init_project(...).fetch_runs_table(...).to_pandas()`` of the Neptune
shim lists the runs of a project of the real collector, as the reproduce-run and
re-run-failed-training examples of neptune-ai/examples use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import rundial.compat.neptune as neptune
from tests.compat.real_examples import project_view
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until


def _run(tmp_path: Path, **kwargs: Any) -> neptune.Run:
    return neptune.init_run(spool_directory=str(tmp_path / "spool"), capture_stdout=False,
                            capture_stderr=False, capture_hardware_metrics=False, **kwargs)


def test_fetch_runs_table_filters_by_state_tags_and_ids(shared_collector: CollectorProcess,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """state, tag (every tag), id, columns, sort and limit select and shape the rows; sys/failed,
    sys/state, sys/tags (comma-joined) and config fields are columns; owner/query and
    project-level fields are not supported; a bad state is a ValueError."""
    proc = project_view(shared_collector, "nep-table", "showroom")
    for name, value in (("NEPTUNE_PROJECT", "nep-table/showroom"), ("RUNDIAL_ENDPOINT", proc.url),
                        ("RUNDIAL_API_KEY", proc.api_key)):
        monkeypatch.setenv(name, value)
    done = _run(tmp_path, name="ok", tags=["showcase-run", "reproduce"])
    done["config/params/lr"] = 0.01
    done.stop()
    with pytest.raises(RuntimeError):
        with _run(tmp_path, name="broken", tags=["showcase-run"]) as failed:
            raise RuntimeError("diverged")
    live = _run(tmp_path, name="live", tags=["showcase-run"])
    live.sync()
    ids = {"ok": done["sys/id"].fetch(), "broken": failed["sys/id"].fetch(),
           "live": live["sys/id"].fetch()}
    project = neptune.init_project(mode="read-only")  # as reproduce_run.py calls it
    wait_until(lambda: len(project.fetch_runs_table().to_rows()) == 3, timeout_seconds=10,
               message="three runs listed")

    table = project.fetch_runs_table(state="inactive", tag=["showcase-run"],
                                     columns=["sys/failed"]).to_pandas()
    assert list(table.columns) == ["sys/id", "sys/failed"]
    assert dict(zip(table["sys/id"], table["sys/failed"])) == {ids["ok"]: False,
                                                              ids["broken"]: True}
    assert table[table["sys/failed"] == True]["sys/id"].values[0] == ids["broken"]  # noqa: E712

    [row] = project.fetch_runs_table(tag=["showcase-run", "reproduce"]).to_rows()
    assert (row["sys/id"], row["sys/name"], row["sys/tags"], row["sys/state"],
            row["config/params/lr"]) == (ids["ok"], "ok", "reproduce,showcase-run",
                                         "Inactive", 0.01)
    active = project.fetch_runs_table(state="active", columns=["sys/name"]).to_rows()
    assert active == [{"sys/id": ids["live"], "sys/name": "live"}]
    newest = project.fetch_runs_table(limit=2, columns=[]).to_rows()
    assert newest == [{"sys/id": ids["live"]}, {"sys/id": ids["broken"]}]
    oldest = project.fetch_runs_table(ascending=True, id=[ids["ok"], ids["live"]], columns=[])
    assert oldest.to_rows() == [{"sys/id": ids["ok"]}, {"sys/id": ids["live"]}]
    with pytest.raises(ValueError, match="state must be"):
        project.fetch_runs_table(state="paused")
    with pytest.raises(NotImplementedError, match="owner"):
        project.fetch_runs_table(owner="me")
    with pytest.raises(NotImplementedError, match="project-level"):
        project["datasets/train"] = 1
    project.stop()
    live.stop()

