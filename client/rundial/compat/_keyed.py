"""What the Neptune- and goodseed-style shims share: path-keyed runs over a rundial run.

Both libraries address a run by ``/``-separated paths (``run["train/loss"]``). This module
holds the pieces that do not depend on which library is imitated:

* :func:`join` and :func:`flatten`: paths, and dicts / ``argparse.Namespace`` assigned as a
  namespace (nested keys joined with ``/``);
* :class:`SeriesSteps`: per-series step counters (Neptune and goodseed count steps per path,
  not per run);
* :class:`Recorder`: writes through the rundial run's non-blocking pipeline — assigned values
  to the config (typed, :mod:`rundial.compat._typed`), numeric series to metrics, string
  series to log lines, files to artifacts, tags to ``sys/tags``;
* :func:`start_run`: ``rd.init`` from a library's ``workspace/project`` and mode;
* the exit hook: runs a shim created and never stopped are stopped at interpreter exit, by
  the shim (so its own end-of-run fields are written), before rundial's own exit hook.

Nothing here waits for the network: every write is a queue append or a config patch the
rundial worker sends. Errors are ``TypeError``/``ValueError`` for unusable arguments only.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import rundial as rd
from rundial._run.validate import as_step, as_time_ms
from rundial._values import kept_text
from rundial._warn import warn_user
from rundial.compat._typed import MARKER_PREFIX, encode_entry

SEP: Final = "/"
TERMINAL_STATES: Final = frozenset({"completed", "failed", "aborted", "killed"})
_ARTIFACT_NAME_MAX_CHARS = 256  # docs/protocol.md §5.2
RUN_NAME_MAX_CHARS = 512  # run edits (docs/protocol.md §4.9): a name of 1-512 characters,
EDIT_TAGS_MAX = 64  # at most 64 tags
EDIT_TAG_MAX_CHARS = 64  # of 1-64 characters each
_BAD_NAME_CHARS = str.maketrans({"/": ".", "\\": "_", ":": "_"})


def join(*parts: str) -> str:
    """``parts`` joined with ``/``, leading and trailing slashes of each removed."""
    return SEP.join(p.strip(SEP) for p in parts if p.strip(SEP))


def is_namespace(value: Any) -> bool:
    """An ``argparse.Namespace`` (duck typed: never imports argparse)."""
    return type(value).__name__ == "Namespace" and hasattr(value, "__dict__")


def flatten(prefix: str, value: Any, *, expand_lists: bool = False) -> list[tuple[str, Any]]:
    """``(path, leaf)`` pairs of ``value`` assigned at ``prefix``.

    Mappings and ``argparse.Namespace`` objects are namespaces: their keys (as ``str``) join
    the path with ``/``, at any depth. With ``expand_lists`` a list or tuple *inside* a
    namespace becomes indexed paths (``k/0``, ``k/1``: goodseed's rule); otherwise it is a leaf.
    """
    items = vars(value) if is_namespace(value) else value
    if not isinstance(items, Mapping):
        return [(prefix, value)]
    out: list[tuple[str, Any]] = []
    for key, item in items.items():
        path = join(prefix, str(key))
        if expand_lists and isinstance(item, (list, tuple)):
            for index, element in enumerate(item):
                out.extend(flatten(join(path, str(index)), element, expand_lists=True))
        else:
            out.extend(flatten(path, item, expand_lists=expand_lists))
    return out


class SeriesSteps:
    """Per-path step counters.

    ``step=None`` takes the path's next step (0 first, then one past the highest step the path
    has seen). An explicit step must be an int (integral floats and numpy ints accepted;
    ``TypeError``/``ValueError`` otherwise) and moves the counter past it.
    """

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()  # threads logging to one series get distinct steps

    def take(self, path: str, step: Any) -> int:
        """The step for a value of ``path`` (goodseed: explicit steps in any order)."""
        explicit = None if step is None else as_step(step)
        with self._lock:
            upcoming = self._next.get(path, 0)
            chosen = upcoming if explicit is None else explicit
            self._next[path] = max(upcoming, chosen + 1)
        return chosen

    def take_increasing(self, path: str, step: Any) -> int | None:
        """Like :meth:`take`, but an explicit step not above the path's last one is refused
        (Neptune): None, and the caller skips the value."""
        explicit = None if step is None else as_step(step)
        with self._lock:
            upcoming = self._next.get(path, 0)
            if explicit is not None and explicit < upcoming:
                return None
            chosen = upcoming if explicit is None else explicit
            self._next[path] = chosen + 1
        return chosen


def artifact_name(path: str) -> str:
    """An artifact name for a field path: ``/`` → ``.``; ``\\`` and ``:`` → ``_``."""
    name = path.translate(_BAD_NAME_CHARS).strip(" .") or "file"
    return name[:_ARTIFACT_NAME_MAX_CHARS]


def string_line(path: str, step: int, value: str) -> str:
    """The log line of one string-series value: ``[<path> step=<step>] <value>``, each NUL
    replaced by U+FFFD and each lone surrogate by ``?``: the libraries mimicked take any text,
    and the collector rejects a line holding NUL and no request can carry a lone surrogate
    (``run.log_text`` would raise, in the wandb shim at a later commit): ``kept_text``."""
    return kept_text(f"[{path} step={step}] {value}")


class Recorder:
    """One shim run's writes into a rundial run (a :class:`rundial.Run` or a ``NoopRun``).

    It keeps what the shim may read back without the network: the typed values assigned
    (``values``, tags included) and the last value of each series (``last``). ``sys/name`` and
    ``sys/tags`` also edit the run's name and tags, except the tags of a resumed run
    (``edit_tags=False``: a run edit replaces the tags, and the earlier ones are unknown here). Thread-safe for
    concurrent writers of different paths (one lock around the small bookkeeping).
    """

    def __init__(self, run: rd.Run | rd.NoopRun, *, name: str | None = None,
                 tags: Any = (), edit_tags: bool = True) -> None:
        self.run = run
        self.values: dict[str, Any] = {}
        self.last: dict[str, Any] = {}
        self._marked: set[str] = set()
        self._lock = threading.Lock()
        self._meta: dict[str, Any] = {"runName": name, "tags": frozenset(tags or ())}
        self._edit_tags = edit_tags  # False for a resumed run: its earlier tags are unknown here

    def has(self, path: str) -> bool:
        """Whether this process assigned or logged something at ``path``."""
        return path in self.values or path in self.last

    @property
    def ended(self) -> bool:
        """Whether the rundial run has ended (by this shim, ``finish`` or rundial's hooks)."""
        return self.run.state in TERMINAL_STATES

    def assign(self, entries: Mapping[str, Any]) -> None:
        """Set typed config values (see :func:`rundial.compat._typed.encode_entry`).

        Validated before anything is kept: when an entry has no typed form or the run refuses
        the patch (``update_config`` raises: a lone surrogate, say), the values read back, the
        typed markers and the run's name and tags are unchanged."""
        with self._lock:
            patch, typed = self._patch(entries)
        if patch:
            self.run.update_config(patch)
        self._edit_meta(entries)
        with self._lock:
            for key, value in entries.items():
                if typed[key]:
                    self._marked.add(key)
                else:
                    self._marked.discard(key)
                self.values[key] = value

    def _patch(self, entries: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, bool]]:
        """``(config patch, whether each key now holds a typed value)``; changes nothing."""
        patch: dict[str, Any] = {}
        typed: dict[str, bool] = {}
        for key, value in entries.items():
            encoded = encode_entry(key, value)
            marker = MARKER_PREFIX + key
            typed[key] = marker in encoded
            if not typed[key] and key in self._marked:  # a typed value replaced by a plain one
                encoded[marker] = None
            patch.update(encoded)
        return patch, typed

    def _edit_meta(self, entries: Mapping[str, Any]) -> None:
        """``sys/name`` and ``sys/tags`` also edit the run's name and tags (when they changed
        and fit a run edit's limits; otherwise one warning, and they stay config only)."""
        edit: dict[str, Any] = {}
        seen: dict[str, Any] = {}  # kept once the run took the edit (it may raise)
        name, tags = entries.get("sys/name"), entries.get("sys/tags")
        if isinstance(name, str) and name != self._meta["runName"]:
            seen["runName"] = name
            if 1 <= len(name.strip()) <= RUN_NAME_MAX_CHARS:
                edit["runName"] = name.strip()
            else:
                warn_user("rundial: sys/name is empty or over 512 characters; it is kept in the "
                          "config but does not rename the run")
        if (self._edit_tags and isinstance(tags, (set, frozenset))
                and frozenset(tags) != self._meta["tags"]):
            seen["tags"] = frozenset(tags)
            if len(tags) <= EDIT_TAGS_MAX and all(
                    1 <= len(str(t).strip()) <= EDIT_TAG_MAX_CHARS for t in tags):
                edit["tags"] = sorted(str(t).strip() for t in tags)
            else:
                warn_user("rundial: the run's tags can be edited only as at most 64 tags of "
                          "1-64 characters; sys/tags is kept in the config only")
        update = getattr(self.run, "_update_meta", None)
        if edit and update is not None:
            update(edit)
        self._meta.update(seen)

    def add_tags(self, path: str, tags: Any, *, remove: bool = False) -> None:
        """Add (or remove) ``str | list[str]`` to the string set at ``path`` (``sys/tags``).

        ``TypeError`` when ``path`` holds a value that is not a string set."""
        items = {tags} if isinstance(tags, str) else {str(t) for t in tags}
        with self._lock:
            current = self.values.get(path, set())
        if not isinstance(current, (set, frozenset)):
            raise TypeError(f"{path!r} holds a {type(current).__name__}, not a string set")
        self.assign({path: current - items if remove else current | items})

    def log_number(self, path: str, value: Any, step: int, time_ms: int | None) -> None:
        """One metric point (queued; the rundial worker drops NaN/inf with a warning)."""
        self.run.log({path: value}, step=step, time_ms=time_ms)
        self.last[path] = value

    def log_string(self, path: str, value: str, step: int, time_ms: int | None) -> None:
        """One string-series value, as the ``info`` log line :func:`string_line`."""
        self.run.log_text(string_line(path, step, value), "info", time_ms=time_ms)
        self.last[path] = value

    def upload(self, path: str, file: str | Path) -> bool:
        """Queue ``file`` as artifact :func:`artifact_name` (type ``file``, metadata
        ``{"field": path}``); ``ValueError`` when it does not exist; False when not queued."""
        if not isinstance(file, (str, Path)):
            raise TypeError(f"upload takes a file path (str or Path), not {type(file).__name__}")
        return self.run.log_artifact(file, name=artifact_name(path), type="file",
                                     metadata={"field": path})

    def end(self, status: str, reason: str | None = None, timeout_s: float | None = None) -> bool:
        """End the rundial run: ``completed``, ``failed`` or ``aborted``."""
        untrack(self)
        if status == "failed":
            return self.run.fail(reason, timeout_s=timeout_s)
        if status == "aborted":
            return self.run.abort(reason, timeout_s=timeout_s)
        return self.run.finish(timeout_s=timeout_s)


