"""Rules on the zone kinds the plans use: each triggers on one site and just misses the next.

The toy county (tests/conftest.py) gains an industrial park with a 规划环评, one
without and one whose status is unknown, a general ecological space, air,
water and soil element zones, sensitive receptors and a livestock ban area.
Its boundary code puts it in 连州 (441882), so the 连州 plan's rules apply; the
same county coded for 阳江 (4417) or for nowhere in particular shows which
rules each jurisdiction's sources carry.  Coordinates are km from the toy
origin; escapes are 10 m beyond an edge or 0.1 m beyond a distance.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import yaml
from conftest import assert_fires_at_hit_only, km_box, km_point, km_sites, toy_layers
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spatial import screen
from spatial.errors import DataWarning, RuleError
from spatial.rules import load_rules
from spatial.zoning import load_zoning

CRS = "EPSG:4547"


def zone_kind_layers() -> dict[str, gpd.GeoDataFrame]:
    """The new layers of the toy county (raw, with Chinese and national field names)."""
    parks = gpd.GeoDataFrame(
        {
            "园区名称": ["甲工业园", "乙产业园", "丙园区"],
            "规划环评": ["是", "否", "不详"],
            "主导产业": ["化工;电子;新材料", "建材", None],
            "禁止类": ["造纸;电镀", None, None],
        },
        geometry=[km_box(8.0, 14.0, 9.0, 15.5), km_box(17.0, 9.5, 19.0, 11.5), km_box(1.0, 10.5, 2.0, 11.5)],
        crs=CRS,
    )
    eco = gpd.GeoDataFrame({"MC": ["西北山地一般生态空间"]}, geometry=[km_box(0.2, 12.0, 1.8, 13.5)], crs=CRS)
    zones = gpd.GeoDataFrame(
        {
            "FQMC": ["东北弱扩散区", "城区受体敏感区", "甲园高排放区", "北部水环境优先保护区", "西北农用地优先保护区", "城区污染地块"],
            "HJYS": ["大气", "大气", "大气", "水", "土壤", "土壤"],
            "ZHGKDYFL": ["重点管控区", "重点管控区", "重点管控区", "优先保护区", "优先保护区", "重点管控区"],
            "YSXL": ["弱扩散", "受体敏感", "高排放", "水环境优先保护区", "农用地优先保护区", "建设用地污染风险重点管控区"],
        },
        geometry=[
            km_box(18.0, 12.0, 19.5, 13.0),
            km_box(6.0, 16.0, 8.0, 17.0),
            km_box(8.0, 14.0, 9.0, 15.5),
            km_box(12.0, 17.0, 13.0, 19.0),
            km_box(1.7, 13.7, 6.3, 18.3),
            km_box(6.2, 14.2, 6.8, 14.8),
        ],
        crs=CRS,
    )
    receptors = gpd.GeoDataFrame(
        {"敏感目标名称": ["示例小学", "示例医院", "示例村"], "敏感目标类型": ["学校", "医院", "村庄"]},
        geometry=[km_point(14.0, 7.0), km_box(17.5, 6.5, 18.0, 7.0), km_box(12.5, 6.6, 13.0, 7.0)],
        crs=CRS,
    )
    ban = gpd.GeoDataFrame({"禁养区名称": ["示例禁养区"]}, geometry=[km_box(10.5, 16.0, 11.5, 17.0)], crs=CRS)
    return {
        "产业园区": parks,
        "一般生态空间": eco,
        "环境要素管控分区": zones,
        "环境敏感目标": receptors,
        "畜禽禁养区": ban,
    }


def _write(path, adcode: str = "441882", **changes: gpd.GeoDataFrame):
    """Write the toy county with every zone kind, coded ``adcode``, and load it."""
    # The toy's own corner park, school and 禁养区 give way to this module's zone kinds (same standard layers).
    toy = {k: v for k, v in toy_layers().items() if k not in ("industrial_park", "sensitive_receptor", "livestock_ban")}
    layers = {**toy, **zone_kind_layers(), **changes}
    layers["boundary"] = layers["boundary"].assign(XZQDM=adcode)
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return load_zoning(path)


@pytest.fixture(scope="module")
def zone_toy(tmp_path_factory: pytest.TempPathFactory):
    """The toy county with every zone kind, in 连州's jurisdiction."""
    return _write(tmp_path_factory.mktemp("zone_toy") / "z.gpkg")


