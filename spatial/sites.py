"""Read proposed project sites from whatever a planner has.

Accepted: any vector file pyogrio reads (GeoPackage, Shapefile, GeoJSON,
KML, DXF, GeoParquet), CSV/XLSX with lon/lat columns (or x/y plus
``--sites-crs``, or a WKT column), and the 用地报批 界址点 坐标文件 TXT.
Sites get a unique ``site_id``, a canonical ``project_type`` and a ``name``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.base import clean_key, format_rows
from spatial.coordfile import is_coordfile, read_coordfile
from spatial.errors import CRSError, GeometryRepairWarning, InputError
from spatial.io import detect_text_encoding, read_vector
from spatial.project_types import DEFAULT_TYPES, ProjectTypes
from spatial.site_readers import (
    check_coordinates,
    check_lonlat_values,
    check_text_table,
    choose_pair,
    parse_wkt,
    read_dxf,
    read_excel_sheets,
    read_kml,
)
from spatial.webcrs import parse_crs_alias, to_wgs84_gdf

__all__ = ["read_sites", "prepare_sites", "TABLE_SUFFIXES"]

TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xls")
_LON = ("lon", "lng", "long", "longitude", "经度", "东经", "jd")
_LAT = ("lat", "latitude", "纬度", "北纬", "wd")
_X = ("x", "东坐标", "横坐标", "easting", "east", "x坐标")
_Y = ("y", "北坐标", "纵坐标", "northing", "north", "y坐标")
_WKT = ("wkt", "geometry", "geom", "shape", "几何")
_ID = ("site_id", "id", "编号", "项目编号", "地块编号", "xmbh", "dkbh", "code")
_TYPE = ("project_type", "项目类型", "行业类别", "行业类型", "建设类型", "xmlx", "type")
_NAME = ("name", "项目名称", "名称", "地块名称", "xmmc", "mc")


def _find(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    folded = {clean_key(c): c for c in columns}
    for a in aliases:
        if clean_key(a) in folded:
            return folded[clean_key(a)]
    return None


def _has_coords(cols: list[str]) -> bool:
    return bool((_find(cols, _LON) and _find(cols, _LAT)) or (_find(cols, _X) and _find(cols, _Y)) or _find(cols, _WKT))


def _read_table(
    path: Path, sites_crs: str | None, *, sheet: str | None = None, coords: str | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """CSV/XLSX with lon/lat, x/y or WKT columns -> GeoDataFrame and the row labels the user sees."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        df, rows = read_excel_sheets(path, sheet, _has_coords, _ID)
    else:
        raw = path.read_bytes()
        check_text_table(raw, path.name)
        enc = detect_text_encoding(raw[: 1 << 20])
        sep = "\t" if path.suffix.lower() == ".tsv" else None
        df = pd.read_csv(path, encoding=enc, sep=sep, engine="python", dtype=object, skipinitialspace=True)
        rows = [str(i + 2) for i in range(len(df))]
    cols = [str(c) for c in df.columns]
    df.columns = cols
    lon, lat = _find(cols, _LON), _find(cols, _LAT)
    x, y = _find(cols, _X), _find(cols, _Y)
    wkt = _find(cols, _WKT)
    crs: CRS | None = None
    if lon and lat and x and y:
        pair = choose_pair(df, path.name, rows, (lon, lat), (x, y), sites_crs, coords)
        lon, lat = (lon, lat) if pair == "lonlat" else (None, None)
    if lon and lat:
        xs, ys, crs = df[lon], df[lat], CRS.from_epsg(4326)
    elif x and y:
        if sites_crs is None:
            raise CRSError(
                f"{path.name} 用 {x}/{y} 列给出坐标但没有坐标系。请加 --sites-crs（如 EPSG:4547、cgcs2000、wgs84、gcj02）。",
                f"{path.name} has {x}/{y} columns but no CRS; pass --sites-crs (e.g. EPSG:4547, cgcs2000, wgs84, gcj02)",
            )
        xs, ys = df[x], df[y]
    elif wkt:
        return gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=parse_wkt(df[wkt], rows, path.name), crs=None), rows
    else:
        raise InputError(
            f"{path.name} 中找不到坐标列。需要 经度/纬度（lon/lat），或 x/y 加 --sites-crs，或 WKT 列。现有列：{', '.join(cols)}",
            f"{path.name}: no coordinate columns; need lon/lat, x/y with --sites-crs, or a WKT column; columns: {', '.join(cols)}",
        )
    xn = pd.to_numeric(xs, errors="coerce")
    yn = pd.to_numeric(ys, errors="coerce")
    bad = np.flatnonzero((xn.isna() | yn.isna()).to_numpy())
    if len(bad):
        listed = [f"{rows[i]}: ({xs.iloc[i]!r}, {ys.iloc[i]!r})" for i in bad]
        raise InputError(
            f"{path.name} 有无法识别的坐标，行（含表头计）：{format_rows(listed)}。请填写数值坐标。",
            f"{path.name}: non-numeric coordinates in rows {format_rows(listed)}",
        )
    if crs is not None:
        check_lonlat_values(xn.to_numpy(float), yn.to_numpy(float), rows, path.name, names=(str(lon), str(lat)))
    geoms = shapely.points(xn.to_numpy(float), yn.to_numpy(float))
    return gpd.GeoDataFrame(df, geometry=geoms, crs=crs), rows


