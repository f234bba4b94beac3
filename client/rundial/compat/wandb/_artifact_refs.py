"""W&B artifact names, types, aliases and refs, checked and mapped onto rundial's.

* Names follow W&B (``[A-Za-z0-9_.-]``, at most 128 characters), which rundial's names allow.
* Types: W&B accepts any text without ``/`` or ``:``; the collector takes
  ``[A-Za-z0-9_.-]{1,64}`` only, so another type is a ``ValueError`` here, at the call, rather
  than a job the collector refuses later.
* Aliases: W&B always adds ``latest`` (:func:`resolved_aliases`); rundial's rule is
  ``[A-Za-z0-9][A-Za-z0-9_.-]{0,63}``, not ``v<N>`` (``ValueError`` otherwise).
* Versions: W&B counts from ``v0``, rundial from 1, both per (project, name) in order, so W&B's
  ``vN`` is rundial's ``v<N+1>`` (:func:`rundial_ref`, :func:`wandb_version`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rundial.compat.wandb._errors import DOCS, Unsupported

NAME_MAX_CHARS = 128  # W&B's limit
_NAME = re.compile(r"[A-Za-z0-9_.\-]+\Z")
_TYPE = re.compile(r"[A-Za-z0-9_.\-]{1,64}\Z")  # the collector's artifactType rule
_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\Z")  # the collector's alias rule
_VERSION = re.compile(r"v([0-9]{1,9})\Z")
_RESERVED_NAME_PREFIX_BY_TYPE = {"job": "", "run_table": "run-", "code": "source-"}  # W&B's
LATEST = "latest"


def checked_name(name: Any) -> str:
    """A W&B artifact name, else ``ValueError``/``TypeError`` (W&B's rules)."""
    if not isinstance(name, str):
        raise TypeError(f"artifact name must be a str, not {type(name).__name__}")
    if len(name) > NAME_MAX_CHARS:
        raise ValueError(f"Artifact name is longer than {NAME_MAX_CHARS} characters: "
                         f"{name[:NAME_MAX_CHARS]!r} ...")
    if not _NAME.match(name):
        raise ValueError("Artifact name may only contain alphanumeric characters, dashes, "
                         f"underscores, and dots. Invalid name: {name!r}")
    return name


def checked_type(artifact_type: Any, name: str) -> str:
    """An artifact type W&B and the collector both accept, else ``ValueError``."""
    if not isinstance(artifact_type, str):
        raise TypeError(f"artifact type must be a str, not {type(artifact_type).__name__}")
    reserved = _RESERVED_NAME_PREFIX_BY_TYPE.get(artifact_type)
    if artifact_type.startswith("wandb-") or (reserved is not None and name.startswith(reserved)):
        raise ValueError(f"Artifact type {artifact_type!r} is reserved for internal use. "
                         "Please use a different type.")
    if not _TYPE.match(artifact_type):
        raise ValueError(f"artifact type {artifact_type!r}: rundial takes 1-64 letters, digits, "
                         f"'_', '.' or '-' (see {DOCS})")
    return artifact_type


def resolved_aliases(aliases: str | Iterable[str] | None) -> list[str]:
    """W&B's aliases for a logged version: the given ones (a str is one) plus ``latest``, each
    once; ``ValueError`` for one rundial cannot store."""
    given = [aliases] if isinstance(aliases, str) else list(aliases or [])
    out = list(dict.fromkeys([*given, LATEST]))
    for alias in out:
        if not isinstance(alias, str) or not _ALIAS.match(alias) or _VERSION.match(alias):
            raise ValueError(f"invalid artifact alias {alias!r}: rundial takes letters, digits, "
                             "'_', '.' and '-' (at most 64, starting with a letter or digit), "
                             f"and not v<N>, which names a version (see {DOCS})")
    return out


def rundial_ref(ref: str, entity: str | None, project: str | None) -> tuple[str, str]:
    """``(name, rundial ref)`` of a W&B ref: ``name``, ``name:alias``, ``name:vN`` (W&B's
    0-based ``vN`` is rundial's ``v<N+1>``), optionally prefixed by ``project/`` or
    ``entity/project/`` of this run. Another project's artifact raises ``NotImplementedError``;
    a malformed ref ``ValueError``."""
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError(f"artifact ref must be a non-empty str, not {ref!r}")
    *prefix, last = ref.strip().split("/")
    if len(prefix) > 2:
        raise ValueError(f"invalid artifact ref {ref!r}: [entity/][project/]name[:alias|:vN]")
    wanted = dict(zip(("project",) if len(prefix) == 1 else ("entity", "project"), prefix))
    if (wanted.get("project", project) != project) or (wanted.get("entity", entity) != entity):
        raise Unsupported(f"artifact {ref!r} belongs to another project: rundial.compat.wandb "
                          f"uses artifacts of the run's own project only (see {DOCS})")
    name, _, selector = last.partition(":")
    checked_name(name)
    version = _VERSION.match(selector)
    if version:
        return name, f"{name}:v{int(version.group(1)) + 1}"
    return name, f"{name}:{selector or LATEST}"


def wandb_version(rundial_version: int | None) -> str | None:
    """W&B's ``vN`` for rundial's version number (``None`` when unknown)."""
    return None if rundial_version is None else f"v{rundial_version - 1}"
