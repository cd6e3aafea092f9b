"""Read proposed project sites from whatever a planner has.

Accepted: any vector file pyogrio reads (GeoPackage, Shapefile, GeoJSON,
KML, DXF, GeoParquet), CSV/XLSX with lon/lat columns (or x/y plus
``--sites-crs``, or a WKT column), and the 用地报批 界址点 坐标文件 TXT.
Sites get a unique ``site_id``, a canonical ``project_type`` and a ``name``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.base import clean_key, format_rows
from spatial.colnames import RENAMES_ATTR, SUFFIX, is_own_output, own_derived_columns, safe_names
from spatial.coordfile import is_coordfile, read_coordfile
from spatial.errors import CRSError, DataWarning, GeometryRepairWarning, InputError, SitesCRSMissing
from spatial.io import detect_text_encoding, file_sha256, read_vector, unescape_formulas
from spatial.project_types import DEFAULT_TYPES, ProjectTypes
from spatial.site_options import SiteOptions
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
from spatial.xyorder import XY_ATTR, choose_xy_order

if TYPE_CHECKING:
    from spatial.zoning import Zoning

__all__ = ["read_sites", "prepare_sites", "TABLE_SUFFIXES", "ROW_COLUMN", "USER_COLUMNS_ATTR", "row_labels", "read_sites_folder", "read_sites_files", "SiteFile", "SiteOptions", "site_types", "input_sha256", "explain_missing_crs", "apply_crs", "load_sites"]

#: Column a reader adds with each row's number as the user sees it (spreadsheet row or
#: CSV line, header = 1; ``Sheet!row`` for workbooks).  prepare_sites uses it in messages and drops it.
ROW_COLUMN = "_ecozone_row"
#: ``GeoDataFrame.attrs`` key listing the input's own columns (建设单位, 投资 …), in input order.
USER_COLUMNS_ATTR = "ecozone_user_columns"
ROWS_NOTE_ZH = "（行号同 Excel/文本编辑器所见，表头为第1行）"
ROWS_NOTE_EN = " (as numbered in Excel or a text editor, header = 1)"

TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xls")
_LON = ("lon", "lng", "long", "longitude", "经度", "东经", "jd")
_LAT = ("lat", "latitude", "纬度", "北纬", "wd")
_X = ("x", "东坐标", "横坐标", "easting", "east", "x坐标")
_Y = ("y", "北坐标", "纵坐标", "northing", "north", "y坐标")
_WKT = ("wkt", "geometry", "geom", "shape", "几何")
_ID = ("site_id", "id", "编号", "项目编号", "地块编号", "xmbh", "dkbh", "code")
_TYPE = ("project_type", "项目类型", "行业类别", "行业类型", "建设类型", "xmlx", "type")
_NAME = ("name", "项目名称", "名称", "地块名称", "xmmc", "mc")


def row_labels(numbers: np.ndarray, sheet: str | None = None) -> np.ndarray:
    """Row labels as the user sees them: ``5``, or ``一期!5`` in a workbook sheet.

    Parameters
    ----------
    numbers : ndarray of int
        Spreadsheet rows or file lines.
    sheet : str, optional
        Sheet name.

    Returns
    -------
    ndarray of str
        One label per row.
    """
    labels = np.asarray(numbers).astype(np.int64).astype(str).astype(object)
    return labels if sheet is None else (sheet + "!") + labels


def _find(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    folded = {clean_key(c): c for c in columns}
    for a in aliases:
        if clean_key(a) in folded:
            return folded[clean_key(a)]
    return None


def _has_coords(cols: list[str]) -> bool:
    return bool((_find(cols, _LON) and _find(cols, _LAT)) or (_find(cols, _X) and _find(cols, _Y)) or _find(cols, _WKT))


def _read_table(
    path: Path, sites_crs: str | None, xy_order: str | None = None, *, sheet: str | None = None, coords: str | None = None
) -> gpd.GeoDataFrame:
    """CSV/XLSX with lon/lat, x/y or WKT columns -> GeoDataFrame (with :data:`ROW_COLUMN`)."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        # Every sheet with coordinates (or the one --sheet names), rows labelled 一期!5.
        df, labels = read_excel_sheets(path, sheet, _has_coords, _ID)
        df = df.copy()
        df[ROW_COLUMN] = labels
    else:
        raw = path.read_bytes()
        check_text_table(raw, path.name)
        enc = detect_text_encoding(raw[: 1 << 20])
        sep = "\t" if path.suffix.lower() == ".tsv" else None
        # Blank lines are kept (then dropped) so every row knows the line number an editor shows.
        df = pd.read_csv(path, encoding=enc, sep=sep, engine="python", dtype=object, skipinitialspace=True, skip_blank_lines=False)
        df = df.dropna(how="all")
        df.columns = [str(c) for c in df.columns]
        if is_own_output(df.columns):
            df = unescape_formulas(df)  # ecozone's own sites.csv: formula-like text was escaped on writing
        df[ROW_COLUMN] = row_labels(df.index.to_numpy() + 2)  # header = row/line 1
    cols = [str(c) for c in df.columns if c != ROW_COLUMN]
    df = df.reset_index(drop=True)
    rows = df[ROW_COLUMN].astype(str).tolist()
    lon, lat = _find(cols, _LON), _find(cols, _LAT)
    x, y = _find(cols, _X), _find(cols, _Y)
    wkt = _find(cols, _WKT)
    crs: CRS | None = None
    auto_xy: dict | None = None
    if lon and lat and x and y:
        pair = choose_pair(df, path.name, rows, (lon, lat), (x, y), sites_crs, coords)
        lon, lat = (lon, lat) if pair == "lonlat" else (None, None)
    if lon and lat:
        xs, ys, crs = df[lon], df[lat], CRS.from_epsg(4326)
    elif x and y:
        xs, ys = df[x], df[y]
        swapped = choose_xy_order(pd.to_numeric(xs, errors="coerce"), pd.to_numeric(ys, errors="coerce"), xy_order, path.name, x, y)
        if swapped:
            xs, ys = ys, xs
        auto_xy = {"swapped": swapped} if xy_order is None else None
        if sites_crs is None:
            east, north = (pd.to_numeric(v, errors="coerce").to_numpy(float) for v in (xs, ys))
            raise SitesCRSMissing(
                f"{path.name} 用 {x}/{y} 列给出坐标但没有坐标系。请加 --sites-crs（CGCS2000 3度带不带带号为 EPSG:4534–4554，按中央经线选；或 cgcs2000、wgs84、gcj02）。",
                f"{path.name} has {x}/{y} columns but no CRS; pass --sites-crs (CGCS2000 3-degree GK zones without prefix are EPSG:4534-4554, by central meridian; or cgcs2000, wgs84, gcj02)",
                easting=east,
                northing=north,
            )
    elif wkt:
        return gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=parse_wkt(df[wkt], rows, path.name), crs=None)
    else:
        raise InputError(
            f"{path.name} 中找不到坐标列。需要 经度/纬度（lon/lat），或 x/y 加 --sites-crs，或 WKT 列。现有列：{', '.join(cols)}",
            f"{path.name}: no coordinate columns; need lon/lat, x/y with --sites-crs, or a WKT column; columns: {', '.join(cols)}",
        )
    xn = pd.to_numeric(xs, errors="coerce")
    yn = pd.to_numeric(ys, errors="coerce")
    bad = df.index[xn.isna() | yn.isna()]
    if len(bad):
        rows = [f"{df.at[i, ROW_COLUMN]}: ({xs[i]!r}, {ys[i]!r})" for i in bad]
        raise InputError(
            f"{path.name} 有无法识别的坐标，行{ROWS_NOTE_ZH}：{format_rows(rows)}。请填写数值坐标。",
            f"{path.name}: non-numeric coordinates in rows{ROWS_NOTE_EN} {format_rows(rows)}",
        )
    if crs is not None:
        check_lonlat_values(xn.to_numpy(float), yn.to_numpy(float), rows, path.name, names=(str(lon), str(lat)))
    geoms = shapely.points(xn.to_numpy(float), yn.to_numpy(float))
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=crs)
    if auto_xy is not None:
        gdf.attrs[XY_ATTR] = auto_xy  # the order was guessed: the zoning's boundary may still overrule it
    return gdf


