"""The bundled coastal demo (阳江市江城区, scripts/build_coast_demo.py): issue 26's "done when" checks.

Verdicts come from the shipped catalogues (national + 阳江高新区 by the package's county code); the
保有率 is checked against an independent pyproj.Geod computation on the package's own coastline.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from spatial.zoning import coast_demo_sites_path, coast_demo_zoning_path, load_zoning


@pytest.fixture(scope="module")
def zoning():
    return load_zoning(coast_demo_zoning_path())


@pytest.fixture(scope="module")
def result(zoning):
    from spatial.screening import screen

    return screen(coast_demo_sites_path(), zoning)


def _site(result, name_part: str) -> str:
    s = result.sites[result.sites["name"].str.contains(name_part, regex=False)]
    assert len(s) == 1, name_part
    return str(s["site_id"].iloc[0])


def _hits(result, site: str):
    return result.hits[result.hits["site_id"] == site]


def _verdict(result, site: str) -> str:
    return str(result.sites.set_index("site_id").loc[site, "verdict"])


def test_package_is_small_and_has_the_coast_layers(zoning) -> None:
    assert coast_demo_zoning_path().stat().st_size + coast_demo_sites_path().stat().st_size < 3 * 2**20
    assert {"boundary", "land_sea", "coastline", "redline", "sea_unit", "control_unit"} <= set(zoning.layers)
    assert set(zoning.layers["land_sea"]["kind"]) == {"land", "sea"}
    assert (zoning.layers["redline"]["kind"] == "marine").sum() == 1


@pytest.mark.slow
def test_reclamation_in_marine_red_line_is_not_compatible_citing_the_plan(result) -> None:
    site = _site(result, "海洋生态保护红线内")
    h = _hits(result, site).set_index("rule_id")
    assert _verdict(result, site) == "prohibited" and h.loc["MRL-RECLAIM", "verdict_eia"] == "不符合"
    assert "阳江高新区生态环境保护" in h.loc["MRL-RECLAIM", "basis"] and "严格海域空间管控" in h.loc["MRL-RECLAIM", "basis"]


def test_inland_major_project_gets_no_reclamation_finding(result) -> None:
    site = _site(result, "重大产业项目")
    assert result.sites.set_index("site_id").loc[site, "major_project"] in ("是", "yes")
    assert not _hits(result, site)["rule_id"].str.contains("RECLAIM").any()
    inland = _site(result, "围填海（内陆")
    rules = _hits(result, inland).set_index("rule_id")["verdict"]
    assert rules["RECLAIM-INLAND"] == "notice" and not ({"RECLAIM", "RECLAIM-SEA", "MRL-RECLAIM"} & set(rules.index))
    assert _verdict(result, inland) == "notice"  # 待核实 (layers the demo lacks add their own 待核实 rows)


def test_port_on_natural_coastline_is_conditional_with_balance(result) -> None:
    site = _site(result, "港口码头（自然岸线）")
    h = _hits(result, site).set_index("rule_id")
    assert _verdict(result, site) == "restricted" and h.loc["COAST-NATURAL-BALANCE", "verdict_eia"] == "有条件符合"
    assert "占补平衡" in h.loc["COAST-NATURAL-BALANCE", "conditions_zh"]
    assert not _hits(result, _site(result, "港口码头（人工岸线）"))["rule_id"].str.startswith("COAST-").any()


def test_sea_unit_list_and_sea_types(result) -> None:
    assert "SEA-UNIT-BANNED" in set(_hits(result, _site(result, "海砂开采"))["rule_id"])
    types = result.sites.set_index("site_id")["project_type"]
    assert {"offshore_wind", "mariculture", "ocean_outfall", "reclamation", "port"} <= set(types)


def test_retention_equals_an_independent_geodesic_computation(zoning) -> None:
    from spatial.indicators import compute_indicators

    coast = zoning.layers["coastline"].to_crs("EPSG:4490")
    boundary = zoning.layers["boundary"].to_crs("EPSG:4490").geometry.iloc[0]
    geod = Geod(ellps="GRS80")

    def length(sel: np.ndarray) -> float:
        # Segments densified in degrees (≤ ~100 m) so the chord/geodesic difference is below 1e-6 relative.
        merged = shapely.intersection(shapely.union_all(coast.geometry.values[sel]), boundary)
        return sum(geod.geometry_length(shapely.segmentize(p, 0.001)) for p in shapely.get_parts(merged))

    expect = 100 * length((coast["kind"] == "natural").to_numpy()) / length(np.ones(len(coast), dtype=bool))
    got = compute_indicators(zoning).value("natural_coastline_ratio_pct")
    assert got == pytest.approx(expect, abs=0.01)
    assert 0 < got < 100


def test_diff_of_two_coastline_versions_reports_natural_lost(zoning, tmp_path: Path) -> None:
    from spatial.diff import diff_lines

    old = zoning.layers["coastline"]
    new = old.copy()
    longest = int(np.argmax(np.where(old["kind"] == "natural", old.geometry.length, 0)))
    new.loc[new.index[longest], "kind"] = "artificial"  # a natural stretch built over
    d = diff_lines(old, new)
    expect = Geod(ellps="GRS80").geometry_length(shapely.segmentize(gpd.GeoSeries([old.geometry.iloc[longest]], crs=old.crs).to_crs("EPSG:4490").iloc[0], 0.001))
    assert d.lost_m("natural") == pytest.approx(expect, rel=1e-4)
    assert len(d.pieces[(d.pieces["change"] == "lost") & (d.pieces["value"] == "natural")]) == 1


@pytest.mark.slow
def test_report_has_a_sea_and_coast_section_where_it_applies(result) -> None:
    """海域与岸线: rows for the coastline and the sea units, driven by their LayerSpec report role."""
    from maps.eia import build_model

    model = build_model(result)
    port = next(s for s in model.sites if "自然岸线" in s.name)
    coast = [t for t in port.tables if t.key == "coast"]
    assert len(coast) == 1 and coast[0].title == "海域与岸线"
    text = " ".join(f"{r.requirement} {r.situation} {r.verdict} {r.rules}" for r in coast[0].rows)
    assert "有条件符合" in text and "占补平衡" in text


@pytest.mark.slow
def test_no_sea_and_coast_section_without_coast_layers(toy_zoning) -> None:
    """An inland package gets no 海域与岸线 table."""
    from conftest import km_point

    from maps.eia import build_model
    from spatial.screening import screen

    sites = gpd.GeoDataFrame({"site_id": ["A"], "project_type": ["commercial"]}, geometry=[km_point(18, 19)], crs=toy_zoning.crs)
    model = build_model(screen(sites, toy_zoning))
    assert model.sites and not any(t.key == "coast" for s in model.sites for t in s.tables)
