"""``wandb.Artifact``: files staged into one directory, logged as one rundial artifact.

A new artifact is a *draft*: ``add_file``, ``add_dir``, ``new_file`` and ``add`` (a
``wandb.Table`` or ``wandb.Image``, ``_artifact_objects``) put its files in a staging directory
of its own (``_artifact_staging``: copies, as W&B's default ``mutable`` policy makes), at their
path inside the artifact. Adding a path twice with other content is a ``ValueError`` unless
``overwrite=True`` (``merge=True`` for ``add_dir``), as in W&B.

``run.log_artifact(artifact)`` finalizes it (further additions raise
:class:`ArtifactFinalizedError`) and queues the staging directory as one rundial artifact
(``_artifact_run``); the run then owns the directory and removes it once its uploads are
done. A draft never logged removes its directory when garbage-collected.

An artifact returned by ``run.use_artifact`` wraps rundial's resolved version: ``name``
(``name:vN``), ``version`` (W&B's 0-based ``vN``), ``aliases``, ``type``, ``metadata``,
``description``, ``id``, ``download(root=None)``, ``file(root=None)`` and ``get(name)``.

``save()`` logs a draft to the current run (``wandb.run``). ``add_reference``, ``link`` and
other W&B names raise ``NotImplementedError`` naming ``docs/wandb-compat.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

from rundial.compat.wandb._artifact_objects import object_files, read_object
from rundial.compat.wandb._artifact_refs import checked_name, checked_type, wandb_version
from rundial.compat.wandb._artifact_staging import ArtifactFinalizedError, Staging
from rundial.compat.wandb._errors import DOCS, Unsupported

__all__ = ["Artifact", "ArtifactFinalizedError", "ArtifactNotLoggedError"]
DESCRIPTION_KEY = "wandb.description"  # where the description travels in rundial's metadata


class ArtifactNotLoggedError(AttributeError):
    """W&B's error for what only a logged (here: used) artifact has."""


