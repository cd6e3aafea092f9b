"""Checks on the committed 连州市 demo data (``spatial/data/*.gpkg``).

The GeoPackages are read with pyogrio/geopandas directly (not through ecozone)
so these tests pin the data itself: calibrated ellipsoidal areas, the control
unit tiling, topology promises (core zones inside the red line, farmland
disjoint from protected land) and that ``scripts/build_demo.py`` reproduces
the committed files.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal
from pyproj import Geod

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "spatial" / "data"
DEMO = DATA / "lianzhou_demo.gpkg"
SITES = DATA / "lianzhou_sites.gpkg"
SHARED = REPO.parent / "shared" / "data"
GEOD = Geod(ellps="GRS80")

LAYERS = ["boundary", "town", "redline", "protected_area", "water_source", "control_unit", "farmland",
          "urban_boundary", "corridor", "industrial_park", "general_eco_space", "env_zone", "livestock_ban",
          "sensitive_receptor"]
#: 003 L16 生态空间 1254.95 km² minus the red line (L831): the 一般生态空间 calibration target.
ECO_SPACE_KM2 = 1254.95 - 568.74
#: Sites the zone kinds appended (issue 14); the first 31 are the original ones.
N_ORIGINAL_SITES = 31
BOUNDARY_PLAN_KM2 = 2663.33
REDLINE_KM2 = 568.74
PA_KM2 = 303.7139
CATEGORY_DIGIT = {"优先保护单元": "1", "重点管控单元": "2", "一般管控单元": "3"}


def km2(geom: shapely.Geometry, crs: str = "EPSG:4547") -> float:
    """Ellipsoidal (GRS80) area of one geometry in km²."""
    ll = gpd.GeoSeries([geom], crs=crs).to_crs("EPSG:4490").iloc[0]
    return abs(GEOD.geometry_area_perimeter(ll)[0]) / 1e6


def union(gdf: gpd.GeoDataFrame) -> shapely.Geometry:
    """Dissolve a layer."""
    return shapely.union_all(gdf.geometry.values)


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    """Read all layers of the committed demo GeoPackage."""
    return {name: gpd.read_file(DEMO, layer=name) for name in LAYERS}


@pytest.fixture(scope="module")
def sites() -> gpd.GeoDataFrame:
    """Read the committed demo sites."""
    return gpd.read_file(SITES, layer="sites")


def test_files_small_and_layers_present() -> None:
    assert DEMO.stat().st_size + SITES.stat().st_size < 3 * 1024 * 1024
    assert {name for name, _ in pyogrio.list_layers(DEMO)} == set(LAYERS)
    for name in LAYERS:
        assert pyogrio.read_info(DEMO, layer=name)["crs"] == "EPSG:4547"
    assert pyogrio.read_info(SITES, layer="sites")["crs"] == "EPSG:4326"


def test_boundary_is_real_lianzhou(layers: dict[str, gpd.GeoDataFrame]) -> None:
    b = layers["boundary"]
    assert list(b["name"]) == ["连州市"] and list(b["code"]) == ["441882"]
    area = km2(b.geometry.iloc[0])
    assert abs(area - BOUNDARY_PLAN_KM2) / BOUNDARY_PLAN_KM2 < 0.005
    assert b.geometry.iloc[0].is_valid


def test_redline_calibrated_disjoint_and_inside(layers: dict[str, gpd.GeoDataFrame]) -> None:
    red, boundary = layers["redline"], layers["boundary"].geometry.iloc[0]
    area = km2(shapely.intersection(union(red), boundary))
    assert abs(area - REDLINE_KM2) / REDLINE_KM2 < 0.01
    assert 10 <= len(red) <= 25
    assert red["id"].is_unique and set(red["kind"]) == {"陆域"}
    assert red.geometry.is_valid.all()
    # Features are disjoint: the sum of parts equals the union.
    assert abs(red.area.sum() - union(red).area) < 1.0
    assert shapely.difference(union(red), boundary).area < 1.0
    assert any(len(g.geoms) > 1 for g in red.geometry)
    assert any(len(p.interiors) > 0 for g in red.geometry for p in g.geoms)


def test_protected_areas(layers: dict[str, gpd.GeoDataFrame]) -> None:
    pa, boundary = layers["protected_area"], layers["boundary"].geometry.iloc[0]
    area = km2(shapely.intersection(union(pa), boundary))
    assert abs(area - PA_KM2) / PA_KM2 < 0.01
    assert pa["name"].nunique() == 8
    assert pa["id"].is_unique
    assert set(pa["zone"]) == {"核心保护区", "一般控制区"}
    assert set(pa["type"]) <= {"自然保护区", "森林公园", "湿地公园", "风景名胜区", "地质公园", "其他"}
    parks = pa[pa["type"].isin(["森林公园", "湿地公园", "风景名胜区", "地质公园"])]
    assert set(parks["zone"]) == {"一般控制区"}
    reserves = pa[pa["type"] == "自然保护区"]
    assert all(set(z) == {"核心保护区", "一般控制区"} for _, z in reserves.groupby("name")["zone"])
    # Every core zone lies inside the red line (validate flags those that do not).
    core = union(pa[pa["zone"] == "核心保护区"])
    assert shapely.difference(core, union(layers["redline"])).area < 100.0


def test_control_units_tile_the_county(layers: dict[str, gpd.GeoDataFrame]) -> None:
    cu, boundary = layers["control_unit"], layers["boundary"].geometry.iloc[0]
    assert len(cu) == 28
    assert cu["ZHGKDYFL"].value_counts().to_dict() == {"优先保护单元": 12, "重点管控单元": 6, "一般管控单元": 10}
    assert cu["HJZHGKDYBM"].is_unique
    for code, cat in zip(cu["HJZHGKDYBM"], cu["ZHGKDYFL"], strict=True):
        assert re.fullmatch(r"ZH441882[123]\d{4}", code)
        assert code[8] == CATEGORY_DIGIT[cat]
    for col in ("HJZHGKDYMC", "KJBJYS", "PWWPFGK", "HJFXFK", "ZYKFXLYQ", "JZHY"):
        assert cu[col].str.len().min() > 0, col
    assert cu.geometry.is_valid.all()
    b_area = km2(boundary)
    u = union(cu)
    assert km2(shapely.symmetric_difference(u, boundary)) < 1e-4 * b_area
    overlap = sum(km2(g) for g in cu.geometry) - km2(u)
    assert abs(overlap) < 1e-4 * b_area


def test_control_unit_bans_use_known_terms(layers: dict[str, gpd.GeoDataFrame]) -> None:
    known = set("火电;石化;化工;钢铁;有色冶炼;建材;电镀;印染;制革;造纸;采矿;畜禽养殖;小水电".split(";"))
    cu = layers["control_unit"]
    for cat, jzhy in zip(cu["ZHGKDYFL"], cu["JZHY"], strict=True):
        terms = set(jzhy.split(";"))
        assert terms <= known
        assert len(terms) >= (10 if cat == "优先保护单元" else 2)


def test_towns_tile_the_county(layers: dict[str, gpd.GeoDataFrame]) -> None:
    town, boundary = layers["town"], layers["boundary"].geometry.iloc[0]
    assert len(town) == 12 and town["name"].is_unique and "连州镇" in set(town["name"])
    assert shapely.symmetric_difference(union(town), boundary).area < 1e-4 * boundary.area
    assert abs(town.area.sum() - union(town).area) < 1e-4 * boundary.area


def test_water_farmland_urban(layers: dict[str, gpd.GeoDataFrame]) -> None:
    ws = layers["water_source"]
    assert {"一级保护区", "二级保护区"} <= set(ws["level"])
    l1 = union(ws[ws["level"] == "一级保护区"])
    l2 = union(ws[ws["level"] == "二级保护区"])
    assert shapely.intersection(l1, l2).area < 1.0
    assert l2.touches(l1) or l2.intersects(l1)  # the ring surrounds level 1
    farm = union(layers["farmland"])
    urban = union(layers["urban_boundary"])
    for other in (union(layers["redline"]), union(layers["protected_area"]), urban):
        assert shapely.intersection(farm, other).area < 1.0
    assert shapely.intersection(union(layers["protected_area"]), urban).area < 1.0
    assert 40 <= km2(urban) <= 80
    assert layers["farmland"]["id"].is_unique


def test_corridors(layers: dict[str, gpd.GeoDataFrame]) -> None:
    cor = layers["corridor"]
    names = set(cor["name"])
    assert {"连江", "东陂河", "星子河", "三江河", "九陂河", "清连高速"} <= names
    assert {"G234国道", "G537国道"} <= names
    assert set(cor["kind"]) == {"河流", "道路"}
    roads = cor[cor["kind"] == "道路"]
    assert set(roads["road_class"]) == {"高速公路", "国道", "省道", "县道"}
    assert cor.loc[cor["kind"] == "河流", "road_class"].isna().all()
    assert cor.loc[cor["name"] == "连江", "width_m"].tolist() == [30.0]
    assert cor.loc[cor["name"] != "连江", "width_m"].isna().all()
    assert (cor.geometry.geom_type == "LineString").all()


def test_sites_cover_geometry_types(sites: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert 35 <= len(sites) <= 50
    assert sites["site_id"].is_unique
    counts = sites.geometry.geom_type.value_counts().to_dict()
    assert counts.get("Point", 0) >= 15 and counts.get("Polygon", 0) >= 6 and counts.get("LineString", 0) >= 3
    assert sites["note"].str.len().min() > 0
    s = sites.to_crs("EPSG:4547")
    boundary = layers["boundary"].geometry.iloc[0]
    assert (~s.intersects(boundary)).sum() == 1  # exactly one site outside the county
    red = union(layers["redline"])
    assert s.intersects(red).sum() >= 5
    partly = [g for g in s.geometry if g.geom_type == "Polygon" and 0 < g.intersection(red).area < g.area]
    assert partly, "a polygon site should straddle the red line"


def test_industrial_parks(layers: dict[str, gpd.GeoDataFrame]) -> None:
    parks, urban = layers["industrial_park"], union(layers["urban_boundary"])
    assert parks["YQMC"].is_unique and set(parks["GHHP"]) == {"是", "否"}
    inside = [urban.buffer(1).contains(g) for g in parks.geometry]
    assert inside == [True, True, False]  # two parks inside the development boundary, the one without 规划环评 outside
    assert parks.geometry.is_valid.all()


def test_general_eco_space_calibrated_and_outside_red_line(layers: dict[str, gpd.GeoDataFrame]) -> None:
    eco = union(layers["general_eco_space"])
    assert abs(km2(eco) - ECO_SPACE_KM2) / ECO_SPACE_KM2 < 0.001
    for other in ("redline", "urban_boundary", "farmland"):
        assert shapely.intersection(eco, union(layers[other])).area < 1.0, other
    assert abs(layers["general_eco_space"].area.sum() - eco.area) < 1.0  # township features are disjoint


def test_element_zones_air_and_water_tile_the_county(layers: dict[str, gpd.GeoDataFrame]) -> None:
    ez, boundary = layers["env_zone"], layers["boundary"].geometry.iloc[0]
    assert set(ez["HJYS"]) == {"大气", "水", "土壤"}
    for element in ("大气", "水"):
        part = ez[ez["HJYS"] == element]
        assert km2(shapely.symmetric_difference(union(part), boundary)) < 1e-4 * km2(boundary), element
        assert abs(part.area.sum() - union(part).area) < 1e-4 * boundary.area, element  # no overlaps
    wanted = {"大气环境高排放重点管控区", "大气环境弱扩散重点管控区", "大气环境受体敏感重点管控区", "水环境优先保护区",
              "农用地优先保护区", "建设用地污染风险重点管控区"}
    assert wanted <= set(ez["YSXL"].dropna())


def test_receptors_and_livestock_ban(layers: dict[str, gpd.GeoDataFrame], sites: gpd.GeoDataFrame) -> None:
    rec = layers["sensitive_receptor"]
    assert {"学校", "医院", "养老院", "居民区", "水库"} <= set(rec["MBLX"])
    assert set(rec.geometry.geom_type) >= {"Point", "Polygon"}
    s = sites.to_crs("EPSG:4547").set_index("site_id").geometry
    school = rec.loc[rec["MBMC"] == "大路边镇中心小学"].geometry.iloc[0]
    assert abs(school.distance(s["LZ-026"]) - 800.0) < 0.01  # the 两高 works 800 m from a school
    assert layers["livestock_ban"].geometry.is_valid.all()


def test_original_sites_unchanged_by_appended_ones(sites: gpd.GeoDataFrame) -> None:
    assert sites["site_id"].tolist()[:N_ORIGINAL_SITES] == [f"LZ-{i:03d}" for i in range(1, N_ORIGINAL_SITES + 1)]
    assert len(sites) > N_ORIGINAL_SITES


def _build(out: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "build_demo.py"), "--out-dir", str(out)],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def _read_all(folder: Path) -> dict[str, gpd.GeoDataFrame]:
    out = {name: gpd.read_file(folder / "lianzhou_demo.gpkg", layer=name) for name in LAYERS}
    out["sites"] = gpd.read_file(folder / "lianzhou_sites.gpkg", layer="sites")
    return out


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.exists(), reason=f"../shared data not found at {SHARED}")
def test_build_is_deterministic_and_matches_committed(tmp_path: Path) -> None:
    _build(tmp_path / "a")
    _build(tmp_path / "b")
    for name in ("lianzhou_demo.gpkg", "lianzhou_sites.gpkg"):  # fixed timestamps: identical bytes
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    a, b = _read_all(tmp_path / "a"), _read_all(tmp_path / "b")
    for name in a:
        assert_geodataframe_equal(a[name], b[name])
        assert list(a[name].geometry.to_wkb()) == list(b[name].geometry.to_wkb()), name  # bit-identical
    committed = _read_all(DATA)
    for name, fresh in a.items():
        old = committed[name]
        assert_frame_equal(pd.DataFrame(fresh.drop(columns="geometry")), pd.DataFrame(old.drop(columns="geometry")))
        assert fresh.crs == old.crs
        # Tolerant geometry check so a different GEOS build does not fail on vertex order.
        same = shapely.equals_exact(fresh.geometry.values, old.geometry.values, tolerance=1e-6)
        if not np.all(same):
            sym = shapely.symmetric_difference(fresh.geometry.values, old.geometry.values)
            assert np.all(shapely.area(sym) < 1e-6) or np.all(shapely.hausdorff_distance(
                fresh.geometry.values, old.geometry.values) < 1e-3), name