def read_sites(
    path: str | os.PathLike[str],
    *,
    sites_crs: str | None = None,
    layer: str | None = None,
    sheet: str | None = None,
    coords: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a sites file into a GeoDataFrame with a CRS (WGS84 for web-map inputs).

    Parameters
    ----------
    path : path-like
        Vector file, CSV/XLSX, or 界址点 坐标文件 TXT.
    sites_crs : str, optional
        CRS when the file has none (or to override a wrong one): EPSG code,
        ``cgcs2000``, ``wgs84``, ``gcj02`` (高德/腾讯) or ``bd09`` (百度).
    layer : str, optional
        Layer within a multi-layer file; the CAD layer of a DXF; one folder of a KML.
    sheet : str, optional
        One sheet of a workbook (default: every sheet with coordinate columns).
    coords : {'lonlat', 'xy'}, optional
        Which pair to use when a table has both lon/lat and X/Y columns that disagree.

    Returns
    -------
    GeoDataFrame
        Raw attributes and geometry, CRS set.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"找不到地块文件：{path}", f"sites file not found: {path}")
    if path.is_dir():
        raise InputError(
            f"{path} 是一个文件夹，需要的是地块文件（CSV、XLSX、GPKG、SHP、KML、DXF、坐标文件 TXT）。",
            f"{path} is a folder; give a sites file (CSV, XLSX, GPKG, SHP, KML, DXF, coordinate TXT)",
        )
    suffix = path.suffix.lower()
    rows = None
    if suffix == ".txt" and is_coordfile(path):
        gdf = read_coordfile(path)
    elif suffix in TABLE_SUFFIXES:
        gdf, rows = _read_table(path, sites_crs, sheet=sheet, coords=coords)
    elif suffix == ".dxf":
        gdf = read_dxf(path, layer)
    elif suffix in (".kml", ".kmz"):
        gdf = read_kml(path, layer)
    else:
        gdf = read_vector(path, layer, require_crs=False)
    gdf = _apply_crs(gdf, sites_crs, path.name)
    check_coordinates(gdf, path.name, rows)
    return gdf


def _apply_crs(gdf: gpd.GeoDataFrame, sites_crs: str | None, label: str) -> gpd.GeoDataFrame:
    if sites_crs is not None:
        kind, crs = parse_crs_alias(sites_crs)
        if kind in ("gcj02", "bd09"):
            if gdf.crs is not None and not CRS.from_user_input(gdf.crs).is_geographic:
                raise CRSError(
                    f"{label} 是投影坐标（{gdf.crs.name}），不能按 {kind} 经纬度处理。",
                    f"{label} is projected ({gdf.crs.name}); {kind} needs lon/lat",
                )
            return to_wgs84_gdf(gdf.set_crs(None, allow_override=True) if gdf.crs is not None else gdf, kind)
        if gdf.crs is not None and not CRS.from_user_input(gdf.crs).equals(crs, ignore_axis_order=True):
            warnings.warn(
                f"{label} 自带坐标系 {gdf.crs.name}，按 --sites-crs 改为 {crs.name}。"
                f" / {label} declares {gdf.crs.name}; overridden by --sites-crs {crs.name}",
                GeometryRepairWarning,
                stacklevel=3,
            )
        return gdf.set_crs(crs, allow_override=True)
    if gdf.crs is None and len(gdf):
        raise CRSError(
            f"{label} 没有坐标系。请用 --sites-crs 指定，如 wgs84、cgcs2000、EPSG:4547、gcj02（高德）或 bd09（百度）。",
            f"{label} has no CRS; pass --sites-crs (wgs84, cgcs2000, EPSG:4547, gcj02, bd09)",
        )
    return gdf


