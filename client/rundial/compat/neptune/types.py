"""``from rundial.compat.neptune.types import File`` (Neptune's ``neptune.types.File``).

Two kinds of ``File`` are supported:

* a file on disk — ``File(path)``, ``File.from_path(path)`` — uploaded as an artifact by
  ``run["f"].upload(file)`` or ``run["f"] = file``;
* an image — ``File.as_image(image)`` — logged as rundial image media
  (``run.log({path: rd.Image(...)}, step=...)``) by ``upload``, ``assign`` or ``append``.
  ``image`` may be a PIL image, a numpy array (``uint8``; floats are read as 0–1 and scaled
  to 0–255, as Neptune does), a torch tensor (as its numpy array) or a matplotlib figure
  (drawn to RGBA). numpy is imported only for a figure (matplotlib needs it anyway).

``File.as_html``, ``as_pickle``, ``from_content`` and ``from_stream`` raise
``NotImplementedError`` (docs/neptune-compat.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import rundial as rd
from rundial.compat import _keyed

__all__ = ["File"]

_DOC = "docs/neptune-compat.md"


class File:
    """A file (``path``) or an image (``image``) to upload; see the module docstring."""

    __slots__ = ("path", "image")

    def __init__(self, path: str | os.PathLike[str] | None = None, *, image: Any = None) -> None:
        if path is None and image is None:
            raise ValueError("File needs a path (File(path)) or an image (File.as_image(...))")
        self.path = None if path is None else Path(path)
        self.image = image

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **_: Any) -> File:
        return cls(path)

    @classmethod
    def as_image(cls, image: Any, **_: Any) -> File:
        return cls(image=image)

    @classmethod
    def as_html(cls, *_: Any, **__: Any) -> File:
        raise _keyed.unsupported("neptune", "File.as_html", _DOC)

    @classmethod
    def as_pickle(cls, *_: Any, **__: Any) -> File:
        raise _keyed.unsupported("neptune", "File.as_pickle", _DOC)

    @classmethod
    def from_content(cls, *_: Any, **__: Any) -> File:
        raise _keyed.unsupported("neptune", "File.from_content", _DOC)

    @classmethod
    def from_stream(cls, *_: Any, **__: Any) -> File:
        raise _keyed.unsupported("neptune", "File.from_stream", _DOC)

    def media(self) -> rd.Image:
        """The file or image as ``rd.Image`` (``TypeError``/``ValueError`` from it when it
        cannot read the value)."""
        return rd.Image(self.path if self.path is not None else _uint8_image(self.image))

    def __repr__(self) -> str:
        return f"File({self.path!s})" if self.path is not None else "File(<image>)"


def _uint8_image(image: Any) -> Any:
    """A PIL image, or a uint8 array shaped (h, w[, c]), from what ``as_image`` accepts."""
    if hasattr(image, "savefig") and hasattr(image, "canvas"):  # a matplotlib figure
        import numpy as np  # matplotlib is in use: numpy is already loaded

        image.canvas.draw()
        return np.asarray(image.canvas.buffer_rgba()).copy()
    if hasattr(image, "detach") and hasattr(image, "cpu"):  # a torch tensor
        image = image.detach().cpu().numpy()
    kind = getattr(getattr(image, "dtype", None), "kind", None)
    if kind == "f":
        return (image.clip(0.0, 1.0) * 255).round().astype("uint8")
    if kind in ("i", "u", "b") and str(image.dtype) != "uint8":
        return image.clip(0, 255).astype("uint8")
    return image
