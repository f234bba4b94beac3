"""GPU probes for system metrics: ``nvidia-smi`` (CSV) and ``rocm-smi`` (JSON), when on PATH.

Each probe runs its tool with a timeout and returns per-GPU values named
``system/gpu.<i>.util``, ``.mem_util`` (percent), ``.mem_used_mb``, ``.mem_total_mb`` (MiB),
``.temp_c`` and ``.power_w``. Fields a GPU does not report (``[N/A]``, ``[Not Supported]``,
missing JSON keys) are left out. A probe raises on a failed run or unparsable output; the
sampler then disables it after one warning.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

PROBE_TIMEOUT_S = 5.0  # nvidia-smi can take ~1 s on a busy node; never block the sampler longer
NVIDIA_QUERY = ("index,utilization.gpu,utilization.memory,memory.used,memory.total,"
                "temperature.gpu,power.draw")
NVIDIA_FIELDS = ("util", "mem_util", "mem_used_mb", "mem_total_mb", "temp_c", "power_w")
ROCM_ARGS = ("--showuse", "--showmemuse", "--showtemp", "--showpower", "--showmeminfo", "vram",
             "--json")
_MIB = 1024 * 1024
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
Probe = Callable[[], dict[str, float]]
Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def _number(text: Any) -> float | None:
    """The first number in ``text`` (``"35.0"``, ``"120.5 W"``), or None (``[N/A]``)."""
    match = _NUMBER.search(str(text))
    return float(match.group()) if match else None


def parse_nvidia_csv(text: str) -> dict[str, float]:
    """Values from ``nvidia-smi --query-gpu=<NVIDIA_QUERY> --format=csv,noheader,nounits``."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(NVIDIA_FIELDS) + 1 or not cells[0].isdigit():
            continue
        for field, cell in zip(NVIDIA_FIELDS, cells[1:]):
            value = _number(cell)
            if value is not None:
                out[f"system/gpu.{cells[0]}.{field}"] = value
    if not out and text.strip():
        raise ValueError(f"unexpected nvidia-smi output: {text.strip()[:200]!r}")
    return out


def _rocm_card(fields: dict[str, Any]) -> dict[str, float]:
    """Our field names from one card's rocm-smi JSON object (key names vary by version)."""
    values: dict[str, float] = {}
    for key, raw in fields.items():
        name = key.lower()
        value = _number(raw)
        if value is None:
            continue
        if name.startswith("gpu use"):
            values["util"] = value
        elif "memory use" in name or "memory allocated" in name:
            values["mem_util"] = value
        elif name.startswith("temperature") and ("edge" in name or "temp_c" not in values):
            values["temp_c"] = value
        elif "power" in name and name.endswith("(w)"):
            values.setdefault("power_w", value)
        elif "vram total used memory" in name:
            values["mem_used_mb"] = value / _MIB
        elif "vram total memory" in name:
            values["mem_total_mb"] = value / _MIB
    return values


def parse_rocm_json(text: str) -> dict[str, float]:
    """Values from ``rocm-smi ... --json`` (``{"card0": {...}, ...}``); other keys ignored."""
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("rocm-smi --json did not return an object")
    out: dict[str, float] = {}
    for card, fields in doc.items():
        index = re.fullmatch(r"card(\d+)", str(card))
        if index is None or not isinstance(fields, dict):
            continue
        for field, value in _rocm_card(fields).items():
            out[f"system/gpu.{index.group(1)}.{field}"] = value
    return out


class CommandProbe:
    """Runs ``argv`` (timeout :data:`PROBE_TIMEOUT_S`) and parses its stdout."""

    def __init__(self, name: str, argv: list[str], parse: Callable[[str], dict[str, float]],
                 run: Runner = subprocess.run, timeout_s: float = PROBE_TIMEOUT_S) -> None:
        self.name = name
        self._argv = argv
        self._parse = parse
        self._run = run
        self._timeout_s = timeout_s

    def __call__(self) -> dict[str, float]:
        done = self._run(self._argv, capture_output=True, text=True, timeout=self._timeout_s,
                         check=False, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"{self.name} exited with {done.returncode}: "
                               f"{(done.stderr or done.stdout or '').strip()[:200]}")
        return self._parse(done.stdout)


def gpu_probes(which: Callable[[str], str | None] = shutil.which,
               run: Runner = subprocess.run) -> list[CommandProbe]:
    """A probe per GPU tool found on PATH (NVIDIA first, then AMD)."""
    probes: list[CommandProbe] = []
    nvidia = which("nvidia-smi")
    if nvidia:
        probes.append(CommandProbe("nvidia-smi", [nvidia, f"--query-gpu={NVIDIA_QUERY}",
                                                  "--format=csv,noheader,nounits"],
                                   parse_nvidia_csv, run))
    rocm = which("rocm-smi")
    if rocm:
        probes.append(CommandProbe("rocm-smi", [rocm, *ROCM_ARGS], parse_rocm_json, run))
    return probes