def prepare_sites(
    gdf: gpd.GeoDataFrame,
    *,
    id_field: str | None = None,
    type_field: str | None = None,
    project_type: str | None = None,
    types: ProjectTypes = DEFAULT_TYPES,
    source: str = "",
) -> gpd.GeoDataFrame:
    """Give sites a unique ``site_id``, canonical ``project_type`` and ``name``.

    Parameters
    ----------
    gdf : GeoDataFrame
        Sites as read.
    id_field : str, optional
        Id column (default: ``site_id``, else ``id``, else row number).
    type_field : str, optional
        Project-type column (default ``project_type`` or a Chinese alias).
    project_type : str, optional
        One type for every site (overrides the column).
    types : ProjectTypes
        Vocabulary.
    source : str
        File name for messages.

    Returns
    -------
    GeoDataFrame
        ``site_id``, ``name``, ``project_type``, ``project_type_raw``, the
        other attributes, geometry (2D, valid, non-empty).

    Raises
    ------
    InputError, RuleError
        Listing every offending row.
    """
    label = f"{source}：" if source else ""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    out = gdf.copy()
    if id_field is not None and id_field not in cols:
        raise InputError(
            f"{label}没有编号字段 {id_field}；现有字段：{', '.join(cols)}", f"{source}: no id field {id_field}; fields: {', '.join(cols)}"
        )
    idcol = id_field or _find(cols, _ID)
    if idcol is not None:
        ids = out[idcol].astype("string").str.strip()
        missing = ids.isna() | (ids == "")
        if missing.any():
            raise InputError(
                f"{label}编号字段 {idcol} 为空的行：{format_rows([int(i) + 1 for i in np.flatnonzero(missing)])}",
                f"{source}: empty ids in {idcol} at rows {format_rows([int(i) + 1 for i in np.flatnonzero(missing)])}",
            )
        ids = ids.astype(str)
    else:
        ids = pd.Series([str(i + 1) for i in range(len(out))], index=out.index)
    dup = ids.duplicated(keep=False)
    if dup.any():
        rows = [f"{int(i) + 1}: {ids.iloc[i]}" for i in np.flatnonzero(dup.to_numpy())]
        raise InputError(
            f"{label}地块编号重复（{idcol}），行：{format_rows(rows)}。每个地块需要唯一编号；可用 --id-field 指定其他字段。",
            f"{source}: duplicate site ids ({idcol}) in rows {format_rows(rows)}; ids must be unique (see --id-field)",
        )
    if project_type is not None:
        raw_type = pd.Series([project_type] * len(out), index=out.index, dtype=object)
    else:
        if type_field is not None and type_field not in cols:
            raise InputError(
                f"{label}没有项目类型字段 {type_field}；现有字段：{', '.join(cols)}",
                f"{source}: no project-type field {type_field}; fields: {', '.join(cols)}",
            )
        tcol = type_field or _find(cols, _TYPE)
        if tcol is None:
            raise InputError(
                f"{label}找不到项目类型字段（project_type/项目类型）。用 --type-field 指定字段，或用 --project-type 为全部地块指定类型。",
                f"{source}: no project-type field; pass --type-field or --project-type",
            )
        raw_type = out[tcol]
    canon = types.normalise(raw_type.reset_index(drop=True), source=label).to_numpy()
    namecol = _find(cols, _NAME)
    names = out[namecol].astype("string").fillna("").astype(str).to_numpy() if namecol else ids.to_numpy()
    geoms = np.asarray(out.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        rows = [f"{int(i) + 1}: {ids.iloc[i]}" for i in np.flatnonzero(empty)]
        raise InputError(
            f"{label}以下地块没有几何（空坐标）：{format_rows(rows)}。请补全坐标或删除这些行后重试。",
            f"{source}: sites without geometry: {format_rows(rows)}; fill in or remove them",
        )
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=True)
        warnings.warn(
            f"{label}修复了 {int(invalid.sum())} 个无效地块几何：{format_rows(list(ids[invalid]), 10)}"
            f" / repaired {int(invalid.sum())} invalid site geometries",
            GeometryRepairWarning,
            stacklevel=2,
        )
    rest = out.drop(columns=[c for c in (out.geometry.name, "site_id", "name", "project_type") if c in out.columns])
    result = gpd.GeoDataFrame(
        {
            "site_id": ids.to_numpy(),
            "name": names,
            "project_type": canon,
            "project_type_raw": raw_type.astype("string").fillna("").astype(str).to_numpy(),
        },
        geometry=geoms,
        crs=gdf.crs,
    )
    for c in rest.columns:
        result[c] = rest[c].to_numpy()
    return result
