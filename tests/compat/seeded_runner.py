"""Run a training script as ``__main__`` with every random source seeded (used by
tests/compat/real_examples.py, under both the real library's venv and ours).

``random`` and ``numpy`` (when importable) are seeded with 0, and so is ``torch`` when the
script imports it (it then runs on one thread), so the same script computes the same numbers in
both interpreters. A script that does not import torch does not pay its import (~3 s of CPU).
"""

from __future__ import annotations

import random
import re
import runpy
import sys
from pathlib import Path

IMPORTS_TORCH = re.compile(r"^\s*(import|from) torch\b", re.MULTILINE)

random.seed(0)
try:
    import numpy

    numpy.random.seed(0)
except ImportError:
    pass
if IMPORTS_TORCH.search(Path(sys.argv[1]).read_text()):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
