#!/usr/bin/env python
r"""Generate a synthetic, province-sized zoning package and site files.

Everything here is made up; it only has the *shape* of a province's data so
the engine can be measured at the sizes that matter: a boundary of about
800 km x 500 km (roughly Guangdong's extent around lon 110-117E, lat
20-25.5N), ``--units`` control units tiling it, ``--redlines`` red-line
polygons with hundreds to thousands of vertices (holes, multiparts),
``--protected`` protected-area zones (core/general), water-source zones
(level 1/2/quasi), farmland patches, urban boundaries, river/road corridors,
and ``--points``/``--polygons``/``--lines`` project sites.

Working CRS: everything is generated directly in EPSG:4547 (CGCS2000
3-degree Gauss-Kruger, CM 114E, no zone prefix), which is the zone the
loader picks for this extent.  Stretched over 7 degrees of longitude one GK
zone distorts scale by up to ~0.15 % at the east/west ends; real province
data would be split or use an equal-area CRS, but for a synthetic benchmark
the distortion is irrelevant (no answer is compared with a closed form).

Outputs in ``--out DIR`` (existing files are replaced)::

    province_zoning.gpkg     layers boundary, redline, protected_area, water_source,
                             control_unit (national 成果 field names), farmland,
                             urban_boundary, corridor; GPKG spatial index included
    sites_points.parquet     --points point sites   (GeoParquet; --sites-format gpkg for .gpkg)
    sites_polygons.parquet   --polygons polygon sites
    sites_lines.parquet      --lines line sites
    province.json            sizes, vertex counts, seed, timings

Deterministic: every layer draws from its own child of
``numpy.random.SeedSequence(seed)``, so the zoning does not change when only
the number of sites changes.

Usage::

    python scripts/make_province.py --units 2000 --redlines 20000 --protected 5000 \
        --points 1000000 --polygons 100000 --lines 10000 --seed 1 --out /tmp/province
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

__all__ = ["make_province", "fraction_zoning", "main", "CRS", "CENTRE"]

CRS = "EPSG:4547"
#: Province centre in EPSG:4547 (about 113.6E, 22.9N).
CENTRE = (460_000.0, 2_530_000.0)
#: Semi-axes (m) of the province ellipse before noise: ~780 km x 300 km, ~180 000 km² like Guangdong.
SEMI_AXES = (390_000.0, 150_000.0)
PROJECT_TYPES = np.array(
    [
        "化工", "电镀", "印染", "火电", "造纸", "钢铁", "工业", "制革", "采矿", "畜禽养殖", "住宅", "商业",
        "旅游", "科研监测", "线性基础设施", "农业", "供水设施", "市政设施", "生态修复", "industrial",
        "commercial", "residential", "chemical", "石化", "水泥", "小水电", "围填海",
    ]
)  # fmt: skip
BANNABLE = np.array(["化工", "电镀", "印染", "火电", "采矿", "造纸", "制革", "钢铁", "有色冶炼", "两高", "畜禽养殖", "水泥"])
PA_TYPES = np.array(["自然保护区", "森林公园", "湿地公园", "风景名胜区", "地质公园", "其他"])


# --------------------------------------------------------------------------- shapes


def _offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner index and position-within-owner for ``counts`` consecutive runs."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    return owner, pos


def noisy_rings(
    rng: np.random.Generator,
    cx: np.ndarray,
    cy: np.ndarray,
    radius: np.ndarray,
    nverts: np.ndarray,
    *,
    amp: float = 0.45,
    harmonics: Sequence[int] = (2, 3, 5, 8, 13, 21),
    jitter: float = 0.02,
    stretch: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """Star-shaped noisy circles as linear rings (always simple, so valid).

    The radius is ``R (1 + sum_h a_h sin(h t + phi_h) + jitter)`` with
    ``sum a_h <= amp`` and ``amp + jitter < 1``: a single-valued positive
    function of the angle, so the ring never crosses itself.

    Parameters
    ----------
    rng : Generator
        Random source.
    cx, cy, radius : ndarray
        Centres and mean radii (m).
    nverts : ndarray of int
        Vertices per ring.
    amp : float
        Total amplitude of the harmonics (fraction of the radius).
    harmonics : sequence of int
        Angular frequencies.
    jitter : float
        Per-vertex radial noise (fraction of the radius).
    stretch : (float, float)
        Axis scale factors (an ellipse when unequal).

    Returns
    -------
    ndarray of LinearRing
        One ring per centre.
    """
    k = len(cx)
    nverts = np.maximum(np.asarray(nverts, dtype=np.int64), 4)
    owner, pos = _offsets(nverts)
    theta = 2 * np.pi * pos / nverts[owner]
    a = rng.uniform(0.0, 1.0, (k, len(harmonics)))
    a *= (amp * rng.uniform(0.5, 1.0, k) / a.sum(axis=1))[:, None]
    phi = rng.uniform(0.0, 2 * np.pi, (k, len(harmonics)))
    r = np.ones(len(owner))
    for j, h in enumerate(harmonics):  # a handful of harmonics, each vectorised over all vertices
        r += a[owner, j] * np.sin(h * theta + phi[owner, j])
    r += rng.uniform(-jitter, jitter, len(owner))
    r *= np.asarray(radius, dtype=float)[owner]
    x = np.asarray(cx, dtype=float)[owner] + stretch[0] * r * np.cos(theta)
    y = np.asarray(cy, dtype=float)[owner] + stretch[1] * r * np.sin(theta)
    return shapely.linearrings(np.column_stack([x, y]), indices=owner)


def assemble(
    shells: np.ndarray, holes: np.ndarray | None = None, hole_owner: np.ndarray | None = None, part_owner: np.ndarray | None = None
) -> np.ndarray:
    """Polygons from shells (+ optional holes), then multipolygons by ``part_owner``.

    Parameters
    ----------
    shells : ndarray of LinearRing
        One shell per polygon part.
    holes : ndarray of LinearRing, optional
        Hole rings.
    hole_owner : ndarray of int, optional
        Index into ``shells`` of each hole.
    part_owner : ndarray of int, optional
        Feature index of each part (sorted); parts of a feature become a MultiPolygon.

    Returns
    -------
    ndarray
        Polygon or MultiPolygon per feature.
    """
    n = len(shells)
    if holes is not None and len(holes):
        rings = np.concatenate([shells, holes])
        owner = np.concatenate([np.arange(n), hole_owner])
        is_hole = np.concatenate([np.zeros(n, bool), np.ones(len(holes), bool)])
        order = np.lexsort((is_hole, owner))
        polys = shapely.polygons(rings[order], indices=owner[order])
    else:
        polys = shapely.polygons(shells)
    if part_owner is None:
        return polys
    multi = shapely.multipolygons(polys, indices=part_owner)
    single = shapely.get_num_geometries(multi) == 1
    multi[single] = shapely.get_geometry(multi[single], 0)
    return multi


def displace(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Warp geometries with one smooth deterministic field (shared edges stay shared).

    The gradient of the field stays below 0.4, so the map is one-to-one and a
    valid tiling stays a valid tiling.

    Parameters
    ----------
    geoms : ndarray
        Geometries (EPSG:4547 metres).
    rng : Generator
        Random source for the field's phases and directions.

    Returns
    -------
    ndarray
        Warped geometries.
    """
    waves = [(2000.0, 60_000.0), (300.0, 10_000.0)]  # (amplitude m, wavelength m): sum of A*k = 0.40
    params = [(a, 2 * np.pi / lam, rng.uniform(0, 2 * np.pi, 4), rng.uniform(0, np.pi, 2)) for a, lam in waves]

    def field(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        dx = np.zeros(len(x))
        dy = np.zeros(len(x))
        for a, k, ph, ang in params:
            dx += a * np.sin(k * (np.cos(ang[0]) * x + np.sin(ang[0]) * y) + ph[0])
            dy += a * np.sin(k * (np.cos(ang[1]) * x + np.sin(ang[1]) * y) + ph[1])
        return np.column_stack([x + dx, y + dy])

    return shapely.transform(geoms, field)


def random_inside(rng: np.random.Generator, region: shapely.Geometry, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random points inside ``region`` (vectorised rejection sampling).

    Parameters
    ----------
    rng : Generator
        Random source.
    region : Geometry
        Polygonal region (prepared for speed).
    n : int
        Number of points.

    Returns
    -------
    (ndarray, ndarray)
        x and y.
    """
    shapely.prepare(region)
    x0, y0, x1, y1 = region.bounds
    xs, ys, got = [np.zeros(0)], [np.zeros(0)], 0  # n may be 0
    while got < n:  # a few rounds: ~70 % of the bounding box is inside
        m = int((n - got) * 1.6) + 16
        x = rng.uniform(x0, x1, m)
        y = rng.uniform(y0, y1, m)
        ok = shapely.contains_xy(region, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        got += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def wander_lines(
    rng: np.random.Generator, x0: np.ndarray, y0: np.ndarray, nverts: np.ndarray, step: np.ndarray | float, turn: float
) -> np.ndarray:
    """Random-walk polylines with smoothly drifting heading.

    Parameters
    ----------
    rng : Generator
        Random source.
    x0, y0 : ndarray
        Start points.
    nverts : ndarray of int
        Vertices per line (>= 2).
    step : float or ndarray
        Segment length (m), per line when an array.
    turn : float
        Standard deviation of the heading change per vertex (radians).

    Returns
    -------
    ndarray of LineString
        One line per start point.
    """
    nverts = np.maximum(np.asarray(nverts, dtype=np.int64), 2)
    owner, pos = _offsets(nverts)
    dtheta = rng.normal(0.0, turn, len(owner))
    dtheta[pos == 0] = rng.uniform(0, 2 * np.pi, len(nverts))
    heading = _group_cumsum(dtheta, pos)
    st = np.broadcast_to(np.asarray(step, dtype=float), (len(nverts),))[owner]
    dx = np.where(pos == 0, 0.0, st * np.cos(heading))
    dy = np.where(pos == 0, 0.0, st * np.sin(heading))
    x = np.asarray(x0, dtype=float)[owner] + _group_cumsum(dx, pos)
    y = np.asarray(y0, dtype=float)[owner] + _group_cumsum(dy, pos)
    return shapely.linestrings(np.column_stack([x, y]), indices=owner)


def _group_cumsum(values: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting where ``pos == 0``."""
    total = np.cumsum(values)
    starts = np.flatnonzero(pos == 0)
    base = np.repeat(total[starts] - values[starts], np.diff(np.append(starts, len(values))))
    return total - base


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygon parts of overlay results (drops touching lines/points)."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), [3]) & (shapely.area(parts) > 1.0)  # no slivers from the clipping
    out = shapely.multipolygons(parts[keep], indices=idx[keep], out=np.full(len(geoms), shapely.MultiPolygon(), dtype=object))
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _vertex_counts(rng: np.random.Generator, n: int, median: float, lo: int, hi: int, sigma: float = 0.7) -> np.ndarray:
    return np.clip(np.round(rng.lognormal(np.log(median), sigma, n)), lo, hi).astype(np.int64)


def _blobs(
    rng: np.random.Generator,
    region: shapely.Geometry,
    n: int,
    *,
    r_median: float,
    r_sigma: float,
    v_median: float,
    v_lo: int,
    v_hi: int,
    hole_frac: float = 0.0,
    multi_frac: float = 0.0,
    harmonics: Sequence[int] = (2, 3, 5, 8, 13, 21),
) -> np.ndarray:
    """``n`` noisy polygon features centred in ``region``, some holed, some multipart."""
    amp, jit = 0.45, 0.02
    cx, cy = random_inside(rng, region, n)
    radius = rng.lognormal(np.log(r_median), r_sigma, n)
    nv = _vertex_counts(rng, n, v_median, v_lo, v_hi)
    multi = rng.random(n) < multi_frac
    m = int(multi.sum())
    # Second parts sit clear of the first: centre distance > both maximum radii.
    r2 = radius[multi] * rng.uniform(0.3, 0.8, m)
    ang = rng.uniform(0, 2 * np.pi, m)
    d = (radius[multi] + r2) * (1 + amp + jit) * rng.uniform(1.05, 1.6, m)
    pcx = np.concatenate([cx, cx[multi] + d * np.cos(ang)])
    pcy = np.concatenate([cy, cy[multi] + d * np.sin(ang)])
    prad = np.concatenate([radius, r2])
    pnv = np.concatenate([nv, np.maximum(nv[multi] // 2, v_lo)])
    owner = np.concatenate([np.arange(n), np.flatnonzero(multi)])
    order = np.argsort(owner, kind="stable")
    shells = noisy_rings(rng, pcx, pcy, prad, pnv, amp=amp, jitter=jit, harmonics=harmonics)[order]
    owner = owner[order]
    prad, pnv, pcx, pcy = prad[order], pnv[order], pcx[order], pcy[order]
    holed = np.flatnonzero(rng.random(len(shells)) < hole_frac)
    holes = None
    if len(holed):
        # Inner ring max radius < outer ring min radius: the hole never touches the shell.
        hr = prad[holed] * (1 - amp - jit) / (1 + 0.2 + jit) * rng.uniform(0.2, 0.6, len(holed))
        holes = noisy_rings(rng, pcx[holed], pcy[holed], hr, np.maximum(pnv[holed] // 3, 16), amp=0.2, jitter=jit, harmonics=(2, 3, 5))
    return assemble(shells, holes, holed, owner if m else None)


def _nested(rng: np.random.Generator, region: shapely.Geometry, n: int, ratios: Sequence[float], r_median: float, v_median: float) -> list[np.ndarray]:
    """Concentric zones (inner disc, then rings) sharing their ring geometry exactly."""
    cx, cy = random_inside(rng, region, n)
    radius = rng.lognormal(np.log(r_median), 0.5, n)
    nv = _vertex_counts(rng, n, v_median, 100, 3000)
    # Each ring is a mild (amp 0.2) noisy circle; radius ratios >= 2 keep them nested.
    rings = [noisy_rings(rng, cx, cy, radius * q, nv, amp=0.2, jitter=0.01, harmonics=(2, 3, 5, 8)) for q in ratios]
    zones = [shapely.polygons(rings[0])]
    for inner, outer in zip(rings[:-1], rings[1:], strict=True):
        zones.append(assemble(outer, inner, np.arange(n)))
    return zones


# --------------------------------------------------------------------------- layers


def _boundary(rng: np.random.Generator) -> shapely.Geometry:
    main = noisy_rings(
        rng, np.array([CENTRE[0]]), np.array([CENTRE[1]]), np.array([1.0]), np.array([12_000]),
        amp=0.12, harmonics=(2, 3, 5, 7, 11, 17, 29, 47, 83, 131, 211), jitter=0.001, stretch=SEMI_AXES,
    )[0]  # fmt: skip
    # Coastal islands south of the main body (union_all merges any that touch).
    k = 40
    ang = rng.uniform(1.15 * np.pi, 1.85 * np.pi, k)
    dist = rng.uniform(1.16, 1.3, k)
    ix = CENTRE[0] + SEMI_AXES[0] * dist * np.cos(ang)
    iy = CENTRE[1] + SEMI_AXES[1] * dist * np.sin(ang)
    islands = shapely.polygons(noisy_rings(rng, ix, iy, rng.lognormal(np.log(3000), 0.6, k), _vertex_counts(rng, k, 300, 80, 1500)))
    shell = shapely.segmentize(shapely.Polygon(main), 250.0)
    return shapely.make_valid(shapely.union_all(np.concatenate([[shell], islands])))


def _control_units(rng: np.random.Generator, boundary: shapely.Geometry, n: int, spacing: float) -> gpd.GeoDataFrame:
    sx, sy = random_inside(rng, boundary, n)
    env = shapely.buffer(shapely.envelope(boundary), 20_000.0)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(np.column_stack([sx, sy])), extend_to=env, ordered=True))
    # Densify then warp with one shared field: edges become organic, neighbours still share them.
    cells = displace(shapely.segmentize(cells, spacing), rng)
    shapely.prepare(boundary)
    cells = shapely.intersection(cells, boundary)
    cells = _polygonal(cells)
    keep = ~shapely.is_empty(cells) & (shapely.area(cells) > 1.0)
    cells = cells[keep]
    k = len(cells)
    cat = rng.choice(np.array(["1", "2", "3"]), k, p=[0.4, 0.35, 0.25])
    cat_zh = pd.Series(cat).map({"1": "优先保护单元", "2": "重点管控单元", "3": "一般管控单元"}).to_numpy()
    idx = np.arange(k)
    codes = np.char.add(np.char.add(np.char.add("ZH44", np.char.zfill((idx // 10).astype(str), 4)), cat.astype(str)), np.char.zfill(idx.astype(str), 4))
    nban = rng.integers(0, 4, k)
    bans = [";".join(rng.choice(BANNABLE, b, replace=False)) if b else "" for b in nban]  # one short string per unit
    return gpd.GeoDataFrame(
        {
            "HJZHGKDYBM": codes,
            "HJZHGKDYMC": np.char.add("合成管控单元", np.char.zfill(idx.astype(str), 5)),
            "ZHGKDYFL": cat_zh,
            "JZHY": bans,
            "KJBJYS": np.where(cat == "1", "禁止新建工业项目。", "引导产业集中布局。"),
            "PWWPFGK": "达标排放。",
            "HJFXFK": "加强风险防控。",
            "ZYKFXLYQ": "节约用水。",
        },
        geometry=cells,
        crs=CRS,
    )


def build_zoning(
    seed: int,
    *,
    units: int,
    redlines: int,
    protected: int,
    water: int,
    farmland: int,
    urban: int,
    corridors: int,
    unit_spacing: float = 100.0,
) -> dict[str, gpd.GeoDataFrame]:
    """Build the zoning layers (EPSG:4547) as a planner's files would hold them.

    Parameters
    ----------
    seed : int
        Seed of the whole build.
    units, redlines, protected, water, farmland, urban, corridors : int
        Feature counts per layer (water: zones, three per source).
    unit_spacing : float
        Vertex spacing (m) along control-unit edges.

    Returns
    -------
    dict
        Standard layer name -> GeoDataFrame.
    """
    ss = np.random.SeedSequence(seed).spawn(10)
    g = [np.random.default_rng(s) for s in ss]
    boundary = _boundary(g[0])
    layers: dict[str, gpd.GeoDataFrame] = {
        "boundary": gpd.GeoDataFrame({"XZQMC": ["合成省"], "XZQDM": ["440000"]}, geometry=[boundary], crs=CRS)
    }
    rl = _blobs(g[1], boundary, redlines, r_median=550.0, r_sigma=0.6, v_median=450, v_lo=100, v_hi=4000, hole_frac=0.12, multi_frac=0.2)
    ids = np.arange(redlines)
    layers["redline"] = gpd.GeoDataFrame(
        {
            "BSM": np.char.add("HX", np.char.zfill(ids.astype(str), 7)),
            "HXMC": np.char.add("合成红线", np.char.zfill(ids.astype(str), 7)),
            "HXLX": np.where(g[1].random(redlines) < 0.05, "海洋", "陆域"),
        },
        geometry=rl,
        crs=CRS,
    )
    # Protected areas: every area has a general zone; ~40 % also a core zone carved out of it.
    n_core = int(round(protected * 0.4 / 1.4))
    n_area = protected - n_core
    rng = g[2]
    shells = _blobs(rng, boundary, n_area, r_median=900.0, r_sigma=0.7, v_median=600, v_lo=150, v_hi=4000, multi_frac=0.1)
    core_of = np.sort(rng.choice(n_area, n_core, replace=False))
    inner = shapely.point_on_surface(shells[core_of])
    cx, cy = shapely.get_x(inner), shapely.get_y(inner)
    # The core is a small disc around the centroid, clipped to the area, then removed from the general zone.
    core = shapely.intersection(shapely.buffer(shapely.points(cx, cy), 0.25 * np.sqrt(shapely.area(shells[core_of]) / np.pi), quad_segs=32), shells[core_of])
    core = _polygonal(core)
    general = shells.copy()
    general[core_of] = shapely.difference(shells[core_of], core)
    aid = np.concatenate([np.arange(n_area), core_of])
    zone = np.concatenate([np.full(n_area, "一般控制区"), np.full(n_core, "核心保护区")])
    geoms = np.concatenate([general, core])
    order = np.lexsort((zone == "一般控制区", aid))
    ptype = rng.choice(PA_TYPES, n_area)
    layers["protected_area"] = gpd.GeoDataFrame(
        {
            "BSM": np.char.add(np.char.add("PA", np.char.zfill(aid[order].astype(str), 6)), np.where(zone[order] == "核心保护区", "-C", "-G")),
            "BHDMC": np.char.add(np.char.add("合成", np.char.zfill(aid[order].astype(str), 5)), ptype[aid[order]]),
            "BHDLX": ptype[aid[order]],
            "GNFQ": zone[order],
        },
        geometry=geoms[order],
        crs=CRS,
    )
    n_src = max(water // 3, 1)
    zones = _nested(g[3], boundary, n_src, (1.0, 3.0, 6.0), r_median=400.0, v_median=300)
    lv = ["一级保护区", "二级保护区", "准保护区"]
    sid = np.tile(np.arange(n_src), 3)
    wg = np.concatenate(zones)
    wl = np.repeat(lv, n_src)
    order = np.argsort(sid, kind="stable")
    layers["water_source"] = gpd.GeoDataFrame(
        {"MC": np.char.add(np.char.add("合成水源", np.char.zfill(sid[order].astype(str), 5)), wl[order]), "JB": wl[order]},
        geometry=wg[order],
        crs=CRS,
    )
    layers["control_unit"] = _control_units(g[4], boundary, units, unit_spacing)
    fl = _blobs(g[5], boundary, farmland, r_median=350.0, r_sigma=0.6, v_median=60, v_lo=12, v_hi=400, hole_frac=0.05, multi_frac=0.1, harmonics=(2, 3, 5))
    layers["farmland"] = gpd.GeoDataFrame({"BSM": np.char.add("JBNT", np.char.zfill(np.arange(farmland).astype(str), 7))}, geometry=fl, crs=CRS)
    ub = _blobs(g[6], boundary, urban, r_median=4000.0, r_sigma=0.5, v_median=800, v_lo=200, v_hi=3000)
    layers["urban_boundary"] = gpd.GeoDataFrame({"BSM": np.char.add("KFBJ", np.char.zfill(np.arange(urban).astype(str), 5))}, geometry=ub, crs=CRS)
    rng = g[7]
    is_river = rng.random(corridors) < 0.5
    x0, y0 = random_inside(rng, boundary, corridors)
    nv = np.where(is_river, _vertex_counts(rng, corridors, 300, 50, 1500), _vertex_counts(rng, corridors, 150, 20, 1000))
    # Rivers meander, roads run straighter.
    lines = np.empty(corridors, dtype=object)
    lines[is_river] = wander_lines(rng, x0[is_river], y0[is_river], nv[is_river], 200.0, 0.12)
    lines[~is_river] = wander_lines(rng, x0[~is_river], y0[~is_river], nv[~is_river], 300.0, 0.03)
    road_class = np.where(is_river, None, rng.choice(np.array(["高速公路", "国道", "省道", "县道"]), corridors))
    cid = np.arange(corridors).astype(str)
    layers["corridor"] = gpd.GeoDataFrame(
        {
            "MC": np.char.add(np.where(is_river, "合成河", "合成路"), np.char.zfill(cid, 5)),
            "LX": np.where(is_river, "河流", "道路"),
            "DLDJ": road_class,
        },
        geometry=lines,
        crs=CRS,
    )
    return layers


def build_sites(seed: int, boundary: shapely.Geometry, *, points: int, polygons: int, lines: int) -> dict[str, gpd.GeoDataFrame]:
    """Project sites inside the province: half clustered around 40 towns, half uniform.

    Parameters
    ----------
    seed : int
        Seed (sites use their own children of it).
    boundary : Geometry
        Province boundary.
    points, polygons, lines : int
        Numbers of each kind.

    Returns
    -------
    dict
        ``points``/``polygons``/``lines`` -> GeoDataFrame (``site_id``, ``name``, ``project_type``).
    """
    ss = np.random.SeedSequence([seed, 7]).spawn(4)
    g = [np.random.default_rng(s) for s in ss]
    towns_x, towns_y = random_inside(g[3], boundary, 40)
    shapely.prepare(boundary)

    def centres(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        ux, uy = random_inside(rng, boundary, n - n // 2)
        t = rng.integers(0, 40, n // 2)
        cx = towns_x[t] + rng.normal(0, 12_000, n // 2)
        cy = towns_y[t] + rng.normal(0, 12_000, n // 2)
        inside = shapely.contains_xy(boundary, cx, cy)
        fx, fy = random_inside(rng, boundary, int((~inside).sum()))
        cx[~inside], cy[~inside] = fx, fy
        return np.concatenate([ux, cx]), np.concatenate([uy, cy])

    out: dict[str, gpd.GeoDataFrame] = {}

    def frame(prefix: str, rng: np.random.Generator, geoms: np.ndarray) -> gpd.GeoDataFrame:
        n = len(geoms)
        ids = np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), 7))
        return gpd.GeoDataFrame(
            {"site_id": ids, "name": np.char.add("合成项目", ids), "project_type": rng.choice(PROJECT_TYPES, n)}, geometry=geoms, crs=CRS
        )

    x, y = centres(g[0], points) if points else (np.zeros(0), np.zeros(0))
    out["points"] = frame("P", g[0], shapely.points(x, y))
    x, y = centres(g[1], polygons) if polygons else (np.zeros(0), np.zeros(0))
    rings = noisy_rings(g[1], x, y, np.clip(g[1].lognormal(np.log(120), 0.7, polygons), 15, 3000), g[1].integers(8, 65, polygons), amp=0.35, harmonics=(2, 3, 5), jitter=0.02) if polygons else np.zeros(0, dtype=object)
    out["polygons"] = frame("A", g[1], shapely.polygons(rings) if polygons else rings)
    x, y = centres(g[2], lines) if lines else (np.zeros(0), np.zeros(0))
    geoms = wander_lines(g[2], x, y, g[2].integers(2, 41, lines), g[2].uniform(100, 800, lines), 0.3) if lines else np.zeros(0, dtype=object)
    out["lines"] = frame("L", g[2], geoms)
    return out


# --------------------------------------------------------------------------- writing


def _replace(path: Path, write: Any) -> None:
    """Write via a temporary sibling and rename (never leaves half a file)."""
    tmp = path.with_name(f".{path.stem}.part{path.suffix}")
    if tmp.exists():
        tmp.unlink()
    write(tmp)
    os.replace(tmp, path)


def make_province(
    out: str | os.PathLike[str],
    *,
    units: int = 2000,
    redlines: int = 20000,
    protected: int = 5000,
    water: int = 1500,
    farmland: int = 30000,
    urban: int = 200,
    corridors: int = 2000,
    points: int = 1_000_000,
    polygons: int = 100_000,
    lines: int = 10_000,
    seed: int = 1,
    sites_format: str = "parquet",
    unit_spacing: float = 100.0,
    quiet: bool = False,
) -> dict[str, Any]:
    """Write a synthetic province zoning GeoPackage and site files into ``out``.

    Parameters
    ----------
    out : path-like
        Output directory (created).
    units, redlines, protected, water, farmland, urban, corridors : int
        Zoning feature counts.
    points, polygons, lines : int
        Site counts.
    seed : int
        Seed.
    sites_format : {'parquet', 'gpkg'}
        Site file format.
    unit_spacing : float
        Vertex spacing along control-unit edges (m).
    quiet : bool
        No progress messages.

    Returns
    -------
    dict
        The ``province.json`` summary (paths, counts, vertices, timings).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    layers = build_zoning(
        seed, units=units, redlines=redlines, protected=protected, water=water, farmland=farmland, urban=urban, corridors=corridors, unit_spacing=unit_spacing
    )
    t_zoning = time.perf_counter() - t0
    say(f"zoning built in {t_zoning:.1f} s")
    zpath = out / "province_zoning.gpkg"

    def write_gpkg(tmp: Path) -> None:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG")

    _replace(zpath, write_gpkg)
    summary: dict[str, Any] = {
        "seed": seed,
        "crs": CRS,
        "zoning": str(zpath),
        "layers": {
            name: {"features": len(gdf), "vertices": int(shapely.get_num_coordinates(gdf.geometry.values).sum()), "valid": bool(shapely.is_valid(gdf.geometry.values).all())}
            for name, gdf in layers.items()
        },
    }
    t1 = time.perf_counter()
    sites = build_sites(seed, layers["boundary"].geometry.iloc[0], points=points, polygons=polygons, lines=lines)
    say(f"sites built in {time.perf_counter() - t1:.1f} s")
    summary["sites"] = {}
    for kind, gdf in sites.items():
        path = out / f"sites_{kind}.{'gpkg' if sites_format == 'gpkg' else 'parquet'}"
        if sites_format == "gpkg":
            _replace(path, lambda tmp, gdf=gdf: pyogrio.write_dataframe(gdf, tmp, layer="sites", driver="GPKG"))
        else:
            _replace(path, lambda tmp, gdf=gdf: gdf.to_parquet(tmp, row_group_size=100_000))
        summary["sites"][kind] = {"path": str(path), "features": len(gdf)}
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    (out / "province.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    say(f"written to {out} in {summary['seconds']} s")
    return summary


def fraction_zoning(src: str | os.PathLike[str], dst: str | os.PathLike[str], fraction: float) -> dict[str, Any]:
    """Write a central window of a generated zoning GeoPackage holding ``fraction`` of the province's area.

    The window is a rectangle with the province's aspect ratio around its
    centre, grown until the clipped boundary holds ``fraction`` of the
    province's planar area; every other layer keeps its features that meet the
    window, whole (same shapes and density as the full province).  Benchmarks
    use it for a baseline that would take too long on the whole province.

    Parameters
    ----------
    src : path-like
        ``province_zoning.gpkg`` written by :func:`make_province`.
    dst : path-like
        Output GeoPackage (replaced).
    fraction : float
        Share of the province's area, in (0, 1].

    Returns
    -------
    dict
        ``fraction`` reached, ``window`` bounds and features kept per layer.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    src, dst = Path(src), Path(dst)
    boundary = pyogrio.read_dataframe(src, layer="boundary")
    whole = shapely.union_all(boundary.geometry.values)
    xmin, ymin, xmax, ymax = whole.bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    lo, hi = 0.0, 1.0
    for _ in range(40):  # bisection on the window's scale: area grows monotonically with it
        mid = (lo + hi) / 2
        win = shapely.box(cx - mid * (xmax - xmin) / 2, cy - mid * (ymax - ymin) / 2, cx + mid * (xmax - xmin) / 2, cy + mid * (ymax - ymin) / 2)
        if shapely.area(shapely.intersection(whole, win)) < fraction * whole.area:
            lo = mid
        else:
            hi = mid
    win = shapely.box(cx - hi * (xmax - xmin) / 2, cy - hi * (ymax - ymin) / 2, cx + hi * (xmax - xmin) / 2, cy + hi * (ymax - ymin) / 2)
    kept: dict[str, int] = {}

    def write(tmp: Path) -> None:
        for name in pyogrio.list_layers(src)[:, 0]:
            gdf = pyogrio.read_dataframe(src, layer=name)
            if name == "boundary":
                gdf = gdf.set_geometry(shapely.intersection(gdf.geometry.values, win))
            else:
                gdf = gdf[shapely.intersects(gdf.geometry.values, win)]
            kept[str(name)] = len(gdf)
            pyogrio.write_dataframe(gdf, tmp, layer=str(name), driver="GPKG")

    _replace(dst, write)
    return {"fraction": float(shapely.area(shapely.intersection(whole, win)) / whole.area), "window": list(win.bounds), "features": kept}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--units", type=int, default=2000, help="control units")
    p.add_argument("--redlines", type=int, default=20000, help="red-line features")
    p.add_argument("--protected", type=int, default=5000, help="protected-area zones (core + general)")
    p.add_argument("--water", type=int, default=1500, help="water-source zones (three per source)")
    p.add_argument("--farmland", type=int, default=30000)
    p.add_argument("--urban", type=int, default=200)
    p.add_argument("--corridors", type=int, default=2000)
    p.add_argument("--points", type=int, default=1_000_000)
    p.add_argument("--polygons", type=int, default=100_000)
    p.add_argument("--lines", type=int, default=10_000)
    p.add_argument("--unit-spacing", type=float, default=100.0, help="vertex spacing along control-unit edges (m)")
    p.add_argument("--sites-format", choices=["parquet", "gpkg"], default="parquet")
    a = p.parse_args(argv)
    summary = make_province(
        a.out, units=a.units, redlines=a.redlines, protected=a.protected, water=a.water, farmland=a.farmland, urban=a.urban,
        corridors=a.corridors, points=a.points, polygons=a.polygons, lines=a.lines, seed=a.seed, sites_format=a.sites_format,
        unit_spacing=a.unit_spacing,
    )  # fmt: skip
    print(json.dumps(summary["layers"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
