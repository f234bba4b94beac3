"""W&B's Launch quickstart (``Histogram``, ``Table`` of tensor ``Image``s) and its "group and
resume" trainer under the real wandb and under the shim, what they recorded compared
(tests/compat/wandb_real.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.wandb_real import Example, check_example
from tests.helpers.collector_proc import CollectorProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

EXAMPLES_RUN = [
    Example("launch_quickstart.py"),
    # an argparse Namespace into config.update, then a config attribute set
    Example("group_and_resume_train.py", ("--group_id", "exp-1", "--worker_index", "1")),
]


@pytest.mark.parametrize("example", EXAMPLES_RUN, ids=[e.script for e in EXAMPLES_RUN])
def test_the_shim_records_what_wandb_records(example: Example, trackers: Path,
                                             collector: CollectorProcess, tmp_path: Path) -> None:
    check_example(example, trackers, collector, tmp_path)
