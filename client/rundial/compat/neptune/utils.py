"""``from rundial.compat.neptune.utils import stringify_unsupported`` (Neptune's helper).

``stringify_unsupported(value, expand=False)`` walks dicts (keys become ``str``; with
``expand`` lists, tuples and sets too, keyed by index) and wraps every other value; when the
result is assigned, a value of a type Neptune stores is kept (``bool``, ``int``, ``float``,
``str``, ``datetime``; numpy/torch scalars as floats; an int beyond 32 bits as a float, NaN and
infinities as their text: :mod:`rundial.compat.neptune._cast`), anything else (a list,
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


def stringify_unsupported(value: Any, expand: bool = False) -> Any:
    """Dicts stay dicts (recursively, keys as ``str``); every other value is wrapped. With
    ``expand``, a list, tuple or set becomes a dict of its items keyed ``"0"``, ``"1"``, …
    (Neptune's ``expand=True``)."""
    if isinstance(value, Mapping):
        return {str(key): stringify_unsupported(item, expand) for key, item in value.items()}
    if expand and isinstance(value, (list, tuple, set)):
        return {str(i): stringify_unsupported(item, True) for i, item in enumerate(value)}
    return StringifyValue(value)