class Artifact:
    """``wandb.Artifact(name, type, description=None, metadata=None)`` (module docstring)."""

    def __init__(self, name: str, type: str, description: str | None = None,
                 metadata: dict[str, Any] | None = None, incremental: bool = False,
                 use_as: str | None = None, storage_region: str | None = None,
                 digest_algorithm: str = "MD5") -> None:
        self._setup(checked_name(name), checked_type(type, name), description, metadata)

    def _setup(self, name: str, artifact_type: str, description: str | None,
               metadata: dict[str, Any] | None) -> None:
        self._name, self._type = name, artifact_type
        self.description = description
        self._metadata = _checked_metadata(metadata)
        self._staging = Staging(name)
        self._handle: Any = None  # rundial's ArtifactHandle once used
        self._logged_aliases: list[str] = []
        self._waiter: Callable[[float | None], None] | None = None  # set when logged

    @classmethod
    def _from_handle(cls, handle: Any) -> Artifact:
        """The artifact of a version resolved by rundial's ``use_artifact``."""
        metadata = dict(handle.metadata)
        description = metadata.pop(DESCRIPTION_KEY, None)
        artifact = cls.__new__(cls)  # as stored: W&B's name and type rules are not re-applied
        artifact._setup(handle.name, str(handle.artifact.get("artifactType") or "unspecified"),
                        description, metadata)
        artifact._handle = handle
        artifact._staging.frozen = True
        return artifact

    # -- properties ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """``name`` (``name:vN`` for a used artifact, as W&B names a fetched version)."""
        version = self._version()
        return self._name if version is None else f"{self._name}:{version}"

    @property
    def source_name(self) -> str:
        return self.name

    @property
    def type(self) -> str:
        return self._type

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    @metadata.setter
    def metadata(self, metadata: dict[str, Any]) -> None:
        self._metadata = _checked_metadata(metadata)

    @property
    def version(self) -> str:
        """W&B's ``vN`` (0-based) of a used artifact; :class:`ArtifactNotLoggedError` otherwise
        (a version logged by this process is numbered by the collector after upload)."""
        version = self._version()
        if version is None:
            raise ArtifactNotLoggedError(
                f"'Artifact.version' of {self._name!r}: rundial numbers a version when its upload "
                f"finishes; use run.use_artifact('{self._name}:latest').version (see {DOCS})")
        return version

    @property
    def aliases(self) -> list[str]:
        """The aliases of a used version now, or those this process logged it with."""
        return list(self._handle.aliases) if self._handle is not None else list(
            self._logged_aliases)

    @property
    def id(self) -> str | None:
        return None if self._handle is None else str(self._handle.artifact_id)

    @property
    def state(self) -> str:
        return "COMMITTED" if self._handle is not None else "PENDING"

    @property
    def file_count(self) -> int:
        return len(self._entries())

    @property
    def size(self) -> int:
        """Total bytes of the artifact's files."""
        return sum(size for size in self._entries().values())

    def is_draft(self) -> bool:
        return not self._staging.frozen

    def finalize(self) -> None:
        """No more files may be added (``log_artifact`` calls it)."""
        self._staging.frozen = True

    def _logged(self) -> bool:
        """Logged by this process, or used (resolved by the collector)."""
        return self._waiter is not None or self._handle is not None

    def _version(self) -> str | None:
        return None if self._handle is None else wandb_version(self._handle.version)

    def _entries(self) -> dict[str, int]:
        """Path inside the artifact -> size in bytes."""
        if self._handle is not None:
            return {str(f["path"]): int(f["sizeBytes"]) for f in self._handle.files}
        return self._staging.entries()

    # -- adding files (drafts) -------------------------------------------------------------------
    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None,
                 is_tmp: bool | None = False, skip_cache: bool | None = False,
                 policy: str | None = "mutable", overwrite: bool = False) -> None:
        """Add one file at ``name`` (default: its base name); ``ValueError`` when it is not a
        file, for an unsafe ``name`` or a path already added with other content."""
        self._staging.add_file(local_path, os.path.basename(local_path) if name is None else name,
                               policy, overwrite)

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None,
                skip_cache: bool | None = False, policy: str | None = "mutable",
                merge: bool = False) -> None:
        """Add every file under ``local_path`` (symlinks followed, as W&B does), under ``name``
        (default: the artifact's root); ``ValueError`` when it is not a directory."""
        if not os.path.isdir(local_path):
            raise ValueError(f"Path is not a directory: {os.fspath(local_path)!r}")
        if name:
            self._staging.target(name)  # a bad prefix fails before anything is copied
        for folder, dirs, files in os.walk(local_path, followlinks=True):
            dirs.sort()
            for file in sorted(files):
                path = os.path.join(folder, file)
                rel = Path(os.path.relpath(path, local_path)).as_posix()
                self.add_file(path, f"{name.rstrip('/')}/{rel}" if name else rel,
                              policy=policy, overwrite=merge)

    def new_file(self, name: str, mode: str = "x", encoding: str | None = None,
                 policy: str = "mutable") -> AbstractContextManager[IO[Any]]:
        """A context manager writing the file ``name`` (``mode`` ``"x"``, W&B's default,
        refuses a name already added: ``ValueError``; ``"w"`` replaces it)."""
        return self._staging.open_new(name, mode, encoding)

    def add(self, obj: Any, name: str, overwrite: bool = False) -> None:
        """Add a ``wandb.Table`` (``<name>.table.json``) or ``wandb.Image``
        (``<name>.image-file.json``) in W&B's layout (``_artifact_objects``)."""
        for path, data in object_files(obj, name):
            self._staging.add_bytes(path, data, overwrite)

    def get(self, name: str) -> Any:
        """The table or image added as ``name`` to a used artifact (downloaded first, to its
        default directory); None when there is none."""
        self._used("get")
        return read_object(Path(self.download()), name)

    def remove(self, item: str | os.PathLike[str]) -> None:
        """Remove a file (or a directory of files) added before; ``FileNotFoundError`` if none."""
        self._staging.remove(os.fspath(item))

    def add_reference(self, uri: Any, name: Any = None, checksum: bool = True,
                      max_objects: int | None = None) -> Any:
        raise Unsupported("wandb.Artifact.add_reference is not supported: rundial stores the "
                          f"bytes of an artifact's files; add the files themselves (see {DOCS})")

    def _hand_over(self, aliases: list[str],
                   waiter: Callable[[float | None], None]) -> Path | None:
        """Finalize, remember how it was logged, and give the staging directory to the caller
        (the run), which removes it; None when nothing was added."""
        self._logged_aliases, self._waiter = aliases, waiter
        return self._staging.freeze()

    def save(self, project: str | None = None, settings: Any = None) -> None:
        """Log this draft to the current run (``wandb.run``); ``NotImplementedError`` without
        one (W&B would start a run of its own)."""
        from rundial.compat.wandb import _session  # the session imports this module

        if _session.current is None:
            raise Unsupported("Artifact.save() outside a run is not supported: call "
                              f"wandb.init() first (see {DOCS})")
        _session.current.log_artifact(self)

    # -- used artifacts ----------------------------------------------------------------------
    def download(self, root: str | os.PathLike[str] | None = None,
                 allow_missing_references: bool = False, skip_cache: bool | None = None,
                 path_prefix: str | None = None, multipart: bool | None = None) -> str:
        """Download the files of a used artifact under ``root`` (default
        ``$WANDB_ARTIFACT_DIR`` or ``./artifacts``, then ``<name>:v<N>``), each verified
        against its sha256; returns the directory. Blocking."""
        if path_prefix is not None:
            raise Unsupported(f"Artifact.download(path_prefix=...) is not supported (see {DOCS})")
        handle = self._used("download")
        return str(handle.download(root if root is not None else self._default_root()))

    def file(self, root: str | os.PathLike[str] | None = None) -> str:
        """Download a single-file artifact; returns the file's path (``ValueError`` when the
        artifact holds more than one file)."""
        files = self._used("file").files
        if len(files) > 1:
            raise ValueError("This artifact contains more than one file, call `.download()` to "
                             "get all files")
        entry = self.get_entry(str(files[0]["path"]))
        return entry.download(root if root is not None else os.path.join(".", "artifacts",
                                                                         self.name))

    def get_entry(self, name: str) -> ArtifactEntry:
        """The file ``name`` of a used artifact; ``KeyError`` when it has none."""
        for found in self._used("get_entry").files:
            if found["path"] == name:
                return ArtifactEntry(self, name, int(found["sizeBytes"]), str(found["sha256"]))
        raise KeyError(f"Path not contained in artifact: {name}")

    get_path = get_entry

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __setitem__(self, name: str, obj: Any) -> None:
        self.add(obj, name)

    def wait(self, timeout: int | None = None) -> Artifact:
        """A logged artifact: wait until the run's queued uploads are done (bounded, see
        ``_artifact_run.RunArtifacts.wait``); a used one returns at once; a draft raises
        :class:`ArtifactNotLoggedError`."""
        if self._waiter is not None:
            self._waiter(timeout)
        elif self._handle is None:
            raise ArtifactNotLoggedError(f"'Artifact.wait' of {self._name!r}: log it first")
        return self

    def _used(self, call: str) -> Any:
        if self._handle is None:
            raise ArtifactNotLoggedError(
                f"'Artifact.{call}' of {self._name!r} needs a used artifact: call "
                f"run.use_artifact('{self._name}:latest') and {call} that (see {DOCS})")
        return self._handle

    def _default_root(self) -> str:
        base = os.environ.get("WANDB_ARTIFACT_DIR") or os.path.join(".", "artifacts")
        return os.path.join(os.path.abspath(base), self.name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise Unsupported(f"wandb.Artifact.{name} is not supported by rundial.compat.wandb; see "
                          f"{DOCS}")

    def __repr__(self) -> str:
        return f"<rundial.compat.wandb.Artifact {self.name} type={self._type}>"


class ArtifactEntry:
    """One file of a used artifact (W&B's manifest entry): ``path``, ``size``, ``digest``
    (its sha256 here; W&B's is an MD5) and ``download``."""

    def __init__(self, artifact: Artifact, path: str, size: int, digest: str) -> None:
        self._artifact, self.path, self.size, self.digest = artifact, path, size, digest

    def download(self, root: str | os.PathLike[str] | None = None) -> str:
        """Download the artifact (to ``root``, default as ``Artifact.download``); returns this
        file's path. Blocking."""
        return os.path.join(self._artifact.download(root), *self.path.split("/"))

    def __repr__(self) -> str:
        return f"<ArtifactEntry {self.path} {self.size} bytes>"


def _checked_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise TypeError(f"artifact metadata must be a dict, not {type(metadata).__name__}")
    return dict(metadata)
