"""How Neptune casts a value assigned to a field, mirrored for the shim's config entries.

Neptune 1.x (``neptune.types.type_casting.cast_value`` and its atoms) decides in this order:
``bool`` → Boolean, ``int`` → Integer, ``float`` → Float, ``str`` → String, ``datetime``
(to the millisecond);
then anything ``float()`` accepts (numpy and torch scalars of every dtype, ``numpy.bool_``,
``Decimal``) → **Float**; else unsupported. An Integer outside the 32-bit range and a NaN or
infinite Float are skipped with a warning. Through ``stringify_unsupported`` such an integer
becomes a float, a NaN its text, and an unsupported value its ``str()``.

A PIL image or a matplotlib figure is an image (Neptune's ``File.as_image``), assigned or
appended alike: :func:`image_like`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Final

from rundial.compat.neptune.utils import StringifyValue

__all__ = ["INT32_MAX", "INT32_MIN", "NON_FINITE", "OUT_OF_RANGE", "UNSUPPORTED_VALUE", "Refused",
           "field_value", "image_like"]

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1


class Refused:
    """Why a value is not stored (a sentinel, compared by identity)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


OUT_OF_RANGE: Final = Refused("is an integer outside the 32-bit range and is skipped, as "
                               "Neptune skips it; assign float(value)")
NON_FINITE: Final = Refused("is NaN or infinite and is skipped, as Neptune skips it; use "
                             "stringify_unsupported() to store its text")
UNSUPPORTED_VALUE: Final = Refused("is not a supported type and is not logged; convert it or "
                                    "use stringify_unsupported()")


def field_value(value: Any) -> Any:
    """The value Neptune would store for ``value`` (a ``bool``, ``int``, ``float``, ``str``,
    ``datetime`` or string set), or one of the :class:`Refused` sentinels."""
    stringified = isinstance(value, StringifyValue)
    if stringified:
        value = _stringify_rules(value.value)
    if isinstance(value, datetime):  # Neptune keeps milliseconds
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, (set, frozenset, bool)):
        return value
    if isinstance(value, int):
        return int(value) if INT32_MIN <= value <= INT32_MAX else OUT_OF_RANGE
    if isinstance(value, str):
        return value[:]
    number = _float_like(value)
    if number is not None:
        return number if math.isfinite(number) else NON_FINITE
    return str(value) if stringified else UNSUPPORTED_VALUE


def _stringify_rules(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not (
            INT32_MIN <= value <= INT32_MAX):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _float_like(value: Any) -> float | None:
    if value is None or isinstance(value, (bytes, bytearray)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    except Exception:  # a foreign object's __float__: anything may go wrong
        return None


def image_like(value: Any) -> bool:
    """A PIL image or a matplotlib figure (duck typed by module and class name; neither is
    imported)."""
    kind = type(value)
    module = kind.__module__
    if module.startswith("PIL.") and hasattr(value, "save") and hasattr(value, "size"):
        return True
    return module.startswith("matplotlib.") and kind.__name__ == "Figure"
