"""Unit tests for the shim differences found by running public W&B examples against the real
wandb (tests/compat/test_wandb_real_*.py); each names the example that showed it."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")


def test_watch_histogram_edges_are_float32_linspace_as_in_wandb() -> None:
    """pytorch_cnn_mnist.py: gradient histogram counts matched, but edges near zero differed in
    the 7th digit (W&B's ``torch.linspace`` is float32)."""
    from rundial.compat.wandb._watch import tensor_histogram

    values = torch.tensor([-0.012764477171003819, 0.0, 0.016366, 0.0031])
    hist = tensor_histogram(values)
    low, high = float(values.min()), float(values.max())
    assert hist is not None
    assert hist.bins == torch.linspace(low, high, steps=65).tolist()
    assert hist.histogram == [int(c) for c in values.histc(bins=64, min=low, max=high).tolist()]


def test_repeated_define_metric_calls_merge_unless_overwrite(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """edge_cases.py: wandb 0.31 keeps ``summary="max"`` when ``define_metric`` is called again
    for the name without ``summary``; ``overwrite=True`` drops it (the shim replaced both)."""
    import rundial.compat.wandb as wandb

    monkeypatch.setenv("HOME", str(tmp_path))
    run = wandb.init(project="merge", mode="offline", spool_directory=str(tmp_path / "spool"),
                     system_metrics=False)
    wandb.define_metric("acc", summary="max")
    wandb.define_metric("acc", hidden=True)
    wandb.define_metric("val/*", step_metric="epoch")
    wandb.define_metric("val/*", summary="min")
    wandb.define_metric("b", summary="max")
    wandb.define_metric("b", hidden=True, overwrite=True)
    for value in (0.5, 0.9, 0.7):
        wandb.log({"acc": value, "b": value, "val/loss": value, "epoch": 1})
    summary = dict(run.summary)
    wandb.finish()
    assert summary["acc"] == {"max": 0.9} and summary["b"] == 0.7
    assert summary["val/loss"] == {"min": 0.5}
    assert run.summary.definition("val/*").step_metric == "epoch"


def test_channel_first_tensor_images_are_cast_as_wandb_031_does() -> None:
    """pytorch_cnn_mnist.py: ``wandb.Image(data[0])`` of a normalised (1, 28, 28) tensor; wandb
    0.31 stores ``permute(1, 2, 0).numpy().astype(uint8)`` (no scaling), the shim stored
    make_grid's min-max scaled pixels."""
    np = pytest.importorskip("numpy")
    from rundial.compat.wandb._image_data import uint8_array

    grey = torch.tensor([[[0.0, 2.5], [1.0, 200.0]]])         # (1, h, w)
    expected = grey.permute(1, 2, 0).numpy().astype(np.uint8)[:, :, 0]
    assert uint8_array(grey, True).tolist() == expected.tolist() == [[0, 2], [1, 200]]
    rgb = torch.rand(3, 2, 4)                                 # values in [0, 1): black, as in W&B
    assert uint8_array(rgb, True).shape == (2, 4, 3) and uint8_array(rgb, True).sum() == 0
    assert uint8_array(torch.full((3, 2, 2), 9, dtype=torch.uint8), True).max() == 9
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        uint8_array(torch.zeros(2, 3, 3), True)
