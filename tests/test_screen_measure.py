"""Known-answer measurements: overlap areas, crossing lengths, distances.

Sites are in WGS84, zoning in Gauss-Kruger; answers are the closed-form
values in the GK plane, required to 0.5 %.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from conftest import km_box, km_line, km_point

from spatial.screen import screen


def _one(geom, ptype: str = "residential") -> gpd.GeoDataFrame:  # noqa: ANN001
    return gpd.GeoDataFrame({"site_id": ["A"], "project_type": [ptype]}, geometry=[geom], crs="EPSG:4547").to_crs(4326)


def _by_feature(result, rule: str) -> dict[str, object]:  # noqa: ANN001
    h = result.hits[result.hits.rule_id == rule]
    return {r.feature_id: r for r in h.itertuples()}


def test_polygon_overlaps_two_overlapping_red_lines(toy_zoning) -> None:  # noqa: ANN001
    # 1 km² site [3.5,4.5]²: 0.25 km² in HX001 [2,4]², all of it in HX002 [3,5]².
    result = screen(_one(km_box(3.5, 3.5, 4.5, 4.5)), toy_zoning)
    rows = _by_feature(result, "RL")
    assert rows["HX001"].overlap_m2 == pytest.approx(250_000, rel=0.005)
    assert rows["HX001"].overlap_pct == pytest.approx(25.0, rel=0.005)
    assert rows["HX002"].overlap_m2 == pytest.approx(1_000_000, rel=0.005)
    assert rows["HX002"].overlap_pct == pytest.approx(100.0, rel=0.005)
    assert result.sites.area_m2[0] == pytest.approx(1_000_000, rel=0.005)


def test_polygon_overlap_respects_hole(toy_zoning) -> None:  # noqa: ANN001
    # [12.5,13.5]x[3.5,4.5]: the hole starts at x=13, so half the site is in the red line.
    result = screen(_one(km_box(12.5, 3.5, 13.5, 4.5)), toy_zoning)
    row = _by_feature(result, "RL")["HX003"]
    assert row.overlap_m2 == pytest.approx(500_000, rel=0.005)
    assert row.overlap_pct == pytest.approx(50.0, rel=0.005)


def test_line_length_inside_holed_polygon(toy_zoning) -> None:  # noqa: ANN001
    # y = 4 km from x = 11 to 17 crosses [12,13] and [15,16] of the holed red line.
    result = screen(_one(km_line((11, 4), (17, 4)), "linear_infrastructure"), toy_zoning)
    row = _by_feature(result, "RL")["HX003"]
    assert row.length_m == pytest.approx(2_000, rel=0.005)
    assert result.sites.verdict[0] == "restricted"


def test_line_lengths_in_overlapping_red_lines(toy_zoning) -> None:  # noqa: ANN001
    result = screen(_one(km_line((1, 3), (6, 3)), "linear_infrastructure"), toy_zoning)
    rows = _by_feature(result, "RL")
    assert rows["HX001"].length_m == pytest.approx(2_000, rel=0.005)
    assert rows["HX002"].length_m == pytest.approx(2_000, rel=0.005)


def test_buffer_distance(toy_zoning) -> None:  # noqa: ANN001
    from spatial.rules import load_rules

    # The river corridor is a 连州 county-level rule: the toy county poses as 连州 here.
    result = screen(_one(km_point(19.0, 8.012)), toy_zoning, load_rules(adcode="441882"))
    row = _by_feature(result, "COR-RIVER")
    assert next(iter(row.values())).distance_m == pytest.approx(12.0, abs=0.01)


def test_near_distance(toy_zoning) -> None:  # noqa: ANN001
    result = screen(_one(km_point(5.3, 4.0), "commercial"), toy_zoning)
    row = _by_feature(result, "NEAR")["HX002"]
    assert row.distance_m == pytest.approx(300.0, rel=0.005)


def test_unit_overlap_reported(toy_zoning) -> None:  # noqa: ANN001
    # A 2 km x 1 km site straddling the SW/SE unit edge at x = 10 km.
    result = screen(_one(km_box(9, 1, 11, 2), "commercial"), toy_zoning)
    units = result.units.set_index("code")
    assert units.loc["ZH44189910001", "overlap_m2"] == pytest.approx(1_000_000, rel=0.005)
    assert units.loc["ZH44189920001", "overlap_pct"] == pytest.approx(50.0, rel=0.005)
    assert units.loc["ZH44189910001", "spatial_layout"] == "禁止新建工业项目。"
