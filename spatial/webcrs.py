"""GCJ-02 (高德/腾讯 "火星坐标") and BD-09 (百度) web-map coordinate offsets.

Chinese web maps do not publish data in WGS84: GCJ-02 adds a deliberately
non-linear offset (a few hundred metres) to WGS84 longitude/latitude, and
BD-09 adds a second, closed-form distortion on top of GCJ-02.  Sites copied
from 高德/腾讯/百度 maps must be converted before they are screened against
zoning data, otherwise every overlap is off by 300-700 m.

All functions here are vectorised over numpy arrays (no per-point Python
loops) and use the standard, widely published formulas (Krasovsky 1940
ellipsoid constants ``a = 6378245``, ``ee = 0.00669342162296594323`` for the
GCJ-02 step; the ``3000 * pi / 180`` constant for the BD-09 step).

Notes
-----
* **Outside mainland China** (outside the usual rough bounding box
  lon 72.004-137.8347, lat 0.8293-55.8271) the GCJ-02 offset is *not*
  applied: the coordinates are returned unchanged by
  :func:`wgs84_to_gcj02` and :func:`gcj02_to_wgs84`.  The box is rough: it
  contains e.g. parts of Mongolia, Korea and South-East Asia, exactly as the
  web-map providers' own clients do.
* The BD-09 step is a pure formula and is applied everywhere.
* :func:`gcj02_to_wgs84` inverts the GCJ-02 offset iteratively (fixed-point
  iteration, millimetre accuracy); :func:`bd09_to_gcj02` is the standard
  closed-form approximate inverse (error of the order of 1e-6 degree).

"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyproj
import shapely

from spatial.errors import CRSError

__all__ = [
    "WEB_CRS",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "wgs84_to_bd09",
    "out_of_china",
    "normalize_web_crs",
    "transform_geometries",
    "to_wgs84_gdf",
    "parse_crs_alias",
]

#: Names of the web-map "coordinate systems" handled by this module.
WEB_CRS: frozenset[str] = frozenset({"gcj02", "bd09"})

# Krasovsky 1940 semi-major axis and first eccentricity squared, as used by
# every published GCJ-02 implementation.
_A = 6378245.0
_EE = 0.00669342162296594323
# BD-09 constant; the literal pi value is the one in the published formula.
_X_PI = 3.14159265358979324 * 3000.0 / 180.0

# Rough mainland-China bounding box used by the web-map providers.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

ArrayLike = Any  # numpy array, sequence or scalar of floats


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast ``lon`` and ``lat`` to float64 arrays of one shape.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        Copies of the inputs as float64 arrays with a common shape.

    """
    x, y = np.broadcast_arrays(
        np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    )
    return x.copy(), y.copy()


