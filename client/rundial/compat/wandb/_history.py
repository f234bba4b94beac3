"""What one ``wandb.log`` dict becomes: history numbers, media values and summary-only values.

:func:`convert` flattens nested dicts (``{"a": {"b": 1}}`` is key ``a.b``, as W&B shows it;
``/`` in keys is kept as it is) and sorts each value into one of:

* a number: ints, floats, bools, numpy scalars, 0-d arrays, one-element arrays and tensors;
* media: ``wandb.Image``/``wandb.Histogram`` (and any ``rd.Image``/``rd.Table``), a list of
  them, or a ``wandb.Table`` (snapshotted now: later ``add_data`` calls do not change it; image
  cells become their own media items). A pandas DataFrame becomes a table and a matplotlib
  figure (or ``pyplot``) an image, as in W&B (which may draw figures as charts instead). An
  array or tensor of more than 32 elements becomes a 32-bin :class:`Histogram`, as W&B does.
  A ``wandb.plot`` chart logged as ``key`` is its table, under W&B's ``<key>_table``, with the
  chart's spec as the item's metadata (``_plot``);
* text (str): the summary's last value, and a history record: the log line
  ``[<key> step=<n>] <text>`` when the row is committed (``_run``);
* anything else (``None``, short lists, objects): skipped with one warning per key.

A value it cannot record is skipped, not an error; ``TypeError`` for a non-str key (and whatever
drawing a figure raises, e.g. ``ImportError`` without Pillow).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rundial._media import MediaFile
from rundial._media import Table as _RdTable
from rundial._media import is_media
from rundial._values import UNSUPPORTED, plain_scalar, safe_str
from rundial.compat.wandb._image_data import is_figure
from rundial.compat.wandb._image_overlays import mask_items
from rundial.compat.wandb._media import Histogram, Image, Table
from rundial.compat.wandb._plot import CustomChart

AUTO_HISTOGRAM_MIN_ELEMENTS = 33  # W&B turns larger arrays into histograms
AUTO_HISTOGRAM_BINS = 32
_PLAIN_NUMBERS = frozenset({int, float})


@dataclass
class Converted:
    """One log call's values by kind (see the module docstring)."""

    numbers: dict[str, int | float] = field(default_factory=dict)
    media: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)  # key -> [(key, value)]
    text: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def flatten(data: Mapping[Any, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(key, value)`` pairs with nested mappings joined by ``.``; TypeError for a non-str key."""
    for key, value in data.items():
        _checked_key(key)
        if isinstance(value, Mapping):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def convert(data: Mapping[Any, Any]) -> Converted:
    """Sort one log dict's values (see the module docstring). Plain int and float values under
    str keys (most of a training loop's rows) take a fast path: one type check each."""
    out = Converted()
    numbers = out.numbers
    for key, value in data.items():
        if type(value) in _PLAIN_NUMBERS and type(key) is str:
            numbers[key] = value
        elif isinstance(value, Mapping):
            for nested_key, nested in flatten({key: value}):
                _sort(out, nested_key, nested)
        else:
            _sort(out, _checked_key(key), value)
    return out


def _checked_key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"wandb.log keys must be str, not {type(key).__name__} ({key!r})")
    return key


def _sort(out: Converted, key: str, value: Any) -> None:
    if is_dataframe(value):
        value = Table(dataframe=value)
    elif is_figure(value):
        value = Image(value)
    if isinstance(value, Table):
        out.media[key] = table_media(key, value)
        return
    if isinstance(value, CustomChart):
        table_key = value.table_key(key)
        out.media[table_key] = table_media(table_key, value.table, value.metadata(key))
        return
    if is_media(value):
        out.media[key] = mask_items(key, 0, value)
        return
    if isinstance(value, (list, tuple)) and value and all(is_media(v) for v in value):
        out.media[key] = [item for i, v in enumerate(value) for item in mask_items(key, i, v)]
        return
    scalar = plain_scalar(value)
    if scalar is UNSUPPORTED:
        scalar = _array_value(value)
        if isinstance(scalar, Histogram):
            out.media[key] = [(key, scalar)]
            return
    if isinstance(scalar, str):
        out.text[key] = scalar
    elif isinstance(scalar, (int, float)) and scalar is not UNSUPPORTED:
        out.numbers[key] = scalar
    else:
        out.skipped.append(key)


def is_dataframe(value: Any) -> bool:
    """A pandas DataFrame (duck-typed: columns, values, iloc)."""
    return hasattr(value, "columns") and hasattr(value, "values") and hasattr(value, "iloc")


def _array_value(value: Any) -> Any:
    """A one-element array's number, a large array's histogram, else UNSUPPORTED."""
    if not getattr(value, "ndim", 0) or not hasattr(value, "shape"):
        return UNSUPPORTED
    numel = getattr(value, "numel", None)
    size = numel() if callable(numel) else getattr(value, "size", None)
    if size == 1:
        return plain_scalar(value.reshape(()))
    if isinstance(size, int) and size >= AUTO_HISTOGRAM_MIN_ELEMENTS:
        try:
            return Histogram(value, num_bins=AUTO_HISTOGRAM_BINS)
        except (TypeError, ValueError):
            return UNSUPPORTED
    return UNSUPPORTED


def table_media(key: str, table: Table, metadata: Mapping[str, Any] | None = None
                ) -> list[tuple[str, Any]]:
    """A snapshot of ``table`` (``INCREMENTAL``: its rows not logged before) as an ``rd.Table``
    under ``key``, after the images of its cells; ``metadata`` is added to the table's own.

    An image (or video, audio, html) in row ``r`` of column ``c`` is logged under ``<key>/<c>``
    with metadata ``{"table": key, "row": r, "column": c}``; its cell reads
    ``media:<key>/<c>#<r>``.
    """
    items: list[tuple[str, Any]] = []
    rows: list[list[Any]] = []
    first = table.logged_rows if table.log_mode == "INCREMENTAL" else 0
    table.logged_rows = len(table.data)
    for r, row in enumerate(table.data[first:], start=first):
        cells = []
        for column, cell in zip(table.columns, row):
            if isinstance(cell, (Image, MediaFile)):
                media_key = f"{key}/{column}"
                image = copy.copy(cell)  # the caller's image keeps its own metadata
                image.metadata = {**cell.metadata, "table": key, "row": r, "column": column}
                items += mask_items(media_key, r, image)
                cells.append(f"media:{media_key}#{r}")
            else:
                cells.append(_cell(cell))
        rows.append(cells)
    items.append((key, _RdTable(columns=table.columns, rows=rows,
                                metadata={**table.metadata, **(metadata or {})})))
    return items


def _cell(value: Any) -> Any:
    plain = plain_scalar(value)
    return safe_str(value) if plain is UNSUPPORTED else plain


class OpenRow:
    """The open history row: its step and the values merged into it so far."""

    __slots__ = ("step", "numbers", "media", "text")

    def __init__(self, step: int) -> None:
        self.step = step
        self.numbers: dict[str, Any] = {}
        self.media: dict[str, list[tuple[str, Any]]] = {}
        self.text: dict[str, str] = {}


def checked_step(step: Any) -> int:
    """``step`` as a non-negative int (ints, numpy ints, integral floats); else TypeError or
    ValueError."""
    if isinstance(step, bool):
        raise TypeError("step must be an int, not bool")
    try:
        value = int(step.__index__()) if hasattr(step, "__index__") else None
    except TypeError:
        value = None
    if value is None and isinstance(step, float) and step.is_integer():
        value = int(step)
    if value is None:
        raise TypeError(f"step must be an int, not {type(step).__name__} ({step!r})")
    if value < 0:
        raise ValueError(f"step must be >= 0, not {value}")
    return value
