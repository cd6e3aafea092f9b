"""Coordinates as surveyors write them: which column is the northing, which Gauss-Kruger zone.

Every Chinese 坐标成果表 writes X = northing, Y = easting (survey order);
GIS software reads X = easting.  ``--xy-order survey|gis`` says which; without
it, a table whose X values look like northings in China is read in survey
order with a warning, and once the zoning is known the reading that puts
the sites inside the boundary wins.  When X/Y numbers come without a CRS, the
hint names the Gauss-Kruger zone (central meridian) that puts them inside
the boundary.
"""

from __future__ import annotations

import warnings
from typing import Protocol

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from spatial.crs import gk_alternatives, to_crs_geoms
from spatial.errors import CRSWarning, InputError
from spatial.site_options import XY_ORDERS


class ZoningExtent(Protocol):
    """What the coordinate checks read from a :class:`spatial.zoning.Zoning` (zoning depends on them, not back)."""

    crs: CRS
    layers: dict[str, gpd.GeoDataFrame]

    @property
    def boundary(self) -> gpd.GeoDataFrame:
        """Planning boundary layer (working CRS)."""
        ...


__all__ = ["ZoningExtent", "XY_ORDERS", "XY_ATTR", "looks_like_survey", "choose_xy_order", "fit_xy_to_boundary", "gk_zone_hint"]

#: ``GeoDataFrame.attrs`` key a table reader sets when it chose the X/Y order itself.
XY_ATTR = "ecozone_xy_auto"

# In China northings run from ~1.9e6 m (18°N) to ~6e6 m (54°N); eastings are
# below ~1e6 m without the zone prefix and 13e6..45e6 with it.  The ranges do
# not overlap, so the order is clear from the numbers alone.
_NORTH = (1.5e6, 6.5e6)
_EAST_PLAIN = (1.0, 1.2e6)
_EAST_PREFIXED = (1.2e7, 4.7e7)


def _between(v: float, lo_hi: tuple[float, float]) -> bool:
    return lo_hi[0] <= v <= lo_hi[1]


