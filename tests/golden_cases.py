"""Golden screening results: the cases, and how they were recorded.

Every verdict and measurement must survive refactors of the engine.  This
module builds three cases in code and screens them with a *frozen* copy of
the v0.1 rule catalogue (``tests/data/rules_v0_1.yaml``), so later edits of
the shipped catalogue do not move the answers:

* ``toy``: the toy county of ``conftest.py`` with a grid of point sites, box
  sites and line sites, every site given one of a fixed list of project types;
* ``province``: a small seeded province from ``scripts/make_province.py``;
* ``demo``: the bundled 连州 demo sites against the bundled demo zoning.

Per case two CSVs live under ``tests/data/golden/``: ``<case>_sites.csv``
(site_id, verdict, n_hits) and ``<case>_hits.csv`` (site_id, rule_id,
layer, feature_id, verdict, overlap_m2, overlap_pct, length_m, distance_m).
``tests/test_golden.py`` compares the current engine with them.

Re-record (only when a verdict change is intended and explained in the
commit)::

    python tests/golden_cases.py --record
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOLDEN = HERE / "data" / "golden"
FROZEN_RULES = HERE / "data" / "rules_v0_1.yaml"
SITE_KEYS = ["site_id", "verdict", "n_hits"]
HIT_KEY = ["site_id", "rule_id", "layer", "feature_id"]
HIT_KEYS = [*HIT_KEY, "verdict", "overlap_m2", "overlap_pct", "length_m", "distance_m"]
MEASURES = ["overlap_m2", "overlap_pct", "length_m", "distance_m"]
#: Types cycled over the toy sites: every rule of the v0.1 catalogue is met by some of them.
TOY_TYPES = (
    "化工", "电镀", "印染", "火电", "工业", "采矿", "住宅", "商业", "旅游", "科研监测", "线性基础设施", "农业",
    "供水设施", "市政设施", "生态修复", "小水电", "围填海", "畜禽养殖", "钢铁", "水泥",
)  # fmt: skip

sys.path.insert(0, str(HERE))


def toy_sites() -> gpd.GeoDataFrame:
    """Point grid, boxes and lines over the toy county (and a little beyond it)."""
    from conftest import ORIGIN, TOY_CRS

    ox, oy = ORIGIN
    # Points every 700 m from -0.6 km to 20.4 km: they fall inside, on both sides of
    # every edge and corridor, and a few outside the county.
    g = np.arange(-600.0, 20_500.0, 700.0)
    x, y = np.meshgrid(ox + g, oy + g)
    pts = shapely.points(x.ravel(), y.ravel())
    rng = np.random.default_rng(12)
    n_box = 300
    cx, cy = ox + rng.uniform(-500, 20_500, n_box), oy + rng.uniform(-500, 20_500, n_box)
    half = rng.uniform(20, 600, n_box)
    boxes = shapely.box(cx - half, cy - half, cx + half, cy + half)
    n_line = 120
    lx, ly = ox + rng.uniform(0, 20_000, n_line), oy + rng.uniform(0, 20_000, n_line)
    ang = rng.uniform(0, np.pi, n_line)
    ln = rng.uniform(50, 3_000, n_line)
    lines = shapely.linestrings(
        np.stack([np.c_[lx, ly], np.c_[lx + ln * np.cos(ang), ly + ln * np.sin(ang)]], axis=1)
    )
    geoms = np.concatenate([pts, boxes, lines])
    kinds = ["P"] * len(pts) + ["A"] * n_box + ["L"] * n_line
    ids = [f"T{k}{i:05d}" for i, k in enumerate(kinds)]
    types = [TOY_TYPES[i % len(TOY_TYPES)] for i in range(len(geoms))]
    return gpd.GeoDataFrame({"site_id": ids, "project_type": types}, geometry=geoms, crs=TOY_CRS)


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"_golden_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


#: Rule-id prefixes of the coverage stage (issue 20: missing layers, zones without loaded rules).
COVERAGE_PREFIXES = ("COV-", "ZONE-")


def _frame(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The engine's own verdicts and measurements: the coverage stage's rows left out.

    The golden cases pin what the engine measures with a frozen catalogue; the
    coverage stage (which says what a package *lacks*, e.g. zone kinds the v0.1
    catalogue has no rule for) is tested on its own in ``test_coverage.py``.
    Its rows are dropped and each site's verdict and hit count recomputed from
    the remaining hits, so a change in either the engine or the coverage stage
    shows up in exactly one place.
    """
    from spatial.project_types import VERDICT_RANK, VERDICTS

    hits = pd.DataFrame(result.hits)
    hits = hits[~hits["rule_id"].astype(str).str.startswith(COVERAGE_PREFIXES)]
    sites = pd.DataFrame(result.sites[SITE_KEYS]).reset_index(drop=True)
    rank = hits.groupby("site_id")["verdict"].agg(lambda v: max(VERDICT_RANK[x] for x in v))
    ids = sites["site_id"].astype(str)
    sites["verdict"] = [VERDICTS[int(rank.get(i, 0))] for i in ids]
    sites["n_hits"] = ids.map(hits["site_id"].astype(str).value_counts()).fillna(0).astype(int).to_numpy()
    return sites, hits[HIT_KEYS].reset_index(drop=True)


