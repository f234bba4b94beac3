"""``wandb.util``: only :func:`make_artifact_name_safe`; any other name raises
``NotImplementedError`` (an ``AttributeError``) naming ``docs/wandb-compat.md``."""

from __future__ import annotations

import re
from typing import Any

from rundial.compat.wandb._errors import DOCS, Unsupported

__all__ = ["make_artifact_name_safe"]

_UNSAFE = re.compile(r"[^a-zA-Z0-9_\-.]")
MAX_ARTIFACT_NAME_CHARS = 128
_KEPT_EACH_SIDE = 63


def make_artifact_name_safe(name: str) -> str:
    """``name`` with every character but letters, digits, ``_``, ``-`` and ``.`` made ``_``;
    over 128 characters, its first and last 63 joined by ``..`` (W&B's rule)."""
    cleaned = _UNSAFE.sub("_", name)
    if len(cleaned) <= MAX_ARTIFACT_NAME_CHARS:
        return cleaned
    return f"{cleaned[:_KEPT_EACH_SIDE]}..{cleaned[-_KEPT_EACH_SIDE:]}"


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    raise Unsupported(f"wandb.util.{name} is not supported by rundial.compat.wandb; see {DOCS}")
