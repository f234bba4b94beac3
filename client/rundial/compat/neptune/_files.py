"""The Neptune-style run's file fields that are not media: uploaded files (a path, or in-memory
content staged by :class:`~rundial.compat.neptune._content.ContentDir`) and tracked files
(:mod:`rundial.compat.neptune._tracked`). Images go to the run's series as media instead.
"""

from __future__ import annotations

from typing import Any

import rundial as rd
from rundial.compat._keyed import Recorder
from rundial.compat.neptune._content import ContentDir
from rundial.compat.neptune._tracked import TrackedFile, artifact_hash, tracked_files
from rundial.compat.neptune.types import File

__all__ = ["FileFields"]


class FileFields:
    """Uploads and tracked files of one run, written through its ``recorder``."""

    __slots__ = ("_recorder", "_staged", "_tracked")

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._staged = ContentDir()
        self._tracked: dict[str, dict[str, TrackedFile]] = {}  # field -> file path -> file

    def upload(self, path: str, value: Any) -> None:
        """Queue a file path, a ``File(path)`` or a ``File`` of in-memory content (written
        first as ``<last path segment>.<extension>``) as the field's artifact. ``ValueError``
        for a missing file, ``TypeError`` for anything else, ``OSError`` when staging fails."""
        if not isinstance(value, File):
            self._recorder.upload(path, value)
        elif value.path is not None:
            self._recorder.upload(path, value.path)
        elif value.content is not None:
            if isinstance(self._recorder.run, rd.NoopRun):  # records nothing: stage nothing
                return
            name = f"{path.rsplit('/', 1)[-1]}.{value.extension}"
            self._recorder.upload(path, self._staged.stage(name, value.content))
        else:
            raise TypeError("an image File is media, not a file field")

    def track(self, path: str, location: str, destination: str | None) -> None:
        """Hash the files at ``location`` with those tracked at ``path`` before (a file path
        given again replaces its entry); the hash becomes the field's config value."""
        files = self._tracked.setdefault(path, {})
        files.update((file.file_path, file) for file in tracked_files(location, destination))
        self._recorder.assign({path: artifact_hash(list(files.values()))})

    def close(self, delivered: bool) -> None:
        """The run ended: remove the staged content when everything was ``delivered``."""
        self._staged.close(delivered)