def run_toy(tmp: Path, threads: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Screen the toy county."""
    from conftest import write_toy_gpkg

    from spatial import load_rules, load_zoning, screen

    zoning = load_zoning(write_toy_gpkg(tmp / "toy.gpkg"))
    return _frame(screen(toy_sites(), zoning, load_rules(FROZEN_RULES), type_field="project_type", threads=threads))


def run_province(tmp: Path, threads: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Screen a small seeded province (points, polygons and lines)."""
    from spatial import load_rules, load_zoning, screen

    mp = _load_script("make_province")
    info = mp.make_province(
        tmp / "province", units=40, redlines=400, protected=120, water=90, farmland=400, urban=20, corridors=60,
        points=3000, polygons=600, lines=150, seed=3, quiet=True,
    )  # fmt: skip
    zoning = load_zoning(info["zoning"])
    rules = load_rules(FROZEN_RULES)
    parts = [gpd.read_parquet(info["sites"][k]["path"]) for k in ("points", "polygons", "lines")]
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    return _frame(screen(sites, zoning, rules, type_field="project_type", threads=threads))


def run_demo(tmp: Path, threads: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: ARG001 - same signature as the others
    """Screen the bundled demo sites."""
    from spatial import load_rules, screen
    from spatial.zoning import demo_sites_path

    return _frame(screen(demo_sites_path(), None, load_rules(FROZEN_RULES), threads=threads))


CASES: dict[str, Callable[..., tuple[pd.DataFrame, pd.DataFrame]]] = {
    "toy": run_toy,
    "province": run_province,
    "demo": run_demo,
}


def golden(case: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the recorded sites and hits of a case."""
    sites = pd.read_csv(GOLDEN / f"{case}_sites.csv", dtype={"site_id": str, "verdict": str})
    hits = pd.read_csv(GOLDEN / f"{case}_hits.csv", dtype={c: str for c in HIT_KEY + ["verdict"]}, keep_default_na=False)
    for c in MEASURES:
        hits[c] = pd.to_numeric(hits[c].replace("", np.nan))
    return sites, hits


def record(cases: Sequence[str] = tuple(CASES)) -> None:
    """Screen each case and write its CSVs (full float precision)."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            sites, hits = CASES[case](Path(tmp))
            sites.to_csv(GOLDEN / f"{case}_sites.csv", index=False)
            hits.to_csv(GOLDEN / f"{case}_hits.csv", index=False, float_format="%.17g")
            print(f"{case}: {len(sites)} sites, {len(hits)} hits, verdicts {sites['verdict'].value_counts().to_dict()}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--record [CASE ...]``."""
    p = argparse.ArgumentParser(description="Record the golden screening results.")
    p.add_argument("--record", nargs="*", choices=list(CASES), help="cases to record (default: all)")
    args = p.parse_args(argv)
    if args.record is None:
        p.print_help()
        return 0
    record(args.record or tuple(CASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
