"""The house: no import circles, and imports point down the one-way flow.

The flow is read → normalise → index → rules → results → outputs → job → front ends.  Every module of
``spatial/``, ``layers/`` and ``maps/`` is given a stage below; an import from a module to a module of a
later stage is an arrow that runs back up.  Imports inside functions count (a lazy import is still a
dependency); imports under ``if TYPE_CHECKING:`` count too, because they tie the modules' designs together.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("spatial", "layers", "maps")

# Stages, lowest first.  A module not listed takes the stage of its nearest listed parent package.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "layers",
            "spatial._version",
            "spatial.errors",
            "spatial.crs",
            "spatial.webcrs",
            "spatial.io",
            "spatial.measure",
            "spatial.geometry",
            "spatial.project_types",
            "spatial.budget",
            "spatial.colnames",
            "spatial.frames",
        ),
    ),
    (
        "read",
        (
            "spatial.sanity",
            "spatial.xyorder",
            "spatial.pgzoning",
            "spatial.zoning",
            "spatial.cache",
            "spatial.coordfile",
            "spatial.site_readers",
            "spatial.type_map",
            "spatial.site_options",
            "spatial.site_forms",
            "spatial.lists",
            "spatial.clauses",
            "spatial.sites",
            "spatial.sources",
            "spatial.plan_sections",
            "spatial.completeness",
            "spatial.jurisdiction",
            "spatial.terrain",
        ),
    ),
    ("index", ("spatial.engine", "spatial.engine.prepared", "spatial.engine.queries", "spatial.engine.parallel", "spatial.engine.modes")),
    ("rules", ("spatial.rules", "spatial.list_rules", "spatial.explain", "spatial.verdicts", "spatial.engine.evaluate", "spatial.engine.text", "spatial.engine.coverage")),
    (
        "results",
        (
            "spatial.engine.assemble",
            "spatial.engine.chunks",
            "spatial.engine.dask",
            "spatial.screening",
            "spatial.facts",
            "spatial.indicators",
            "spatial.targets",
            "spatial.diff",
            "spatial.validate",
            "spatial.convert",
            "spatial.suitability",
            "spatial.suitability_raster",
            "spatial.alternatives",
            "spatial.compare",
        ),
    ),
    ("outputs", ("spatial.output", "spatial.outset", "spatial.list_review", "spatial.pgpublish")),
    ("maps", ("maps", "maps.model")),
    ("job", ("spatial.job",)),
    ("front", ("spatial", "spatial.cli", "spatial.serve")),
]

#: Arrows allowed to run back up, with the reason.  The issue's target is at most 2.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


def module_files() -> dict[str, Path]:
    """Map every module name of the three packages to its file."""
    mods: dict[str, Path] = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py"):
            name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = f
    return mods


def facade_exports() -> dict[str, str]:
    """Return ``spatial``'s lazy re-exports (name → module), read from its ``_EXPORTS`` literal."""
    tree = ast.parse((ROOT / "spatial" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """Build module → imported modules (inside the three packages) with ``ast``."""
    mods = module_files()
    exports = facade_exports()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [resolve(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if base == "spatial" and alias.name in exports:
                        targets.append(exports[alias.name])
                    else:
                        targets.append(resolve(full) if full in mods else resolve(base))
            graph[mod].update(t for t in targets if t and t != mod)
    return graph


def stage_of(module: str) -> int:
    """Return the stage index of a module (its own entry, else its nearest listed package)."""
    table = {name: i for i, (_, names) in enumerate(STAGES) for name in names}
    name = module
    while name:
        if name in table:
            return table[name]
        name = name.rpartition(".")[0]
    raise KeyError(module)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def upward_arrows(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Return imports from a module to a module of a later stage."""
    return sorted((a, b) for a, targets in graph.items() for b in targets if stage_of(b) > stage_of(a))


def test_every_module_has_a_stage() -> None:
    for mod in module_files():
        stage_of(mod)  # raises KeyError for a module outside the table


@pytest.mark.slow
def test_graph_sees_known_imports() -> None:
    graph = import_graph()
    assert "spatial.io" in graph["spatial.zoning"]
    assert "spatial.engine.modes" in graph["spatial.engine.evaluate"]
    assert "spatial.screening" in graph["spatial.cli.cmd_screen"] or "spatial.job" in graph["spatial.cli.cmd_screen"]


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_arrows_point_down() -> None:
    up = upward_arrows(import_graph())
    unexpected = [a for a in up if a not in ALLOWED_UPWARD]
    assert unexpected == [], f"imports that run back up the flow: {unexpected}"
    assert len(up) <= 2


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("spatial.output", "maps"),
        ("spatial.engine.modes", "spatial.rules"),
        ("spatial.engine.modes", "spatial.engine.evaluate"),
        ("spatial.sanity", "spatial.zoning"),
        ("spatial.xyorder", "spatial.sanity"),
        ("spatial.xyorder", "spatial.zoning"),
        ("spatial.siting_output", "maps"),
        ("spatial.engine", "spatial.screening"),
    ],
)
def test_named_arrows_are_gone(low: str, high: str) -> None:
    graph = import_graph()
    bad = [(a, b) for a, targets in graph.items() for b in targets if (a == low or a.startswith(low + ".")) and (b == high or b.startswith(high + "."))]
    assert bad == []


def test_tests_use_public_names_only() -> None:
    """No test imports or reaches a private (``_name``) of a package module: tests exercise the public API."""
    packages = {"spatial", "maps", "layers"}
    found = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in packages:
                found += [f"{path.name}:{node.lineno} {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
                aliases |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                aliases |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] in packages}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    assert found == [], found
