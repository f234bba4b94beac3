"""``run["path"]`` of the Neptune-style run: a field or a namespace (docs/neptune-compat.md).

A handle holds only its run and path; every call is forwarded to the run
(:mod:`rundial.compat.neptune._run`), which decides where the data goes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rundial.compat import _keyed

if TYPE_CHECKING:
    from rundial.compat.neptune._run import Run

DOC = "docs/neptune-compat.md"


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
        self._run._add_tags(self._path, values, False)

    def remove(self, values: Any, *, wait: bool = False) -> None:
        """Remove ``str | list[str]`` from a string set."""
        self._run._add_tags(self._path, values, True)

    def upload(self, value: Any, *, wait: bool = False, include_plotlyjs: Any = True) -> None:
        """Queue the file at ``value`` (str, Path or a ``File`` of a path or in-memory content)
        as an artifact, or a ``File.as_image(...)``, PIL image or matplotlib figure as image
        media; a plotly, altair or bokeh chart is uploaded as ``File.as_html(value,
        include_plotlyjs=...)``, as Neptune does. Returns at once. ``ValueError`` when the file
        does not exist, ``TypeError`` for other values."""
        self._run._upload(self._path, value, include_plotlyjs)

    def track_files(self, path: str, *, destination: str | None = None,
                    wait: bool = False) -> None:
        """Record the hash of the local files at ``path`` (Neptune's artifact field) as this
        field's text value; reads the files now. ``ValueError`` for no files or a wildcard,
        ``NotImplementedError`` for a remote location (:mod:`rundial.compat.neptune._tracked`)."""
        self._run._track_files(self._path, path, destination)

    # -- reads (blocking when they need the collector: rundial.compat.neptune._fetch) -------
    def fetch(self) -> Any:
        """The value at this path (a namespace: its single values as a nested dict).
        ``MissingFieldException`` (a ``KeyError``) when there is none; ``FetchError`` when
        the collector cannot be read."""
        return self._run._fetcher.fetch(self._path)

    def fetch_hash(self) -> str:
        """The hash ``track_files`` recorded here (``MissingFieldException`` when none)."""
        return str(self.fetch())

    def fetch_last(self) -> Any:
        """The last value of this numeric or string series (``MissingFieldException`` when
        none)."""
        return self._run._fetcher.fetch_last(self._path)

    def fetch_values(self, *, include_timestamp: bool = True, progress_bar: Any = None) -> Any:
        """This series as a pandas DataFrame: ``step``, ``value`` and (by default)
        ``timestamp`` columns, as Neptune returns it."""
        return self._run._fetcher.fetch_values(self._path, include_timestamp)

    def download(self, destination: str | None = None, progress_bar: Any = None) -> None:
        """Download the file uploaded here, or every image of this image series (Neptune's
        destination rules: docs/neptune-compat.md)."""
        self._run._fetcher.download(self._path, _destination(destination))

    def fetch_extension(self) -> str:
        """The extension of the file uploaded here, without the dot (``"pt"``)."""
        return str(self._run._fetcher.fetch_extension(self._path))

    def download_last(self, destination: str | None = None) -> None:
        """Download the last image of this image series into the directory ``destination``."""
        self._run._fetcher.download_last(self._path, _destination(destination))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _keyed.unsupported("neptune", f'run["..."].{name}', DOC)

    def __repr__(self) -> str:
        return f"<neptune Handler {self._path!r} of {self._run._rd.id}>"


def _destination(destination: Any) -> str | None:
    if destination is not None and not isinstance(destination, str):
        raise TypeError(f"destination must be a str or None, not {type(destination).__name__}")
    return destination
