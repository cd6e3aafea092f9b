"""Names and writers of the siting outputs: suitability, alternatives, what-if changes.

Every file name the three siting commands write is defined here, once.
Writers are atomic (:func:`spatial.io.atomic_output`) and refuse to replace
existing files without ``force``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.io import atomic_output, ensure_writable, write_csv, write_vector_layers
from spatial.suitability import CLASSES, Suitability, class_zh

__all__ = [
    "suitability_outputs",
    "write_suitability",
    "write_suitability_raster",
    "suitability_table",
    "ALTERNATIVES_FILES",
    "COMPARE_FILES",
]

#: Files of ``ecozone alternatives``.
ALTERNATIVES_FILES = {"gpkg": "alternatives.gpkg", "csv": "alternatives.csv", "map": "alternatives.html"}
#: Files of ``ecozone compare``.
COMPARE_FILES = {"csv": "changes.csv", "summary": "compare_summary.txt", "redline": "redline_change.csv", "map": "changes.html"}
#: Rows per block when rasterising (bounds memory on a province).
_BLOCK_ROWS = 2048


def suitability_outputs(out_dir: Path, types: list[str], *, with_map: bool = True) -> dict[str, Path]:
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
    files = {"gpkg": out_dir / "suitability.gpkg", "csv": out_dir / "suitability.csv"}
    if len(types) == 1:
        files[f"tif:{types[0]}"] = out_dir / "suitability.tif"
    else:
        files.update({f"tif:{t}": out_dir / f"suitability_{t}.tif" for t in types})
        files["summary"] = out_dir / "suitability_summary.csv"
    if with_map:
        files["map"] = out_dir / "suitability.html"
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


def write_suitability_raster(result: Suitability, path: Path, resolution: float, *, force: bool = False) -> Path:
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

    from maps.style import SUITABILITY_COLOURS

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
        cmap = {0: (255, 255, 255, 0)}
        for i, c in enumerate(CLASSES):
            h = SUITABILITY_COLOURS[c].lstrip("#")
            cmap[i + 1] = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 255)
        dst.write_colormap(1, cmap)
        dst.update_tags(
            project_type=result.project_type,
            classes="; ".join(f"{i + 1}={c} {class_zh(c, result.max_slope or 25.0)}" for i, c in enumerate(CLASSES)),
            nodata_meaning="0 = outside the county",
            notes=" ".join(result.notes),
        )
        dst.set_band_description(1, f"suitability class code ({result.project_type})")
    return path


def write_suitability(
    results: list[Suitability], out_dir: Path, *, resolution: float = 30.0, force: bool = False, zoning: Any = None, basemap: str = "none"
) -> dict[str, Path]:
    """Write suitability.gpkg (a layer per type), the GeoTIFF(s), the CSV(s) and the map.

    Parameters
    ----------
    results : list of Suitability
        One per project type.
    out_dir : Path
        Output directory.
    resolution : float, default 30
        GeoTIFF pixel size (m).
    force : bool, default False
        Overwrite.
    zoning : Zoning, optional
        When given, ``suitability.html`` is drawn on it.
    basemap : str, default 'none'
        Map basemap.

    Returns
    -------
    dict
        Name -> written path.
    """
    types = [r.project_type for r in results]
    files = suitability_outputs(out_dir, types, with_map=zoning is not None)
    ensure_writable(list(files.values()), force)
    layers = {}
    for r in results:
        gdf = r.areas.copy()
        gdf.insert(0, "project_type", r.project_type)
        gdf["area_km2"] = gdf["area_m2"] / 1e6
        layers[r.project_type] = gpd.GeoDataFrame(gdf, geometry="geometry", crs=r.areas.crs)
    write_vector_layers(files["gpkg"], layers, force=force)
    for r in results:
        write_suitability_raster(r, files[f"tif:{r.project_type}"], resolution, force=force)
    write_csv(files["csv"], suitability_table(results), force=force)
    if "summary" in files:
        write_csv(files["summary"], _summary(results), force=force)
    if zoning is not None:
        from maps.siting_map import save_suitability_map

        save_suitability_map(zoning, results, files["map"], basemap=basemap, force=force)
    return files
