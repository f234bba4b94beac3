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
        self._run._recorder.add_tags(self._path, values)

    def remove(self, values: Any, *, wait: bool = False) -> None:
        """Remove ``str | list[str]`` from a string set."""
        self._run._recorder.add_tags(self._path, values, remove=True)

    def upload(self, value: Any, *, wait: bool = False) -> None:
        """Queue the file at ``value`` (str, Path or ``File(path)``) as an artifact, or a
        ``File.as_image(...)`` as image media; returns at once. ``ValueError`` when the file
        does not exist."""
        self._run._upload(self._path, value)

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
        raise _keyed.unsupported("neptune", f'run["..."].{name}', DOC)

    def __repr__(self) -> str:
        return f"<neptune Handler {self._path!r} of {self._run._rd.id}>"
