"""``wandb.save(glob_str, base_path=None, policy="live")``: files as run file artifacts.

Each matching file becomes an artifact named ``file-<path>`` (the path relative to
``base_path``, or to the glob's directory, with characters artifact names refuse folded to
``-``), type ``run_file``, metadata ``{"path": <relative path>, "policy": policy}``, queued with
``run.log_artifact`` (non-blocking; uploaded by rundial's artifact worker).

* ``policy="now"`` uploads the files matching now.
* ``policy="live"`` (W&B's default) and ``"end"`` upload at the end of the run (``finish``,
  leaving ``with``, or interpreter exit), the glob evaluated then, so the final content is
  kept. rundial does not re-upload a file each time it changes, as W&B does for ``live``.

``ValueError`` for an unknown policy, or a glob that climbs out of ``base_path``.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Any

POLICIES = ("live", "end", "now")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def artifact_name(relative: str) -> str:
    """``file-<relative path>`` with unsafe characters folded to ``-`` (at most 200 chars)."""
    return "file-" + (_UNSAFE.sub("-", relative).strip("-.")[:195] or "file")


class RunFiles:
    """The files one run saves (see the module docstring)."""

    def __init__(self, rd_run: Any) -> None:
        self._rd = rd_run
        self._at_end: list[tuple[str, str | None, str]] = []

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
        if policy == "now":
            self._upload(matches, policy)
        else:
            self._at_end.append((pattern, base_path, policy))
        return [path for path, _rel in matches]

    def at_end(self) -> None:
        """Upload what ``live``/``end`` saves match now (once)."""
        pending, self._at_end = self._at_end, []
        seen: set[str] = set()
        for pattern, base_path, policy in pending:
            fresh = [m for m in _matches(pattern, base_path) if m[0] not in seen]
            seen.update(path for path, _rel in fresh)
            self._upload(fresh, policy)

    def _upload(self, matches: list[tuple[str, str]], policy: str) -> None:
        for path, relative in matches:
            self._rd.log_artifact(path, name=artifact_name(relative), type="run_file",
                                  metadata={"path": relative, "policy": policy})


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