def time_ms_of(timestamp: Any) -> int | None:
    """Epoch seconds (Neptune's ``timestamp=``) as epoch milliseconds, or None."""
    if timestamp is None:
        return None
    if hasattr(timestamp, "timestamp"):  # a datetime
        timestamp = timestamp.timestamp()
    return as_time_ms(float(timestamp) * 1000)


def split_project(project: str | None) -> tuple[str | None, str | None]:
    """``"workspace/project"`` → ``(workspace, project)``; ``"project"`` → ``(None, project)``."""
    if project is None:
        return None, None
    if not isinstance(project, str):
        raise TypeError(f"project must be a str, not {type(project).__name__}")
    workspace, sep, name = project.partition(SEP)
    if not sep:
        return None, project
    if not workspace or not name or SEP in name:
        raise ValueError(f"project must be 'workspace/project' or 'project', not {project!r}")
    return workspace, name


def start_run(project: str | None, api_key: str | None, **init: Any) -> rd.Run | rd.NoopRun:
    """``rd.init`` for a shim: ``project`` split into workspace and project.

    ``api_key`` is used only when it is a rundial key (``rdk_…``); another tracker's token is
    ignored with a warning, and the key comes from ``RUNDIAL_API_KEY`` or the CLI's config.
    """
    workspace, name = split_project(project)
    return rd.init(workspace=workspace, project=name, api_key=rundial_key(api_key), **init)