def looks_like_survey(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether X holds northings and Y eastings (survey order), judged from the medians.

    Parameters
    ----------
    x, y : ndarray
        The X and Y columns as written.

    Returns
    -------
    bool
        True when X looks like a northing in China and Y like an easting.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if not len(x) or np.isnan(x).all() or np.isnan(y).all():
        return False
    mx, my = float(np.nanmedian(x)), float(np.nanmedian(y))
    east = _between(my, _EAST_PLAIN) or _between(my, _EAST_PREFIXED)
    return _between(mx, _NORTH) and east


def choose_xy_order(x: np.ndarray, y: np.ndarray, order: str | None, label: str, xcol: str = "X", ycol: str = "Y") -> bool:
    """Decide whether to swap X and Y (return True to read X as the northing).

    Parameters
    ----------
    x, y : ndarray
        The columns as written.
    order : {'survey', 'gis'} or None
        ``--xy-order``; None: decide from the numbers and warn when swapping.
    label : str
        File name for messages.
    xcol, ycol : str
        Column names for messages.

    Returns
    -------
    bool
        Whether the columns must be swapped.
    """
    if order is not None and order not in XY_ORDERS:
        raise InputError(f"--xy-order 只能是 survey 或 gis，而不是 {order}。", f"--xy-order must be survey or gis, not {order}")
    if order is not None:
        return order == "survey"
    if not looks_like_survey(x, y):
        return False
    warnings.warn(
        f"{label}：{xcol} 列数值像北坐标、{ycol} 列像东坐标，按测量坐标顺序（X=北，同坐标成果表）读取；"
        "如不对请加 --xy-order gis。"
        f" / {label}: {xcol} looks like northings and {ycol} like eastings: read in survey order (X = north); "
        "pass --xy-order gis if that is wrong",
        CRSWarning,
        stacklevel=3,
    )
    return True


def _share_inside(x: np.ndarray, y: np.ndarray, crs: CRS, zoning: ZoningExtent, boundary: shapely.Geometry) -> float:
    try:
        pts = to_crs_geoms(shapely.points(x, y), crs, zoning.crs)
    except Exception:  # noqa: BLE001 - a reading the CRS cannot even transform fits nothing
        return 0.0
    return float(shapely.intersects(boundary, pts).mean()) if len(pts) else 0.0


def fit_xy_to_boundary(raw: gpd.GeoDataFrame, zoning: ZoningExtent, label: str) -> gpd.GeoDataFrame:
    """Swap an auto-ordered X/Y table when the other reading puts more sites inside the boundary.

    Parameters
    ----------
    raw : GeoDataFrame
        Point sites as read, CRS set; only acted on when the reader chose the
        order itself (``raw.attrs[XY_ATTR]``).
    zoning : ZoningExtent
        The zoning whose boundary decides.
    label : str
        File name for messages.

    Returns
    -------
    GeoDataFrame
        ``raw``, or a copy with X and Y swapped (with a warning).
    """
    auto = raw.attrs.get(XY_ATTR)
    if not auto or raw.crs is None or not len(raw):
        return raw
    g = np.asarray(raw.geometry.values, dtype=object)
    if not (shapely.get_type_id(g) == 0).all():
        return raw
    x, y = shapely.get_x(g), shapely.get_y(g)
    crs = CRS.from_user_input(raw.crs)
    boundary = shapely.union_all(zoning.boundary.geometry.values)
    shapely.prepare(boundary)
    as_read, other = _share_inside(x, y, crs, zoning, boundary), _share_inside(y, x, crs, zoning, boundary)
    if other <= as_read or other < 0.5:
        return raw
    now = "测量顺序（X=北）" if auto.get("swapped") else "GIS 顺序（X=东）"
    then = "GIS 顺序（X=东）" if auto.get("swapped") else "测量顺序（X=北）"
    flag = "gis" if auto.get("swapped") else "survey"
    warnings.warn(
        f"{label}：按{now}读取时 {as_read:.0%} 的地块落在规划范围内，按{then}读取时为 {other:.0%}，已改按{then}读取；"
        f"如需固定请加 --xy-order {flag}。"
        f" / {label}: {other:.0%} of the sites fall inside the boundary with X and Y the other way round "
        f"({as_read:.0%} as first read): read that way; pass --xy-order {flag} to fix it",
        CRSWarning,
        stacklevel=3,
    )
    out = raw.copy()
    out.geometry = gpd.GeoSeries(shapely.points(y, x), index=raw.index, crs=raw.crs)
    out.attrs[XY_ATTR] = {**auto, "swapped": not auto.get("swapped")}
    return out


def _central_meridian(crs: CRS) -> float | None:
    op = crs.coordinate_operation
    for p in op.params if op is not None else []:
        if p.name == "Longitude of natural origin":
            return float(p.value)
    return None


def gk_zone_hint(x: np.ndarray, y: np.ndarray, zoning: ZoningExtent) -> tuple[str, str] | None:
    """Name the Gauss-Kruger CRS (and central meridian) that puts projected numbers inside the boundary.

    Parameters
    ----------
    x, y : ndarray
        Eastings and northings (GIS order), with or without the zone prefix.
    zoning : ZoningExtent
        Zoning whose boundary the sites should fall in.

    Returns
    -------
    (str, str) or None
        Chinese and English hint naming the EPSG code and its central
        meridian, or None when no zone fits.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    boundary = shapely.union_all(zoning.boundary.geometry.values)
    shapely.prepare(boundary)
    best: tuple[float, str, CRS] | None = None
    for lab, c, ax, ay in gk_alternatives(x[ok], y[ok], CRS.from_epsg(4547)):
        share = _share_inside(ax, ay, c, zoning, boundary)
        if share > 0.5 and (best is None or share > best[0]):
            best = (share, lab.split("（")[0], c)
    if best is None:
        return None
    share, code, crs = best
    cm = _central_meridian(crs)
    where = f"中央经线 {cm:g}°E 的" if cm is not None else ""
    where_en = f" (central meridian {cm:g}°E)" if cm is not None else ""
    return (
        f"按{where} {code}（{crs.name}）解读，{share:.0%} 的地块落在规划范围内：请加 --sites-crs {code}。",
        f"read as {code}{where_en}, {share:.0%} of the sites fall inside the boundary: pass --sites-crs {code}.",
    )
