"""Measurement primitives against answers computed without ecozone."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from conftest import TOY_CRS, km_box, km_line
from pyproj import CRS, Geod, Transformer

from spatial.measure import SEGMENT_M, dissolve, ellipsoidal_area, geodesic_length, significant_parts

GEOD = Geod(ellps="GRS80")
TO_GEO = Transformer.from_crs(TOY_CRS, 4490, always_xy=True)


def _geo(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(TO_GEO.transform(xy[:, 0], xy[:, 1])))


def test_area_of_a_square_is_the_geodesic_area_of_its_densified_outline() -> None:
    square = km_box(0, 0, 5, 5)
    want = abs(GEOD.geometry_area_perimeter(_geo(shapely.segmentize(square, 10.0)))[0])
    assert ellipsoidal_area(square, CRS.from_user_input(TOY_CRS))[0] == pytest.approx(want, rel=1e-9)
    # without splitting the 5 km edges the geodesics bow away from the straight GK edges
    coarse = abs(GEOD.geometry_area_perimeter(_geo(square))[0])
    assert abs(coarse - want) / want > 1e-9 and SEGMENT_M == 200.0


def test_length_is_geodesic() -> None:
    line = km_line((0, 0), (3, 4))
    (x0, x1), (y0, y1) = TO_GEO.transform(*np.array(line.xy))
    want = GEOD.inv(x0, y0, x1, y1)[2]
    assert geodesic_length(line, CRS.from_user_input(TOY_CRS))[0] == pytest.approx(want, rel=1e-7)
    assert geodesic_length(km_box(0, 0, 1, 1), CRS.from_user_input(TOY_CRS))[0] == 0.0  # a polygon has no length


def test_dissolve_counts_overlaps_once() -> None:
    crs = CRS.from_user_input(TOY_CRS)
    merged = dissolve([km_box(0, 0, 2, 2), km_box(1, 1, 3, 3)])
    assert shapely.area(merged) == pytest.approx(7e6)
    assert ellipsoidal_area(merged, crs)[0] < ellipsoidal_area(np.array([km_box(0, 0, 2, 2), km_box(1, 1, 3, 3)]), crs).sum()


def test_significant_parts_drops_slivers_but_keeps_thin_real_pieces() -> None:
    crs = CRS.from_user_input(TOY_CRS)
    sliver = km_box(0, 0, 1, 1e-7)  # 1 km long, 0.1 mm wide: 0.1 m², reprojection noise
    real = km_box(2, 2, 2.01, 2.01)  # 100 m² square
    kept, m2, n_noise, noise_m2 = significant_parts(np.array([shapely.union(sliver, real)]), crs, tolerance_m2=1.0)
    assert n_noise == 1 and noise_m2 == pytest.approx(0.1, rel=1e-3)
    assert m2[0] == pytest.approx(ellipsoidal_area(real, crs)[0]) and shapely.area(kept[0]) == pytest.approx(100.0)


@pytest.mark.parametrize("hole_ccw", [True, False])
@pytest.mark.parametrize("shell_ccw", [True, False])
def test_hole_is_subtracted_whatever_the_ring_orientation(shell_ccw: bool, hole_ccw: bool) -> None:
    """A 4 km square with a 2 km hole is 12 km² however its rings are wound (GIS files wind them either way)."""
    def ring(box: shapely.Polygon, ccw: bool) -> np.ndarray:
        xy = shapely.get_coordinates(shapely.orient_polygons(box).exterior)
        return xy if ccw else xy[::-1]

    outer, inner = km_box(0, 0, 4, 4), km_box(1, 1, 3, 3)
    holed = shapely.Polygon(ring(outer, shell_ccw), [ring(inner, hole_ccw)])
    want = ellipsoidal_area(outer, CRS(TOY_CRS))[0] - ellipsoidal_area(inner, CRS(TOY_CRS))[0]
    got = ellipsoidal_area(holed, CRS(TOY_CRS))[0]
    assert got == pytest.approx(want, rel=1e-9)
    assert got == pytest.approx(12e6, rel=5e-3)  # a projected 12 km² stays 12 km² within scale error
