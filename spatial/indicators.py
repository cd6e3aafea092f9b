"""Spatial indicators a plan reports: red-line, protected-area and cover ratios.

Every area is ellipsoidal (GRS80, CGCS2000's ellipsoid) via
:func:`spatial.measure.ellipsoidal_area`; every layer is dissolved before it is
measured, so overlapping features are counted once, and clipped to the
planning boundary (the union of its features) before ratios are taken.

Dissolving uses ``shapely.coverage_union_all`` only when
``shapely.coverage_is_valid`` has proved the features a clean coverage (no
overlaps, matching shared edges); on anything else ``coverage_union_all``
returns an invalid shape whose area double-counts the overlaps, so the
general ``shapely.union_all`` is used.

Land cover (森林覆盖率 / 林草覆盖率) comes from a classified GeoTIFF through
``exactextract``: each cell counts by the exact fraction of it the polygon
covers, nodata cells are excluded, and the polygons are reprojected to the
raster's CRS (the raster is never resampled).

>>> from spatial.zoning import load_zoning
>>> table = compute_indicators(load_zoning(), by_layer="town")  # doctest: +SKIP
>>> table.value("redline_ratio_pct")  # doctest: +SKIP
21.3...
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import REGISTRY
from layers.control_unit import CATEGORIES, CATEGORY_ZH
from spatial.crs import to_crs_geoms
from spatial.errors import CRSError, FileFormatError, InputError, SchemaError
from spatial.measure import SEGMENT_M, dissolve, ellipsoidal_area, geodesic_length, polygonal
from spatial.zoning import Zoning, load_zoning

__all__ = [
    "WHOLE",
    "INDICATORS",
    "IndicatorDef",
    "IndicatorTable",
    "TABLE_COLUMNS",
    "compute_indicators",
    "land_cover_fractions",
]

#: ``area_name`` of the rows for the whole planning area.
WHOLE = "全域"
#: Intersections smaller than this (m²) do not make a control unit "present" in a sub-area.
_PRESENCE_M2 = 1.0

#: Columns of :attr:`IndicatorTable.frame`, in output order.
TABLE_COLUMNS = [
    "indicator",
    "label_zh",
    "value",
    "unit",
    "target",
    "status",
    "area_name",
    "area_code",
    "label_en",
    "basis",
]


@dataclass(frozen=True)
class IndicatorDef:
    """Definition of one indicator.

    Parameters
    ----------
    name : str
        Machine name (``redline_ratio_pct``).
    label_zh, label_en : str
        Human names.
    unit : str
        ``km²``, ``%``, ``km`` or ``个``.
    """

    name: str
    label_zh: str
    label_en: str
    unit: str


def _catalogue() -> dict[str, IndicatorDef]:
    defs = [
        IndicatorDef("boundary_area_km2", "国土面积", "Land area of the planning boundary", "km²"),
        IndicatorDef("redline_area_km2", "生态保护红线面积", "Ecological protection red line area", "km²"),
        IndicatorDef("redline_ratio_pct", "生态保护红线占国土面积比例", "Red line share of land area", "%"),
        IndicatorDef("protected_area_km2", "自然保护地面积", "Protected area (union)", "km²"),
        IndicatorDef("protected_ratio_pct", "受保护地区占国土面积比例", "Protected share of land area", "%"),
        IndicatorDef(
            "protected_or_redline_km2", "自然保护地与生态保护红线合计面积（去重）", "Protected area or red line (union)", "km²"
        ),
        IndicatorDef(
            "protected_or_redline_ratio_pct",
            "自然保护地与生态保护红线合计占国土面积比例",
            "Protected area or red line share of land area",
            "%",
        ),
        IndicatorDef("water_source_area_km2", "饮用水水源保护区面积", "Drinking-water source protection area", "km²"),
        IndicatorDef("farmland_area_km2", "永久基本农田面积", "Permanent basic farmland area", "km²"),
        IndicatorDef("urban_boundary_area_km2", "城镇开发边界面积", "Urban development boundary area", "km²"),
        IndicatorDef("control_unit_count", "环境管控单元数量", "Environmental control units", "个"),
    ]
    for cat in CATEGORIES:
        defs.append(IndicatorDef(f"control_unit_count_{cat}", f"{CATEGORY_ZH[cat]}数量", f"Control units: {cat}", "个"))
    for cat in CATEGORIES:
        defs.append(
            IndicatorDef(f"control_unit_area_km2_{cat}", f"{CATEGORY_ZH[cat]}面积", f"Control unit area: {cat}", "km²")
        )
    for cat in CATEGORIES:
        defs.append(
            IndicatorDef(
                f"control_unit_ratio_pct_{cat}", f"{CATEGORY_ZH[cat]}面积占比", f"Control unit share: {cat}", "%"
            )
        )
    for layer in _role_layers("length"):  # lengths per value of the role's field, labelled by the spec
        spec = REGISTRY[layer]
        role = spec.indicator
        for value in _length_values(layer):
            label = role.labels.get(value, value) if role is not None else value
            defs.append(IndicatorDef(f"{layer}_length_km_{value}", f"{label}长度", f"{spec.label_en} length: {value}", "km"))
        if role is not None and role.share is not None:
            defs.append(IndicatorDef(role.share[1], role.share[2], role.share[3], "%"))
    defs += [
        IndicatorDef("sea_area_km2", "海域面积", "Sea area (land_sea: sea and intertidal)", "km²"),
        IndicatorDef("marine_redline_area_km2", "海洋生态保护红线面积", "Marine ecological red line area", "km²"),
        IndicatorDef("marine_redline_sea_ratio_pct", "海洋生态保护红线占海域面积比例", "Marine red line share of the sea area", "%"),
    ]
    defs += [
        IndicatorDef("forest_cover_pct", "森林覆盖率", "Forest cover", "%"),
        IndicatorDef("forest_grass_cover_pct", "林草覆盖率", "Forest and grass cover", "%"),
    ]
    return {d.name: d for d in defs}


def _length_values(layer: str) -> tuple[str, ...]:
    """Return the values of a ``length`` layer's ``by`` field (its standard enum), in spec order."""
    role = REGISTRY[layer].indicator
    if role is None or role.by is None:
        return ()
    return tuple(REGISTRY[layer].field(role.by).values)


