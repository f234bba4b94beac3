"""The goodseed-style ``Run`` over a rundial run (docs/goodseed-compat.md).

What goes where, matching what goodseed records:

* configs (``run["k"] = v``, ``log_configs``) → the run's **config**, typed: ``bool``, ``int``,
  ``float``, ``str``, ``None``, ``datetime`` and ``set`` round-trip
  (:mod:`rundial.compat._typed`; read back with :func:`restore_types`); nested dicts flatten
  with ``/`` and lists inside them to indexed keys (``k/0``); any other value is its ``str()``;
* ``sys/id``, ``sys/name``, ``sys/description``, ``sys/tags``, ``sys/creation_time``,
  ``sys/state`` and, at close, ``sys/closed_time`` → config entries, as goodseed writes them;
* metrics (``log_metrics``, ``run["k"].log(number)``) → rundial **metrics** at per-path steps
  (``step=None`` takes one past the path's highest step, as goodseed's auto-step does);
* strings (``log_strings``, ``run["k"].log(str)``) → **log lines** ``[<path> step=<n>] <text>``;
* ``close(status)``: ``finished`` → ``completed``, ``failed`` → ``failed``.

Nothing waits for the network but ``close()``/``wait()`` (rundial's ``finish``/``flush``, each
with a deadline).
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

import rundial as rd
from rundial._values import UNSUPPORTED, plain_scalar, safe_str
from rundial.compat import _keyed

DOC = "docs/goodseed-compat.md"
WAIT_TIMEOUT_SECONDS = 30.0  # wait(timeout=None): the longest it waits for delivery
_GOODSEED_ADJECTIVES, _GOODSEED_ANIMALS = 40, 43  # the word lists goodseed's run ids come from
_STORAGE = {"cloud": None, "local": "offline", "disabled": "disabled"}
_STATUS = {"finished": "completed", "completed": "completed", "failed": "failed",
           "aborted": "aborted"}
_IGNORED = ("capture_traceback", "monitoring_namespace", "git_ref", "goodseed_home", "log_dir",
            "created_at", "modified_at")


class FieldHandler:
    """``run["path"]``: ``.log(value, step=)`` for series, ``.add``/``.remove`` for string sets."""

    __slots__ = ("_run", "_path")

    def __init__(self, run: Run, path: str) -> None:
        self._run = run
        self._path = path

    def log(self, value: Any, *, step: Any = None) -> None:
        """A number goes to the metric series, a ``str`` to the string series; else TypeError."""
        plain = plain_scalar(value)
        if isinstance(plain, str):
            self._run.log_strings({self._path: plain}, step)
        elif isinstance(plain, (int, float)) and not isinstance(plain, bool):
            self._run.log_metrics({self._path: plain}, step)
        else:
            raise TypeError(f"goodseed: unsupported value type for log: "
                            f"{type(value).__name__}; use int, float or str")

    def add(self, value: str | list[str]) -> None:
        """Add a string or strings to the string set here (``run["sys/tags"].add(...)``)."""
        self._run._live()._recorder.add_tags(self._path, value)

    def remove(self, value: str | list[str]) -> None:
        """Remove a string or strings from the string set here."""
        self._run._live()._recorder.add_tags(self._path, value, remove=True)


class Run:
    """``goodseed.Run(...)``: a run that records into rundial (keyword arguments only).

    ``project`` (else ``GOODSEED_PROJECT``) is ``"workspace/project"`` or a project;
    ``run_id`` (else ``GOODSEED_RUN_ID``) names a new run (``resume="never"``: an existing id is
    refused by the collector, the data kept in the spool); ``resume_run_id`` continues one
    (``resume="must"``); both at once is a ``ValueError``. ``storage`` (else
    ``GOODSEED_STORAGE``): ``cloud`` → online, ``local`` → offline, ``disabled`` → a run that
    records nothing. ``read_only=True`` is not supported. rundial options pass through.
    """

    def __init__(self, *, name: str | None = None, project: str | None = None,
                 run_id: str | None = None, resume_run_id: str | None = None,
                 description: str | None = None, tags: list[str] | None = None,
                 storage: str | None = None, api_key: str | None = None,
                 read_only: bool = False, capture_hardware_metrics: bool = True,
                 capture_stdout: bool = True, capture_stderr: bool = True,
                 **options: Any) -> None:
        name = _legacy_alias(options, "experiment_name", "name", name)
        run_id = _legacy_alias(options, "run_name", "run_id", run_id)
        if read_only:
            raise _keyed.unsupported("goodseed", "Run(read_only=True)", DOC)
        if run_id and resume_run_id:
            raise ValueError("Cannot specify both run_id and resume_run_id")
        for ignored in _IGNORED:
            options.pop(ignored, None)
        options.setdefault("capture_console", bool(capture_stdout or capture_stderr))
        options.setdefault("system_metrics", bool(capture_hardware_metrics))
        run_id = run_id or (None if resume_run_id else os.environ.get("GOODSEED_RUN_ID") or None)
        if not run_id and not resume_run_id and _mode(storage) != "disabled":
            _draw_like_goodseed()
        self._rd = _keyed.start_run(
            project if project is not None else os.environ.get("GOODSEED_PROJECT"), api_key,
            name=name, tags=list(tags) if tags else None, run_id=resume_run_id or run_id,
            resume="must" if resume_run_id else ("never" if run_id else None),
            mode=_mode(storage), **options)
        self.run_id: str = self._rd.id
        self.project = project
        self.name = name
        self._recorder = _keyed.Recorder(self._rd, name=name, tags=tags,
                                         edit_tags=not resume_run_id)
        self._steps = _keyed.SeriesSteps()
        self._closed = False
        self.log_configs(_sys_configs(self.run_id, name, description, tags, bool(resume_run_id)))
        _keyed.track(self._recorder, self.close)

    @property
    def rundial_run(self) -> rd.Run | rd.NoopRun:
        """The rundial run underneath."""
        return self._rd

    def __getitem__(self, key: str) -> FieldHandler:
        return FieldHandler(self, _keyed.join(key))

    def __setitem__(self, key: str, value: Any) -> None:
        """Set a config value, or a dict / ``argparse.Namespace`` as a namespace under ``key``."""
        if _keyed.is_namespace(value):
            value = vars(value)
        self.log_configs({key: value}, flatten=True)

    def log_configs(self, data: Mapping[str, Any], flatten: bool = True) -> None:
        """Set config values; with ``flatten``, dict values become ``/``-joined paths."""
        entries: dict[str, Any] = {}
        for key, value in data.items():
            if flatten and isinstance(value, Mapping):  # a set inside a dict is text there
                leaves = [(path, safe_str(leaf) if isinstance(leaf, (set, frozenset)) else leaf)
                          for path, leaf in _keyed.flatten(str(key), value, expand_lists=True)]
            else:
                leaves = [(str(key), value)]
            entries.update((_keyed.join(path), _typed(leaf)) for path, leaf in leaves)
        self._live()._recorder.assign(entries)

    def log_metrics(self, data: Mapping[str, Any], step: Any = None) -> None:
        """Log numbers (coerced to ``float``) at ``step`` (int; None: each path's next step)."""
        numbers = {key: _number(key, value) for key, value in self._live()._points(data, step)}
        rows: dict[int, dict[str, float]] = {}
        for key, number in numbers.items():  # all checked first: a bad value logs nothing
            rows.setdefault(self._steps.take(key, step), {})[key] = number
        for at, row in rows.items():
            self._rd.log(row, step=at)
            self._recorder.last.update(row)

    def log_strings(self, data: Mapping[str, Any], step: Any = None) -> None:
        """Log strings (values coerced with ``str``) at ``step``, one log line each."""
        for key, value in self._live()._points(data, step):
            self._recorder.log_string(key, safe_str(value), self._steps.take(key, step), None)

    def log_string_series(self, data: Mapping[str, Any], step: Any = None) -> None:
        """goodseed's deprecated alias of :meth:`log_strings` (a ``DeprecationWarning`` each
        call, as goodseed 0.4 warns)."""
        warnings.warn("'log_string_series' is deprecated and will be removed in a future "
                      "release; use 'log_strings' instead.", DeprecationWarning, stacklevel=2)
        self.log_strings(data, step)

    def exists(self, path: str) -> bool:
        """Whether this process set or logged something at ``path``."""
        return self._recorder.has(_keyed.join(path))

    def close(self, status: str = "finished") -> None:
        """Close the run: ``sys/state`` and ``sys/closed_time`` are set, then the rundial run
        ends (``finished`` → completed, ``failed``, ``aborted``); a second call does nothing.
        ``ValueError`` for another status."""
        if status not in _STATUS:
            raise ValueError(f"goodseed: status must be one of {sorted(_STATUS)}, not {status!r}")
        if self._closed:
            return
        self._closed = True
        if not self._recorder.ended:
            self._write_end(status)
            self._recorder.end(_STATUS[status])

    def sync(self) -> None:
        """Returns at once: rundial's worker sends at least every second anyway."""

    def wait(self, timeout: float | None = None) -> None:
        """Wait until everything so far is delivered, at most ``timeout`` seconds (None: 30)."""
        self._rd.flush(WAIT_TIMEOUT_SECONDS if timeout is None else float(timeout))

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """``finished`` on a normal exit; ``failed`` on an exception (its traceback is logged
        as an ``error`` line by rundial)."""
        if self._closed:
            return
        self._closed = True
        _keyed.untrack(self._recorder)
        if not self._recorder.ended:
            self._write_end("failed" if exc_type is not None else "finished")
            self._rd.__exit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _keyed.unsupported("goodseed", f"Run.{name}", DOC)

    def __repr__(self) -> str:
        return f"<goodseed Run {self.run_id} (rundial)>"

    # -- helpers --------------------------------------------------------------------------
    def _live(self) -> Run:
        if self._closed:
            raise RuntimeError("Run is closed")
        return self

    def _points(self, data: Mapping[str, Any], step: Any) -> list[tuple[str, Any]]:
        if not isinstance(data, Mapping):
            raise TypeError(f"goodseed: data must be a dict, not {type(data).__name__}")
        return [(_keyed.join(str(key)), value) for key, value in data.items()]

    def _write_end(self, status: str) -> None:
        self._recorder.assign({"sys/state": status, "sys/closed_time": _now()})


def _legacy_alias(options: dict[str, Any], old: str, new: str, value: str | None) -> str | None:
    """goodseed's deprecated ``old=`` spelling of ``new=``: its value, with the
    ``DeprecationWarning`` goodseed gives; ``ValueError`` when both are given."""
    legacy = options.pop(old, None)
    if legacy is None:
        return value
    if value is not None:
        raise ValueError(f"Cannot specify both '{new}' and deprecated alias '{old}'. "
                         f"Use '{new}' only.")
    warnings.warn(f"'{old}' is deprecated and will be removed in a future release; use "
                  f"'{new}' instead.", DeprecationWarning, stacklevel=3)
    return str(legacy)


def _draw_like_goodseed() -> None:
    """Draw from Python's global ``random`` what goodseed draws for a run id it makes up (an
    adjective of 40 and an animal of 43), so a seeded script's own random numbers after
    ``Run()`` are the ones it gets under goodseed."""
    random.choice(range(_GOODSEED_ADJECTIVES))
    random.choice(range(_GOODSEED_ANIMALS))


def _mode(storage: str | None) -> str | None:
    storage = storage if storage is not None else os.environ.get("GOODSEED_STORAGE", "cloud")
    value = getattr(storage, "value", storage)  # goodseed's Storage enum works too
    if value not in _STORAGE:
        raise ValueError(f"goodseed: storage must be one of {sorted(_STORAGE)}, not {storage!r}")
    return _STORAGE[value]


def _number(key: str, value: Any) -> float:
    """``float(value)`` as goodseed coerces metrics (numpy/torch scalars too); else TypeError."""
    try:
        return float(plain_scalar(value))
    except (TypeError, ValueError):
        raise TypeError(f"goodseed: metric {key!r} must be a number, "
                        f"not {type(value).__name__}") from None


def _typed(value: Any) -> Any:
    """goodseed's config types as they are; anything else as its ``str()``."""
    if value is None or isinstance(value, (datetime, set, frozenset)):
        return value
    plain = plain_scalar(value)
    return safe_str(value) if plain is UNSUPPORTED else plain


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _sys_configs(run_id: str, name: str | None, description: str | None,
                 tags: list[str] | None, resumed: bool) -> dict[str, Any]:
    if resumed:
        return {"sys/state": "running"}
    out: dict[str, Any] = {"sys/id": run_id, "sys/creation_time": _now(), "sys/state": "running"}
    if name:
        out["sys/name"] = name
    if description:
        out["sys/description"] = description
    if tags:
        out["sys/tags"] = {str(tag) for tag in tags}
    return out
