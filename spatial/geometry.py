"""Geometry hygiene for zoning layers: repair, strip, drop, and say so.

Real red lines drawn in CAD self-intersect, exports carry Z values and empty
records, and double-digitised edges leave slivers.  Each fix is counted and
reported; a repair that changes a layer's area by more than 0.1 % is flagged
loudly because it may hide a digitising error rather than noise.
"""

from __future__ import annotations

import warnings
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

from layers.base import format_rows
from spatial.errors import GeometryRepairWarning, InputError

__all__ = ["clean_geometries", "polygonal_part", "REPAIR_AREA_ALERT"]

#: Relative area change from repair that earns a loud warning.
REPAIR_AREA_ALERT = 0.001
#: Polygon parts smaller than this (m², in the metric working CRS) are slivers.
SLIVER_M2 = 0.01

_POLY = {shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON}
_LINE = {shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING, shapely.GeometryType.LINEARRING}


def polygonal_part(geoms: np.ndarray, min_area: float = 0.0) -> np.ndarray:
    """Keep only polygon parts (above ``min_area``) of each geometry.

    Parameters
    ----------
    geoms : ndarray of geometries
        Any geometries (collections from ``make_valid`` included).
    min_area : float
        Parts with smaller area are dropped.

    Returns
    -------
    ndarray
        Polygon/MultiPolygon geometries (empty where nothing is left).
    """
    parts, idx = shapely.get_parts(geoms, return_index=True)
    # make_valid may nest collections; a second pass flattens them.
    nested = shapely.get_type_id(parts) == shapely.GeometryType.GEOMETRYCOLLECTION
    if nested.any():
        sub, sidx = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], sub])
        idx = np.concatenate([idx[~nested], idx[nested][sidx]])
    keep = np.isin(shapely.get_type_id(parts), [3, 6]) & (shapely.area(parts) > min_area)
    parts, idx = parts[keep], idx[keep]
    order = np.argsort(idx, kind="stable")
    out = np.empty(len(geoms), dtype=object)
    out[:] = [shapely.MultiPolygon()] * len(geoms)
    if len(parts):
        shapely.multipolygons(parts[order], indices=idx[order], out=out)
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def clean_geometries(
    gdf: gpd.GeoDataFrame,
    kind: Literal["polygon", "line_or_polygon", "point_or_polygon", "any"],
    *,
    label: str,
    id_column: str = "feature_id",
    source_invalid: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Repair and tidy a layer's geometries in its (metric) CRS.

    Drops Z/M, drops empty geometries, repairs invalid ones with
    ``make_valid``, drops slivers and parts of the wrong dimension, and warns
    with counts and the features concerned.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer (projected CRS so areas are in m²).
    kind : {'polygon', 'line_or_polygon', 'point_or_polygon', 'any'}
        Geometry family the layer must hold.
    label : str
        Layer and file for messages.
    id_column : str
        Column naming features in messages.
    source_invalid : ndarray of bool, optional
        Which features were invalid as stored.  Features that only became
        invalid through reprojection (a self-touching ring nudged into a
        self-intersection) are repaired without a warning: that is our
        artefact, not a fault in the planner's data.

    Returns
    -------
    GeoDataFrame
        A cleaned copy (rows may be fewer).
    """
    g = gdf.geometry.values.to_numpy() if hasattr(gdf.geometry.values, "to_numpy") else np.asarray(gdf.geometry.values)
    g = np.asarray(g, dtype=object)
    ids = gdf[id_column].astype(str).to_numpy() if id_column in gdf else np.arange(len(gdf)).astype(str)
    notes: list[str] = []
    missing = shapely.is_missing(g)
    if missing.any():
        g = g.copy()
        g[missing] = shapely.Polygon()
    if shapely.has_z(g).any():
        notes.append(f"{int(shapely.has_z(g).sum())} 个要素去掉 Z 值 / Z dropped")
        g = shapely.force_2d(g)
    invalid = ~shapely.is_valid(g) & ~shapely.is_empty(g)
    alert = ""
    quiet = invalid & ~source_invalid if source_invalid is not None else np.zeros(len(g), dtype=bool)
    if quiet.any():
        g = g.copy()
        g[quiet] = polygonal_part(shapely.make_valid(g[quiet], method="structure", keep_collapsed=False), SLIVER_M2) if kind == "polygon" else shapely.make_valid(g[quiet])
        invalid &= ~quiet
    if invalid.any():
        before = shapely.area(g[invalid]).sum()
        g = g.copy()
        g[invalid] = shapely.make_valid(g[invalid], method="structure", keep_collapsed=False)
        after = shapely.area(g[invalid]).sum()
        notes.append(f"修复 {int(invalid.sum())} 个无效几何 / repaired invalid: {format_rows(list(ids[invalid]), 10)}")
        total = shapely.area(g).sum()
        if total > 0 and abs(after - before) / total > REPAIR_AREA_ALERT:
            alert = (
                f"注意：修复使 {label} 面积变化 {100 * (after - before) / total:+.2f}%（>0.1%），"
                f"请核查原数据是否绘制错误 / repair changed the layer area by "
                f"{100 * (after - before) / total:+.2f}% (>0.1%): check the source drawing"
            )
    if kind == "polygon":
        types = shapely.get_type_id(g)
        mixed = ~np.isin(types, [3, 6]) & ~shapely.is_empty(g)
        n_parts_before = shapely.get_num_geometries(g).sum()
        fixed = polygonal_part(g, SLIVER_M2)
        dropped_parts = int(n_parts_before - shapely.get_num_geometries(fixed).sum())
        if mixed.any() or dropped_parts:
            notes.append(f"去掉 {dropped_parts} 个线/点/碎片部分 / dropped {dropped_parts} non-polygon or sliver parts")
        g = fixed
    elif kind == "line_or_polygon":
        types = shapely.get_type_id(g)
        points = np.isin(types, [0, 4])
        if points.any():
            notes.append(f"去掉 {int(points.sum())} 个点要素 / dropped point features")
            g = g.copy()
            g[points] = shapely.Polygon()
    elif kind == "point_or_polygon":
        lines = np.isin(shapely.get_type_id(g), [1, 2, 5])
        if lines.any():
            notes.append(f"去掉 {int(lines.sum())} 个线要素 / dropped line features")
            g = g.copy()
            g[lines] = shapely.Polygon()
    empty = shapely.is_empty(g)
    if empty.any():
        notes.append(f"丢弃 {int(empty.sum())} 个空几何 / dropped empty: {format_rows(list(ids[empty]), 10)}")
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(g, index=gdf.index, crs=gdf.crs)
    out = out[~empty].reset_index(drop=True)
    if notes:
        warnings.warn(f"{label}：" + "；".join(notes), GeometryRepairWarning, stacklevel=2)
    if alert:
        warnings.warn(alert, GeometryRepairWarning, stacklevel=2)
    if kind == "polygon" and len(gdf) and not len(out):
        raise InputError(
            f"{label}：没有可用的面要素（全部为空或非面几何）。请检查文件和图层。",
            f"{label}: no usable polygon features (all empty or not polygons); check the file and layer",
        )
    return out
