"""Screening results do not depend on ``--threads``, whatever the corridor layer holds.

A corridor layer of polygons (double-line rivers) is split into feature ranges,
one per thread task, like any polygon layer.  Each task must query only its own
range: before the fix, every range queried the whole layer and the same hit came
back once per thread.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import km_box, km_line, km_point
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scale import assert_same_result

from spatial.rules import load_rules
from spatial.screening import screen

#: The river-corridor rule is 连州's (county level): the toy county poses as 连州 here.
LIANZHOU = load_rules(adcode="441882")


def _with_corridor(zoning, geoms: list[shapely.Geometry], kinds: list[str]):
    """The toy zoning with its corridor layer replaced by ``geoms`` (normalised columns)."""
    n = len(geoms)
    layer = gpd.GeoDataFrame(
        {
            "feature_id": [f"C{i}" for i in range(n)],
            "name": [f"廊道{i}" for i in range(n)],
            "kind": kinds,
            "road_class": [None] * n,
            "width_m": [np.nan] * n,
        },
        geometry=geoms,
        crs=zoning.crs,
    )
    return dataclasses.replace(zoning, layers={**zoning.layers, "corridor": layer}, _wgs84={})


def _river_polygons() -> list[shapely.Geometry]:
    return [km_box(x, 0.5, x + 0.1, 19.5) for x in np.arange(1.0, 19.0, 1.5)]


def test_polygon_corridor_hit_once_per_thread_count(toy_zoning) -> None:
    # A site 5 m from one double-line river: one hit, whatever the thread count (was one per thread).
    polys = _river_polygons()
    z = _with_corridor(toy_zoning, polys, ["river"] * len(polys))
    x = polys[3].bounds[0] - 5.0
    site = gpd.GeoDataFrame({"site_id": ["S1"], "project_type": ["化工"]}, geometry=[shapely.Point(x, km_point(0, 10).y)], crs=z.crs)
    counts = {}
    for threads in (1, 2, 8):
        res = screen(site, z, LIANZHOU, threads=threads)
        counts[threads] = int((res.hits["layer"] == "corridor").sum())
    assert counts == {1: 1, 2: 1, 8: 1}


_GEOM = st.sampled_from(["polygon", "line", "mixed"])


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=_GEOM,
    xs=st.lists(st.floats(0.5, 19.0), min_size=1, max_size=9),
    sites=st.lists(st.tuples(st.floats(0.0, 20.0), st.floats(0.0, 20.0), st.sampled_from(["pt", "box", "line"])), min_size=1, max_size=40),
    threads=st.sampled_from([2, 3, 5, 8]),
)
def test_threads_never_change_results(toy_zoning, kind: str, xs: list[float], sites: list, threads: int) -> None:
    geoms: list[shapely.Geometry] = []
    for i, x in enumerate(xs):
        as_poly = kind == "polygon" or (kind == "mixed" and i % 2 == 0)
        geoms.append(km_box(x, 0.3, x + 0.05, 19.7) if as_poly else km_line((x, 0.3), (x + 0.4, 19.7)))
    z = _with_corridor(toy_zoning, geoms, ["river" if i % 3 else "green" for i in range(len(geoms))])
    shapes = [
        km_point(x, y) if k == "pt" else km_box(x, y, x + 0.06, y + 0.04) if k == "box" else km_line((x, y), (x + 0.3, y + 0.05))
        for x, y, k in sites
    ]
    frame = gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(len(shapes))], "project_type": ["化工"] * len(shapes)}, geometry=shapes, crs=z.crs
    )
    base = screen(frame, z, LIANZHOU, threads=1)
    assert_same_result(base, screen(frame, z, LIANZHOU, threads=threads))
    # No (site, rule, feature) is reported twice.
    assert not base.hits.duplicated(["site_id", "rule_id", "feature_id"]).any()


@pytest.mark.parametrize("kind", ["polygon", "line", "mixed"])
def test_same_hits_for_polygon_line_and_mixed_corridors(toy_zoning, kind: str) -> None:
    polys = _river_polygons()
    geoms = [p if kind == "polygon" or (kind == "mixed" and i % 2) else shapely.LineString(p.exterior.coords[:2]) for i, p in enumerate(polys)]
    z = _with_corridor(toy_zoning, geoms, ["river"] * len(geoms))
    pts = [km_point(x, y) for x in np.arange(0.5, 20, 0.37) for y in (5.0, 12.0)]
    frame = gpd.GeoDataFrame({"site_id": [f"P{i}" for i in range(len(pts))], "project_type": ["化工"] * len(pts)}, geometry=pts, crs=z.crs)
    base = screen(frame, z, LIANZHOU, threads=1)
    for threads in (2, 4, 8):
        assert_same_result(base, screen(frame, z, LIANZHOU, threads=threads))
    assert not base.hits.duplicated(["site_id", "rule_id", "feature_id"]).any()
