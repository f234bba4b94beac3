"""``from rundial.compat.neptune.utils import stringify_unsupported`` (Neptune's helper).

``stringify_unsupported(value)`` walks dicts (keys become ``str``) and wraps every other value;
when the result is assigned or appended, a value of a type Neptune stores as it is (``bool``,
``int``, ``float``, ``str``, ``datetime``, numpy/torch scalars) is kept, anything else (a list,
``None``, a ``Path``, an object) becomes its ``str()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rundial._values import UNSUPPORTED, plain_scalar, safe_str

__all__ = ["StringifyValue", "stringify_unsupported"]


class StringifyValue:
    """A value marked by :func:`stringify_unsupported`: stored as ``str()`` unless supported."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def resolved(self) -> Any:
        """The value itself when Neptune stores its type, else its ``str()``."""
        if isinstance(self.value, datetime):
            return self.value
        plain = plain_scalar(self.value)
        return safe_str(self.value) if plain is UNSUPPORTED or plain is None else plain

    def __repr__(self) -> str:
        return f"StringifyValue({self.value!r})"


def stringify_unsupported(value: Any) -> Any:
    """Dicts stay dicts (recursively, keys as ``str``); every other value is wrapped."""
    if isinstance(value, Mapping):
        return {str(key): stringify_unsupported(item) for key, item in value.items()}
    return StringifyValue(value)
