"""Tests for spatial.coordfile (界址点 坐标文件 TXT reader)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from spatial import coordfile
from spatial.coordfile import (
    AreaMismatchWarning,
    CoordFileWarning,
    gauss_kruger_crs,
    is_coordfile,
    read_coordfile,
)
from spatial.errors import CRSError, FileFormatError

DATA = Path(__file__).parent / "data" / "coordfiles"


def _header(**over: str | None) -> str:
    attrs = {
        "格式版本号": "1.01版本",
        "数据产生单位": "测试单位",
        "数据产生日期": "2023-05-12",
        "坐标系": "2000国家大地坐标系",
        "几度分带": "3",
        "投影类型": "高斯克吕格",
        "计量单位": "米",
        "带号": "38",
        "精度": "0.01",
        "转换参数": ",,,,,,",
    }
    attrs.update(over)
    lines = ["[属性描述]"] + [f"{k}={v}" for k, v in attrs.items() if v is not None]
    return "\n".join(lines) + "\n[地块坐标]\n"


def _ring(
    ring_no: int, pts: list[tuple[float, float]], fe: float, start: int = 1
) -> list[str]:
    """Point rows for a closed ring; ``pts`` are (northing, easting offset)."""
    rows = [
        f"J{start + i},{ring_no},{x:.3f},{fe + y:.3f}" for i, (x, y) in enumerate(pts)
    ]
    rows.append(rows[0])  # close the ring by repeating its first point
    return rows


def _rect(x0: float, y0: float, dx: float, dy: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x0, y0 + dy), (x0 + dx, y0 + dy), (x0 + dx, y0)]


SQUARE = _rect(2713200, 0, 75, 100)  # 75 m north x 100 m east = 0.75 ha
OUTER = _rect(2714000, 1000, 200, 200)
HOLE = _rect(2714050, 1050, 100, 100)


def _parcel(header: str, *rings: list[str]) -> str:
    rows = [r for ring in rings for r in ring]
    n = len(rows)
    return "\n".join([header.replace("{n}", str(n))] + rows) + "\n"


def _square_file(
    fe: float = 38_500_000, area: str = "0.7500", **hdr: str | None
) -> str:
    return _header(**hdr) + _parcel(
        "{n}," + area + ",1,某某项目用地,面,,工业用地,,@", _ring(1, SQUARE, fe)
    )


def _write(
    tmp_path: Path,
    text: str,
    encoding: str = "gbk",
    crlf: bool = True,
    name: str = "c.txt",
) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


# --------------------------------------------------------------------------


def test_epsg_table_names() -> None:
    """Every EPSG code the reader can pick has the expected datum, zone and CM."""
    datum_names = {
        "cgcs2000": "CGCS2000",
        "xian80": "Xian 1980",
        "beijing54": "Beijing 1954",
    }
    for (datum, width, prefixed), _ in coordfile.EPSG_BASE.items():
        zones = range(25, 46) if width == 3 else range(13, 24)
        for zone in zones:
            crs = gauss_kruger_crs(datum, width, zone, prefixed)
            name = crs.name
            assert name.startswith(datum_names[datum] + " / ")
            assert ("3-degree" in name) == (width == 3)
            cm = zone * width if width == 3 else zone * 6 - 3
            if prefixed:
                assert re.search(rf"(zone {zone}|{zone}N)$", name), name
            else:
                assert name.endswith(f"CM {cm}E"), name
            params = {p.name: p.value for p in crs.coordinate_operation.params}
            assert params["Longitude of natural origin"] == cm
            fe = zone * 1e6 + 500000 if prefixed else 500000
            assert params["False easting"] == fe


def test_square_gbk_crlf_area_and_crs(tmp_path: Path) -> None:
    gdf = read_coordfile(_write(tmp_path, _square_file()))
    assert list(gdf.columns) == [
        "site_id",
        "name",
        "declared_area_ha",
        "gk_plane_area_ha",
        "ellipsoidal_area_ha",
        "land_use",
        "geometry",
    ]
    row = gdf.iloc[0]
    assert (
        row.site_id == "1"
        and row["name"] == "某某项目用地"
        and row.land_use == "工业用地"
    )
    assert row.declared_area_ha == 0.75
    assert row.gk_plane_area_ha == pytest.approx(0.75, abs=1e-12)
    assert gdf.crs.to_epsg() == 4513 + 38 - 25
    assert gdf.attrs["coordfile"]["坐标系"] == "2000国家大地坐标系"
    # x = easting (Y), y = northing (X)
    assert shapely.get_coordinates(row.geometry).min(axis=0).tolist() == [
        38_500_000.0,
        2_713_200.0,
    ]


def test_location_against_independent_projection(tmp_path: Path) -> None:
    gdf = read_coordfile(_write(tmp_path, _square_file()))
    # Independent definition of CGCS2000 3-degree zone 38 (CM 114E, prefixed).
    gk38 = "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=38500000 +y_0=0 +ellps=GRS80"
    tr = pyproj.Transformer.from_crs(gk38, "EPSG:4490", always_xy=True)
    lon, lat = tr.transform(38_500_000.0, 2_713_200.0)
    assert lon == pytest.approx(114.0, abs=1e-12)
    assert 24.52 < lat < 24.53
    got = shapely.get_coordinates(gdf.to_crs(4490).geometry.iloc[0])[0]
    assert got[0] == pytest.approx(lon, abs=1e-9)
    assert got[1] == pytest.approx(lat, abs=1e-9)


def test_hole_and_two_parcels_utf8_bom(tmp_path: Path) -> None:
    text = _square_file() + _parcel(
        "{n},3.0000,2,带天井地块,面,,公共管理与公共服务用地,08,@",
        _ring(1, OUTER, 38_500_000),
        _ring(2, HOLE, 38_500_000, start=5),
    )
    gdf = read_coordfile(_write(tmp_path, text, encoding="utf-8-sig"))
    assert list(gdf.site_id) == ["1", "2"]
    hole = gdf.geometry.iloc[1]
    assert isinstance(hole, Polygon) and len(hole.interiors) == 1
    assert hole.is_valid
    assert gdf.gk_plane_area_ha.iloc[1] == pytest.approx(3.0, abs=1e-12)
    assert gdf.gk_plane_area_ha.iloc[0] == pytest.approx(0.75, abs=1e-12)


def test_utf8_without_bom_lf(tmp_path: Path) -> None:
    p = _write(tmp_path, _square_file(), encoding="utf-8", crlf=False)
    assert read_coordfile(p).name.iloc[0] == "某某项目用地"


def test_explicit_encoding(tmp_path: Path) -> None:
    p = _write(tmp_path, _square_file(), encoding="gbk")
    assert read_coordfile(p, encoding="gbk").name.iloc[0] == "某某项目用地"
    with pytest.raises(FileFormatError, match="编码"):
        read_coordfile(p, encoding="ascii")


def test_with_and_without_zone_prefix_agree(tmp_path: Path) -> None:
    with_prefix = read_coordfile(_write(tmp_path, _square_file(), name="a.txt"))
    without = read_coordfile(_write(tmp_path, _square_file(fe=500_000), name="b.txt"))
    assert without.crs.to_epsg() == 4534 + 38 - 25  # CM 114E
    a = shapely.get_coordinates(with_prefix.to_crs(4490).geometry)
    b = shapely.get_coordinates(without.to_crs(4490).geometry)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


def test_zone_derived_from_prefix_when_header_missing(tmp_path: Path) -> None:
    gdf = read_coordfile(_write(tmp_path, _square_file(带号=None, 几度分带=None)))
    assert gdf.crs.to_epsg() == 4513 + 38 - 25


def test_missing_zone_without_prefix_raises(tmp_path: Path) -> None:
    with pytest.raises(CRSError, match="带号"):
        read_coordfile(_write(tmp_path, _square_file(fe=500_000, 带号=None)))


def test_zone_inconsistent_with_width_raises(tmp_path: Path) -> None:
    text = _square_file(fe=500_000, 带号="19", 几度分带="3")
    with pytest.raises(CRSError, match="3 度分带"):
        read_coordfile(_write(tmp_path, text))


def test_header_zone_disagrees_with_prefix(tmp_path: Path) -> None:
    with pytest.raises(CRSError, match="不一致"):
        read_coordfile(_write(tmp_path, _square_file(带号="39")))


def test_six_degree_zone(tmp_path: Path) -> None:
    text = _square_file(fe=19_500_000, 带号="19", 几度分带="6")
    gdf = read_coordfile(_write(tmp_path, text))
    assert gdf.crs.name == "CGCS2000 / Gauss-Kruger zone 19"


@pytest.mark.parametrize(
    ("system", "name"),
    [
        ("1980西安坐标系", "Xian 1980 / 3-degree Gauss-Kruger zone 38"),
        ("西安80", "Xian 1980 / 3-degree Gauss-Kruger zone 38"),
        ("北京54", "Beijing 1954 / 3-degree Gauss-Kruger zone 38"),
        ("CGCS2000", "CGCS2000 / 3-degree Gauss-Kruger zone 38"),
        ("国家2000", "CGCS2000 / 3-degree Gauss-Kruger zone 38"),
    ],
)
def test_datums(tmp_path: Path, system: str, name: str) -> None:
    gdf = read_coordfile(_write(tmp_path, _square_file(坐标系=system)))
    assert gdf.crs.name == name


def test_unknown_coordinate_system_raises(tmp_path: Path) -> None:
    with pytest.raises(CRSError) as info:
        read_coordfile(_write(tmp_path, _square_file(坐标系="地方独立坐标系")))
    assert "地方独立坐标系" in info.value.zh and "unknown" in info.value.en


def test_area_mismatch_warns(tmp_path: Path) -> None:
    p = _write(tmp_path, _square_file(area="0.8000"))
    with pytest.warns(AreaMismatchWarning, match=r"0\.8000.*0\.7500") as rec:
        gdf = read_coordfile(p)
    msg = str(rec[0].message)
    assert "“1”" in msg and msg.index("申报面积") < msg.index("declares")
    assert gdf.gk_plane_area_ha.iloc[0] == pytest.approx(0.75)


def test_small_area_difference_does_not_warn(tmp_path: Path) -> None:
    # 0.4 % off: within the 0.5 % tolerance (filterwarnings=error would fail).
    read_coordfile(_write(tmp_path, _square_file(area="0.7530")))


def test_blank_area_is_nan_without_warning(tmp_path: Path) -> None:
    gdf = read_coordfile(_write(tmp_path, _square_file(area="")))
    assert np.isnan(gdf.declared_area_ha.iloc[0])


def test_malformed_coordinate_line(tmp_path: Path) -> None:
    text = _square_file().replace("J3,1,2713275.000", "J3,1,27132x5.000")
    lines = text.splitlines()
    lineno = next(i for i, ln in enumerate(lines, 1) if "27132x5" in ln)
    with pytest.raises(FileFormatError) as info:
        read_coordfile(_write(tmp_path, text))
    assert f"第 {lineno} 行" in info.value.zh and f"line {lineno}" in info.value.en
    assert "c.txt" in str(info.value)


def test_short_point_line(tmp_path: Path) -> None:
    text = _square_file().replace("J2,1,2713200.000,38500100.000", "J2,1,2713200.000")
    with pytest.raises(FileFormatError, match="界址点行格式错误"):
        read_coordfile(_write(tmp_path, text))


def test_malformed_parcel_header(tmp_path: Path) -> None:
    text = _square_file().replace("5,0.7500,1,", "五,0.7500,1,")
    with pytest.raises(FileFormatError, match="地块头行"):
        read_coordfile(_write(tmp_path, text))


def test_point_count_mismatch_warns(tmp_path: Path) -> None:
    text = _square_file().replace("5,0.7500,1,", "6,0.7500,1,")
    with pytest.warns(CoordFileWarning, match="界址点数") as rec:
        read_coordfile(_write(tmp_path, text))
    assert not any(isinstance(w.message, AreaMismatchWarning) for w in rec)


def test_too_few_points_is_error(tmp_path: Path) -> None:
    rows = ["J1,1,2713200,38500000", "J2,1,2713200,38500100", "J1,1,2713200,38500000"]
    text = _header() + "3,0.1,1,x,面,,,,@\n" + "\n".join(rows) + "\n"
    with pytest.raises(FileFormatError, match="至少需要 3 个不同点"):
        read_coordfile(_write(tmp_path, text))


def test_unclosed_ring_is_closed(tmp_path: Path) -> None:
    rows = _ring(1, SQUARE, 38_500_000)[:-1]
    text = _header() + "4,0.75,1,x,面,,,,@\n" + "\n".join(rows) + "\n"
    gdf = read_coordfile(_write(tmp_path, text))
    assert gdf.gk_plane_area_ha.iloc[0] == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("head", "rings", "area_ha"),
    [
        # A second outer ring: two separate blocks.
        ("{n},1.5000,1,两块,面,,,,@", [(SQUARE, 1), (_rect(2713500, 0, 75, 100), 5)], 1.5),
        # An island inside a hole: outer ring, hole, island.
        ("{n},3.2500,1,岛,面,,,,@", [(OUTER, 1), (HOLE, 5), (_rect(2714075, 1075, 50, 50), 9)], 3.25),
    ],
    ids=["second_outer_ring", "island_inside_hole"],
)
def test_multi_ring_parcel_gives_one_valid_multipolygon(tmp_path: Path, head: str, rings: list, area_ha: float) -> None:
    text = _header() + _parcel(head, *(_ring(i, ring, 38_500_000, start=start) for i, (ring, start) in enumerate(rings, start=1)))
    gdf = read_coordfile(_write(tmp_path, text))
    geom = gdf.geometry.iloc[0]
    assert isinstance(geom, MultiPolygon) and len(geom.geoms) == 2 and geom.is_valid
    assert gdf.gk_plane_area_ha.iloc[0] == pytest.approx(area_ha)


def test_swapped_xy_is_reported(tmp_path: Path) -> None:
    rows = [f"J{i},1,{y + 38_500_000:.3f},{x:.3f}" for i, (x, y) in enumerate(SQUARE)]
    text = _header() + "5,0.75,1,x,面,,,,@\n" + "\n".join(rows + rows[:1]) + "\n"
    with pytest.raises(FileFormatError, match="写反"):
        read_coordfile(_write(tmp_path, text))


def test_no_parcels_and_points_before_header(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="没有地块"):
        read_coordfile(_write(tmp_path, _header(), name="a.txt"))
    text = _header() + "J1,1,2713200,38500000\n"
    with pytest.raises(FileFormatError, match="第 13 行"):
        read_coordfile(_write(tmp_path, text, name="b.txt"))


def test_line_shape_rejected(tmp_path: Path) -> None:
    text = _square_file().replace(",面,", ",线,")
    with pytest.raises(FileFormatError, match="只支持“面”"):
        read_coordfile(_write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="无法读取"):
        read_coordfile(tmp_path / "nope.txt")


def test_is_coordfile(tmp_path: Path) -> None:
    assert is_coordfile(_write(tmp_path, _square_file(), name="a.txt"))
    assert is_coordfile(_write(tmp_path, _square_file(), "utf-8-sig", False, "b.txt"))
    only_coords = "\n\n[地块坐标]\n" + _square_file().split("[地块坐标]\n")[1]
    assert is_coordfile(_write(tmp_path, only_coords, name="c.txt"))
    assert not is_coordfile(_write(tmp_path, "id,x,y\n1,2,3\n", name="d.csv"))
    (tmp_path / "e.bin").write_bytes(bytes(range(256)) * 20)
    assert not is_coordfile(tmp_path / "e.bin")
    assert not is_coordfile(tmp_path / "missing.txt")
    assert not is_coordfile(tmp_path)


@pytest.mark.parametrize(
    "name", ["two_parcels_prefixed_gbk_crlf.txt", "two_parcels_noprefix_utf8bom.txt"]
)
def test_sample_files(name: str) -> None:
    path = DATA / name
    assert is_coordfile(path)
    gdf = read_coordfile(path)
    assert list(gdf.site_id) == ["DK01", "DK02"]
    assert gdf.name.tolist() == ["某某项目用地", "带天井地块"]
    np.testing.assert_allclose(gdf.gk_plane_area_ha, [0.75, 3.0], atol=1e-12)
    np.testing.assert_allclose(gdf.declared_area_ha, [0.75, 3.0])
    assert len(gdf.geometry.iloc[1].interiors) == 1
    ll = shapely.get_coordinates(gdf.to_crs(4490).geometry.iloc[0])[0]
    assert ll[0] == pytest.approx(114.0, abs=1e-9)


def test_is_coordfile_large_gbk(tmp_path: Path) -> None:
    # Longer than the 4 KiB sniff window, so the cut may split a GBK character.
    text = _square_file(数据产生单位="某某测绘院" * 400)
    p = _write(tmp_path, text)
    assert p.stat().st_size > 4096
    assert is_coordfile(p)


# -------------------------------------------------------------------------- two areas, placeholder ids


def test_gk_plane_and_ellipsoidal_areas_both_kept(tmp_path: Path) -> None:
    """150 km east of the central meridian the GK plane inflates areas by the point scale factor squared."""
    fe = 38_500_000 + 150_000
    gdf = read_coordfile(_write(tmp_path, _square_file(fe=fe)))
    row = gdf.iloc[0]
    assert row.gk_plane_area_ha == pytest.approx(0.75, abs=1e-9)  # what 用地报批 declares
    factors = pyproj.Proj(gdf.crs).get_factors(*pyproj.Transformer.from_crs(gdf.crs, 4490, always_xy=True).transform(fe + 50, 2713237.5))
    expected = 0.75 / factors.areal_scale
    assert factors.areal_scale > 1.0005  # the two areas genuinely differ here
    assert row.ellipsoidal_area_ha == pytest.approx(expected, rel=2e-6)


@pytest.mark.parametrize("placeholder", ["FID_0", "DKMC", "@", "", "fid_12"])
def test_placeholder_ids_become_stem_and_parcel_number(tmp_path: Path, placeholder: str) -> None:
    text = _header() + _parcel("{n},0.7500," + placeholder + ",甲,面,,工业用地,,@", _ring(1, SQUARE, 38_500_000))
    text += _parcel("{n},4.0000," + placeholder + ",乙,面,,工业用地,,@", _ring(1, OUTER, 38_500_000))
    gdf = read_coordfile(_write(tmp_path, text, name="宗地A.txt"))
    assert list(gdf.site_id) == ["宗地A-1", "宗地A-2"]
    assert list(gdf["name"]) == ["甲", "乙"]
