"""``wandb.watch``: gradient and parameter histograms through real torch hooks.

As W&B does it:

* ``log="parameters"`` (or ``"all"``): a forward hook on the model counts its forward calls;
  every ``log_freq``-th call logs one 64-bin histogram per parameter,
  ``parameters/<prefix><name>``.
* ``log="gradients"`` (the default, or ``"all"``): a hook on every parameter that requires a
  gradient counts its backward passes; every ``log_freq``-th logs ``gradients/<prefix><name>``.
* The histograms go into the open history row without committing it (``commit=False``), so
  they land in the row the training loop commits next. ``<prefix>`` is empty for the first
  model watched in the process and ``graph_<i>`` for the i-th after it (W&B's names; the count
  is per process, as in W&B, so a second run's model is ``graph_1``; ``idx=`` sets it).
* Non-finite values are left out of a histogram; an all non-finite tensor logs nothing; a
  constant tensor is one bin ``[v, v]`` holding every element.
* Watching a parameter whose gradient is already watched under the same name is a
  ``ValueError`` (as in W&B).
* ``log=None`` installs nothing. ``unwatch`` (and the run's end) removes every hook.

torch is never imported by this module: the model's own methods are used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rundial.compat.wandb._media import Histogram

HISTOGRAM_BINS = 64
LOG_MODES = ("gradients", "parameters", "all", None)
_watched = 0  # models watched so far in this process (W&B's global watch index)


class _Every:
    """True on every ``n``-th call."""

    __slots__ = ("n", "count")

    def __init__(self, n: int) -> None:
        self.n, self.count = n, 0

    def due(self) -> bool:
        self.count += 1
        if self.count < self.n:
            return False
        self.count = 0
        return True


def tensor_histogram(tensor: Any) -> Histogram | None:
    """A 64-bin histogram of a tensor's finite values (None when it has none)."""
    flat = tensor.detach().reshape(-1).float()
    flat = flat[flat.isfinite()]
    if flat.numel() == 0:
        return None
    low, high = float(flat.min()), float(flat.max())
    if low == high:
        return Histogram(np_histogram=([int(flat.numel())], [low, high]))
    counts = flat.histc(bins=HISTOGRAM_BINS, min=low, max=high).cpu()
    step = (high - low) / HISTOGRAM_BINS
    edges = [low + i * step for i in range(HISTOGRAM_BINS)] + [high]
    return Histogram(np_histogram=([int(c) for c in counts.tolist()], edges))


class Watcher:
    """The hooks of one run; ``log`` merges a dict into the run's open row (no commit)."""

    def __init__(self, log: Callable[[Mapping[str, Any]], None]) -> None:
        self._log = log
        self._handles: dict[int, list[Any]] = {}
        self._gradient_names: dict[str, int] = {}  # watched gradient name -> id of its model

    def watch(self, models: Any, *, log: str | None, log_freq: int, idx: int | None) -> None:
        """Install the hooks; ValueError for a bad ``log``/``log_freq``, a model that is not a
        ``torch.nn.Module`` or a gradient already watched under the same name."""
        global _watched
        if log not in LOG_MODES:
            raise ValueError(f"log must be one of {LOG_MODES}, not {log!r}")
        if isinstance(log_freq, bool) or not isinstance(log_freq, int) or log_freq < 1:
            raise ValueError(f"log_freq must be a positive int, not {log_freq!r}")
        models = list(models) if isinstance(models, (list, tuple)) else [models]
        for model in models:
            if not (hasattr(model, "named_parameters") and hasattr(model, "register_forward_hook")):
                raise ValueError(f"wandb.watch needs torch.nn.Module models, not "
                                 f"{type(model).__name__}")
        start = _watched if idx is None else idx
        for offset, model in enumerate(models):
            index = start + offset
            _watched += 1
            prefix = f"graph_{index}" if index > 0 else ""
            handles = self._handles.setdefault(id(model), [])
            if log in ("parameters", "all"):
                handles.append(self._hook_parameters(model, prefix, log_freq))
            if log in ("gradients", "all"):
                handles.extend(self._hook_gradients(model, prefix, log_freq))

    def _hook_parameters(self, model: Any, prefix: str, log_freq: int) -> Any:
        every = _Every(log_freq)

        def after_forward(module: Any, _inputs: Any, _output: Any) -> None:
            if not every.due():
                return
            row = {}
            for name, parameter in module.named_parameters():
                histogram = tensor_histogram(parameter.data)
                if histogram is not None:
                    row[f"parameters/{prefix}{name}"] = histogram
            if row:
                self._log(row)

        return model.register_forward_hook(after_forward)

    def _hook_gradients(self, model: Any, prefix: str, log_freq: int) -> list[Any]:
        handles = []
        for name, parameter in model.named_parameters():
            if parameter.requires_grad:
                key = f"gradients/{prefix}{name}"
                if key in self._gradient_names:
                    raise ValueError(f"a gradient hook is already set under {key!r}")
                self._gradient_names[key] = id(model)
                handles.append(parameter.register_hook(self._gradient_hook(key, _Every(log_freq))))
        return handles

    def _gradient_hook(self, key: str, every: _Every) -> Callable[[Any], None]:
        def on_gradient(grad: Any) -> None:
            if every.due():
                histogram = tensor_histogram(grad)
                if histogram is not None:
                    self._log({key: histogram})
        return on_gradient

    def unwatch(self, models: Any) -> None:
        """Remove the hooks of ``models`` (all models when None)."""
        if models is None:
            keys = list(self._handles)
        else:
            keys = [id(m) for m in (models if isinstance(models, (list, tuple)) else [models])]
        for key in keys:
            for handle in self._handles.pop(key, []):
                handle.remove()
        gone = set(keys)
        self._gradient_names = {n: m for n, m in self._gradient_names.items() if m not in gone}
