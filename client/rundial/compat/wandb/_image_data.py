"""Pixels for ``wandb.Image`` from what W&B accepts besides paths and PIL images.

The conversions are W&B's, so the stored pixels are the ones W&B would store:

* numpy arrays (and nested lists): singleton dimensions are squeezed away; the shape must
  then be (h, w), (h, w, 3) or (h, w, 4) (``ValueError`` otherwise). As in wandb 0.31 the
  values are cast to uint8 as they are (numpy's cast: no scaling, so a [0, 1] float image is
  black). ``normalize=True`` (not a wandb 0.31 argument) opts into older W&B releases'
  scaling: an array with a minimum below 0 is mapped to [0, 1] by its range, one whose maximum
  is at most 1 is multiplied by 255, and the result is clipped to 0-255.
* a (c, h, w) torch tensor with 1, 3 or 4 channels is what wandb 0.31 makes of it: moved
  channel-last and cast to uint8 as it is (numpy's cast: no scaling, so values in [0, 1] are
  black), one channel giving a (h, w) grey image; other channel counts are a ``ValueError``.
* (h, w) and (n, c, h, w) tensors (wandb 0.31 refuses them) go through torchvision's
  ``make_grid(normalize=True)`` rules, as older W&B releases did (re-implemented here,
  torchvision is not needed): a (h, w) tensor becomes three equal channels; a batch of more
  than one image is tiled 8 to a row with 2 pixels of black padding; the whole tensor is scaled
  by its own minimum and range (at least 1e-5); then times 255, clamped and truncated to uint8,
  channel-last.
* matplotlib figures (or ``pyplot`` itself: its current figure) are drawn to PNG (needs Pillow).

numpy is imported when an array is converted; torch is never imported (the tensor's methods are
used).
"""

from __future__ import annotations

import io
import math
from typing import Any

GRID_ROW_IMAGES = 8
GRID_PADDING_PIXELS = 2
_MODES_BY_CHANNELS = {3: "RGB", 4: "RGBA"}


def is_figure(value: Any) -> bool:
    """A matplotlib figure, or the ``matplotlib.pyplot`` module (its current figure)."""
    return callable(getattr(value, "savefig", None)) and (
        hasattr(value, "get_size_inches") or callable(getattr(value, "gcf", None)))


def figure_image(figure: Any) -> Any:
    """A PIL image of a figure drawn to PNG."""
    from PIL import Image as PILImage  # a figure was given: Pillow is needed now

    if callable(getattr(figure, "gcf", None)):
        figure = figure.gcf()
    buf = io.BytesIO()
    figure.savefig(buf, format="png")
    buf.seek(0)
    image = PILImage.open(buf)
    image.load()
    return image


def is_pil(value: Any) -> bool:
    return hasattr(value, "save") and hasattr(value, "mode") and hasattr(value, "size")


def is_torch(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def uint8_array(data: Any, normalize: bool) -> Any:
    """A uint8 (h, w[, 3|4]) numpy array (see the module docstring)."""
    import numpy as np  # an image from an array: numpy is needed now, not at import

    if is_torch(data):
        return _tensor_pixels(data)
    if not hasattr(data, "shape") and not isinstance(data, (list, tuple)):
        raise TypeError("wandb.Image takes a path, a PIL image, a matplotlib figure, a numpy "
                        f"array or a torch tensor, not {type(data).__name__}")
    array = np.asarray(data)
    if array.ndim > 2:
        array = array.squeeze()
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in _MODES_BY_CHANNELS)):
        raise ValueError(f"unsupported shape for an image: {list(array.shape)} (W&B takes "
                         "(h, w), (h, w, 3) or (h, w, 4) arrays)")
    if not normalize:
        return array.astype(np.uint8)
    array = array.astype(np.float64)
    if array.size and array.min() < 0:
        array = (array - array.min()) / (float(np.ptp(array)) or 1.0)
    if array.size and array.max() <= 1.0:
        array = (array * 255).astype(np.int32)
    return np.clip(array, 0, 255).astype(np.uint8)


def _tensor_pixels(tensor: Any) -> Any:
    """A (c, h, w) tensor as wandb 0.31 converts it, anything else by make_grid's rules."""
    t = tensor.detach().cpu()
    if t.dim() == 3:
        return _channel_first_pixels(t)
    return _grid_pixels(t)


def _channel_first_pixels(t: Any) -> Any:
    """wandb 0.31's conversion: channel-last, a plain uint8 cast, one channel squeezed."""
    import numpy as np

    if int(t.size(0)) not in (1, 3, 4):
        raise ValueError(f"unsupported shape for an image: {list(t.shape)} (a channel-first "
                         "tensor needs 1, 3 or 4 channels)")
    array = t.permute(1, 2, 0).numpy()
    if array.dtype != np.uint8:
        array = array.astype(np.uint8)
    return array[:, :, 0] if array.shape[2] == 1 else array


def _grid_pixels(t: Any) -> Any:
    """make_grid(normalize=True) of a (h, w) or (n, c, h, w) tensor, uint8 channel-last."""
    if not t.is_floating_point():
        t = t.double()
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if t.dim() == 3:
        t = t.unsqueeze(0)
    if t.dim() != 4:
        raise ValueError("wandb.Image from a tensor takes (h, w), (c, h, w) or (n, c, h, w), "
                         f"not {tuple(t.shape)}")
    if t.size(1) == 1:
        t = t.repeat(1, 3, 1, 1)
    t = t.clone()
    low, high = float(t.min()), float(t.max())
    t = t.clamp(low, high).sub(low).div(max(high - low, 1e-5))
    grid = t[0] if t.size(0) == 1 else _tile(t)
    return grid.mul(255).clamp(0, 255).byte().permute(1, 2, 0).numpy()


def _tile(batch: Any) -> Any:
    """Images of a batch in rows of :data:`GRID_ROW_IMAGES`, padded with black."""
    count, channels, height, width = (int(n) for n in batch.shape)
    pad = GRID_PADDING_PIXELS
    columns = min(GRID_ROW_IMAGES, count)
    rows = math.ceil(count / columns)
    cell_h, cell_w = height + pad, width + pad
    grid = batch.new_full((channels, cell_h * rows + pad, cell_w * columns + pad), 0.0)
    for index in range(count):
        y, x = divmod(index, columns)
        top, left = y * cell_h + pad, x * cell_w + pad
        grid[:, top:top + height, left:left + width] = batch[index]
    return grid
