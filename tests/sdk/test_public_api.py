"""The public surface: a small, sorted ``__all__`` and a light import."""

from __future__ import annotations

import json
import subprocess
import sys

import rundial


def test_all_equals_the_sorted_public_names() -> None:
    """``rundial.__all__`` lists exactly the public names, sorted (httpx's rule)."""
    public = sorted(name for name in vars(rundial) if not name.startswith("_")
                    and name not in {"cli", "compat"})  # subpackages: attributes once imported
    assert rundial.__all__ == public
    assert rundial.__all__ == sorted(rundial.__all__)


def test_import_does_not_pull_heavy_modules() -> None:
    """``import rundial`` loads no aiohttp, numpy, pillow, msgspec, psutil or tenacity."""
    code = ("import json, sys, rundial; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'aiohttp', 'numpy', 'PIL', 'msgspec', 'psutil', 'tenacity', 'asyncio'})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         check=True)
    assert json.loads(out.stdout) == []


def test_implementation_modules_are_private() -> None:
    """Every module of the SDK except the CLI package is underscore-private."""
    from pathlib import Path

    # eval_pytest_plugin: the published SDK's module name, loaded with ``pytest -p``
    names = [p.stem for p in Path(rundial.__file__).parent.glob("*.py")
             if p.stem not in {"__init__", "eval_pytest_plugin"}]
    assert names and all(name.startswith("_") for name in names)
