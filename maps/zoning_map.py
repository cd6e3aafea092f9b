"""Interactive zoning map: every zoning layer, screened sites, legend, offline HTML.

:func:`build_map` draws a :class:`~spatial.zoning.Zoning` (and optionally a
screening result or plain sites) as a Folium/Leaflet map:

* one toggleable overlay per zoning layer, coloured by :mod:`maps.style`
  (corridors with their control buffer), extra layers (``town``) hidden at start;
* Chinese popups with every attribute (long 准入清单 text cut at
  :data:`POPUP_TEXT_LIMIT` characters behind a 更多/more toggle) and tooltips;
* sites coloured by verdict, labelled, with a popup listing every hit (rule,
  basis, measurement), and the overlap parts of polygon/line sites highlighted;
* a bilingual legend, a metric scale bar, full-screen, measure and mouse-position
  controls;
* basemaps ``none`` (default: the zoning itself is the picture, nothing from the
  network), ``osm``, ``amap``
  (高德, GCJ-02: every overlay is shifted WGS84 -> GCJ-02 so it lines up with the
  tiles) and ``tianditu`` (天地图, needs a key).

Geometries are simplified *for display only* (the zoning's layers are never
touched), reprojected to WGS84 and rounded to 6 decimals (~0.1 m) before they
are written as GeoJSON; a vertex budget keeps big packages under ~10 MB of HTML.
:func:`save_map` writes one self-contained file via :func:`maps.offline.save_offline`.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import math
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.plugins import Fullscreen, MeasureControl, MousePosition
from folium.template import Template
from pyproj import CRS

from layers import LAYER_ORDER, draw_order
from maps import style as st
from maps.offline import save_offline
from spatial.crs import WGS84, to_crs_geoms
from spatial.errors import InputError
from spatial.frames import records
from spatial.output import user_columns
from spatial.webcrs import transform_geometries
from spatial.zoning import DEMO_STAMP, is_demo_zoning

__all__ = [
    "BASEMAPS",
    "TIANDITU_ENV",
    "POPUP_TEXT_LIMIT",
    "VERTEX_BUDGET",
    "Basemap",
    "GeoJsonOverlay",
    "legend_groups_html",
    "basemap_spec",
    "build_map",
    "map_style",
    "marker_svg",
    "HATCH_DEFS",
    "save_map",
    "display_tolerance",
    "display_geometries",
    "truncate_html",
    "measure_zh",
]

BASEMAPS: tuple[str, ...] = ("none", "osm", "amap", "tianditu")
#: Environment variable holding the 天地图 key (same as ``--tianditu-key``).
TIANDITU_ENV = "ECOZONE_TIANDITU_KEY"
#: Characters of long attribute text shown before the 更多/more toggle.
POPUP_TEXT_LIMIT = 120
#: Display vertices above which the simplification tolerance is raised; at
#: ~25 bytes per rounded vertex this keeps a map of any size under ~10 MB.
VERTEX_BUDGET = 300_000
#: Decimals of displayed lon/lat: 1e-6 degree is ~0.1 m.
COORD_DECIMALS = 6
#: Extra (non-standard) source columns shown in a popup, at most.
MAX_EXTRA_FIELDS = 10
#: Zoom from which site labels show the name as well as the id.
LABEL_NAMES_ZOOM = 12
#: Permanent site labels only for maps with at most this many sites.
MAX_LABELLED_SITES = 60
#: Above this many sites a site's popup lists its hits without their messages and clauses (those are in hits.csv):
#: a full popup is ~2 KB, so 15 000 full popups would make a 50 MB page.
BRIEF_POPUP_SITES = 200

#: Width (px) the legend and layer control take on the right; the boundary is fitted beside them.
_RIGHT_PANEL_PX = 330
_SITES_PANE = "ecoSites"
_OVERLAP_PANE = "ecoOverlap"


# --------------------------------------------------------------------------- basemaps


@dataclass(frozen=True)
class Basemap:
    """A basemap choice.

    Parameters
    ----------
    name : str
        One of :data:`BASEMAPS`.
    label_zh, label_en : str
        Shown in the legend.
    offset : {'wgs84', 'gcj02'}
        Coordinate system the tiles are drawn in; overlays are converted to it.
    tiles : tuple of dict
        ``folium.TileLayer`` keyword arguments; the first is the base layer,
        the others are overlays (天地图 annotation).
    """

    name: str
    label_zh: str
    label_en: str
    offset: str = "wgs84"
    tiles: tuple[Mapping[str, Any], ...] = ()


_AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
_TDT_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


def basemap_spec(basemap: str = "none", tianditu_key: str | None = None) -> Basemap:
    """Resolve a basemap name (and the 天地图 key) into tiles and a legend line.

    Parameters
    ----------
    basemap : {'osm', 'none', 'amap', 'tianditu'}
        Basemap name (高德/gaode and 天地图 are accepted as aliases).
    tianditu_key : str, optional
        天地图 key; falls back to the ``ECOZONE_TIANDITU_KEY`` environment variable.

    Returns
    -------
    Basemap
        The resolved choice.

    Raises
    ------
    InputError
        Unknown name, or 天地图 without a key (naming both ways to give one).
    """
    key = str(basemap or "none").strip().lower()
    key = {"高德": "amap", "gaode": "amap", "autonavi": "amap", "天地图": "tianditu", "tdt": "tianditu",
           "openstreetmap": "osm", "无": "none", "offline": "none"}.get(key, key)  # fmt: skip
    if key == "osm":
        return Basemap(
            "osm",
            "OpenStreetMap（WGS84）",
            "OpenStreetMap (WGS84)",
            tiles=({"tiles": "OpenStreetMap", "name": "OpenStreetMap 底图", "max_zoom": 19},),
        )
    if key == "none":
        return Basemap("none", "无（仅显示分区数据，离线，无需网络）", "none (zoning only, offline)")
    if key == "amap":
        return Basemap(
            "amap",
            "高德（GCJ-02，叠加图层已偏移对齐）",
            "AMap (GCJ-02; overlays shifted to match)",
            offset="gcj02",
            tiles=(
                {
                    "tiles": _AMAP_URL,
                    "attr": "&copy; 高德地图 AutoNavi",
                    "name": "高德地图 底图",
                    "subdomains": "1234",
                    "max_zoom": 18,
                },
            ),
        )
    if key == "tianditu":
        tk = tianditu_key or os.environ.get(TIANDITU_ENV) or ""
        if not tk.strip():
            raise InputError(
                f"天地图底图需要密钥：请用 --tianditu-key 指定，或设置环境变量 {TIANDITU_ENV}"
                "（在 https://console.tianditu.gov.cn 申请“浏览器端”密钥）。",
                f"the tianditu basemap needs a key: pass --tianditu-key or set {TIANDITU_ENV}",
            )
        tk = quote(tk.strip(), safe="")
        attr = "&copy; 天地图 / National Platform for Common GeoSpatial Information Services"
        common = {"attr": attr, "subdomains": "01234567", "max_zoom": 18}
        return Basemap(
            "tianditu",
            "天地图（CGCS2000，无需偏移）",
            "Tianditu (CGCS2000, no offset)",
            tiles=(
                {"tiles": _TDT_URL.format(s="{s}", layer="vec", key=tk), "name": "天地图 矢量底图", **common},
                {
                    "tiles": _TDT_URL.format(s="{s}", layer="cva", key=tk),
                    "name": "天地图 注记",
                    "overlay": True,
                    "control": False,
                    **common,
                },  # fmt: skip
            ),
        )
    raise InputError(
        f"未知底图 '{basemap}'；可选：{'、'.join(BASEMAPS)}（none 默认、离线，osm，amap 高德，tianditu 天地图）。",
        f"unknown basemap '{basemap}'; choose one of {', '.join(BASEMAPS)}",
    )


# --------------------------------------------------------------------------- geometry for display


def display_tolerance(zoning: Any) -> float:
    """Display simplification tolerance (metres) tied to the map's zoom range.

    The map opens fitted to the boundary (about 1000 px across), so one screen
    pixel at three zoom levels closer (8x) covers ``extent / 8000`` metres;
    simplifying by that much is invisible until the user zooms far in.  Clipped
    to 2-20 m: never coarser than a 1:50 000 map's line width.

    Parameters
    ----------
    zoning : Zoning
        The package (its boundary or, failing that, all layers set the extent).

    Returns
    -------
    float
        Tolerance in the zoning's (metric) units.
    """
    layers = [zoning.layers[n] for n in ("boundary",) if n in zoning.layers and len(zoning.layers[n])]
    layers = layers or [g for g in zoning.layers.values() if len(g)]
    if not layers:
        return 2.0
    b = np.array([g.total_bounds for g in layers])
    extent = max(b[:, 2].max() - b[:, 0].min(), b[:, 3].max() - b[:, 1].min())
    if not np.isfinite(extent):
        return 2.0
    return float(np.clip(extent / 8000.0, 2.0, 20.0))


def display_geometries(
    geoms: Any, crs: Any, *, tolerance: float = 0.0, offset: str = "wgs84", decimals: int = COORD_DECIMALS
) -> np.ndarray:
    """Return geometries ready for a web map (a copy; the input is untouched).

    Simplify in the source (metric) CRS, reproject to WGS84, shift to GCJ-02
    for 高德 tiles, round coordinates.

    Parameters
    ----------
    geoms : array_like of shapely geometries
        Geometries in ``crs``.
    crs : CRS-like
        Their CRS (projected for a meaningful ``tolerance``).
    tolerance : float, default 0
        Douglas-Peucker tolerance in CRS units (topology preserving); 0 = none.
    offset : {'wgs84', 'gcj02'}
        Target web coordinate system.
    decimals : int, default 6
        Decimals kept.

    Returns
    -------
    ndarray of shapely geometries
        Lon/lat geometries.
    """
    g = np.asarray(geoms, dtype=object)
    if tolerance > 0:
        g = shapely.simplify(g, tolerance, preserve_topology=True)
    src = CRS.from_user_input(crs)
    g = to_crs_geoms(g, src, WGS84)
    if offset == "gcj02":
        g = np.asarray(transform_geometries(g, "wgs84", "gcj02"), dtype=object)
    factor = 10.0**decimals
    return shapely.transform(g, lambda c: np.round(c * factor) / factor)


def _num_vertices(geoms: np.ndarray) -> int:
    return int(shapely.get_num_coordinates(geoms).sum()) if len(geoms) else 0


# --------------------------------------------------------------------------- text helpers


def truncate_html(text: Any, limit: int = POPUP_TEXT_LIMIT) -> str:
    """HTML-escape text, hiding the part past ``limit`` behind a 更多/more toggle.

    Parameters
    ----------
    text : Any
        Text (``None``/NaN give ``''``).
    limit : int, default POPUP_TEXT_LIMIT
        Characters shown before the toggle.

    Returns
    -------
    str
        Escaped HTML; ``<details>`` when the text is longer than ``limit``.
    """
    s = _text(text)
    if len(s) <= limit:
        return html.escape(s)
    return (
        '<details class="eco-more"><summary><span class="eco-trunc">'
        f'{html.escape(s[:limit])}…</span> <span class="eco-more-on">更多 / more</span>'
        '<span class="eco-more-off">收起 / less</span></summary>'
        f"{html.escape(s)}</details>"
    )


#: ``html.escape`` remembered: a batch's popups repeat the same layer names, rule ids and badges thousands of times.
_escape = functools.lru_cache(maxsize=1 << 16)(html.escape)


def _text(value: Any) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    return str(value).strip()


def _js(value: Any) -> str:
    """JSON for inline ``<script>``: UTF-8 text, ``<`` escaped so markup can't end it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return _js_safe(text)


