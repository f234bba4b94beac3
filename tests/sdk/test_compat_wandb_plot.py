"""rundial.compat.wandb: ``wandb.plot`` charts as table media items, and ``Video``, ``Audio``,
``Html`` as file media items. Expected values are computed here from the definitions; the
comparison with the real wandb 0.31 is tests/compat/test_wandb_real_plots.py."""

from __future__ import annotations

import io
import wave
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import rundial.compat.wandb as wandb
from rundial._media import MediaFile
from rundial._media import Table as RdTable
from tests.sdk.wandb_support import Recorder, make_run

np = pytest.importorskip("numpy")


def logged(value: Any, key: str = "chart") -> dict[str, Any]:
    """What one ``wandb.log({key: value})`` hands the rundial run: {media key: value}."""
    recorder = Recorder()
    make_run(recorder).log({key: value})
    return {k: v for _step, row in recorder.calls for k, v in row.items()}


def test_table_charts_log_the_table_under_wandbs_key_with_the_spec() -> None:
    table = wandb.Table(columns=["step", "value", "series"],
                        data=[[0, 1.5, "a"], [1, np.float32(2.5), "b"]])
    charts = {
        "line": (wandb.plot.line(table, "step", "value", stroke="series", title="L"),
                 "wandb/line/v0", {"x": "step", "y": "value", "stroke": "series"}),
        "scatter": (wandb.plot.scatter(table, "step", "value", title="S"), "wandb/scatter/v0",
                    {"x": "step", "y": "value"}),
        "bar": (wandb.plot.bar(table, "series", "value", title="B"), "wandb/bar/v0",
                {"label": "series", "value": "value"}),
        "hist": (wandb.plot.histogram(table, "value", title="H"), "wandb/histogram/v0",
                 {"value": "value"}),
    }
    for key, (chart, spec, fields) in charts.items():
        [(media_key, item)] = logged(chart, key).items()
        assert media_key == f"{key}_table" and isinstance(item, RdTable)
        assert item.columns == ["step", "value", "series"]
        assert item.rows == [[0, 1.5, "a"], [1, 2.5, "b"]]
        assert item.metadata == {"rundial.kind": "wandb_plot", "spec": spec, "fields": fields,
                                 "stringFields": {"title": key[0].upper()},
                                 "title": key[0].upper(), "chartKey": key}
    split = wandb.plot.scatter(table, "step", "value", split_table=True)
    assert list(logged({"pts": split}, "eval")) == ["Custom Chart Tables/eval.pts_table"]
    custom = wandb.plot_table("me/spec", table, {"x": "step"}, {"title": "T"})
    assert logged(custom)["chart_table"].metadata["spec"] == "me/spec"
    with pytest.raises(TypeError, match="wandb.Table"):
        wandb.plot.line([[1, 2]], "x", "y")  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="docs/wandb-compat.md"):
        wandb.plot.visualize  # noqa: B018


def test_line_series_rows_are_every_point_of_every_series() -> None:
    chart = wandb.plot.line_series(xs=[0, 1, 2], ys=[[10, 20, 30], [5, 6, 7]],
                                   keys=["a", "b"], title="T", xname="epoch")
    item = logged(chart)["chart_table"]
    assert item.columns == ["step", "lineKey", "lineVal"]
    assert item.rows == [[0, "a", 10], [1, "a", 20], [2, "a", 30],
                         [0, "b", 5], [1, "b", 6], [2, "b", 7]]
    assert item.metadata["stringFields"] == {"title": "T", "xname": "epoch"}
    own_xs = wandb.plot.line_series(xs=[[0, 1], [5, 6]], ys=[[1, 2], [3, 4]])
    assert logged(own_xs)["chart_table"].rows == [[0, "line_0", 1], [1, "line_0", 2],
                                                  [5, "line_1", 3], [6, "line_1", 4]]
    with pytest.raises(ValueError, match="x-series"):
        wandb.plot.line_series(xs=[[0], [1], [2]], ys=[[1], [2]])
    with pytest.raises(ValueError, match="keys"):
        wandb.plot.line_series(xs=[0], ys=[[1], [2]], keys=["only"])