def read_sites(path: str | os.PathLike[str], options: SiteOptions | None = None, *, name: str | None = None, **changes: Any) -> gpd.GeoDataFrame:
    """Read a sites file (or a folder of them) into a GeoDataFrame with a CRS (WGS84 for web-map inputs).

    Parameters
    ----------
    path : path-like
        Vector file, CSV/XLSX, 界址点 坐标文件 TXT, or a folder: every
        sites file in it is read through this same function (see
        :func:`read_sites_folder`).
    options : SiteOptions, optional
        How to read: ``sites_crs`` (when the file has none, or to override a
        wrong one), ``layer`` (multi-layer file, CAD layer of a DXF, folder of
        a KML), ``sheet``, ``coords``, ``xy_order`` (survey: X = northing, as
        in 坐标成果表; default: from the numbers, with a warning).
    name : str, optional
        The file's name as its user knows it (an upload stored under another
        name): ids made from the file name use it.
    **changes
        Fields of :class:`~spatial.site_options.SiteOptions` given directly
        (``read_sites(path, sites_crs="wgs84")``).

    Returns
    -------
    GeoDataFrame
        Raw attributes and geometry, CRS set.

    Notes
    -----
    GeoParquet (``.parquet``/``.geoparquet``) is read through pyarrow.
    """
    opts = SiteOptions.of(options, **changes)
    path = Path(path)
    if not path.exists():
        raise InputError(f"找不到地块文件：{path}", f"sites file not found: {path}")
    if path.is_dir():
        return read_sites_folder(path, opts)
    suffix = path.suffix.lower()
    if suffix == ".txt" and is_coordfile(path):
        gdf = read_coordfile(path, stem=Path(name).stem if name else None)
    elif suffix in TABLE_SUFFIXES:
        gdf = _read_table(path, opts.sites_crs, opts.xy_order, sheet=opts.sheet, coords=opts.coords)
    elif suffix == ".dxf":
        gdf = read_dxf(path, opts.layer)
    elif suffix in (".kml", ".kmz"):
        gdf = read_kml(path, opts.layer)
    else:
        layer = opts.layer
        if layer is None and suffix == ".gpkg":
            from spatial.io import list_layers

            names = list_layers(path)
            if "sites" in names and {"hits", "rules"} <= set(names):
                layer = "sites"  # ecozone's own screening.gpkg: its sites layer is the input
        gdf = read_vector(path, layer, require_crs=False)
    if len(gdf) == 0:
        # Nothing to screen is not "nothing found": an empty output set would read as all clear.
        raise InputError(
            f"{path.name}：没有地块（文件只有表头或没有要素）。请检查是否选错了文件、工作表或图层（--sheet/--layer）。",
            f"{path.name}: no sites (a header only, or no features); check the file, sheet or layer (--sheet/--layer)",
        )
    gdf = apply_crs(gdf, opts.sites_crs, path.name)
    check_coordinates(gdf, path.name, gdf[ROW_COLUMN].astype(str).tolist() if ROW_COLUMN in gdf else None)
    return gdf


