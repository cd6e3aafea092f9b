"""Every output file name is defined once, in :data:`spatial.output.FILES` (and ``run.json`` in ``spatial.outset``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from spatial.output import FILES
from spatial.outset import RUN_FILE

ROOT = Path(__file__).resolve().parents[1]
#: The modules allowed to spell output names: the table itself and the output-set file.
HOMES = {ROOT / "spatial" / "output.py", ROOT / "spatial" / "outset.py"}


def _docstrings(tree: ast.AST) -> set[int]:
    """Return the ids of the docstring nodes (prose may name files)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def stray_names(names: set[str]) -> list[str]:
    """Return ``file:line: literal`` for every string literal outside the homes that is exactly an output name."""
    found = []
    for pkg in ("spatial", "maps", "layers"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path in HOMES:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docs = _docstrings(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs and node.value.strip("/") in names:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return found


@pytest.mark.slow
def test_no_output_name_outside_its_home() -> None:
    # File names with a suffix: the 附图 folder's name is also the word captions use.
    names = {f.name for f in FILES.values() if "." in f.name} | {RUN_FILE}
    assert {"report.docx", "sites.csv", "map.html", "changes.csv", "suitability.tif"} <= names
    assert stray_names(names) == []


@pytest.mark.slow
def test_the_check_finds_a_stray_name() -> None:
    """The scan is not blind: a name it must find (this module's own literal is outside the package)."""
    assert any("spatial/output.py" not in s for s in stray_names({"utf-8"}))
