"""Unit tests for the shim differences found by running public W&B examples against the real
wandb (tests/compat/test_wandb_real_examples.py); each names the example that showed it."""

from __future__ import annotations

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
