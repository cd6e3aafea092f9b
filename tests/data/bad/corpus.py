"""Malformed-input corpus, generated in code (see README.md beside this file).

Each case writes a zoning package and a sites file into a folder and says
what must happen: ``exit`` (CLI exit status), ``message`` (regex the output
must contain, which names the file and the fix) or, for inputs ecozone can
repair, the expected verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from conftest import ORIGIN, km_box, km_point, toy_layers

__all__ = ["Case", "CASES"]


@dataclass
class Case:
    """One bad input and the expected outcome."""

    name: str
    build: Callable[[Path], tuple[Path, Path, list[str]]]  # -> zoning, sites, extra CLI args
    exit: int
    message: str = ""
    verdicts: dict[str, str] = field(default_factory=dict)


def _write_gpkg(folder: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    path = folder / "zoning.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


def _sites(folder: Path, pts: dict[str, tuple[float, float]] | None = None, ptype: str = "住宅") -> Path:
    pts = pts or {"IN_RL": (3.5, 3.5), "PLAIN": (18.0, 19.0)}
    gdf = gpd.GeoDataFrame(
        {"site_id": list(pts), "project_type": ptype}, geometry=[km_point(*p) for p in pts.values()], crs=4547
    ).to_crs(4326)
    path = folder / "sites.gpkg"
    gdf.to_file(path, driver="GPKG")
    return path


GOOD = {"IN_RL": "prohibited", "PLAIN": "compatible"}


def _manifest(folder: Path, entries: dict[str, str]) -> Path:
    import yaml

    path = folder / "zoning.yaml"
    path.write_text(yaml.safe_dump({"layers": entries}, allow_unicode=True), encoding="utf-8")
    return path


def _shp_package(folder: Path, mutate: Callable[[dict[str, gpd.GeoDataFrame]], None] | None = None, encoding: str = "GBK") -> Path:
    """All toy layers as Shapefiles (GBK, no .cpg) plus a manifest."""
    layers = toy_layers()
    if mutate:
        mutate(layers)
    entries = {}
    for name, gdf in layers.items():
        p = folder / f"{name}.shp"
        gdf.to_file(p, driver="ESRI Shapefile", encoding=encoding)
        cpg = p.with_suffix(".cpg")
        if cpg.exists():
            cpg.unlink()  # real deliveries rarely carry one
        entries[name] = p.name
    return _manifest(folder, entries)


def gbk_no_cpg(folder: Path) -> tuple[Path, Path, list[str]]:
    return _shp_package(folder), _sites(folder), []


def no_prj(folder: Path) -> tuple[Path, Path, list[str]]:
    z = _shp_package(folder)
    (folder / "redline.prj").unlink()
    return z, _sites(folder), []


def bowtie_redline(folder: Path) -> tuple[Path, Path, list[str]]:
    layers = toy_layers()
    ox, oy = ORIGIN
    bow = shapely.Polygon([(ox + 2000, oy + 2000), (ox + 4000, oy + 4000), (ox + 4000, oy + 2000), (ox + 2000, oy + 4000)])
    layers["redline"].loc[0, "geometry"] = bow
    return _write_gpkg(folder, layers), _sites(folder, {"IN_RL": (3.5, 3.5), "PLAIN": (18.0, 19.0)}), []


def zone_prefix_layer(folder: Path) -> tuple[Path, Path, list[str]]:
    layers = toy_layers()
    # Coordinates carry the zone prefix 38 but the file says EPSG:4547 (no prefix).
    layers["redline"]["geometry"] = shapely.transform(layers["redline"].geometry.values, lambda xy: xy + [38_000_000, 0])
    return _write_gpkg(folder, layers), _sites(folder), []


def swapped_csv(folder: Path) -> tuple[Path, Path, list[str]]:
    gdf = gpd.GeoDataFrame(geometry=[km_point(3.5, 3.5), km_point(18, 19)], crs=4547).to_crs(4326)
    df = pd.DataFrame({"编号": ["A", "B"], "项目类型": ["住宅", "住宅"], "经度": gdf.geometry.y, "纬度": gdf.geometry.x})
    path = folder / "sites.csv"
    df.to_csv(path, index=False, encoding="gbk")
    return _write_gpkg(folder, toy_layers()), path, []


def metres_as_degrees(folder: Path) -> tuple[Path, Path, list[str]]:
    df = pd.DataFrame({"id": ["A"], "project_type": ["住宅"], "lon": [ORIGIN[0] + 3500], "lat": [ORIGIN[1] + 3500]})
    path = folder / "sites.csv"
    df.to_csv(path, index=False)
    return _write_gpkg(folder, toy_layers()), path, []


def empty_redline(folder: Path) -> tuple[Path, Path, list[str]]:
    layers = toy_layers()
    layers["redline"] = layers["redline"].iloc[0:0]
    return _write_gpkg(folder, layers), _sites(folder), []


def duplicate_site_ids(folder: Path) -> tuple[Path, Path, list[str]]:
    gdf = gpd.GeoDataFrame({"site_id": ["A", "B", "A"], "project_type": "住宅"}, geometry=[km_point(1, 1)] * 3, crs=4547)
    path = folder / "sites.gpkg"
    gdf.to_file(path, driver="GPKG")
    return _write_gpkg(folder, toy_layers()), path, []


def unknown_category(folder: Path) -> tuple[Path, Path, list[str]]:
    layers = toy_layers()
    layers["control_unit"].loc[[1, 3], "ZHGKDYFL"] = ["生态优先区", "其它单元"]
    return _write_gpkg(folder, layers), _sites(folder), []


def missing_zone_field(folder: Path) -> tuple[Path, Path, list[str]]:
    layers = toy_layers()
    layers["protected_area"] = layers["protected_area"].drop(columns=["GNFQ"])
    return _write_gpkg(folder, layers), _sites(folder), []


def corrupt_gpkg(folder: Path) -> tuple[Path, Path, list[str]]:
    path = folder / "zoning.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    return path, _sites(folder), []


def manifest_unknown_key(folder: Path) -> tuple[Path, Path, list[str]]:
    z = _shp_package(folder)
    text = z.read_text(encoding="utf-8").replace("boundary: boundary.shp", "boundary: {path: boundary.shp, projection: EPSG:4547}")
    z.write_text(text, encoding="utf-8")
    return z, _sites(folder), []


def manifest_missing_file(folder: Path) -> tuple[Path, Path, list[str]]:
    return _manifest(folder, {"boundary": "边界.shp"}), _sites(folder), []


def mixed_geometry_redline(folder: Path) -> tuple[Path, Path, list[str]]:
    layers = toy_layers()
    extra = gpd.GeoDataFrame({"BSM": ["PT"], "HXMC": ["点"], "HXLX": ["陆域"]}, geometry=[km_point(8, 8)], crs=4547)
    layers["redline"] = pd.concat([layers["redline"], extra], ignore_index=True)
    return _write_gpkg(folder, layers), _sites(folder), []


def z_values(folder: Path) -> tuple[Path, Path, list[str]]:
    layers = toy_layers()
    layers["redline"]["geometry"] = shapely.force_3d(layers["redline"].geometry.values, 12.5)
    return _write_gpkg(folder, layers), _sites(folder), []


def empty_sites(folder: Path) -> tuple[Path, Path, list[str]]:
    gdf = gpd.GeoDataFrame({"site_id": pd.Series([], dtype=str), "project_type": pd.Series([], dtype=str)}, geometry=[], crs=4326)
    path = folder / "sites.gpkg"
    gdf.to_file(path, driver="GPKG")
    return _write_gpkg(folder, toy_layers()), path, []


def missing_geometry(folder: Path) -> tuple[Path, Path, list[str]]:
    df = pd.DataFrame({"id": ["A", "B"], "project_type": ["住宅", "住宅"], "lon": [113.0, None], "lat": [24.8, None]})
    path = folder / "sites.csv"
    df.to_csv(path, index=False)
    return _write_gpkg(folder, toy_layers()), path, []


def bd09_sites(folder: Path) -> tuple[Path, Path, list[str]]:
    from spatial.webcrs import wgs84_to_bd09

    gdf = gpd.GeoDataFrame(geometry=[km_point(3.5, 3.5), km_point(18, 19)], crs=4547).to_crs(4326)
    x, y = wgs84_to_bd09(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
    df = pd.DataFrame({"site_id": ["IN_RL", "PLAIN"], "project_type": ["住宅"] * 2, "lng": x, "lat": y})
    path = folder / "baidu.csv"
    df.to_csv(path, index=False)
    return _write_gpkg(folder, toy_layers()), path, ["--sites-crs", "bd09"]


def prefixed_sites_wrong_crs(folder: Path) -> tuple[Path, Path, list[str]]:
    df = pd.DataFrame({"id": ["A"], "project_type": ["住宅"], "x": [38_000_000 + ORIGIN[0] + 3500], "y": [ORIGIN[1] + 3500]})
    path = folder / "xy.csv"
    df.to_csv(path, index=False)
    return _write_gpkg(folder, toy_layers()), path, ["--sites-crs", "EPSG:4547"]


def invalid_site_polygon(folder: Path) -> tuple[Path, Path, list[str]]:
    ox, oy = ORIGIN
    bow = shapely.Polygon([(ox + 3000, oy + 3000), (ox + 4000, oy + 4000), (ox + 4000, oy + 3000), (ox + 3000, oy + 4000)])
    gdf = gpd.GeoDataFrame({"site_id": ["IN_RL"], "project_type": ["住宅"]}, geometry=[bow], crs=4547)
    path = folder / "sites.gpkg"
    gdf.to_file(path, driver="GPKG")
    return _write_gpkg(folder, toy_layers()), path, []


_ = np  # numpy kept for case authors

def _lonlat(pts: dict[str, tuple[float, float]]) -> tuple[list[float], list[float]]:
    g = gpd.GeoSeries([km_point(*p) for p in pts.values()], crs=4547).to_crs(4326)
    return list(g.x), list(g.y)


def header_only_csv(folder: Path) -> tuple[Path, Path, list[str]]:
    path = folder / "sites.csv"
    path.write_text("site_id,project_type,lon,lat\n", encoding="utf-8")
    return _write_gpkg(folder, toy_layers()), path, ["--fail-on", "prohibited"]


def upper_name_columns(folder: Path) -> tuple[Path, Path, list[str]]:
    """The DBF/Excel spelling NAME plus columns that clash with ecozone's own only by case."""
    lon, lat = _lonlat({"IN_RL": (3.5, 3.5), "PLAIN": (18.0, 19.0)})
    df = pd.DataFrame(
        {"site_id": ["IN_RL", "PLAIN"], "NAME": ["甲", "乙"], "project_type": "住宅", "lon": lon, "lat": lat,
         "Verdict": ["旧", "旧"], "FID": ["x", "y"], "a": [1, 2], "A": [3, 4], "Redline_Distance_M": [5, 6]}
    )  # fmt: skip
    path = folder / "sites.csv"
    df.to_csv(path, index=False, encoding="utf-8")
    return _write_gpkg(folder, toy_layers()), path, []


