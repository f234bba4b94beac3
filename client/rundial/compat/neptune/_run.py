"""The Neptune-style run: ``run["path"]`` handles over a rundial run (docs/neptune-compat.md).

What goes where, matching what Neptune records:

* **assigned values** (``run["a/b"] = v``, a dict or ``argparse.Namespace`` as a namespace,
  ``run.assign({...})``) are single-value fields → the run's **config**, key ``a/b``, typed
  (:mod:`rundial.compat._typed`: ``datetime`` and string sets round-trip);
* **series** (``append``/``log``/``extend``) → numbers are **metrics** at per-series steps
  (implicit: one past the series' last step, 0 first; an explicit step not above the last is
  skipped with a warning, as Neptune refuses it); strings are **log lines**
  ``[<path> step=<n>] <text>``;
* ``sys/name``, ``sys/description`` and ``sys/tags`` → config entries of those names; the name
  and the tags given to ``init_run`` are also the rundial run's name and tags;
* ``run["f"].upload(path)`` → an **artifact** named after the field (type ``file``).

Nothing blocks on the network except ``sync()``/``wait()``/``stop()``, which wait for delivery
with a deadline (rundial's ``flush``/``finish``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import rundial as rd
from rundial._values import UNSUPPORTED, plain_scalar
from rundial._warn import warn_user
from rundial.compat import _keyed
from rundial.compat.neptune.utils import StringifyValue

DOC = "docs/neptune-compat.md"
SYNC_TIMEOUT_SECONDS = 5.0  # the longest sync()/wait() wait for delivery
_ATOM_TYPES = (bool, int, float, str, datetime)


def _unsupported(name: str) -> NotImplementedError:
    return _keyed.unsupported("neptune", name, DOC)


class Handler:
    """``run["path"]``: a field or a namespace. Chain with ``run["a"]["b"]`` (path ``a/b``)."""

    __slots__ = ("_run", "_path")

    def __init__(self, run: Run, path: str) -> None:
        self._run = run
        self._path = path

    def __getitem__(self, key: str) -> Handler:
        return Handler(self._run, _keyed.join(self._path, key))

    def __setitem__(self, key: str, value: Any) -> None:
        self[key].assign(value)

    def assign(self, value: Any, *, wait: bool = False) -> None:
        """Set a single value (config), or a dict/Namespace as a namespace of values."""
        self._run._assign(self._path, value)

    def append(self, value: Any, *, step: Any = None, timestamp: Any = None,
               wait: bool = False, **_: Any) -> None:
        """Append one value (or a dict of values, one per sub-path) to the series."""
        self._run._append(self._path, value, step, _keyed.time_ms_of(timestamp))

    def log(self, value: Any, step: Any = None, timestamp: Any = None, wait: bool = False,
            **_: Any) -> None:
        """Neptune's older ``log``: a list or tuple extends the series, anything else appends."""
        if isinstance(value, (list, tuple)):
            self.extend(value, steps=None if step is None else [step] * len(value),
                        timestamps=None if timestamp is None else [timestamp] * len(value))
        else:
            self.append(value, step=step, timestamp=timestamp)

    def extend(self, values: Any, *, steps: Any = None, timestamps: Any = None,
               wait: bool = False, **_: Any) -> None:
        """Append each of ``values`` (``steps``/``timestamps``, when given, of the same length)."""
        values = list(values)
        for name, seq in (("steps", steps), ("timestamps", timestamps)):
            if seq is not None and len(seq) != len(values):
                raise ValueError(f"{name} must have one entry per value ({len(values)})")
        for i, value in enumerate(values):
            self.append(value, step=None if steps is None else steps[i],
                        timestamp=None if timestamps is None else timestamps[i])

    def add(self, values: Any, *, wait: bool = False) -> None:
        """Add ``str | list[str]`` to a string set (``run["sys/tags"].add(...)``)."""
        self._run._recorder.add_tags(self._path, values)

    def remove(self, values: Any, *, wait: bool = False) -> None:
        """Remove ``str | list[str]`` from a string set."""
        self._run._recorder.add_tags(self._path, values, remove=True)

    def upload(self, value: Any, *, wait: bool = False) -> None:
        """Queue the file at ``value`` (str or Path) as an artifact; returns at once.
        ``ValueError`` when it does not exist."""
        self._run._recorder.upload(self._path, value)

    def fetch(self) -> Any:
        """The value assigned here by this process (no network). ``KeyError`` when none;
        a namespace gives a dict of its fields."""
        return self._run._fetch(self._path)

    def fetch_last(self) -> Any:
        """The last value this process appended to the series (``KeyError`` when none)."""
        return self._run._recorder.last[self._path]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _unsupported(f'run["..."].{name}')

    def __repr__(self) -> str:
        return f"<neptune Handler {self._path!r} of {self._run._rd.id}>"


