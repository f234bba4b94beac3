"""A W&B-style run over a rundial run: W&B's step and commit rules, summary and config.

Step rules (W&B's): ``run.step`` is the step of the open row, 0 at the start (a resumed run
continues where it ended on this machine, ``_resume``).

* ``log(data)`` (no step, no commit): merge into the open row and commit it; the step moves on.
* ``log(data, commit=False)``: merge into the open row, do not commit.
* ``log(data, step=s)``: ``s`` below ``run.step`` is ignored with a warning; ``s`` above commits
  the open row first and opens row ``s``; the data is merged into row ``s``, which is committed
  only with ``commit=True``, by a later call with a larger step or without a step, or at finish.
* An empty open row is never committed (the step does not move).

A committed row becomes one ``rd_run.log(numbers, step=step)`` call plus one call per media value
(the uploader takes them off the row) plus one ``[<key> step=<n>] <text>`` log line per
string value, so everything goes through rundial's non-blocking
pipeline. The summary's changed entries are sent as ``summary.*`` config (non-blocking
patches) with the first committed row, then at most every :data:`SUMMARY_INTERVAL_SECONDS`
while rows are committed, and at the end. ``log`` is thread-safe (torch gradient hooks may log
from autograd threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from rundial._values import kept_text
from rundial._warn import warn_user
from rundial.compat._keyed import string_line
from rundial.compat.wandb import _files, _resume
from rundial.compat.wandb._artifact import Artifact
from rundial.compat.wandb._artifact_run import RunArtifacts
from rundial.compat.wandb._config import Config
from rundial.compat.wandb._errors import DOCS, Unsupported
from rundial.compat.wandb._history import Converted, OpenRow, checked_step, convert
from rundial.compat.wandb._summary import Metric, Summary, make_metric

EDITS = {"name": "runName", "notes": "notes", "tags": "tags"}  # attribute -> run edit field
LOCAL_ONLY = frozenset({"group", "job_type", "project", "entity"})
SUMMARY_INTERVAL_SECONDS = 30.0  # the summary is also sent at most this often while logging
ALERT_LEVELS = ("INFO", "WARN", "ERROR")


class Run:
    """What ``wandb.init`` returns and ``wandb.run`` is (see the module docstring)."""

    def __init__(self, rd_run: Any, config: Mapping[str, Any], *, project: str | None,
                 entity: str | None, notes: str | None, tags: tuple[str, ...],
                 group: str | None, job_type: str | None,
                 on_end: Callable[[Run], None], resumed: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rd = rd_run
        self._clock = clock
        self._summary_due = 0.0
        self._lock = threading.RLock()
        self._state_path = _resume.state_path(rd_run)
        self._row = OpenRow(_resume.load_step(self._state_path) if resumed else 0)
        self._warned: set[str] = set()
        self._on_end = on_end
        self._files = _files.RunFiles(rd_run)
        self._artifacts = RunArtifacts(rd_run, entity, project)
        self._ended = False
        self.summary = Summary()
        self.config = Config(config, rd_run.update_config)
        self.project, self.entity, self.notes = project, entity, notes
        self.tags, self.group, self.job_type = tags, group, job_type
        self._watch: Any = None
        self.name: str | None = rd_run.name
        self._ready = True
        if notes:
            self._edit("notes", notes)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_ready"):
            if name in EDITS:
                self._edit(name, value)
            elif name in LOCAL_ONLY:
                self._warn(f"set:{name}", f"run.{name} = ... is kept in this process only: the "
                           f"collector keeps the value the run started with (see {DOCS})")
        object.__setattr__(self, name, value)

    def _edit(self, name: str, value: Any) -> None:
        """Name, notes and tags reach the collector as a run edit (``rd.Run._update_meta``:
        queued, sent by the worker once the run is registered; a disabled run has none)."""
        update = getattr(self._rd, "_update_meta", None)
        if update is not None:
            sent = [str(t) for t in value] if name == "tags" else str(value)
            update({EDITS[name]: sent})

    # -- identity ----------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return str(self._rd.id)

    @property
    def step(self) -> int:
        return self._row.step

    @property
    def mode(self) -> str:
        return str(self._rd.mode)

    @property
    def offline(self) -> bool:
        return self.mode == "offline"

    @property
    def disabled(self) -> bool:
        return self.mode == "disabled"

    @property
    def path(self) -> str:
        """``<entity>/<project>/<run id>`` (W&B's run path)."""
        return f"{self.entity or ''}/{self.project or ''}/{self.id}"

    @property
    def url(self) -> str | None:
        """The run's page in rundial's web UI (None without a workspace slug)."""
        return self.get_url()

    def get_url(self) -> str | None:
        project = self.get_project_url()
        return None if project is None else f"{project}/r/{quote(self.id, safe='')}"

    def get_project_url(self) -> str | None:
        settings = getattr(self._rd, "_settings", None)
        endpoint, workspace = getattr(settings, "endpoint", None), self.entity or getattr(
            settings, "workspace", None)
        project = self.project or getattr(settings, "project", None)
        if not endpoint or not workspace or not project:
            return None
        return f"{endpoint}/p/{quote(workspace, safe='')}/{quote(project, safe='')}"

    @property
    def dir(self) -> str:
        """A directory of this run's; files in it are uploaded when the run ends (``_files``)."""
        return self._files.dir

    def log_code(self, root: str | None = ".", name: str | None = None,
                 include_fn: Callable[..., bool] = lambda path, *_: path.endswith(".py"),
                 exclude_fn: Callable[..., bool] = lambda path, *_: False) -> str | None:
        """Upload the source files under ``root`` as one ``code`` artifact (``_files``). As in
        W&B, a filter of two parameters gets ``(path, root)``, any other only ``path``."""
        return self._files.log_code(root or ".", name, _files.path_filter(include_fn, root),
                                    _files.path_filter(exclude_fn, root))

    @property
    def rundial_run(self) -> Any:
        """The underlying ``rd.Run`` (or ``rd.NoopRun`` when disabled)."""
        return self._rd

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise Unsupported(f"wandb run.{name} is not supported by rundial.compat.wandb; see {DOCS} "
                          "for the supported surface")

    # -- logging ---------------------------------------------------------------------------------
    def log(self, data: Mapping[str, Any] | None = None, step: int | None = None,
            commit: bool | None = None, sync: bool | None = None) -> None:
        """W&B's ``run.log`` (see the module docstring); ``log()`` alone commits the open row.
        TypeError/ValueError for bad arguments."""
        if data is None:
            data = {}
        elif type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"wandb.log takes a dict, not {type(data).__name__}")
        if step is not None:
            step = checked_step(step)
        converted = convert(data)
        with self._lock:
            if self._ended:
                self._warn("ended", "wandb.log after finish() is ignored")
                return
            if step is not None:
                if step < self._row.step:
                    self._warn(f"step{step}", f"wandb.log step {step} is below the current step "
                               f"{self._row.step}; steps must increase, so this data is ignored")
                    return
                if step > self._row.step:
                    self._commit()
                    self._row.step = step
            elif commit is None:
                commit = True
            self._merge(converted)
            if commit:
                self._commit()

    def _merge(self, converted: Converted) -> None:
        row = self._row
        row.numbers.update(converted.numbers)
        row.media.update(converted.media)
        row.text.update(converted.text)
        for key in converted.skipped:
            self._warn(f"skip:{key}", f"wandb.log value of {key!r} is not a number, a string or "
                       f"a media value; rundial does not record it (see {DOCS})")

    def _commit(self) -> None:
        """Send the open row at the current step and open the next one (caller holds the lock)."""
        row = self._row
        numbers, media, text = row.numbers, row.media, row.text
        if not numbers and not media and not text:
            return
        row.numbers, row.media, row.text = {}, {}, {}
        step = row.step
        self.summary.sync_steps(numbers)
        if numbers:
            self._rd.log(numbers, step=step)
        for items in media.values():
            for key, value in items:
                self._rd.log({key: value}, step=step)
        for key, value in text.items():  # history strings: log lines, as the other shims'
            self._rd.log_text(string_line(key, step, value), "info")
        self.summary.observe(numbers, text)
        row.step = step + 1
        now = self._clock()
        if now >= self._summary_due:
            self._summary_due = now + SUMMARY_INTERVAL_SECONDS
            self._send_summary()

    def _send_summary(self) -> None:
        _resume.save_step(self._state_path, self._row.step)
        for patch in self.summary.changes():
            self._rd.update_config(patch)

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn_user(f"rundial.compat.wandb: {message}")

    def define_metric(self, name: str, step_metric: Any = None, step_sync: bool | None = None,
                      hidden: bool | None = None, summary: str | None = None,
                      goal: str | None = None, overwrite: bool | None = None) -> Metric:
        """Record how ``name`` (a key or a glob) is summarised and which step metric it uses."""
        with self._lock:
            earlier = None if overwrite else self.summary.definition(name)
            metric = make_metric(name, step_metric, summary, goal, hidden, step_sync, earlier)
            self.summary.define(metric)
        return metric

    def watch(self, models: Any, criterion: Any = None, log: str | None = "gradients",
              log_freq: int = 1000, idx: int | None = None, log_graph: bool = False) -> None:
        """Gradient/parameter histograms through torch hooks (``_watch``)."""
        from rundial.compat.wandb import _watch  # torch-facing code, loaded on use

        if self._watch is None:
            self._watch = _watch.Watcher(self._log_hidden)
        self._watch.watch(models, log=log, log_freq=log_freq, idx=idx)

    def unwatch(self, models: Any = None) -> None:
        if self._watch is not None:
            self._watch.unwatch(models)

    def _log_hidden(self, data: Mapping[str, Any]) -> None:
        """What ``watch`` hooks log: merged into the open row, never committed."""
        self.log(data, commit=False)

    def save(self, glob_str: str, base_path: str | None = None, policy: str = "live") -> list[str]:
        """``wandb.save``: upload matching files as run file artifacts (``_files``)."""
        return self._files.save(glob_str, base_path, policy)

    def log_artifact(self, artifact_or_path: Any, name: str | None = None,
                     type: str | None = None, aliases: Any = None, tags: Any = None) -> Artifact:
        """Queue an artifact (non-blocking; ``_artifact_run``); returns the ``Artifact``."""
        return self._artifacts.log(artifact_or_path, name, type, aliases, tags)

    def use_artifact(self, artifact_or_name: Any, type: str | None = None, aliases: Any = None,
                     use_as: str | None = None) -> Artifact:
        """Resolve an artifact version and record its use (blocking; ``_artifact_run``)."""
        return self._artifacts.use(artifact_or_name, type, aliases)

    def log_model(self, path: Any, name: str | None = None, aliases: Any = None) -> None:
        self._artifacts.log_model(path, name, aliases)

    def use_model(self, name: str) -> str:
        return self._artifacts.use_model(name)

    def link_model(self, path: Any, registered_model_name: str, name: str | None = None,
                   aliases: Any = None) -> None:
        self._artifacts.link_model(path, registered_model_name, name, aliases)

    def link_artifact(self, artifact: Any, target_path: str, aliases: Any = None) -> Artifact:
        return self._artifacts.link(artifact, target_path, aliases)

    def alert(self, title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
        """A ``warn`` log line ``[ALERT <level>] <title>: <text>`` (each NUL as U+FFFD and each
        lone surrogate as ``?``, as W&B takes any text: ``run.log_text`` would raise)."""
        name = str(getattr(level, "value", level) or "INFO").upper()
        if name not in ALERT_LEVELS:
            raise ValueError(f"alert level must be one of {ALERT_LEVELS}, not {level!r}")
        self._rd.log_text(kept_text(f"[ALERT {name}] {title}: {text}"), level="warn")

    # -- the end -----------------------------------------------------------------------------------
    def _prepare_end(self) -> None:
        """Commit the open row, send the summary and the files saved for the end (idempotent)."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            self._commit()
            if self._watch is not None:
                self._watch.unwatch(None)
        self._send_summary()
        self._files.at_end()

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """End the run: ``completed`` for exit code 0/None, else ``failed``. Never blocks for
        longer than rundial's ``finish_timeout_seconds`` (what is left stays spooled)."""
        self._prepare_end()
        if exit_code in (None, 0):
            drained = self._rd.finish()
        else:
            drained = self._rd.fail(f"exit code {exit_code}")
        self._artifacts.at_end(bool(drained))
        self._on_end(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._prepare_end()
        self._rd.__exit__(exc_type, exc, tb)
        # a second finish() returns the first one's result (True: everything was delivered)
        self._artifacts.at_end(exc_type is None and bool(self._rd.finish()))
        self._on_end(self)

    def __repr__(self) -> str:
        return f"<rundial.compat.wandb.Run {self.id} step={self._row.step}>"