def _js_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _feature_collection(geoms: np.ndarray, props: Sequence[Mapping[str, Any]]) -> str:
    """GeoJSON text from display geometries and per-feature properties (empty ones dropped)."""
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, bool)
    gj = shapely.to_geojson(geoms[ok]) if ok.any() else []
    kept = [p for p, k in zip(props, ok, strict=True) if k]
    feats = [
        '{"type":"Feature","geometry":'
        + g
        + ',"properties":'
        + json.dumps(p, ensure_ascii=False, separators=(",", ":"), default=str)
        + "}"
        for g, p in zip(gj, kept, strict=True)
    ]
    return _js_safe('{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}")


def _number(value: Any) -> float:
    """Return a value as a float (NaN for missing or non-numeric text: a popup must never fail on a cell)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _fmt_num(value: Any, digits: int = 1) -> str:
    v = _number(value)
    if not math.isfinite(v):
        return ""
    return f"{v:,.{digits}f}"


def measure_zh(row: Mapping[str, Any]) -> str:
    """Describe a hit's measurement in Chinese (重叠/长度/距离).

    Parameters
    ----------
    row : mapping
        A hit with ``overlap_m2``, ``overlap_pct``, ``length_m``, ``distance_m``.

    Returns
    -------
    str
        E.g. ``重叠 1.23 公顷（45.6%）``; ``''`` when nothing was measured.
    """
    parts = []
    m2 = _number(row.get("overlap_m2"))
    if m2 > 0:
        pct = _number(row.get("overlap_pct"))
        ha = f"{m2 / 10_000:,.2f} 公顷" if m2 >= 1000 else f"{m2:,.1f} m²"
        parts.append(f"重叠 {ha}" + (f"（占地块 {pct:.1f}%）" if math.isfinite(pct) else ""))
    length = _fmt_num(row.get("length_m"))
    if length and float(row.get("length_m")) > 0:
        parts.append(f"长度 {length} m")
    dist = _fmt_num(row.get("distance_m"))
    if dist and float(row.get("distance_m")) > 0:
        parts.append(f"距离 {dist} m")
    return "；".join(parts)


# --------------------------------------------------------------------------- folium elements


class _Helpers(MacroElement):
    """Page-wide JavaScript helpers (escaping, popups, GeoJSON layers) and test hooks."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style data-ecozone="map">{{ this.css }}</style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function(){
          var map = {{ this._parent.get_name() }};
          var E = window.ecozone = {map: map, layers: {}, groups: {}, sites: {}, basemap: {{ this.basemap|tojson }},
                                    limit: {{ this.limit }}, tolerance_m: {{ this.tolerance }}};
          var ESC = {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'};
          E.esc = function(s){ return String(s).replace(/[&<>"']/g, function(c){ return ESC[c]; }); };
          E.more = function(v){
            var s = String(v);
            if (s.length <= E.limit) return E.esc(s);
            return '<details class="eco-more"><summary><span class="eco-trunc">' + E.esc(s.slice(0, E.limit)) +
              '…</span> <span class="eco-more-on">更多 / more</span><span class="eco-more-off">收起 / less</span>' +
              '</summary>' + E.esc(s) + '</details>';
          };
          E.popup = function(title, fields, values){
            var h = '<div class="eco-pop"><div class="eco-pop-title">' + E.esc(title) + '</div><table>';
            for (var i = 0; i < fields.length; i++) {
              var v = values[i];
              if (v === null || v === undefined || v === '') continue;
              h += '<tr><th>' + E.esc(fields[i]) + '</th><td>' + E.more(v) + '</td></tr>';
            }
            return h + '</table></div>';
          };
          E.addGeoJson = function(group, name, data, o){
            var styles = o.styles || {}, point = o.point || {};
            function styleOf(f){
              var s = styles[f.properties.k] || o.fallback || {};
              var t = f.geometry && f.geometry.type;
              if (t === 'Point' || t === 'MultiPoint') {
                s = Object.assign({}, s, point, {fillColor: s.fillColor || s.color});
              }
              return s;
            }
            var layer = L.geoJson(data, {
              pane: o.pane || 'overlayPane',
              interactive: o.interactive !== false,
              style: styleOf,
              pointToLayer: function(f, ll){
                if (o.zlabel) {  // zone name at a point inside the feature; shown when zoomed in and when it fits
                  return L.marker(ll, {pane: 'eco-labels', interactive: false, keyboard: false,
                    icon: L.divIcon({html: '<span>' + E.esc(f.properties.t) + '</span>', className: 'eco-zone-label eco-z-' + o.zlabel,
                                     iconSize: null})});
                }
                var shape = o.shapes && o.shapes[f.properties.k];
                if (shape) {  // verdicts differ by shape and outline, not only colour; no keyboard focus box
                  return L.marker(ll, {pane: o.pane || 'markerPane', keyboard: false, riseOnHover: true,
                    icon: L.divIcon({html: shape, className: 'eco-mark', iconSize: [24, 24], iconAnchor: [12, 12],
                                     tooltipAnchor: [4, 0], popupAnchor: [0, -10]})});
                }
                return L.circleMarker(ll, Object.assign({pane: o.pane || 'overlayPane'}, styleOf(f)));
              },
              onEachFeature: function(f, l){
                var p = f.properties;
                if (o.interactive === false) return;
                var content = p.p || (o.fields ? E.popup(o.title + (p.n ? '：' + p.n : ''), o.fields, p.v || []) : null);
                if (content) l.bindPopup(content, {maxWidth: 460, minWidth: 240, maxHeight: 420, autoPanPadding: [40, 40]});
                if (p.t) {
                  var tip = o.label ? '<span class="eco-lbl-id">' + E.esc(p.id) + '</span><span class="eco-lbl-name"> ' +
                    E.esc(p.t) + '</span>' : E.esc(p.t);
                  l.bindTooltip(tip, o.label ?
                    {permanent: true, direction: 'right', offset: [9, 0], className: 'eco-site-label'} :
                    {sticky: true, className: 'eco-tip'});
                }
                if (o.register && p.id !== undefined) { E.sites[p.id] = l; l.eco_k = p.k; }
              }
            });
            layer.addTo(group);
            (E.layers[name] = E.layers[name] || []).push(layer);
            E.groups[name] = group;
            return layer;
          };
          function near(){ L.DomUtil[map.getZoom() >= {{ this.label_zoom }} ? 'addClass' : 'removeClass'](map.getContainer(), 'eco-near'); }
          map.on('zoomend', near); map.whenReady(near);
          map.createPane('eco-labels').style.zIndex = 640;
          map.getPane('eco-labels').style.pointerEvents = 'none';
          // Collision-aware labels: site labels first (most severe verdict first), then zone labels; a label that
          // would overlap one already shown is hidden until zooming makes room.
          var RANK = {prohibited: 0, restricted: 1, notice: 2, compatible: 3};
          E.declutter = function(){
            var boxes = [], shown = 0;
            function overlaps(r){
              for (var i = 0; i < boxes.length; i++) {
                var b = boxes[i];
                if (r.left < b.right && r.right > b.left && r.top < b.bottom && r.bottom > b.top) return true;
              }
              return false;
            }
            function place(el){
              if (!el) return;
              el.style.visibility = '';
              var r = (el.firstChild && el.firstChild.getBoundingClientRect ? el.firstChild : el).getBoundingClientRect();
              if (!r.width || !r.height) return;
              if (overlaps(r)) { el.style.visibility = 'hidden'; return; }
              boxes.push(r); shown++;
            }
            var ids = Object.keys(E.sites);
            ids.sort(function(a, b){ return (RANK[E.sites[a].eco_k] || 9) - (RANK[E.sites[b].eco_k] || 9); });
            ids.forEach(function(id){
              var l = E.sites[id];
              if (l._icon) { var r = l._icon.getBoundingClientRect(); boxes.push(r); }
            });
            ids.forEach(function(id){ var t = E.sites[id].getTooltip && E.sites[id].getTooltip(); if (t && t._container) place(t._container); });
            document.querySelectorAll('.eco-zone-label').forEach(place);
            E.labelsShown = shown;
          };
          // after Leaflet has moved markers and tooltips to the new view
          var pending = null;
          E.redeclutter = function(){ clearTimeout(pending); pending = setTimeout(function(){ requestAnimationFrame(E.declutter); }, 60); };
          map.on('zoomend moveend overlayadd overlayremove resize', E.redeclutter);
          L.control.scale({imperial: false, maxWidth: 160, position: 'bottomleft'}).addTo(map);
          var north = L.control({position: 'topleft'});
          north.onAdd = function(){
            var d = L.DomUtil.create('div', 'eco-north leaflet-control');
            d.innerHTML = {{ this.north_js }};
            return d;
          };
          north.addTo(map);
          if (!document.getElementById('eco-hatch-red')) {  // the red line is hatched, so what lies under it stays readable
            var holder = document.createElement('div');
            holder.innerHTML = {{ this.defs_js }};
            document.body.appendChild(holder.firstChild);
          }
          {% if this.title %}
          var t = L.DomUtil.create('div', 'eco-title', map.getContainer());
          t.innerHTML = {{ this.title_js }};
          {% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, basemap: str, tolerance: float, title: str, background: str | None) -> None:
        super().__init__()
        self._name = "EcozoneHelpers"
        self.basemap = basemap
        self.tolerance = round(float(tolerance), 2)
        self.limit = POPUP_TEXT_LIMIT
        self.label_zoom = LABEL_NAMES_ZOOM
        self.title = title
        self.title_js = _js(title)
        self.css = _MAP_CSS + (f".leaflet-container{{background:{background};}}" if background else "")
        self.north_js = _js(_NORTH_SVG)
        self.defs_js = _js(_HATCH_DEFS)


class GeoJsonOverlay(MacroElement):
    """A GeoJSON layer added to its parent FeatureGroup by ``ecozone.addGeoJson``.

    Parameters
    ----------
    layer : str
        The zoning layer name (``redline`` ...).
    data_js : str
        The GeoJSON, as JavaScript source.
    options : Mapping
        Style and popup options passed to ``ecozone.addGeoJson``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.ecozone.addGeoJson({{ this._parent.get_name() }}, {{ this.layer|tojson }},
          {{ this.data_js }}, {{ this.options_js }});
        {% endmacro %}
        """
    )

    def __init__(self, layer: str, data_js: str, options: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "EcozoneGeoJson"
        self.layer = layer
        self.data_js = data_js
        self.options_js = _js(dict(options))


class _Finish(MacroElement):
    """Stack the zoning groups in drawing order, now and whenever one is re-enabled."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var E = window.ecozone, order = {{ this.order|tojson }};
          E.drawOrder = order;
          E.restack = function(){
            for (var i = 0; i < order.length; i++) {
              var g = E.groups[order[i]];
              if (g && E.map.hasLayer(g)) g.bringToFront();
            }
          };
          E.restack();
          E.map.on('overlayadd', E.restack);
          if (E.declutter) { E.declutter(); E.redeclutter(); }
          E.ready = true;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, order: list[str]) -> None:
        super().__init__()
        self._name = "EcozoneFinish"
        self.order = order


class _Legend(MacroElement):
    """The legend, as a Leaflet control (stays inside the map in full-screen)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var c = L.control({position: 'bottomright'});
          c.onAdd = function(){
            var d = L.DomUtil.create('div', 'eco-legend leaflet-control');
            d.innerHTML = {{ this.html_js }};
            L.DomEvent.disableClickPropagation(d);
            L.DomEvent.disableScrollPropagation(d);
            return d;
          };
          c.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str) -> None:
        super().__init__()
        self._name = "EcozoneLegend"
        self.html = legend_html
        self.html_js = _js(legend_html)


_FONT = (
    "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC','Hiragino Sans GB',"
    "'WenQuanYi Micro Hei',system-ui,'Segoe UI',Arial,sans-serif"
)
_MAP_CSS = (
    f".leaflet-container{{font-family:{_FONT};font-size:13px;}}"
    f".leaflet-pane.leaflet-{_SITES_PANE}-pane>svg,.leaflet-pane.leaflet-{_OVERLAP_PANE}-pane>svg{{pointer-events:none;}}"
    ".eco-legend{background:rgba(255,255,255,.94);padding:6px 10px 6px 8px;border-radius:5px;"
    "box-shadow:0 1px 5px rgba(0,0,0,.35);font-size:12.5px;line-height:1.35;max-height:calc(100vh - 150px);"
    "overflow-y:auto;color:#222;}"
    ".eco-legend summary{cursor:pointer;font-weight:600;font-size:13.5px;margin-bottom:2px;}"
    ".eco-legend .eco-lg-body{column-count:2;column-gap:16px;}"
    ".eco-legend .eco-lg-group{break-inside:avoid;padding-bottom:3px;}"
    ".eco-legend .eco-lg-head{font-weight:600;margin-top:3px;}"
    ".eco-legend .eco-lg-row{display:flex;align-items:center;gap:6px;white-space:nowrap;}"
    ".eco-legend .eco-lg-row.sub{padding-left:10px;}"
    ".eco-legend .eco-lg-row.top{font-weight:600;margin-top:3px;}"
    ".eco-legend .eco-swatch{flex:none;}"
    ".eco-en{color:#666;font-size:11px;font-weight:normal;}"
    ".eco-legend .eco-lg-note{margin-top:6px;padding-top:4px;border-top:1px solid #ddd;font-size:11.5px;"
    "color:#333;white-space:normal;}"
    ".eco-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:800;pointer-events:none;"
    "background:rgba(255,255,255,.9);padding:4px 14px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);"
    "font-size:16px;font-weight:600;white-space:nowrap;}"
    ".eco-pop{font-size:12.5px;max-width:440px;}"
    ".eco-pop-title{font-weight:600;font-size:14px;margin-bottom:4px;}"
    ".eco-pop table{border-collapse:collapse;width:100%;}"
    ".eco-pop th{text-align:left;vertical-align:top;white-space:nowrap;color:#555;padding:2px 8px 2px 0;font-weight:normal;}"
    ".eco-pop td{padding:2px 0;vertical-align:top;word-break:break-all;}"
    ".eco-pop tr+tr th,.eco-pop tr+tr td{border-top:1px solid #eee;}"
    ".eco-badge{display:inline-block;color:#fff;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;"
    "text-shadow:0 0 2px rgba(0,0,0,.4);}"
    ".eco-hits{margin:6px 0 0;padding-left:18px;}.eco-hits li{margin-bottom:5px;}"
    ".eco-basis{color:#555;font-size:11.5px;}"
    ".eco-summary{margin-top:4px;}"
    ".eco-more summary{cursor:pointer;list-style:none;display:inline;}"
    ".eco-more summary::-webkit-details-marker{display:none;}"
    ".eco-more-on,.eco-more-off{color:#0b62a4;white-space:nowrap;}"
    ".eco-more-off,.eco-more[open] .eco-more-on,.eco-more[open] .eco-trunc{display:none;}"
    ".eco-more[open] .eco-more-off{display:inline;}"
    ".eco-site-label{background:rgba(255,255,255,.85);border:none;box-shadow:none;padding:0 3px;font-size:11.5px;"
    "font-weight:600;color:#222;border-radius:2px;}"
    ".eco-site-label:before{display:none;}"
    ".eco-lbl-name{display:none;font-weight:normal;}.eco-near .eco-lbl-name{display:inline;}"
    ".eco-tip{font-size:12px;}"
    ".eco-zone-label{background:none;border:none;white-space:nowrap;font-size:11.5px;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;"
    "display:none;}"
    ".eco-near .eco-zone-label{display:block;}.eco-z-redline{color:#b30000;font-weight:600;}.eco-z-control_unit{color:#3f5f3f;}"
    ".eco-z-corridor{color:#08519c;font-style:italic;}.eco-z-town{color:#555;font-size:12.5px;}"
    ".eco-zone-label span{display:inline-block;transform:translate(-50%,-50%);}"
    ".eco-mark{background:none;border:none;}.eco-mark svg{display:block;filter:drop-shadow(0 0 1px rgba(0,0,0,.35));}"
    ".leaflet-container .leaflet-interactive:focus,.leaflet-container .leaflet-marker-icon:focus{outline:none;}"
    ".eco-north{background:rgba(255,255,255,.85);border-radius:4px;padding:2px 3px 0;box-shadow:0 1px 4px rgba(0,0,0,.3);}"
)


#: Hatch pattern for the red line (referenced as ``url(#eco-hatch-red)``).
_HATCH_DEFS = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="eco-hatch-red" patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)">'
    '<rect width="7" height="7" fill="#e60000" fill-opacity="0.07"/>'
    '<line x1="0" y1="0" x2="0" y2="7" stroke="#e60000" stroke-width="1.6" stroke-opacity="0.8"/></pattern></defs></svg>'
)
#: The red line's hatch pattern, for other pages that draw ``map_style`` (the web app's maps).
HATCH_DEFS = _HATCH_DEFS
_NORTH_SVG = (
    '<svg width="26" height="40" viewBox="0 0 26 40" role="img" aria-label="指北针 north">'
    '<path d="M13 2 L21 24 L13 19 Z" fill="#fff" stroke="#111" stroke-width="1.2"/>'
    '<path d="M13 2 L5 24 L13 19 Z" fill="#111" stroke="#111" stroke-width="1.2"/>'
    '<text x="13" y="37" text-anchor="middle" font-size="12" font-weight="700" fill="#111">北</text></svg>'
)
#: Marker outline per verdict (24 x 24 box): the shape tells the verdict even on a same-coloured layer.
_MARKER_PATHS = {
    "prohibited": "M5 8 8 5 12 9 16 5 19 8 15 12 19 16 16 19 12 15 8 19 5 16 9 12Z",  # ✕
    "restricted": "M12 3 21.5 19.5 2.5 19.5Z",  # ▲
    "notice": "M12 2.5 21.5 12 12 21.5 2.5 12Z",  # ◆
    "compatible": "M12 5a7 7 0 1 1 0 14a7 7 0 1 1 0-14Z",  # ●
    "site": "M5 5H19V19H5Z",  # ■ (not screened)
}


def marker_svg(verdict: str, size: int = 24) -> str:
    """Site marker as inline SVG: verdict shape in its colour, dark outline on a white halo.

    Parameters
    ----------
    verdict : str
        ``prohibited`` (✕), ``restricted`` (▲), ``notice`` (◆), ``compatible`` (●) or ``site`` (■).
    size : int, default 24
        Pixel size.

    Returns
    -------
    str
        ``<svg>`` markup.
    """
    d = _MARKER_PATHS.get(verdict, _MARKER_PATHS["site"])
    colour = st.VERDICT_COLOURS.get(verdict, st.UNSCREENED_COLOUR)
    return (
        f'<svg class="eco-marker" data-verdict="{html.escape(verdict)}" width="{size}" height="{size}" viewBox="0 0 24 24" aria-hidden="true">'
        f'<path d="{d}" fill="none" stroke="#fff" stroke-width="4.5" stroke-linejoin="round"/>'
        f'<path d="{d}" fill="{colour}" stroke="#111" stroke-width="1.4" stroke-linejoin="round"/></svg>'
    )


def map_style(key: str) -> dict[str, Any]:
    """Leaflet style of a class key on this map: the red line is a red outline with hatching.

    Parameters
    ----------
    key : str
        Class key (:func:`maps.style.class_keys`).

    Returns
    -------
    dict
        Path options.
    """
    style = st.class_style(key)
    if key in ("redline", "redline:land"):  # the land red line is hatched; the marine one keeps its own style
        style.update({"color": "#e60000", "weight": 2.2, "opacity": 1, "fillColor": "url(#eco-hatch-red)", "fillOpacity": 1})
    return style


# --------------------------------------------------------------------------- layer content


def _layer_label(zoning: Any, name: str) -> tuple[str, str]:
    return st.layer_label(name, zoning.spec(name))


def _popup_fields(zoning: Any, name: str, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Columns shown in a layer's popups and their Chinese labels."""
    spec = zoning.spec(name)
    cols, labels = [], []
    for f in spec.fields:
        if f.name in frame and frame[f.name].notna().any():
            cols.append(f.name)
            labels.append(f.label_zh)
    if spec.reach is not None and "width_m" not in cols:
        cols.append("width_m")
        labels.append(spec.field("width_m").label_zh if "width_m" in spec.field_names else "控制宽度(米)")
    skip = set(spec.field_names) | {"feature_id", frame.geometry.name}
    extras = [c for c in frame.columns if c not in skip and not str(c).startswith("_") and frame[c].notna().any()]
    for c in extras[:MAX_EXTRA_FIELDS]:
        cols.append(c)
        labels.append(str(c))
    if not cols or (spec.id_field not in cols and "code" not in cols and "id" not in cols):
        cols.append("feature_id")
        labels.append("要素编号")
    return cols, labels


def _layer_props(zoning: Any, name: str, frame: pd.DataFrame, keys: np.ndarray, cols: list[str]) -> list[dict[str, Any]]:
    """Per-feature properties: class key ``k``, display name ``n``, tooltip ``t``, values ``v``."""
    spec = zoning.spec(name)
    shown = []
    for c in cols:
        series = frame[c] if c in frame else pd.Series([None] * len(frame), index=frame.index)
        if c in spec.field_names:
            shown.append([st.value_label(spec, c, v) or None for v in series.tolist()])
        else:
            shown.append([_text(v) or None for v in series.tolist()])
    names = frame["name"] if "name" in frame else pd.Series([None] * len(frame), index=frame.index)
    ids = frame["feature_id"].astype(str).tolist() if "feature_id" in frame else [""] * len(frame)
    out = []
    label = _layer_label(zoning, name)[0]
    for i, (nm, fid, k) in enumerate(zip(names.tolist(), ids, keys.tolist(), strict=True)):
        disp = _text(nm) or fid
        cs = st.CLASS_STYLES.get(str(k))
        cls = cs.label_zh if cs is not None and ":" in str(k) else ""
        tip = f"{label}{'·' + cls if cls else ''}：{disp}" if disp else label
        out.append({"k": k, "n": disp, "t": tip, "v": [col[i] for col in shown]})
    return out


def _add_zoning_layer(m: folium.Map, zoning: Any, name: str, tol: float, offset: str, legend_keys: dict[str, list[str]]) -> int:
    """Add one zoning layer as a FeatureGroup; return the vertices drawn."""
    frame = zoning.layers[name]
    label_zh, label_en = _layer_label(zoning, name)
    show = name not in st.HIDDEN_BY_DEFAULT and (name in LAYER_ORDER)
    group = folium.FeatureGroup(name=f'{html.escape(label_zh)} <span class="eco-en">{html.escape(label_en)}</span>', show=show)
    keys = st.class_keys(name, frame) if name in LAYER_ORDER else np.full(len(frame), name, dtype=object)
    frame = frame.copy()
    spec = zoning.spec(name)
    if spec.reach is not None and len(frame):
        frame["width_m"] = spec.reach(frame)
    cols, labels = _popup_fields(zoning, name, frame)
    props = _layer_props(zoning, name, frame, keys, cols)
    geoms = display_geometries(frame.geometry.values, zoning.crs, tolerance=tol, offset=offset)
    n_vertices = _num_vertices(geoms)
    styles = {k: map_style(k) for k in dict.fromkeys(keys.tolist())}
    title = label_zh
    used: list[str] = []
    if spec.reach is not None and len(frame):
        zones = spec.reach_zones(zoning.layers[name]).values
        bgeoms = display_geometries(zones, zoning.crs, tolerance=tol, offset=offset)
        n_vertices += _num_vertices(bgeoms)
        bkeys = np.array([f"{k}{st.BUFFER_SUFFIX}" for k in keys.tolist()], dtype=object)
        bprops = [dict(p, k=bk, t=p["t"] + "（控制范围）") for p, bk in zip(props, bkeys.tolist(), strict=True)]
        bstyles = {k: st.class_style(k) for k in dict.fromkeys(bkeys.tolist())}
        GeoJsonOverlay(name, _feature_collection(bgeoms, bprops), {"styles": bstyles, "fields": labels, "title": title}).add_to(
            group
        )
        used += [k for pair in zip(keys.tolist(), bkeys.tolist(), strict=True) for k in pair]
    else:
        used += keys.tolist()
    GeoJsonOverlay(name, _feature_collection(geoms, props), {"styles": styles, "fields": labels, "title": title,
                                                             "fallback": st.EXTRA_LAYER_STYLE}).add_to(group)  # fmt: skip
    _add_zone_labels(group, zoning, name, frame, offset)
    group.add_to(m)
    legend_keys[name] = list(dict.fromkeys(used))
    return n_vertices


#: Layers whose features get a name label (rivers only, for corridors).
ZONE_LABEL_LAYERS = ("redline", "control_unit", "corridor", "town")


def _add_zone_labels(group: Any, zoning: Any, name: str, frame: gpd.GeoDataFrame, offset: str) -> None:
    """Name labels for red-line patches, units, rivers and townships (decluttered in the browser)."""
    if name not in ZONE_LABEL_LAYERS or "name" not in frame or not len(frame):
        return
    from maps.figures import short_name

    keep = frame["name"].notna().to_numpy(copy=True)
    if name == "corridor" and "kind" in frame:
        keep &= (frame["kind"].astype(str) == "river").to_numpy()
    if not keep.any():
        return
    sub = frame[keep]
    geoms = np.asarray(sub.geometry.values, dtype=object)
    if name == "corridor":
        pts = shapely.line_interpolate_point(shapely.line_merge(shapely.get_geometry(geoms, 0)), 0.5, normalized=True)
    else:
        pts = shapely.point_on_surface(geoms)
    county = ""
    b = zoning.layers.get("boundary")
    if b is not None and len(b) and "name" in b:
        county = _text(b["name"].iloc[0])
    shown = display_geometries(pts, zoning.crs, tolerance=0.0, offset=offset)
    props = [{"t": short_name(_text(v), county)} for v in sub["name"].tolist()]
    GeoJsonOverlay(f"{name}_labels", _feature_collection(shown, props), {"zlabel": name, "interactive": False}).add_to(group)


# --------------------------------------------------------------------------- sites


def _site_frame(result: Any, sites: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame | None]:
    if result is not None and getattr(result, "sites", None) is not None:
        return result.sites, getattr(result, "hits", None)
    return sites, None


def _site_popup(
    row: Mapping[str, Any], hits: Sequence[Mapping[str, Any]], layer_labels: Mapping[str, str], own: Sequence[str] = (), *, brief: bool = False
) -> str:
    sid = _text(row.get("site_id"))
    name = _text(row.get("name")) or sid
    verdict = _text(row.get("verdict"))
    e = _escape
    parts = [f'<div class="eco-pop eco-site"><div class="eco-pop-title">{e(name)}']
    if verdict in st.VERDICT_COLOURS:
        vz = _text(row.get("verdict_zh")) or st.VERDICT_ZH[verdict]
        parts.append(
            f' <span class="eco-badge" data-verdict="{verdict}" style="background:{st.VERDICT_COLOURS[verdict]}">{e(vz)}</span>'
        )
    parts.append("</div><table>")
    rows = [("编号", sid)]
    ptype = _text(row.get("project_type"))
    if ptype:
        zh = st.project_type_zh(ptype)
        rows.append(("项目类型", f"{zh}（{ptype}）" if zh != ptype else ptype))
    if verdict in st.VERDICT_COLOURS:
        rows.append(("结论", f"{_text(row.get('verdict_zh')) or st.VERDICT_ZH[verdict]} / {verdict}"))
        rows.append(("命中规则", _text(row.get("n_hits")) or "0"))
    rows += [(str(c), _text(row.get(c))) for c in own if _text(row.get(c))]  # the planner's own columns
    parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows]
    parts.append("</table>")
    summary = _text(row.get("summary_zh"))
    if summary:
        parts.append(f'<div class="eco-summary">{truncate_html(summary)}</div>')
    if hits:
        parts.append('<ol class="eco-hits">')
        for h in hits:
            hv = _text(h.get("verdict"))
            badge = (
                f'<span class="eco-badge" style="background:{st.VERDICT_COLOURS[hv]}">{st.VERDICT_ZH[hv]}</span> '
                if hv in st.VERDICT_COLOURS
                else ""
            )
            layer = _text(h.get("layer"))
            feat = _text(h.get("feature_name")) or _text(h.get("feature_id"))
            meas = measure_zh(h)
            parts.append(
                f"<li><b>{e(_text(h.get('rule_id')))}</b> {badge}{e(layer_labels.get(layer, layer))}"
                f"{'：' + e(feat) if feat else ''}"
                + (f"<br>{e(meas)}" if meas else "")
                + (f"<br>{truncate_html(h.get('message_zh'))}" if _text(h.get("message_zh")) and not brief else "")
                + (f'<br><span class="eco-basis">依据：{truncate_html(h.get("basis"))}</span>' if _text(h.get("basis")) and not brief else "")
                + "</li>"
            )
        parts.append("</ol>")
        if brief:
            parts.append('<div class="eco-basis">说明与依据条文见 hits.csv（地块较多，弹窗从简）</div>')
    parts.append("</div>")
    return "".join(parts)


def _add_sites(
    m: folium.Map, zoning: Any, sites: gpd.GeoDataFrame, hits: pd.DataFrame | None, offset: str
) -> tuple[list[str], bool]:
    """Add the sites layer (and overlap highlights); return verdict keys used and whether screened."""
    own = [c for c in user_columns(sites) if c not in ("name", "site_id")]
    sites = sites.reset_index(drop=True)
    crs = sites.crs or zoning.crs
    screened = "verdict" in sites and sites["verdict"].isin(list(st.VERDICT_COLOURS)).any()
    geoms = display_geometries(sites.geometry.values, crs, tolerance=0.0, offset=offset)
    layer_labels = {n: _layer_label(zoning, n)[0] for n in zoning.layers}
    if "site_id" in sites:
        ids = sites["site_id"].astype(str).tolist()
    else:
        idcol = next((c for c in ("id", "编号", "ID", "fid") if c in sites), None)
        ids = sites[idcol].astype(str).tolist() if idcol else [f"site-{i + 1}" for i in range(len(sites))]
        sites = sites.assign(site_id=ids)
    if "name" not in sites:
        ncol = next((c for c in ("名称", "项目名称", "NAME", "Name") if c in sites), None)
        sites = sites.assign(name=sites[ncol] if ncol else None)
    by_site: dict[str, list[dict[str, Any]]] = {}  # a site's hits, in the table's order (one pass, no per-site lookup)
    if hits is not None and len(hits) and "site_id" in hits:
        read = ("site_id", "verdict", "layer", "feature_name", "feature_id", "rule_id", "message_zh", "basis",
                "overlap_m2", "overlap_pct", "length_m", "distance_m")  # what a popup reads of a hit  # fmt: skip
        for h in records(pd.DataFrame(hits[[c for c in read if c in hits]])):
            by_site.setdefault(str(h["site_id"]), []).append(h)
    keys = (
        sites["verdict"].astype(str).where(sites["verdict"].isin(list(st.VERDICT_COLOURS)), "site").tolist()
        if screened
        else ["site"] * len(sites)
    )
    label = len(sites) <= MAX_LABELLED_SITES
    brief = len(sites) > BRIEF_POPUP_SITES
    props = []
    shown = [c for c in dict.fromkeys(("site_id", "name", "verdict", "verdict_zh", "project_type", "n_hits", "summary_zh", *own)) if c in sites]
    for i, row in enumerate(records(pd.DataFrame(sites[shown]))):  # only what a popup shows (a wide table costs seconds)
        row["site_id"] = ids[i]
        disp = _text(row.get("name")) or ids[i]
        props.append({"k": keys[i], "id": ids[i], "t": disp, "p": _site_popup(row, by_site.get(ids[i], []), layer_labels, own, brief=brief)})
    styles: dict[str, Any] = {
        k: {"color": c, "weight": 3, "opacity": 1, "fillColor": c, "fillOpacity": 0.25} for k, c in st.VERDICT_COLOURS.items()
    }
    styles["site"] = {
        "color": st.UNSCREENED_COLOUR,
        "weight": 3,
        "opacity": 1,
        "fillColor": st.UNSCREENED_COLOUR,
        "fillOpacity": 0.25,
    }
    point = {"radius": 8, "color": "#ffffff", "weight": 2, "opacity": 1, "fillOpacity": 0.95}

    if hits is not None and "geometry" in hits and len(hits):
        hg = hits[hits["geometry"].notna()] if hasattr(hits["geometry"], "notna") else hits
        if len(hg):
            arr = np.asarray(hg["geometry"].values, dtype=object)
            dims = shapely.get_dimensions(arr)
            keep = dims >= 1  # overlap parts of line/polygon sites; points add nothing
            if keep.any():
                hcrs = hits.crs if isinstance(hits, gpd.GeoDataFrame) and hits.crs is not None else crs
                og = display_geometries(arr[keep], hcrs, tolerance=0.0, offset=offset)
                ov = hg["verdict"].astype(str).to_numpy()[keep] if "verdict" in hg else np.full(keep.sum(), "notice")
                oprops = [{"k": v if v in st.VERDICT_COLOURS else "notice"} for v in ov.tolist()]
                ostyles = {
                    k: {**st.OVERLAP_STYLE, "color": c, "fillColor": c, "weight": 2.5} for k, c in st.VERDICT_COLOURS.items()
                }
                og_group = folium.FeatureGroup(name='地块重叠部分 <span class="eco-en">Overlaps</span>', show=True)
                GeoJsonOverlay("overlaps", _feature_collection(og, oprops),
                                {"styles": ostyles, "pane": _OVERLAP_PANE, "interactive": False}).add_to(og_group)  # fmt: skip
                og_group.add_to(m)

    n = len(sites)
    group = folium.FeatureGroup(name=f'项目选址（{n} 处） <span class="eco-en">Sites</span>', show=True)
    GeoJsonOverlay(
        "sites",
        _feature_collection(geoms, props),
        {
            "styles": styles,
            "point": point,
            "pane": _SITES_PANE,
            "label": label,
            "register": True,
            "shapes": {k: marker_svg(k) for k in dict.fromkeys(keys)},
        },
    ).add_to(group)
    group.add_to(m)
    return list(dict.fromkeys(keys)), bool(screened)


# --------------------------------------------------------------------------- legend



def legend_groups_html(
    legend_keys: Mapping[str, list[str]], labels: Callable[[str], tuple[str, str]], *, english: bool = True
) -> str:
    """Render the zoning part of a legend: one group per layer, its classes as swatch rows.

    ``map.html`` and the web app's result page draw the same legend from this.

    Parameters
    ----------
    legend_keys : Mapping[str, list[str]]
        Layer name -> the style keys drawn for it (``redline:land`` …).
    labels : callable
        Layer name -> ``(label_zh, label_en)``.
    english : bool, default True
        Add the English labels (``.eco-en``) after the Chinese ones.

    Returns
    -------
    str
        Concatenated ``.eco-lg-group`` blocks.
    """
    e = html.escape

    def text(zh: str, en: str) -> str:
        return f'{e(zh)} <span class="eco-en">{e(en)}</span>' if english else e(zh)

    out: list[str] = []
    for name, keys in legend_keys.items():
        label_zh, label_en = labels(name)
        entries = (
            st.legend_entries(keys)
            if name in LAYER_ORDER
            else [(name, st.ClassStyle(label_zh, label_en, st.EXTRA_LAYER_STYLE, "outline"))]
        )
        entries = [(k, st.ClassStyle(cs.label_zh, cs.label_en, map_style(k), cs.kind)) for k, cs in entries]
        single = len(entries) == 1 and (":" not in entries[0][0] or name not in st.LAYER_CLASS_FIELD)
        out.append(f'<div class="eco-lg-group" data-layer="{e(name)}">')
        if single:
            out.append(f'<div class="eco-lg-row top">{st.swatch_html(entries[0][1])}<span>{text(label_zh, label_en)}</span></div>')
        else:
            out.append(f'<div class="eco-lg-head">{text(label_zh, label_en)}</div>')
            out.extend(f'<div class="eco-lg-row sub">{st.swatch_html(cs)}<span>{text(cs.label_zh, cs.label_en)}</span></div>' for _, cs in entries)
        out.append("</div>")
    return "".join(out)


def _legend_html(
    zoning: Any, legend_keys: Mapping[str, list[str]], site_keys: list[str], screened: bool, bm: Basemap, tol: float
) -> str:
    e = html.escape
    source = (
        "、".join(dict.fromkeys(Path(str(s.path)).name for s in getattr(zoning, "sources", []) if getattr(s, "path", None)))
        or "分区数据"
    )
    out = ['<details open><summary>图例 <span class="eco-en">Legend</span></summary><div class="eco-lg-body">']
    out.append(legend_groups_html(legend_keys, lambda name: _layer_label(zoning, name)))
    if site_keys:
        out.append('<div class="eco-lg-group" data-layer="sites">')
        if screened:
            out.append('<div class="eco-lg-head">项目选址结论 <span class="eco-en">Site verdict</span></div>')
            for v in st.VERDICT_ORDER:
                sw = marker_svg(v, 16)
                out.append(
                    f'<div class="eco-lg-row sub" data-verdict="{v}">{sw}<span>{st.VERDICT_ZH[v]} '
                    f'<span class="eco-en">{st.VERDICT_EN[v]}</span></span></div>'
                )
            out.append(
                f'<div class="eco-lg-row sub">{st.swatch_html({"color": "#d7191c", "fillColor": "#d7191c", "fillOpacity": 0.45, "weight": 1.2, "dashArray": "3 2"})}'
                '<span>地块重叠部分 <span class="eco-en">overlap</span></span></div>'
            )
        else:
            sw = marker_svg("site", 16)
            out.append(
                f'<div class="eco-lg-row top">{sw}<span>项目地块 <span class="eco-en">Sites (not screened)</span></span></div>'
            )
        out.append("</div>")
    out.append("</div>")
    out.append(
        f'<div class="eco-lg-note" data-basemap="{e(bm.name)}">底图：{e(bm.label_zh)}<br>'
        f'<span class="eco-en">Basemap: {e(bm.label_en)}</span><br>'
        + (
            "底图审图号以底图服务商标注为准；公开使用本图须保留底图来源与审图号。<br>"
            if bm.name != "none"
            else "未使用在线底图，本图为分区数据示意图，无需审图号。<br>"
        )
        + f"数据来源：{e(source)}<br>"
        + f"显示已简化（容差 {tol:.0f} m），分析使用原始数据"
        f'<br><span class="eco-en">Display simplified ({tol:.0f} m); analysis uses full data</span></div>'
    )
    out.append("</details>")
    return "".join(out)


# --------------------------------------------------------------------------- public API


def build_map(
    zoning: Any,
    result: Any = None,
    *,
    basemap: str = "none",
    tianditu_key: str | None = None,
    sites: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    tolerance: float | None = None,
) -> folium.Map:
    """Build the interactive zoning map.

    Parameters
    ----------
    zoning : Zoning
        Loaded zoning package (layers in a metric CRS).
    result : ScreeningResult or similar, optional
        Anything with ``sites`` (GeoDataFrame with ``site_id``, ``verdict`` ...)
        and optionally ``hits`` (with an overlap ``geometry`` column for highlights).
    basemap : {'none', 'osm', 'amap', 'tianditu'}, default 'none'
        Basemap; ``amap`` shifts every overlay to GCJ-02.
    tianditu_key : str, optional
        天地图 key (else ``$ECOZONE_TIANDITU_KEY``); required for ``tianditu``.
    sites : GeoDataFrame, optional
        Plain sites to plot when there is no ``result`` (coloured by a
        ``verdict`` column if present).
    title : str, optional
        Map title; default ``<boundary name> 生态环境分区管控图``.
    tolerance : float, optional
        Display simplification tolerance in metres; default
        :func:`display_tolerance`, raised if the map would exceed
        :data:`VERTEX_BUDGET` vertices.  0 disables simplification.

    Returns
    -------
    folium.Map
        Render with :func:`maps.offline.offline_html` or save with :func:`save_map`.

    Raises
    ------
    InputError
        Unknown basemap, or 天地图 without a key.
    """
    bm = basemap_spec(basemap, tianditu_key)
    names = [n for n in LAYER_ORDER if n in zoning.layers] + [n for n in zoning.layers if n not in LAYER_ORDER]
    names = [n for n in names if len(zoning.layers[n])]
    tol = display_tolerance(zoning) if tolerance is None else float(tolerance)
    if tolerance is None:
        tol = _fit_budget(zoning, names, tol)

    bounds = _bounds(zoning, bm.offset)
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=center, zoom_start=10, tiles=None, control_scale=False, max_zoom=19, zoom_snap=0.25)
    folium.map.CustomPane(_OVERLAP_PANE, z_index=620, pointer_events=False).add_to(m)
    folium.map.CustomPane(_SITES_PANE, z_index=630, pointer_events=True).add_to(m)
    if title is None:
        bname = ""
        if "boundary" in zoning.layers and "name" in zoning.layers["boundary"] and len(zoning.layers["boundary"]):
            bname = "、".join(dict.fromkeys(_text(v) for v in zoning.layers["boundary"]["name"].tolist() if _text(v)))
        title = f"{bname + ' ' if bname else ''}生态环境分区管控图"
    if is_demo_zoning(zoning) and DEMO_STAMP not in title:  # synthetic demo data: said in the title
        title = f"{title}（{DEMO_STAMP}）"
    _Helpers(basemap=bm.name, tolerance=tol, title=title, background="#f4f3ef" if bm.name == "none" else None).add_to(m)
    for i, tile in enumerate(bm.tiles):
        opts = dict(tile)
        folium.TileLayer(
            opts.pop("tiles"), overlay=opts.pop("overlay", False), control=opts.pop("control", i == 0), **opts
        ).add_to(m)

    legend_keys: dict[str, list[str]] = {}
    # Listed (layer control, legend) in the conventional order; stacked in draw order by _Finish.
    for name in names:
        _add_zoning_layer(m, zoning, name, tol, bm.offset, legend_keys)

    site_frame, hits = _site_frame(result, sites)
    site_keys: list[str] = []
    screened = False
    if site_frame is not None and len(site_frame):
        site_keys, screened = _add_sites(m, zoning, site_frame, hits, bm.offset)

    Fullscreen(position="topleft", title="全屏 / full screen", title_cancel="退出全屏 / exit").add_to(m)
    MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
    ).add_to(m)
    MousePosition(
        position="bottomleft",
        separator=" , ",
        prefix="GCJ-02 经度,纬度" if bm.offset == "gcj02" else "经度,纬度 lon,lat",
        lng_first=True,
        num_digits=6,
        empty_string="",
    ).add_to(m)
    _Legend(_legend_html(zoning, legend_keys, site_keys, screened, bm, tol)).add_to(m)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    stack = draw_order()
    _Finish([n for n in stack if n in legend_keys] + [n for n in legend_keys if n not in stack]).add_to(m)
    # keep the county clear of the title (top) and the legend/layer panel (right)
    m.fit_bounds(bounds, padding_top_left=(20, 50), padding_bottom_right=(_RIGHT_PANEL_PX, 20))
    return m


