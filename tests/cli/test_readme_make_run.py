"""The README tells a new user where `make run` put the CLI and which make variables it takes
(issue 13, CLI defects: README)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_readme_documents_the_run_targets_variables_and_the_cli_location() -> None:
    makefile = (REPO / "Makefile").read_text()
    readme = (REPO / "README.md").read_text()
    run_recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert run_recipe is not None
    used = set(re.findall(r"\$\((\w+)\)", run_recipe.group(1)))
    settable = set(re.findall(r"^(\w+) \?=", makefile, re.M))
    variables = used & settable
    assert {"PORT", "DATA"} <= variables
    for name in variables:
        assert f"make run {name}=" in readme, name
    assert ".venv/bin/rundial" in readme and "source .venv/bin/activate" in readme
