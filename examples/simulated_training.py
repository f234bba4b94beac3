"""Log a small simulated training sweep to a collector: the runs ``make run`` shows in the web UI.

Five runs of a made-up model with different learning rates and batch sizes (seeded, so every
invocation logs the same curves), each with:

* ``train/loss`` every step: a noisy decaying curve with a spike or two, and ``train/lr``
  (linear warm-up, then cosine decay) and ``train/grad_norm``;
* ``eval/loss`` and ``eval/accuracy`` every :data:`EVAL_EVERY` steps, inside an ``eval`` span
  with one child span per eval batch;
* simulated system metrics (``system/gpu.0.util``, ``system/gpu.0.mem_used_mb``,
  ``system/cpu.percent``) every :data:`SYSTEM_EVERY` steps at the training step (the real
  sampler is off: a run this short would get one sample of the machine running it);
* log lines at ``info`` (progress) and ``warn`` (loss spikes, clipped gradients);
* two images (a "prediction" heat map) at a few steps, and a small model artifact at the end.

The run with the largest learning rate diverges and ends ``failed``. Reads
``RUNDIAL_ENDPOINT`` and ``RUNDIAL_API_KEY`` (``make run`` sets both), and ``RUNDIAL_WORKSPACE`` /
``RUNDIAL_PROJECT`` (default ``default-workspace`` / ``default-project``). ``--steps`` shortens
the runs (the tests use it). Takes a few seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import rundial as rd

STEPS = 4000
EVAL_EVERY = 250
SYSTEM_EVERY = 20
IMAGE_STEPS_FRACTIONS = (0.25, 0.6, 1.0)
SEED = 15
DIVERGED_LOSS = 10.0  # the diverging run stops here (higher would flatten the others' curves)


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: its config and what makes its curve its own."""

    lr: float
    batch_size: int
    optimizer: str
    diverges: bool = False

    @property
    def name(self) -> str:
        return f"{self.optimizer}-lr{self.lr:g}-bs{self.batch_size}"


SWEEP = (Trial(3e-4, 32, "adamw"), Trial(1e-3, 32, "adamw"), Trial(1e-3, 64, "adamw"),
         Trial(3e-3, 64, "sgd"), Trial(3e-2, 64, "sgd", diverges=True))


def learning_rate(trial: Trial, step: int, steps: int) -> float:
    """Linear warm-up over the first 5% of steps, then cosine decay to 10% of the peak."""
    warmup = max(1, steps // 20)
    if step < warmup:
        return trial.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return float(trial.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))))


def train_loss(trial: Trial, step: int, steps: int, rng: random.Random) -> float:
    """A decaying loss whose speed and floor depend on lr and batch size, with noise."""
    speed = (trial.lr / 1e-3) ** 0.5 * steps / 6.0
    floor = 0.15 + 0.05 * (trial.batch_size / 64) + (0.1 if trial.optimizer == "sgd" else 0.0)
    clean = floor + 2.2 * math.exp(-step / speed)
    noise = rng.gauss(0.0, 0.04 + 0.1 * math.exp(-step / speed)) * (32 / trial.batch_size) ** 0.5
    return float(max(0.01, clean + noise))


def heat_map(step: int, size: int = 48) -> object:
    """A (size, size, 3) uint8 array: a blob that sharpens as training goes on."""
    import numpy as np

    grid = np.linspace(-1.0, 1.0, size)
    xx, yy = np.meshgrid(grid, grid)
    sharp = 1.0 + step / 400.0
    blob = np.exp(-sharp * ((xx - 0.2) ** 2 + (yy + 0.1) ** 2) * 4.0)
    rgb = np.stack([blob, blob ** 2, 1.0 - blob], axis=-1)
    return (rgb * 255).astype(np.uint8)


