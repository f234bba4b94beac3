"""``neptune.init_project(...)``: a project opened to list its runs (docs/neptune-compat.md).

Only the runs table is supported: ``project.fetch_runs_table(...).to_pandas()`` lists the
project's runs from the collector (``runs/query``, blocking, as Neptune's call does), one row
per run with Neptune's ``sys/*`` columns (:func:`rundial.compat.neptune._fetch.sys_fields`)
and the run's single-value fields (its config, types restored). Project-level fields
(``project["x"] = ...``, ``project["x"].fetch()``) have no rundial counterpart: they raise
``NotImplementedError``. Nothing is written in any mode; ``stop()`` closes the connection.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from rundial.compat import _keyed
from rundial.compat.neptune._fetch import sys_fields
from rundial.compat.neptune._handler import DOC
from rundial.compat.neptune._init import read_target
from rundial.compat.neptune._reader import RunReader

__all__ = ["Project", "RunsTable", "init_project"]

_STATES = {"active": "Active", "inactive": "Inactive"}


def init_project(project: str | None = None, *, api_token: str | None = None,
                 mode: str | None = None, **options: Any) -> Project:
    """Open ``project`` (``"workspace/project"``, else ``NEPTUNE_PROJECT``) for reading its
    runs; no request is sent until a table is fetched. ``ValueError`` without a workspace and
    project; ``TypeError`` for an unknown option. ``mode`` is accepted and unused (nothing is
    written in any mode)."""
    target, reader = read_target(project, api_token, options, "", "neptune.init_project")
    if not target["workspace"]:
        raise ValueError("neptune.init_project needs project='workspace/project' (or "
                         "NEPTUNE_PROJECT, or RUNDIAL_WORKSPACE and RUNDIAL_PROJECT)")
    return Project(reader, str(target["workspace"]), str(target["project"]))


class Project:
    """A project opened by :func:`init_project`; see the module docstring."""

    def __init__(self, reader: RunReader, workspace: str, project: str) -> None:
        self._reader = reader
        self._slugs = (workspace, project)

    def fetch_runs_table(self, *, id: str | Iterable[str] | None = None,
                         state: str | Iterable[str] | None = None,
                         owner: Any = None, tag: str | Iterable[str] | None = None,
                         columns: Iterable[str] | None = None, trashed: bool | None = False,
                         limit: int | None = None, sort_by: str = "sys/creation_time",
                         ascending: bool = False, progress_bar: Any = None,
                         query: str | None = None) -> RunsTable:
        """The project's runs (blocking): those with one of the ids in ``id``, in one of the
        states (``"active"``/``"inactive"``), carrying every tag in ``tag``; sorted by
        ``sort_by`` (rows without it last), at most ``limit``. ``FetchError`` when the
        collector cannot be read; ``NotImplementedError`` for ``owner`` and ``query`` (rundial
        runs have no owner, and Neptune's query language is not implemented); ``ValueError``
        for an unknown state or a negative limit."""
        if owner is not None or query is not None:
            raise _keyed.unsupported("neptune", "fetch_runs_table(owner=/query=)", DOC)
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        wanted_states = {_state(s) for s in _strings(state)} if state is not None else None
        ids, tags = set(_strings(id)), set(_strings(tag))
        rows = []
        for run in self._reader.project_runs(*self._slugs):
            fields = sys_fields(run, str(run.get("runId")))
            if ((ids and fields["sys/id"] not in ids) or not tags <= fields["sys/tags"]
                    or (wanted_states is not None and fields["sys/state"] not in wanted_states)):
                continue
            rows.append(fields)
        present = [row for row in rows if row.get(sort_by) is not None]
        present.sort(key=lambda row: row[sort_by], reverse=not ascending)
        rows = present + [row for row in rows if row.get(sort_by) is None]
        return RunsTable(rows[:limit] if limit is not None else rows,
                         None if columns is None else list(columns))

    def stop(self, *, seconds: float | None = None) -> None:
        """Close the connection (nothing to send)."""
        self._reader.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __getitem__(self, path: str) -> Any:
        raise _keyed.unsupported("neptune", "project-level fields (project[...])", DOC)

    def __setitem__(self, path: str, value: Any) -> None:
        raise _keyed.unsupported("neptune", "project-level fields (project[...])", DOC)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _keyed.unsupported("neptune", f"Project.{name}", DOC)


class RunsTable:
    """What ``fetch_runs_table`` returns: :meth:`to_pandas` (or :meth:`to_rows`)."""

    def __init__(self, rows: list[dict[str, Any]], columns: list[str] | None) -> None:
        self._rows = rows
        self._columns = columns

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per run: ``sys/id`` and the chosen columns (all fields when none were
        chosen; a chosen field a run lacks is None); string sets (``sys/tags``) as Neptune's
        table shows them, comma-joined sorted text."""
        out = []
        for row in self._rows:
            names = row.keys() if self._columns is None else ["sys/id", *self._columns]
            out.append({name: _cell(row.get(name)) for name in dict.fromkeys(names)})
        return out

    def to_pandas(self) -> Any:
        """:meth:`to_rows` as a pandas DataFrame (pandas imported here; ``ModuleNotFoundError``
        without it, Neptune needs it too)."""
        pd: Any = importlib.import_module("pandas")
        return pd.DataFrame(self.to_rows())


def _cell(value: Any) -> Any:
    return ",".join(sorted(value)) if isinstance(value, (set, frozenset)) else value


def _strings(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _state(state: str) -> str:
    if state.lower() not in _STATES:
        raise ValueError(f"state must be 'active' or 'inactive', not {state!r}")
    return _STATES[state.lower()]
