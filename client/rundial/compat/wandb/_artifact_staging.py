"""A draft ``wandb.Artifact``'s files, staged in one directory of their own.

The directory (``rundial-wandb-artifact-*`` under the system's temporary directory) is created
on the first file. Files are **copied** in when added (W&B's default ``mutable`` policy: a
file changed afterwards does not change the artifact); ``policy="immutable"`` makes a symbolic
link to the original instead (no copy; rundial's uploader follows it). A path added again with
other content is a ``ValueError`` unless ``overwrite``; an unsafe path (``..``, ``.``, empty
segments, a backslash or NUL) is a ``ValueError``. Once :meth:`Staging.freeze` is called (the
artifact was logged) every change raises :class:`ArtifactFinalizedError`, and the caller owns
the directory; until then it is removed when the staging object is garbage-collected.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

POLICIES = ("mutable", "immutable")


class ArtifactFinalizedError(AttributeError):
    """W&B's error for changing an artifact after it was logged."""


class Staging:
    """The files of one draft artifact (see the module docstring)."""

    def __init__(self, label: str) -> None:
        self._label = label  # the artifact's name, for messages
        self.root: Path | None = None
        self.frozen = False
        self._cleanup: weakref.finalize[Any, Any] | None = None

    def entries(self) -> dict[str, int]:
        """Path inside the artifact -> size in bytes."""
        root = self.root
        if root is None:
            return {}
        return {p.relative_to(root).as_posix(): p.stat().st_size
                for p in sorted(root.rglob("*")) if p.is_file()}

    def add_file(self, source: str | os.PathLike[str], name: str, policy: str | None,
                 overwrite: bool) -> None:
        """Copy (or link) the file ``source`` to ``name``."""
        if not os.path.isfile(source):
            raise ValueError(f"Path is not a file: {os.fspath(source)!r}")
        policy = policy or "mutable"
        if policy not in POLICIES:
            raise ValueError(f"Invalid policy {policy!r}. Policy may only be `mutable` or "
                             "`immutable`.")
        target = self._free(name, Path(source).absolute(), overwrite)
        if policy == "immutable":
            target.symlink_to(Path(source).absolute())
        else:
            shutil.copyfile(source, target)

    def add_bytes(self, name: str, data: bytes, overwrite: bool) -> None:
        """Write ``data`` as the file ``name``."""
        target = self.target(name)
        if target.is_file() and not overwrite and target.read_bytes() != data:
            raise ValueError(f"Cannot add the same path twice: {name!r}")
        if target.is_symlink():
            target.unlink()
        target.write_bytes(data)

    def _free(self, name: str, source: Path, overwrite: bool) -> Path:
        """The target of ``name``, emptied; ``ValueError`` if it holds other content."""
        target = self.target(name)
        if target.exists() or target.is_symlink():
            if not overwrite and not filecmp.cmp(source, target, shallow=False):
                raise ValueError(f"Cannot add the same path twice: {name!r}")
            target.unlink()
        return target

    @contextmanager
    def open_new(self, name: str, mode: str, encoding: str | None) -> Iterator[IO[Any]]:
        """Open ``name`` for writing (``"x"`` modes: ``ValueError`` when it exists)."""
        target = self.target(name)
        try:
            with open(target, mode, encoding=encoding) as handle:
                yield handle
        except FileExistsError:
            raise ValueError(f"File with name {name!r} already exists at {str(target)!r}") from None

    def remove(self, name: str) -> None:
        """Remove a file or a directory of files; ``FileNotFoundError`` if there is none."""
        target = self.target(name)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        else:
            raise FileNotFoundError(f"Cannot remove missing entry: {name!r}")

    def target(self, name: str) -> Path:
        """The staged path of ``name`` (parent directories created)."""
        if self.frozen:
            raise ArtifactFinalizedError(
                f"artifact {self._label!r} was logged: it cannot change; create a new "
                "wandb.Artifact for a new version")
        if not isinstance(name, str) or not name.strip("/"):
            raise ValueError(f"Invalid artifact path: {name!r}")
        rel = name.replace(os.sep, "/").lstrip("/")
        if any(s in ("", ".", "..") for s in rel.split("/")) or "\\" in rel or "\x00" in rel:
            raise ValueError(f"refusing unsafe artifact path {name!r}")
        target = self._root().joinpath(*rel.split("/"))  # only files are ever links here
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _root(self) -> Path:
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="rundial-wandb-artifact-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.root), True)
        return self.root

    def freeze(self) -> Path | None:
        """No more changes; the caller now owns (and removes) the directory, if any."""
        self.frozen = True
        if self._cleanup is not None:
            self._cleanup.detach()
            self._cleanup = None
        return self.root
