"""Every file ecozone writes: its name, its writer and how it is read back.

One table (:data:`FILES`) names every output.  Commands plan their outputs
from it (so ``--force`` checks happen before any work), the writers below
write into a given directory (so a run can write into a staging directory
and swap it in), and :func:`read_screening` reads a screening folder back
for ``ecozone map``.

A screening writes

``sites.csv``
    one row per site: verdict, summary, area/length;
``hits.csv``
    one row per site x rule x feature with what varies per hit (rule id,
    feature, verdict, overlap m²/%, length, distance);
``rules.csv``
    once per run, one row per rule: its message and legal basis (hits refer
    to it by ``rule_id``; the report and XLSX print the full text);
``screening.gpkg`` (layers ``sites``, ``hits``, ``rules``) or, for large
runs, ``sites.parquet`` + ``hits.parquet``
    the same tables with geometry.  A hit carries the part of the site inside
    the feature; point sites gain nothing from it, so their hits carry none
    (a run of point sites writes ``hits`` as a plain table).

GeoParquet is written when asked (``--format parquet``), when the sites
came from GeoParquet, or when a run has more than :data:`PARQUET_AUTO_SITES`
sites: GDAL's GeoPackage writer then dominates the run time, and every
current GIS (QGIS ≥ 3.28, ArcGIS Pro ≥ 3.1) opens GeoParquet.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.engine.assemble import HIT_COLUMNS, SITE_COLUMNS, ScreeningResult
from spatial.errors import DataWarning, InputError
from spatial.facts import nearest_columns
from spatial.io import (
    PARQUET_SUFFIXES,
    atomic_output,
    ensure_writable,
    list_layers,
    read_vector,
    unescape_formulas,
    write_csv,
    write_vector_layers,
)
from spatial.rules import RuleSet
from spatial.site_options import SiteOptions
from spatial.sites import USER_COLUMNS_ATTR
from spatial.suitability import CLASSES, Suitability, class_zh

__all__ = [
    "FILES",
    "OutputFile",
    "PARQUET_AUTO_SITES",
    "HIT_FILE_COLUMNS",
    "RULE_COLUMNS",
    "output_path",
    "screening_outputs",
    "visual_outputs",
    "screening_format",
    "rules_table",
    "write_screening",
    "write_json",
    "read_screening",
    "user_columns",
    "ALTERNATIVES_FILES",
    "COMPARE_FILES",
    "suitability_outputs",
    "suitability_table",
    "write_suitability",
    "write_suitability_raster",
    "write_suitability_grid",
]

#: Above this many sites a screening writes GeoParquet unless ``--format gpkg`` is given.
PARQUET_AUTO_SITES = 100_000
#: Columns of hits.csv (and of the hits layer, before its geometry).
HIT_FILE_COLUMNS = [c for c in HIT_COLUMNS if c not in ("basis", "message_zh")]
#: Columns of rules.csv.
RULE_COLUMNS = ["rule_id", "layer", "mode", "verdict", "message_zh", "message_en", "basis", "notes"]

#: Above this many sites ``sites.csv`` leaves out the per-layer nearest-feature columns (about 0.1 ms per site and layer).
NEAREST_MAX_SITES = 100_000
#: Columns ecozone itself adds to the sites table (everything else came from the user's file).
_OWN_SITE_COLUMNS = (*SITE_COLUMNS, "area_m2", "length_m", "project_type_raw")


def user_columns(sites: pd.DataFrame) -> list[str]:
    """Return the columns of the user's own sites file (建设单位, 投资, 联系人 …), in input order.

    Parameters
    ----------
    sites : DataFrame
        ``ScreeningResult.sites``.

    Returns
    -------
    list of str
        Columns every output carries through unchanged.
    """
    recorded = sites.attrs.get(USER_COLUMNS_ATTR)
    geometry = sites.geometry.name if isinstance(sites, gpd.GeoDataFrame) else "geometry"
    if recorded is not None:
        return [c for c in recorded if c in sites.columns and c != geometry]
    return [c for c in sites.columns if c not in _OWN_SITE_COLUMNS and c != geometry and not str(c).startswith("_ecozone")]


def _gpkg_safe(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mixed-type text columns as strings (GeoPackage fields have one type); numbers and dates stay typed."""
    out = frame.copy()
    for c in columns:
        if out[c].dtype == object:
            out[c] = out[c].astype("string")
    return out