#: Suffixes a folder of sites is searched for (a .txt must also look like a 坐标文件).
SITES_SUFFIXES = (".txt", *TABLE_SUFFIXES, ".gpkg", ".shp", ".geojson", ".json", ".kml", ".kmz", ".gml", ".fgb", ".dxf", ".parquet", ".geoparquet")
#: Side-car files of a Shapefile and the like, never sites of their own.
_SIDECARS = (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml", ".qmd", ".qml", ".lock")


def read_sites_folder(folder: str | os.PathLike[str], options: SiteOptions | None = None) -> gpd.GeoDataFrame:
    """Read every sites file in a folder into one table with one id namespace.

    Each file goes through :func:`read_sites`, so every format it knows
    (and every reader added to it) works here too.  A file's ids are kept
    when they are real; missing or template ids (``FID_0``, ``DKMC``, ``@``)
    become ``<file stem>-<row or parcel number>``, and ids that two files
    share are prefixed with their file stem, so ids never collide.  Files of
    other kinds are skipped with one warning naming them.

    Parameters
    ----------
    folder : path-like
        The folder (not searched recursively).
    options : SiteOptions, optional
        As for :func:`read_sites`: ``sites_crs`` and ``xy_order`` apply to
        every file (``layer``, ``sheet`` and ``coords`` name parts of one file).

    Returns
    -------
    GeoDataFrame
        All sites, with ``site_id``, ``source_file`` and each file's own
        columns; in the first file's CRS when all files share it, else in
        CGCS2000 geographic coordinates.
    """
    folder = Path(folder)
    files: list[SiteFile] = []
    skipped: list[str] = []
    for f in sorted(folder.iterdir()):
        suffix = f.suffix.lower()
        if f.name.startswith((".", "~$")) or f.is_dir() or suffix in _SIDECARS:
            continue
        if suffix not in SITES_SUFFIXES or (suffix == ".txt" and not is_coordfile(f)):
            skipped.append(f.name)
            continue
        files.append(SiteFile(f, f.name))
    if skipped:
        warnings.warn(
            f"文件夹 {folder.name} 中这些文件不是地块文件，已跳过：{format_rows(skipped, 20)}"
            f" / skipped files that are not sites files: {format_rows(skipped, 20)}",
            DataWarning,
            stacklevel=3,
        )
    if not files:
        raise InputError(
            f"文件夹 {folder} 中没有可读的地块文件（坐标文件 TXT、CSV/XLSX、GPKG、SHP、KML 等）。",
            f"no sites files in folder {folder} (coordinate TXT, CSV/XLSX, GPKG, SHP, KML ...)",
        )
    opts = SiteOptions.of(options)
    return read_sites_files(files, SiteOptions(sites_crs=opts.sites_crs, xy_order=opts.xy_order))


class SiteFile(NamedTuple):
    """One sites file among several: where it is, the name its user knows it by, its own CRS if declared."""

    path: Path
    name: str
    sites_crs: str | None = None


def read_sites_files(files: Sequence[SiteFile], options: SiteOptions | None = None) -> gpd.GeoDataFrame:
    """Read several sites files into one table with one id namespace (a folder's files, a web job's uploads).

    A file's ids are kept when they are real; missing or template ids
    (``FID_0``, ``DKMC``, ``@``) become ``<file stem>-<row or parcel
    number>``, and ids that two files share are prefixed with their file
    stem.  The stem is that of the name the user gave the file, so the same
    files give the same ids from a folder on the command line and as
    uploads in the web app.

    Parameters
    ----------
    files : sequence of SiteFile
        Each file, its name as the user knows it and its own ``sites_crs``
        (overriding ``options.sites_crs`` for that file).
    options : SiteOptions, optional
        As for :func:`read_sites`, applied to every file.

    Returns
    -------
    GeoDataFrame
        All sites, with ``site_id``, ``source_file`` (the display name) and
        each file's own columns; in the first file's CRS when all files
        share it, else in CGCS2000 geographic coordinates.
    """
    from spatial.coordfile import is_placeholder_id

    opts = SiteOptions.of(options)
    frames: list[gpd.GeoDataFrame] = []
    for f, shown, own_crs in files:
        gdf = read_sites(f, opts.for_file(own_crs), name=shown)
        stem = Path(shown).stem or "file"
        cols = [c for c in gdf.columns if c not in (gdf.geometry.name, ROW_COLUMN)]
        idcol = _find(cols, _ID)
        numbers = gdf[ROW_COLUMN].to_numpy() if ROW_COLUMN in gdf else np.arange(1, len(gdf) + 1).astype(str)
        ids = gdf[idcol].astype(object).to_numpy() if idcol else np.full(len(gdf), None, dtype=object)
        placeholder = np.fromiter((is_placeholder_id(v) for v in ids), bool, len(ids))
        stem_ids = np.array([f"{stem}-{k}" for k in range(1, len(gdf) + 1)], dtype=object)
        gdf = gdf.copy()
        gdf["site_id"] = np.where(placeholder, stem_ids, np.asarray(ids, dtype=object).astype(str))
        gdf["source_file"] = shown
        gdf[ROW_COLUMN] = shown + ":" + np.asarray(numbers, dtype=object).astype(str)
        frames.append(gdf)
    crss = {CRS.from_user_input(g.crs).to_wkt() if g.crs is not None else None for g in frames}
    if len(crss) > 1:
        frames = [g.to_crs(4490) for g in frames]  # several GK zones or datums: meet in CGCS2000 degrees
    out = pd.concat(frames, ignore_index=True)
    ids = out["site_id"].astype(str)
    shared = out.groupby(ids)["source_file"].transform("nunique") > 1
    if shared.any():  # a file sharing any id with another file gets all its ids prefixed, for one consistent scheme
        mask = out["source_file"].isin(set(out.loc[shared, "source_file"])).to_numpy()
        stems = out.loc[mask, "source_file"].map(lambda n: Path(n).stem)
        out.loc[mask, "site_id"] = [i if i.startswith(f"{s}-") else f"{s}-{i}" for s, i in zip(stems, ids[mask], strict=True)]
    return gpd.GeoDataFrame(out, geometry=frames[0].geometry.name, crs=frames[0].crs)


def apply_crs(gdf: gpd.GeoDataFrame, sites_crs: str | None, label: str) -> gpd.GeoDataFrame:
    """Give sites their CRS: ``sites_crs`` (overriding a declared one, with a warning) or the file's own.

    Parameters
    ----------
    gdf : GeoDataFrame
        Sites as read.
    sites_crs : str, optional
        EPSG code, ``cgcs2000``, ``wgs84``, ``gcj02`` or ``bd09``; web-map
        coordinates are converted to WGS84.
    label : str
        File name for messages.

    Returns
    -------
    GeoDataFrame
        Sites with a CRS.

    Raises
    ------
    CRSError
        No CRS at all, or a web-map CRS for projected coordinates.
    """
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
        # The numbers travel with the error: screening names the Gauss-Kruger zone that fits the zoning.
        rep = shapely.point_on_surface(np.asarray(gdf.geometry.values, dtype=object))
        raise SitesCRSMissing(
            f"{label} 没有坐标系。请用 --sites-crs 指定，如 wgs84、cgcs2000、EPSG:4547、gcj02（高德）或 bd09（百度）。",
            f"{label} has no CRS; pass --sites-crs (wgs84, cgcs2000, EPSG:4547, gcj02, bd09)",
            easting=shapely.get_x(rep),
            northing=shapely.get_y(rep),
        )
    return gdf


def prepare_sites(
    gdf: gpd.GeoDataFrame, options: SiteOptions | None = None, *, types: ProjectTypes = DEFAULT_TYPES, source: str = "", **changes: Any
) -> gpd.GeoDataFrame:
    """Give sites a unique ``site_id``, canonical ``project_type`` and ``name``.

    Parameters
    ----------
    gdf : GeoDataFrame
        Sites as read.
    options : SiteOptions, optional
        ``id_field`` (default: ``site_id``, else ``id``, else row number),
        ``type_field`` (default ``project_type`` or a Chinese alias),
        ``project_type`` (one type for every site; an unknown value is an
        error naming ``--project-type``), ``strict_types`` (unknown or empty
        types are an error instead of ``other``).
    types : ProjectTypes
        Vocabulary (extended by a ``--type-map`` where given).
    source : str
        File name for messages.
    **changes
        Fields of :class:`~spatial.site_options.SiteOptions` given directly.

    Returns
    -------
    GeoDataFrame
        ``site_id``, ``name``, ``project_type``, ``project_type_raw``, every
        other input column unchanged, geometry (2D, valid, non-empty).
        Messages name rows as the user sees them (:data:`ROW_COLUMN`).

    Raises
    ------
    InputError, RuleError
        Listing every offending row.
    """
    opts = SiteOptions.of(options, **changes)
    id_field, type_field, project_type, strict_types = opts.id_field, opts.type_field, opts.project_type, opts.strict_types
    label = f"{source}：" if source else ""
    cols = [c for c in gdf.columns if c not in (gdf.geometry.name, ROW_COLUMN)]
    out = gdf.copy()
    if ROW_COLUMN in out:
        rows_of = out.pop(ROW_COLUMN).astype(str).to_numpy(dtype=object)
        note_zh, note_en = ROWS_NOTE_ZH, ROWS_NOTE_EN
    else:
        rows_of = np.arange(1, len(out) + 1).astype(str).astype(object)
        note_zh, note_en = "（要素序号）", " (feature number)"
    if id_field is not None and id_field not in cols:
        raise InputError(
            f"{label}没有编号字段 {id_field}；现有字段：{', '.join(cols)}", f"{source}: no id field {id_field}; fields: {', '.join(cols)}"
        )
    idcol = id_field or _find(cols, _ID)
    if idcol is not None:
        ids = out[idcol].astype("string").str.strip()
        missing = ids.isna() | (ids == "")
        if missing.any():
            rows = list(rows_of[missing.to_numpy()])
            raise InputError(
                f"{label}编号字段 {idcol} 为空的行{note_zh}：{format_rows(rows)}",
                f"{source}: empty ids in {idcol} at rows{note_en} {format_rows(rows)}",
            )
        ids = ids.astype(str)
    else:
        ids = pd.Series([str(i + 1) for i in range(len(out))], index=out.index)
    dup = ids.duplicated(keep=False)
    if dup.any():
        rows = [f"{rows_of[i]}: {ids.iloc[i]}" for i in np.flatnonzero(dup.to_numpy())]
        raise InputError(
            f"{label}地块编号重复（{idcol}），行{note_zh}：{format_rows(rows)}。每个地块需要唯一编号；可用 --id-field 指定其他字段。",
            f"{source}: duplicate site ids ({idcol}) in rows{note_en} {format_rows(rows)}; ids must be unique (see --id-field)",
        )
    tcol: str | None = None
    if project_type is not None:
        types.resolve_option(project_type)  # a bad --project-type is the option's fault, not the rows'
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
    canon = types.normalise(raw_type.reset_index(drop=True), source=label, rows=rows_of, strict=strict_types).to_numpy()
    namecol = _find(cols, _NAME)
    names = out[namecol].astype("string").fillna("").astype(str).to_numpy() if namecol else ids.to_numpy()
    geoms = np.asarray(out.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        rows = [f"{rows_of[i]}: {ids.iloc[i]}" for i in np.flatnonzero(empty)]
        raise InputError(
            f"{label}以下地块没有几何（空坐标），行{note_zh}：{format_rows(rows)}。请补全坐标或删除这些行后重试。",
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
    # The column a value came from is dropped when it is only another spelling of ecozone's own
    # (``NAME``, a KML ``Name``, ``Site_ID``); everything else is the user's and is carried through.
    used = {"site_id": idcol, "name": namecol, "project_type": None if project_type is not None else tcol}
    same = [c for own, c in used.items() if c is not None and clean_key(c) == own]
    # Any other column is kept (a `site_id` beside --id-field 编号, a `project_type` under --project-type):
    # renamed below as `site_id（原表）`, never dropped silently.
    rest = out.drop(columns=[out.geometry.name, *same])
    if is_own_output(rest.columns):
        # ecozone's own sites.csv / screening.gpkg screened again (after a zoning update): the previous
        # results are recomputed, the previous verdict kept as verdict（原表） to show what changed.
        derived = own_derived_columns(rest.columns)
        rest = rest.drop(columns=derived)
        warnings.warn(
            f"{label}识别为 ecozone 的筛查结果表：已去掉上次的结果列（{format_rows(derived, 8)}），"
            f"上次结论保留为 verdict{SUFFIX}，本次重新筛查。"
            f" / {source}: recognised as an ecozone result table; the previous result columns were dropped"
            f" ({len(derived)}), the previous verdict kept as verdict{SUFFIX}",
            DataWarning,
            stacklevel=2,
        )
    renames = safe_names(list(rest.columns))
    rest = rest.set_axis([renames[str(c)] for c in rest.columns], axis=1)
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
    result.attrs[USER_COLUMNS_ATTR] = [str(c) for c in rest.columns]  # carried to every output unchanged
    result.attrs[RENAMES_ATTR] = {k: v for k, v in renames.items() if k != v}  # recorded in run.json
    return result


def site_types(types: ProjectTypes, type_map: Mapping[str, str] | str | os.PathLike[str] | None) -> ProjectTypes:
    """Return the vocabulary sites are read with: the catalogue's, plus a bureau's ``--type-map``.

    Parameters
    ----------
    types : ProjectTypes
        The rule catalogue's vocabulary.
    type_map : mapping or path-like, optional
        User value -> ecozone type, or a YAML/CSV file of them.

    Returns
    -------
    ProjectTypes
        ``types`` itself when there is no map, else an extended copy.
    """
    if type_map is None:
        return types
    if isinstance(type_map, Mapping):
        return types.with_map(type_map)
    from spatial.type_map import load_type_map

    return types.with_map(load_type_map(type_map), source=f"{Path(type_map).name}：")


def input_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a sites input: the file, or every file of a folder (names and bytes).

    Parameters
    ----------
    path : path-like
        File or folder.

    Returns
    -------
    str
        Hex digest.
    """
    import hashlib

    path = Path(path)
    if not path.is_dir():
        return file_sha256(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
        h.update(f.name.encode())
        h.update(file_sha256(f).encode())
    return h.hexdigest()


def explain_missing_crs(exc: SitesCRSMissing, zoning: Zoning) -> CRSError:
    """Turn "X/Y without a CRS" into a message naming the Gauss-Kruger zone that fits the zoning.

    Parameters
    ----------
    exc : SitesCRSMissing
        The reader's error, carrying the numbers.
    zoning : Zoning
        The zoning the sites should fall in.

    Returns
    -------
    CRSError
        The original message, completed with the zone when one fits.
    """
    from spatial.xyorder import gk_zone_hint

    hint = gk_zone_hint(exc.easting, exc.northing, zoning) if exc.easting is not None else None
    if hint is None:
        return exc
    return CRSError(f"{exc.zh}{hint[0]}", f"{exc.en}; {hint[1]}" if exc.en else hint[1])


def load_sites(
    sites: gpd.GeoDataFrame | str | os.PathLike[str] | SiteFile,
    zoning: Zoning,
    options: SiteOptions | None = None,
    *,
    types: ProjectTypes = DEFAULT_TYPES,
) -> tuple[gpd.GeoDataFrame, dict[str, object]]:
    """Read (or take), prepare, reproject and sanity-check sites for screening against ``zoning``.

    The one sites reader every engine and command goes through, so they
    validate and reject inputs identically.

    Parameters
    ----------
    sites : GeoDataFrame, path-like or SiteFile
        Sites in any CRS, or a file or folder :func:`read_sites` reads (a
        :class:`SiteFile` when its user knows it by another name).
    zoning : Zoning
        The zoning (its working CRS and boundary).
    options : SiteOptions, optional
        How to read and prepare them (:func:`read_sites`, :func:`prepare_sites`;
        ``type_map``: see :func:`site_types`).
    types : ProjectTypes
        Vocabulary (the rule catalogue's).

    Returns
    -------
    (GeoDataFrame, dict)
        Prepared sites in the zoning's working CRS, and the input's audit record.
    """
    from spatial.crs import describe_crs, to_crs_geoms
    from spatial.sanity import check_sites_against_zoning
    from spatial.xyorder import fit_xy_to_boundary
    from spatial.zoning import display_path

    opts = SiteOptions.of(options)
    if isinstance(sites, (str, os.PathLike, SiteFile)):
        named = sites if isinstance(sites, SiteFile) else SiteFile(Path(sites), Path(sites).name)
        path, opts = Path(named.path), opts.for_file(named.sites_crs)
        try:
            raw = read_sites(path, opts, name=named.name)
        except SitesCRSMissing as exc:
            raise explain_missing_crs(exc, zoning) from exc
        raw = fit_xy_to_boundary(raw, zoning, path.name)
        shown = display_path(path) if named.name == path.name else named.name
        audit: dict[str, object] = {"path": shown, "sha256": input_sha256(path), "crs": describe_crs(raw.crs), "n_features": len(raw)}
        source = path.name
    else:
        raw = sites if sites.crs is not None else apply_crs(sites, opts.sites_crs, "sites")
        audit = {"path": "(in memory)", "sha256": "", "crs": describe_crs(raw.crs), "n_features": len(raw)}
        source = ""
    prep = prepare_sites(raw, opts, types=site_types(types, opts.type_map), source=source)
    geoms = to_crs_geoms(np.asarray(prep.geometry.values, dtype=object), CRS.from_user_input(prep.crs), zoning.crs)
    prep = prep.set_geometry(gpd.GeoSeries(geoms, index=prep.index, crs=zoning.crs), crs=zoning.crs)
    check_sites_against_zoning(raw, prep, zoning, source=source)
    return prep, audit
