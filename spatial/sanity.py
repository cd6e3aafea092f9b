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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.base import format_rows
from spatial.crs import WGS84, gk_alternatives, to_crs_geoms
from spatial.errors import CRSError, CRSWarning, DataWarning
from spatial.xyorder import ZoningExtent, gk_zone_hint

__all__ = ["check_sites_against_zoning", "check_boundary_plausible", "check_layer_extent", "gk_alternatives", "EXTENT_MARGIN_M", "check_declared_geographic", "empty_layer_warnings", "check_stray_vertices"]

#: Rough bounding box of China (lon, lat) for plausibility checks.
CHINA_LONLAT = (72.0, 0.8, 137.9, 55.9)

#: Sites farther than this from the zoning's bounding box are "outside the extent".
EXTENT_MARGIN_M = 50_000.0


def _reps(geoms: np.ndarray) -> np.ndarray:
    """Return a representative point per geometry, to place it."""
    return shapely.point_on_surface(geoms)


def check_sites_against_zoning(raw: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, zoning: ZoningExtent, *, source: str = "") -> None:
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


def _raise_if_swapped(x: np.ndarray, y: np.ndarray, ids: np.ndarray, crs: CRS, zoning: ZoningExtent, label: str) -> None:
    boundary = shapely.union_all(zoning.boundary.geometry.values)
    _raise_if_inside("经纬度/XY 颠倒（交换两列）", "axes swapped", crs, y, x, ids, zoning, label, boundary)


def _raise_if_inside(
    zh: str, en: str, crs: CRS, x: np.ndarray, y: np.ndarray, ids: np.ndarray, zoning: ZoningExtent, label: str, boundary: shapely.Geometry
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


def _hint_projected(x: np.ndarray, y: np.ndarray, zoning: ZoningExtent) -> tuple[str, str]:
    """Suggest the projected CRS these numbers probably are in (the zone that puts them inside the boundary)."""
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


def check_declared_geographic(
    raw: gpd.GeoDataFrame, label: str, boundary: shapely.Geometry | None = None, wcrs: CRS | None = None
) -> None:
    """Stop when a layer declares lon/lat (e.g. a WGS84 .prj) but holds projected metres.

    Reprojecting such numbers fails deep inside GEOS; this names the layer,
    the likely Gauss-Kruger CRS and the manifest fix instead.

    Parameters
    ----------
    raw : GeoDataFrame
        The layer as read (its declared CRS).
    label : str
        File and layer for messages.
    boundary : shapely.Geometry, optional
        The planning boundary (in ``wcrs``): the CRS that puts the layer on it is named.
    wcrs : pyproj.CRS, optional
        The working CRS.

    Raises
    ------
    CRSError
        With the likely right CRS where one fits.
    """
    if raw.crs is None or not len(raw) or not CRS.from_user_input(raw.crs).is_geographic:
        return
    xy = shapely.get_coordinates(np.asarray(raw.geometry.values, dtype=object))
    if not len(xy) or ((np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)).all():
        return
    x, y = xy[:, 0], xy[:, 1]
    hint_zh, hint_en = "请确认坐标系", "check the CRS"
    lo_x, lo_y, hi_x, hi_y = CHINA_LONLAT
    near = shapely.buffer(shapely.envelope(boundary), EXTENT_MARGIN_M) if boundary is not None and wcrs is not None else None
    tries = ([(f"EPSG:{wcrs.to_epsg()}", wcrs, x, y)] if near is not None and wcrs.to_epsg() else []) + gk_alternatives(x, y, CRS.from_epsg(4547))
    for lab, c, ax, ay in tries:
        if near is not None:
            if shapely.intersects(near, to_crs_geoms(shapely.points(ax[:1000], ay[:1000]), c, wcrs)).mean() >= 0.5:
                code = lab.split("（")[0]
                hint_zh, hint_en = f"看起来应为 {lab}", f"it looks like {code}"
                break
            continue
        pts = to_crs_geoms(shapely.points(ax[:1000], ay[:1000]), c, WGS84)
        px, py = shapely.get_x(pts), shapely.get_y(pts)
        if np.all(np.isfinite(px) & (px >= lo_x) & (px <= hi_x) & (py >= lo_y) & (py <= hi_y)):
            code = lab.split("（")[0]
            hint_zh, hint_en = f"看起来应为 {lab}", f"it looks like {code}"
            break
    else:
        code = "EPSG:45xx"
    raise CRSError(
        f"{label}：坐标系声明为经纬度（{raw.crs.name}），但坐标数值是以米为单位的投影坐标（如 {x[0]:.1f}, {y[0]:.1f}）；{hint_zh}。"
        f"请修正 .prj，或在清单中为该图层写 crs: {code} 并加 force_crs: true。",
        f"{label}: declares lon/lat ({raw.crs.name}) but holds projected metres (e.g. {x[0]:.1f}, {y[0]:.1f}); {hint_en}. "
        f"Fix the .prj, or set `crs: {code}` with `force_crs: true` for this layer in the manifest",
    )


def empty_layer_warnings(zoning: ZoningExtent, layers: list[str]) -> list[str]:
    """Warn about standard layers the rules use that are present but hold no feature.

    Every site would be told 不涉及 such a layer, which means nothing: say so
    in the run (a warning) and return the sentences for the report.

    Parameters
    ----------
    zoning : Zoning
        The loaded package.
    layers : list of str
        Layers the rules use.

    Returns
    -------
    list of str
        One bilingual sentence per empty layer.
    """
    from layers import REGISTRY

    notes = []
    for name in dict.fromkeys(layers):
        if name in REGISTRY and name in zoning.layers and not len(zoning.layers[name]):
            zh = REGISTRY[name].label_zh
            short = "红线" if name == "redline" else zh
            notes.append(
                f"{zh}图层为空：结论“不涉及{short}”不可靠，请核对分区数据是否缺少该图层的要素。"
                f" / the {name} layer is empty: 'not involved' for it means nothing"
            )
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=3)
    return notes


