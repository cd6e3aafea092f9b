"""Terrain for siting: slope from a DEM, the steep mask as polygons, slope at points.

The DEM is read with rasterio.  Slope needs equal metric cell sizes, so a
DEM in a geographic CRS (degrees) is first reprojected to the zoning's
working CRS (Gauss-Kruger metres); a projected DEM is used on its own grid.
Slope is Horn's (1981) third-order finite difference, the formula GDAL's
``gdaldem slope`` and ArcGIS use, in degrees.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from spatial.budget import MAX_DEM_CELLS, check_count, check_memory
from spatial.crs import to_crs_geoms
from spatial.errors import DataWarning, InputError

__all__ = ["Terrain", "load_terrain", "horn_slope", "SLOPE_RULE_ID", "slope_label", "DEFAULT_MIN_COVERAGE", "load_terrain_for_zoning", "MAX_CELL_M", "SLOPE_UNKNOWN_ZH", "SLOPE_UNKNOWN_ID"]

#: Rule id under which a steep slope appears in siting outputs.
SLOPE_RULE_ID = "SLOPE"
#: Share of the county a DEM's valid cells must cover by default (``--dem-min-coverage``).
DEFAULT_MIN_COVERAGE = 0.95
#: Coarser cells than this (metres) flatten slope: a warning.
MAX_CELL_M = 100.0
#: Label of the suitability class where the DEM has no data.
SLOPE_UNKNOWN_ZH = "坡度未知"
#: Rule id under which unknown slope (no DEM data) appears in siting outputs.
SLOPE_UNKNOWN_ID = "SLOPE-NODATA"


def slope_label(max_slope: float) -> str:
    """Chinese label of the steep-slope class, e.g. ``坡度>25°``.

    Parameters
    ----------
    max_slope : float
        Threshold in degrees.

    Returns
    -------
    str
        The label.
    """
    return f"坡度>{max_slope:g}°"


def horn_slope(z: np.ndarray, xres: float, yres: float) -> np.ndarray:
    """Slope in degrees by Horn's method (edges extrapolated linearly, NaN propagates).

    Parameters
    ----------
    z : ndarray
        Elevations (2-D, NaN for nodata).
    xres, yres : float
        Cell width and height in the same unit as ``z`` (metres).

    Returns
    -------
    ndarray
        Slope in degrees, same shape as ``z``.
    """
    z = np.asarray(z, dtype=np.float64)
    # odd reflection continues the edge gradient, so a plane keeps its slope at the border
    p = np.pad(z, 1, mode="reflect", reflect_type="odd") if min(z.shape) > 1 else np.pad(z, 1, mode="edge")
    a, b, c = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    d, f = p[1:-1, :-2], p[1:-1, 2:]
    g, h, i = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8.0 * abs(xres))
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8.0 * abs(yres))
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


@dataclass
class Terrain:
    """Slope on a metric grid.

    Attributes
    ----------
    slope : ndarray
        Slope in degrees (NaN where the DEM has no data).
    transform : affine.Affine
        Grid transform.
    crs : pyproj.CRS
        Grid CRS (metric).
    path : str
        DEM file.
    """

    slope: np.ndarray
    transform: object
    crs: CRS
    path: str
    coverage: float | None = None

    def unknown_polygons(self, county: shapely.Geometry, crs: CRS) -> np.ndarray:
        """Parts of ``county`` where slope is unknown (no DEM cell, nodata, or a nodata neighbour).

        Parameters
        ----------
        county : shapely.Geometry
            The zoning boundary in ``crs``.
        crs : CRS
            Its CRS (the zoning's).

        Returns
        -------
        ndarray of Polygon
            Empty when the DEM covers the whole county.
        """
        from rasterio import features

        valid = ~np.isnan(self.slope)
        shapes = features.shapes(valid.astype(np.uint8), mask=valid, transform=self.transform, connectivity=4) if valid.any() else []
        known = np.array([shapely.geometry.shape(g) for g, _ in shapes], dtype=object)
        known = shapely.make_valid(to_crs_geoms(known, self.crs, CRS.from_user_input(crs))) if len(known) else known
        rest = shapely.difference(county, shapely.union_all(known)) if len(known) else county
        parts = shapely.get_parts(rest)
        parts = parts[shapely.area(parts) > 1.0]  # slivers along pixel edges
        return parts

    def slope_at(self, points: np.ndarray, crs: CRS) -> np.ndarray:
        """Slope (degrees) of the cell under each point (NaN off the grid or nodata).

        Parameters
        ----------
        points : ndarray of Point
            Points in ``crs``.
        crs : CRS
            Their CRS.

        Returns
        -------
        ndarray of float
            Slope per point.
        """
        pts = to_crs_geoms(np.asarray(points, dtype=object), CRS.from_user_input(crs), self.crs)
        xy = shapely.get_coordinates(pts)
        inv = ~self.transform
        col = np.floor(inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c).astype(np.int64)
        row = np.floor(inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f).astype(np.int64)
        h, w = self.slope.shape
        ok = (row >= 0) & (row < h) & (col >= 0) & (col < w)
        out = np.full(len(xy), np.nan)
        out[ok] = self.slope[row[ok], col[ok]]
        return out

    def steep_polygons(self, max_slope: float, crs: CRS) -> np.ndarray:
        """Cells steeper than ``max_slope`` as polygons in ``crs`` (pixel edges kept).

        Parameters
        ----------
        max_slope : float
            Threshold in degrees (strictly greater is steep).
        crs : CRS
            Target CRS (the zoning's).

        Returns
        -------
        ndarray of Polygon
            Steep areas.
        """
        from rasterio import features

        mask = np.nan_to_num(self.slope, nan=-1.0) > max_slope
        if not mask.any():
            return np.zeros(0, dtype=object)
        shapes = features.shapes(mask.astype(np.uint8), mask=mask, transform=self.transform, connectivity=4)
        geoms = np.array([shapely.geometry.shape(g) for g, _ in shapes], dtype=object)
        geoms = to_crs_geoms(geoms, self.crs, CRS.from_user_input(crs))
        return shapely.make_valid(geoms)


def load_terrain(
    path: str | os.PathLike[str],
    work_crs: CRS,
    *,
    boundary: shapely.Geometry | None = None,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> Terrain:
    """Read a DEM and compute slope on a metric grid, checking it first.

    With ``boundary`` (the county, in ``work_crs``) the DEM is checked before
    use: its CRS must put it over the county, and its valid cells must cover
    at least ``min_coverage`` of it; only the window over the county is read.
    A cell coarser than :data:`MAX_CELL_M` warns (slope is flattened).

    Parameters
    ----------
    path : path-like
        DEM raster (GeoTIFF or anything GDAL reads), elevations in metres.
    work_crs : CRS
        Metric CRS to reproject into when the DEM is geographic.
    boundary : shapely.Geometry, optional
        The zoning boundary in ``work_crs``.
    min_coverage : float, default 0.95
        Share of the county the valid cells must cover (``--dem-min-coverage``).

    Returns
    -------
    Terrain
        Slope grid (with ``coverage`` when ``boundary`` was given).

    Raises
    ------
    InputError
        Unreadable file, no CRS, a DEM away from the county or covering too
        little of it (naming the file, its extent, its CRS and the coverage).
    """
    import rasterio
    import rasterio.windows
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    path = Path(path)
    try:
        src = rasterio.open(path)
    except (rasterio.errors.RasterioIOError, OSError) as exc:
        raise InputError(f"无法读取高程数据（DEM）{path}：{exc}", f"cannot read DEM {path}: {exc}") from exc
    # rasterio 1.4 multiplies Affines with `*`, which affine 3 flags (windows, masks, reprojection)
    with src, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module=r"rasterio\..*")
        if src.crs is None:
            raise InputError(
                f"高程数据 {path} 没有坐标系，请先用 GDAL（gdal_edit.py -a_srs EPSG:4490）写入坐标系。",
                f"DEM {path} has no CRS; assign one first (e.g. gdal_edit.py -a_srs EPSG:4490)",
            )
        crs = CRS.from_user_input(src.crs.to_wkt())
        work = CRS.from_user_input(work_crs)
        county = None if boundary is None else to_crs_geoms(np.array([boundary], dtype=object), work, crs)[0]
        window = None
        if county is not None:
            window = _county_window(src, county)
            if window is None:  # the DEM lies beside the county (often a wrong CRS label)
                raise _not_covering(path, src, 0.0, min_coverage)
        height, width = (src.height, src.width) if window is None else (int(window.height), int(window.width))
        what = (f"高程数据 {path.name}（{width}×{height} 像元）", f"DEM {path.name} ({width} x {height} cells)")
        check_count(width * height, MAX_DEM_CELLS, "高程像元", "DEM cells", "--dem", "请先把 DEM 裁剪到行政区范围或重采样。", "clip the DEM to the county or resample it")
        check_memory(width * height * 8 * 4, *what, "--dem（裁剪或重采样）")  # elevations, slope and the reprojection buffers
        z = src.read(1, window=window, masked=True).astype(np.float64).filled(np.nan)
        transform = src.transform if window is None else src.window_transform(window)
        bounds = src.bounds if window is None else rasterio.windows.bounds(window, src.transform)
        if crs.is_geographic or not crs.axis_info or crs.axis_info[0].unit_name not in ("metre", "meter"):
            dst_crs = work
            with warnings.catch_warnings():  # rasterio 1.4 multiplies Affines with `*`, which affine 3 flags
                warnings.simplefilter("ignore", PendingDeprecationWarning)
                dt, w, h = calculate_default_transform(src.crs, dst_crs.to_wkt(), z.shape[1], z.shape[0], *bounds)
                check_memory(w * h * 8 * 3, *what, "--dem（裁剪或重采样）")
                out = np.full((h, w), np.nan)
                reproject(
                    z, out, src_transform=transform, src_crs=src.crs, dst_transform=dt, dst_crs=dst_crs.to_wkt(),
                    src_nodata=np.nan, dst_nodata=np.nan, resampling=Resampling.bilinear,
                )  # fmt: skip
            z, transform, crs = out, dt, dst_crs
        coverage = None
        if boundary is not None:
            coverage = _coverage(z, transform, crs, to_crs_geoms(np.array([boundary], dtype=object), work, crs)[0])
            if coverage < min_coverage:
                raise _not_covering(path, src, coverage, min_coverage)
    cell = abs(transform.a)
    if cell > MAX_CELL_M:
        warnings.warn(
            f"高程数据 {path.name} 的格网为 {cell:.0f} m，粗于 {MAX_CELL_M:g} m：坡度会被低估（陡坡被平滑），"
            f"建议使用 30 m 或更细的 DEM。 / DEM {path.name} has {cell:.0f} m cells, coarser than {MAX_CELL_M:g} m: slope is underestimated",
            DataWarning,
            stacklevel=2,
        )
    slope = horn_slope(z, transform.a, transform.e)
    return Terrain(slope=slope, transform=transform, crs=crs, path=str(path), coverage=coverage)


def load_terrain_for_zoning(path: str | os.PathLike[str], zoning: Any, min_coverage: float = DEFAULT_MIN_COVERAGE) -> Terrain:
    """Read and check a DEM for a zoning package: over its boundary, covering ``min_coverage`` of it.

    Parameters
    ----------
    path : path-like
        DEM raster.
    zoning : Zoning
        The zoning (its ``boundary`` layer and working CRS).
    min_coverage : float, default 0.95
        ``--dem-min-coverage``.

    Returns
    -------
    Terrain
        Checked slope grid.

    Raises
    ------
    InputError
        As :func:`load_terrain`; a zoning without a boundary.
    """
    layer = zoning.layers.get("boundary")
    if layer is None or not len(layer):
        raise InputError("分区数据缺少行政边界（boundary）图层，无法检查高程数据的覆盖范围。", "the zoning has no boundary layer to check the DEM against")
    county = shapely.union_all(np.asarray(layer.geometry.values, dtype=object))
    return load_terrain(path, zoning.crs, boundary=county, min_coverage=min_coverage)


def _describe(src: object, path: Path) -> tuple[str, str]:
    """Return the DEM's extent and CRS as the messages show them."""
    b = src.bounds  # type: ignore[attr-defined]
    crs = CRS.from_user_input(src.crs.to_wkt())  # type: ignore[attr-defined]
    code = crs.to_epsg()
    name = f"EPSG:{code} {crs.name}" if code else crs.name
    ext = f"{b.left:.6g}, {b.bottom:.6g} – {b.right:.6g}, {b.top:.6g}"
    return ext, name


def _not_covering(path: Path, src: object, coverage: float, min_coverage: float) -> InputError:
    ext, name = _describe(src, path)
    return InputError(
        f"高程数据 {path} 未覆盖分区范围：其范围 {ext}（坐标系 {name}），有效像元只覆盖行政区的 {coverage:.1%}，"
        f"要求至少 {min_coverage:.0%}（--dem-min-coverage）。请确认 DEM 的坐标系标注正确（如 EPSG:4490/4326 的经纬度被标成了 EPSG:3857）、"
        "覆盖整个行政区且不全是无数据值；部分覆盖时可降低 --dem-min-coverage，未覆盖处列为“坡度未知”。",
        f"DEM {path} does not cover the zoning: extent {ext} (CRS {name}), valid cells cover {coverage:.1%} of the county, "
        f"at least {min_coverage:.0%} required (--dem-min-coverage); check its CRS label, extent and nodata. With a lower "
        "--dem-min-coverage the uncovered part is classed 坡度未知 (slope unknown)",
    )


def _county_window(src: object, county: shapely.Geometry) -> object | None:
    """Return the DEM window over the county's bounds (2 cells margin), None when they do not meet."""
    import rasterio.windows
    from rasterio.windows import Window, WindowError

    xmin, ymin, xmax, ymax = county.bounds
    if not np.isfinite([xmin, ymin, xmax, ymax]).all():
        return None
    full = Window(0, 0, src.width, src.height)  # type: ignore[attr-defined]
    try:
        win = rasterio.windows.from_bounds(xmin, ymin, xmax, ymax, transform=src.transform)  # type: ignore[attr-defined]
        c0, r0 = int(np.floor(win.col_off)) - 2, int(np.floor(win.row_off)) - 2
        c1, r1 = int(np.ceil(win.col_off + win.width)) + 2, int(np.ceil(win.row_off + win.height)) + 2
        win = Window(c0, r0, c1 - c0, r1 - r0)
        win = win.intersection(full)
    except (WindowError, ValueError):
        return None
    return win if win.width >= 1 and win.height >= 1 else None


def _coverage(z: np.ndarray, transform: object, crs: CRS, county: shapely.Geometry) -> float:
    """Share of the county's area under valid DEM cells (cell centres inside; planar in the grid CRS)."""
    from rasterio import features

    area = float(shapely.area(county))
    if area <= 0 or not z.size:
        return 0.0
    inside = features.geometry_mask([county], out_shape=z.shape, transform=transform, invert=True)
    cell = abs(transform.a * transform.e - transform.b * transform.d)  # type: ignore[attr-defined]
    return min(1.0, float(np.count_nonzero(inside & ~np.isnan(z))) * cell / area)
