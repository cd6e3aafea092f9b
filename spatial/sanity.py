"""Catch coordinates that are wrong in the usual ways, before they mislead.

A site that lands 3 000 km away because its lat/lon were swapped would be
reported as merely "outside the boundary" — a quiet wrong answer.  These
checks look for the classic mistakes and stop with a message that says what
to fix ("did you mean …?"):

* projected numbers (metres) labelled as geographic degrees;
* latitude/longitude swapped;
* Gauss-Kruger eastings with the zone prefix (38 500 000) under a CRS
  without it, or the reverse.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from layers.base import format_rows
from spatial.crs import WGS84, to_crs_geoms
from spatial.errors import CRSError, CRSWarning

if TYPE_CHECKING:  # zoning imports this module
    from spatial.zoning import Zoning

__all__ = ["check_sites_against_zoning", "check_boundary_plausible", "check_layer_extent", "gk_alternatives", "EXTENT_MARGIN_M"]

#: Rough bounding box of China (lon, lat) for plausibility checks.
CHINA_LONLAT = (72.0, 0.8, 137.9, 55.9)

#: Sites farther than this from the zoning's bounding box are "outside the extent".
EXTENT_MARGIN_M = 50_000.0


def _reps(geoms: np.ndarray) -> np.ndarray:
    """Return a representative point per geometry, to place it."""
    return shapely.point_on_surface(geoms)


def gk_alternatives(x: np.ndarray, y: np.ndarray, crs: CRS) -> list[tuple[str, CRS, np.ndarray, np.ndarray]]:
    """Plausible re-readings of projected coordinates (zone prefix added/removed).

    Parameters
    ----------
    x, y : ndarray
        Eastings and northings as given.
    crs : pyproj.CRS
        The CRS they claim.

    Returns
    -------
    list of (label, CRS, x, y)
        Alternative CRSs to try, with the coordinates to use.
    """
    out: list[tuple[str, CRS, np.ndarray, np.ndarray]] = []
    med = float(np.nanmedian(x)) if len(x) else 0.0
    if med > 1e7:  # zone prefix present: 38 500 000
        zone = int(med // 1e6)
        if 25 <= zone <= 45:
            out.append((f"EPSG:{4513 + zone - 25}", CRS.from_epsg(4513 + zone - 25), x, y))
            out.append((f"EPSG:{4534 + zone - 25}（去掉带号 {zone}）", CRS.from_epsg(4534 + zone - 25), x - zone * 1e6, y))
        if 13 <= zone <= 23:
            out.append((f"EPSG:{4491 + zone - 13}", CRS.from_epsg(4491 + zone - 13), x, y))
    elif 1e5 <= med < 1e6 and 1e6 < float(np.nanmedian(y)) < 1e7:
        for epsg in range(4534, 4555):  # 3-degree zones without prefix
            out.append((f"EPSG:{epsg}", CRS.from_epsg(epsg), x, y))
    return out


def check_sites_against_zoning(raw: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, zoning: Zoning, *, source: str = "") -> None:
    """Stop on coordinates that are implausible for their CRS or the zoning.

    Parameters
    ----------
    raw : GeoDataFrame
        Sites in their own CRS (as read).
    sites : GeoDataFrame
        The same sites reprojected to the zoning CRS, with ``site_id``.
    zoning : Zoning
        Zoning to compare against.
    source : str
        File name for messages.

    Raises
    ------
    CRSError
        Naming the rows, what looks wrong and the fix.
    """
    if not len(raw):
        return
    label = source or "地块/sites"
    crs = CRS.from_user_input(raw.crs)
    g = np.asarray(raw.geometry.values, dtype=object)
    rp = _reps(g)
    x, y = shapely.get_x(rp), shapely.get_y(rp)
    ids = sites["site_id"].to_numpy()
    if crs.is_geographic:
        impossible = (np.abs(x) > 180) | (np.abs(y) > 90)
        swappable = impossible & (np.abs(y) <= 180) & (np.abs(x) <= 90)
        if swappable.any():
            _raise_if_swapped(x[swappable], y[swappable], ids[swappable], crs, zoning, label)
        if impossible.any():
            rows = [f"{ids[i]} ({x[i]:.1f}, {y[i]:.1f})" for i in np.flatnonzero(impossible)]
            hint = _hint_projected(x[impossible], y[impossible], zoning)
            raise CRSError(
                f"{label}：坐标数值是以米为单位的投影坐标，却被当作经纬度（{crs.name}）：{format_rows(rows, 10)}。{hint[0]}",
                f"{label}: projected (metre) coordinates labelled as geographic ({crs.name}): {format_rows(rows, 10)}. {hint[1]}",
            )
    x0, y0, x1, y1 = shapely.total_bounds(zoning.boundary.geometry.values)
    extent = shapely.buffer(shapely.box(x0, y0, x1, y1), EXTENT_MARGIN_M)
    shapely.prepare(extent)
    sg = np.asarray(sites.geometry.values, dtype=object)
    far = ~shapely.intersects(extent, sg)
    if not far.any():
        return
    boundary = shapely.union_all(zoning.boundary.geometry.values)
    shapely.prepare(boundary)
    fx, fy = x[far], y[far]
    far_ids = ids[far]
    # Alternative readings: swapped axes, zone prefix added/removed.
    candidates: list[tuple[str, str, CRS, np.ndarray, np.ndarray]] = [("经纬度/XY 颠倒（交换两列）", "axes swapped", crs, fy, fx)]
    if not crs.is_geographic:
        candidates += [(f"坐标系应为 {lab}", f"CRS should be {lab}", c, ax, ay) for lab, c, ax, ay in gk_alternatives(fx, fy, crs)]
    for zh, en, c, ax, ay in candidates:
        _raise_if_inside(zh, en, c, ax, ay, far_ids, zoning, label, boundary)
    if far.all():
        warnings.warn(
            f"{label}：全部 {len(far)} 个地块都远离分区数据范围（>{EXTENT_MARGIN_M / 1000:.0f} km）。请确认 --zoning 与地块坐标系是否正确。"
            f" / all sites lie far outside the zoning's extent: check --zoning and the sites' CRS",
            CRSWarning,
            stacklevel=3,
        )


def _raise_if_swapped(x: np.ndarray, y: np.ndarray, ids: np.ndarray, crs: CRS, zoning: Zoning, label: str) -> None:
    boundary = shapely.union_all(zoning.boundary.geometry.values)
    _raise_if_inside("经纬度/XY 颠倒（交换两列）", "axes swapped", crs, y, x, ids, zoning, label, boundary)


def _raise_if_inside(
    zh: str, en: str, crs: CRS, x: np.ndarray, y: np.ndarray, ids: np.ndarray, zoning: Zoning, label: str, boundary: shapely.Geometry
) -> None:
    """Raise 'did you mean' when most sites fall inside the boundary read another way."""
    pts = to_crs_geoms(shapely.points(x, y), crs, zoning.crs)
    ok = shapely.intersects(boundary, pts)
    if not len(ok) or ok.mean() < 0.5:
        return
    rows = [str(i) for i in ids[ok]]
    swap = "颠倒" in zh
    fix = "请交换经纬度（X/Y）两列后重试" if swap else f"请用 --sites-crs EPSG:{crs.to_epsg()} 或在数据中修正坐标系"
    fix_en = "swap the two coordinate columns" if swap else f"pass --sites-crs EPSG:{crs.to_epsg()} or fix the file's CRS"
    raise CRSError(
        f"{label}：{len(ids)} 个地块的坐标不在分区数据范围内；看起来是{zh}（按此解读落在规划范围内）：{format_rows(rows, 10)}。{fix}。",
        f"{label}: {len(ids)} sites do not fit the zoning; did you mean {en}? "
        f"(read that way they fall inside the boundary): {format_rows(rows, 10)}. Fix: {fix_en}",
    )


def _hint_projected(x: np.ndarray, y: np.ndarray, zoning: Zoning) -> tuple[str, str]:
    """Suggest the projected CRS these numbers probably are in (the zone that puts them inside the boundary)."""
    from spatial.xyorder import gk_zone_hint  # it asks this module for the candidate zones

    hint = gk_zone_hint(x, y, zoning)
    if hint is not None:
        return hint
    return (
        "请用 --sites-crs 指定正确的投影坐标系（如 EPSG:4547 为 CGCS2000 3度带 114°E 不带带号）。",
        "pass --sites-crs with the right projected CRS (e.g. EPSG:4547).",
    )


def _in_china(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    try:
        pts = to_crs_geoms(shapely.point_on_surface(geoms), crs, WGS84)
    except Exception:  # noqa: BLE001 - an impossible transform is itself the finding
        return np.zeros(len(geoms), dtype=bool)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    lo_x, lo_y, hi_x, hi_y = CHINA_LONLAT
    return np.isfinite(x) & np.isfinite(y) & (x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y)


def check_boundary_plausible(boundary: gpd.GeoDataFrame, label: str) -> None:
    """Stop when the planning boundary does not land in China in its declared CRS.

    Parameters
    ----------
    boundary : GeoDataFrame
        Boundary layer as read (its own CRS).
    label : str
        File name for messages.

    Raises
    ------
    CRSError
        With the likely right CRS where one fits.
    """
    g = np.asarray(boundary.geometry.values, dtype=object)
    g = g[~shapely.is_empty(g) & ~shapely.is_missing(g)]
    if not len(g):
        return
    crs = CRS.from_user_input(boundary.crs)
    if _in_china(g, crs).mean() >= 0.5:
        return
    pts = shapely.point_on_surface(g)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    tries: list[tuple[str, CRS, np.ndarray, np.ndarray]] = []
    if crs.is_geographic:
        tries.append(("经纬度颠倒 / axes swapped", crs, y, x))
    tries += gk_alternatives(x, y, crs) if not crs.is_geographic or np.nanmax(np.abs(x)) > 180 else []
    if crs.is_geographic and np.nanmax(np.abs(x)) > 180:
        tries += gk_alternatives(x, y, CRS.from_epsg(4547))
    for lab, c, ax, ay in tries:
        if _in_china(shapely.points(ax, ay), c).mean() >= 0.5:
            raise CRSError(
                f"{label}：按声明的坐标系 {crs.name}，边界不在中国境内；看起来应为 {lab}。"
                "请修正 .prj，或在清单中为该图层写 crs: … 并加 force_crs: true。",
                f"{label}: in its declared CRS ({crs.name}) the boundary is not in China; did you mean {lab}? "
                "Fix the .prj, or set `crs:` with `force_crs: true` in the manifest",
            )
    raise CRSError(
        f"{label}：按声明的坐标系 {crs.name}，边界不在中国境内。请检查坐标系（.prj）是否正确。",
        f"{label}: in its declared CRS ({crs.name}) the boundary is not in China; check its CRS",
    )


def check_layer_extent(raw: gpd.GeoDataFrame, working: np.ndarray, boundary: shapely.Geometry, wcrs: CRS, label: str) -> None:
    """Stop when a zoning layer lies wholly away from the boundary (wrong CRS).

    Parameters
    ----------
    raw : GeoDataFrame
        The layer as read (its own CRS).
    working : ndarray
        Its geometries reprojected to the working CRS.
    boundary : shapely.Geometry
        Union of the boundary in the working CRS.
    wcrs : pyproj.CRS
        Working CRS.
    label : str
        File and layer for messages.

    Raises
    ------
    CRSError
        With the likely right CRS where one fits.
    """
    if not len(working):
        return
    extent = shapely.buffer(shapely.envelope(boundary), EXTENT_MARGIN_M)
    if shapely.intersects(extent, working).any():
        return
    crs = CRS.from_user_input(raw.crs)
    pts = shapely.point_on_surface(np.asarray(raw.geometry.values, dtype=object))
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    tries = [("经纬度颠倒 / axes swapped", crs, y, x)] if crs.is_geographic else gk_alternatives(x, y, crs)
    for lab, c, ax, ay in tries:
        moved = to_crs_geoms(shapely.points(ax, ay), c, wcrs)
        if shapely.intersects(boundary, moved).mean() >= 0.5:
            raise CRSError(
                f"{label}：全部要素都远离行政区边界；看起来坐标系应为 {lab}（声明的是 {crs.name}）。"
                "请修正 .prj，或在清单中为该图层写 crs: … 并加 force_crs: true。",
                f"{label}: every feature lies far from the boundary; did you mean {lab} (declared {crs.name})? "
                "Fix the .prj, or set `crs:` with `force_crs: true` in the manifest",
            )
    raise CRSError(
        f"{label}：全部要素都远离行政区边界（>{EXTENT_MARGIN_M / 1000:.0f} km），坐标系（{crs.name}）可能有误，或不是同一地区的数据。",
        f"{label}: every feature lies more than {EXTENT_MARGIN_M / 1000:.0f} km from the boundary; wrong CRS ({crs.name}) or wrong area?",
    )