def rundial_key(api_key: str | None) -> str | None:
    """``api_key`` when it is a rundial key (``rdk_…``); another tracker's token is None, with
    a warning (then ``RUNDIAL_API_KEY`` or the CLI's stored key is used)."""
    if api_key is not None and not str(api_key).startswith("rdk_"):
        warn_user("rundial: the API token given is not a rundial key (rdk_...); it is ignored "
                  "and RUNDIAL_API_KEY or the rundial CLI's stored key is used")
        return None
    return api_key


def unsupported(library: str, name: str, doc: str) -> NotImplementedError:
    """The error for a part of a library's API the shim does not offer."""
    return NotImplementedError(f"{library}: {name} is not supported by rundial's {library} "
                               f"shim; see {doc} for what is")


# -- exit: stop shim runs before rundial's own hook finishes the underlying runs ----------
_open: dict[int, Callable[[], None]] = {}
_open_lock = threading.Lock()


def track(recorder: Recorder, close_at_exit: Callable[[], None]) -> None:
    """Call ``close_at_exit`` at interpreter exit unless the run ended before."""
    with _open_lock:
        _open[id(recorder)] = close_at_exit


def untrack(recorder: Recorder) -> None:
    with _open_lock:
        _open.pop(id(recorder), None)


def _close_all() -> None:
    """The atexit hook: registered after rundial's (imported first), so it runs before it."""
    with _open_lock:
        closers = list(_open.values())
        _open.clear()
    for close in closers:
        try:
            close()
        except BaseException:
            pass


atexit.register(_close_all)
