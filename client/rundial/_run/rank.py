"""Detect the global rank of this process, and a run id shared by all ranks of one launch.

Order: ``RUNDIAL_RANK``, then the launchers' global ranks (``RANK`` for torchrun/accelerate/
DeepSpeed, ``SLURM_PROCID``, ``OMPI_COMM_WORLD_RANK``, ``PMI_RANK``, ``PMIX_RANK``,
``MV2_COMM_WORLD_RANK``, ``JSM_NAMESPACE_RANK``), and ``LOCAL_RANK`` only as the last resort
(on several nodes every node has a local rank 0). Values that are not non-negative integers
are skipped. No variable at all means a single process: rank 0.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

RANK_VARIABLES = ("RUNDIAL_RANK", "RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK",
                  "PMIX_RANK", "MV2_COMM_WORLD_RANK", "JSM_NAMESPACE_RANK", "LOCAL_RANK")
# Identifiers a launcher gives every process of one job; hashed into a shared run id.
JOB_VARIABLES = (("TORCHELASTIC_RUN_ID",), ("SLURM_JOB_ID", "SLURM_STEP_ID"),
                 ("OMPI_MCA_orte_hnp_uri",), ("PMI_JOBID",))


def detect_rank(env: Mapping[str, str] | None = None) -> int:
    """The global rank from the environment (see the module docstring); 0 when unknown."""
    env = os.environ if env is None else env
    for name in RANK_VARIABLES:
        value = env.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return 0


def rank_is_set(env: Mapping[str, str] | None = None) -> bool:
    """True when a launcher (or ``RUNDIAL_RANK``) gives this process a rank."""
    env = os.environ if env is None else env
    return any(env.get(name, "").strip().isdigit() for name in RANK_VARIABLES)


def shared_run_id(env: Mapping[str, str] | None = None) -> str | None:
    """A run id every rank of one launch derives alike (``RUNDIAL_RUN_ID`` or a launcher job id)."""
    env = os.environ if env is None else env
    if env.get("RUNDIAL_RUN_ID"):
        return env["RUNDIAL_RUN_ID"]
    for names in JOB_VARIABLES:
        if all(env.get(n) for n in names):
            joined = "/".join(f"{n}={env[n]}" for n in names)
            return "run_" + hashlib.sha256(joined.encode()).hexdigest()[:32]
    return None
