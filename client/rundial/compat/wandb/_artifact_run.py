"""A W&B run's artifacts: ``log_artifact``, ``use_artifact``, ``log_model``, ``use_model``,
``link_model``, over rundial's artifact uploader and ``use_artifact``.

* ``log_artifact(artifact_or_path, name=None, type=None, aliases=None, tags=None)``: a path
  becomes an artifact named ``run-<run id>-<base name>`` (or ``name``) of type ``type``
  (default ``unspecified``), holding the file or the directory's files, as W&B does. The
  artifact's staging directory is queued as **one** rundial artifact (``rd.Run.log_artifact``:
  non-blocking, journaled, retried), with the aliases plus ``latest`` and the metadata (the
  description as ``wandb.description``). ``tags`` are ignored (rundial artifacts have none). An
  artifact without files is a ``ValueError``; an ``s3://``-style path ``NotImplementedError``.
  The run removes the staging directories when it ends with every upload done (online);
  otherwise they stay for the journal (``rundial sync`` or the next process).
* ``artifact.wait(timeout=None)`` waits until the run's queued uploads (and rows) are sent:
  up to ``timeout`` seconds (``TimeoutError`` after), or with no ``timeout`` up to
  :data:`WAIT_DEFAULT_SECONDS`, then one warning, the upload going on in the background.
* ``use_artifact(name_or_artifact, type=None, aliases=None)``: a ref (``name``,
  ``name:alias``, ``name:vN``, optionally ``[entity/]project/`` of this run) resolves through
  ``rd.Run.use_artifact`` (blocking, records the lineage), W&B's ``vN`` being rundial's
  ``v<N+1>``. A draft ``wandb.Artifact`` is logged first, then used once uploaded (bounded by
  :data:`WAIT_DEFAULT_SECONDS`; ``TimeoutError`` after). ``type`` must match (``ValueError``).
* ``log_model(path, name=None, aliases=None)`` logs a ``model`` artifact; ``use_model(name)``
  uses and downloads it (``AssertionError`` unless its type contains ``model``) and returns the
  file when it holds one, else the directory; ``link_model`` logs the model as ``log_model``
  does and, rundial having no model registry, links nothing (one ``RuntimeWarning``; returns
  None, as W&B does when linking fails).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

from rundial._warn import warn_user
from rundial.compat.wandb._artifact import DESCRIPTION_KEY, Artifact
from rundial.compat.wandb._artifact_refs import LATEST, resolved_aliases, rundial_ref
from rundial.compat.wandb._errors import DOCS, Unsupported

WAIT_DEFAULT_SECONDS = 600.0
MODEL_TYPE = "model"


class RunArtifacts:
    """The artifacts of one W&B-style run over the rundial run ``rd_run``."""

    def __init__(self, rd_run: Any, entity: str | None, project: str | None) -> None:
        self._rd = rd_run
        self._entity, self._project = entity, project
        self._staged: list[Path] = []
        self._lock = threading.Lock()
        self._warned = False

    # -- logging ---------------------------------------------------------------------------
    def log(self, artifact_or_path: Any, name: str | None = None, type: str | None = None,
            aliases: Any = None, tags: Any = None) -> Artifact:
        """Queue an artifact or a path (see the module docstring); returns the artifact."""
        artifact = self._prepared(artifact_or_path, name, type)
        if artifact._logged():
            raise ValueError(f"artifact {artifact.name!r} was logged or used already; log a new "
                             "wandb.Artifact for a new version")
        if not artifact.file_count:
            raise ValueError(f"artifact {artifact.name!r} has no files: add some with add_file, "
                             "add_dir or new_file before logging it")
        names = resolved_aliases(aliases)
        metadata = dict(artifact.metadata)
        if artifact.description is not None:
            metadata[DESCRIPTION_KEY] = artifact.description
        staging = artifact._hand_over(names, self.wait)
        assert staging is not None  # it has files
        queued = self._rd.log_artifact(staging, name=artifact._name, type=artifact.type,
                                       aliases=names, metadata=metadata)
        if queued:
            with self._lock:
                self._staged.append(staging)
        else:  # dropped (a disabled run, or the queue full: counted by rundial)
            shutil.rmtree(staging, ignore_errors=True)
        return artifact

    def _prepared(self, artifact_or_path: Any, name: str | None, type: str | None) -> Artifact:
        if isinstance(artifact_or_path, Artifact):
            return artifact_or_path
        if not isinstance(artifact_or_path, (str, os.PathLike)):
            raise TypeError("You must pass an instance of wandb.Artifact or a valid file path to "
                            f"log_artifact, not {artifact_or_path.__class__.__name__}")
        path = os.fspath(artifact_or_path)
        if "://" in path:
            raise Unsupported(f"log_artifact({path!r}): references are not supported; rundial "
                              f"uploads local files (see {DOCS})")
        artifact = Artifact(name or f"run-{self._rd.id}-{os.path.basename(path)}",
                            type or "unspecified")
        if os.path.isfile(path):
            artifact.add_file(path)
        elif os.path.isdir(path):
            artifact.add_dir(path)
        else:
            raise ValueError(f"path must be a file or a directory: {path!r}")
        return artifact

    def wait(self, timeout: float | None) -> None:
        """Wait for the run's queued uploads (see the module docstring)."""
        if self._rd.flush(WAIT_DEFAULT_SECONDS if timeout is None else float(timeout)):
            return
        if timeout is not None:
            raise TimeoutError("Artifact upload wait timed out; the upload goes on in the "
                               "background")
        warn_user(f"rundial.compat.wandb: artifact upload still running after "
                  f"{WAIT_DEFAULT_SECONDS:.0f} s; it goes on in the background")

    # -- using -----------------------------------------------------------------------------
    def use(self, name_or_artifact: Any, type: str | None = None, aliases: Any = None) -> Artifact:
        """Resolve and record the use of an artifact version (blocking); see the module
        docstring. ``ArtifactHTTPError`` when the collector refuses (no such version: 404)."""
        ref = self._ref(name_or_artifact, aliases)
        artifact = Artifact._from_handle(self._rd.use_artifact(ref))
        if type is not None and type != artifact.type:
            raise ValueError(f"Supplied type {type} does not match type {artifact.type} of "
                             f"artifact {artifact.name}")
        return artifact

    def _ref(self, wanted: Any, aliases: Any) -> str:
        """rundial's ref for a W&B ref or artifact (a draft is logged and uploaded first)."""
        if isinstance(wanted, str):
            return rundial_ref(wanted, self._entity, self._project)[1]
        if not isinstance(wanted, Artifact):
            raise ValueError('You must pass an artifact name (e.g. "pedestrian-dataset:v1") or '
                             "an instance of wandb.Artifact to use_artifact")
        if wanted._handle is not None:
            return f"{wanted._name}:v{wanted._handle.version}"
        if not wanted._logged():
            self.log(wanted, aliases=aliases)
        if not self._rd.flush(WAIT_DEFAULT_SECONDS):
            raise TimeoutError(f"artifact {wanted.name!r} was not uploaded within "
                               f"{WAIT_DEFAULT_SECONDS:.0f} s, so it cannot be used yet")
        return f"{wanted._name}:{LATEST}"

    # -- models ----------------------------------------------------------------------------
    def log_model(self, path: Any, name: str | None = None, aliases: Any = None) -> None:
        self.log(path, name=name, type=MODEL_TYPE, aliases=aliases)

    def use_model(self, name: str) -> str:
        """Use and download a model artifact; the file's path when it holds one file."""
        artifact = self.use(name)
        if MODEL_TYPE not in artifact.type.lower():
            raise AssertionError("You can only use this method for 'model' artifacts. For an "
                                 "artifact to be a 'model' artifact, its type property must "
                                 "contain the substring 'model'.")
        path = artifact.download()
        entries = os.listdir(path)
        return os.path.join(path, entries[0]) if len(entries) == 1 else path

    def link_model(self, path: Any, registered_model_name: str, name: str | None = None,
                   aliases: Any = None) -> None:
        """Log the model (``log_model``); link nothing (no registry), warning once."""
        if "/" in str(registered_model_name):
            raise AssertionError("Please provide only the name of the registered model. Do not "
                                 "append the entity or project name.")
        self.log(path, name=name, type=MODEL_TYPE)
        self._warn_unlinked("link_model logged the model as a 'model' artifact",
                            registered_model_name)

    def link(self, artifact: Any, target_path: str, aliases: Any = None) -> Artifact:
        """``run.link_artifact``: log ``artifact`` if it is a draft (as W&B does first); link
        nothing (no registry), warning once; return the artifact."""
        if not isinstance(artifact, Artifact):
            raise TypeError(f"link_artifact takes a wandb.Artifact, not {type(artifact).__name__}")
        if not isinstance(target_path, str) or not target_path:
            raise ValueError("link_artifact needs a target_path such as 'wandb-registry-model/name'")
        if not artifact._logged():
            self.log(artifact)
        self._warn_unlinked(f"link_artifact logged {artifact.name!r}", target_path)
        return artifact

    def _warn_unlinked(self, done: str, target: str) -> None:
        if not self._warned:
            self._warned = True
            warn_user(f"rundial.compat.wandb: {done}; rundial has no model registry, so it is "
                      f"not linked to {target!r} (see {DOCS})")

    # -- the end ---------------------------------------------------------------------------
    def at_end(self, drained: bool) -> None:
        """The run ended: remove the staging directories when every upload is done (online);
        else keep them for the journal's later upload."""
        if not drained or getattr(self._rd, "mode", None) != "online":
            return
        with self._lock:
            staged, self._staged = self._staged, []
        for path in staged:
            shutil.rmtree(path, ignore_errors=True)
