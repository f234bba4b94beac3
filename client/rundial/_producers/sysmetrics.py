"""System metrics: a daemon thread samples CPU, memory, disk, network and GPUs into the run.

Names (protocol §11.5 plus network): ``system/cpu.percent``, ``system/memory.percent``,
``system/process.rss_mb``, ``system/disk.read_mb``, ``system/disk.write_mb``,
``system/net.sent_mb``, ``system/net.recv_mb`` (disk and network: MiB since the sampler
started), and per GPU (:mod:`rundial._producers.gpu`) ``system/gpu.<i>.util``, ``.mem_util``,
``.mem_used_mb``, ``.mem_total_mb``, ``.temp_c``, ``.power_w``. A ``system_metrics_provider``
callable replaces the built-in probes.

* The first sample is taken when the sampler starts, then one every ``interval_s`` (default
  10 s, at least 2 s). ``psutil`` is imported on the sampler thread, never by ``import rundial``.
  CPU percent is measured over at least :data:`CPU_WINDOW_S` (the first sample waits for that
  window on the sampler thread; a shorter one holds no clock tick and reads 0.0).
* A run shorter than its first sample still gets it: the first sample is always taken, and
  ``stop`` waits for it (within its timeout). A sample finishing after ``stop`` gave up waiting
  is discarded, never queued into a finished run.
* **Steps are epoch seconds** (``int(time.time())``), not a counter: a resumed run's new process
  cannot overwrite the earlier process's points, and the x-axis is wall time.
* **Backpressure**: while the run's queue holds at least ``threshold`` × capacity records the
  sample is skipped and counted (``system_samples_skipped_backpressure``) instead of adding load.
* A probe that raises is disabled after one ``RuntimeWarning``; the sampler never raises into
  user code and stops with the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from rundial._diagnostics import Counters
from rundial._producers.gpu import gpu_probes
from rundial._warn import warn_user
from rundial._wire.records import SystemRow

INTERVAL_S = 10.0
MIN_INTERVAL_S = 2.0
BACKPRESSURE_THRESHOLD = 0.8
CPU_WINDOW_S = 0.1  # psutil's CPU percent needs a few 10 ms clock ticks between two readings
_MIB = 1024 * 1024
Probe = Callable[[], Mapping[str, float]]


class PsutilProbe:
    """CPU, memory, process RSS, disk and network I/O through psutil (imported lazily)."""

    name = "psutil"

    def __init__(self) -> None:
        import psutil  # on the sampler thread: keeps ``import rundial`` light

        self._psutil = psutil
        self._process = psutil.Process()
        psutil.cpu_percent(interval=None)  # primes the counter; the first real value is next
        self._cpu_at = time.monotonic()
        self._disk0 = self._disk()
        self._net0 = self._net()

    def _disk(self) -> tuple[float, float] | None:
        io = self._psutil.disk_io_counters()
        return None if io is None else (io.read_bytes / _MIB, io.write_bytes / _MIB)

    def _net(self) -> tuple[float, float] | None:
        io = self._psutil.net_io_counters()
        return None if io is None else (io.bytes_sent / _MIB, io.bytes_recv / _MIB)

    def _cpu_percent(self) -> float:
        """System CPU percent since the previous reading, at least :data:`CPU_WINDOW_S` ago."""
        wait_s = self._cpu_at + CPU_WINDOW_S - time.monotonic()
        if wait_s > 0:
            time.sleep(wait_s)  # on the sampler thread only
        value = float(self._psutil.cpu_percent(interval=None))
        self._cpu_at = time.monotonic()
        return value

    def __call__(self) -> dict[str, float]:
        ps = self._psutil
        out = {"system/cpu.percent": self._cpu_percent(),
               "system/memory.percent": float(ps.virtual_memory().percent),
               "system/process.rss_mb": self._process.memory_info().rss / _MIB}
        disk, net = self._disk(), self._net()
        if disk is not None and self._disk0 is not None:
            out["system/disk.read_mb"] = max(0.0, disk[0] - self._disk0[0])
            out["system/disk.write_mb"] = max(0.0, disk[1] - self._disk0[1])
        if net is not None and self._net0 is not None:
            out["system/net.sent_mb"] = max(0.0, net[0] - self._net0[0])
            out["system/net.recv_mb"] = max(0.0, net[1] - self._net0[1])
        return out


def builtin_probes() -> list[Any]:
    """psutil (when importable) plus one probe per GPU tool on PATH."""
    probes: list[Any] = []
    try:
        probes.append(PsutilProbe())
    except Exception as exc:  # ImportError, or psutil failing in a sandbox
        _warn(f"rundial: system metrics without psutil ({type(exc).__name__}: {exc})")
    return probes + gpu_probes()


def _warn(message: str) -> None:
    warn_user(message)


class SystemSampler:
    """Samples on its own daemon thread and hands ``SystemRow`` records to ``enqueue``.

    ``depth()`` is the run's queue length; ``capacity`` its bound. ``probes`` defaults to
    :func:`builtin_probes` (created on the thread); a ``provider`` callable replaces them.
    """

    def __init__(self, enqueue: Callable[[SystemRow], None], depth: Callable[[], int],
                 capacity: int, counters: Counters, *, interval_s: float = INTERVAL_S,
                 threshold: float = BACKPRESSURE_THRESHOLD, provider: Probe | None = None,
                 probes: list[Probe] | None = None, wall: Callable[[], float] = time.time) -> None:
        self._enqueue = enqueue
        self._depth = depth
        self._limit = max(1, int(threshold * capacity))
        self._counters = counters
        self.interval_s = max(MIN_INTERVAL_S, interval_s)
        self._probes: list[Probe] | None = [provider] if provider is not None else probes
        self._wall = wall
        self._stop = threading.Event()
        self._gave_up = False  # stop() stopped waiting: nothing may be queued any more
        self._thread: threading.Thread | None = None
        self._last_step = -1

    def start(self) -> None:
        """Start the thread (idempotent); the first sample is taken at once."""
        if self._thread is None:
            thread = threading.Thread(target=self._loop, name="rundial-system-metrics",
                                      daemon=True)
            try:
                thread.start()
            except RuntimeError:  # no thread at interpreter exit (3.12+): no sampling
                return
            self._thread = thread

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop sampling; waits at most ``timeout_s`` for a probe in progress (the first sample
        included, so a short run keeps it); a sample finishing later is discarded."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        self._gave_up = True

    def forget_after_fork(self) -> None:
        """In a forked child: the thread does not exist there; never sample in the child."""
        self._stop.set()
        self._thread = None

    def _loop(self) -> None:
        try:
            if self._probes is None:
                self._probes = builtin_probes()
            self.sample_once()  # the first sample, even when the run already stops
            while not self._stop.wait(self.interval_s):
                self.sample_once()
        except Exception as exc:  # never die loudly: system metrics are best effort
            _warn(f"rundial: system metrics stopped: {type(exc).__name__}: {exc}")

    def sample_once(self) -> bool:
        """Take one sample now; False when skipped (backpressure, nothing measured)."""
        if self._depth() >= self._limit:
            self._counters.system_samples_skipped_backpressure += 1
            return False
        values = self._measure()
        now = self._wall()
        step = max(int(now), self._last_step + 1)
        late = self._gave_up or (self._stop.is_set() and self._last_step >= 0)
        if not values or late:  # a slow probe may outlive the run's finish
            return False
        self._last_step = step
        self._enqueue(SystemRow((step, int(now * 1000), values)))
        self._counters.system_samples_collected += 1
        return True

    def _measure(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for probe in list(self._probes or ()):
            try:
                values.update(probe())
            except Exception as exc:
                name = getattr(probe, "name", getattr(probe, "__name__", "probe"))
                _warn(f"rundial: system metrics probe {name} failed and is disabled: "
                      f"{type(exc).__name__}: {exc}")
                assert self._probes is not None
                self._probes.remove(probe)
        return values