# rule, project type, trigger, escape, verdict when triggered
CASES = [
    # 进园: industry outside every park; a 10 m step into 甲工业园 escapes.
    ("IP-OUT", "industrial", (7.99, 14.5), (8.01, 14.5), "restricted"),
    # 化工 outside every park whose 规划环评 is done (or unknown): inside 乙 (否) it is still outside.
    ("IP-EIA", "chemical", (18.0, 10.5), (8.5, 14.5), "prohibited"),
    ("IP-EIA", "flat_glass", (18.0, 10.5), (8.5, 14.5), "prohibited"),
    ("IP-EIA-UNKNOWN", "chemical", (1.5, 11.0), (2.01, 11.0), "notice"),
    ("IP-BANNED", "papermaking", (8.5, 14.5), (8.5, 15.51), "prohibited"),
    # Issue 21: 厅字〔2019〕48号 一（一） states a principle ("不可逾越的红线"): 待核实, not 有条件符合.
    ("UB-OUT", "residential", (5.99, 15.0), (6.01, 15.0), "notice"),
    ("UB-OUT", "tourism", (5.99, 15.0), (6.01, 15.0), "notice"),
    ("GES", "industrial", (1.0, 12.5), (1.0, 13.51), "notice"),  # 连州: the plan gives no control text
    ("AIR-WEAK", "steel", (18.5, 12.5), (18.5, 13.01), "prohibited"),
    ("AIR-RECEPTOR", "printing", (7.0, 16.5), (7.0, 17.01), "restricted"),
    ("AIR-HIGH", "petrochemical", (5.0, 1.0), (8.5, 14.5), "restricted"),
    ("WATER-PRIORITY", "industrial", (12.5, 18.0), (11.99, 18.0), "notice"),
    ("SOIL-FARMLAND", "electroplating", (1.8, 14.0), (1.69, 14.0), "prohibited"),
    ("SOIL-RISK", "residential", (6.5, 14.5), (6.81, 14.5), "notice"),
    # 003 L762 "不得…周边新建": 不符合; 名录第三条 only defines sensitive areas (no distance): 待核实 (issue 21).
    ("REC-HM", "electroplating", (12.7, 6.8), (11.4999, 6.8), "prohibited"),
    ("REC-2H", "steel", (14.8, 7.0), (15.0001, 7.0), "notice"),
    ("LB", "livestock", (11.0, 16.5), (11.51, 16.5), "prohibited"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("rule", "ptype", "hit", "miss", "verdict"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_rule_triggers_and_just_escapes(zone_toy, rule, ptype, hit, miss, verdict) -> None:
    result = screen(km_sites([hit, miss], ptype), zone_toy)
    assert_fires_at_hit_only(result.hits, rule, verdict, hit, miss)


def test_two_high_800_m_from_a_school_names_it(zone_toy) -> None:
    """A 两高 plant 800 m from a school gets 待核实 (名录第三条 gives no distance) with the school's name and the distance."""
    result = screen(km_sites([(14.8, 7.0)], "steel"), zone_toy)
    rec = result.hits[result.hits.rule_id == "REC-2H"]
    assert len(rec) == 1  # the nearest receptor only
    assert rec.feature_name.iloc[0] == "示例小学"
    assert rec.distance_m.iloc[0] == pytest.approx(800.0, abs=0.05)  # reprojected WGS84 round trip
    assert rec.verdict.iloc[0] == "notice"


def test_distance_rule_reports_the_nearest_receptor(zone_toy) -> None:
    # 700 m from the village edge, 2.2 km from the school: the village is named.
    result = screen(km_sites([(11.8, 6.8)], "electroplating"), zone_toy)
    rec = result.hits[result.hits.rule_id == "REC-HM"]
    assert rec.feature_name.tolist() == ["示例村"]
    assert rec.distance_m.iloc[0] == pytest.approx(700.0, abs=0.05)


def test_inside_a_receptor_polygon_is_distance_zero(zone_toy) -> None:
    result = screen(km_sites([(12.7, 6.8)], "electroplating"), zone_toy)
    rec = result.hits[result.hits.rule_id == "REC-HM"]
    assert rec.distance_m.tolist() == [0.0]


def test_chemical_in_eia_park_inside_boundary_has_no_park_or_boundary_finding(zone_toy) -> None:
    result = screen(km_sites([(8.5, 14.5)], "chemical"), zone_toy)
    rules = set(result.hits.rule_id)
    assert not rules & {"IP-OUT", "IP-EIA", "IP-EIA-UNKNOWN", "IP-BANNED", "UB-OUT"}, rules
    status = result.layer_status.set_index("layer")
    assert status.loc["urban_boundary", "status_zh"] == "位于城镇开发边界内"  # inside the boundary is no problem
    assert not status.loc["urban_boundary", "concern"] and not status.loc["industrial_park", "concern"]
    assert "位于城镇开发边界内" in result.sites.summary_zh[0] and "涉及城镇开发边界" not in result.sites.summary_zh[0]


def test_industry_outside_parks_and_boundary_is_not_compatible(zone_toy) -> None:
    """The LZ-015 / LZ-026 case: a 两高 plant in open country."""
    result = screen(km_sites([(18.0, 1.0)], "building_materials"), zone_toy)
    assert result.sites.verdict[0] == "restricted"
    assert {"IP-OUT", "UB-OUT"} <= set(result.hits.rule_id)


def test_outside_hit_names_the_nearest_park_and_distance(zone_toy) -> None:
    result = screen(km_sites([(8.5, 13.0)], "industrial"), zone_toy)
    hit = result.hits[result.hits.rule_id == "IP-OUT"].iloc[0]
    assert hit.feature_name == "甲工业园"
    assert hit.distance_m == pytest.approx(1000.0, abs=0.05)


def test_polygon_partly_outside_the_boundary_reports_the_outside_part(zone_toy) -> None:
    site = km_box(5.5, 14.5, 6.5, 15.5)  # half in the development boundary [6,9]x[14,17]
    result = screen(km_sites([site], "residential"), zone_toy)
    hit = result.hits[result.hits.rule_id == "UB-OUT"].iloc[0]
    assert hit.distance_m == 0.0
    assert hit.overlap_pct == pytest.approx(50.0, abs=0.05)


def test_site_beyond_the_county_gets_no_urban_boundary_finding(zone_toy) -> None:
    result = screen(km_sites([(-0.5, 5.0)], "residential"), zone_toy)
    assert "UB-OUT" not in set(result.hits.rule_id)
    assert "OUTSIDE" in set(result.hits.rule_id)


def test_no_park_with_eia_still_fires_without_a_feature(tmp_path) -> None:
    """With no park meeting the condition, a chemical plant is still outside every approved park."""
    parks = zone_kind_layers()["产业园区"].assign(规划环评="否")
    result = screen(km_sites([(8.5, 14.5)], "chemical"), _write(tmp_path / "z.gpkg", 产业园区=parks))
    hit = result.hits[result.hits.rule_id == "IP-EIA"]
    assert len(hit) == 1 and hit.verdict.iloc[0] == "prohibited"
    assert hit.feature_name.iloc[0] == ""


def test_livestock_ban_layer_absent_means_no_finding(toy_zoning) -> None:
    result = screen(km_sites([(11.0, 16.5)], "livestock"), toy_zoning)
    assert not set(result.hits.rule_id) & {"LB", "IP-OUT", "GES"}


KM = 1000.0
coords = st.tuples(st.floats(-1.0, 21.0), st.floats(-1.0, 21.0))


def _raw_sites(points: list[tuple[float, float]], project_type: str) -> gpd.GeoDataFrame:
    """Sites in the zoning's own CRS (no reprojection: distances compare exactly)."""
    return gpd.GeoDataFrame(
        {"site_id": [f"P{i}" for i in range(len(points))], "project_type": project_type},
        geometry=[km_point(x, y) for x, y in points],
        crs=CRS,
    )


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(coords, min_size=1, max_size=40))
def test_outside_fires_exactly_off_every_park_inside_the_county(zone_toy, points) -> None:
    parks = zone_toy["industrial_park"].geometry.values
    boundary = zone_toy["boundary"].geometry.values[0]
    # Points within 1 cm of an edge are dropped (hypothesis likes round numbers, which sit on edges).
    points = [xy for xy in points if min(shapely.distance(shapely.boundary(g), km_point(*xy)) for g in [*parks, boundary]) >= 0.01]
    assume(points)
    pts = [km_point(x, y) for x, y in points]
    result = screen(_raw_sites(points, "industrial"), zone_toy)
    ip = result.hits[result.hits.rule_id == "IP-OUT"].set_index("site_id")
    for i, p in enumerate(pts):
        expected = boundary.contains(p) and not any(g.contains(p) for g in parks)
        assert (f"P{i}" in ip.index) == expected, (points[i], expected)
        if expected:
            assert ip.loc[f"P{i}", "distance_m"] == pytest.approx(min(g.distance(p) for g in parks), abs=1e-6)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(coords, min_size=1, max_size=40))
def test_within_reports_the_nearest_matching_receptor(zone_toy, points) -> None:
    rec = zone_toy["sensitive_receptor"]
    points = [xy for xy in points if all(abs(g.distance(km_point(*xy)) - KM) > 0.01 for g in rec.geometry)]
    assume(points)
    pts = [km_point(x, y) for x, y in points]
    dists = [[g.distance(p) for g in rec.geometry] for p in pts]
    result = screen(_raw_sites(points, "electroplating"), zone_toy)  # REC-HM: every receptor kind here counts
    hm = result.hits[result.hits.rule_id == "REC-HM"].set_index("site_id")
    assert hm.index.is_unique  # one hit per site: the nearest
    for i, row in enumerate(dists):
        assert (f"P{i}" in hm.index) == (min(row) <= KM)
        if min(row) <= KM:
            assert hm.loc[f"P{i}", "feature_name"] == rec["name"].iloc[int(np.argmin(row))]
            assert hm.loc[f"P{i}", "distance_m"] == pytest.approx(min(row), abs=1e-6)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "L", "layer": "industrial_park", "mode": "listed", "verdict": "notice"}, "list_field"),
        ({"id": "L", "layer": "industrial_park", "mode": "listed", "list_field": "name", "verdict": "notice"}, "banned"),
        ({"id": "L", "layer": "industrial_park", "mode": "listed", "list_field": "banned", "match": "some", "verdict": "notice"}, "unlisted"),
        ({"id": "W", "layer": "sensitive_receptor", "mode": "within", "verdict": "notice"}, "distance_m"),
        ({"id": "W", "layer": "sensitive_receptor", "mode": "within", "distance_m": -5, "verdict": "notice"}, "distance_m"),
    ],
)
def test_new_modes_validate_their_keys(tmp_path, rule: dict, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleError, match=message):
        load_rules(path)


