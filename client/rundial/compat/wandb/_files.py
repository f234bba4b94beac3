"""``wandb.save(glob_str, base_path=None, policy="live")``: files as run file artifacts.

Each matching file becomes an artifact named ``file-<path>`` (the path relative to
``base_path``, or to the glob's directory, with characters artifact names refuse folded to
``-``), type ``run_file``, metadata ``{"path": <relative path>, "policy": policy}``, queued with
``run.log_artifact`` (non-blocking; uploaded by rundial's artifact worker).

* ``policy="now"`` uploads the files matching now.
* ``policy="end"`` uploads at the end of the run (``finish``, leaving ``with``, or interpreter
  exit), the glob evaluated then, so the final content is kept.
* ``policy="live"`` (W&B's default) does both: the files matching now at once, and at the end
  the glob again, uploading files that are new or changed (size or modification time) since.
  rundial does not watch files in between, as W&B does for ``live``.

``run.dir`` is a directory of this ``init``'s own (created on first use, under the system's
temporary directory: ``rundial-wandb/<run id>/run-<YYYYmmdd_HHMMSS>-<random>/files``), so a
resumed run in a later process never finds, nor uploads again, what an earlier process left in
its own (W&B also gives each process a ``run-<timestamp>-<id>`` directory); every file in it at
the end of the run is uploaded the same way (path relative to it, policy ``end``), as W&B
uploads its run directory.

``run.log_code(root=".", name=None, include_fn=..., exclude_fn=...)`` copies the matching files
(default: ``*.py``; directories named ``wandb``, ``.git``, ``.venv``, ``venv``, ``__pycache__``,
``node_modules`` and ``site-packages`` are skipped) into ``rundial-wandb/<run id>/code`` and
queues that directory as one artifact (``name``, default ``source-<run id>``, type ``code``).

``ValueError`` for an unknown policy, or a glob that climbs out of ``base_path``.
"""

from __future__ import annotations

import glob
import inspect
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLICIES = ("live", "end", "now")
SKIPPED_DIRS = frozenset({"wandb", ".git", ".venv", "venv", "__pycache__", "node_modules",
                          "site-packages"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(text: str) -> str:
    """``text`` with characters artifact names refuse folded to ``-`` (at most 195 chars)."""
    return _UNSAFE.sub("-", text).strip("-.")[:195] or "file"


def artifact_name(relative: str) -> str:
    """``file-<relative path>``, made safe (:func:`safe_name`)."""
    return "file-" + safe_name(relative)


class RunFiles:
    """The files one run saves (see the module docstring)."""

    def __init__(self, rd_run: Any) -> None:
        self._rd = rd_run
        self._at_end: list[tuple[str, str | None, str]] = []
        self._uploaded: dict[str, tuple[int, int]] = {}  # path -> (mtime ns, size) when queued
        self._home = Path(tempfile.gettempdir()) / "rundial-wandb" / str(rd_run.id)
        self._dir: Path | None = None
        self._code_calls = 0

    @property
    def dir(self) -> str:
        """This ``init``'s directory (created now, new and empty); its files are uploaded at
        the end. ``OSError`` when the temporary directory is not writable."""
        if self._dir is None:
            self._home.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d_%H%M%S")
            self._dir = Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=self._home)) / "files"
            self._dir.mkdir()
            self._at_end.append((str(self._dir / "**" / "*"), str(self._dir), "end"))
        return str(self._dir)

    def log_code(self, root: str, name: str | None,
                 include: Callable[[str], bool], exclude: Callable[[str], bool]) -> str | None:
        """Copy the matching files under ``root`` and queue them as one ``code`` artifact;
        returns the artifact name (None when nothing matched)."""
        base = Path(root).expanduser().absolute()
        target = self._fresh_code_dir()
        copied = 0
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
            for file in sorted(files):
                path = os.path.join(folder, file)
                if include(path) and not exclude(path):
                    dest = target / os.path.relpath(path, base)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest)
                    copied += 1
        if not copied:
            return None
        artifact = safe_name(name or f"source-{self._rd.id}")
        self._rd.log_artifact(target, name=artifact, type="code",
                              metadata={"root": str(base), "files": copied})
        return artifact

    def _fresh_code_dir(self) -> Path:
        """``code``, ``code-2``, ...: the first name not taken, so each call gets its own copy
        (an earlier one may still be uploading) and files a former process of this run id
        left there never join it."""
        while True:
            self._code_calls += 1
            n = self._code_calls
            target = self._home / ("code" if n == 1 else f"code-{n}")
            if not target.exists():
                return target

    def save(self, glob_str: str, base_path: str | None, policy: str) -> list[str]:
        """Queue or remember the files; returns the paths matched now."""
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, not {policy!r}")
        if not isinstance(glob_str, (str, os.PathLike)):
            raise TypeError(f"wandb.save takes a path or glob, not {type(glob_str).__name__}")
        pattern = str(Path(os.fspath(glob_str)).expanduser().absolute())
        if base_path is not None:
            base = Path(base_path).expanduser().absolute()
            if not Path(pattern).is_relative_to(base):
                raise ValueError(f"{glob_str!r} is not inside base_path {base_path!r}")
        matches = _matches(pattern, base_path)
        if policy != "end":
            self._upload(matches, policy)
        if policy != "now":
            self._at_end.append((pattern, base_path, policy))
        return [path for path, _rel in matches]

    def at_end(self) -> None:
        """Upload what ``live``/``end`` saves match now and was not queued as it is (once)."""
        pending, self._at_end = self._at_end, []
        seen: set[str] = set()
        for pattern, base_path, policy in pending:
            fresh = [m for m in _matches(pattern, base_path) if m[0] not in seen]
            seen.update(path for path, _rel in fresh)
            self._upload([m for m in fresh if self._uploaded.get(m[0]) != _version(m[0])], policy)

    def _upload(self, matches: list[tuple[str, str]], policy: str) -> None:
        for path, relative in matches:
            self._uploaded[path] = _version(path)
            self._rd.log_artifact(path, name=artifact_name(relative), type="run_file",
                                  metadata={"path": relative, "policy": policy})


def _version(path: str) -> tuple[int, int]:
    """``(modification time ns, size)`` of a file, ``(-1, -1)`` when it is gone."""
    try:
        stat = os.stat(path)
    except OSError:
        return (-1, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _matches(pattern: str, base_path: str | None) -> list[tuple[str, str]]:
    """``(absolute path, relative path)`` of the files matching ``pattern``, sorted."""
    base = Path(base_path).expanduser().absolute() if base_path else Path(_static_dir(pattern))
    out = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        if os.path.isfile(path):
            out.append((path, Path(path).relative_to(base).as_posix()))
    return out


def _static_dir(pattern: str) -> str:
    """The directory part of ``pattern`` before its first wildcard."""
    head = pattern
    while glob.has_magic(head) or not os.path.isdir(head):
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    return head


def path_filter(fn: Callable[..., bool], root: str | None) -> Callable[[str], bool]:
    """W&B's ``log_code`` filter rule: ``fn(path, root)`` when ``fn`` takes two parameters,
    else ``fn(path)``."""
    if len(inspect.signature(fn).parameters) == 2:
        return lambda path: bool(fn(path, root))
    return lambda path: bool(fn(path))
