"""rundial.compat.wandb with torch: watch() through real hooks, tensors as values and images."""

from __future__ import annotations

from typing import Any

import pytest

from rundial._media import Image as RdImage
from rundial.compat.wandb import Histogram, Image, Run
from tests.sdk.wandb_support import Recorder, make_run

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _first_watch_of_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """W&B counts watched models per process; each test starts as a fresh process would."""
    from rundial.compat.wandb import _watch

    monkeypatch.setattr(_watch, "_watched", 0)


def histogram_keys(recorder: Recorder) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for step, row in recorder.calls:
        for key, value in row.items():
            if isinstance(value, Histogram):
                out.setdefault(step, []).append(key)
    return {step: sorted(keys) for step, keys in out.items()}


def train(run: Run, model: Any, batches: int) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    for _ in range(batches):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        run.log({"loss": loss})  # a 0-d tensor that requires grad


def test_watch_logs_gradients_and_parameters_every_log_freq_batches() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    run.watch(model, log="all", log_freq=2)
    train(run, model, 5)
    names = [f"{kind}/{n}" for kind in ("gradients", "parameters")
             for n in ("0.bias", "0.weight", "2.bias", "2.weight")]
    assert histogram_keys(recorder) == {1: sorted(names), 3: sorted(names)}
    losses = [row["loss"] for _step, row in recorder.calls if "loss" in row]
    assert len(losses) == 5 and all(isinstance(v, float) for v in losses)
    weight = dict(model.named_parameters())["0.weight"].detach()
    step3 = {k: v for s, row in recorder.calls if s == 3 for k, v in row.items()}
    hist = step3["parameters/0.weight"]
    assert sum(hist.histogram) == weight.numel() and len(hist.bins) == 65
    run.finish()
    with pytest.warns(RuntimeWarning, match="after finish"):
        train(run, model, 2)  # hooks are gone after finish: nothing more is recorded
    assert max(s for s, _ in recorder.calls) == 4


def test_watch_gradients_only_a_second_model_is_prefixed_and_unwatch_stops() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    first, second = torch.nn.Linear(3, 1), torch.nn.Linear(3, 1)
    run.watch(first, log_freq=1)
    run.watch(second, log="parameters", log_freq=1)
    train(run, first, 1)
    second(torch.randn(2, 3))
    run.log({"done": 1})
    assert histogram_keys(recorder) == {
        0: ["gradients/bias", "gradients/weight"],
        1: ["parameters/graph_1bias", "parameters/graph_1weight"]}
    run.unwatch()
    train(run, first, 1)
    assert 2 not in histogram_keys(recorder)
    with pytest.raises(ValueError, match="log must be one of"):
        run.watch(first, log="weights")
    with pytest.raises(ValueError, match="torch.nn.Module"):
        run.watch(object())


def test_tensors_become_numbers_histograms_and_images() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    run.log({"scalar": torch.tensor(2.5), "big": torch.randn(100), "img": Image(torch.rand(3, 4, 5))})
    rows = recorder.calls
    assert rows[0] == (0, {"scalar": 2.5})
    media = {k: v for _s, row in rows[1:] for k, v in row.items()}
    assert isinstance(media["big"], Histogram) and sum(media["big"].histogram) == 100
    assert len(media["big"].histogram) == 32
    image = media["img"]
    assert isinstance(image, RdImage) and image.render().width == 5 and image.render().height == 4


def test_watch_counts_models_per_process_and_refuses_a_second_watch_of_the_same_model() -> None:
    model = torch.nn.Linear(2, 1)
    run = make_run(Recorder())
    run.watch(model, log_freq=1)                     # model 0: no prefix
    with pytest.raises(ValueError, match="already set"):
        run.watch(model, log_freq=1, idx=0)          # same names again (counted, as in W&B)
    run.finish()
    net = torch.nn.Linear(2, 1)
    later = make_run(Recorder())                     # a second run in the same process
    later.watch(net, log="parameters", log_freq=1)   # model 2
    net.eval()
    net(torch.randn(1, 2))                           # eval mode still logs parameters
    later.log({"x": 1})
    keys = [k for _s, row in later.rundial_run.calls for k in row]
    assert keys == ["x", "parameters/graph_2weight", "parameters/graph_2bias"]


def test_a_constant_tensor_is_one_bin() -> None:
    from rundial.compat.wandb._watch import tensor_histogram

    hist = tensor_histogram(torch.full((3, 2), 0.5))
    assert hist is not None and hist.histogram == [6] and hist.bins == [0.5, 0.5]
    assert tensor_histogram(torch.tensor([float("nan"), float("inf")])) is None


def test_tensor_images_follow_make_grid() -> None:
    from rundial.compat.wandb._image_data import uint8_array

    grey = torch.tensor([[[0.0, 2.0], [1.0, 4.0]]])          # (1, h, w): three equal channels
    assert uint8_array(grey, True)[:, :, 0].tolist() == [[0, 127], [63, 255]]
    assert uint8_array(grey, True).shape == (2, 2, 3)
    batch = torch.rand(3, 1, 2, 2)                             # three images in one row, padded
    tiled = uint8_array(batch, True)
    assert tiled.shape == (2 + 4, 2 + 3 * 4, 3)
    assert tiled[:2].sum() == 0 and tiled[:, :2].sum() == 0    # the padding is black
    assert uint8_array(torch.full((2, 2), 7.0), True).sum() == 0   # a constant image is black