def test_confusion_matrix_counts_every_class_pair() -> None:
    y_true = [2, 0, 1, 1, 2, 2, 0]
    preds = [2, 1, 1, 1, 0, 2, 0]
    pairs = Counter(zip(y_true, preds))
    item = logged(wandb.plot.confusion_matrix(y_true=y_true, preds=preds,
                                              class_names=["cat", "dog", "eel"]))["chart_table"]
    names = ["cat", "dog", "eel"]
    assert item.columns == ["Actual", "Predicted", "nPredictions"]
    assert item.rows == [[names[a], names[p], float(pairs[(a, p)])]
                         for a in range(3) for p in range(3)]
    assert all(isinstance(row[2], float) for row in item.rows)  # W&B's counts are floats
    assert item.metadata["spec"] == "wandb/confusion_matrix/v1"
    assert item.metadata["title"] == "Confusion Matrix Curve"
    probs = np.eye(3)[preds] * 0.8 + 0.05  # argmax is preds
    by_probs = logged(wandb.plot.confusion_matrix(probs=probs, y_true=y_true))["chart_table"]
    assert by_probs.rows == [[f"Class_{a + 1}", f"Class_{p + 1}", float(pairs[(a, p)])]
                             for a in range(3) for p in range(3)]
    labels = logged(wandb.plot.confusion_matrix(y_true=["b", "a"], preds=["a", "a"]))
    assert labels["chart_table"].rows == [["Class_1", "Class_1", 1.0],
                                          ["Class_1", "Class_2", 0.0],
                                          ["Class_2", "Class_1", 1.0],
                                          ["Class_2", "Class_2", 0.0]]
    with pytest.raises(ValueError, match="not both"):
        wandb.plot.confusion_matrix(probs=probs, y_true=y_true, preds=preds)
    with pytest.raises(ValueError, match="7 true labels"):
        wandb.plot.confusion_matrix(y_true=y_true, preds=preds[:3])
    with pytest.raises(ValueError, match="more distinct predicted classes"):
        wandb.plot.confusion_matrix(y_true=[0, 1, 2], preds=[0, 1, 2], class_names=["a", "b"])
    with pytest.raises(ValueError, match="not a class index"):
        wandb.plot.confusion_matrix(y_true=[0, 5], preds=[0, 1], class_names=["a", "b"])


def _roc_points(truth: list[int], scores: list[float]) -> list[tuple[float, float]]:
    """Every (fpr, tpr) of thresholds at each distinct score, highest first, from (0, 0)."""
    positives = sum(truth)
    negatives = len(truth) - positives
    points = [(0.0, 0.0)]
    for threshold in sorted(set(scores), reverse=True):
        tp = sum(1 for t, s in zip(truth, scores) if s >= threshold and t == 1)
        fp = sum(1 for t, s in zip(truth, scores) if s >= threshold and t == 0)
        points.append((fp / negatives, tp / positives))
    return points


def test_roc_and_pr_curves_follow_their_definitions() -> None:
    pytest.importorskip("sklearn")
    truth = [0, 1, 1, 0, 1, 0, 1, 0]
    positive = [0.1, 0.9, 0.3, 0.35, 0.8, 0.6, 0.7, 0.2]
    probas = [[1 - p, p] for p in positive]
    roc = logged(wandb.plot.roc_curve(truth, probas, labels=["neg", "pos"]))["chart_table"]
    assert roc.columns == ["class", "fpr", "tpr"]
    pos_points = [(fpr, tpr) for name, fpr, tpr in roc.rows if name == "pos"]
    expected = {(round(f, 3), round(t, 3)) for f, t in _roc_points(truth, positive)}
    assert set(pos_points) <= expected and pos_points[0] == (0.0, 0.0) \
        and pos_points[-1] == (1.0, 1.0)  # scikit-learn drops collinear points only
    assert roc.metadata["fields"] == {"x": "fpr", "y": "tpr", "class": "class"}
    pr = logged(wandb.plot.pr_curve(truth, probas, classes_to_plot=[1], interp_size=5))
    rows = pr["chart_table"].rows
    assert [row[0] for row in rows] == [1] * 5 and [row[2] for row in rows] == [
        1.0, 0.75, 0.5, 0.25, 0.0]
    # precision at recall r: the best precision of any threshold reaching at least recall r
    ranked = sorted(zip(positive, truth), reverse=True)
    best = {r: max(sum(t for _, t in ranked[:k]) / k for k in range(1, 9)
                   if sum(t for _, t in ranked[:k]) / 4 >= r) for r in (1.0, 0.75, 0.5, 0.25)}
    assert [row[1] for row in rows[:4]] == [round(best[r], 3) for r in (1.0, 0.75, 0.5, 0.25)]
    assert rows[4][1] == 1.0
    with pytest.raises(ValueError, match="required"):
        wandb.plot.roc_curve(truth, None)
    with pytest.raises(ValueError, match=r"shaped \(labels, classes\)"):
        wandb.plot.pr_curve(truth, positive)  # one score per label: not a column per class
    with pytest.raises(ValueError, match=r"shaped \(labels, classes\)"):
        wandb.plot.roc_curve(truth, probas[:-1])