def _out(x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """Return plain floats for scalar input, arrays otherwise.

    Parameters
    ----------
    x, y : numpy.ndarray
        Result coordinates.

    Returns
    -------
    tuple
        ``(x, y)`` as floats when 0-dimensional, else as arrays.

    """
    if x.ndim == 0:
        return float(x), float(y)
    return x, y


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Flag points outside the rough mainland-China bounding box.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees.

    Returns
    -------
    numpy.ndarray
        Boolean array, ``True`` where the GCJ-02 offset is not applied.

    """
    x, y = _as_arrays(lon, lat)
    return (
        (x < _CHINA_LON[0])
        | (x > _CHINA_LON[1])
        | (y < _CHINA_LAT[0])
        | (y > _CHINA_LAT[1])
    )


def _gcj_delta(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compute the GCJ-02 offset (degrees) at WGS84 points, zero outside China.

    Parameters
    ----------
    x, y : numpy.ndarray
        WGS84 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        ``(dlon, dlat)`` to add to the WGS84 coordinates.

    """
    pi = np.pi
    u = x - 105.0
    v = y - 35.0
    sq = np.sqrt(np.abs(u))
    common = (20.0 * np.sin(6.0 * u * pi) + 20.0 * np.sin(2.0 * u * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * sq
    dlat += common
    dlat += (20.0 * np.sin(v * pi) + 40.0 * np.sin(v / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(v / 12.0 * pi) + 320.0 * np.sin(v * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * sq
    dlon += common
    dlon += (20.0 * np.sin(u * pi) + 40.0 * np.sin(u / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(u / 12.0 * pi) + 300.0 * np.sin(u / 30.0 * pi)) * 2.0 / 3.0
    radlat = y / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    outside = out_of_china(x, y)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS84 longitude/latitude to GCJ-02 (高德/腾讯).

    Points outside the rough mainland-China box are returned unchanged.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitudes and latitudes in degrees (scalars or arrays).

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02; floats for scalar input, arrays otherwise.

    """
    x, y = _as_arrays(lon, lat)
    dx, dy = _gcj_delta(x, y)
    return _out(x + dx, y + dy)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, tol: float = 1e-7, max_iter: int = 30
) -> tuple[Any, Any]:
    """Convert GCJ-02 longitude/latitude back to WGS84 (iterative inverse).

    Fixed-point iteration on the forward transform ``f``: start with
    ``x = g - (f(g) - g)`` and repeat ``x += g - f(x)`` for all points at
    once until every correction is below ``tol`` degrees (typically 2-4
    iterations; the result is accurate to well under 1 cm).  Points outside
    the mainland-China box are returned unchanged.  If ``max_iter`` is
    reached the last iterate is returned.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitudes and latitudes in degrees.
    tol : float, default 1e-7
        Convergence threshold on the per-iteration correction, in degrees.
    max_iter : int, default 30
        Maximum number of refinement iterations.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84; floats for scalar input, arrays otherwise.

    """
    gx, gy = _as_arrays(lon, lat)
    dx, dy = _gcj_delta(gx, gy)
    x, y = gx - dx, gy - dy
    for _ in range(max_iter):
        fdx, fdy = _gcj_delta(x, y)
        cx = gx - (x + fdx)
        cy = gy - (y + fdy)
        x += cx
        y += cy
        # NaN coordinates never converge; "not >= tol" treats them as done.
        if not np.any((np.abs(cx) >= tol) | (np.abs(cy) >= tol)):
            break
    return _out(x, y)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 longitude/latitude to BD-09 (百度).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09; floats for scalar input, arrays otherwise.

    """
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 longitude/latitude to GCJ-02 (standard closed form).

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02; floats for scalar input, arrays otherwise.

    """
    bx, by = _as_arrays(lon, lat)
    x = bx - 0.0065
    y = by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta), z * np.sin(theta))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 longitude/latitude to WGS84.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84; floats for scalar input, arrays otherwise.

    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS84 longitude/latitude to BD-09.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitudes and latitudes in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09; floats for scalar input, arrays otherwise.

    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


# --------------------------------------------------------------------------
# names and aliases

_WEB_ALIASES: dict[str, str] = {
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "高德": "gcj02",
    "高德地图": "gcj02",
    "腾讯": "gcj02",
    "腾讯地图": "gcj02",
    "火星": "gcj02",
    "火星坐标": "gcj02",
    "火星坐标系": "gcj02",
    "国测局": "gcj02",
    "国测局坐标": "gcj02",
    "amap": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "bd": "bd09",
    "百度": "bd09",
    "百度地图": "bd09",
    "百度坐标": "bd09",
    "baidu": "bd09",
    "wgs84": "wgs84",
    "wgs": "wgs84",
    "epsg4326": "wgs84",
    "gps": "wgs84",
}

_GEOGRAPHIC_ALIASES: dict[str, int] = {
    "wgs84": 4326,
    "wgs": 4326,
    "gps": 4326,
    "cgcs2000": 4490,
    "cgcs": 4490,
    "国家2000": 4490,
    "2000国家大地坐标系": 4490,
    "2000坐标系": 4490,
    "xian80": 4610,
    "xian1980": 4610,
    "西安80": 4610,
    "1980西安坐标系": 4610,
    "beijing54": 4214,
    "beijing1954": 4214,
    "北京54": 4214,
    "1954北京坐标系": 4214,
}

_ACCEPTED_ZH = (
    "可用写法：'EPSG:4547' 或 '4547'、'cgcs2000'/'国家2000'（EPSG:4490）、"
    "'wgs84'（EPSG:4326）、'西安80'、'北京54'、'cgcs2000-gk114'（CGCS2000 3 "
    "度带中央经线 114°E，无带号）、'gcj02'/'GCJ-02'/'高德'/'腾讯'/'火星坐标'、"
    "'bd09'/'BD-09'/'百度'，或 pyproj 能识别的 WKT/PROJ 字符串。"
)
_ACCEPTED_EN = (
    "Accepted: 'EPSG:4547' or '4547', 'cgcs2000' (EPSG:4490), 'wgs84' (EPSG:4326), "
    "'xian80', 'beijing54', 'cgcs2000-gk114' (CGCS2000 3-degree Gauss-Kruger, CM "
    "114E, no zone prefix), 'gcj02'/'GCJ-02'/'高德'/'火星坐标', "
    "'bd09'/'BD-09'/'百度', or any WKT/PROJ string pyproj understands."
)


def _key(text: str) -> str:
    """Normalise an alias: lower case, no spaces, hyphens, underscores or colons.

    Parameters
    ----------
    text : str
        User text.

    Returns
    -------
    str
        The normalised key.

    """
    return re.sub(r"[\s\-_:：/]+", "", text.strip().lower())


def normalize_web_crs(name: str) -> str:
    """Map a web-map CRS name or alias to ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Parameters
    ----------
    name : str
        E.g. ``"GCJ-02"``, ``"高德"``, ``"百度"``, ``"BD-09"``, ``"WGS84"``.

    Returns
    -------
    str
        One of ``"wgs84"``, ``"gcj02"``, ``"bd09"``.

    Raises
    ------
    spatial.errors.CRSError
        If the name is not recognised.

    """
    canon = _WEB_ALIASES.get(_key(str(name)))
    if canon is None:
        raise CRSError(
            f"无法识别的网络地图坐标系“{name}”：可用 'wgs84'、"
            "'gcj02'（高德/腾讯/火星坐标）、'bd09'（百度）。",
            f"Unknown web-map coordinate system {name!r}: use 'wgs84', 'gcj02' "
            "(AMap/Tencent/'Mars') or 'bd09' (Baidu).",
        )
    return canon


_STEPS: dict[tuple[str, str], Callable[[ArrayLike, ArrayLike], tuple[Any, Any]]] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def _xy_func(src: str, dst: str) -> Callable[[np.ndarray], np.ndarray]:
    """Build a ``shapely.transform`` callback converting ``src`` to ``dst``.

    Parameters
    ----------
    src, dst : str
        Canonical names (``"wgs84"``, ``"gcj02"``, ``"bd09"``).

    Returns
    -------
    callable
        Function mapping an ``(N, 2)`` or ``(N, 3)`` array to a new array;
        the Z column, when present, is kept unchanged.

    """
    step = _STEPS[(src, dst)]

    def func(coords: np.ndarray) -> np.ndarray:
        out = np.array(coords, dtype="float64", copy=True)
        if len(out):
            out[:, 0], out[:, 1] = step(out[:, 0], out[:, 1])
        return out

    return func


def transform_geometries(geoms: Any, src: str, dst: str = "wgs84") -> Any:
    """Convert shapely geometries between WGS84, GCJ-02 and BD-09.

    All vertices of all geometries are converted in one vectorised call via
    :func:`shapely.transform`; holes, multi-parts and Z values are kept.

    Parameters
    ----------
    geoms : shapely.Geometry, array_like of Geometry or geopandas.GeoSeries
        Geometries with longitude/latitude coordinates in ``src``.
    src : str
        Source system: ``"gcj02"``, ``"bd09"`` or ``"wgs84"`` (aliases such
        as ``"高德"``, ``"百度"``, ``"GCJ-02"`` accepted).
    dst : str, default "wgs84"
        Target system, same choices.

    Returns
    -------
    same kind as ``geoms``
        Converted geometries.  A GeoSeries keeps its index and name and gets
        CRS EPSG:4326 (GCJ-02/BD-09 are conventionally labelled EPSG:4326 too).

    """
    s, d = normalize_web_crs(src), normalize_web_crs(dst)
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover - geopandas is a hard dependency
        gpd = None
    if s == d:
        return geoms.copy() if hasattr(geoms, "copy") else geoms
    func = _xy_func(s, d)
    if gpd is not None and isinstance(geoms, gpd.GeoSeries):
        values = shapely.transform(
            np.asarray(geoms.values, dtype=object), func, include_z=None
        )
        return gpd.GeoSeries(
            values, index=geoms.index, name=geoms.name, crs="EPSG:4326"
        )
    if isinstance(geoms, shapely.Geometry) or geoms is None:
        return shapely.transform(geoms, func, include_z=None)
    return shapely.transform(np.asarray(geoms, dtype=object), func, include_z=None)


def to_wgs84_gdf(gdf: Any, src: str) -> Any:
    """Return a copy of a GeoDataFrame converted from GCJ-02/BD-09 to WGS84.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer whose coordinates are longitude/latitude in ``src``.  Its CRS
        may be unset or geographic (web data are usually labelled EPSG:4326).
    src : str
        ``"gcj02"``, ``"bd09"`` or ``"wgs84"`` (aliases accepted).

    Returns
    -------
    geopandas.GeoDataFrame
        Copy with converted geometries and CRS EPSG:4326.

    Raises
    ------
    spatial.errors.CRSError
        If the layer's CRS is projected, or its coordinates cannot be
        longitude/latitude.

    """
    s = normalize_web_crs(src)
    crs = gdf.crs
    if crs is not None and not crs.is_geographic:
        raise CRSError(
            f"图层坐标系为投影坐标系“{crs.name}”，但{s.upper()}偏移只能作用于经纬度坐"
            "标：请先用原始经纬度数据，或确认数据并非来自高德/腾讯/百度地图。",
            f"The layer's CRS {crs.name!r} is projected, but the {s.upper()} offset "
            "applies to longitude/latitude only: use the original lon/lat data, or "
            "check that the data really come from AMap/Tencent/Baidu maps.",
        )
    if len(gdf) and not gdf.geometry.is_empty.all():
        minx, miny, maxx, maxy = gdf.geometry.total_bounds
        if min(minx, miny) < -180 or maxx > 180 or max(abs(miny), abs(maxy)) > 90:
            raise CRSError(
                f"坐标超出经纬度范围（{minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}）"
                f"：{s.upper()}数据必须是经纬度（度），不能是投影坐标（米）。",
                "Coordinates outside lon/lat range "
                f"({minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}): {s.upper()} data "
                "must be longitude/latitude in degrees, not projected metres.",
            )
    out = gdf.copy()
    geom_col = out.geometry.name
    new = transform_geometries(out.geometry, s, "wgs84")
    out[geom_col] = new
    return out.set_crs("EPSG:4326", allow_override=True)


def parse_crs_alias(text: str) -> tuple[str, pyproj.CRS | None]:
    """Parse a user-supplied CRS name, EPSG code or web-map alias.

    Parameters
    ----------
    text : str
        E.g. ``"EPSG:4547"``, ``"4547"``, ``"cgcs2000"``, ``"wgs84"``,
        ``"cgcs2000-gk114"``, ``"高德"``, ``"GCJ-02"``, ``"百度"``, ``"BD-09"``,
        or any WKT/PROJ string understood by pyproj.

    Returns
    -------
    tuple
        ``("crs", pyproj.CRS)`` for a real CRS, or ``("gcj02", None)`` /
        ``("bd09", None)`` for web-map offsets.

    Raises
    ------
    spatial.errors.CRSError
        If the text is empty or not understood; the message lists the
        accepted forms (Chinese first, then English).

    """
    raw = "" if text is None else str(text).strip()

    def fail(reason_zh: str = "", reason_en: str = "") -> CRSError:
        return CRSError(
            f"无法识别的坐标系“{raw}”{reason_zh}。{_ACCEPTED_ZH}",
            f"Unknown coordinate reference system {raw!r}{reason_en}. {_ACCEPTED_EN}",
        )

    if not raw:
        raise fail("（为空）", " (empty)")
    key = _key(raw)
    web = _WEB_ALIASES.get(key)
    if web in WEB_CRS:
        return web, None
    if key in _GEOGRAPHIC_ALIASES:
        return "crs", pyproj.CRS.from_epsg(_GEOGRAPHIC_ALIASES[key])
    m = re.fullmatch(r"cgcs2000gk(\d{2,3})", key)
    if m:
        cm = int(m.group(1))
        if cm % 3 or not 75 <= cm <= 135:
            raise fail(
                "（中央经线须为 75–135 之间 3 的倍数）",
                " (the central meridian must be a multiple of 3 between 75 and 135)",
            )
        return "crs", pyproj.CRS.from_epsg(4534 + cm // 3 - 25)
    m = re.fullmatch(r"(?:epsg)?(\d{4,6})", key)
    if m:
        try:
            return "crs", pyproj.CRS.from_epsg(int(m.group(1)))
        except pyproj.exceptions.CRSError:
            raise fail("（EPSG 代码不存在）", " (no such EPSG code)") from None
    try:
        return "crs", pyproj.CRS.from_user_input(raw)
    except pyproj.exceptions.CRSError:
        raise fail() from None
