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
  and the tags (at init, and later changes: ``_keyed.Recorder``) are also the run's own;
* ``run["f"].upload(path)`` → an **artifact** named after the field (type ``file``);
  ``File.as_image(...)`` uploaded or appended → image **media** at the series step;
  in-memory content (``File.from_content``, ``as_html``, …) is staged and uploaded as an
  artifact, and ``track_files`` stores a hash of local files (:mod:`._files`).

Nothing blocks on the network except ``sync()``/``wait()``/``stop()``, which wait for delivery
with a deadline (rundial's ``flush``/``finish``), and the reads (``fetch*``, ``exists``,
``get_structure``, ``download*``: :mod:`rundial.compat.neptune._fetch`), which read what this
process did not write from the collector, as Neptune's do. A run opened with
``mode="read-only"`` writes nothing: each write is dropped with one warning, as in Neptune.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import rundial as rd
from rundial._values import UNSUPPORTED, plain_scalar
from rundial._warn import warn_user
from rundial.compat import _keyed
from rundial.compat.neptune._cast import Refused, field_value, image_like
from rundial.compat.neptune._content import html_chart
from rundial.compat.neptune._fetch import Fetcher, tree
from rundial.compat.neptune._files import FileFields
from rundial.compat.neptune._handler import DOC, Handler
from rundial.compat.neptune._reader import RunReader
from rundial.compat.neptune.exceptions import FetchError, RunNotFound
from rundial.compat.neptune.types import File
from rundial.compat.neptune.utils import StringifyValue

__all__ = ["DOC", "Handler", "Run"]

SYNC_TIMEOUT_SECONDS = 5.0  # the longest sync()/wait() wait for delivery
DEFAULT_NAME = "Untitled"  # Neptune's sys/name of a new run started without a name
READ_ONLY_WARNING = "Client in read-only mode, nothing will be saved to server."  # Neptune's


def _unsupported(name: str) -> NotImplementedError:
    return _keyed.unsupported("neptune", name, DOC)


