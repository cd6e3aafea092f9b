"""Sites typed into a form: coordinates pasted as text, shapes drawn on a web map.

The web app's 新建筛查 page (and any other form) hands the raw text here;
what comes back is a plain table or GeoJSON that :func:`spatial.read_sites`
reads like any other sites file.  Everything a user can type is checked:
malformed JSON, features that are not objects, coordinates that are not
finite lon/lat numbers are :class:`~spatial.errors.InputError`, never a crash.
A pasted ``纬度,经度`` pair whose swap lands inside the county is named as
such ("您是否把纬度和经度写反了？").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import shapely

from spatial.errors import InputError

__all__ = ["parse_pasted", "pasted_table", "drawn_collection", "swap_hint", "SWAP_HINT_ZH", "MAX_DRAWN", "PASTE_GEOMS"]

#: Shapes drawn at once (the page's limit; more is a script, which should upload a file).
MAX_DRAWN = 1000
#: Geometry kinds a pasted list may describe.
PASTE_GEOMS = ("point", "line", "polygon")
#: The hint for pasted latitude/longitude written the wrong way round.
SWAP_HINT_ZH = "您是否把纬度和经度写反了？"

_PAIR = re.compile(r"[\s,，;；\t]+")
_DRAWN_KINDS = {"Point": 0, "LineString": 1, "Polygon": 2}


def _clean_name(text: Any, fallback: str) -> str:
    name = "".join(ch for ch in str(text if text is not None else "") if ch.isprintable()).strip()
    return name[:120] or fallback


def parse_pasted(text: str, geom: str = "point") -> tuple[list[tuple[str, list[tuple[float, float]]]], bool]:
    """Parse pasted lines ``[名称,]x,y`` into named coordinate lists.

    Parameters
    ----------
    text : str
        One coordinate pair a line; ``#`` starts a comment line.
    geom : {'point', 'line', 'polygon'}
        One site per line, or one line/polygon through every pair.

    Returns
    -------
    list of (str, list of (float, float))
        Site name and its vertices.
    bool
        Whether every pair is a plausible lon/lat.

    Raises
    ------
    InputError
        A line that is not two numbers, non-finite numbers, nothing pasted, too few vertices.
    """
    geom = geom if geom in PASTE_GEOMS else "point"
    rows: list[tuple[str, float, float]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p for p in _PAIR.split(line) if p]
        try:
            x, y = float(parts[-2]), float(parts[-1])
        except (IndexError, ValueError):
            raise InputError(
                f"粘贴的坐标第 {lineno} 行无法识别：“{line[:60]}”。每行写“经度,纬度”或“名称,经度,纬度”。",
                f"pasted coordinates line {lineno} not understood; write 'lon,lat' or 'name,lon,lat'",
            ) from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(f"粘贴的坐标第 {lineno} 行不是有限数值。", f"pasted coordinates line {lineno}: not finite")
        rows.append(("".join(parts[:-2]), x, y))
    if not rows:
        raise InputError("粘贴框中没有坐标。", "no coordinates pasted")
    lonlat = all(-180 <= x <= 180 and -90 <= y <= 90 for _, x, y in rows)
    if geom == "point":
        return [(n or f"粘贴点{i}", [(x, y)]) for i, (n, x, y) in enumerate(rows, start=1)], lonlat
    need = 3 if geom == "polygon" else 2
    if len(rows) < need:
        raise InputError(f"粘贴的{'面' if geom == 'polygon' else '线'}至少需要 {need} 个坐标点。", f"a pasted {geom} needs at least {need} points")
    return [(rows[0][0] or f"粘贴{'地块' if geom == 'polygon' else '线路'}", [(x, y) for _, x, y in rows])], lonlat


def swap_hint(sites: Sequence[tuple[str, Sequence[tuple[float, float]]]], boundary_lonlat: shapely.Geometry | None) -> bool:
    """Return True when every pasted pair, read as (lat, lon), is a lon/lat inside ``boundary_lonlat``.

    Parameters
    ----------
    sites : sequence
        As returned by :func:`parse_pasted`.
    boundary_lonlat : shapely geometry or None
        The zoning boundary in WGS84 (None: no hint).

    Returns
    -------
    bool
        Whether the user probably wrote latitude first.
    """
    if boundary_lonlat is None or shapely.is_empty(boundary_lonlat):
        return False
    pts = [(y, x) for _, vertices in sites for x, y in vertices]
    if not pts or not all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in pts):
        return False
    return bool(shapely.contains_xy(boundary_lonlat, [p[0] for p in pts], [p[1] for p in pts]).all())


def pasted_table(
    text: str,
    geom: str,
    project_type: str,
    sites_crs: str,
    *,
    boundary_lonlat: shapely.Geometry | Callable[[], shapely.Geometry | None] | None = None,
) -> tuple[pd.DataFrame, str]:
    """Turn pasted coordinates into a sites table (``site_id, name, project_type, wkt``).

    Parameters
    ----------
    text : str
        As pasted.
    geom : {'point', 'line', 'polygon'}
        What the pairs describe.
    project_type : str
        Type of every pasted site.
    sites_crs : str
        CRS the user chose ('' when none).
    boundary_lonlat : shapely geometry or callable, optional
        Zoning boundary in WGS84, for the latitude/longitude swap hint (a
        callable is asked only when the hint is needed).

    Returns
    -------
    DataFrame
        One row per site, geometry as WKT.
    str
        CRS of the WKT (``wgs84`` or ``sites_crs``).

    Raises
    ------
    InputError
        Unparsable text, or projected numbers without a CRS (with the swap
        hint when reading them as latitude, longitude lands in the county).
    """
    geom = geom if geom in PASTE_GEOMS else "point"
    sites, lonlat = parse_pasted(text, geom)
    if not lonlat and not sites_crs:
        boundary = boundary_lonlat() if callable(boundary_lonlat) else boundary_lonlat
        if swap_hint(sites, boundary):
            raise InputError(
                f"粘贴的坐标不是“经度,纬度”顺序，但把两个数交换后正好落在分区范围内。{SWAP_HINT_ZH}请按“经度,纬度”粘贴（如 112.39,24.96）。",
                "pasted pairs are not 'lon,lat', but swapped they fall inside the zoning boundary: "
                "did you write latitude first? Paste 'lon,lat' (e.g. 112.39,24.96)",
            )
        raise InputError(
            "粘贴的坐标不是经纬度，请在“坐标系”中选择其坐标系（如 CGCS2000 3度带 EPSG:4546）。",
            "pasted coordinates are not lon/lat: choose their CRS",
        )
    rows = []
    for i, (name, pts) in enumerate(sites, start=1):
        g = shapely.Point(pts[0]) if geom == "point" else (shapely.Polygon(pts) if geom == "polygon" else shapely.LineString(pts))
        rows.append({"site_id": f"P{i}", "name": name, "project_type": project_type, "wkt": g.wkt})
    return pd.DataFrame(rows, columns=["site_id", "name", "project_type", "wkt"]), ("wgs84" if lonlat else sites_crs)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _position(p: Any) -> tuple[float, float] | None:
    if not isinstance(p, list) or len(p) not in (2, 3) or not all(_number(v) for v in p):
        return None
    lon, lat = float(p[0]), float(p[1])
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def _drawn_geometry(geom: Any, i: int) -> shapely.Geometry:
    bad = InputError(f"第 {i} 个绘制图形的坐标无效或超出经纬度范围。", f"drawn shape {i}: coordinates malformed or out of lon/lat range")
    if not isinstance(geom, dict) or geom.get("type") not in _DRAWN_KINDS:
        raise InputError(f"第 {i} 个绘制图形类型不受支持（只接受点、线、面）。", f"drawn shape {i}: unsupported geometry (Point, LineString, Polygon only)")
    coords = geom.get("coordinates")
    kind = geom["type"]
    if kind == "Point":
        pos = _position(coords)
        if pos is None:
            raise bad
        return shapely.Point(pos)
    if kind == "LineString":
        pts = [_position(p) for p in coords] if isinstance(coords, list) else [None]
        if len(pts) < 2 or any(p is None for p in pts):
            raise bad
        return shapely.LineString(pts)
    if not isinstance(coords, list) or not coords:
        raise bad
    rings = []
    for ring in coords:
        pts = [_position(p) for p in ring] if isinstance(ring, list) else [None]
        if len(pts) < 3 or any(p is None for p in pts):
            raise bad
        rings.append(pts)
    try:
        return shapely.Polygon(rings[0], rings[1:])
    except (ValueError, shapely.errors.GEOSException) as exc:
        raise bad from exc


def drawn_collection(text: str, project_type: str) -> dict[str, Any]:
    """Check a drawn GeoJSON FeatureCollection (WGS84) and rebuild it as a clean sites collection.

    Parameters
    ----------
    text : str
        The form's ``drawn`` value.
    project_type : str
        Type of every drawn site.

    Returns
    -------
    dict
        A FeatureCollection of Point/LineString/Polygon features with
        ``site_id`` (``D1``, ``D2`` …), ``name`` and ``project_type``.

    Raises
    ------
    InputError
        Anything but a FeatureCollection of at most :data:`MAX_DRAWN` point,
        line or polygon features with finite lon/lat coordinates.
    """
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"绘制的图形数据无法解析：{str(exc)[:200]}", f"drawn shapes do not parse: {str(exc)[:200]}") from None
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise InputError("绘制的图形数据不是 GeoJSON FeatureCollection。", "drawn shapes are not a GeoJSON FeatureCollection")
    if len(feats) > MAX_DRAWN:
        raise InputError(f"一次最多绘制 {MAX_DRAWN} 个图形。", f"at most {MAX_DRAWN} drawn shapes")
    if not feats:
        raise InputError("没有绘制任何图形。", "nothing drawn")
    clean = []
    for i, f in enumerate(feats, start=1):
        if not isinstance(f, dict):
            raise InputError(f"第 {i} 个绘制图形不是 GeoJSON Feature 对象。", f"drawn shape {i} is not a GeoJSON Feature object")
        g = _drawn_geometry(f.get("geometry"), i)
        props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        clean.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(g),
                "properties": {"site_id": f"D{i}", "name": _clean_name(props.get("name"), f"绘制图形{i}"), "project_type": project_type},
            }
        )
    return {"type": "FeatureCollection", "features": clean}