def test_video_from_a_path_or_bytes_and_not_from_frames(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    clip = tmp_path / "clip.MP4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    video = wandb.Video(str(clip), caption="run", fps=8)
    rendered = video.render()
    assert isinstance(video, MediaFile) and (rendered.media_type, rendered.source) == (
        "video", clip.resolve())
    assert video.caption == "run" and video.metadata == {"rundial.kind": "wandb_video",
                                                         "fps": 8, "format": "mp4"}
    assert "fps does not change" in capsys.readouterr().err
    gif = wandb.Video(io.BytesIO(b"GIF89a..."), format="gif").render()
    assert (gif.filename, gif.data, gif.content_type) == ("video.gif", b"GIF89a...",
                                                          "image/gif")
    assert list(logged(wandb.Video(str(clip)), "clip")) == ["clip"]
    cells = logged(wandb.Table(columns=["id", "clip"], data=[[7, wandb.Video(str(clip))]]), "t")
    assert cells["t"].rows == [[7, "media:t/clip#0"]]  # a media cell, as images are
    assert cells["t/clip"].metadata == {"rundial.kind": "wandb_video", "format": "mp4",
                                        "table": "t", "row": 0, "column": "clip"}
    with pytest.raises(ValueError, match="format="):
        wandb.Video(io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="gif, mp4, webm, ogg"):
        wandb.Video(str(tmp_path / "x.avi"))
    with pytest.raises(NotImplementedError, match="encode the video to a file"):
        wandb.Video(np.zeros((2, 3, 4, 4), dtype=np.uint8), format="gif")
    with pytest.raises(ValueError, match="does not exist"):
        wandb.Video(str(tmp_path / "missing.gif"))


def _wav_samples(data: bytes) -> tuple[int, int, list[int]]:
    with wave.open(io.BytesIO(data)) as wav:
        frames = wav.readframes(wav.getnframes())
        return wav.getframerate(), wav.getnchannels(), list(
            np.frombuffer(frames, dtype="<i2").tolist())


def test_audio_samples_become_a_16_bit_wav(tmp_path: Path) -> None:
    floats = [0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, 0.25, 1.7 / 32768, -1.5 / 32768]
    audio = wandb.Audio(np.array(floats), sample_rate=8000, caption="beep")
    rendered = audio.render()
    assert (rendered.media_type, rendered.filename, rendered.content_type) == (
        "audio", "audio.wav", "audio/wav")
    rate, channels, samples = _wav_samples(rendered.data or b"")
    assert (rate, channels) == (8000, 1)
    # libsndfile's rule: the high 16 bits of the clipped sample scaled to 32 bits
    assert samples == [0, 16384, -16384, 32767, -32768, 32767, -32768, 8192, 1, -2]
    assert audio.metadata == {"rundial.kind": "wandb_audio", "sampleRate": 8000,
                              "durationSeconds": 10 / 8000} and audio.caption == "beep"
    stereo = np.array([[1000, -1000], [2, 3]], dtype=np.int16)
    assert _wav_samples(wandb.Audio(stereo, sample_rate=4).render().data or b"") == (
        4, 2, [1000, -1000, 2, 3])
    wide = np.array([65536 * 7, -65536 * 3], dtype=np.int32)
    assert _wav_samples(wandb.Audio(wide, 10).render().data or b"")[2] == [7, -3]
    path = tmp_path / "a.wav"
    path.write_bytes(rendered.data or b"")
    assert wandb.Audio(str(path)).render().source == path.resolve()
    with pytest.raises(ValueError, match="sample_rate"):
        wandb.Audio([0.1, 0.2])
    with pytest.raises(TypeError, match="int64"):
        wandb.Audio(np.array([1, 2], dtype=np.int64), sample_rate=10)
    with pytest.raises(ValueError, match="frames"):
        wandb.Audio(np.zeros((2, 2, 2)), sample_rate=10)
    with pytest.raises(ValueError, match="remote reference"):
        wandb.Audio("s3://bucket/a.wav")


def test_html_is_injected_as_wandb_does(tmp_path: Path) -> None:
    def text(html: wandb.Html) -> str:
        rendered = html.render()
        return (rendered.data or b"").decode() if rendered.source is None \
            else rendered.source.read_text()

    base = '<base target="_blank">'
    assert text(wandb.Html("<p>x</p>")) == f"{base}<p>x</p>"
    assert text(wandb.Html("<html><body>b</body></html>")) == \
        f"<html><head>{base}</head><body>b</body></html>"
    assert text(wandb.Html("<html><head><title>t</title></head></html>")) == \
        f"<html><head>{base}<title>t</title></head></html>"
    assert text(wandb.Html("<p>raw</p>", inject=False)) == "<p>raw</p>"
    page = tmp_path / "page.html"
    page.write_text("<p>file</p>")
    from_file = wandb.Html(str(page), inject=False)
    assert from_file.render().source == page.resolve() and text(from_file) == "<p>file</p>"
    assert text(wandb.Html(str(page))) == f"{base}<p>file</p>"
    assert text(wandb.Html(str(page), data_is_not_path=True)) == f"{base}{page}"
    assert text(wandb.Html(io.StringIO("<i>io</i>"), inject=False)) == "<i>io</i>"
    rendered = wandb.Html("<p/>").render()
    assert (rendered.media_type, rendered.content_type) == ("html", "text/html; charset=utf-8")
    with pytest.raises(ValueError, match="string"):
        wandb.Html(42)


def test_media_file_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="media_type"):
        MediaFile("model", data=b"x")
    with pytest.raises(ValueError, match="either a path or data"):
        MediaFile("video")
    with pytest.raises(ValueError, match="either a path or data"):
        MediaFile("video", path=tmp_path, data=b"x")
    with pytest.raises(ValueError, match="does not exist"):
        MediaFile("audio", path=tmp_path / "none.wav")
    rendered = MediaFile("html", data=b"<p/>", filename="p.html").render()
    assert (rendered.filename, rendered.content_type) == ("p.html", "application/octet-stream")
