"""``wandb.Video``, ``wandb.Audio`` and ``wandb.Html``: files logged as rundial media items of
type ``video``, ``audio`` and ``html`` (``docs/protocol.md`` §5.6, ``docs/wandb-compat.md``).

* :class:`Video`: a ``gif``/``mp4``/``webm``/``ogg`` file path, or a file object with
  ``format=``. Frames in a numpy array (W&B encodes them with moviepy) are not supported:
  ``NotImplementedError``.
* :class:`Audio`: a file path, or samples (a numpy array or list, (frames,) or (frames,
  channels)) with ``sample_rate=``, written as the 16-bit PCM WAV file W&B's soundfile
  (libsndfile 1.2) writes, with the stdlib ``wave`` module (soundfile is not needed): floats
  are clipped to [-1, 1], scaled to 32-bit integers (rounded) and keep their high 16 bits;
  int32 keeps its high 16 bits; int16 is kept.
* :class:`Html`: a string, a ``.html`` file path or a file object; ``inject=True`` (W&B's
  default) adds ``<base target="_blank">`` to its head as W&B does (W&B's stylesheet link on
  its own site is left out).

Bad input raises ``ValueError``/``TypeError`` at construction, as W&B does. numpy is imported
only for raw audio.
"""

from __future__ import annotations

import io
import os
import sys
import wave
from typing import Any

from rundial._media import MediaFile

VIDEO_FORMATS = ("gif", "mp4", "webm", "ogg")
VIDEO_CONTENT_TYPES = {"gif": "image/gif", "mp4": "video/mp4", "webm": "video/webm",
                       "ogg": "video/ogg"}
PCM_32_SCALE = 2.0 ** 31
HTML_HEAD_INJECTION = '<base target="_blank">'
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


def _caption(caption: Any) -> str | None:
    return None if caption is None else str(caption)


class Video(MediaFile):
    """``wandb.Video(data_or_path, caption=None, fps=None, format=None)``; see the module
    docstring. ``fps`` is kept in the item's metadata (it does not change a file, as in W&B)."""

    def __init__(self, data_or_path: Any, caption: str | None = None, fps: int | None = None,
                 format: str | None = None) -> None:
        if isinstance(data_or_path, (str, os.PathLike)):
            fmt = os.path.splitext(os.fspath(data_or_path))[1][1:].lower()
            _check_video_format(fmt)
            super().__init__("video", path=data_or_path, caption=_caption(caption),
                             metadata=_video_metadata(fmt, fps))
        elif callable(getattr(data_or_path, "read", None)):
            if format is None:
                raise ValueError("wandb.Video needs format= for a file object")
            _check_video_format(format)
            super().__init__("video", data=_bytes(data_or_path.read()), filename=f"video.{format}",
                             content_type=VIDEO_CONTENT_TYPES[format], caption=_caption(caption),
                             metadata=_video_metadata(format, fps))
        elif hasattr(data_or_path, "shape") or hasattr(data_or_path, "numpy"):
            raise NotImplementedError("wandb.Video from frames (an array) is not supported by "
                                      "rundial.compat.wandb: encode the video to a file and pass "
                                      "its path (see docs/wandb-compat.md)")
        else:
            raise ValueError("wandb.Video takes a file path, a file object or an array, not "
                             f"{type(data_or_path).__name__}")


def _video_metadata(fmt: str, fps: int | None) -> dict[str, Any]:
    """The item's metadata; a warning for ``fps``, which does not change a file (as in W&B)."""
    metadata: dict[str, Any] = {"rundial.kind": "wandb_video", "format": fmt}
    if fps is not None:
        metadata["fps"] = fps
        print("wandb: WARNING fps does not change the frame rate of a video given as a file",
              file=sys.stderr)
    return metadata


def _check_video_format(fmt: str) -> None:
    if fmt not in VIDEO_FORMATS:
        raise ValueError(f"wandb.Video accepts {', '.join(VIDEO_FORMATS)} files, not {fmt!r}")


def _bytes(data: Any) -> bytes:
    if isinstance(data, str):
        raise TypeError("wandb.Video needs a binary file object, not a text one")
    return bytes(data)


