"""What ``fetch``, ``fetch_last``, ``fetch_values``, ``exists``, ``get_structure`` and
``download`` return for a Neptune-style run (docs/neptune-compat.md, "Reading a run back").

Values this process assigned or appended are answered from memory, as before (no network).
Anything else is read from the collector by a :class:`~._reader.RunReader` (blocking, like
Neptune's fetches): config values with their types restored, the run's own ``sys/*`` fields,
metric points, string-series log lines, uploaded files and images. A run without a reader
(offline, debug) knows only its own values: anything else is a ``MissingFieldException``.
Before reading a series or a file this process wrote, its queued data is flushed (at most
``flush_seconds``), so the read sees it.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from rundial.compat._keyed import SEP, Recorder
from rundial.compat._typed import restore_types
from rundial.compat.neptune._reader import RunReader
from rundial.compat.neptune.exceptions import MissingFieldException, RunNotFound

__all__ = ["Fetcher", "nest", "series_frame", "sys_fields", "tree"]

UNTITLED = "Untitled"
T = TypeVar("T")


def _unregistered_is_missing(method: Callable[..., T]) -> Callable[..., T]:
    """A run this process writes may not be registered yet: the collector's "no such run"
    means nothing is stored at the path (``MissingFieldException``), as for Neptune."""
    @functools.wraps(method)
    def read(self: Fetcher, path: str, *args: Any) -> T:
        try:
            return method(self, path, *args)
        except RunNotFound:
            if self._local is None:
                raise
            raise MissingFieldException(path) from None
    return read


class Fetcher:
    """Reads for one run: ``local`` (this process's writes, or None in read-only mode), then
    ``reader`` (None: nothing beyond the local values). ``flush`` delivers queued writes."""

    def __init__(self, run_id: str, local: Recorder | None, reader: Callable[[], RunReader | None],
                 flush: Callable[[], None]) -> None:
        self._run_id = run_id
        self._local = local
        self._reader = reader
        self._flush = flush

    # -- single values ----------------------------------------------------------------------
    @_unregistered_is_missing
    def fetch(self, path: str) -> Any:
        """The value at ``path``, or the atoms under namespace ``path`` as a nested dict."""
        if path == "sys/id":
            return self._run_id
        local = self._local.values if self._local is not None else {}
        if path in local:
            return local[path]
        if self._local is not None and _under(path, local):
            return nest(local, path)
        atoms = self._server_atoms(path)
        if path in atoms:
            return atoms[path]
        if _under(path, atoms):
            return nest(atoms, path)
        raise MissingFieldException(path)

    @_unregistered_is_missing
    def fetch_last(self, path: str) -> Any:
        """The last value of the numeric or string series ``path``."""
        if self._local is not None and path in self._local.last:
            return self._local.last[path]
        reader = self._need(path)
        last = reader.points(path, last_only=True) or reader.strings(path)[-1:]
        if not last:
            raise MissingFieldException(path)
        return last[-1][2]

    @_unregistered_is_missing
    def fetch_values(self, path: str, include_timestamp: bool = True) -> Any:
        """The series ``path`` as a pandas DataFrame (``step``, ``value``[, ``timestamp``])."""
        reader = self._need(path, flush=True)
        rows: list[tuple[int, int, Any]] = list(reader.points(path)) or list(reader.strings(path))
        if not rows:
            raise MissingFieldException(path)
        return series_frame(rows, include_timestamp)

    # -- the structure ----------------------------------------------------------------------
    def paths(self) -> set[str]:
        """Every field path: assigned values, series, files and images (string series only
        as far as this process appended them: finding them all would read every log line)."""
        found = set(self._local.values) | set(self._local.last) if self._local else set()
        reader = self._reader()
        if reader is not None:
            found |= set(self._server_atoms(""))
            found |= set(reader.metric_keys()) | set(reader.media_keys())
            found |= set(reader.file_fields())
        return found

    def exists(self, path: str) -> bool:
        """Whether a field or a namespace is at ``path``."""
        if path == "sys/id":
            return True
        if self._local is not None and (self._local.has(path) or _under(path, self._local.values)):
            return True
        if self._reader() is None:
            return False
        try:
            known = self.paths()
            return path in known or _under(path, known) or bool(self._need(path).strings(path))
        except RunNotFound:
            if self._local is None:
                raise
            return False  # not registered yet: only this process's values exist

    # -- files ------------------------------------------------------------------------------
    @_unregistered_is_missing
    def download(self, path: str, destination: str | None) -> None:
        """A file field to ``destination`` (a file, or a directory to hold
        ``<field name><ext>``; the working directory by default); an image series to the
        directory ``destination`` (default ``neptune/<field name>``) as ``<index><ext>``."""
        reader = self._need(path, flush=True)
        located = reader.file_of_field(path)
        if located is not None:
            artifact_id, file_path = located
            reader.download(artifact_id, file_path, file_target(path, file_path, destination))
            return
        images = reader.images(path)
        if not images:
            raise MissingFieldException(path)
        folder = series_folder(path, destination)
        for index, (_step, artifact_id, file_path) in enumerate(images):
            reader.download(artifact_id, file_path, folder / f"{index}{_ext(file_path)}")

    @_unregistered_is_missing
    def fetch_extension(self, path: str) -> str:
        """The extension (without the dot) of the file uploaded to field ``path``."""
        located = self._need(path, flush=True).file_of_field(path)
        if located is None:
            raise MissingFieldException(path)
        return _ext(located[1])[1:]

    @_unregistered_is_missing
    def download_last(self, path: str, destination: str | None) -> None:
        """The last image of the series ``path`` into the directory ``destination``."""
        images = self._need(path, flush=True).images(path)
        if not images:
            raise MissingFieldException(path)
        _step, artifact_id, file_path = images[-1]
        self._need(path).download(artifact_id, file_path, series_folder(path, destination)
                                  / f"{len(images) - 1}{_ext(file_path)}")

    # -- plumbing ---------------------------------------------------------------------------
    def _need(self, path: str, *, flush: bool = False) -> RunReader:
        reader = self._reader()
        if reader is None:
            raise MissingFieldException(path)
        if flush and self._local is not None and self._local.has(path):
            self._flush()
        return reader

    def _server_atoms(self, path: str) -> dict[str, Any]:
        reader = self._reader()
        if reader is None:
            return {}
        return sys_fields(reader.details(), self._run_id)


def sys_fields(run: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The run's fields as Neptune reads them: its config (types restored) plus ``sys/id``,
    ``sys/name``, ``sys/tags``, ``sys/state``, ``sys/failed``, ``sys/creation_time`` and
    ``sys/modification_time`` from the run itself."""
    fields = restore_types(run.get("config") or {})
    tags = {str(t) for t in run.get("tags") or []}
    config_tags = fields.get("sys/tags")
    fields.update({
        "sys/id": run_id,
        "sys/name": run.get("runName") or fields.get("sys/name") or UNTITLED,
        "sys/tags": tags | (config_tags if isinstance(config_tags, set) else set()),
        "sys/state": "Active" if run.get("status") == "running" else "Inactive",
        "sys/failed": run.get("status") == "failed",
    })
    for name, key in (("creation_time", "startedAtMs"), ("modification_time", "updatedAtMs")):
        if isinstance(run.get(key), int):
            fields["sys/" + name] = datetime.fromtimestamp(run[key] / 1000, timezone.utc)
    return fields


def tree(paths: Iterable[str], leaf: Callable[[str], Any]) -> dict[str, Any]:
    """``paths`` as nested dicts whose leaves are ``leaf(path)`` (a path that is also a
    namespace keeps the namespace)."""
    out: dict[str, Any] = {}
    for path in sorted(paths, key=lambda p: -p.count(SEP)):
        *parents, name = path.split(SEP)
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node.setdefault(name, leaf(path))
    return out


def nest(flat: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The values under ``prefix`` (all of them for ``""``) as nested dicts, string sets left
    out (Neptune's namespace fetch returns single values only)."""
    out: dict[str, Any] = {}
    start = len(prefix) + 1 if prefix else 0
    for key, value in flat.items():
        if (prefix and not key.startswith(prefix + SEP)) or isinstance(value, (set, frozenset)):
            continue
        *parents, leaf = key[start:].split(SEP)
        node = out
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # a value and a namespace of one name: keep both
                child = node[part] = {}
            node = child
        if not isinstance(node.get(leaf), dict):
            node[leaf] = value
    return out


def series_frame(rows: Iterable[tuple[int, int, Any]], include_timestamp: bool) -> Any:
    """A pandas DataFrame as Neptune's ``fetch_values`` builds it: ``step`` (a float, as
    Neptune's steps are), ``value`` and, when asked, ``timestamp`` (a naive local datetime).
    ``ModuleNotFoundError`` without pandas (Neptune requires it)."""
    try:
        pd: Any = importlib.import_module("pandas")  # lazily: `import rundial` stays light
    except ModuleNotFoundError:
        raise ModuleNotFoundError("neptune: fetch_values() returns a pandas DataFrame; "
                                  "install pandas (pip install pandas)", name="pandas") from None
    data: dict[str, list[Any]] = {"step": [], "value": []}
    if include_timestamp:
        data["timestamp"] = []
    for step, time_ms, value in rows:
        data["step"].append(float(step))
        data["value"].append(value)
        if include_timestamp:
            data["timestamp"].append(datetime.fromtimestamp(time_ms / 1000))
    return pd.DataFrame(data)


def file_target(field: str, stored_name: str, destination: str | None) -> Path:
    """Where ``download`` writes a file field: ``destination`` itself, or
    ``<field's last segment><stored file's extension>`` inside ``destination`` (when it is a
    directory) or the working directory (Neptune's rule)."""
    own_name = field.rsplit(SEP, 1)[-1] + _ext(stored_name)
    if destination is None:
        return Path(own_name)
    if os.path.isdir(destination):
        return Path(destination) / own_name
    return Path(destination)


def series_folder(field: str, destination: str | None) -> Path:
    """The directory an image series downloads to (created): ``destination``, else
    ``neptune/<field's last segment>`` (Neptune's default)."""
    folder = Path(destination) if destination is not None else (
        Path("neptune") / field.rsplit(SEP, 1)[-1])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _ext(file_name: str) -> str:
    return os.path.splitext(file_name.rsplit("/", 1)[-1])[1]


def _under(path: str, keys: Iterable[str]) -> bool:
    if not path:
        return any(True for _ in keys)
    prefix = path + SEP
    return any(key.startswith(prefix) for key in keys)
