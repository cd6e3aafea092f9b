"""Coast and sea (issue 26): land_sea, sea units, the marine red line, coastline rules and indicators.

A toy coastal county built in code (EPSG:4547, km from the toy origin): the planning area
x 0..20, y 0..20 holds its sea; land y ≥ 5, 滩涂 4 ≤ y < 5, sea y < 4.  The coastline runs
along y = 5 (natural x 0..10 with a wiggle, artificial x 10..20).  A marine red line sits at
sea (x 2..6, y 0..3); two near-shore sea units split the sea at x = 10, the western one bans
海砂开采.  The county code decides whether 阳江高新区's plan (004) applies.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import TOY_CRS, km_box, km_line, km_point
from pyproj import Geod

from layers import REGISTRY
from spatial.errors import RuleError

NATURAL = [(0, 5), (2, 5.3), (4, 4.8), (6, 5.4), (8, 5.0), (10, 5)]


def _package(path: Path, adcode: str) -> Path:
    """Write the toy coastal county with Chinese layer and column names."""
    crs = TOY_CRS
    layers = {
        "行政区": gpd.GeoDataFrame({"XZQMC": ["示例海县"], "XZQDM": [adcode]}, geometry=[km_box(0, 0, 20, 20)], crs=crs),
        "海域": gpd.GeoDataFrame(
            {"编号": ["HY1", "TT1", "LY1"], "陆海属性": ["海域", "滩涂", "陆域"]},
            geometry=[km_box(0, 0, 20, 4), km_box(0, 4, 20, 5), km_box(0, 5, 20, 20)],
            crs=crs,
        ),
        "生态保护红线": gpd.GeoDataFrame(
            {"HXBH": ["HX-M1", "HX-L1"], "HXMC": ["海洋红线甲", "陆域红线乙"], "HXLX": ["海洋生态保护红线", "陆域"]},
            geometry=[km_box(2, 0, 6, 3), km_box(15, 15, 17, 17)],
            crs=crs,
        ),
        "海岸线": gpd.GeoDataFrame(
            {"岸线编号": ["AX1", "AX2"], "岸线类型": ["砂质岸线", "人工岸线"], "岸线功能": ["生态", "港口工业"], "控制宽度": [50, None]},
            geometry=[km_line(*NATURAL), km_line((10, 5), (20, 5))],
            crs=crs,
        ),
        "近岸海域环境管控单元": gpd.GeoDataFrame(
            {"单元编码": ["HY01", "HY02"], "单元名称": ["西部海域", "东部海域"], "单元类别": ["优先保护", "一般管控"], "禁止类": ["海砂开采", ""]},
            geometry=[km_box(0, 0, 10, 4), km_box(10, 0, 20, 4)],
            crs=crs,
        ),
    }
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


@pytest.fixture(scope="module")
def yangjiang(tmp_path_factory: pytest.TempPathFactory):
    from spatial.zoning import load_zoning

    return load_zoning(_package(tmp_path_factory.mktemp("coast") / "yj.gpkg", "441702"))


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory):
    from spatial.zoning import load_zoning

    return load_zoning(_package(tmp_path_factory.mktemp("coast") / "other.gpkg", "441899"))


SITES = {
    # id: (geometry, type, major)
    "R-MRL": (km_box(3, 1, 4, 2), "围填海", ""),  # reclamation inside the marine red line
    "R-SEA": (km_box(12, 1, 13, 2), "填海造地", ""),  # reclamation at sea, outside the red line
    "R-FLAT": (km_box(12, 4.2, 12.5, 4.6), "围填海", ""),  # on the tidal flats only
    "R-INLAND": (km_box(5, 10, 6, 11), "围填海", "是"),  # a reclamation-type site on land
    "IND-MAJOR": (km_box(7, 10, 8, 11), "industrial", "是"),  # inland major industrial project
    "PORT": (km_box(7, 4.5, 8, 5.5), "港口码头", ""),  # across the natural coastline
    "PORT-ART": (km_box(14, 4.5, 15, 5.5), "港口码头", ""),  # across the artificial coastline
    "SAND": (km_box(8, 1, 9, 2), "海砂开采", ""),  # banned by the western sea unit
    "WIND": (km_point(15, 2), "海上风电", ""),
    "FISH": (km_point(11, 3), "海水养殖", ""),
}


def _screen(zoning):
    from spatial.screening import screen

    sites = gpd.GeoDataFrame(
        {"site_id": list(SITES), "project_type": [v[1] for v in SITES.values()], "major_project": [v[2] for v in SITES.values()]},
        geometry=[v[0] for v in SITES.values()],
        crs=TOY_CRS,
    )
    return screen(sites, zoning)


@pytest.fixture(scope="module")
def yj_result(yangjiang):
    return _screen(yangjiang)


@pytest.fixture(scope="module")
def other_result(elsewhere):
    return _screen(elsewhere)


def _rules(result, site: str) -> dict[str, str]:
    h = result.hits[result.hits["site_id"] == site]
    return dict(zip(h["rule_id"], h["verdict"], strict=False))


def _verdict(result, site: str) -> str:
    return result.sites.set_index("site_id").loc[site, "verdict"]


def test_layers_read_chinese_columns_and_values(yangjiang) -> None:
    assert list(yangjiang.layers["land_sea"]["kind"]) == ["sea", "intertidal", "land"]
    assert list(yangjiang.layers["redline"]["kind"]) == ["marine", "land"]
    assert list(yangjiang.layers["coastline"]["kind"]) == ["natural", "artificial"]  # 砂质岸线 is a 自然岸线 class
    units = yangjiang.layers["sea_unit"]
    assert list(units["category"]) == ["priority", "general"] and list(units["code"]) == ["HY01", "HY02"]


def test_reclamation_in_marine_red_line_is_prohibited_citing_the_plan(yj_result) -> None:
    """004 L278 "海洋生态保护红线内禁止围填海"."""
    rules = _rules(yj_result, "R-MRL")
    assert rules["MRL-RECLAIM"] == "prohibited" and rules["RECLAIM-SEA"] == "prohibited"
    row = yj_result.hits[(yj_result.hits["site_id"] == "R-MRL") & (yj_result.hits["rule_id"] == "MRL-RECLAIM")]
    assert "阳江高新区生态环境保护" in row["basis"].iloc[0] and "严格海域空间管控" in row["basis"].iloc[0]  # plan title + section
    assert _verdict(yj_result, "R-MRL") == "prohibited"
    # Outside the red line the plan's line does not fire; 国发〔2018〕24号 still does.
    assert "MRL-RECLAIM" not in _rules(yj_result, "R-SEA") and _rules(yj_result, "R-SEA")["RECLAIM-SEA"] == "prohibited"
    assert _rules(yj_result, "R-FLAT")["RECLAIM-SEA"] == "prohibited"  # 滩涂 is sea use too


@pytest.mark.slow
def test_plan_line_only_inside_its_jurisdiction(other_result) -> None:
    rules = _rules(other_result, "R-MRL")
    assert "MRL-RECLAIM" not in rules and rules["RECLAIM-SEA"] == "prohibited"


def test_inland_sites_get_no_reclamation_finding(yj_result) -> None:
    assert not any(r.startswith(("RECLAIM-SEA", "MRL")) or r == "RECLAIM" for r in _rules(yj_result, "IND-MAJOR"))
    inland = _rules(yj_result, "R-INLAND")
    assert inland == {"RECLAIM-INLAND": "notice"} or (inland.get("RECLAIM-INLAND") == "notice" and "RECLAIM-SEA" not in inland)
    # A site that reaches the flats is not "inland": no inconsistency flag.
    assert "RECLAIM-INLAND" not in _rules(yj_result, "R-FLAT")


def test_port_on_natural_coastline_is_conditional_with_balance(yj_result) -> None:
    """004 L276 "强化自然岸线保护，实施自然岸线占补平衡制度"."""
    rules = _rules(yj_result, "PORT")
    assert rules["COAST-NATURAL-BALANCE"] == "restricted"
    row = yj_result.hits[(yj_result.hits["site_id"] == "PORT") & (yj_result.hits["rule_id"] == "COAST-NATURAL-BALANCE")]
    assert "占补平衡" in row["message_zh"].iloc[0] + row["conditions_zh"].iloc[0] and "强化岸线资源管控" in row["basis"].iloc[0]
    assert _verdict(yj_result, "PORT") == "restricted"
    assert not any(r.startswith("COAST-NATURAL") for r in _rules(yj_result, "PORT-ART"))  # artificial coastline


def test_natural_coastline_elsewhere_is_to_be_verified(other_result) -> None:
    rules = _rules(other_result, "PORT")
    assert rules == {"COAST-NATURAL": "notice"} or (rules["COAST-NATURAL"] == "notice" and "COAST-NATURAL-BALANCE" not in rules)
    assert _verdict(other_result, "PORT") == "notice"


def test_sea_unit_list_bans_like_a_control_unit(yj_result) -> None:
    assert _rules(yj_result, "SAND")["SEA-UNIT-BANNED"] == "prohibited"
    assert "SEA-UNIT-BANNED" not in _rules(yj_result, "WIND") and "SEA-UNIT-BANNED" not in _rules(yj_result, "FISH")


def test_unit_prohibited_refuses_a_layer_without_a_list() -> None:
    from spatial.engine.modes import MODES

    with pytest.raises(RuleError, match="sea_unit"):
        MODES["unit_prohibited"].validate({}, ("redline",), "规则 X")
    assert MODES["unit_prohibited"].validate({}, ("sea_unit",), "规则 X") == {}


def test_coast_types_have_parents() -> None:
    from spatial.project_types import DEFAULT_TYPES as T

    for word, canon, parent in [
        ("填海造地", "reclamation", None), ("海上风电", "offshore_wind", "wind_power"), ("海水养殖", "mariculture", "agriculture"),
        ("跨海大桥", "sea_bridge", "linear_infrastructure"), ("排海管道", "ocean_outfall", "sewage_outfall"),
        ("海砂开采", "sea_sand_mining", "mining"), ("港口码头", "port", None),
    ]:  # fmt: skip
        assert T.resolve(word) == canon
        assert T.parents.get(canon) == parent


def _geod_m(geoms: list[shapely.Geometry]) -> float:
    """Independent geodesic length: pyproj.Geod on GRS80 over every vertex pair, in degrees."""
    geod = Geod(ellps="GRS80")
    total = 0.0
    for g in gpd.GeoSeries(geoms, crs=TOY_CRS).to_crs("EPSG:4490"):
        lon, lat = np.asarray(g.coords).T
        total += float(geod.line_length(lon, lat))
    return total


def test_natural_coastline_retention_matches_geod(yangjiang) -> None:
    from spatial.indicators import compute_indicators

    table = compute_indicators(yangjiang)
    natural = _geod_m([km_line(*NATURAL)])
    total = natural + _geod_m([km_line((10, 5), (20, 5))])
    assert table.value("natural_coastline_ratio_pct") == pytest.approx(100 * natural / total, abs=0.01)
    assert table.value("coastline_length_km_natural") == pytest.approx(natural / 1e3, rel=1e-4)


def test_marine_red_line_area_and_share_of_sea(yangjiang) -> None:
    from spatial.indicators import compute_indicators

    table = compute_indicators(yangjiang)
    sea = table.value("sea_area_km2")
    assert sea == pytest.approx(100.0, rel=2e-3)  # 20 km × 5 km of sea and flats (GRS80 vs plane)
    assert table.value("marine_redline_area_km2") == pytest.approx(12.0, rel=2e-3)
    assert table.value("marine_redline_sea_ratio_pct") == pytest.approx(100 * table.value("marine_redline_area_km2") / sea, rel=1e-9)


def test_specs_declare_report_and_styles() -> None:
    assert REGISTRY["sea_unit"].report.section == "coast" and REGISTRY["land_sea"].report.figure == "land"
    assert all(REGISTRY[n].coastal for n in ("coastline", "land_sea", "sea_unit")) and not REGISTRY["redline"].coastal
    assert "redline:marine" in REGISTRY["redline"].styles


def _coast_version(path: Path, natural_to: float) -> Path:
    """A coastline-only file: natural x 0..natural_to, artificial from there to x 20 (y = 5)."""
    gpd.GeoDataFrame(
        {"岸线编号": ["A", "B"], "岸线类型": ["自然岸线", "人工岸线"]},
        geometry=[km_line((0, 5), (natural_to, 5)), km_line((natural_to, 5), (20, 5))],
        crs=TOY_CRS,
    ).to_file(path, layer="海岸线", driver="GPKG")
    return path


def test_diff_of_two_coastline_versions_reports_natural_length_lost(tmp_path: Path) -> None:
    from spatial.diff import diff_lines

    old = _coast_version(tmp_path / "old.gpkg", 10)
    new = _coast_version(tmp_path / "new.gpkg", 7)  # 3 km of natural coast turned artificial (a port)
    d = diff_lines(old, new)
    expect = _geod_m([km_line((7, 5), (10, 5))])
    assert d.lost_m("natural") == pytest.approx(expect, abs=0.01)
    gained = d.totals.set_index("value")["gained_m"]
    assert gained["artificial"] == pytest.approx(expect, abs=0.01) and gained["natural"] == 0.0
    lost = d.pieces[(d.pieces["change"] == "lost") & (d.pieces["value"] == "natural")]
    assert len(lost) == 1 and shapely.equals_exact(lost.geometry.iloc[0].normalize(), km_line((7, 5), (10, 5)).normalize(), 1e-6)
    assert diff_lines(old, old).lost_m("natural") == 0.0


def test_cli_diff_coastline_writes_lost_pieces(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from spatial.cli import cli

    old = _coast_version(tmp_path / "old.gpkg", 10)
    new = _coast_version(tmp_path / "new.gpkg", 6)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["diff", str(old), str(new), "--layer", "coastline", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "diff.json").read_text(encoding="utf-8"))
    natural = {r["value"]: r for r in data["totals"]}["natural"]
    assert natural["lost_m"] == pytest.approx(_geod_m([km_line((6, 5), (10, 5))]), abs=0.01) and data["lost_pieces"] == 1
    assert len(gpd.read_file(out / "diff.gpkg", layer="lost")) == 1  # only natural coast was lost; the artificial grew


@pytest.mark.slow
def test_inland_package_is_not_asked_for_coast_layers(tmp_path: Path) -> None:
    """Coverage: an inland county (no coastal layer) gets no 待核实 for a missing shoreline or sea unit;
    a coastal package missing one of them does."""
    from conftest import write_toy_gpkg

    from spatial.screening import screen
    from spatial.zoning import load_zoning

    sites = gpd.GeoDataFrame({"site_id": ["P"], "project_type": ["港口码头"]}, geometry=[km_point(18, 19)], crs=TOY_CRS)
    inland = screen(sites, load_zoning(write_toy_gpkg(tmp_path / "inland.gpkg")))
    assert not inland.hits["rule_id"].isin(["COV-coastline", "COV-sea_unit", "COV-land_sea"]).any()
    coastal = write_toy_gpkg(tmp_path / "coastal.gpkg")
    gpd.GeoDataFrame({"陆海属性": ["陆域"]}, geometry=[km_box(0, 0, 20, 20)], crs=TOY_CRS).to_file(coastal, layer="海域", driver="GPKG")
    got = screen(sites, load_zoning(coastal))
    assert {"COV-coastline", "COV-sea_unit"} <= set(got.hits["rule_id"])
