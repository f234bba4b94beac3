"""rc1 metric ``points`` (v1 doc §5.3) into per-series chunks, authorised per item.

Fast path (the common body: numeric values, integer steps and timestamps, no ``context``): the
fields become numpy columns, the range checks are vectorised, and the run/key/project checks run
once per distinct (project, run, key) instead of once per point. Only rejected items are looked
at one by one (to explain them). Anything else takes the point-by-point path; both apply exactly
the rules of :mod:`rundial_collector.ingest.items`. Value types are checked before projects, so
a string value is a 400 whatever its project.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import orjson

from rundial_collector.ingest.items import (ItemErrors, SeriesGroups, finite_value, key_problem,
                                            numeric_array, run_id_problem, step_problem,
                                            time_problem)
from rundial_collector.ingest.schemas import PointIn
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.series_math import Points

Projects = Mapping[str, str | None]  # sent projectId -> canonical id, None when not writable


def chunks_from_points(points: Sequence[PointIn], projects: Projects, errs: ItemErrors
                       ) -> tuple[list[SeriesChunk], int]:
    """Chunks and accepted count of rc1 points; rejected items are counted in ``errs``."""
    columns = _columns(points)
    if columns is None:
        return _point_by_point(points, projects, errs)
    return _vectorised(points, columns, projects, errs)


def _columns(points: Sequence[PointIn]) -> Points | None:
    """(steps, values, timestamps) as int64/float64/int64 arrays, or None for odd bodies."""
    if not points or any(p.context is not None for p in points):
        return None
    values = numeric_array([p.value for p in points], ndim=1)
    steps = np.array([p.step for p in points])
    stamps = np.array([p.timestampMs for p in points])
    if values is None or steps.dtype != np.int64 or stamps.dtype != np.int64:
        return None
    return Points(steps, values.astype(np.float64, copy=False), stamps)


def _vectorised(points: Sequence[PointIn], columns: Points, projects: Projects,
                errs: ItemErrors) -> tuple[list[SeriesChunk], int]:
    """One chunk per canonical series; points keep request order inside it.

    Items are grouped by their *canonical* target, so a body that spells one project both as
    its slug and as its ``prj_`` id still makes one chunk per series, in item order.
    """
    labels: dict[tuple[str, str, str], int] = {}
    label = np.array([labels.setdefault((p.projectId, p.runId, p.metricKey), len(labels))
                      for p in points], dtype=np.intp)
    series: dict[tuple[str, str, str], int] = {}
    label_group = np.array([_group_of(_target(x, projects), series) for x in labels], np.intp)
    group = label_group[label]
    targets = list(series)
    ok = (np.isfinite(columns.values) & (columns.steps >= 0) & (columns.timestamps >= 0)
          & (group >= 0))
    for i in np.flatnonzero(~ok).tolist():
        _check_point(i, points[i], projects, errs)  # records why it was rejected
    good = np.flatnonzero(ok)
    order = good[np.argsort(group[good], kind="stable")]
    bounds = np.cumsum(np.bincount(group[good], minlength=len(targets)))
    chunks = []
    for g, (start, stop) in enumerate(zip(np.concatenate(([0], bounds[:-1])), bounds)):
        if stop > start:
            chunks.append(SeriesChunk(*targets[g], columns.take(order[start:stop])))
    return chunks, int(good.size)


def _group_of(target: tuple[str, str, str] | None, series: dict[tuple[str, str, str], int]
              ) -> int:
    """The group number of ``target`` (numbered by first appearance); -1 for no target."""
    return -1 if target is None else series.setdefault(target, len(series))


def _target(label: tuple[str, str, str], projects: Projects) -> tuple[str, str, str] | None:
    """(canonical project, run, key) when the key may write there and run and key are valid."""
    project, run, key = label
    canonical = projects.get(project)
    if canonical is None or run_id_problem(run) or key_problem(key):
        return None
    return canonical, run, key


def _point_by_point(points: Sequence[PointIn], projects: Projects, errs: ItemErrors
                    ) -> tuple[list[SeriesChunk], int]:
    groups = SeriesGroups()
    for i, p in enumerate(points):
        checked = _check_point(i, p, projects, errs)
        if checked is not None:
            project, value = checked
            context = None if p.context is None else _context_json(p.context)
            groups.add((project, p.runId, p.metricKey), int(p.step), value, p.timestampMs,
                       context)
    return groups.chunks(None), groups.accepted


def _check_point(i: int, p: PointIn, projects: Projects, errs: ItemErrors
                 ) -> tuple[str, float] | None:
    """(canonical project, float value) of a valid, writable point; else record why not."""
    value = finite_value(p.value, f"points[{i}].value")
    project = projects.get(p.projectId)
    if project is None:
        errs.refuse(i, f"points[{i}].projectId")
        return None
    checks = (("value", None if value is not None else "value must be a finite number"),
              ("step", step_problem(p.step)), ("timestampMs", time_problem(p.timestampMs)),
              ("metricKey", key_problem(p.metricKey)), ("runId", run_id_problem(p.runId)))
    for name, problem in checks:
        if problem is not None:
            errs.add(i, f"points[{i}].{name}", problem)
            return None
    assert value is not None
    return project, value


def _context_json(context: dict[str, str]) -> str | None:
    return orjson.dumps(context, option=orjson.OPT_SORT_KEYS).decode() if context else None