def test_unknown_park_list_terms_are_reported(tmp_path) -> None:
    parks = zone_kind_layers()["产业园区"]
    parks.loc[0, "禁止类"] = "造纸;焦炭加工"
    zoning = _write(tmp_path / "z.gpkg", 产业园区=parks)
    with pytest.warns(DataWarning, match="产业园区禁止类项目：焦炭加工"):
        result = screen(km_sites([(8.5, 14.5)], "papermaking"), zoning)
    assert "IP-BANNED" in set(result.hits.rule_id)  # the known term still counts


@pytest.mark.slow
@pytest.mark.parametrize(
    ("adcode", "present", "absent", "ges"),
    [
        # 连州: the county plan's park, air, soil, receptor and 禁养区 rules; GES only 关注.
        ("441882", {"IP-OUT", "UB-OUT", "REC-HM", "LB", "GES"}, set(), "notice"),
        # 阳江 (4417): the 阳江高新区 plan's park and eco-space rules; GES 限制 (004 L284).
        ("441702", {"IP-OUT", "UB-OUT", "GES", "LB"}, {"REC-HM", "AIR-WEAK"}, "restricted"),
        # Elsewhere in Guangdong: national and provincial sources only — 畜禽条例第十一条 (LB) and 广东省环境保护条例
        # 第三十一条 (IP-OUT) apply everywhere (issue 21), the county plans' rules do not.
        ("441284", {"UB-OUT", "IP-OUT", "LB"}, {"REC-HM", "GES", "AIR-WEAK"}, None),
    ],
)
def test_local_rules_only_in_their_jurisdiction(tmp_path, adcode, present, absent, ges) -> None:
    zoning = _write(tmp_path / "z.gpkg", adcode)
    industry = screen(km_sites([(1.0, 12.5), (12.7, 6.8)], "industrial"), zoning)
    hm = screen(km_sites([(12.7, 6.8)], "electroplating"), zoning)
    pig = screen(km_sites([(11.0, 16.5)], "livestock"), zoning)
    rules = set(industry.hits.rule_id) | set(hm.hits.rule_id) | set(pig.hits.rule_id)
    assert present <= rules and not absent & rules, rules
    got = industry.hits[industry.hits.rule_id == "GES"].verdict.tolist()
    assert got == ([ges] if ges else [])
    if adcode == "441284":  # a package outside every local source cites national sources only
        assert not industry.hits.basis.str.contains("连州|阳江|开平|江门").any()