def _bounds(zoning: Any, offset: str) -> list[list[float]]:
    src = zoning.layers.get("boundary")
    if src is None or not len(src):
        frames = [g for g in zoning.layers.values() if len(g)]
        geoms = (
            np.concatenate([np.asarray(g.geometry.values, dtype=object) for g in frames])
            if frames
            else np.array([], dtype=object)
        )
    else:
        geoms = np.asarray(src.geometry.values, dtype=object)
    if not len(geoms):
        return [[18.0, 73.0], [54.0, 135.0]]
    env = shapely.envelope(shapely.union_all(shapely.envelope(geoms)))
    # densify the envelope so its projected extent is right on curved meridians
    ring = shapely.segmentize(env, max(shapely.length(env) / 200.0, 1.0))
    g = display_geometries([ring], zoning.crs, offset=offset)[0]
    minx, miny, maxx, maxy = shapely.bounds(g)
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def _fit_budget(zoning: Any, names: Iterable[str], tol: float) -> float:
    """Raise the tolerance (x2 steps) until the display vertices fit :data:`VERTEX_BUDGET`."""
    names = list(names)
    for _ in range(8):
        total = 0
        for n in names:
            g = shapely.simplify(np.asarray(zoning.layers[n].geometry.values, dtype=object), tol, preserve_topology=True)
            total += _num_vertices(g) * (3 if zoning.spec(n).reach is not None else 1)  # line, reach zone, its outline
        if total <= VERTEX_BUDGET:
            break
        tol *= 2.0
    return tol


