"""Run a training script as ``__main__`` with every random source seeded (used by
tests/compat/real_examples.py, under both the real library's venv and ours).

``random``, ``numpy`` and ``torch`` (when importable) are seeded with 0 and torch runs on one
thread, so the same script computes the same numbers in both interpreters.
"""

from __future__ import annotations

import random
import runpy
import sys

random.seed(0)
try:
    import numpy

    numpy.random.seed(0)
except ImportError:
    pass
try:
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
except ImportError:
    pass

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
