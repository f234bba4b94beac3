"""Fixed inputs for ``wandb.plot`` charts and ``Audio``/``Html`` media, built by whichever
``wandb`` module is passed in: the real wandb 0.31 (run as a script in its venv, printing what
it built as JSON) or ``rundial.compat.wandb`` (tests/compat/test_wandb_real_plots.py).

Imports nothing but numpy and the given ``wandb``, so it runs in the real wandb's venv as is.
"""

from __future__ import annotations

import json
import sys
import wave
from typing import Any

SEED = 7
BIG_SAMPLES = 12_000  # two ROC curves of more than 10 000 points together: resampled


def charts(wandb: Any, np: Any) -> dict[str, Any]:
    """Every chart kind, by the key it is logged under."""
    rng = np.random.RandomState(SEED)
    y3 = rng.randint(0, 3, size=300)
    p3 = rng.dirichlet([1.0, 1.0, 1.0], size=300)
    p3[np.arange(300), y3] += 0.4
    p3 /= p3.sum(axis=1, keepdims=True)
    words = np.array(["cat", "dog"])[rng.randint(0, 2, size=80)]
    p2 = rng.uniform(size=(80, 2))
    big_y = rng.randint(0, 2, size=BIG_SAMPLES)
    big_p = rng.uniform(size=(BIG_SAMPLES, 2))
    table = wandb.Table(columns=["step", "value", "series"],
                        data=[[i, float(np.sin(i / 3)), f"s{i % 2}"] for i in range(12)])
    return {
        "line": wandb.plot.line(table, "step", "value", stroke="series", title="sin"),
        "scatter": wandb.plot.scatter(table, "step", "value", title="pts", split_table=True),
        "bar": wandb.plot.bar(table, "series", "value"),
        "hist": wandb.plot.histogram(table, "value", title="values"),
        "series": wandb.plot.line_series(xs=np.arange(5), ys=[rng.uniform(size=5).tolist(),
                                                              [1, 2, 3, 4, 5]],
                                         keys=["noise", "ramp"], title="two", xname="epoch"),
        "cm_probs": wandb.plot.confusion_matrix(probs=p3, y_true=y3.tolist(),
                                                class_names=["a", "b", "c"]),
        "cm_words": wandb.plot.confusion_matrix(y_true=list(words),
                                                preds=list(words[::-1]), title="words"),
        "pr": wandb.plot.pr_curve(y3, p3, labels=["a", "b", "c"]),
        "pr_some": wandb.plot.pr_curve(y3, p3, classes_to_plot=[0, 2], interp_size=11),
        "pr_words": wandb.plot.pr_curve(words, p2),
        "roc": wandb.plot.roc_curve(y3, p3, labels=["a", "b", "c"], title="roc"),
        "roc_words": wandb.plot.roc_curve(words, p2, classes_to_plot=["dog"]),
        "roc_big": wandb.plot.roc_curve(big_y, big_p),
    }


def audio(wandb: Any, np: Any) -> dict[str, Any]:
    """Raw samples W&B writes with soundfile (16-bit PCM WAV)."""
    rng = np.random.RandomState(SEED)
    return {
        "mono_f64": wandb.Audio(rng.uniform(-1, 1, size=400), sample_rate=16000),
        "stereo_f32": wandb.Audio(rng.uniform(-1, 1, size=(300, 2)).astype(np.float32),
                                  sample_rate=8000),
        "edges": wandb.Audio(np.array([-1.0, 1.0, 0.5, -0.5, 1 / 65534, -1 / 65534, 0.0]),
                             sample_rate=10),
        "int16": wandb.Audio(rng.randint(-32768, 32767, size=(50, 2)).astype(np.int16),
                             sample_rate=4000),
        "int32": wandb.Audio(rng.randint(-2**31, 2**31 - 1, size=60).astype(np.int32),
                             sample_rate=4000),
    }


HTML_CASES = {"bare": "<p>x</p>", "html": "<html><body>b</body></html>",
              "head": "<html><head><title>t</title></head><body/></html>"}


def html(wandb: Any) -> dict[str, Any]:
    return {name: wandb.Html(text) for name, text in HTML_CASES.items()}


def wav(path: str) -> dict[str, Any]:
    """A WAV file's rate, channels, sample width and interleaved samples."""
    with wave.open(path) as w:
        frames = w.readframes(w.getnframes())
        return {"rate": w.getframerate(), "channels": w.getnchannels(),
                "width": w.getsampwidth(),
                "samples": list(int.from_bytes(frames[i:i + 2], "little", signed=True)
                                for i in range(0, len(frames), 2))}


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _real() -> dict[str, Any]:
    import numpy as np
    import wandb

    out: dict[str, Any] = {"charts": {}, "audio": {}, "html": {}}
    for key, chart in charts(wandb, np).items():
        chart.set_key(key)
        out["charts"][key] = {
            "tableKey": chart.spec.table_key, "columns": list(chart.table.columns),
            "rows": [[_plain(cell) for cell in row] for row in chart.table.data],
            "spec": chart.spec.spec_name, "fields": chart.spec.fields,
            "stringFields": chart.spec.string_fields}
    for key, sound in audio(wandb, np).items():
        out["audio"][key] = {**wav(sound._path), "duration": sound._duration}
    for key, page in html(wandb).items():
        out["html"][key] = page.html
    return out


if __name__ == "__main__":
    json.dump(_real(), sys.stdout)
