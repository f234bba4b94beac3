"""W&B's PyTorch MNIST example (``wandb.watch`` gradients and parameters, tensor images)
under the real wandb and under the shim, what it recorded compared (tests/compat/wandb_real.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.wandb_real import Example, check_example
from tests.helpers.collector_proc import CollectorProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

EXAMPLES_RUN = [
    Example("pytorch_cnn_mnist.py", ("--epochs", "2", "--batch-size", "4", "--test-batch-size",
                                     "50", "--log-interval", "1000")),
]


@pytest.mark.parametrize("example", EXAMPLES_RUN, ids=[e.script for e in EXAMPLES_RUN])
def test_the_shim_records_what_wandb_records(example: Example, trackers: Path,
                                             collector: CollectorProcess, tmp_path: Path) -> None:
    check_example(example, trackers, collector, tmp_path)