@dataclass(frozen=True)
class OutputFile:
    """One output file.

    Attributes
    ----------
    name : str
        File name inside the output directory.
    label_zh : str
        What it holds, for messages and the README.
    """

    name: str
    label_zh: str


#: Every output file, by key.
FILES: dict[str, OutputFile] = {
    "sites_csv": OutputFile("sites.csv", "地块结论表"),
    "hits_csv": OutputFile("hits.csv", "逐项命中表"),
    "rules_csv": OutputFile("rules.csv", "规则及依据表"),
    "screening_gpkg": OutputFile("screening.gpkg", "筛查结果空间数据（GeoPackage）"),
    "sites_parquet": OutputFile("sites.parquet", "地块结论空间数据（GeoParquet）"),
    "hits_parquet": OutputFile("hits.parquet", "逐项命中空间数据（GeoParquet）"),
    "map": OutputFile("map.html", "交互地图"),
    "report_html": OutputFile("report.html", "筛查报告"),
    "report_xlsx": OutputFile("report.xlsx", "筛查报告表格"),
    "report_docx": OutputFile("report.docx", "筛查报告（Word）"),
    "report_pdf": OutputFile("report.pdf", "筛查报告（PDF）"),
    "figures_dir": OutputFile("附图", "报告附图（文件夹）"),
    "indicators_csv": OutputFile("indicators.csv", "指标表"),
    "indicators_json": OutputFile("indicators.json", "指标（JSON）"),
    "validate_json": OutputFile("validate.json", "数据检查结果"),
    "validate_gpkg": OutputFile("validate.gpkg", "数据检查问题位置"),
    "diff_json": OutputFile("diff.json", "变化审计结果"),
    "diff_gpkg": OutputFile("diff.gpkg", "变化图斑"),
    "diff_breakdown_csv": OutputFile("diff_breakdown.csv", "变化分区统计"),
    "list_review": OutputFile("list_review.xlsx", "准入清单解析审核表"),
    "suitability_gpkg": OutputFile("suitability.gpkg", "适宜性分区（GeoPackage）"),
    "suitability_csv": OutputFile("suitability.csv", "适宜性面积表"),
    "suitability_tif": OutputFile("suitability.tif", "适宜性栅格（多类型时为 suitability_<类型>.tif）"),
    "suitability_summary_csv": OutputFile("suitability_summary.csv", "多类型适宜性汇总"),
    "suitability_map": OutputFile("suitability.html", "适宜性地图"),
    "alternatives_gpkg": OutputFile("alternatives.gpkg", "替代选址（GeoPackage）"),
    "alternatives_csv": OutputFile("alternatives.csv", "替代选址表"),
    "alternatives_map": OutputFile("alternatives.html", "替代选址地图"),
    "compare_csv": OutputFile("changes.csv", "方案比选：结论变化表"),
    "compare_summary": OutputFile("compare_summary.txt", "方案比选摘要"),
    "compare_redline": OutputFile("redline_change.csv", "方案比选：红线变化"),
    "compare_map": OutputFile("changes.html", "方案比选地图"),
}


def output_path(out_dir: str | os.PathLike[str], key: str) -> Path:
    """Return where output ``key`` goes in ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Output directory.
    key : str
        A key of :data:`FILES`.

    Returns
    -------
    Path
        The file path.
    """
    return Path(out_dir) / FILES[key].name


def screening_format(fmt: str | None, n_sites: int, sites_path: str | os.PathLike[str] | None = None) -> str:
    """Decide the spatial format of a screening: as asked, else GeoParquet for GeoParquet input or large runs.

    Parameters
    ----------
    fmt : {'gpkg', 'parquet'} or None
        The user's choice.
    n_sites : int
        Sites screened.
    sites_path : path-like, optional
        The sites file.

    Returns
    -------
    str
        ``'gpkg'`` or ``'parquet'``.
    """
    if fmt:
        return fmt
    from_parquet = sites_path is not None and Path(sites_path).suffix.lower() in PARQUET_SUFFIXES
    return "parquet" if from_parquet or n_sites > PARQUET_AUTO_SITES else "gpkg"