class Run:
    """A Neptune-style run over a rundial run; create it with ``neptune.init_run(...)``.

    Stopped by ``stop()``, by leaving ``with``, or at interpreter exit (before rundial's own
    hook). An uncaught exception, as with Neptune, ends the run failed (rundial's hook).
    """

    def __init__(self, rd_run: rd.Run | rd.NoopRun, *, name: str | None = None,
                 description: str | None = None, tags: Any = None,
                 resumed: bool = False) -> None:
        self._rd = rd_run
        self._recorder = _keyed.Recorder(rd_run, name=name, tags=_tag_list(tags or ()),
                                         edit_tags=not resumed)
        self._steps = _keyed.SeriesSteps()
        self._warned: set[str] = set()
        initial: dict[str, Any] = {}
        if name is not None:
            initial["sys/name"] = name
        if description is not None:
            initial["sys/description"] = description
        if tags:
            initial["sys/tags"] = set(_tag_list(tags))
        self._recorder.assign(initial)
        _keyed.track(self._recorder, self._close_at_exit)

    @property
    def rundial_run(self) -> rd.Run | rd.NoopRun:
        """The rundial run underneath (for ``run.rundial_run.diagnostics()``)."""
        return self._rd

    def __getitem__(self, path: str) -> Handler:
        return Handler(self, _keyed.join(path))

    def __setitem__(self, path: str, value: Any) -> None:
        self._assign(_keyed.join(path), value)

    def assign(self, value: Mapping[str, Any], *, wait: bool = False) -> None:
        """Assign a dict of values at the root (``run.assign({"params": {...}})``)."""
        if not isinstance(value, Mapping):
            raise TypeError(f"run.assign takes a dict, not {type(value).__name__}")
        self._assign("", value)

    def exists(self, path: str) -> bool:
        """Whether this process assigned or appended something at ``path``."""
        return self._recorder.has(_keyed.join(path))

    def sync(self, *, wait: bool = True) -> None:
        """Wait (at most :data:`SYNC_TIMEOUT_SECONDS`) until everything so far is delivered."""
        self._rd.flush(SYNC_TIMEOUT_SECONDS)

    def wait(self, *, disk_only: bool = False) -> None:
        """Like :meth:`sync`."""
        self._rd.flush(SYNC_TIMEOUT_SECONDS)

    def stop(self, *, seconds: float | None = None) -> None:
        """End the run (completed), waiting at most ``seconds`` (rundial's finish timeout)."""
        self._recorder.end("completed", timeout_s=seconds)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _keyed.untrack(self._recorder)
        self._rd.__exit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _unsupported(f"Run.{name}")

    def __repr__(self) -> str:
        return f"<neptune Run {self._rd.id} (rundial)>"

    # -- the work behind the handles ------------------------------------------------------
    def _close_at_exit(self) -> None:
        if not self._recorder.ended:
            self.stop()

    def _assign(self, path: str, value: Any) -> None:
        entries: dict[str, Any] = {}
        for leaf_path, leaf in _keyed.flatten(path, value):
            atom = _atom(leaf)
            if leaf_path == "sys/tags" and isinstance(leaf, (str, list, tuple, set, frozenset)):
                entries[leaf_path] = set(_tag_list(leaf))
            elif atom is UNSUPPORTED:
                self._warn(leaf_path, f"neptune: the value at {leaf_path!r} "
                           f"({type(leaf).__name__}) is not a supported type and is not "
                           "logged; convert it or use stringify_unsupported()")
            elif not leaf_path:
                raise ValueError("a single value needs a field path: run['path'] = value")
            else:
                entries[leaf_path] = atom
        self._recorder.assign(entries)

    def _append(self, path: str, value: Any, step: Any, time_ms: int | None) -> None:
        if isinstance(value, Mapping):
            for leaf_path, leaf in _keyed.flatten(path, value):
                self._append(leaf_path, leaf, step, time_ms)
            return
        if isinstance(value, StringifyValue):
            value = value.resolved()
        plain = plain_scalar(value)
        if plain is None or (isinstance(plain, float) and not math.isfinite(plain)):
            self._warn(path + "#skip", f"neptune: None, NaN and Inf values appended to {path!r} "
                       "are skipped, as Neptune does")
            return
        if plain is UNSUPPORTED:
            raise TypeError(f"neptune: cannot append a {type(value).__name__} to {path!r}; "
                            "append numbers, strings or a dict of them")
        chosen = self._steps.take_increasing(path, step)
        if chosen is None:
            self._warn(path + "#step", f"neptune: a step not above the last one of {path!r} "
                       "is skipped (Neptune series steps must increase)")
        elif isinstance(plain, str):
            self._recorder.log_string(path, plain, chosen, time_ms)
        else:
            self._recorder.log_number(path, plain, chosen, time_ms)

    def _fetch(self, path: str) -> Any:
        values = self._recorder.values
        if path == "sys/id":
            return self._rd.id
        if path in values:
            return values[path]
        prefix = path + "/"
        inside = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
        if not inside:
            raise KeyError(f"neptune: nothing was assigned at {path!r} in this process")
        return inside

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn_user(message)


def _atom(value: Any) -> Any:
    """A value Neptune stores as a single field, or UNSUPPORTED (lists, None, objects)."""
    if isinstance(value, StringifyValue):
        return value.resolved()
    if isinstance(value, (datetime, set, frozenset)):
        return value
    plain = plain_scalar(value)
    return plain if plain is not None else UNSUPPORTED


def _tag_list(tags: Any) -> list[str]:
    return [tags] if isinstance(tags, str) else [str(tag) for tag in tags]
