"""Sites arrive as vector files, spreadsheets and 坐标文件; all must screen the same."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import ORIGIN, km_point

from spatial.errors import CRSError, InputError, RuleError
from spatial.screening import screen
from spatial.sites import read_sites

# Three sites: red line (prohibited for residential), farmland, plain general unit.
PTS_KM = {"A": (3.5, 3.5), "B": (3.0, 15.0), "C": (18.0, 19.0)}
EXPECTED = {"A": "prohibited", "B": "prohibited", "C": "compatible"}


def _sites_csv(path: Path, df: pd.DataFrame) -> Path:
    """Write ``df`` as a sites CSV at ``path`` (no index) and return the path."""
    df.to_csv(path, index=False)
    return path


def _lonlat() -> pd.DataFrame:
    gdf = gpd.GeoDataFrame(
        {"编号": list(PTS_KM), "项目类型": ["住宅"] * 3, "项目名称": ["甲", "乙", "丙"]},
        geometry=[km_point(*p) for p in PTS_KM.values()],
        crs="EPSG:4547",
    ).to_crs(4326)
    return pd.DataFrame({"编号": gdf["编号"], "项目类型": gdf["项目类型"], "项目名称": gdf["项目名称"], "经度": gdf.geometry.x, "纬度": gdf.geometry.y})


def _verdicts(result) -> dict[str, str]:
    return dict(zip(result.sites.site_id, result.sites.verdict))


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "utf-8-sig"])
def test_csv_lonlat_any_encoding(tmp_path, toy_zoning, encoding) -> None:
    path = tmp_path / "sites.csv"
    _lonlat().to_csv(path, index=False, encoding=encoding)
    result = screen(path, toy_zoning)
    assert _verdicts(result) == EXPECTED
    assert list(result.sites.name) == ["甲", "乙", "丙"]


def test_xlsx_lonlat(tmp_path, toy_zoning) -> None:
    path = tmp_path / "sites.xlsx"
    _lonlat().to_excel(path, index=False)
    assert _verdicts(screen(path, toy_zoning)) == EXPECTED


def test_csv_xy_needs_crs(tmp_path, toy_zoning) -> None:
    df = pd.DataFrame({"id": list(PTS_KM), "project_type": "residential"})
    df["x"] = [ORIGIN[0] + p[0] * 1000 for p in PTS_KM.values()]
    df["y"] = [ORIGIN[1] + p[1] * 1000 for p in PTS_KM.values()]
    path = _sites_csv(tmp_path / "xy.csv", df)
    with pytest.raises(CRSError, match="--sites-crs"):
        screen(path, toy_zoning)
    assert _verdicts(screen(path, toy_zoning, sites_crs="EPSG:4547")) == EXPECTED


@pytest.mark.parametrize("driver,suffix", [("GPKG", ".gpkg"), ("GeoJSON", ".geojson"), ("ESRI Shapefile", ".shp")])
def test_vector_formats(tmp_path, toy_zoning, driver, suffix) -> None:
    df = _lonlat()
    attrs = df[["编号", "项目类型"]]
    if suffix == ".shp":  # DBF names are <= 10 bytes: real shapefiles use pinyin initials
        attrs = attrs.rename(columns={"编号": "XMBH", "项目类型": "XMLX"})
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(df["经度"], df["纬度"]), crs=4326)
    path = tmp_path / f"sites{suffix}"
    gdf.to_file(path, driver=driver)
    assert _verdicts(screen(path, toy_zoning)) == EXPECTED


def test_coordfile_polygon_sites(tmp_path, toy_zoning) -> None:
    # A 1 km x 1 km 地块 inside the red line [3,5]x[3,5], written as a 界址点 file in zone 38 with prefix.
    x0, y0 = ORIGIN[1] + 3500, 38_000_000 + ORIGIN[0] + 3500  # X northing, Y easting with prefix
    ring = [(x0, y0), (x0, y0 + 1000), (x0 + 1000, y0 + 1000), (x0 + 1000, y0), (x0, y0)]
    lines = ["[属性描述]", "坐标系=2000国家大地坐标系", "几度分带=3", "投影类型=高斯克吕格", "计量单位=米", "带号=38", "[地块坐标]",
             "5,100.0000,DK1,测试地块,面,,工业用地,,@"]
    lines += [f"J{i + 1},1,{x:.3f},{y:.3f}" for i, (x, y) in enumerate(ring)]
    path = tmp_path / "坐标.txt"
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    result = screen(path, toy_zoning, project_type="住宅")
    assert result.sites.site_id.tolist() == ["DK1"]
    assert result.sites.verdict[0] == "prohibited"
    assert result.sites.area_m2[0] == pytest.approx(1_000_000, rel=0.001)


def test_swapped_lonlat_is_caught(tmp_path, toy_zoning) -> None:
    path = _sites_csv(tmp_path / "swapped.csv", _lonlat().rename(columns={"经度": "纬度", "纬度": "经度"}))
    with pytest.raises(CRSError, match="颠倒"):
        screen(path, toy_zoning)


def test_duplicate_ids_listed(tmp_path, toy_zoning) -> None:
    path = _sites_csv(tmp_path / "dup.csv", _lonlat().assign(编号=["A", "A", "C"]))
    with pytest.raises(InputError, match=r"2: A.*3: A"):  # CSV lines as an editor numbers them (header = 1)
        screen(path, toy_zoning)


def test_unknown_types_all_listed(tmp_path, toy_zoning) -> None:
    path = _sites_csv(tmp_path / "types.csv", _lonlat().assign(项目类型=["住宅", "火箭发射", "外星基地"]))
    with pytest.raises(RuleError) as err:
        screen(path, toy_zoning, strict_types=True)
    assert "火箭发射（行 3）" in str(err.value) and "外星基地（行 4）" in str(err.value)  # CSV lines, header = 1
    assert "residential" in str(err.value)  # lists the valid choices


def test_gcj02_sites_converted(tmp_path, toy_zoning) -> None:
    from spatial.webcrs import wgs84_to_gcj02

    df = _lonlat()
    df["经度"], df["纬度"] = wgs84_to_gcj02(df["经度"].to_numpy(), df["纬度"].to_numpy())
    path = _sites_csv(tmp_path / "amap.csv", df)
    sites = read_sites(path, sites_crs="gcj02")
    back = sites.to_crs(4547)
    assert back.geometry.distance(gpd.GeoSeries([km_point(*p) for p in PTS_KM.values()], crs=4547)).max() < 1.0
    assert _verdicts(screen(path, toy_zoning, sites_crs="gcj02")) == EXPECTED


def test_empty_sites_give_empty_result(tmp_path, toy_zoning) -> None:
    gdf = gpd.GeoDataFrame({"site_id": [], "project_type": []}, geometry=[], crs=4326)
    result = screen(gdf, toy_zoning)
    assert len(result.sites) == 0 and len(result.hits) == 0