class Audio(MediaFile):
    """``wandb.Audio(data_or_path, sample_rate=None, caption=None)``; see the module docstring.

    Metadata: ``sampleRate`` when given, and ``durationSeconds`` for samples. ``ValueError`` for
    samples without ``sample_rate``, a remote reference (``s3://...``, which W&B refuses when
    logged) or a bad shape; ``TypeError`` for a sample type soundfile refuses too.
    """

    def __init__(self, data_or_path: Any, sample_rate: int | None = None,
                 caption: str | None = None) -> None:
        metadata: dict[str, Any] = {"rundial.kind": "wandb_audio"}
        if sample_rate is not None:
            metadata["sampleRate"] = sample_rate
        if isinstance(data_or_path, (str, os.PathLike)):
            if "://" in os.fspath(data_or_path):
                raise ValueError("wandb.Audio of a remote reference cannot be logged to a run")
            super().__init__("audio", path=data_or_path, caption=_caption(caption),
                             metadata=metadata)
            return
        if sample_rate is None:
            raise ValueError("wandb.Audio needs sample_rate= for raw samples")
        samples = _pcm16(data_or_path)
        metadata["durationSeconds"] = len(samples) / float(sample_rate)
        super().__init__("audio", data=_wav(samples, int(sample_rate)), filename="audio.wav",
                         content_type="audio/wav", caption=_caption(caption), metadata=metadata)


def _pcm16(data: Any) -> Any:
    """(frames, channels) int16 samples of ``data`` (module docstring)."""
    import numpy as np  # raw samples: numpy is needed now

    array = np.asarray(data)
    if array.ndim not in (1, 2) or array.size == 0:
        raise ValueError(f"audio samples must be shaped (frames,) or (frames, channels), not "
                         f"{array.shape}")
    if array.ndim == 1:
        array = array[:, None]
    if array.dtype in (np.float32, np.float64):
        scaled = np.rint(array.astype(np.float64) * PCM_32_SCALE)
        array = np.clip(scaled, -PCM_32_SCALE, PCM_32_SCALE - 1).astype(np.int32)
    if array.dtype == np.int32:
        return (array >> 16).astype(np.int16)
    if array.dtype == np.int16:
        return array
    raise TypeError(f"audio samples must be float32, float64, int16 or int32, not {array.dtype}")


def _wav(samples: Any, sample_rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(int(samples.shape[1]))
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buf.getvalue()


class Html(MediaFile):
    """``wandb.Html(data, inject=True, data_is_not_path=False)``; see the module docstring.
    ``ValueError`` for anything that is not a str, a path or a readable object."""

    def __init__(self, data: Any, inject: bool = True, data_is_not_path: bool = False) -> None:
        is_path = (isinstance(data, (str, os.PathLike)) and not data_is_not_path
                   and os.path.isfile(data) and os.path.splitext(data)[1] == ".html")
        if is_path:
            with open(data, encoding="utf-8") as fh:
                self.html = fh.read()
        elif isinstance(data, str):
            self.html = data
        elif callable(getattr(data, "read", None)):
            if callable(getattr(data, "seek", None)):
                data.seek(0)
            self.html = data.read()
        else:
            raise ValueError("wandb.Html takes a string, a .html path or a file object")
        if inject:
            self.html = _injected(self.html)
        meta = {"rundial.kind": "wandb_html"}
        if is_path and not inject:
            super().__init__("html", path=data, metadata=meta)
        else:
            super().__init__("html", data=self.html.encode("utf-8"), filename="page.html",
                             content_type=HTML_CONTENT_TYPE, metadata=meta)


def _injected(html: str) -> str:
    """``html`` with :data:`HTML_HEAD_INJECTION` at the start of its head, where W&B puts its
    own (a head is added after ``<html>``; without either it goes first)."""
    if "<head>" in html:
        before, after = html.split("<head>", 1)
        return f"{before}<head>{HTML_HEAD_INJECTION}{after}".strip()
    if "<html>" in html:
        before, after = html.split("<html>", 1)
        return f"{before}<html><head>{HTML_HEAD_INJECTION}</head>{after}".strip()
    return f"{HTML_HEAD_INJECTION}{html}".strip()
