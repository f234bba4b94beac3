"""W&B's intro quickstart, define_metric, "metrics at different steps" examples and our
edge-case, chart and media scripts under the real wandb and under the shim, what they recorded
compared (tests/compat/wandb_real.py; the torch training examples are in
test_wandb_real_cnn_mnist.py and test_wandb_real_launch.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.wandb_real import Example, check_example
from tests.helpers.collector_proc import CollectorProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

EXAMPLES_RUN = [
    Example("intro_quickstart.py", projects=("basic-intro", "pytorch-intro")),
    Example("define_metric.py", projects=("define-metric-demo",)),
    Example("metrics_at_different_steps.py", ("--max_epochs", "12", "--validate_every", "5"),
            # wandb 0.31's log() requires data; the shim runs the original wandb.log()
            real_patch=("        wandb.log()\n", "        wandb.log({})\n")),
    Example("edge_cases.py", projects=("edge-cases",), known=(
        # docs/wandb-compat.md "Differences": a non-finite summary value is the text "inf"...
        "run 0 summary['grad']: real inf shim 'inf'",
        "run 0 summary['loss']: real -inf shim '-inf'",
        # ... and NaN/inf are not history points, so row 1 (NaN, inf) holds nothing and row 10
        # only its string (strings are log lines, read back as history by records.py).
        "run 0 history steps: real [0, 1, 2, 5, 6, 7, 10] shim [0, 2, 5, 6, 7, 10]",
        "run 0 history[10] keys: only real ['loss'], only shim []")),
    Example("plots.py", projects=("plots-demo",)),
    Example("media_files.py", projects=("media-files",)),
]


@pytest.mark.parametrize("example", EXAMPLES_RUN, ids=[e.script for e in EXAMPLES_RUN])
def test_the_shim_records_what_wandb_records(example: Example, trackers: Path,
                                             collector: CollectorProcess, tmp_path: Path) -> None:
    check_example(example, trackers, collector, tmp_path)
