"""Property-based invariants of screening (hypothesis).

* verdicts do not depend on the order of the sites;
* verdicts do not depend on the zoning's CRS (GK without / with zone prefix, CGCS2000 lon/lat);
* a site strictly inside a red-line or core-zone polygon is never ``compatible``, whatever its type;
* buffering by width w flags exactly the sites at distance <= w (1 mm tolerance).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import ORIGIN, km_point, km_sites, toy_layers, write_toy_gpkg
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spatial.project_types import DEFAULT_TYPES
from spatial.rules import load_rules
from spatial.screening import screen
from spatial.zoning import load_zoning

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TYPES = DEFAULT_TYPES.names
coords = st.tuples(st.floats(0.05, 19.95), st.floats(0.05, 19.95))


@pytest.fixture(scope="module")
def zonings(tmp_path_factory):
    """The toy county stored in three CRSs."""
    d = tmp_path_factory.mktemp("crs")
    return {crs: load_zoning(write_toy_gpkg(d / f"{crs.replace(':', '_')}.gpkg", crs=crs)) for crs in ("EPSG:4547", "EPSG:4526", "EPSG:4490")}


def _edges() -> shapely.Geometry:
    """Every zoning edge (and corridor buffer edge), to keep random sites off them."""
    layers = toy_layers()
    parts = [shapely.boundary(g) for name, gdf in layers.items() if name != "corridor" for g in gdf.geometry]
    cor = layers["corridor"]
    parts += [shapely.boundary(shapely.buffer(cor.geometry.iloc[0], 20)), shapely.boundary(shapely.buffer(cor.geometry.iloc[1], 30))]
    # NEAR's 500 m reach around the red line and protected areas is an edge too (a site at 500.000 m flips with the CRS).
    near = shapely.union_all([*layers["redline"].geometry, *layers["protected_area"].geometry])
    parts.append(shapely.boundary(shapely.buffer(near, 500)))
    return shapely.union_all(parts)


EDGES = _edges()


@pytest.mark.slow
@SETTINGS
@given(st.lists(st.tuples(coords, st.sampled_from(TYPES)), min_size=2, max_size=25), st.randoms())
def test_order_independent(zonings, data, rnd) -> None:
    sites = km_sites([p for p, _ in data], [t for _, t in data])
    z = zonings["EPSG:4547"]
    a = screen(sites, z)
    order = list(range(len(sites)))
    rnd.shuffle(order)
    b = screen(sites.iloc[order].reset_index(drop=True), z)
    assert dict(zip(a.sites.site_id, a.sites.verdict)) == dict(zip(b.sites.site_id, b.sites.verdict))
    key = ["site_id", "rule_id", "feature_id"]
    assert sorted(map(tuple, a.hits[key].to_numpy())) == sorted(map(tuple, b.hits[key].to_numpy()))


@pytest.mark.slow
@SETTINGS
@given(st.lists(st.tuples(coords, st.sampled_from(TYPES)), min_size=1, max_size=20))
def test_zoning_crs_independent(zonings, data) -> None:
    pts = [p for p, _ in data]
    # Reprojection bends straight edges by millimetres: keep sites 2 m clear of every edge.
    assume(all(shapely.distance(EDGES, km_point(x, y)) > 2.0 for x, y in pts))
    sites = km_sites(pts, [t for _, t in data])
    verdicts = [dict(zip(r.sites.site_id, r.sites.verdict)) for r in (screen(sites, z) for z in zonings.values())]
    assert verdicts[0] == verdicts[1] == verdicts[2]


inside_box = st.tuples(st.floats(0.01, 0.99), st.floats(0.01, 0.99))


@pytest.mark.slow
@SETTINGS
@given(inside_box, st.sampled_from(TYPES), st.sampled_from([(3.0, 3.0, 5.0, 5.0), (10.0, 10.0, 11.0, 11.0)]))
def test_strictly_inside_prohibited_polygon_never_compatible(zonings, frac, ptype, box) -> None:
    x0, y0, x1, y1 = box  # red line HX002, or the protected-area core zone
    x, y = x0 + frac[0] * (x1 - x0), y0 + frac[1] * (y1 - y0)
    result = screen(km_sites([(x, y)], [ptype]), zonings["EPSG:4547"])
    assert result.sites.verdict[0] != "compatible"


@pytest.mark.slow
@SETTINGS
@given(st.floats(0.0, 2 * np.pi), st.floats(0.0, 60.0), st.floats(5.0, 60.0), st.floats(-0.4, 0.4))
def test_buffer_flags_exactly_within_width(tmp_path_factory, angle, dist, width, along) -> None:
    assume(abs(dist - width) > 1e-3)
    layers = toy_layers()
    ox, oy = ORIGIN
    cx, cy = ox + 10_000, oy + 13_000  # a clear spot in the NW/NE units, away from other corridors
    dx, dy = np.cos(angle), np.sin(angle)
    line = shapely.LineString([(cx - 1000 * dx, cy - 1000 * dy), (cx + 1000 * dx, cy + 1000 * dy)])
    layers["corridor"] = gpd.GeoDataFrame(
        {"MC": ["测试河"], "LX": ["河流"], "KD": [width]}, geometry=[line], crs="EPSG:4547"
    )
    path = tmp_path_factory.mktemp("buf") / "z.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    z = load_zoning(path)
    # A point `dist` metres off the line's interior (perpendicular), `along` of the way along it.
    px, py = cx + along * 1000 * dx - dist * dy, cy + along * 1000 * dy + dist * dx
    sites = gpd.GeoDataFrame({"site_id": ["P"], "project_type": ["commercial"]}, geometry=[shapely.Point(px, py)], crs="EPSG:4547")
    result = screen(sites, z, load_rules(adcode="441882"))  # the river corridor rule is 连州's (county level)
    flagged = result.hits.rule_id.eq("COR-RIVER").any()
    assert flagged == (dist <= width)
    if flagged:
        assert result.hits.loc[result.hits.rule_id == "COR-RIVER", "distance_m"].item() == pytest.approx(dist, abs=1e-3)