def screening_outputs(out_dir: str | os.PathLike[str], fmt: str | None = "gpkg") -> dict[str, Path]:
    """List the files a screening writes into ``out_dir`` (both formats' when ``fmt`` is None).

    Parameters
    ----------
    out_dir : path-like
        Output directory.
    fmt : {'gpkg', 'parquet'} or None
        Spatial output format (None: not decided yet, list both).

    Returns
    -------
    dict
        Key -> path.
    """
    keys = ["sites_csv", "hits_csv", "rules_csv"]
    if fmt in ("gpkg", None):
        keys.append("screening_gpkg")
    if fmt in ("parquet", None):
        keys += ["sites_parquet", "hits_parquet"]
    return {k: output_path(out_dir, k) for k in keys}


def visual_outputs(out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """List the map and report files a screening writes unless ``--no-map``.

    Parameters
    ----------
    out_dir : path-like
        Output directory.

    Returns
    -------
    dict
        Key -> path.
    """
    return {k: output_path(out_dir, k) for k in ("map", "report_html", "report_xlsx")}


def rules_table(rules: RuleSet) -> pd.DataFrame:
    """One row per rule: what hits.csv refers to by ``rule_id``.

    Parameters
    ----------
    rules : RuleSet
        The rules of the run.

    Returns
    -------
    DataFrame
        :data:`RULE_COLUMNS`.
    """
    # The sources' 〔待核实〕/〔已被替代〕 notes once per rule here, never in every hit row.
    return pd.DataFrame(
        [(r.id, ",".join(r.layers), r.mode, r.verdict, r.message_zh, r.message_en, r.basis, rules.rule_notes(r)) for r in rules],
        columns=RULE_COLUMNS,
    )


def _hit_geometries(result: ScreeningResult) -> np.ndarray | None:
    """Overlap geometry per hit, None for point sites (None overall when no hit has one)."""
    hits = result.hits
    if "geometry" not in hits or not len(hits):
        return None
    geoms = np.asarray(hits["geometry"].to_numpy(), dtype=object).copy()
    geoms[shapely.get_dimensions(geoms) < 1] = None  # a point site's hit is the point itself
    return geoms if not pd.isna(geoms).all() else None


def write_screening(
    result: ScreeningResult,
    out_dir: str | os.PathLike[str],
    *,
    force: bool = False,
    fmt: str | None = "gpkg",
    tables: bool = True,
    spatial: bool = True,
    columns: Sequence[str] | None = None,
    sites_path: str | os.PathLike[str] | None = None,
) -> dict[str, Path]:
    """Write sites.csv, hits.csv, rules.csv and the spatial tables, each atomically.

    Every table is laid out first, then the files are written (after one
    check that none would be overwritten without ``force``).

    Parameters
    ----------
    result : ScreeningResult
        Screening output.
    out_dir : path-like
        Directory (created if needed).
    force : bool, default False
        Overwrite existing outputs.
    fmt : {'gpkg', 'parquet'}, optional
        Spatial output format (None: by size and input, :func:`screening_format`).
    tables : bool, default True
        Write the three CSV tables.
    spatial : bool, default True
        Write the spatial output (GeoPackage or GeoParquet).
    columns : sequence of str, optional
        The user's own columns of the sites (default: :func:`user_columns`).
    sites_path : path-like, optional
        The sites file, when ``fmt`` is None (sites read from Parquet are written as Parquet).

    Returns
    -------
    dict
        Key -> written path.
    """
    fmt = screening_format(fmt, len(result.sites), sites_path)
    csv_keys = ("sites_csv", "hits_csv", "rules_csv")
    files = {k: p for k, p in screening_outputs(out_dir, fmt).items() if (k in csv_keys and tables) or (k not in csv_keys and spatial)}
    extra = [c for c in ("area_m2", "length_m") if c in result.sites]
    mine = list(columns) if columns is not None else user_columns(result.sites)
    sites_tab = pd.DataFrame(result.sites[SITE_COLUMNS + extra + mine])
    sites_layer = _gpkg_safe(result.sites[[*SITE_COLUMNS, *extra, "project_type_raw", *mine, "geometry"]], mine) if spatial else None
    hits = pd.DataFrame(result.hits[HIT_FILE_COLUMNS])
    geoms = _hit_geometries(result) if spatial else None
    hits_layer: pd.DataFrame = hits if geoms is None else gpd.GeoDataFrame(hits, geometry=geoms, crs=result.sites.crs)
    if tables and len(result.sites) <= NEAREST_MAX_SITES:
        # Distance (0 inside) and name of the nearest feature of every layer: what the report's 本项目情况 states.
        sites_tab = pd.concat([sites_tab, nearest_columns(result.sites, result.zoning)], axis=1)
    elif tables:
        warnings.warn(
            f"地块超过 {NEAREST_MAX_SITES} 个：sites.csv 未写入各图层最近要素距离列（<图层>_distance_m/_nearest），"
            "可分批运行或在 Python 中调用 spatial.facts.nearest_columns。"
            f" / more than {NEAREST_MAX_SITES} sites: per-layer nearest-feature columns left out of sites.csv",
            DataWarning,
            stacklevel=2,
        )
    rules = rules_table(result.rules)
    ensure_writable(list(files.values()), force)
    if tables:
        write_csv(files["sites_csv"], sites_tab, force=force)
        write_csv(files["hits_csv"], hits, force=force)
        write_csv(files["rules_csv"], rules, force=force)
    if not spatial:
        return files
    if fmt == "parquet":
        write_vector_layers(files["sites_parquet"], {"sites": sites_layer}, force=force)
        with atomic_output(files["hits_parquet"], force=force) as tmp:
            hits_layer.to_parquet(tmp)  # GeoParquet when it has geometry, plain Parquet otherwise
    else:
        write_vector_layers(files["screening_gpkg"], {"sites": sites_layer, "hits": hits_layer, "rules": rules}, force=force)
    return files


def write_json(path: str | os.PathLike[str], data: Any, *, force: bool = False) -> Path:
    """Write a JSON document (UTF-8, Chinese unescaped, indented) atomically.

    Parameters
    ----------
    path : path-like
        Output file.
    data : Any
        JSON-serialisable data.
    force : bool, default False
        Allow overwriting.

    Returns
    -------
    Path
        The written path.
    """
    with atomic_output(path, force=force) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return Path(path)


def _with_rule_text(hits: pd.DataFrame | None, rules: pd.DataFrame | None) -> pd.DataFrame | None:
    """Put each hit's rule message and basis back (from rules.csv / the rules layer)."""
    if hits is None or rules is None or "message_zh" in hits or "rule_id" not in hits:
        return hits
    text = rules.drop_duplicates("rule_id").set_index("rule_id")
    for col in ("basis", "message_zh"):
        if col in text:
            hits[col] = hits["rule_id"].map(text[col]).fillna("").to_numpy()
    return hits


def read_screening(path: str | os.PathLike[str], options: SiteOptions | None = None, **changes: Any) -> SimpleNamespace:
    """Read a screening output folder (or its ``screening.gpkg``) back, or any sites file.

    Parameters
    ----------
    path : path-like
        A folder written by ``ecozone screen`` (GeoPackage or GeoParquet
        set), its ``screening.gpkg``, or any sites file
        :func:`spatial.sites.read_sites` reads.  Sites keep their own CRS.
    options : SiteOptions, optional
        How to read a sites file (``sites_crs`` for one that has none: a DXF, a CSV with X/Y).
    **changes
        Fields of :class:`~spatial.site_options.SiteOptions` given directly.

    Returns
    -------
    SimpleNamespace
        ``sites`` (GeoDataFrame) and ``hits`` (DataFrame with the rule texts, or None).

    Raises
    ------
    InputError
        Missing path or a folder without screening outputs.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"找不到 --sites：{p}", f"--sites not found: {p}")
    folder = p if p.is_dir() else p.parent
    rules_csv = output_path(folder, "rules_csv")
    rules = unescape_formulas(pd.read_csv(rules_csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)) if rules_csv.exists() else None
    hits: pd.DataFrame | None = None
    gpkg = output_path(p, "screening_gpkg") if p.is_dir() else p
    if p.is_dir() and not gpkg.exists() and output_path(p, "sites_parquet").exists():
        sites = gpd.read_parquet(output_path(p, "sites_parquet"))
        if output_path(p, "hits_parquet").exists():
            hits = pd.read_parquet(output_path(p, "hits_parquet"))
    elif p.is_dir() and not gpkg.exists():
        raise InputError(
            f"{p} 中没有 screening.gpkg；--sites 接受 ecozone screen 的输出目录或地块矢量文件。",
            f"{p} has no screening.gpkg; --sites takes an `ecozone screen` output folder or a sites file",
        )
    elif gpkg.suffix.lower() == ".gpkg" and "sites" in (layers := list_layers(gpkg)):
        import pyogrio

        sites = read_vector(gpkg, "sites")
        if "hits" in layers:  # a plain table when every site is a point
            hits = pyogrio.read_dataframe(gpkg, layer="hits")
        if rules is None and "rules" in layers:
            rules = pyogrio.read_dataframe(gpkg, layer="rules")
        csv = output_path(folder, "hits_csv")
        if hits is None and csv.exists():
            hits = unescape_formulas(pd.read_csv(csv, encoding="utf-8-sig", dtype={"site_id": str, "feature_id": str}))
    else:
        from spatial.sites import read_sites

        sites = read_sites(p, options, **changes)
    if "site_id" in sites:
        sites["site_id"] = sites["site_id"].astype(str)
    return SimpleNamespace(sites=sites, hits=_with_rule_text(hits, rules))


# --------------------------------------------------------------------------- siting: suitability, alternatives, compare

#: Files of ``ecozone alternatives`` (key -> name, from :data:`FILES`).
ALTERNATIVES_FILES = {k: FILES[f"alternatives_{k}"].name for k in ("gpkg", "csv", "map")}
#: Files of ``ecozone compare`` (key -> name, from :data:`FILES`).
COMPARE_FILES = {k: FILES[f"compare_{k}"].name for k in ("csv", "summary", "redline", "map")}
#: Rows per block when rasterising (bounds memory on a province).
_BLOCK_ROWS = 2048


def suitability_outputs(out_dir: str | os.PathLike[str], types: list[str], *, with_map: bool = True) -> dict[str, Path]:
    """List the files ``ecozone suitability`` writes.

    One project type gives ``suitability.tif``; several give one
    ``suitability_<type>.tif`` each (a GeoTIFF colour table belongs to one
    band) and a ``suitability_summary.csv`` across types.

    Parameters
    ----------
    out_dir : Path
        Output directory.
    types : list of str
        Canonical project types.
    with_map : bool, default True
        Include ``suitability.html``.

    Returns
    -------
    dict
        Name -> path.
    """
    out = Path(out_dir)
    files = {"gpkg": output_path(out, "suitability_gpkg"), "csv": output_path(out, "suitability_csv")}
    tif = FILES["suitability_tif"].name
    if len(types) == 1:
        files[f"tif:{types[0]}"] = out / tif
    else:
        stem, suffix = os.path.splitext(tif)
        files.update({f"tif:{t}": out / f"{stem}_{t}{suffix}" for t in types})
        files["summary"] = output_path(out, "suitability_summary_csv")
    if with_map:
        files["map"] = output_path(out, "suitability_map")
    return files


def suitability_table(results: list[Suitability]) -> pd.DataFrame:
    """Long table: per type and class, km² and % of the county (ellipsoidal), plus a 合计 row per type.

    Parameters
    ----------
    results : list of Suitability
        One per project type.

    Returns
    -------
    DataFrame
        ``project_type``, ``project_type_input``, ``class``, ``class_zh``,
        ``code``, ``area_km2``, ``pct``, ``note``.
    """
    frames = []
    for r in results:
        t = r.table.copy()
        total = pd.DataFrame(
            {"class": ["total"], "class_zh": ["合计（行政区）"], "code": [0], "area_km2": [r.county_m2 / 1e6], "pct": [100.0]}
        )
        t = pd.concat([t, total], ignore_index=True)
        t.insert(0, "project_type_input", r.project_type_input)
        t.insert(0, "project_type", r.project_type)
        t["note"] = "；".join(n.split(" / ")[0] for n in r.notes) + ("；" if r.notes else "") + "面积为 GRS80 椭球面积"
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def _summary(results: list[Suitability]) -> pd.DataFrame:
    """Wide table across types: km² and % per class."""
    rows = []
    for r in results:
        row: dict[str, Any] = {"project_type": r.project_type, "project_type_input": r.project_type_input}
        km2 = dict(zip(r.table["class"], r.table["area_km2"], strict=True))
        pct = dict(zip(r.table["class"], r.table["pct"], strict=True))
        for c in reversed(CLASSES):
            label = class_zh(c, r.max_slope or 25.0)
            row[f"{label}_km2"] = km2.get(c, 0.0)
            row[f"{label}_pct"] = pct.get(c, 0.0)
        row["county_km2"] = r.county_m2 / 1e6
        rows.append(row)
    return pd.DataFrame(rows)


def write_suitability_raster(result: Suitability, path: Path, resolution: float, colours: Mapping[str, str], *, force: bool = False) -> Path:
    """Rasterise the suitability classes: one uint8 band of codes, colour table and CRS.

    Codes are :data:`~spatial.suitability.CLASSES` positions + 1; 0 is outside
    the county (nodata).  A pixel takes the class under its centre.

    Parameters
    ----------
    result : Suitability
        Areas to burn.
    path : Path
        Output ``.tif``.
    resolution : float
        Pixel size in metres (the zoning CRS).
    colours : mapping
        Class -> ``#rrggbb`` for the colour table (the maps' ``SUITABILITY_COLOURS``).
    force : bool, default False
        Overwrite.

    Returns
    -------
    Path
        ``path``.
    """
    import rasterio
    from affine import Affine
    from rasterio import features

    a = result.areas
    xmin, ymin, xmax, ymax = a.total_bounds if len(a) else (0.0, 0.0, resolution, resolution)
    width = max(1, int(np.ceil((xmax - xmin) / resolution)))
    height = max(1, int(np.ceil((ymax - ymin) / resolution)))
    transform = Affine(resolution, 0.0, float(xmin), 0.0, -resolution, float(ymax))
    parts, owner = shapely.get_parts(np.asarray(a.geometry.values, dtype=object), return_index=True)
    codes = np.array([CLASSES.index(c) + 1 for c in a["class"]], dtype=np.uint8)[owner] if len(a) else np.zeros(0, np.uint8)
    tree = shapely.STRtree(parts)
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "uint8", "nodata": 0,
        "crs": result.crs.to_wkt(), "transform": transform, "compress": "deflate", "tiled": True,
        "blockxsize": 256, "blockysize": 256,
    }  # fmt: skip
    if width * height > 4 * 10**6:
        profile["BIGTIFF"] = "IF_SAFER"
    with atomic_output(path, force=force) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        for row0 in range(0, height, _BLOCK_ROWS):
            rows = min(_BLOCK_ROWS, height - row0)
            top = float(ymax) - row0 * resolution
            block = shapely.box(float(xmin), top - rows * resolution, float(xmin) + width * resolution, top)
            idx = tree.query(block)
            arr = np.zeros((rows, width), dtype=np.uint8)
            if len(idx):
                bt = Affine(resolution, 0.0, float(xmin), 0.0, -resolution, top)
                features.rasterize(zip(parts[idx], codes[idx], strict=True), out=arr, transform=bt, dtype=np.uint8)
            dst.write(arr, 1, window=rasterio.windows.Window(0, row0, width, rows))
        _describe_classes(dst, colours, result.project_type, result.max_slope, result.notes)
    return path



def _describe_classes(
    dst: Any, colours: Mapping[str, str], project_type: str, max_slope: float | None, notes: Sequence[str], where: str = "", approx: str = ""
) -> None:
    """Write the colour table, the class codes and the notes of a suitability GeoTIFF band."""
    dst.write_colormap(1, _class_colormap(colours))
    dst.update_tags(
        project_type=project_type,
        classes="; ".join(f"{i + 1}={c} {class_zh(c, max_slope or 25.0)}" for i, c in enumerate(CLASSES)),
        nodata_meaning="0 = outside the county",
        notes=" ".join(notes),
    )
    dst.set_band_description(1, f"suitability class code {where}({project_type}){approx}")


def _class_colormap(colours: Mapping[str, str]) -> dict[int, tuple[int, int, int, int]]:
    """GeoTIFF colour table of the class codes (0 transparent)."""
    cmap = {0: (255, 255, 255, 0)}
    for i, c in enumerate(CLASSES):
        h = colours[c].lstrip("#")
        cmap[i + 1] = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 255)
    return cmap


def write_suitability_grid(results: list[Any], out_dir: Path, colours: Mapping[str, str], *, force: bool = False) -> dict[str, Path]:
    """Write the ``--raster-only`` overview: the GeoTIFF(s) of class codes and the CSV(s); no GeoPackage or map.

    Parameters
    ----------
    results : list of RasterSuitability
        One per project type (:func:`spatial.suitability_raster.raster_suitability`).
    out_dir : Path
        Output directory.
    colours : mapping
        Class -> colour of the GeoTIFF colour table.
    force : bool, default False
        Overwrite.

    Returns
    -------
    dict
        Name -> path.
    """
    import rasterio

    files = {k: v for k, v in suitability_outputs(out_dir, [r.project_type for r in results], with_map=False).items() if k != "gpkg"}
    ensure_writable(list(files.values()), force)
    for r in results:
        h, w = r.codes.shape
        profile = {
            "driver": "GTiff", "width": w, "height": h, "count": 1, "dtype": "uint8", "nodata": 0, "crs": r.crs.to_wkt(),
            "transform": r.transform, "compress": "deflate", "tiled": True, "blockxsize": 256, "blockysize": 256,
        }  # fmt: skip
        if w * h > 4 * 10**6:
            profile["BIGTIFF"] = "IF_SAFER"
        with atomic_output(files[f"tif:{r.project_type}"], force=force) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(r.codes, 1)
            _describe_classes(dst, colours, r.project_type, r.max_slope, r.notes, "at the cell centre ", ", approximate to one cell")
    write_csv(files["csv"], suitability_table(results), force=force)
    if "summary" in files:
        write_csv(files["summary"], _summary(results), force=force)
    return files


def write_suitability(
    results: list[Suitability], out_dir: Path, colours: Mapping[str, str], *, resolution: float = 30.0, force: bool = False, with_map: bool = True
) -> dict[str, Path]:
    """Write suitability.gpkg (a layer per type), the GeoTIFF(s) and the CSV(s); plan the map's path.

    Parameters
    ----------
    results : list of Suitability
        One per project type.
    out_dir : Path
        Output directory.
    colours : mapping
        Class -> colour of the GeoTIFF colour table.
    resolution : float, default 30
        GeoTIFF pixel size (m).
    force : bool, default False
        Overwrite.
    with_map : bool, default True
        Also check and return ``map`` (``suitability.html``, which the caller draws with the maps package).

    Returns
    -------
    dict
        Name -> path.
    """
    types = [r.project_type for r in results]
    files = suitability_outputs(out_dir, types, with_map=with_map)
    ensure_writable(list(files.values()), force)
    layers = {}
    for r in results:
        gdf = r.areas.copy()
        gdf.insert(0, "project_type", r.project_type)
        gdf["area_km2"] = gdf["area_m2"] / 1e6
        layers[r.project_type] = gpd.GeoDataFrame(gdf, geometry="geometry", crs=r.areas.crs)
    write_vector_layers(files["gpkg"], layers, force=force)
    for r in results:
        write_suitability_raster(r, files[f"tif:{r.project_type}"], resolution, colours, force=force)
    write_csv(files["csv"], suitability_table(results), force=force)
    if "summary" in files:
        write_csv(files["summary"], _summary(results), force=force)
    return files