def simulate(trial: Trial, index: int, steps: int, workspace: str, project: str,
             out_dir: Path) -> str:
    """Log one run of the sweep; returns its run id."""
    rng = random.Random(SEED * 100 + index)
    spikes = {rng.randrange(steps // 5, steps - 1) for _ in range(2)}
    image_steps = {min(steps - 1, int(steps * f)) for f in IMAGE_STEPS_FRACTIONS}
    diverge_at = steps * 3 // 10 if trial.diverges else None
    run = rd.init(workspace=workspace, project=project, name=trial.name, group="lr-sweep",
                  tags=["example", trial.optimizer], system_metrics=False,
                  config={"lr": trial.lr, "batch_size": trial.batch_size,
                          "optimizer": trial.optimizer, "model": {"layers": 6, "width": 512},
                          "seed": SEED, "steps": steps})
    run.log_text(f"starting {trial.name}: {steps} steps", level="info")
    for step in range(steps):
        lr = learning_rate(trial, step, steps)
        loss = train_loss(trial, step, steps, rng)
        grad_norm = 1.0 + rng.random() * 0.5
        if step in spikes:
            loss *= 3.5
            grad_norm *= 12.0
            run.log_text(f"loss spike at step {step}: {loss:.3f}", level="warn")
            run.log_text("gradient norm clipped to 1.0", level="warn")
        if diverge_at is not None and step >= diverge_at:
            loss *= math.exp((step - diverge_at) / 25.0)
        run.log({"train/loss": loss, "train/lr": lr, "train/grad_norm": grad_norm}, step=step)
        if step % SYSTEM_EVERY == 0:
            run.log({"system/gpu.0.util": min(100.0, 88.0 + rng.gauss(0, 4)),
                     "system/gpu.0.mem_used_mb": 9000.0 + trial.batch_size * 40 + rng.random() * 50,
                     "system/cpu.percent": 35.0 + rng.gauss(0, 6)}, step=step)
        if step in image_steps:
            run.log({"eval/prediction": rd.Image(heat_map(step), caption=f"step {step}")},
                    step=step)
        if diverge_at is not None and loss > DIVERGED_LOSS:
            run.log_text(f"loss diverged at step {step} ({loss:.3g}); stopping", level="error")
            run.fail(f"loss diverged at step {step}")
            return run.run_id
        if (step + 1) % EVAL_EVERY == 0 or step == steps - 1:
            evaluate(run, trial, step, loss, rng)
    model = out_dir / f"{run.run_id}-model.json"
    model.write_text(json.dumps({"name": trial.name, "lr": trial.lr, "weights": [0.1] * 64}))
    run.log_artifact(model, name="model", type="model", aliases=["latest"])
    run.log_text(f"finished {trial.name}", level="info")
    run.finish()
    return run.run_id


def evaluate(run: rd.Run | rd.NoopRun, trial: Trial, step: int, loss: float, rng: random.Random) -> None:
    """One eval pass: a span with a child per batch, then the eval metrics at ``step``."""
    with run.trace("eval", attrs={"step": step, "batches": 2}) as span:
        for batch in range(2):
            with run.trace("eval/batch", attrs={"batch": batch}):
                pass
        accuracy = min(0.99, max(0.0, 1.0 - loss / 2.6 + rng.gauss(0, 0.01)))
        span.set_attrs(accuracy=round(accuracy, 4))
    run.log({"eval/loss": loss * 1.08, "eval/accuracy": accuracy}, step=step)
    run.log_text(f"step {step}: eval accuracy {accuracy:.3f}", level="info")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    args = parser.parse_args()
    workspace = os.environ.get("RUNDIAL_WORKSPACE", "default-workspace")
    project = os.environ.get("RUNDIAL_PROJECT", "default-project")
    with tempfile.TemporaryDirectory(prefix="rundial-example-") as tmp:
        for index, trial in enumerate(SWEEP):
            run_id = simulate(trial, index, args.steps, workspace, project, Path(tmp))
            print(f"logged {trial.name} as {run_id}")


if __name__ == "__main__":
    main()
