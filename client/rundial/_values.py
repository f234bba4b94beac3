"""Plain JSON values from what ML code passes around: numpy and torch scalars, arrays, tuples.

Everything here is duck typed: numpy and torch are never imported. A numpy scalar (any dtype),
a 0-d numpy array and a 0-d torch tensor all have ``ndim == 0`` and ``item()``, which returns a
Python scalar; ``bool``/``int``/``float``/``str`` subclasses (``numpy.float64``, ``IntEnum``,
``numpy.str_``) become the plain type. Arrays of any rank have ``tolist()``.

:func:`plain_scalar` and :func:`plain_value` never raise: a value they cannot express returns
:data:`UNSUPPORTED`, and the caller decides what to do (config stringifies it with a warning).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

UNSUPPORTED: Final = object()  # "no plain JSON form" (a sentinel, never sent)
LIST_MAX_DEPTH = 8  # nested lists deeper than this are not kept as lists

_PLAIN = (str, int, float, bool)


def plain_scalar(value: Any) -> Any:
    """``value`` as ``None``, ``bool``, ``int``, ``float`` or ``str``, else :data:`UNSUPPORTED`.

    Non-finite floats are returned as they are (the caller decides); a scalar whose ``item()``
    raises or returns a non-scalar (``numpy.datetime64``) is unsupported.
    """
    kind = type(value)
    if value is None or kind in _PLAIN:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return value[:]  # a str subclass sliced is a plain str (keeps an Enum's value)
    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        try:
            item = value.item()
        except Exception:  # a foreign object's item(): anything may go wrong
            return UNSUPPORTED
        if item is None or type(item) in _PLAIN:
            return item
    return UNSUPPORTED


def plain_value(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """``(value, exact)``: a plain scalar, or a (nested) list of plain scalars.

    Lists, tuples and arrays (``tolist()``) of any depth up to :data:`LIST_MAX_DEPTH` are kept;
    an element that is neither becomes ``str(element)`` and ``exact`` is False. A non-finite
    float (JSON has none) is also stringified (``"nan"``, ``"inf"``). A top-level value that is
    neither returns ``(UNSUPPORTED, False)``.
    """
    scalar = plain_scalar(value)
    if scalar is not UNSUPPORTED:
        if isinstance(scalar, float) and not math.isfinite(scalar):
            return str(scalar), False
        return scalar, True
    items = _as_list(value)
    if items is None or depth >= LIST_MAX_DEPTH:
        return UNSUPPORTED, False
    out: list[Any] = []
    exact = True
    for element in items:
        plain, ok = plain_value(element, depth + 1)
        if plain is UNSUPPORTED:
            plain = safe_str(element)
        out.append(plain)
        exact = exact and ok
    return out, exact


def plain_json(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON for free-form metadata: mappings (keys as str), lists and
    scalars as in :func:`plain_value`; anything else, or deeper than 32 levels, as ``str()``.
    Never raises."""
    if isinstance(value, Mapping) and depth < 32:
        return {str(k): plain_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and depth < 32:
        return [plain_json(v, depth + 1) for v in value]
    plain, _exact = plain_value(value, LIST_MAX_DEPTH)  # scalars; arrays only when 0-d
    if plain is not UNSUPPORTED:
        return plain
    items = _as_list(value)
    return plain_json(items, depth + 1) if items is not None and depth < 32 else safe_str(value)


def _as_list(value: Any) -> list[Any] | None:
    if isinstance(value, (list, tuple)):
        return list(value)
    if getattr(value, "ndim", 0) and callable(getattr(value, "tolist", None)):
        try:
            items = value.tolist()
        except Exception:
            return None
        return items if isinstance(items, list) else None
    return None


def safe_str(value: Any) -> str:
    """``str(value)``, or its type name when ``__str__`` itself fails."""
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


def has_utf8_form(text: str) -> bool:
    """Whether ``text`` can travel in a JSON (UTF-8) body: False when it holds a lone surrogate
    (``"\\udcff"``, say, from a file name decoded with ``surrogateescape``)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def all_text_has_utf8_form(value: Any, depth: int = 0) -> bool:
    """Whether every str in ``value`` has a UTF-8 form (see :func:`has_utf8_form`): ``value``
    itself, or the items of its lists and tuples and the keys and values of its mappings, at
    any depth up to 64 (deeper nesting is left to the encoder). Other values hold no text."""
    if isinstance(value, str):
        return has_utf8_form(value)
    if depth >= 64:
        return True
    if isinstance(value, Mapping):
        return all(all_text_has_utf8_form(k, depth + 1) and all_text_has_utf8_form(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(all_text_has_utf8_form(v, depth + 1) for v in value)
    return True


def with_utf8_form(text: str) -> str:
    """``text`` with each lone surrogate replaced by ``?`` (unchanged when it has none)."""
    if has_utf8_form(text):
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


def require_utf8_text(what: str, value: Any, *, show: bool = True) -> None:
    """``ValueError`` naming ``what`` when a text in ``value`` (at any depth, see
    :func:`all_text_has_utf8_form`) holds a lone surrogate: no request could carry it. A str
    ``value`` is shown (escaped) unless ``show`` is False (a secret)."""
    if not all_text_has_utf8_form(value):
        shown = f": {value!r}" if show and isinstance(value, str) else ""
        raise ValueError(f"{what} must be valid Unicode text (it holds a lone surrogate, which "
                         f"no request can carry){shown}")


def require_no_nul(what: str, text: str) -> None:
    """``ValueError`` naming ``what`` when ``text`` holds NUL (U+0000): the collector refuses a
    text field holding one (PostgreSQL text cannot store it). Only the index of the first NUL
    is shown, never the text."""
    if "\x00" in text:
        raise ValueError(f"{what} must not hold NUL (U+0000), which the collector refuses; "
                         f"got one at index {text.index(chr(0))}")


def without_nul(text: str) -> str:
    """``text`` with each NUL (U+0000) replaced by U+FFFD, for text no caller can be told about
    (captured output, a traceback): kept, where a NUL would have it rejected by the collector."""
    return text.replace("\x00", "\ufffd")


def kept_text(text: str) -> str:
    """``text`` as a log line that reaches the collector, for text from a library whose callers
    expect any text to pass (the compat shims' strings and alerts): each NUL becomes U+FFFD
    (:func:`without_nul`) and each lone surrogate ``?`` (:func:`with_utf8_form`), where
    ``run.log_text`` would raise."""
    return with_utf8_form(without_nul(text))
