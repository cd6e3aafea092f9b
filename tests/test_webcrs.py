"""Tests for spatial.webcrs (GCJ-02 / BD-09 web-map offsets)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from spatial import webcrs
from spatial.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")


# --------------------------------------------------------------------------
# An independent, scalar, plain-``math`` implementation of the published
# GCJ-02 / BD-09 formulas (written separately from the module on purpose:
# the "reference values" below are computed by this second implementation,
# never copied from somewhere).


def _ref_wgs_to_gcj(lng: float, lat: float) -> tuple[float, float]:
    a, ee, pi = 6378245.0, 0.00669342162296594323, math.pi
    if not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lng, lat
    x, y = lng - 105.0, lat - 35.0
    t_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
    t_lat += 0.2 * math.sqrt(abs(x))
    t_lat += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2 / 3
    t_lat += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2 / 3
    t_lat += (160.0 * math.sin(y / 12.0 * pi) + 320 * math.sin(y * pi / 30.0)) * 2 / 3
    t_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
    t_lng += 0.1 * math.sqrt(abs(x))
    t_lng += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2 / 3
    t_lng += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2 / 3
    t_lng += (150.0 * math.sin(x / 12.0 * pi) + 300 * math.sin(x / 30.0 * pi)) * 2 / 3
    rad = lat / 180.0 * pi
    magic = 1 - ee * math.sin(rad) ** 2
    sm = math.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((a * (1 - ee)) / (magic * sm) * pi)
    d_lng = (t_lng * 180.0) / (a / sm * math.cos(rad) * pi)
    return lng + d_lng, lat + d_lat


def _ref_gcj_to_bd(lng: float, lat: float) -> tuple[float, float]:
    x_pi = 3.14159265358979324 * 3000.0 / 180.0
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


REFERENCE_POINTS = [
    (116.397128, 39.916527),  # Tiananmen, the classic example point
    (113.264385, 23.129112),  # Guangzhou
    (114.057868, 22.543099),  # Shenzhen
    (121.473701, 31.230416),  # Shanghai
    (87.617733, 43.792818),  # Urumqi
]


def _guangdong_grid() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(109.5, 117.5, 81), np.linspace(20.0, 25.6, 57))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize(("lng", "lat"), REFERENCE_POINTS)
def test_forward_matches_independent_implementation(lng: float, lat: float) -> None:
    gx, gy = webcrs.wgs84_to_gcj02(lng, lat)
    rx, ry = _ref_wgs_to_gcj(lng, lat)
    assert gx == pytest.approx(rx, abs=1e-12)
    assert gy == pytest.approx(ry, abs=1e-12)
    bx, by = webcrs.wgs84_to_bd09(lng, lat)
    rbx, rby = _ref_gcj_to_bd(rx, ry)
    assert bx == pytest.approx(rbx, abs=1e-12)
    assert by == pytest.approx(rby, abs=1e-12)


def test_vectorised_matches_independent_implementation_on_grid() -> None:
    lon, lat = _guangdong_grid()
    gx, gy = webcrs.wgs84_to_gcj02(lon, lat)
    ref = np.array([_ref_wgs_to_gcj(a, b) for a, b in zip(lon, lat)])
    np.testing.assert_allclose(gx, ref[:, 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(gy, ref[:, 1], rtol=0, atol=1e-11)


def test_scalar_in_scalar_out_and_shapes() -> None:
    x, y = webcrs.wgs84_to_gcj02(113.0, 23.0)
    assert isinstance(x, float) and isinstance(y, float)
    xs, ys = webcrs.gcj02_to_wgs84(np.full((2, 3), 113.0), np.full((2, 3), 23.0))
    assert xs.shape == ys.shape == (2, 3)
    ex, ey = webcrs.bd09_to_wgs84([], [])
    assert ex.shape == ey.shape == (0,)


def test_nan_propagates_without_breaking_others() -> None:
    x, y = webcrs.gcj02_to_wgs84(np.array([np.nan, 113.0]), np.array([23.0, 23.0]))
    assert np.isnan(x[0]) and np.isnan(y[0])
    assert np.isfinite(x[1]) and np.isfinite(y[1])


def test_gcj_round_trip_guangdong() -> None:
    lon, lat = _guangdong_grid()
    back = webcrs.gcj02_to_wgs84(*webcrs.wgs84_to_gcj02(lon, lat))
    assert np.abs(back[0] - lon).max() < 1e-6
    assert np.abs(back[1] - lat).max() < 1e-6


def test_bd09_round_trip_guangdong() -> None:
    lon, lat = _guangdong_grid()
    bx, by = webcrs.wgs84_to_bd09(lon, lat)
    rx, ry = webcrs.bd09_to_wgs84(bx, by)
    # The closed-form BD-09 inverse is itself approximate (~1e-6 degree).
    assert np.abs(rx - lon).max() < 2e-6
    assert np.abs(ry - lat).max() < 2e-6
    _, _, dist = GEOD.inv(lon, lat, rx, ry)
    assert dist.max() < 0.2


def test_gcj_bd_step_round_trip() -> None:
    lon, lat = webcrs.wgs84_to_gcj02(*_guangdong_grid())
    rx, ry = webcrs.bd09_to_gcj02(*webcrs.gcj02_to_bd09(lon, lat))
    assert np.abs(rx - lon).max() < 2e-6
    assert np.abs(ry - lat).max() < 2e-6


def test_offset_magnitude_guangdong() -> None:
    # The standard algorithm shifts Guangdong by about 490-650 m (measured on
    # this grid); GCJ-02 offsets in China are "a few hundred metres".
    lon, lat = _guangdong_grid()
    gx, gy = webcrs.wgs84_to_gcj02(lon, lat)
    _, _, dist = GEOD.inv(lon, lat, gx, gy)
    assert dist.min() > 400.0
    assert dist.max() < 700.0
    bx, by = webcrs.wgs84_to_bd09(lon, lat)
    _, _, dist_bd = GEOD.inv(lon, lat, bx, by)
    assert (dist_bd > dist).all()  # BD-09 adds a further ~700 m shift


@pytest.mark.parametrize(
    ("lng", "lat"),
    [(-0.1276, 51.5072), (139.6917, 35.6895), (151.2093, -33.8688), (-74.0, 40.7)],
)
def test_outside_china_unchanged(lng: float, lat: float) -> None:
    assert webcrs.out_of_china(lng, lat)
    assert webcrs.wgs84_to_gcj02(lng, lat) == (lng, lat)
    assert webcrs.gcj02_to_wgs84(lng, lat) == (lng, lat)


def test_inside_china_flag() -> None:
    assert not webcrs.out_of_china(113.26, 23.13)


def _ring_poly() -> Polygon:
    outer = [(113.20, 23.10), (113.30, 23.10), (113.30, 23.20), (113.20, 23.20)]
    hole = [(113.24, 23.14), (113.26, 23.14), (113.26, 23.16), (113.24, 23.16)]
    return Polygon(outer, [hole])


def test_polygon_with_hole_round_trip() -> None:
    poly = _ring_poly()
    gcj = webcrs.transform_geometries(poly, "wgs84", "gcj02")
    assert isinstance(gcj, Polygon) and len(gcj.interiors) == 1
    assert not gcj.equals_exact(poly, 1e-4)  # really moved
    back = webcrs.transform_geometries(gcj, "GCJ-02")
    assert len(back.interiors) == 1
    assert back.equals_exact(poly, 1e-6)


def test_transform_geometries_matches_point_functions() -> None:
    poly = _ring_poly()
    bd = webcrs.transform_geometries(
        np.array([poly, Point(113.5, 23.5)]), "wgs84", "百度"
    )
    xy = shapely.get_coordinates(poly)
    bx, by = webcrs.wgs84_to_bd09(xy[:, 0], xy[:, 1])
    np.testing.assert_allclose(shapely.get_coordinates(bd[0]), np.c_[bx, by], atol=0)
    assert bd[1].equals_exact(Point(*webcrs.wgs84_to_bd09(113.5, 23.5)), 1e-12)


def test_transform_geometryseries_keeps_index_parts_and_z() -> None:
    mp = MultiPolygon(
        [_ring_poly(), Polygon([(114, 22.5), (114.1, 22.5), (114.1, 22.6)])]
    )
    pz = Point(113.0, 23.0, 42.0)
    gs = gpd.GeoSeries([mp, pz, None], index=["a", "b", "c"], crs="EPSG:4326")
    out = webcrs.transform_geometries(gs, "gcj02")
    assert list(out.index) == ["a", "b", "c"]
    assert out.crs == "EPSG:4326"
    assert isinstance(out["a"], MultiPolygon) and len(out["a"].geoms) == 2
    assert len(out["a"].geoms[0].interiors) == 1
    assert out["b"].has_z and out["b"].z == 42.0
    assert out["c"] is None
    x, y = webcrs.gcj02_to_wgs84(113.0, 23.0)
    assert out["b"].x == pytest.approx(x, abs=1e-12)
    assert out["b"].y == pytest.approx(y, abs=1e-12)


def test_same_src_dst_is_identity() -> None:
    poly = _ring_poly()
    assert webcrs.transform_geometries(poly, "bd09", "BD-09").equals_exact(poly, 0)


def test_unknown_web_crs_raises() -> None:
    with pytest.raises(CRSError, match="无法识别"):
        webcrs.transform_geometries(_ring_poly(), "mercator")


def test_to_wgs84_gdf() -> None:
    gcj = webcrs.transform_geometries(_ring_poly(), "wgs84", "gcj02")
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[gcj], crs="EPSG:4326")
    out = webcrs.to_wgs84_gdf(gdf, "高德")
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].equals_exact(_ring_poly(), 1e-6)
    assert gdf.geometry.iloc[0].equals_exact(gcj, 0)  # input untouched
    assert list(out.columns) == ["name", "geometry"]
    # CRS not set: still accepted when coordinates are lon/lat.
    out2 = webcrs.to_wgs84_gdf(gdf.set_crs(None, allow_override=True), "gcj02")
    assert out2.crs.to_epsg() == 4326


def test_to_wgs84_gdf_rejects_projected() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(500000, 2500000)], crs="EPSG:4547")
    with pytest.raises(CRSError) as info:
        webcrs.to_wgs84_gdf(gdf, "bd09")
    assert "投影坐标系" in info.value.zh and "projected" in info.value.en
    assert str(info.value).index("投影") < str(info.value).index("projected")
    with pytest.raises(CRSError, match="经纬度"):
        webcrs.to_wgs84_gdf(gdf.set_crs(None, allow_override=True), "bd09")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EPSG:4547", ("crs", 4547)),
        ("epsg:4547", ("crs", 4547)),
        ("4547", ("crs", 4547)),
        ("cgcs2000", ("crs", 4490)),
        ("CGCS 2000", ("crs", 4490)),
        ("国家2000", ("crs", 4490)),
        ("wgs84", ("crs", 4326)),
        ("WGS-84", ("crs", 4326)),
        ("cgcs2000-gk114", ("crs", 4547)),
        ("CGCS2000-GK75", ("crs", 4534)),
        ("西安80", ("crs", 4610)),
        ("gcj02", ("gcj02", None)),
        ("GCJ-02", ("gcj02", None)),
        ("高德", ("gcj02", None)),
        ("火星坐标", ("gcj02", None)),
        ("bd09", ("bd09", None)),
        ("BD-09", ("bd09", None)),
        ("百度", ("bd09", None)),
    ],
)
def test_parse_crs_alias(text: str, expected: tuple[str, int | None]) -> None:
    kind, crs = webcrs.parse_crs_alias(text)
    assert kind == expected[0]
    if expected[1] is None:
        assert crs is None
    else:
        assert crs is not None and crs.to_epsg() == expected[1]


def test_parse_crs_alias_proj_and_wkt() -> None:
    proj = "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80"
    kind, crs = webcrs.parse_crs_alias(proj)
    assert kind == "crs" and crs.is_projected
    kind, crs = webcrs.parse_crs_alias(pyproj.CRS.from_epsg(4547).to_wkt())
    assert kind == "crs" and crs.to_epsg() == 4547


@pytest.mark.parametrize("text", ["", "   ", "火星文", "EPSG:999999", "cgcs2000-gk115"])
def test_parse_crs_alias_unknown(text: str) -> None:
    with pytest.raises(CRSError) as info:
        webcrs.parse_crs_alias(text)
    msg = str(info.value)
    assert "可用写法" in msg and "Accepted" in msg
    assert msg.index("可用写法") < msg.index("Accepted")  # Chinese first


@settings(max_examples=300, deadline=None, database=None)
@given(
    lon=st.floats(min_value=109.5, max_value=117.5),
    lat=st.floats(min_value=20.0, max_value=25.6),
)
def test_round_trip_under_one_metre_property(lon: float, lat: float) -> None:
    for fwd, inv in (
        (webcrs.wgs84_to_gcj02, webcrs.gcj02_to_wgs84),
        (webcrs.wgs84_to_bd09, webcrs.bd09_to_wgs84),
    ):
        rx, ry = inv(*fwd(lon, lat))
        _, _, dist = GEOD.inv(lon, lat, rx, ry)
        assert dist < 1.0
