"""The line a run prints on stderr at exit when batches stay in the spool: what is true for it.

Three cases for the run's own batches, decided by its registration:

* refused under its resume rule (``resume="never"`` and the run id exists, ``"must"`` and it
  does not): the batches are kept and **not** sent by anything unless the user asks —
  ``rundial sync --run ID --as-new-run`` or ``--into-existing`` (:mod:`rundial._spool.send_as`);
* refused for another reason (401/403, no such workspace or project): kept and not sent by the
  next run; once the cause is fixed, ``rundial sync --run ID`` sends them;
* otherwise (offline, collector unreachable): sent by the next online run that uses the same
  spool directory and endpoint, or by ``rundial sync`` with that spool and ``--endpoint``.

Batches of other runs adopted from earlier processes and still unsent are reported on a line of
their own, never counted as this run's. The functions only build text; they never raise.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from rundial._config import default_spool_directory


def sync_command(spool_root: Path | None, endpoint: str, run_id: str | None = None) -> str:
    """``rundial sync [SPOOL] --endpoint E [--run ID]`` (the spool only when not the default)."""
    parts = ["rundial", "sync"]
    if spool_root is not None and spool_root != Path(default_spool_directory()).expanduser():
        parts.append(str(spool_root))
    parts += ["--endpoint", endpoint]
    if run_id is not None:
        parts += ["--run", run_id]
    return shlex.join(parts)


def own_pending_line(run_id: str, batches: int, points: int, where: Path | None,
                     spool_root: Path | None, endpoint: str, *, refused: bool,
                     blocked: str | None) -> str:
    """The line for this run's own batches left on disk (see the module docstring)."""
    head = f"rundial: {batches} batches ({points:,} points) of run {run_id}"
    if refused:
        command = sync_command(spool_root, endpoint, run_id)
        return (f"{head} are kept in {where} and will not be sent: its registration was refused "
                f"({blocked}). To upload them: `{command} --as-new-run` (as a new run) or "
                f"`{command} --into-existing` (into the existing run {run_id})\n")
    if blocked:
        return (f"{head} are kept in {where} and not sent: its registration failed ({blocked}). "
                f"Fix that, then run `{sync_command(spool_root, endpoint, run_id)}`\n")
    return (f"{head} pending in {where}; they will be sent by the next online run using this "
            f"spool directory with endpoint {endpoint}, or by "
            f"`{sync_command(spool_root, endpoint)}`\n")


def adopted_pending_line(batches_by_run: dict[str, int], spool_root: Path | None,
                         endpoint: str) -> str:
    """The line for batches of other runs this process adopted and could not send."""
    total = sum(batches_by_run.values())
    names = ", ".join(sorted(batches_by_run)[:5]) + (", ..." if len(batches_by_run) > 5 else "")
    return (f"rundial: {total} batches adopted from earlier processes (run {names}) are not "
            f"counted above and stay in the spool for the next run or "
            f"`{sync_command(spool_root, endpoint)}`\n")
