"""Sites as planners hand them in: CAD, Excel, Google Earth, and coordinates that cannot be right.

Each input is built in code; input folders are hashed before and after every CLI run.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import ezdxf
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import ORIGIN
from pyproj import Transformer

from spatial.cli import cli
from spatial.errors import CRSError, InputError
from spatial.sites import read_sites as _read_sites

TO_WGS = Transformer.from_crs(4547, 4326, always_xy=True)
#: The CLI prints warnings; tests assert on its output.
pytestmark = pytest.mark.filterwarnings("always::spatial.errors.EcozoneWarning")


def _lonlat(x_km: float, y_km: float) -> tuple[float, float]:
    return TO_WGS.transform(ORIGIN[0] + x_km * 1000, ORIGIN[1] + y_km * 1000)


def _run(args: list[str], folder: Path, hash_tree) -> tuple[int, str]:
    before = hash_tree(folder)
    res = CliRunner().invoke(cli, args)
    assert "Traceback" not in res.output
    assert hash_tree(folder) == before, "inputs must never be modified"
    return res.exit_code, res.output


def read_sites(path: Path, **kwargs: object):
    """``spatial.sites.read_sites`` with the input folder hashed before and after."""
    from conftest import sha256_tree

    before = sha256_tree(Path(path).parent)
    try:
        return _read_sites(path, **kwargs)
    finally:
        assert sha256_tree(Path(path).parent) == before, "inputs must never be modified"


# --------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
@pytest.mark.parametrize("no_map", [True, False])
def test_infinite_coordinate_is_a_row_named_error_not_a_verdict(tmp_path: Path, toy_gpkg: Path, hash_tree, value: str, no_map: bool) -> None:
    src = tmp_path / "in"
    src.mkdir()
    lon, lat = _lonlat(18, 19)
    (src / "sites.csv").write_text(f"id,经度,纬度,项目类型\nOK,{lon},{lat},化工\nBAD,{value},{lat},化工\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["screen", str(src / "sites.csv"), "-z", str(toy_gpkg), "--out", str(out), "--fail-on", "prohibited"]
    code, text = _run(args + (["--no-map"] if no_map else []), src, hash_tree)
    assert code == 2, text
    assert "sites.csv" in text and "3:" in text and ("有限数值" in text or "无法识别的坐标" in text)
    assert not out.exists(), "no partial output set"


def test_latitude_95_is_out_of_range_not_projected(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("id,经度,纬度,项目类型\nA,112.5,95,化工\n", encoding="utf-8")
    with pytest.raises(CRSError) as info:
        read_sites(tmp_path / "s.csv")
    assert "超出范围" in info.value.zh and "2:" in info.value.zh and "投影" not in info.value.zh and "EPSG:4547" not in info.value.zh


def test_polygon_vertex_at_latitude_95_names_the_feature(tmp_path: Path) -> None:
    poly = shapely.Polygon([(112.5, 24.8), (112.6, 24.8), (112.6, 95.0), (112.5, 24.8)])
    gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=[shapely.Point(112.5, 24.8), poly], crs=4326).to_file(tmp_path / "s.geojson")
    with pytest.raises(CRSError, match=r"要素 2.*纬度 y 95"):
        read_sites(tmp_path / "s.geojson")


@pytest.mark.parametrize(("x", "crs", "match"), [("1e12", "EPSG:4547", "过大"), ("9e7", "EPSG:4547", "不是地球上的位置")])
def test_numbers_that_fit_no_crs(tmp_path: Path, x: str, crs: str, match: str) -> None:
    (tmp_path / "s.csv").write_text(f"id,X,Y\nA,{x},-9e7\n", encoding="utf-8")
    with pytest.raises((InputError, CRSError), match=match):
        read_sites(tmp_path / "s.csv", sites_crs=crs)


def _both_pairs(path: Path, agree: bool, survey: bool = False) -> None:
    lon, lat = _lonlat(3.5, 3.5)  # inside red line 甲
    x, y = ORIGIN[0] + 3500, ORIGIN[1] + 3500
    if not agree:
        x, y = ORIGIN[0] + 18000, ORIGIN[1] + 19000  # another place entirely
    if survey:
        x, y = y, x  # 坐标成果表: X = northing
    path.write_text(f"id,经度,纬度,X,Y,项目类型\nA,{lon},{lat},{x},{y},住宅\n", encoding="utf-8")


@pytest.mark.slow
def test_lonlat_and_xy_that_disagree_need_a_choice(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _both_pairs(src / "s.csv", agree=False)
    base = ["screen", str(src / "s.csv"), "-z", str(toy_gpkg), "--no-map"]
    code, text = _run([*base, "--out", str(tmp_path / "a")], src, hash_tree)
    assert code == 2 and "--coords" in text and "不一致" in text and "s.csv" in text
    # --sites-crs alone no longer lands on the degree columns: still a choice to make.
    code, text = _run([*base, "--out", str(tmp_path / "b"), "--sites-crs", "EPSG:4547"], src, hash_tree)
    assert code == 2 and "--coords" in text
    code, text = _run([*base, "--out", str(tmp_path / "c"), "--coords", "lonlat"], src, hash_tree)
    assert code == 0, text
    assert pd.read_csv(tmp_path / "c" / "sites.csv", encoding="utf-8-sig").verdict.tolist() == ["prohibited"]
    code, text = _run([*base, "--out", str(tmp_path / "d"), "--coords", "xy", "--sites-crs", "EPSG:4547"], src, hash_tree)
    assert code == 0, text
    assert pd.read_csv(tmp_path / "d" / "sites.csv", encoding="utf-8-sig").verdict.tolist() == ["compatible"]


@pytest.mark.parametrize("survey", [False, True])
def test_lonlat_and_xy_that_agree_need_no_choice(tmp_path: Path, survey: bool) -> None:
    _both_pairs(tmp_path / "s.csv", agree=True, survey=survey)
    g = read_sites(tmp_path / "s.csv")
    assert g.crs.to_epsg() == 4326 and g.geometry.x.iloc[0] == pytest.approx(_lonlat(3.5, 3.5)[0])
    g = read_sites(tmp_path / "s.csv", sites_crs="EPSG:4547")
    assert g.crs.to_epsg() == 4547 or survey  # X/Y in the named CRS (survey order is issue 10's --xy-order)


# --------------------------------------------------------------------------- DXF


def _dxf(path: Path, *, frame: bool = False) -> Path:
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    ox, oy = ORIGIN
    # Old-style closed POLYLINE enclosing the farmland [2,6]x[14,18] km.
    msp.add_polyline2d(
        [(ox + 1500, oy + 13500), (ox + 6500, oy + 13500), (ox + 6500, oy + 18500), (ox + 1500, oy + 18500)], close=True, dxfattribs={"layer": "红线"}
    )
    # LWPOLYLINE with a half-circle bulge (area = 1 km² + pi*250²/2).
    msp.add_lwpolyline(
        [(ox + 18000, oy + 18000, 0), (ox + 18500, oy + 18000, 1.0), (ox + 18500, oy + 18500, 0), (ox + 18000, oy + 18500, 0)],
        format="xyb",
        close=True,
        dxfattribs={"layer": "红线"},
    )
    msp.add_text("地块一", dxfattribs={"layer": "标注"}).set_placement((ox + 4000, oy + 16000))
    msp.add_mtext("项目红线图", dxfattribs={"layer": "标注"})
    block = doc.blocks.new("指北针")
    block.add_line((0, 0), (0, 10))
    msp.add_blockref("指北针", (ox + 100, oy + 100), dxfattribs={"layer": "图框"})
    if frame:
        msp.add_lwpolyline([(ox, oy), (ox + 20000, oy), (ox + 20000, oy + 20000), (ox, oy + 20000)], close=True, dxfattribs={"layer": "图框"})
    doc.saveas(path)
    return path


def test_dxf_closed_polylines_become_polygons_text_ignored(tmp_path: Path) -> None:
    with pytest.warns(Warning, match=r"TEXT 1 个.*MTEXT 1 个|INSERT 1 个.*MTEXT 1 个.*TEXT 1 个"):
        g = read_sites(_dxf(tmp_path / "s.dxf"), sites_crs="EPSG:4547")
    assert len(g) == 2 and set(g.geom_type) == {"Polygon"}
    assert g.area.iloc[0] == pytest.approx(5000 * 5000)
    true = 500 * 500 + np.pi * 250**2 / 2
    assert true - 10 < g.area.iloc[1] < true  # arc densified to 1 cm: vertices on the circle, chords inside


def test_dxf_red_line_enclosing_farmland_is_not_compatible(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    src = tmp_path / "in"
    src.mkdir()
    dxf = _dxf(src / "红线图.dxf")
    out = tmp_path / "out"
    args = ["screen", str(dxf), "-z", str(toy_gpkg), "--sites-crs", "EPSG:4547", "-t", "住宅", "--out", str(out), "--no-map"]
    code, text = _run(args, src, hash_tree)
    assert code == 0, text
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype={"site_id": str})
    assert len(sites) == 2 and sites.verdict.iloc[0] == "prohibited"
    hits = pd.read_csv(out / "hits.csv", encoding="utf-8-sig", dtype={"site_id": str})
    assert (hits[hits.site_id == sites.site_id.iloc[0]].layer == "farmland").any()


def test_dxf_areas_on_several_layers_list_them(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    src = tmp_path / "in"
    src.mkdir()
    dxf = _dxf(src / "s.dxf", frame=True)
    base = ["screen", str(dxf), "-z", str(toy_gpkg), "--sites-crs", "EPSG:4547", "-t", "住宅", "--no-map"]
    code, text = _run([*base, "--out", str(tmp_path / "a")], src, hash_tree)
    assert code == 2 and "红线（面 2" in text and "图框（面 1" in text and "--layer" in text
    code, text = _run([*base, "--out", str(tmp_path / "b"), "--dxf-layer", "红线"], src, hash_tree)
    assert code == 0, text
    code, text = _run([*base, "--out", str(tmp_path / "c"), "--layer", "不存在"], src, hash_tree)
    assert code == 2 and "没有 CAD 图层" in text and "红线" in text


def test_map_sites_dxf_without_crs_suggests_an_option_map_has(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    src = tmp_path / "in"
    src.mkdir()
    dxf = _dxf(src / "s.dxf")
    code, text = _run(["map", "-z", str(toy_gpkg), "--sites", str(dxf), "--out", str(tmp_path / "m.html")], src, hash_tree)
    assert code == 2 and "s.dxf" in text and "--sites-crs" in text
    code, text = _run(["map", "-z", str(toy_gpkg), "--sites", str(dxf), "--sites-crs", "EPSG:4547", "--out", str(tmp_path / "m.html")], src, hash_tree)
    assert code == 0, text


# --------------------------------------------------------------------------- XLSX and KML


def _workbook(path: Path) -> Path:
    a, b = _lonlat(3.5, 3.5), _lonlat(18, 19)
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"编号": ["1"], "经度": [a[0]], "纬度": [a[1]], "项目类型": ["住宅"]}).to_excel(w, sheet_name="一期", index=False)
        pd.DataFrame({"编号": ["1"], "经度": [b[0]], "纬度": [b[1]], "项目类型": ["住宅"]}).to_excel(w, sheet_name="二期", index=False)
        pd.DataFrame({"说明": ["本表为选址坐标"]}).to_excel(w, sheet_name="说明", index=False)
    return path


def test_xlsx_every_sheet_with_coordinates_is_read(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    src = tmp_path / "in"
    src.mkdir()
    book = _workbook(src / "选址.xlsx")
    out = tmp_path / "out"
    code, text = _run(["screen", str(book), "-z", str(toy_gpkg), "--out", str(out), "--no-map"], src, hash_tree)
    assert code == 0, text
    assert "一期、二期" in text and "说明" in text and "--sheet" in text
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype=str)
    assert dict(zip(sites.site_id, sites.verdict)) == {"一期-1": "prohibited", "二期-1": "compatible"}
    g = read_sites(book, sheet="二期")
    assert len(g) == 1 and "sheet" not in g
    with pytest.raises(InputError, match="三期.*一期、二期、说明"):
        read_sites(book, sheet="三期")


def test_kml_name_is_the_id(tmp_path: Path) -> None:
    lon, lat = _lonlat(3.5, 3.5)
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>项目</name>
<Folder><name>一期</name><Placemark><name>地块甲</name><Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark></Folder>
<Folder><name>二期</name><Placemark><name>地块乙</name><Point><coordinates>{lon + 0.01},{lat},0</coordinates></Point></Placemark></Folder>
</Document></kml>"""
    (tmp_path / "s.kml").write_text(kml, encoding="utf-8")
    g = read_sites(tmp_path / "s.kml")
    assert g.site_id.tolist() == ["地块甲", "地块乙"] and g.kml_folder.tolist() == ["一期", "二期"]
    with zipfile.ZipFile(tmp_path / "s.kmz", "w") as z:
        z.writestr("doc.kml", kml)
    assert set(read_sites(tmp_path / "s.kmz").site_id) == {"地块甲", "地块乙"}