def _role_layers(kind: str) -> list[str]:
    """Return the standard layers whose spec says indicators measure them as ``kind``."""
    return [name for name, spec in REGISTRY.items() if spec.indicator is not None and spec.indicator.kind == kind]


def _marine(zoning: Zoning, geoms: np.ndarray, crs: Any, clipped_m2: Callable[[shapely.Geometry], np.ndarray]) -> dict[str, np.ndarray]:
    """Sea area, marine red-line area and its share of the sea area, per area (what the layers allow).

    The sea is ``land_sea`` of kind sea or intertidal; the marine red line is ``redline`` of kind
    marine.  Nothing is reported without a marine red line, and no share without the sea.
    """
    out: dict[str, np.ndarray] = {}
    sea_m2 = None
    if "land_sea" in zoning:
        ls = zoning["land_sea"]
        sea = ls.geometry.values[ls["kind"].isin(["sea", "intertidal"]).to_numpy()]
        sea_m2 = clipped_m2(dissolve(sea))
        out["sea_area_km2"] = sea_m2 / 1e6
    if "redline" in zoning and "kind" in zoning["redline"] and (zoning["redline"]["kind"] == "marine").any():
        rl = zoning["redline"]
        m2 = clipped_m2(dissolve(rl.geometry.values[(rl["kind"] == "marine").to_numpy()]))
        out["marine_redline_area_km2"] = m2 / 1e6
        if sea_m2 is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                out["marine_redline_sea_ratio_pct"] = np.where(sea_m2 > 0, 100.0 * m2 / sea_m2, np.nan)
    return out


