"""Known-answer facts: inside/overlap in m²/公顷/亩, nearest distance and 八方位, DMS, GK zone.

The toy county (conftest) has closed-form answers in the GK plane; areas are
ellipsoidal so they are required to 0.5 %.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import km_box, km_line, km_point
from hypothesis import example, given, settings
from hypothesis import strategies as st

from maps.eia import area_zh, distance_zh
from spatial.facts import (
    M2_PER_MU,
    direction_zh,
    dms,
    layer_facts,
    nearest_columns,
    site_coordinates,
    site_facts,
)
from spatial.screening import screen


def _sites(*geoms, crs: str = "EPSG:4547") -> gpd.GeoDataFrame:
    ids = [f"S{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"site_id": ids, "project_type": ["residential"] * len(geoms)}, geometry=list(geoms), crs=crs)


def _fact(frame, site: str, layer: str) -> dict:
    rows = frame[(frame.site_id == site) & (frame.layer == layer)].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def test_overlap_in_two_overlapping_red_lines_is_dissolved(toy_zoning) -> None:
    # [3.5,4.5]² lies wholly in HX002 and a quarter in HX001: the union is the whole site, 1 km², not 1.25.
    sites = _sites(km_box(3.5, 3.5, 4.5, 4.5)).to_crs(toy_zoning.crs)
    f = _fact(layer_facts(sites, toy_zoning), "S0", "redline")
    assert f["inside"] and f["n_inside"] == 2
    assert f["overlap_m2"] == pytest.approx(1_000_000, rel=0.005)
    assert f["overlap_ha"] == pytest.approx(100, rel=0.005)
    assert f["overlap_mu"] == pytest.approx(1_000_000 / M2_PER_MU, rel=0.005)
    assert f["overlap_pct"] == pytest.approx(100, rel=0.005)
    assert f["distance_m"] == 0
    assert set(f["inside_names"].split("、")) == {"红线甲", "红线乙"}


def test_nearest_distance_direction_and_name(toy_zoning) -> None:
    # Point at (7, 7) km: red line 乙 [3,5]² is 2 km west and 2 km south -> 2828 m to the south-west.
    # The core zone [10,11]² lies 3 km east and 3 km north -> nearest protected area is the general ring at (9,9): 2828 m NE.
    sites = _sites(km_point(7, 7)).to_crs(toy_zoning.crs)
    facts = layer_facts(sites, toy_zoning)
    red = _fact(facts, "S0", "redline")
    assert not red["inside"]
    assert red["distance_m"] == pytest.approx(2000 * np.sqrt(2), rel=1e-6)
    assert red["direction_zh"] == "西南"
    assert red["nearest_name"] == "红线乙"
    pa = _fact(facts, "S0", "protected_area")
    assert pa["distance_m"] == pytest.approx(2000 * np.sqrt(2), rel=1e-6)
    assert pa["direction_zh"] == "东北"
    river = _fact(facts, "S0", "corridor")
    assert river["distance_m"] == pytest.approx(500, rel=1e-6)  # also 500 m from the expressway at x=7.5
    assert river["direction_zh"] in {"北", "东"}


def test_line_site_length_inside(toy_zoning) -> None:
    sites = _sites(km_line((11, 4), (17, 4))).to_crs(toy_zoning.crs)
    f = _fact(layer_facts(sites, toy_zoning), "S0", "redline")
    assert f["inside"] and f["overlap_m2"] == 0
    assert f["overlap_length_m"] == pytest.approx(2000, rel=0.005)


def test_nearest_columns_zero_inside_and_named(toy_zoning) -> None:
    sites = _sites(km_point(10.5, 10.5), km_point(7, 7)).to_crs(toy_zoning.crs)
    cols = nearest_columns(sites, toy_zoning)
    assert cols["protected_area_distance_m"].tolist()[0] == 0
    assert cols["protected_area_nearest"].tolist()[0] == "示例自然保护区"
    assert cols["redline_distance_m"].tolist()[1] == pytest.approx(2828.4, abs=0.1)
    assert "boundary_distance_m" not in cols


def test_sites_csv_has_nearest_columns(toy_zoning, tmp_path) -> None:
    import pandas as pd

    from spatial.output import write_screening

    result = screen(_sites(km_point(7, 7)).to_crs(4326), toy_zoning)
    write_screening(result, tmp_path)
    csv = pd.read_csv(tmp_path / "sites.csv")
    for layer in ("redline", "protected_area", "water_source", "control_unit", "farmland", "urban_boundary", "corridor"):
        assert f"{layer}_distance_m" in csv and f"{layer}_nearest" in csv
    assert csv["redline_distance_m"][0] == pytest.approx(2828.4, abs=0.2)
    assert csv["control_unit_distance_m"][0] == 0


def test_dms_known_answers() -> None:
    assert dms(112.5, "lon") == "东经112°30′00.00″"
    assert dms(24.999999999, "lat") == "北纬25°00′00.00″"  # rounding carries into minutes and degrees
    assert dms(-0.5, "lat") == "南纬0°30′00.00″"


@given(st.floats(min_value=-179.99, max_value=179.99, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_dms_round_trips_to_the_hundredth_second(value: float) -> None:
    text = dms(value, "lon")
    body = text[2:]
    d, rest = body.split("°")
    m, rest = rest.split("′")
    s = float(rest.rstrip("″"))
    back = (int(d) + int(m) / 60 + s / 3600) * (1 if text.startswith("东") else -1)
    assert abs(back - value) <= 0.005 / 3600 + 1e-12
    assert 0 <= int(m) < 60 and 0 <= s < 60


@given(st.floats(min_value=-720, max_value=720, allow_nan=False))
def test_direction_sector_contains_bearing(bearing: float) -> None:
    names = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
    k = names.index(direction_zh(bearing))
    centre = k * 45.0
    diff = (bearing - centre + 180) % 360 - 180
    assert -22.5 - 1e-9 <= diff <= 22.5 + 1e-9


def test_distance_and_area_wording() -> None:
    assert distance_zh(1234) == "约1.2 km"
    assert distance_zh(346) == "约350 m"
    assert distance_zh(42.4) == "约42 m"
    assert distance_zh(0.2) == "不足1 m"
    assert area_zh(5200) == "5,200 m²（0.52 公顷，7.8 亩）"


def test_coordinates_vertices_and_gk_zone() -> None:
    small = km_box(1, 1, 1.2, 1.1)
    sites = _sites(small, km_point(5, 5))
    coords = site_coordinates(sites.to_crs(4546), input_crs="EPSG:4547")
    assert len(coords.vertices_dms[0]) == 4  # four corners, closing vertex dropped
    assert coords.vertices_dms[1] == []
    assert "中央经线114°E" in coords.gk_zone_zh[0] and "EPSG:4547" in coords.gk_zone_zh[0]
    cx, cy = small.centroid.x, small.centroid.y
    assert coords.gk_y[0] == pytest.approx(cx, abs=0.01)  # easting
    assert coords.gk_x[0] == pytest.approx(cy, abs=0.01)  # northing (survey X)
    lonlat = site_coordinates(sites.to_crs(4546), input_crs="EPSG:4326")
    assert (lonlat.gk_zone_zh == "").all() and lonlat.gk_x.isna().all()
    assert lonlat.centroid_dms[1].startswith("东经113°")


def test_site_facts_from_a_screening(toy_zoning) -> None:
    result = screen(_sites(km_point(7, 7), km_box(3.5, 3.5, 4.5, 4.5)).to_crs(4326), toy_zoning)
    facts = site_facts(result)
    assert facts.get("S1", "redline")["inside"]
    assert facts.get("S0", "redline")["direction_zh"] == "西南"
    assert list(facts.coords.site_id) == ["S0", "S1"]


def test_edge_distance_inside(toy_zoning) -> None:
    # (10.3, 10.5) km is inside the core zone [10,11]², 300 m from its west edge.
    sites = _sites(km_point(10.3, 10.5)).to_crs(toy_zoning.crs)
    f = _fact(layer_facts(sites, toy_zoning), "S0", "protected_area")
    assert f["inside"] and f["edge_distance_m"] == pytest.approx(300, rel=1e-6)


def test_nearest_by_boundary_pieces_equals_brute_force(toy_zoning) -> None:
    """The piece index finds the same distance as measuring every feature (holes, lines, overlaps)."""
    import shapely

    from spatial.facts import nearest_pieces

    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(-2, 22, 400), rng.uniform(-2, 22, 400)
    sg = np.array([km_point(x, y) for x, y in zip(xs, ys, strict=True)], dtype=object)
    for name in ("redline", "protected_area", "water_source", "corridor", "farmland"):
        fg = np.asarray(toy_zoning.layers[name].geometry.values, dtype=object)
        fg = shapely.segmentize(fg, 137.0)  # many vertices: outlines cut into several pieces
        nf, dist, _ = nearest_pieces(sg, fg)
        brute = shapely.distance(sg[:, None], fg[None, :])
        np.testing.assert_allclose(dist, brute.min(axis=1), atol=1e-6)
        np.testing.assert_allclose(brute[np.arange(len(sg)), nf], brute.min(axis=1), atol=1e-6)


def _zoning_of(*boxes) -> object:
    from types import SimpleNamespace

    layer = gpd.GeoDataFrame(
        {"feature_id": [f"F{i}" for i in range(len(boxes))], "zone": ["a" if i % 2 else "b" for i in range(len(boxes))]},
        geometry=list(boxes),
        crs="EPSG:4547",
    )
    return SimpleNamespace(layers={"env_zone": layer}, crs="EPSG:4547")


_BOX = st.tuples(st.floats(0, 8), st.floats(0, 8), st.floats(0.2, 6), st.floats(0.2, 6)).map(
    lambda t: km_box(t[0], t[1], t[0] + t[2], t[1] + t[3])
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@example(  # found by hypothesis: a line along one box's diagonal, through a second box sharing its corner
    boxes=[km_box(0, 0, 1, 1), km_box(0, 0, 3, 1)], pts=[(0.0, 0.0), (3.0, 1.0)], site_box=km_box(0, 0, 1, 1)
)
@given(
    boxes=st.lists(_BOX, min_size=1, max_size=6),
    pts=st.lists(st.tuples(st.floats(0, 12), st.floats(0, 12)), min_size=2, max_size=6),
    site_box=_BOX,
)
def test_row_measures_never_exceed_the_site(boxes, pts, site_box) -> None:
    """Overlapping features (air + water + soil zones on one spot): the crossing length and overlap are of their union."""
    from spatial.crs import CGCS2000, GEOD, to_crs_geoms
    from spatial.facts import feature_facts
    from spatial.indicators import ellipsoidal_area

    line = km_line(*pts)
    if line.length == 0:
        return
    zoning = _zoning_of(*boxes, *boxes[:2])  # the first two features twice: exact overlaps too
    sites = _sites(line, site_box)
    for keep in (None, np.arange(len(zoning.layers["env_zone"])) % 2 == 0):
        f = feature_facts(sites, zoning, "env_zone", keep).set_index("site_id")
        site_len = GEOD.geometry_length(to_crs_geoms(np.array([line], dtype=object), "EPSG:4547", CGCS2000)[0])
        site_area = float(ellipsoidal_area(np.array([site_box], dtype=object), "EPSG:4547")[0])
        assert f.loc["S0", "overlap_length_m"] <= site_len * (1 + 1e-9) + 1e-6
        assert f.loc["S1", "overlap_m2"] <= site_area * (1 + 1e-9) + 1e-6
        assert f.loc["S1", "overlap_pct"] <= 100 + 1e-6


def test_feature_facts_read_only_the_selected_features() -> None:
    """A row about one kind of feature (rivers, not roads) measures and names only that kind."""
    from spatial.facts import feature_facts, where_mask

    zoning = _zoning_of(km_box(0, 0, 1, 1), km_box(5, 0, 6, 1))  # F0 zone b, F1 zone a
    sites = _sites(km_point(0.5, 0.5))
    keep = where_mask(zoning.layers["env_zone"], {"zone": ["a"]})
    assert keep.tolist() == [False, True]
    f = feature_facts(sites, zoning, "env_zone", keep).iloc[0]
    assert not f["inside"] and f["nearest_code"] == "F1" and f["direction_zh"] == "东"
    assert f["distance_m"] == pytest.approx(4500, abs=1)
    g = feature_facts(sites, zoning, "env_zone").iloc[0]
    assert g["inside"] and g["inside_codes"] == "F0"
