"""Run one W&B example script the same way under the real wandb and under our shim.

Usage: ``python run_example.py SCRIPT [ARGS...]``. Seeds ``random`` (and torch, when the script
imports it; one CPU thread so both runs compute bit-identical floats) before running ``SCRIPT``
as ``__main__`` with ``ARGS`` as its ``sys.argv[1:]``. The script itself is not changed here.
"""

from __future__ import annotations

import random
import runpy
import sys
from pathlib import Path


def main() -> None:
    script = Path(sys.argv[1])
    random.seed(0)
    if "import torch" in script.read_text():
        import torch

        torch.manual_seed(0)
        torch.set_num_threads(1)
    sys.argv = [str(script), *sys.argv[2:]]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
