"""Smoothing of chart series over their full-resolution points (docs/protocol.md §4.8, docs/ui.md).

Two smoothers, both over the series' *finite* points in step order (a non-finite point neither
feeds nor resets them; its smoothed value is the one before it, NaN before the first finite):

* ``ema``: debiased exponential moving average (TensorBoard's): ``y_t = w·y_{t−1} + (1−w)·x_t``
  from ``y_0 = 0``, reported as ``y_t / (1 − w^t)`` where ``t`` counts the finite points seen;
  ``0 <= w < 1``.
* ``mean``: running average of the trailing ``N`` finite points (fewer at the start).

Both are vectorised with numpy and agree with a plain Python loop to about 1e-12 relative
(tests/collector/test_chart_smoothing.py, tests/golden/smoothing.json): the EMA is a blockwise
linear scan whose blocks are short enough that ``w^-block`` never overflows; the mean takes
differences of prefix sums restarted every block of ``>= N`` points, so the rounding error
follows the window's magnitudes, not the whole series'. Work and memory are linear in the
points (a few float64 arrays of the series' length).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
_MAX_BLOCK = 4096
_EXP_LIMIT = 150.0  # w^block stays above 1e-150, so w^-block stays below 1e150


@dataclass(frozen=True)
class Smoothing:
    """A validated smoothing request: ``kind`` "ema" (with ``weight``) or "mean" (with
    ``window_points``)."""

    kind: str
    weight: float = 0.0
    window_points: int = 1


def _scan(x: F64, a: float) -> F64:
    """``y_i = a·y_{i−1} + x_i`` from ``y_{−1} = 0`` (``0 <= a < 1``), blockwise.

    Inside a block of ``B`` points ``y_j = a^j·(carry + Σ_{t<=j} a^−t·x_t)`` (one cumsum); the
    carries between blocks are the same scan one level up, with coefficient ``a^B``."""
    n = int(x.shape[0])
    if n == 0 or a == 0.0:
        return x.astype(np.float64, copy=True)
    block = int(min(_MAX_BLOCK, _EXP_LIMIT * math.log(10.0) / -math.log(a)))
    if block < 2:  # a < 1e-75: too small for blocks, and never a slider's weight
        return _scan_loop(x, a)
    if n <= block:
        powers = a ** np.arange(n, dtype=np.float64)
        return np.cumsum(x / powers) * powers
    blocks = -(-n // block)
    padded = np.zeros(blocks * block, np.float64)
    padded[:n] = x
    grid = padded.reshape(blocks, block)
    powers = a ** np.arange(block, dtype=np.float64)
    local = np.cumsum(grid / powers, axis=1) * powers  # each block's scan from a zero carry
    carry_in = _scan(local[:, -1], a ** block)  # the scan's value at each block's end
    start = np.concatenate(([0.0], carry_in[:-1]))
    out = local + start[:, None] * (powers * a)
    return out.reshape(-1)[:n]


def _scan_loop(x: F64, a: float) -> F64:
    out = np.empty(x.shape[0], np.float64)
    y = 0.0
    for i, value in enumerate(x.tolist()):
        y = a * y + value
        out[i] = y
    return out


def debiased_ema(values: F64, weight: float) -> F64:
    """The debiased EMA of the finite values (see the module doc); same length as ``values``."""
    return _over_finite(values, lambda x: _ema_finite(x, weight))


def running_mean(values: F64, window_points: int) -> F64:
    """The trailing mean of ``window_points`` finite values (see the module doc)."""
    return _over_finite(values, lambda x: _mean_finite(x, window_points))


def _ema_finite(x: F64, weight: float) -> F64:
    if weight == 0.0:
        return x.copy()
    scale = float(np.abs(x).max(initial=0.0)) or 1.0  # keeps x·w^-t far from overflow
    raw = _scan((1.0 - weight) * (x / scale), weight) * scale
    seen = np.arange(1, x.shape[0] + 1, dtype=np.float64)
    return raw / -np.expm1(seen * math.log(weight))  # 1 − w^t, accurate for w^t near 1


def _mean_finite(x: F64, window: int) -> F64:
    n = int(x.shape[0])
    block = max(window, 256)
    blocks = -(-n // block)
    padded = np.zeros(blocks * block, np.float64)
    padded[:n] = x
    local = np.cumsum(padded.reshape(blocks, block), axis=1)  # prefix sums restarted per block
    index = np.arange(n)
    prefix = local.reshape(-1)[:n]
    lo = index - window  # the window is (lo, i]
    own_start = (index // block) * block
    total = prefix.copy()
    inside = lo >= own_start  # the window lies in i's block: a difference of its prefixes
    total[inside] -= prefix[lo[inside]]
    spill = (lo >= 0) & ~inside  # it starts in the previous block: add that block's tail
    prev_end = own_start[spill] - 1
    total[spill] += prefix[prev_end] - prefix[lo[spill]]
    counts = np.minimum(index + 1, window).astype(np.float64)
    return total / counts


def _over_finite(values: F64, smooth: Callable[[F64], F64]) -> F64:
    """Apply ``smooth`` to the finite values and carry its result over the non-finite ones."""
    values = np.asarray(values, np.float64)
    finite = np.isfinite(values)
    if finite.all():
        return smooth(values)
    out = np.full(values.shape[0], np.nan)
    kept = np.flatnonzero(finite)
    if kept.size == 0:
        return out
    smoothed = smooth(values[kept])
    last_finite = np.searchsorted(kept, np.arange(values.shape[0]), side="right") - 1
    has = last_finite >= 0
    out[has] = smoothed[last_finite[has]]
    return out


def smooth(values: F64, spec: Smoothing) -> F64:
    """``values`` smoothed as ``spec`` says."""
    if spec.kind == "ema":
        return debiased_ema(values, spec.weight)
    return running_mean(values, spec.window_points)