def _area_name(layer: str) -> str:
    """Return the name of an area layer's km² indicator."""
    return REGISTRY[layer].indicator.area or f"{layer}_area_km2"


def _layer_defs() -> list[IndicatorDef]:
    """Return default definitions for the area indicators of every area layer kind."""
    defs = []
    for layer in _role_layers("area"):
        spec, role = REGISTRY[layer], REGISTRY[layer].indicator
        defs.append(IndicatorDef(_area_name(layer), f"{spec.label_zh}面积", f"{spec.label_en} area", "km²"))
        if role.ratio:
            defs.append(IndicatorDef(role.ratio, f"{spec.label_zh}占国土面积比例", f"{spec.label_en} share of land area", "%"))
    return defs


#: Every indicator ecozone computes, by machine name (valid names in a targets file).
INDICATORS: dict[str, IndicatorDef] = _catalogue()
INDICATORS.update({d.name: d for d in _layer_defs() if d.name not in INDICATORS})  # a new area layer kind


@dataclass
class IndicatorTable:
    """Indicators for the whole boundary and, optionally, each sub-area.

    Attributes
    ----------
    frame : DataFrame
        One row per (area, indicator), columns :data:`TABLE_COLUMNS`.
        ``area_name`` is :data:`WHOLE` (全域) for the whole boundary; ``value``
        is a float (NaN when it cannot be computed, e.g. no valid raster cells);
        ``target`` is the target text (empty without one) and ``status``
        ``met`` / ``not_met`` / ``no_target``.
    crs : pyproj.CRS
        Working CRS the geometry was processed in (areas are ellipsoidal regardless).
    zoning_path : str or None
        The zoning package measured.
    by : str or None
        How sub-areas were formed (``layer:town`` or ``field:name``).
    notes : list of str
        Bilingual remarks (missing layers, raster coverage, unevaluated targets).
    targets_path : str or None
        Targets file applied, if any.
    """

    frame: pd.DataFrame
    crs: CRS
    zoning_path: str | None = None
    by: str | None = None
    notes: list[str] = field(default_factory=list)
    targets_path: str | None = None

    def value(self, indicator: str, area_name: str = WHOLE) -> float:
        """Return one indicator's value.

        Parameters
        ----------
        indicator : str
            Indicator name.
        area_name : str, default '全域'
            Sub-area name.

        Returns
        -------
        float
            The value.

        Raises
        ------
        KeyError
            When the indicator was not computed for that area.
        """
        return float(self.row(indicator, area_name)["value"])

    def row(self, indicator: str, area_name: str = WHOLE) -> dict[str, Any]:
        """Return one indicator's row as a dict.

        Parameters
        ----------
        indicator : str
            Indicator name.
        area_name : str, default '全域'
            Sub-area name.

        Returns
        -------
        dict
            The row (see :data:`TABLE_COLUMNS`).
        """
        rows = self.frame[(self.frame["indicator"] == indicator) & (self.frame["area_name"] == area_name)]
        if rows.empty:
            raise KeyError(f"{indicator} @ {area_name}")
        return rows.iloc[0].to_dict()

    @property
    def whole(self) -> pd.DataFrame:
        """Rows for the whole boundary only."""
        return self.frame[self.frame["area_name"] == WHOLE].reset_index(drop=True)

    @property
    def area_names(self) -> list[str]:
        """Area names in output order (全域 first)."""
        return list(dict.fromkeys(self.frame["area_name"]))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable summary (NaN becomes null).

        Returns
        -------
        dict
            ``zoning``, ``crs``, ``by``, ``targets``, ``notes`` and
            ``indicators`` (list of row dicts).
        """
        records = []
        for rec in self.frame.to_dict("records"):
            value = rec.get("value")
            rec["value"] = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
            records.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()})
        return {
            "zoning": self.zoning_path,
            "crs": self.crs.to_string(),
            "area_method": "ellipsoidal GRS80 (pyproj.Geod, CGCS2000)",
            "by": self.by,
            "targets": self.targets_path,
            "notes": list(self.notes),
            "indicators": records,
        }


# --------------------------------------------------------------------------- sub-areas
@dataclass
class _Areas:
    names: list[str]
    codes: list[str]
    geoms: np.ndarray  # polygonal, clipped to the boundary union
    by: str | None


def _group_areas(gdf: gpd.GeoDataFrame, key: pd.Series, code: pd.Series | None, clip: shapely.Geometry) -> tuple[list, list, list]:
    names, codes, geoms = [], [], []
    key = key.astype("string").fillna("（空/empty）")
    for value, idx in key.groupby(key, sort=False).groups.items():
        part = dissolve(gdf.geometry.values[gdf.index.get_indexer(idx)])
        names.append(str(value))
        if code is not None:
            vals = code.loc[idx].dropna().astype(str).unique()
            codes.append(",".join(vals))
        else:
            codes.append("")
        geoms.append(part)
    clipped = polygonal(shapely.intersection(np.asarray(geoms, dtype=object), clip))
    return names, codes, list(clipped)


def _sub_areas(zoning: Zoning, boundary_union: shapely.Geometry, by_layer: str | None, by_field: str | None) -> _Areas:
    names, codes, geoms = [WHOLE], [""], [boundary_union]
    b = zoning.boundary
    if "code" in b and b["code"].notna().any():
        codes[0] = ",".join(b["code"].dropna().astype(str).unique())
    by = None
    if by_layer and by_field:
        raise InputError("--by 和 --by-layer 只能选一个。", "give either --by or --by-layer, not both")
    if by_field:
        if by_field not in b.columns or by_field == b.geometry.name:
            cols = [c for c in b.columns if c != b.geometry.name]
            raise SchemaError(
                f"行政区图层没有字段 {by_field}；可用字段：{', '.join(cols)}。按其他图层分区请用 --by-layer（如 town）。",
                f"the boundary layer has no field {by_field}; its fields: {', '.join(cols)}; "
                "use --by-layer for another layer (e.g. town)",
            )
        n, c, g = _group_areas(b, b[by_field], b["code"] if by_field != "code" and "code" in b else None, boundary_union)
        names += n
        codes += c
        geoms += g
        by = f"field:{by_field}"
    elif by_layer:
        if by_layer not in zoning.layers or by_layer == "boundary":
            avail = [k for k in zoning.layers if k != "boundary"]
            raise SchemaError(
                f"分区数据中没有图层 {by_layer}；可用图层：{', '.join(avail)}。",
                f"the zoning package has no layer {by_layer}; layers: {', '.join(avail)}",
            )
        layer = zoning[by_layer]
        if not len(layer):
            raise SchemaError(f"图层 {by_layer} 为空。", f"layer {by_layer} is empty")
        poly = np.isin(shapely.get_type_id(layer.geometry.values), [3, 6])
        if not poly.all():
            raise SchemaError(
                f"图层 {by_layer} 含非面要素，不能用于分区统计。", f"layer {by_layer} holds non-polygons; cannot group by it"
            )
        if "name" in layer and layer["name"].notna().all():
            key_field = "name"
        elif "code" in layer and layer["code"].notna().all():
            key_field = "code"
        else:
            key_field = "feature_id"
        code = layer["code"] if key_field != "code" and "code" in layer else None
        n, c, g = _group_areas(layer, layer[key_field], code, boundary_union)
        names += n
        codes += c
        geoms += g
        by = f"layer:{by_layer}"
    return _Areas(names, codes, np.asarray(geoms, dtype=object), by)


# --------------------------------------------------------------------------- raster cover
def land_cover_fractions(
    raster: str | os.PathLike[str], geoms: np.ndarray, crs: CRS, *, band: int = 1
) -> tuple[list[dict[int, float]], np.ndarray]:
    """Exact class fractions of a land-cover raster inside each polygon.

    Cells count by the fraction of them each polygon covers, times their
    area (spherical for geographic rasters, equal for projected ones);
    nodata cells are excluded.  Polygons are reprojected to the raster CRS.

    Parameters
    ----------
    raster : path-like
        Classified GeoTIFF (integer class codes).
    geoms : ndarray of polygons
        Areas in ``crs``.
    crs : pyproj.CRS
        CRS of ``geoms``.
    band : int, default 1
        Band holding the classes.

    Returns
    -------
    (list of dict, ndarray)
        Per polygon: class code -> fraction of the valid covered area; and
        the share (0-1) of each polygon's area covered by valid cells.
    """
    import rasterio
    from exactextract import exact_extract

    path = Path(raster)
    if not path.exists():
        raise InputError(f"找不到栅格文件：{path}", f"raster not found: {path}")
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise CRSError(
                    f"栅格 {path} 没有坐标系；请用 gdal_edit.py -a_srs EPSG:xxxx 补上。",
                    f"raster {path} has no CRS; set one (gdal_edit.py -a_srs EPSG:xxxx)",
                )
            rcrs = CRS.from_user_input(ds.crs.to_wkt())
            if band < 1 or band > ds.count:
                raise InputError(f"栅格 {path} 没有第 {band} 波段（共 {ds.count} 个）。", f"raster {path} has no band {band}")
            cell_area = abs(ds.transform.a * ds.transform.e - ds.transform.b * ds.transform.d)
            from exactextract.raster import RasterioRasterSource

            src = RasterioRasterSource(ds, band)
            # Split long edges first so the reprojected outline keeps its shape.
            poly = to_crs_geoms(shapely.segmentize(np.asarray(geoms, dtype=object), SEGMENT_M), CRS.from_user_input(crs), rcrs)
            gdf = gpd.GeoDataFrame({"area_idx": np.arange(len(poly))}, geometry=list(poly), crs=rcrs)
            if rcrs.is_geographic:
                ops = ["unique", "frac(coverage_weight=area_spherical_m2)", "count(coverage_weight=area_spherical_m2)"]
            else:
                ops = ["unique", "frac", "count"]
            res = exact_extract(src, gdf, ops, include_cols=["area_idx"], output="pandas")
    except rasterio.errors.RasterioIOError as exc:
        raise FileFormatError(f"无法读取栅格 {path}：{exc}", f"cannot read raster {path}: {exc}") from exc
    res = res.sort_values("area_idx")
    fractions: list[dict[int, float]] = []
    for uniq, frac in zip(res["unique"], res["frac"], strict=True):
        uniq = np.atleast_1d(uniq)
        frac = np.atleast_1d(frac)
        fractions.append({int(u): float(f) for u, f in zip(uniq, frac, strict=True)})
    counted = res["count"].to_numpy(dtype=float)
    if rcrs.is_geographic:
        full = ellipsoidal_area(poly, rcrs)
        covered_m2 = counted
    else:
        full = shapely.area(poly)
        covered_m2 = counted * cell_area
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(full > 0, covered_m2 / full, np.nan)
    return fractions, coverage


def _parse_classes(classes: Sequence[int | str] | str | None) -> tuple[int, ...]:
    if classes is None:
        return ()
    if isinstance(classes, str):
        classes = [c for c in classes.replace("，", ",").split(",") if c.strip()]
    out = []
    for c in classes:
        try:
            out.append(int(str(c).strip()))
        except ValueError as exc:
            raise InputError(
                f"土地覆盖类别代码应为整数，得到 {c!r}（例如 --forest-classes 10,20）。",
                f"land-cover class codes must be integers, got {c!r} (e.g. --forest-classes 10,20)",
            ) from exc
    return tuple(out)


# --------------------------------------------------------------------------- main entry
def compute_indicators(
    zoning: Zoning | str | os.PathLike[str] | None,
    *,
    by_layer: str | None = None,
    by_field: str | None = None,
    raster: str | os.PathLike[str] | None = None,
    forest_classes: Sequence[int | str] | str | None = None,
    grass_classes: Sequence[int | str] | str | None = None,
    raster_band: int = 1,
) -> IndicatorTable:
    """Compute the area indicators of a zoning package.

    Parameters
    ----------
    zoning : Zoning or path-like or None
        A loaded package, a path to one, or None for the bundled demo.
    by_layer : str, optional
        An extra polygon layer of the package (e.g. ``town``) whose features,
        grouped by ``name`` (else ``code``), are the sub-areas.
    by_field : str, optional
        A field of the boundary layer to group boundary features by (a
        package of several counties).  Exclusive with ``by_layer``.
    raster : path-like, optional
        Land-cover GeoTIFF for 森林覆盖率 / 林草覆盖率.
    forest_classes : sequence of int or comma-separated str, optional
        Class codes counted as forest (required with ``raster``).
    grass_classes : sequence of int or str, optional
        Class codes counted as grass (adds 林草覆盖率).
    raster_band : int, default 1
        Raster band holding the classes.

    Returns
    -------
    IndicatorTable
        Rows for 全域 and each sub-area; ``target``/``status`` empty until
        :func:`spatial.targets.apply_targets` is applied.

    Raises
    ------
    InputError, SchemaError, CRSError, FileFormatError
        Unknown sub-division, unreadable raster, missing class codes.
    """
    if not isinstance(zoning, Zoning):
        zoning = load_zoning(zoning)
    crs = zoning.crs
    forest = _parse_classes(forest_classes)
    grass = _parse_classes(grass_classes)
    if raster is not None and not forest:
        raise InputError(
            "给出了土地覆盖栅格但没有森林类别代码：请用 --forest-classes 10,20 或在目标文件 land_cover.forest_classes 中给出。",
            "a land-cover raster needs forest class codes: pass --forest-classes or set land_cover.forest_classes "
            "in the targets file",
        )
    notes: list[str] = []
    boundary_union = dissolve(zoning.boundary.geometry.values)
    areas = _sub_areas(zoning, boundary_union, by_layer, by_field)
    n = len(areas.names)
    area_m2 = ellipsoidal_area(areas.geoms, crs)
    values: dict[str, np.ndarray] = {"boundary_area_km2": area_m2 / 1e6}

    def ratio(part_m2: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(area_m2 > 0, 100.0 * part_m2 / area_m2, np.nan)

    def clipped_m2(union: shapely.Geometry) -> np.ndarray:
        pieces = polygonal(shapely.intersection(union, areas.geoms))
        return ellipsoidal_area(pieces, crs)

    # Area layers (LayerSpec.indicator kind 'area'): dissolved, clipped, km² and optional share.
    unions: dict[str, shapely.Geometry] = {}
    for layer in _role_layers("area"):
        if layer in zoning:
            unions[layer] = dissolve(zoning[layer].geometry.values)
        else:
            notes.append(f"分区数据中没有 {layer} 图层，相关指标不计算。 / no {layer} layer: its indicators are skipped")
    for layer, union in unions.items():
        role = REGISTRY[layer].indicator
        m2 = clipped_m2(union)
        values[_area_name(layer)] = m2 / 1e6
        if role.ratio:
            values[role.ratio] = ratio(m2)
        if layer == "protected_area" or (layer == "redline" and "protected_area" not in unions):
            both = dissolve([g for k, g in unions.items() if k in ("redline", "protected_area")])
            m2 = clipped_m2(both)
            values["protected_or_redline_km2"] = m2 / 1e6
            values["protected_or_redline_ratio_pct"] = ratio(m2)

    if "control_unit" in zoning:
        units = zoning["control_unit"]
        ugeoms = units.geometry.values.to_numpy() if hasattr(units.geometry.values, "to_numpy") else np.asarray(units.geometry.values)
        tree = shapely.STRtree(ugeoms)
        ai, ui = tree.query(areas.geoms, predicate="intersects")
        inter = shapely.area(shapely.intersection(areas.geoms[ai], ugeoms[ui]))
        present = inter > _PRESENCE_M2
        ai, ui = ai[present], ui[present]
        cats = units["category"].to_numpy()
        values["control_unit_count"] = np.bincount(ai, minlength=n).astype(float)
        for cat in CATEGORIES:
            sel = cats[ui] == cat
            values[f"control_unit_count_{cat}"] = np.bincount(ai[sel], minlength=n).astype(float)
            m2 = clipped_m2(dissolve(ugeoms[cats == cat]))
            values[f"control_unit_area_km2_{cat}"] = m2 / 1e6
            values[f"control_unit_ratio_pct_{cat}"] = ratio(m2)
    else:
        notes.append("分区数据中没有 control_unit 图层。 / no control_unit layer")

    for layer in _role_layers("length"):
        if layer not in zoning:
            continue
        lines = zoning[layer]
        spec = REGISTRY[layer]
        by = lines[spec.indicator.by].to_numpy() if spec.indicator is not None and spec.indicator.by in lines else np.full(len(lines), None)
        n_poly = int(np.isin(shapely.get_type_id(lines.geometry.values), [3, 6]).sum())
        if n_poly:
            notes.append(
                f"{n_poly} 条{spec.label_zh}为面要素（双线河等），不计入长度。 / {n_poly} polygon {spec.label_en.lower()} features are not measured for length"
            )
        for value in _length_values(layer):
            sel = by == value
            if not sel.any():
                continue
            merged = dissolve(lines.geometry.values[sel])  # overlapping duplicates count once
            values[f"{layer}_length_km_{value}"] = geodesic_length(shapely.intersection(merged, areas.geoms), crs) / 1e3
        share = spec.indicator.share if spec.indicator is not None else None
        if share is not None:
            measured = ~np.isin(shapely.get_type_id(lines.geometry.values), [3, 6])
            total = geodesic_length(shapely.intersection(dissolve(lines.geometry.values[measured]), areas.geoms), crs)
            part = geodesic_length(shapely.intersection(dissolve(lines.geometry.values[measured & (by == share[0])]), areas.geoms), crs)
            with np.errstate(divide="ignore", invalid="ignore"):
                values[share[1]] = np.where(total > 0, 100.0 * part / total, np.nan)

    values.update(_marine(zoning, areas.geoms, crs, clipped_m2))

    if raster is not None:
        fractions, coverage = land_cover_fractions(raster, areas.geoms, crs, band=raster_band)
        fvals = np.array([sum(f.get(c, 0.0) for c in forest) if f else np.nan for f in fractions])
        values["forest_cover_pct"] = 100.0 * fvals
        if grass:
            cls = set(forest) | set(grass)
            values["forest_grass_cover_pct"] = 100.0 * np.array(
                [sum(v for c, v in f.items() if c in cls) if f else np.nan for f in fractions]
            )
        low = [f"{areas.names[i]} {100 * coverage[i]:.1f}%" for i in range(n) if not (coverage[i] >= 0.99)]
        if low:
            notes.append(
                f"栅格有效像元未覆盖整个区域（{', '.join(low)}），覆盖率按有效部分计算。"
                f" / valid raster cells cover only part of: {', '.join(low)}; cover is over the valid part"
            )
        notes.append(
            f"森林类别 forest classes: {','.join(map(str, forest))}"
            + (f"；草地类别 grass classes: {','.join(map(str, grass))}" if grass else "")
        )

    rows = []
    for i in range(n):
        for name, arr in values.items():
            d = INDICATORS[name]
            rows.append(
                {
                    "indicator": name,
                    "label_zh": d.label_zh,
                    "value": float(arr[i]),
                    "unit": d.unit,
                    "target": "",
                    "status": "no_target",
                    "area_name": areas.names[i],
                    "area_code": areas.codes[i],
                    "label_en": d.label_en,
                    "basis": "",
                }
            )
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return IndicatorTable(
        frame=frame,
        crs=crs,
        zoning_path=None if zoning.path is None else str(zoning.path),
        by=areas.by,
        notes=notes,
    )
