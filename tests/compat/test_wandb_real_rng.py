"""A seeded training script's ``random`` sequence is its own: rundial's threads never draw from
the global generator (found running W&B's define_metric example, which seeds ``random`` and logs
``random.uniform`` values: the shim run logged other numbers than the real wandb run)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import rundial.compat.wandb as wandb


def test_logging_leaves_the_global_random_state_alone(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    random.seed(1)
    state = random.getstate()
    run = wandb.init(project="rng", mode="offline", spool_directory=str(tmp_path / "spool"),
                     system_metrics=False, flush_interval_seconds=0.01)
    for step in range(50):
        wandb.log({"loss": 1.0 / (step + 1)})
    run.rundial_run.flush(timeout_seconds=10.0)
    wandb.finish()
    assert random.getstate() == state