class Run:
    """A Neptune-style run over a rundial run; create it with ``neptune.init_run(...)``.

    Stopped by ``stop()``, by leaving ``with``, or at interpreter exit (before rundial's own
    hook). An uncaught exception, as with Neptune, ends the run failed (rundial's hook).
    With ``reader`` (read-only mode) nothing is written and nothing needs stopping.
    """

    def __init__(self, rd_run: rd.Run | rd.NoopRun, *, name: str | None = None,
                 description: str | None = None, tags: Any = None,
                 resumed: bool = False, reader: RunReader | None = None,
                 transport: Any = None) -> None:
        self._rd = rd_run
        self._read_only = reader is not None
        self._reader = reader
        self._transport = transport  # an injected transport, for this run's reads
        self._warned: set[str] = set()
        if reader is not None:
            self._recorder = _keyed.Recorder(rd_run)
            self._fetcher = Fetcher(rd_run.id, None, lambda: reader, lambda: None)
            return
        if not resumed:  # Neptune's defaults for a new run (config only: the run stays unnamed)
            description = "" if description is None else description
        field_name = DEFAULT_NAME if name is None and not resumed else name
        self._recorder = _keyed.Recorder(rd_run, name=field_name, tags=_tag_list(tags or ()),
                                         edit_tags=not resumed)
        self._files = FileFields(self._recorder)
        self._steps = _keyed.SeriesSteps()
        self._fetcher = Fetcher(rd_run.id, self._recorder, self._online_reader, self.sync)
        self._continue_series()
        initial: dict[str, Any] = {}
        if field_name is not None:
            initial["sys/name"] = field_name
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
        """Whether a field or namespace is at ``path`` (this process's, else the collector's)."""
        return self._fetcher.exists(_keyed.join(path))

    def fetch(self) -> dict[str, Any]:
        """Every single value of the run as a nested dict (Neptune's ``run.fetch()``)."""
        return dict(self._fetcher.fetch(""))

    def get_structure(self) -> dict[str, Any]:
        """The run's fields as nested dicts whose leaves are handles (``run[path]``)."""
        return tree(self._fetcher.paths(), lambda path: Handler(self, path))

    def get_url(self) -> str:
        """The run's page in the collector's web UI (``/p/{ws}/{project}/r/{runId}``); the
        collector's root when the run has no workspace slug, ``""`` for a run that records
        nothing."""
        if self._read_only and self._reader is not None:
            return self._reader.endpoint + self._reader.page_path()
        settings = getattr(self._rd, "_settings", None)
        if settings is None:
            return ""
        if not self._rd.workspace or not self._rd.project:
            return str(settings.endpoint) + "/"
        return "/".join((str(settings.endpoint), "p", quote(self._rd.workspace, safe=""),
                         quote(self._rd.project, safe=""), "r", quote(self._rd.id, safe="")))

    def sync(self, *, wait: bool = True) -> None:
        """Wait (at most :data:`SYNC_TIMEOUT_SECONDS`) until everything so far is delivered."""
        self._rd.flush(SYNC_TIMEOUT_SECONDS)

    def wait(self, *, disk_only: bool = False) -> None:
        """Like :meth:`sync`."""
        self._rd.flush(SYNC_TIMEOUT_SECONDS)

    def stop(self, *, seconds: float | None = None) -> None:
        """End the run (completed), waiting at most ``seconds`` (rundial's finish timeout).
        A read-only run only closes its connection."""
        if self._reader is not None:
            self._reader.close()
        if not self._read_only:
            delivered = self._recorder.end("completed", timeout_s=seconds)
            online = getattr(getattr(self._rd, "_settings", None), "mode", None) == "online"
            self._files.close(delivered and online)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._reader is not None:
            self._reader.close()
        if not self._read_only:
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

    def _online_reader(self) -> RunReader | None:
        """A reader of this run on its collector (made on first use), None unless online."""
        if self._reader is None:
            settings = getattr(self._rd, "_settings", None)
            if settings is None or settings.mode != "online" or not settings.project:
                return None
            self._reader = RunReader(settings.endpoint, settings.api_key,
                                     (settings.workspace, settings.project), self._rd.id,
                                     transport=self._transport,
                                     timeout_seconds=settings.request_timeout_seconds)
        return self._reader

    def _continue_series(self) -> None:
        """A run that may exist already (``with_id``, ``custom_run_id``) continues each series
        after its stored last step, as Neptune's server numbers them: one blocking read at
        init (online mode only). When it fails the series start at 0 (one warning), except
        for a ``custom_run_id`` run that does not exist yet."""
        settings = getattr(self._rd, "_settings", None)
        reader = self._online_reader() if getattr(settings, "resume", "never") != "never" else None
        if reader is None:
            return
        try:
            last_steps = reader.last_steps()
        except RunNotFound:
            if getattr(settings, "resume", None) == "must":
                self._warn("#resume", f"neptune: run {self._rd.id!r} was not found; its series "
                           "start at step 0")
            return
        except FetchError as exc:
            self._warn("#resume", f"{exc}; the resumed run's series start at step 0")
            return
        for path, step in last_steps.items():
            self._steps.take_increasing(path, step)

    def _writable(self) -> bool:
        """False, with Neptune's one warning, in read-only mode (the write is dropped)."""
        if self._read_only:
            self._warn("#read-only", READ_ONLY_WARNING)
        return not self._read_only

    def _add_tags(self, path: str, values: Any, remove: bool) -> None:
        if self._writable():
            self._recorder.add_tags(path, values, remove=remove)

    def _upload(self, path: str, value: Any, include_plotlyjs: Any = True) -> None:
        if not self._writable():
            return
        if image_like(value):
            value = File.as_image(value)
        elif html_chart(value):
            value = File.as_html(value, include_plotlyjs=include_plotlyjs)
        if isinstance(value, File) and value.image is not None:
            self._log_media(path, value, None, None)
        else:
            self._files.upload(path, value)

    def _track_files(self, path: str, location: str, destination: str | None) -> None:
        if self._writable():
            self._files.track(path, location, destination)

    def _assign(self, path: str, value: Any) -> None:
        if not self._writable():
            return
        entries: dict[str, Any] = {}
        for leaf_path, leaf in _keyed.flatten(path, value):
            if image_like(leaf):
                leaf = File.as_image(leaf)
            if isinstance(leaf, File):
                self._upload(leaf_path, leaf)
            elif leaf_path == "sys/tags" and isinstance(leaf, (str, list, tuple, set, frozenset)):
                entries[leaf_path] = set(_tag_list(leaf))
            elif not leaf_path:
                raise ValueError("a single value needs a field path: run['path'] = value")
            elif isinstance(atom := field_value(leaf), Refused):
                self._warn(leaf_path, f"neptune: the value at {leaf_path!r} "
                           f"({type(leaf).__name__}) {atom.reason}")
            else:
                entries[leaf_path] = atom
        self._recorder.assign(entries)

    def _append(self, path: str, value: Any, step: Any, time_ms: int | None) -> None:
        if not self._writable():
            return
        if isinstance(value, Mapping):
            for leaf_path, leaf in _keyed.flatten(path, value):
                self._append(leaf_path, leaf, step, time_ms)
            return
        if isinstance(value, StringifyValue):
            value = value.resolved()
        if image_like(value):
            value = File.as_image(value)
        if isinstance(value, File):
            self._log_media(path, value, step, time_ms)
            return
        plain = plain_scalar(value)
        if plain is None or (isinstance(plain, float) and not math.isfinite(plain)):
            self._warn(path + "#skip", f"neptune: None, NaN and Inf values appended to {path!r} "
                       "are skipped, as Neptune does")
            return
        if plain is UNSUPPORTED:
            raise TypeError(f"neptune: cannot append a {type(value).__name__} to {path!r}; "
                            "append numbers, strings or a dict of them")
        chosen = self._step(path, step)
        if chosen is not None and isinstance(plain, str):
            self._recorder.log_string(path, plain, chosen, time_ms)
        elif chosen is not None:
            self._recorder.log_number(path, plain, chosen, time_ms)

    def _log_media(self, path: str, file: File, step: Any, time_ms: int | None) -> None:
        """An image (``File.as_image`` or an image file) as rundial media at the series step."""
        image = file.media()
        chosen = self._step(path, step)
        if chosen is not None:
            self._rd.log({path: image}, step=chosen, time_ms=time_ms)

    def _step(self, path: str, step: Any) -> int | None:
        """The series step, or None (with one warning per series) when Neptune refuses it."""
        chosen = self._steps.take_increasing(path, step)
        if chosen is None:
            self._warn(path + "#step", f"neptune: a step not above the last one of {path!r} "
                       "is skipped (Neptune series steps must increase)")
        return chosen

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn_user(message)


def _tag_list(tags: Any) -> list[str]:
    return [tags] if isinstance(tags, str) else [str(tag) for tag in tags]