def save_map(
    zoning: Any,
    path: str | os.PathLike[str],
    result: Any = None,
    *,
    basemap: str = "none",
    tianditu_key: str | None = None,
    sites: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    force: bool = False,
) -> Path:
    """Build the map and write it as one self-contained HTML file.

    Parameters
    ----------
    zoning : Zoning
        Loaded zoning package.
    path : path-like
        Output ``.html`` file.
    result : ScreeningResult or similar, optional
        Screened sites and hits (see :func:`build_map`).
    basemap : {'none', 'osm', 'amap', 'tianditu'}, default 'none'
        Basemap.
    tianditu_key : str, optional
        天地图 key (else ``$ECOZONE_TIANDITU_KEY``).
    sites : GeoDataFrame, optional
        Plain sites when there is no ``result``.
    title : str, optional
        Map title.
    force : bool, default False
        Overwrite an existing file.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False (checked before any work).
    """
    from spatial.io import ensure_writable

    path = Path(path)
    ensure_writable([path], force)
    m = build_map(zoning, result, basemap=basemap, tianditu_key=tianditu_key, sites=sites, title=title)
    with _held_out_data(m) as data:
        return save_offline(m, path, force=force, data=data)


#: GeoJSON literals longer than this are put into the page after the offline scan (see :func:`_held_out_data`).
HOLD_OUT_CHARS = 65_536


@contextlib.contextmanager
def _held_out_data(m: folium.Map) -> Iterator[dict[str, str]]:
    """Stand placeholders in for the large GeoJSON literals while the page is rendered and scanned.

    The literals are this module's own JSON with ``<`` escaped (:func:`_js_safe`): they cannot
    load anything, and scanning 15 000 sites' popups for assets took most of a large map's time.
    """
    held: dict[str, str] = {}
    swapped: list[tuple[GeoJsonOverlay, str]] = []

    def walk(el: Any) -> Iterator[GeoJsonOverlay]:
        for child in el._children.values():
            if isinstance(child, GeoJsonOverlay):
                yield child
            yield from walk(child)

    for overlay in walk(m):
        if len(overlay.data_js) > HOLD_OUT_CHARS:
            token = f'"@@ECOZONE-DATA-{uuid.uuid4().hex}"'  # a JS string: the page stays valid while held out
            held[token] = overlay.data_js
            swapped.append((overlay, overlay.data_js))
            overlay.data_js = token
    try:
        yield held
    finally:
        for overlay, data in swapped:
            overlay.data_js = data
