"""Style is checked like tests: ruff (pyflakes, imports, numpydoc D rules) must be clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed (it is in the test extras)")
def test_ruff_clean() -> None:
    res = subprocess.run(["ruff", "check", "spatial", "layers", "maps", "scripts", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-4000:]


def test_no_markers_for_rules_that_are_not_selected() -> None:
    """``noqa`` for a rule ruff does not check (ANN) only hides missing annotations."""
    marker = "noqa: " + "ANN"  # split so this file does not match itself
    hits = [
        f"{p.relative_to(ROOT)}:{i}"
        for top in ("spatial", "layers", "maps", "scripts", "tests")
        for p in (ROOT / top).rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if marker in line
    ]
    assert not hits, hits
