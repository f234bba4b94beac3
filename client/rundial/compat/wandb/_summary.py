"""``run.summary`` and ``define_metric``: W&B's summary rules over committed history rows.

* Without a definition, a key's summary is its last committed value (numbers and strings;
  media are not summarised).
* ``define_metric(name, summary="min,max,mean,last,best,first,none,copy", goal=...)``: the key's
  summary becomes a dict of the chosen aggregates (``{"min": 0.1, "max": 0.9}``, sent as
  ``summary.<key>.min`` ...); ``best`` is the minimum under ``goal="minimize"`` (the default)
  and the maximum under ``"maximize"``; ``none`` (with anything) records no summary; ``copy``
  makes it the plain last value, as without a definition.
  A ``name`` holding ``*`` is a glob; as in W&B, only a trailing ``*`` matches (a prefix:
  ``"train/*"``, ``"*"``), never a key starting with ``_``. An exact definition wins over a glob,
  and a later glob over an earlier one.
* ``step_metric``: a committed row that holds a key with a step metric but not the step metric
  itself gets the step metric's last value (W&B's ``step_sync``).
* Assigning ``summary[key] = value`` (or ``update``) overrides the key until it is logged again.

Key look-ups are cached per key, so a row costs one dict look-up per key after the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from rundial._values import plain_json

PATCH_ENTRIES = 256
_NOTHING = object()
SUMMARY_MODES = frozenset({"min", "max", "mean", "last", "best", "first", "none", "copy"})
GOALS = frozenset({"minimize", "maximize"})


@dataclass(frozen=True)
class Metric:
    """What ``define_metric`` returns (and records)."""

    name: str
    step_metric: str | None = None
    summary: frozenset[str] = frozenset()
    goal: str | None = None
    hidden: bool = False
    step_sync: bool = True


def make_metric(name: str, step_metric: Any, summary: str | None, goal: str | None,
                hidden: bool | None, step_sync: bool | None) -> Metric:
    """A checked :class:`Metric`; ``ValueError``/``TypeError`` for bad arguments."""
    if not isinstance(name, str) or not name:
        raise TypeError("define_metric needs a non-empty str name")
    if step_metric is not None and not isinstance(step_metric, str):
        step_metric = getattr(step_metric, "name", None)
        if not isinstance(step_metric, str):
            raise TypeError("step_metric must be a str or a metric returned by define_metric")
    modes = frozenset(m.strip().lower() for m in summary.split(",") if m.strip()) if summary else frozenset()
    unknown = modes - SUMMARY_MODES
    if unknown:
        raise ValueError(f"unknown summary mode(s) {sorted(unknown)}; use {sorted(SUMMARY_MODES)}")
    if goal is not None and goal.lower() not in GOALS:
        raise ValueError(f"goal must be 'minimize' or 'maximize', not {goal!r}")
    return Metric(name, step_metric, modes, goal.lower() if goal else None, bool(hidden),
                  step_sync is not False)


def _flat(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """``(dotted key, leaf)`` pairs of a nested dict."""
    for key, item in value.items():
        if isinstance(item, dict):
            yield from _flat(item, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", item


class _Stats:
    __slots__ = ("first", "last", "low", "high", "total", "count")

    def __init__(self, value: float) -> None:
        self.first = self.last = self.low = self.high = value
        self.total, self.count = 0.0, 0

    def add(self, value: float) -> None:
        self.last = value
        self.low, self.high = min(self.low, value), max(self.high, value)
        self.total += value
        self.count += 1

    def value(self, metric: Metric) -> dict[str, Any]:
        maximize = metric.goal == "maximize"
        options = {"min": self.low, "max": self.high, "last": self.last, "first": self.first,
                   "mean": self.total / self.count if self.count else None,
                   "best": self.high if maximize else self.low}
        return {mode: options[mode] for mode in sorted(metric.summary) if mode in options}


class Summary(MutableMapping[str, Any]):
    """W&B's run summary for one run (see the module docstring); also the define_metric table."""

    def __init__(self) -> None:
        self._exact: dict[str, Metric] = {}
        self._globs: list[Metric] = []
        self._resolved: dict[str, Metric | None] = {}
        self._stats: dict[str, _Stats] = {}
        self._last: dict[str, Any] = {}
        self._assigned: dict[str, Any] = {}
        self._stepped = False  # some definition has a step metric
        self._sent: dict[str, Any] = {}  # summary.<key> entries as last handed to the run

    # -- define_metric ------------------------------------------------------------------------
    def define(self, metric: Metric) -> None:
        if "*" in metric.name:
            self._globs.append(metric)
        else:
            self._exact[metric.name] = metric
        self._resolved.clear()
        self._stepped = self._stepped or metric.step_metric is not None

    def metric_for(self, key: str) -> Metric | None:
        try:
            return self._resolved[key]
        except KeyError:
            pass
        found = self._exact.get(key)
        if found is None and not key.startswith("_"):
            for metric in reversed(self._globs):
                name = metric.name
                if name.endswith("*") and key.startswith(name[:-1]):
                    found = metric
                    break
        self._resolved[key] = found
        return found

    def sync_steps(self, row: dict[str, Any]) -> None:
        """Add the step metric's last value to a row that logs a key without it (step_sync)."""
        if not self._stepped:
            return
        extra: dict[str, Any] = {}
        for key in row:
            metric = self.metric_for(key)
            if metric is None or metric.step_metric is None or not metric.step_sync:
                continue
            step_key = metric.step_metric
            if step_key not in row and step_key in self._last:
                extra[step_key] = self._last[step_key]
        row.update(extra)

    # -- committed rows -----------------------------------------------------------------------
    def observe(self, numbers: Mapping[str, Any], text: Mapping[str, str]) -> None:
        """Fold one committed row into the summary."""
        assigned = self._assigned
        if not self._exact and not self._globs:  # no define_metric: last values only
            self._last.update(numbers)
            self._last.update(text)
            if assigned:
                for key in (*numbers, *text):
                    assigned.pop(key, None)
            return
        for key, value in numbers.items():
            self._last[key] = value
            if assigned:
                assigned.pop(key, None)
            metric = self.metric_for(key)
            if metric is not None and metric.summary and value == value:  # NaN: not summarised
                stats = self._stats.get(key)
                if stats is None:
                    stats = self._stats[key] = _Stats(float(value))
                stats.add(float(value))
        for key, value in text.items():
            self._last[key] = value
            assigned.pop(key, None)

    def _computed(self, key: str) -> Any:
        metric = self.metric_for(key)
        if metric is None or not metric.summary:
            return self._last[key]
        if "none" in metric.summary:
            raise KeyError(key)
        if "copy" in metric.summary:
            return self._last[key]
        stats = self._stats.get(key)
        if stats is None:  # only text was logged under a key with numeric aggregates
            return self._last[key]
        return stats.value(metric)

    def as_dict(self) -> dict[str, Any]:
        """The whole summary, as W&B would show it (nested dicts for aggregates)."""
        out: dict[str, Any] = {}
        for key in self._last:
            try:
                out[key] = self._computed(key)
            except KeyError:
                continue
        out.update(self._assigned)
        return out

    def changes(self) -> list[dict[str, Any]]:
        """The ``summary.<key>`` config entries changed since the last call, as patches of at most
        :data:`PATCH_ENTRIES` entries (rundial caps one config patch at 512 entries)."""
        flat = {f"summary.{k}": v for k, v in _flat(plain_json(self.as_dict()), "")}
        changed = {k: v for k, v in flat.items() if self._sent.get(k, _NOTHING) != v}
        self._sent.update(changed)
        items = list(changed.items())
        return [dict(items[i:i + PATCH_ENTRIES]) for i in range(0, len(items), PATCH_ENTRIES)]

    # -- the mapping ----------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key in self._assigned:
            return self._assigned[key]
        if key not in self._last:
            raise KeyError(key)
        return self._computed(key)

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"summary keys must be str, not {type(key).__name__}")
        self._assigned[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self._assigned and key not in self._last:
            raise KeyError(key)
        self._assigned.pop(key, None)
        self._last.pop(key, None)
        self._stats.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"Summary({self.as_dict()!r})"
