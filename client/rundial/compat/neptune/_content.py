"""The bytes behind Neptune's in-memory ``File`` values (``from_content``, ``from_stream``,
``as_html``, ``as_pickle``) and where the shim stages them for upload.

Conversions follow neptune 1.14: text is UTF-8 (extension ``txt``), bytes keep theirs
(``bin``); ``as_html`` turns a pandas DataFrame (``to_html()``), a plotly figure
(``write_html``, ``include_plotlyjs`` passed on), an altair chart, a bokeh figure or a
matplotlib figure (through plotly when it is installed and converts it cleanly, else a PNG in
an ``<img>`` tag) into HTML; ``as_pickle`` is ``pickle.dumps``. Nothing here imports pandas,
plotly, altair, bokeh or matplotlib until such a value is converted.
"""

from __future__ import annotations

import base64
import importlib
import io
import pickle
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

__all__ = ["ContentDir", "content_of", "html_chart", "html_of", "pickle_of", "stream_content"]


def content_of(content: Any, extension: str | None) -> tuple[bytes, str]:
    """``File.from_content``: the bytes and extension (``TypeError`` for other than str/bytes)."""
    _check_extension(extension)
    if isinstance(content, str):
        return content.encode("utf-8"), extension or "txt"
    if isinstance(content, (bytes, bytearray)):
        return bytes(content), extension or "bin"
    raise TypeError(f"File.from_content takes str or bytes, not {type(content).__name__}")


def stream_content(stream: Any, seek: int | None, extension: str | None) -> tuple[bytes, str]:
    """``File.from_stream``: reads the stream now from ``seek`` (when it is seekable); text
    streams are UTF-8 encoded (extension ``txt``), binary ones ``bin``. ``TypeError`` for
    anything but an ``io.IOBase``."""
    if not isinstance(stream, io.IOBase):
        raise TypeError(f"File.from_stream takes an io stream, not {type(stream).__name__}")
    _check_extension(extension)
    if seek is not None and stream.seekable():
        stream.seek(seek)
    data = stream.read()
    if isinstance(stream, io.TextIOBase):
        return data.encode("utf-8"), extension or "txt"
    return bytes(data), extension or "bin"


def pickle_of(value: Any) -> bytes:
    """``File.as_pickle``: ``pickle.dumps`` with the default protocol, as Neptune's."""
    return pickle.dumps(value)


def html_of(chart: Any, include_plotlyjs: Any = True) -> str:
    """``File.as_html``'s HTML of a chart or DataFrame; ``ValueError`` for anything else."""
    if _kind(chart) == "pyplot":
        chart = chart.gcf()
    kind = _kind(chart)
    if kind == "dataframe":
        return str(chart.to_html())
    if kind == "plotly":
        return _plotly_html(chart, include_plotlyjs)
    if kind == "altair":
        out = io.StringIO()
        chart.save(out, format="html")
        return out.getvalue()
    if kind == "bokeh":
        embed: Any = importlib.import_module("bokeh.embed")
        resources: Any = importlib.import_module("bokeh.resources")
        return str(embed.file_html(chart, resources.CDN))
    if kind == "matplotlib":
        return _matplotlib_html(chart, include_plotlyjs)
    raise ValueError("File.as_html takes a pandas DataFrame or a matplotlib, plotly, altair or "
                     f"bokeh figure, not {type(chart).__name__}")


def html_chart(value: Any) -> bool:
    """A plotly, altair or bokeh chart (Neptune uploads those as ``File.as_html``)."""
    return _kind(value) in ("plotly", "altair", "bokeh")


def _kind(chart: Any) -> str | None:
    cls, package = type(chart), type(chart).__module__.partition(".")[0]
    if getattr(chart, "__name__", "") == "matplotlib.pyplot":
        return "pyplot"
    if cls.__name__ == "DataFrame" and package == "pandas":
        return "dataframe"
    if cls.__name__ == "Figure" and package == "plotly":
        return "plotly"
    if "Chart" in cls.__name__ and package == "altair":
        return "altair"
    if cls.__name__.lower() == "figure" and package == "bokeh":
        return "bokeh"
    if hasattr(chart, "savefig") and hasattr(chart, "canvas"):
        return "matplotlib"
    return None


def _plotly_html(figure: Any, include_plotlyjs: Any) -> str:
    out = io.StringIO()
    figure.write_html(out, include_plotlyjs=include_plotlyjs)
    return out.getvalue()


def _matplotlib_html(figure: Any, include_plotlyjs: Any) -> str:
    """Through plotly when it converts the figure without a warning, else a PNG (Neptune's
    fallback)."""
    try:
        tools: Any = importlib.import_module("plotly.tools")
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            return _plotly_html(tools.mpl_to_plotly(figure), include_plotlyjs)
    except (ImportError, UserWarning):
        png = io.BytesIO()
        figure.savefig(png, format="png")
        return "<img src='data:image/png;base64," + base64.b64encode(png.getvalue()).decode() + "'/>"


def _check_extension(extension: Any) -> None:
    if extension is not None and not isinstance(extension, str):
        raise TypeError(f"extension must be a str, not {type(extension).__name__}")


class ContentDir:
    """A private directory holding in-memory files until the artifact thread has sent them.

    :meth:`stage` writes one file as ``<n>/<name>`` (a fresh sub-directory per file, so two
    uploads to the same field never overwrite each other) and returns its path. :meth:`close`
    removes the directory only when told everything was delivered; otherwise it stays (the
    spooled or journaled uploads still read from it) and its path is in the warning of the run.
    """

    __slots__ = ("_root", "_count")

    def __init__(self) -> None:
        self._root: Path | None = None
        self._count = 0

    def stage(self, name: str, data: bytes) -> Path:
        """Write ``data`` as a file named ``name``; ``OSError`` when the disk refuses it."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="rundial-neptune-"))
        self._count += 1
        target = self._root / str(self._count) / name
        target.parent.mkdir()
        target.write_bytes(data)
        return target

    def close(self, delivered: bool) -> Path | None:
        """Remove the files when ``delivered``; returns the directory that was kept, if any."""
        root, self._root = self._root, None
        if root is None:
            return None
        if delivered:
            shutil.rmtree(root, ignore_errors=True)
            return None
        return root
