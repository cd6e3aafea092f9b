"""Small static site maps as inline SVG, drawn straight from shapely geometry.

For the printed report each site gets a locator map: the zoning around it
(clipped to a window a few times the site's size, in the zoning's metric CRS
so the scale bar is true), the site in its verdict colour, the overlap parts
highlighted, a scale bar and a north arrow.  No matplotlib, no tiles, no
network: the SVG is a few kilobytes of text placed in the HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import shapely

from layers import draw_order
from maps import style as st

__all__ = ["StaticMap", "site_map_svg", "svg_path"]

_FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
_NICE = (10, 20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000, 100_000)


class StaticMap(NamedTuple):
    """A rendered site map.

    Attributes
    ----------
    svg : str
        ``<svg>`` markup.
    keys : list of str
        Style class keys drawn (for a legend, see :mod:`maps.style`).
    """

    svg: str
    keys: list[str]


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def svg_path(geom: Any, x0: float, y1: float, scale: float) -> str:
    """SVG path data of a (multi)polygon/line in a map window.

    Parameters
    ----------
    geom : shapely.Geometry
        Polygon, line or a collection of them (points are ignored).
    x0, y1 : float
        Window's left and top edges in map units.
    scale : float
        Pixels per map unit.

    Returns
    -------
    str
        ``d`` attribute text (rings closed with ``Z``; use ``fill-rule="evenodd"``).
    """
    out: list[str] = []
    for part in shapely.get_parts(np.asarray([geom], dtype=object)):
        kind = part.geom_type
        if kind == "Polygon":
            rings = [part.exterior, *part.interiors]
            closed = True
        elif kind in ("LineString", "LinearRing"):
            rings = [part]
            closed = False
        elif kind in ("GeometryCollection", "MultiPolygon", "MultiLineString"):
            out.append(svg_path(part, x0, y1, scale))
            continue
        else:
            continue
        for ring in rings:
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 2:
                continue
            px = (xy[:, 0] - x0) * scale
            py = (y1 - xy[:, 1]) * scale
            pts = " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in zip(px, py, strict=True))
            out.append(f"M{pts}{'Z' if closed else ''}")
    return "".join(p for p in out if p)


def _attrs(style: dict[str, Any], *, line: bool = False) -> str:
    colour = style.get("color", "#333")
    fill = "none" if line or style.get("fill") is False else style.get("fillColor", colour)
    parts = [f'fill="{fill}"']
    if fill != "none":
        parts.append(f'fill-opacity="{float(style.get("fillOpacity", 0.3)):.2f}"')
    width = min(float(style.get("weight", 1.0)), 2.5)
    parts.append(f'stroke="{colour}" stroke-width="{_fmt(width)}" stroke-opacity="{float(style.get("opacity", 1)):.2f}"')
    if style.get("dashArray"):
        parts.append(f'stroke-dasharray="{style["dashArray"]}"')
    return " ".join(parts)


def _window(site: Any, min_extent: float, aspect: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = shapely.bounds(site)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w = max((maxx - minx) * 2.2, min_extent)
    h = max((maxy - miny) * 2.2, min_extent / aspect)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def site_map_svg(
    zoning: Any,
    site: Any,
    *,
    overlaps: Iterable[tuple[Any, str]] = (),
    verdict: str | None = None,
    label: str | None = None,
    width: int = 440,
    height: int = 300,
    min_extent_m: float = 3000.0,
) -> StaticMap:
    """Draw one site over the zoning around it.

    Parameters
    ----------
    zoning : Zoning
        The zoning package; ``site`` must be in its CRS.
    site : shapely.Geometry
        The site (point, line or polygon) in the zoning CRS.
    overlaps : iterable of (Geometry, verdict)
        Overlap parts to highlight (zoning CRS).
    verdict : str, optional
        Site verdict (colour); purple when missing.
    label : str, optional
        Text next to the site (its id).
    width, height : int
        SVG size in pixels.
    min_extent_m : float, default 3000
        Smallest window width in metres (points and small sites get context).

    Returns
    -------
    StaticMap
        The SVG and the style keys drawn.
    """
    x0, y0, x1, y1 = _window(site, min_extent_m, width / height)
    scale = width / (x1 - x0)
    tol = 0.6 / scale  # half a pixel or so: invisible, keeps the SVG small
    window = shapely.box(x0, y0, x1, y1)
    body: list[str] = []
    keys: list[str] = []
    for name in draw_order():
        layer = zoning.layers.get(name)
        if layer is None or not len(layer):
            continue
        idx = layer.sindex.query(window, predicate="intersects")
        if not len(idx):
            continue
        sub = layer.iloc[np.sort(idx)]
        ks = st.class_keys(name, sub)
        geoms = np.asarray(sub.geometry.values, dtype=object)
        spec = zoning.spec(name)
        if spec.reach is not None:
            zones = np.asarray(spec.reach_zones(sub).values, dtype=object)
            _draw(body, keys, zones, [f"{k}{st.BUFFER_SUFFIX}" for k in ks], window, tol, x0, y1, scale, line=False)
            _draw(body, keys, geoms, list(ks), window, tol, x0, y1, scale, line=True)
        else:
            _draw(body, keys, geoms, list(ks), window, tol, x0, y1, scale, line=False)
    colour = st.VERDICT_COLOURS.get(verdict or "", st.UNSCREENED_COLOUR)
    for geom, v in overlaps:
        if geom is None or shapely.is_empty(geom) or shapely.get_dimensions(geom) < 1:
            continue
        c = st.VERDICT_COLOURS.get(v, colour)
        d = svg_path(shapely.clip_by_rect(geom, x0, y0, x1, y1), x0, y1, scale)
        if d:
            is_line = shapely.get_dimensions(geom) == 1
            body.append(
                f'<path d="{d}" fill="{"none" if is_line else c}" fill-opacity="0.6" stroke="{c}" '
                f'stroke-width="{6 if is_line else 2}" stroke-opacity="{0.55 if is_line else 1}" stroke-dasharray="4 3" fill-rule="evenodd"/>'
            )
    body.append(_site_mark(site, colour, x0, y1, scale))
    if label:
        sx, sy = _label_anchor(site, x0, y1, scale, width, height)
        body.append(
            f'<text x="{_fmt(sx)}" y="{_fmt(sy)}" font-size="12" font-weight="bold" fill="#111" stroke="#fff" '
            f'stroke-width="3" paint-order="stroke">{html.escape(label)}</text>'
        )
    body.append(_scale_bar(x1 - x0, scale, height))
    body.append(_north_arrow(width))
    aria = html.escape(f"地块 {label or ''} 位置示意图")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="site-map" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{aria}" font-family="{_FONT}">'
        f'<rect width="{width}" height="{height}" fill="#fbfbf8"/>'
        f'<g fill-rule="evenodd" stroke-linejoin="round" stroke-linecap="round">{"".join(body)}</g>'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none" stroke="#888"/></svg>'
    )
    return StaticMap(svg, list(dict.fromkeys(keys)))


def _draw(
    body: list[str], keys: list[str], geoms: np.ndarray, ks: list[str], window: Any, tol: float,
    x0: float, y1: float, scale: float, *, line: bool,
) -> None:  # fmt: skip
    minx, miny, maxx, maxy = shapely.bounds(window)
    clipped = shapely.clip_by_rect(shapely.simplify(geoms, tol, preserve_topology=True), minx, miny, maxx, maxy)
    for g, k in zip(clipped, ks, strict=True):
        if g is None or shapely.is_empty(g):
            continue
        d = svg_path(g, x0, y1, scale)
        if not d:
            continue
        body.append(f'<path d="{d}" {_attrs(st.class_style(k), line=line)}/>')
        keys.append(k)


def _site_mark(site: Any, colour: str, x0: float, y1: float, scale: float) -> str:
    dim = shapely.get_dimensions(site)
    if dim == 0:
        out = []
        for p in shapely.get_parts(np.asarray([site], dtype=object)):
            cx, cy = (p.x - x0) * scale, (y1 - p.y) * scale
            out.append(
                f'<circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="7" fill="{colour}" stroke="#fff" stroke-width="2.2"/>'
                f'<circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="8.2" fill="none" stroke="#333" stroke-width="0.8"/>'
            )
        return "".join(out)
    d = svg_path(site, x0, y1, scale)
    if dim == 1:
        return (
            f'<path d="{d}" fill="none" stroke="#fff" stroke-width="6.5"/>'
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="3.5"/>'
        )
    return (
        f'<path d="{d}" fill="{colour}" fill-opacity="0.25" stroke="#fff" stroke-width="5"/>'
        f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
    )


def _label_anchor(site: Any, x0: float, y1: float, scale: float, width: int, height: int) -> tuple[float, float]:
    minx, miny, maxx, maxy = shapely.bounds(site)
    x = (maxx - x0) * scale + 8
    y = (y1 - maxy) * scale - 4
    return min(max(x, 4.0), width - 70.0), min(max(y, 14.0), height - 30.0)


def _scale_bar(width_m: float, scale: float, height: int) -> str:
    target = width_m / 4
    length = max((n for n in _NICE if n <= target), default=_NICE[0])
    px = length * scale
    text = f"{length // 1000:g} km" if length >= 1000 and length % 1000 == 0 else f"{length:g} m"
    if length >= 1000 and length % 1000:
        text = f"{length / 1000:g} km"
    y = height - 14
    return (
        f'<g><rect x="6" y="{y - 16}" width="{_fmt(px + 16)}" height="24" fill="#fff" fill-opacity="0.85"/>'
        f'<path d="M14,{y - 4}V{y}H{_fmt(14 + px)}V{y - 4}" fill="none" stroke="#111" stroke-width="1.6"/>'
        f'<text x="{_fmt(14 + px / 2)}" y="{y - 6}" font-size="11" text-anchor="middle" fill="#111">{text}</text></g>'
    )


def _north_arrow(width: int) -> str:
    x = width - 22
    return (
        f'<g><path d="M{x},8 L{x + 7},28 L{x},23 L{x - 7},28 Z" fill="#111"/>'
        f'<text x="{x}" y="40" font-size="11" text-anchor="middle" fill="#111">北 N</text></g>'
    )
