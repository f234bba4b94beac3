"""What the shim raises for W&B names it does not offer."""

from __future__ import annotations

DOCS = "docs/wandb-compat.md"


class Unsupported(NotImplementedError, AttributeError):
    """A W&B name the shim does not offer: a ``NotImplementedError`` naming the docs, and an
    ``AttributeError`` too, so ``hasattr`` and ``getattr(obj, name, default)`` see it missing."""