def kml_placemarks(folder: Path) -> tuple[Path, Path, list[str]]:
    """A Google Earth style KML: Name and description, no project type (given on the command line)."""
    pts = {"IN_RL": (3.5, 3.5), "PLAIN": (18.0, 19.0)}
    gdf = gpd.GeoDataFrame(
        {"Name": list(pts), "Description": ["红线内", "开发边界内"]}, geometry=[km_point(*p) for p in pts.values()], crs=4547
    ).to_crs(4326)
    path = folder / "sites.kml"
    gdf.to_file(path, driver="KML")
    return _write_gpkg(folder, toy_layers()), path, ["--project-type", "住宅"]


def zero_width_type(folder: Path) -> tuple[Path, Path, list[str]]:
    lon, lat = _lonlat({"IN_RL": (3.5, 3.5), "PLAIN": (18.0, 19.0)})
    df = pd.DataFrame({"site_id": ["IN_RL", "PLAIN"], "project_type": ["住宅", "chemical\u200b"], "lon": lon, "lat": lat})
    path = folder / "sites.csv"
    df.to_csv(path, index=False, encoding="utf-8")
    return _write_gpkg(folder, toy_layers()), path, []


CASES = [
    Case("gbk_no_cpg", gbk_no_cpg, 0, "GBK", GOOD),
    Case("no_prj", no_prj, 2, r"redline\.shp.*没有坐标系.*crs:"),
    Case("bowtie_redline", bowtie_redline, 0, r"修复 1 个无效几何.*HX001", GOOD),
    Case("zone_prefix_layer", zone_prefix_layer, 2, r"zoning\.gpkg:redline.*EPSG:4526"),
    Case("swapped_csv", swapped_csv, 2, r"sites\.csv.*颠倒"),
    Case("metres_as_degrees", metres_as_degrees, 2, r"sites\.csv.*投影坐标.*EPSG:4547"),
    # No red line: housing at (3.5, 3.5) is only outside the development boundary (UB-OUT).
    Case("empty_redline", empty_redline, 0, r"生态保护红线图层为空：结论“不涉及红线”不可靠", {"IN_RL": "notice", "PLAIN": "notice"}),  # 待核实, never 符合 (issue 20); UB-OUT is 关注 since issue 21
    Case("duplicate_site_ids", duplicate_site_ids, 2, r"sites\.gpkg.*重复.*1: A.*3: A"),
    Case("unknown_category", unknown_category, 2, r"zoning\.gpkg:control_unit.*1: '生态优先区'.*3: '其它单元'.*priority"),
    Case("missing_zone_field", missing_zone_field, 2, r"protected_area.*缺少必需字段 zone.*fields"),
    Case("corrupt_gpkg", corrupt_gpkg, 2, r"无法读取.*zoning\.gpkg"),
    Case("manifest_unknown_key", manifest_unknown_key, 2, r"zoning\.yaml.*projection"),
    Case("manifest_missing_file", manifest_missing_file, 2, r"找不到文件.*边界\.shp"),
    Case("mixed_geometry_redline", mixed_geometry_redline, 0, r"去掉 1 个", GOOD),
    Case("z_values", z_values, 0, r"Z", GOOD),
    Case("empty_sites", empty_sites, 2, r"sites\.gpkg.*没有地块"),
    Case("header_only_csv", header_only_csv, 2, r"sites\.csv.*没有地块.*no sites"),
    Case("upper_name_columns", upper_name_columns, 0, "", GOOD),
    Case("kml_placemarks", kml_placemarks, 0, "", GOOD),
    Case("zero_width_type", zero_width_type, 0, r"chemical\\u200b", {"IN_RL": "prohibited", "PLAIN": "compatible"}),
    Case("missing_geometry", missing_geometry, 2, r"sites\.csv.*无法识别的坐标.*3"),
    Case("bd09_sites", bd09_sites, 0, "", GOOD),
    Case("prefixed_sites_wrong_crs", prefixed_sites_wrong_crs, 2, r"xy\.csv.*EPSG:4526"),
    Case("invalid_site_polygon", invalid_site_polygon, 0, r"修复了 1 个无效地块", {"IN_RL": "prohibited"}),
]

_ = km_box