#: A vertex farther than this beyond the boundary's bounding box is a stray (a typo), not data.
STRAY_VERTEX_M = EXTENT_MARGIN_M


def check_stray_vertices(layer: gpd.GeoDataFrame, boundary: shapely.Geometry, label: str) -> None:
    """Warn about features with a vertex far beyond the planning boundary (a mistyped coordinate).

    One stray vertex 1 000 km off turns a red-line patch into a long spike
    whose part inside the county inflates every area; ``validate`` reports the
    overhang, but ``screen`` and ``indicators`` must say so too.

    Parameters
    ----------
    layer : GeoDataFrame
        A normalised layer in the working CRS (``feature_id``).
    boundary : shapely.Geometry
        The boundary union in the same CRS.
    label : str
        File and layer for messages.
    """
    if not len(layer) or boundary.is_empty:
        return
    x0, y0, x1, y1 = boundary.bounds
    xy, idx = shapely.get_coordinates(np.asarray(layer.geometry.values, dtype=object), return_index=True)
    dx = np.maximum(np.maximum(x0 - xy[:, 0], xy[:, 0] - x1), 0)
    dy = np.maximum(np.maximum(y0 - xy[:, 1], xy[:, 1] - y1), 0)
    far = np.hypot(dx, dy) > STRAY_VERTEX_M
    if not far.any():
        return
    ids = layer["feature_id"].astype(str).to_numpy()
    dist = pd.Series(np.hypot(dx, dy)[far]).groupby(idx[far]).max()
    listed = [f"{ids[i]}（约 {d / 1000:,.0f} km）" for i, d in dist.items()]
    warnings.warn(
        f"{label}：{len(listed)} 个要素有顶点远在行政区边界之外，疑为输错的坐标：{format_rows(listed, 10)}。"
        "面积和指标可能偏大，请用 ecozone validate 定位并改正。"
        f" / {label}: {len(listed)} features have a vertex far beyond the boundary (a mistyped coordinate?): "
        f"{format_rows(listed, 10)}; areas and indicators may be inflated",
        CRSWarning,
        stacklevel=3,
    )
