"""``wandb.Image``, ``wandb.Table`` and ``wandb.Histogram`` on top of rundial's media values.

* :class:`Image` is an ``rd.Image``: a path or a PIL image is taken as it is; a matplotlib
  figure, a numpy array or a torch tensor is converted to pixels as W&B converts it
  (``_image_data``). numpy and torch are never imported here.
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
from rundial.compat.wandb._image_data import figure_image, is_figure, is_pil, is_torch, uint8_array
from rundial.compat.wandb._image_overlays import overlays

HISTOGRAM_KIND = "histogram"
HISTOGRAM_COLUMNS = ("bin_start", "bin_end", "count")
MAX_HISTOGRAM_BINS = 512
DEFAULT_TABLE_COLUMNS = ("Input", "Output", "Expected")
LOG_MODES = ("IMMUTABLE", "MUTABLE", "INCREMENTAL", None)


class Image(_RdImage):
    """``wandb.Image(data_or_path, mode=None, caption=None, ...)``; see the module docstring.

    ``boxes``, ``masks`` and ``classes`` are kept as ``_image_overlays`` describes (boxes and
    classes in the metadata, masks as images of their own); ``grouping`` and ``file_type`` are
    not supported (``NotImplementedError`` when given); ``mode`` is accepted for PIL
    conversions.
    """

    def __init__(self, data_or_path: Any, mode: str | None = None, caption: str | None = None,
                 grouping: Any = None, classes: Any = None, boxes: Any = None,
                 masks: Any = None, file_type: str | None = None, normalize: bool = False) -> None:
        for label, given in (("grouping", grouping), ("file_type", file_type)):
            if given is not None:
                raise NotImplementedError(f"wandb.Image({label}=...) is not supported by "
                                          "rundial.compat.wandb; see docs/wandb-compat.md")
        data = data_or_path
        if is_figure(data):
            data = figure_image(data)
        if isinstance(data, Image):  # W&B copies the pixels, not the boxes or masks
            data = data._pil if data._pil is not None else (
                data._path if data._path is not None else data._array)
        elif mode is not None and is_pil(data):
            data = data.convert(mode)
        elif not isinstance(data, (str, os.PathLike)) and not is_pil(data):
            data = uint8_array(data, normalize)
        metadata, self.masks = overlays(boxes, masks, classes)
        super().__init__(data, caption=None if caption is None else str(caption),
                         metadata=metadata)


class Table:
    """``wandb.Table(columns=None, data=None, rows=None, dataframe=None, log_mode="IMMUTABLE")``.

    Columns default to W&B's ``["Input", "Output", "Expected"]``. ``add_data(*values)`` appends
    a row (``ValueError`` when its length is not the number of columns). Cells may be numbers,
    strings, numpy/torch scalars or :class:`Image` values (uploaded as their own media items,
    see ``docs/wandb-compat.md``). Each log is a snapshot of the rows (``IMMUTABLE`` and
    ``MUTABLE``); under ``INCREMENTAL`` it holds the rows added since the table's last log.
    """

    def __init__(self, columns: Sequence[str] | None = None, data: Sequence[Sequence[Any]] | None = None,
                 rows: Sequence[Sequence[Any]] | None = None, dataframe: Any = None,
                 dtype: Any = None, optional: Any = True, allow_mixed_types: bool = False,
                 log_mode: str | None = "IMMUTABLE") -> None:
        if log_mode not in LOG_MODES:
            raise ValueError(f"log_mode must be one of {LOG_MODES}, not {log_mode!r}")
        self.log_mode = log_mode or "IMMUTABLE"
        self.logged_rows = 0  # rows already logged (INCREMENTAL)
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
        if len(counts) > MAX_HISTOGRAM_BINS:
            raise ValueError(f"a histogram holds at most {MAX_HISTOGRAM_BINS} bins, not "
                             f"{len(counts)}")
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

    if is_torch(sequence):
        sequence = sequence.detach().cpu().float().numpy()
    values = np.asarray(sequence, dtype=np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    counts, edges = np.histogram(values, bins=num_bins)
    return [int(c) for c in counts], [float(e) for e in edges if math.isfinite(float(e))]
