"""``from rundial.compat.neptune.types import File`` (Neptune's ``neptune.types.File``).

Three kinds of ``File`` are supported:

* a file on disk — ``File(path)``, ``File.from_path(path)`` — uploaded as an artifact by
  ``run["f"].upload(file)`` or ``run["f"] = file``;
* an image — ``File.as_image(image)`` — logged as rundial image media
  (``run.log({path: rd.Image(...)}, step=...)``) by ``upload``, ``assign`` or ``append``.
  ``image`` may be a PIL image, a numpy array (``uint8``; floats are read as 0–1 and scaled
  to 0–255, as Neptune does), a torch tensor (as its numpy array) or a matplotlib figure
  (drawn to RGBA). numpy is imported only for a figure (matplotlib needs it anyway);
* content held in memory — ``File.from_content``, ``File.from_stream`` (read at once),
  ``File.as_html``, ``File.as_pickle`` (:mod:`rundial.compat.neptune._content`) — uploaded as
  an artifact file named ``<last path segment>.<extension>``. Only images can be appended to
  a series (``TypeError`` otherwise, as Neptune refuses it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import rundial as rd
from rundial.compat.neptune import _content

__all__ = ["File"]

class File:
    """A file (``path``), an image (``image``) or in-memory ``content`` with its ``extension``
    to upload; see the module docstring."""

    __slots__ = ("path", "image", "content", "extension")

    def __init__(self, path: str | os.PathLike[str] | None = None, *, image: Any = None,
                 content: bytes | None = None, extension: str | None = None) -> None:
        if path is None and image is None and content is None:
            raise ValueError("File needs a path (File(path)), an image (File.as_image(...)) "
                             "or content (File.from_content(...))")
        self.path = None if path is None else Path(path)
        self.image = image
        self.content = content
        self.extension = extension

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **_: Any) -> File:
        return cls(path)

    @classmethod
    def as_image(cls, image: Any, **_: Any) -> File:
        return cls(image=image)

    @classmethod
    def from_content(cls, content: str | bytes, *, extension: str | None = None) -> File:
        """Text (UTF-8, extension ``txt``) or bytes (``bin``); ``TypeError`` for other types."""
        data, ext = _content.content_of(content, extension)
        return cls(content=data, extension=ext)

    @classmethod
    def from_stream(cls, stream: Any, *, seek: int | None = 0,
                    extension: str | None = None) -> File:
        """The rest of ``stream`` from ``seek``, read now (Neptune reads it at upload)."""
        data, ext = _content.stream_content(stream, seek, extension)
        return cls(content=data, extension=ext)

    @classmethod
    def as_html(cls, chart: Any, *, include_plotlyjs: Any = True) -> File:
        """A DataFrame or a chart as HTML (extension ``html``); ``ValueError`` for others."""
        html = _content.html_of(chart, include_plotlyjs)
        return cls(content=html.encode("utf-8"), extension="html")

    @classmethod
    def as_pickle(cls, obj: Any) -> File:
        """``obj`` pickled (extension ``pkl``); pickling errors propagate."""
        return cls(content=_content.pickle_of(obj), extension="pkl")

    def media(self) -> rd.Image:
        """The file or image as ``rd.Image`` (``TypeError``/``ValueError`` from it when it
        cannot read the value; ``TypeError`` for in-memory content)."""
        if self.content is not None:
            raise TypeError("neptune: only images can be appended to a file series, not "
                            f"a .{self.extension} file (Neptune refuses it too)")
        return rd.Image(self.path if self.path is not None else _uint8_image(self.image))

    def __repr__(self) -> str:
        if self.path is not None:
            return f"File({self.path!s})"
        return "File(<image>)" if self.content is None else f"File(<content .{self.extension}>)"


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