# --------------------------------------------------------------------------- messages that name the cause


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", b"", "空文件"),
        ("u16.csv", "id,经度,纬度,项目类型\nA,113,24.8,住宅\n".encode("utf-16"), "UTF-16.*CSV UTF-8"),
        ("wkt.csv", b'id,wkt,project_type\nA,"POLYGON ((1 1, 2 1 2 2, 1 1)",house\n', "WKT.*2: 'POLYGON"),
    ],
)
def test_table_messages_name_file_row_and_fix(tmp_path: Path, toy_gpkg: Path, hash_tree, name: str, content: bytes, match: str) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / name).write_bytes(content)
    code, text = _run(["screen", str(src / name), "-z", str(toy_gpkg), "--sites-crs", "EPSG:4547", "--out", str(tmp_path / "o")], src, hash_tree)
    assert code == 2 and name in text, text
    import re

    assert re.search(match, text), text


def test_sites_folder_without_files_and_manifest_folder(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    src = tmp_path / "in"
    (src / "layers").mkdir(parents=True)
    (src / "zoning.yaml").write_text("layers:\n  boundary: layers\n", encoding="utf-8")
    lon, lat = _lonlat(3.5, 3.5)
    (src / "s.csv").write_text(f"id,经度,纬度,项目类型\nA,{lon},{lat},住宅\n", encoding="utf-8")
    code, text = _run(["screen", str(src / "s.csv"), "-z", str(src / "zoning.yaml"), "--out", str(tmp_path / "o")], src, hash_tree)
    assert code == 2 and "layers" in text and "文件夹" in text, text


def test_layer_prj_wgs84_with_gauss_kruger_numbers(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    from conftest import toy_layers

    src = tmp_path / "in"
    src.mkdir()
    for name, gdf in toy_layers().items():
        if name == "redline":
            gdf = gdf.set_crs(4326, allow_override=True)  # a .prj that says WGS84 over GK numbers
        gdf.to_file(src / "z.gpkg", layer=name, driver="GPKG")
    lon, lat = _lonlat(3.5, 3.5)
    (src / "s.csv").write_text(f"id,经度,纬度,项目类型\nA,{lon},{lat},住宅\n", encoding="utf-8")
    code, text = _run(["screen", str(src / "s.csv"), "-z", str(src / "z.gpkg"), "--out", str(tmp_path / "o")], src, hash_tree)
    assert code == 2 and "z.gpkg:redline" in text and "EPSG:4547" in text and "force_crs" in text, text


def test_screen_dxf_without_crs_names_the_zone_that_fits(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    src = tmp_path / "in"
    src.mkdir()
    dxf = _dxf(src / "s.dxf")
    code, text = _run(["screen", str(dxf), "-z", str(toy_gpkg), "-t", "住宅", "--out", str(tmp_path / "o")], src, hash_tree)
    assert code == 2 and "s.dxf" in text and "落在规划范围内：请加 --sites-crs EPSG:4547" in text, text
