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

import numpy as np
import shapely
from pyproj import CRS

from spatial.crs import to_crs_geoms
from spatial.errors import InputError

__all__ = ["Terrain", "load_terrain", "horn_slope", "SLOPE_RULE_ID", "slope_label"]

#: Rule id under which a steep slope appears in siting outputs.
SLOPE_RULE_ID = "SLOPE"


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


def load_terrain(path: str | os.PathLike[str], work_crs: CRS) -> Terrain:
    """Read a DEM and compute slope on a metric grid.

    Parameters
    ----------
    path : path-like
        DEM raster (GeoTIFF or anything GDAL reads), elevations in metres.
    work_crs : CRS
        Metric CRS to reproject into when the DEM is geographic.

    Returns
    -------
    Terrain
        Slope grid.

    Raises
    ------
    InputError
        Unreadable file, no CRS, or a CRS without metres.
    """
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    path = Path(path)
    try:
        src = rasterio.open(path)
    except (rasterio.errors.RasterioIOError, OSError) as exc:
        raise InputError(f"无法读取高程数据（DEM）{path}：{exc}", f"cannot read DEM {path}: {exc}") from exc
    with src:
        if src.crs is None:
            raise InputError(
                f"高程数据 {path} 没有坐标系，请先用 GDAL（gdal_edit.py -a_srs EPSG:4490）写入坐标系。",
                f"DEM {path} has no CRS; assign one first (e.g. gdal_edit.py -a_srs EPSG:4490)",
            )
        crs = CRS.from_user_input(src.crs.to_wkt())
        z = src.read(1, masked=True).astype(np.float64).filled(np.nan)
        transform = src.transform
        if crs.is_geographic or not crs.axis_info or crs.axis_info[0].unit_name not in ("metre", "meter"):
            dst_crs = CRS.from_user_input(work_crs)
            with warnings.catch_warnings():  # rasterio 1.4 multiplies Affines with `*`, which affine 3 flags
                warnings.simplefilter("ignore", PendingDeprecationWarning)
                dt, w, h = calculate_default_transform(src.crs, dst_crs.to_wkt(), src.width, src.height, *src.bounds)
                out = np.full((h, w), np.nan)
                reproject(
                    z, out, src_transform=transform, src_crs=src.crs, dst_transform=dt, dst_crs=dst_crs.to_wkt(),
                    src_nodata=np.nan, dst_nodata=np.nan, resampling=Resampling.bilinear,
                )  # fmt: skip
            z, transform, crs = out, dt, dst_crs
    slope = horn_slope(z, transform.a, transform.e)
    return Terrain(slope=slope, transform=transform, crs=crs, path=str(path))
