"""Maps for siting: suitability areas, alternative sites, what-if changes.

All three are the zoning map of :mod:`maps.zoning_map` (same layers, colours,
legend, controls and offline HTML) with the siting result drawn on top, so a
planner reads them like every other ecozone map.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from maps import style as st
from maps.offline import save_offline
from maps.zoning_map import GeoJsonOverlay, _feature_collection, _Finish, _Legend, build_map, display_geometries
from spatial.io import ensure_writable

__all__ = ["save_suitability_map", "save_sites_map"]

#: Fill opacity of suitability areas (the zoning stays readable underneath).
_AREA_OPACITY = 0.45


def _class_legend(entries: list[tuple[str, str]], title: str, notes: list[str]) -> str:
    rows = "".join(
        f'<div class="eco-lg-row">{st.swatch_html({"color": c, "weight": 1, "fillColor": c, "fillOpacity": _AREA_OPACITY}, "fill")}'
        f"{html.escape(label)}</div>"
        for label, c in entries
    )
    note = "".join(f'<div class="eco-lg-note">{html.escape(n)}</div>' for n in notes)
    return f'<details open><summary>{html.escape(title)}</summary>{rows}{note}</details>'


def save_suitability_map(zoning: Any, results: list[Any], path: str | os.PathLike[str], *, basemap: str = "none", force: bool = False) -> Path:
    """Write the suitability map: the zoning map plus one toggleable layer per project type.

    Parameters
    ----------
    zoning : Zoning
        Zoning the areas were computed on.
    results : list of Suitability
        One per project type (the first is shown when the map opens).
    path : path-like
        Output ``.html``.
    basemap : str, default 'none'
        As :func:`maps.zoning_map.build_map`.
    force : bool, default False
        Overwrite.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    ensure_writable([path], force)
    names = "、".join(st.project_type_zh(r.project_type) for r in results)
    m = build_map(zoning, basemap=basemap, title=f"选址适宜性分区：{names}")
    styles = {c: {"color": col, "weight": 0.6, "opacity": 0.8, "fillColor": col, "fillOpacity": _AREA_OPACITY}
              for c, col in st.SUITABILITY_COLOURS.items()}  # fmt: skip
    fields = ["适宜性", "触发规则", "决定结论的规则", "面积（km²）"]
    offset = "gcj02" if basemap == "amap" else "wgs84"
    seen: dict[str, str] = {}
    notes: list[str] = []
    for i, r in enumerate(results):
        a = r.areas
        geoms = display_geometries(a.geometry.values, zoning.crs, tolerance=1.0, offset=offset)
        props = [
            {"k": c, "n": z, "t": f"{z}{'：' + rl if rl else ''}", "v": [z, rl or "—", cause or "—", f"{m2 / 1e6:.3f}"]}
            for c, z, rl, cause, m2 in zip(a["class"], a["class_zh"], a["rules"], a["cause"], a["area_m2"], strict=True)
        ]
        label = st.project_type_zh(r.project_type)
        group = folium.FeatureGroup(name=f"适宜性：{html.escape(label)} <span class=\"eco-en\">suitability {r.project_type}</span>", show=i == 0)
        GeoJsonOverlay(f"suitability_{r.project_type}", _feature_collection(geoms, props),
                        {"styles": styles, "fields": fields, "title": f"{label} 适宜性"}).add_to(group)  # fmt: skip
        group.add_to(m)
        for c, z in zip(a["class"], a["class_zh"], strict=True):
            seen.setdefault(c, z)
        notes += [n.split(" / ")[0] for n in r.notes if n.split(" / ")[0] not in notes]
    order = [c for c in ("prohibited", "restricted", "restricted_slope", "slope_unknown", "notice", "compatible") if c in seen]
    _Legend(_class_legend([(seen[c], st.SUITABILITY_COLOURS[c]) for c in order], "适宜性 suitability", notes)).add_to(m)
    # the layer control lists (and the finisher stacks) the groups that exist when their script runs: keep them last
    for key, child in list(m._children.items()):
        if isinstance(child, (folium.LayerControl, _Finish)):
            m._children.move_to_end(key)
    return save_offline(m, path, force=force)


def save_sites_map(
    zoning: Any,
    sites: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    hits: pd.DataFrame | None = None,
    title: str,
    basemap: str = "none",
    force: bool = False,
) -> Path:
    """Write a zoning map with verdict-coloured sites (original and alternative sites, changed sites).

    Parameters
    ----------
    zoning : Zoning
        Zoning.
    sites : GeoDataFrame
        ``site_id``, ``name``, ``verdict``, ``summary_zh`` and geometry.
    path : path-like
        Output ``.html``.
    hits : DataFrame, optional
        Hits to list in the popups (``site_id`` column).
    title : str
        Map title.
    basemap : str, default 'none'
        Basemap.
    force : bool, default False
        Overwrite.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    ensure_writable([path], force)
    res = SimpleNamespace(sites=sites, hits=hits if hits is not None else pd.DataFrame({"site_id": np.zeros(0, dtype=str)}))
    m = build_map(zoning, res, basemap=basemap, title=title)
    return save_offline(m, path, force=force)
