"""What a user installs works: the built wheel, in an interpreter that sees no editable finder and no pytest.

The suite itself runs on an editable install whose finder (and pytest) import
modules such as :mod:`importlib.util` that a fresh interpreter lacks, so a
bare ``import importlib`` followed by ``importlib.util`` passes every other
test and still kills every command of a plain ``pip install .``.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("spatial", "layers", "maps")

#: Runs the console-script entry point, then checks from inside that nothing but the wheel was used.
_RUNNER = """
import sys, json, atexit
sys.path[:0] = [{pkg!r}, {purelib!r}]
def _report():
    import spatial
    finders = [type(f).__name__ for f in sys.meta_path if "editable" in type(f).__name__.lower()]
    with open({probe!r}, "w") as fh:
        json.dump({{"spatial": spatial.__file__, "pytest": "pytest" in sys.modules, "finders": finders}}, fh)
atexit.register(_report)
sys.argv = ["ecozone", *sys.argv[1:]]
from spatial.cli import main
main()
"""


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the sources and install it with --no-deps into a bare folder."""
    base = tmp_path_factory.mktemp("plain")
    src = base / "src"
    skip = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "tests", "scripts", ".*cache*")
    shutil.copytree(ROOT, src, ignore=skip)
    wheels = base / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(src)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = wheels.glob("ecozone-*.whl")
    pkg = base / "pkg"
    inst = subprocess.run([*pip, "install", "--no-deps", "--target", str(pkg), str(wheel)], capture_output=True, text=True)
    assert inst.returncode == 0, inst.stdout[-2000:] + inst.stderr[-2000:]
    return pkg


def _run_plain(pkg: Path, tmp: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    probe = tmp / "probe.json"
    code = _RUNNER.format(pkg=str(pkg), purelib=sysconfig.get_paths()["purelib"], probe=str(probe))
    # -S: no site module, so no .pth file (the editable finder) is processed; -I would drop PYTHONPATH too.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "ECOZONE_CACHE_DIR": str(tmp / "cache"), "LANG": "C.UTF-8"}
    res = subprocess.run([sys.executable, "-S", "-c", code, *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    seen = json.loads(probe.read_text()) if probe.exists() else {}
    return res, seen


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--help"], "Usage"),
        (["--version"], "ecozone, version"),
    ],
)
def test_plain_install_runs(plain_install: Path, tmp_path: Path, args: list[str], expect: str) -> None:
    res, seen = _run_plain(plain_install, tmp_path, *args)
    assert res.returncode == 0, res.stderr[-2000:]
    assert expect in res.stdout
    assert "Traceback" not in res.stdout + res.stderr
    assert seen["spatial"].startswith(str(plain_install)), seen  # the wheel's code, not the checkout's
    assert seen["pytest"] is False and seen["finders"] == [], seen


@pytest.mark.slow
def test_plain_install_demo(plain_install: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo_out"
    res, seen = _run_plain(plain_install, tmp_path, "demo", "--out", str(out))
    assert res.returncode == 0, res.stdout[-1000:] + res.stderr[-2000:]
    for name in ("sites.csv", "hits.csv", "screening.gpkg", "map.html", "report.html", "report.xlsx", "indicators.csv"):
        assert (out / name).stat().st_size > 0, name
    assert seen["spatial"].startswith(str(plain_install)) and seen["pytest"] is False and seen["finders"] == []
    assert str(ROOT) not in (out / "report.html").read_text(encoding="utf-8")  # nothing points back at the checkout
    from maps.report_typst import typst_available

    if typst_available():  # the wheel ships the Typst layout (package data): the PDF is typeset, no browser asked
        assert b"/Creator(Typst" in (out / "report.pdf").read_bytes()


def _submodule_uses(tree: ast.AST) -> tuple[set[str], set[tuple[str, str]]]:
    """Return (modules imported by full name, (package, attribute) uses on an imported top-level name)."""
    imported: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname is None:
                    imported.add(a.name)
                    bound.add(a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.update(f"{node.module}.{a.name}" for a in node.names)
    uses = {
        (node.value.id, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
    }
    return imported, uses


@pytest.mark.slow
def test_no_bare_package_import_then_submodule() -> None:
    """``import importlib`` then ``importlib.util`` (or any such pair) works only by accident: forbid it."""
    candidates: dict[tuple[str, str], list[str]] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            imported, uses = _submodule_uses(ast.parse(path.read_text(encoding="utf-8")))
            for mod, attr in uses:
                if mod in sys.stdlib_module_names and f"{mod}.{attr}" not in imported:
                    candidates.setdefault((mod, attr), []).append(str(path.relative_to(ROOT)))
    # An attribute a fresh interpreter (no site, no pytest) lacks after the bare import is a submodule loaded by accident.
    bad = {
        f"{mod}.{attr}": files
        for (mod, attr), files in sorted(candidates.items())
        if subprocess.run([sys.executable, "-S", "-c", f"import sys, {mod}; sys.exit(not hasattr({mod}, {attr!r}))"]).returncode
    }
    assert not bad, bad


def test_bare_import_check_catches_importlib_util() -> None:
    """The check above sees the exact bug that broke README command 1, and accepts the fix."""
    imported, uses = _submodule_uses(ast.parse("import importlib\nx = importlib.util.find_spec('x')\n"))
    assert ("importlib", "util") in uses and "importlib.util" not in imported
    res = subprocess.run([sys.executable, "-S", "-c", "import sys, importlib; sys.exit(not hasattr(importlib, 'util'))"])
    assert res.returncode == 1  # a fresh interpreter really lacks it
    imported, uses = _submodule_uses(ast.parse("import importlib.util\nx = importlib.util.find_spec('x')\n"))
    assert "importlib.util" in imported
