"""``wandb.Image``, ``wandb.Table`` and ``wandb.Histogram`` on top of rundial's media values.

* :class:`Image` is an ``rd.Image``: a path or a PIL image is taken as it is; a matplotlib
  figure (or ``pyplot`` itself: its current figure) is drawn to PNG; a numpy array or
  a torch tensor is converted the way W&B converts it (below) to a uint8 array first. numpy and
  torch are never imported here: arrays are duck-typed and numpy is imported only when an image
  is built from an array.
  - numpy: a singleton dimension is squeezed away; a channel-first (c, h, w) array with c in
    1, 3 or 4 is moved to channel-last; a non-uint8 array is rescaled (a minimum below 0 maps the
    range to [0, 1]; a maximum of at most 1 is multiplied by 255) and clipped to 0-255.
  - torch (channel-first, (h, w), (c, h, w) or (1, c, h, w)): detached, moved to the CPU, scaled
    to [0, 1] by its own minimum and maximum (a constant tensor is clamped to [0, 1]), times 255.
* :class:`Table` is mutable like W&B's (``add_data``, ``add_column``); what is logged is a
  snapshot taken by ``wandb.log`` (``_history``), as an ``rd.Table``.
* :class:`Histogram` is an ``rd.Table`` with columns ``bin_start``, ``bin_end``, ``count`` (one
  row per bin) and metadata ``{"rundial.kind": "histogram"}``: rundial stores and serves it as a
  table media item (``docs/wandb-compat.md``).

Bad input raises ``TypeError``/``ValueError`` at construction, as W&B does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from rundial._media import Image as _RdImage
from rundial._media import Table as _RdTable
from rundial._values import UNSUPPORTED, plain_scalar

HISTOGRAM_KIND = "histogram"
HISTOGRAM_COLUMNS = ("bin_start", "bin_end", "count")
MAX_HISTOGRAM_BINS = 512
DEFAULT_TABLE_COLUMNS = ("Input", "Output", "Expected")


class Image(_RdImage):
    """``wandb.Image(data_or_path, mode=None, caption=None, ...)``; see the module docstring.

    ``grouping``, ``classes``, ``boxes``, ``masks`` and ``file_type`` are not supported
    (``NotImplementedError`` when given); ``mode`` is accepted for PIL conversions.
    """

    def __init__(self, data_or_path: Any, mode: str | None = None, caption: str | None = None,
                 grouping: Any = None, classes: Any = None, boxes: Any = None,
                 masks: Any = None, file_type: str | None = None, normalize: bool = True) -> None:
        for label, given in (("grouping", grouping), ("classes", classes), ("boxes", boxes),
                             ("masks", masks), ("file_type", file_type)):
            if given is not None:
                raise NotImplementedError(f"wandb.Image({label}=...) is not supported by "
                                          "rundial.compat.wandb; see docs/wandb-compat.md")
        data = data_or_path
        if is_figure(data):
            data = _figure_image(data)
        if isinstance(data, Image):
            data = data._pil if data._pil is not None else (
                data._path if data._path is not None else data._array)
        elif mode is not None and _is_pil(data):
            data = data.convert(mode)
        elif not isinstance(data, (str, os.PathLike)) and not _is_pil(data):
            data = _uint8_array(data, normalize)
        super().__init__(data, caption=None if caption is None else str(caption))


def is_figure(value: Any) -> bool:
    """A matplotlib figure, or the ``matplotlib.pyplot`` module (its current figure)."""
    return callable(getattr(value, "savefig", None)) and (
        hasattr(value, "get_size_inches") or callable(getattr(value, "gcf", None)))


def _figure_image(figure: Any) -> Any:
    """A PIL image of a figure drawn to PNG (W&B turns figures into images or charts)."""
    import io

    from PIL import Image as PILImage  # a figure was given: Pillow is needed now

    if callable(getattr(figure, "gcf", None)):
        figure = figure.gcf()
    buf = io.BytesIO()
    figure.savefig(buf, format="png")
    buf.seek(0)
    image = PILImage.open(buf)
    image.load()
    return image


def _is_pil(value: Any) -> bool:
    return hasattr(value, "save") and hasattr(value, "mode") and hasattr(value, "size")


def _is_torch(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _uint8_array(data: Any, normalize: bool) -> Any:
    """A uint8 (h, w[, c]) numpy array from a numpy array, a torch tensor or nested lists."""
    import numpy as np  # an image from an array: numpy is needed now, not at import

    if _is_torch(data):
        return _from_tensor(data, np)
    if not hasattr(data, "shape"):
        if not isinstance(data, (list, tuple)):
            raise TypeError("wandb.Image takes a path, a PIL image, a numpy array or a torch "
                            f"tensor, not {type(data).__name__}")
        data = np.asarray(data)
    array = np.asarray(data)
    if array.ndim > 2:
        array = array.squeeze()
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.transpose(array, (1, 2, 0))
    if array.dtype == np.uint8 or not normalize:
        return array.astype(np.uint8) if array.dtype != np.uint8 else array
    array = array.astype(np.float64)
    if array.size and array.min() < 0:
        span = float(np.ptp(array)) or 1.0
        array = (array - array.min()) / span
    if array.size and array.max() <= 1.0:
        array = array * 255
    return np.clip(array, 0, 255).astype(np.uint8)


def _from_tensor(tensor: Any, np: Any) -> Any:
    """Channel-first tensor -> min-max scaled uint8 channel-last array."""
    t = tensor.detach().cpu().float()
    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    if t.ndim not in (2, 3):
        raise ValueError("wandb.Image from a tensor takes shape (h, w), (c, h, w) or "
                         f"(1, c, h, w), not {tuple(t.shape)}")
    low, high = float(t.min()), float(t.max())
    t = (t - low) / (high - low) if high > low else t.clamp(0, 1)
    array = (t * 255).clamp(0, 255).byte().numpy()
    if array.ndim == 3:
        array = np.transpose(array, (1, 2, 0))
        if array.shape[2] == 1:
            array = array[:, :, 0]
    return np.ascontiguousarray(array)


class Table:
    """``wandb.Table(columns=None, data=None, rows=None, dataframe=None)``.

    Columns default to W&B's ``["Input", "Output", "Expected"]``. ``add_data(*values)`` appends
    a row (``ValueError`` when its length is not the number of columns). Cells may be numbers,
    strings, numpy/torch scalars or :class:`Image` values (uploaded as their own media items,
    see ``docs/wandb-compat.md``).
    """

    def __init__(self, columns: Sequence[str] | None = None, data: Sequence[Sequence[Any]] | None = None,
                 rows: Sequence[Sequence[Any]] | None = None, dataframe: Any = None,
                 dtype: Any = None, optional: Any = True, allow_mixed_types: bool = False) -> None:
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = dataframe.values.tolist()
        rows = data if data is not None else rows
        self.columns: list[str] = [str(c) for c in (columns or DEFAULT_TABLE_COLUMNS)]
        self.data: list[list[Any]] = []
        self.metadata: dict[str, Any] = {}
        for row in rows or []:
            self.add_data(*row)

    def add_data(self, *data: Any) -> None:
        if len(data) != len(self.columns):
            raise ValueError(f"this table has {len(self.columns)} columns; add_data got "
                             f"{len(data)} values")
        self.data.append(list(data))

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        if self.data and len(data) != len(self.data):
            raise ValueError(f"column {name!r} has {len(data)} values for {len(self.data)} rows")
        self.columns.append(str(name))
        if not self.data:
            self.data = [[value] for value in data]
        else:
            for row, value in zip(self.data, data):
                row.append(value)

    def get_column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.data]


class EvalTable(Table):
    """``wandb.EvalTable``: a :class:`Table` whose column roles are kept in the logged table's
    metadata (``{"rundial.kind": "eval_table", "inputColumns", "outputColumns",
    "scoreColumns"}``). ``ValueError`` when a role names a column the table lacks."""

    def __init__(self, columns: Sequence[str] | None = None,
                 data: Sequence[Sequence[Any]] | None = None, *,
                 input_columns: Sequence[str] = (), output_columns: Sequence[str] = (),
                 score_columns: Sequence[str] = (), **table: Any) -> None:
        super().__init__(columns, data, **table)
        roles = {"inputColumns": input_columns, "outputColumns": output_columns,
                 "scoreColumns": score_columns}
        for role, names in roles.items():
            missing = [n for n in names if n not in self.columns]
            if missing:
                raise ValueError(f"{role} names columns this table lacks: {missing}")
        self.metadata = {"rundial.kind": "eval_table",
                         **{role: [str(n) for n in names] for role, names in roles.items()}}


class Histogram(_RdTable):
    """``wandb.Histogram(sequence=None, np_histogram=None, num_bins=64)``.

    ``sequence`` is binned with ``numpy.histogram`` into ``num_bins`` (1-512) equal bins
    (non-finite values left out); ``np_histogram`` is a ``(counts, edges)`` pair with one more
    edge than counts. ``ValueError`` for neither or both, or for inconsistent input.
    """

    def __init__(self, sequence: Any = None, np_histogram: Any = None, num_bins: int = 64) -> None:
        if (sequence is None) == (np_histogram is None):
            raise ValueError("wandb.Histogram needs either a sequence or np_histogram")
        if not 1 <= int(num_bins) <= MAX_HISTOGRAM_BINS:
            raise ValueError(f"num_bins must be 1-{MAX_HISTOGRAM_BINS}, not {num_bins}")
        if np_histogram is not None:
            counts, edges = _numbers(np_histogram[0]), _numbers(np_histogram[1])
        else:
            counts, edges = _bin(sequence, int(num_bins))
        if len(edges) != len(counts) + 1:
            raise ValueError(f"np_histogram needs one more edge than counts, got {len(counts)} "
                             f"counts and {len(edges)} edges")
        self.histogram, self.bins = counts, edges
        rows = [[edges[i], edges[i + 1], counts[i]] for i in range(len(counts))]
        super().__init__(columns=list(HISTOGRAM_COLUMNS), rows=rows,
                         metadata={"rundial.kind": HISTOGRAM_KIND})


def _numbers(values: Any) -> list[Any]:
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    out = []
    for value in items:
        plain = plain_scalar(value)
        if plain is UNSUPPORTED or isinstance(plain, str) or plain is None:
            raise ValueError(f"histogram values must be numbers, not {value!r}")
        out.append(plain)
    return out


def _bin(sequence: Any, num_bins: int) -> tuple[list[Any], list[float]]:
    import numpy as np  # a histogram from raw values: numpy is needed now

    if _is_torch(sequence):
        sequence = sequence.detach().cpu().float().numpy()
    values = np.asarray(sequence, dtype=np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    counts, edges = np.histogram(values, bins=num_bins)
    return [int(c) for c in counts], [float(e) for e in edges if math.isfinite(float(e))]
