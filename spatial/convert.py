"""Convert whole vector files between CRSs, including the web-map offsets.

Layers digitised on 高德 (GCJ-02) or 百度 (BD-09) maps sit 300–600 m off in
Guangdong; this moves every vertex back (iterative inverse, < 1 m) and keeps
all attributes.  Multi-layer GeoPackages are converted layer by layer.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
from pyproj import CRS

from spatial.errors import CRSError, InputError
from spatial.io import list_layers, read_vector, write_vector_layers
from spatial.webcrs import WEB_CRS, parse_crs_alias, transform_geometries

__all__ = ["convert_frame", "convert_file"]


def convert_frame(gdf: gpd.GeoDataFrame, src: str | None, dst: str = "EPSG:4326", *, label: str = "") -> gpd.GeoDataFrame:
    """Reproject a frame from ``src`` (EPSG, alias, gcj02, bd09) to ``dst``.

    Parameters
    ----------
    gdf : GeoDataFrame
        Input layer.
    src : str or None
        Source CRS; None means the frame's own.
    dst : str, default 'EPSG:4326'
        Target CRS (EPSG, alias, or gcj02/bd09 to go the other way).
    label : str
        File name for messages.

    Returns
    -------
    GeoDataFrame
        A converted copy with the same attributes.
    """
    skind, scrs = parse_crs_alias(src) if src else ("crs", None if gdf.crs is None else CRS.from_user_input(gdf.crs))
    dkind, dcrs = parse_crs_alias(dst)
    if skind == "crs" and scrs is None:
        raise CRSError(f"{label} 没有坐标系，请用 --from 指定。", f"{label} has no CRS; pass --from")
    out = gdf.copy()
    if skind in WEB_CRS:
        if gdf.crs is not None and not CRS.from_user_input(gdf.crs).is_geographic:
            raise CRSError(
                f"{label} 是投影坐标（{gdf.crs.name}），不能按 {skind} 经纬度转换。", f"{label} is projected; {skind} needs lon/lat"
            )
        out = gpd.GeoDataFrame(out.drop(columns=out.geometry.name), geometry=transform_geometries(gdf.geometry.values, skind, "wgs84"), crs=4326)
    elif gdf.crs is None or not CRS.from_user_input(gdf.crs).equals(scrs):
        out = out.set_crs(scrs, allow_override=True)
    if dkind in WEB_CRS:
        wgs = out.to_crs(4326)
        return gpd.GeoDataFrame(wgs.drop(columns=wgs.geometry.name), geometry=transform_geometries(wgs.geometry.values, "wgs84", dkind), crs=4326)
    return out.to_crs(dcrs)


def convert_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    src: str | None,
    dst: str = "EPSG:4326",
    encoding: str | None = None,
    force: bool = False,
) -> dict[str, int]:
    """Convert every layer of a vector file and write it atomically.

    Parameters
    ----------
    src_path, dst_path : path-like
        Input and output files (driver by extension).
    src : str or None
        Source CRS (gcj02, bd09, EPSG…); None uses the file's own.
    dst : str
        Target CRS.
    encoding : str, optional
        Input text encoding override.
    force : bool
        Overwrite the output.

    Returns
    -------
    dict
        Layer name -> feature count written.
    """
    src_path, dst_path = Path(src_path), Path(dst_path)
    if src_path.resolve() == dst_path.resolve():
        raise InputError("输出不能覆盖输入文件，请换一个输出文件名。", "the output must not replace the input file")
    names = list_layers(src_path)
    layers = {}
    for name in names:
        gdf = read_vector(src_path, name if len(names) > 1 else None, encoding=encoding, require_crs=False)
        layers[name] = convert_frame(gdf, src, dst, label=src_path.name)
    if len(layers) > 1 and dst_path.suffix.lower() != ".gpkg":
        raise InputError(f"{src_path.name} 有 {len(layers)} 个图层，输出请用 .gpkg。", f"{src_path.name} has several layers: write a .gpkg")
    write_vector_layers(dst_path, layers, force=force)
    return {k: len(v) for k, v in layers.items()}
