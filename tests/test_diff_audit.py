"""面积不减少 counts every square metre (issue: a 9 cm shrink and 3,000 pinholes passed as noise).

The inputs are derived in code from the bundled 连州 demo red line; every CLI
run hashes its inputs before and after.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from spatial.cli import cli
from spatial.zoning import demo_zoning_path, load_zoning


@pytest.fixture(scope="module")
def demo_redline() -> gpd.GeoDataFrame:
    """The demo red line in its working CRS (Gauss-Kruger)."""
    return load_zoning(demo_zoning_path())["redline"]


def _one(red: gpd.GeoDataFrame, geom: shapely.Geometry) -> gpd.GeoDataFrame:
    out = red.iloc[:1].copy()
    out["geometry"] = [geom]
    return out


def _diff(new: Path, out: Path, hash_tree) -> tuple[int, dict]:
    from spatial.io import file_sha256

    before = hash_tree(new.parent), file_sha256(demo_zoning_path())
    res = CliRunner().invoke(cli, ["diff", str(demo_zoning_path()), str(new), "--fail-on-reduction", "--out", str(out)])
    assert "Traceback" not in res.output
    assert (hash_tree(new.parent), file_sha256(demo_zoning_path())) == before
    return res.exit_code, json.loads((out / "diff.json").read_text(encoding="utf-8"))


def test_uniform_9cm_shrink_fails(tmp_path: Path, demo_redline: gpd.GeoDataFrame, hash_tree) -> None:
    u = shapely.union_all(demo_redline.geometry.values)
    (tmp_path / "in").mkdir()
    _one(demo_redline, shapely.buffer(u, -0.09)).to_file(tmp_path / "in" / "shrunk.gpkg", layer="redline")
    code, d = _diff(tmp_path / "in" / "shrunk.gpkg", tmp_path / "o", hash_tree)
    expected = 0.09 * shapely.length(shapely.boundary(u))
    assert code == 1 and d["area_not_reduced"] is False
    assert -d["net_km2"] * 1e6 == pytest.approx(expected, rel=0.02)  # every sliver counted
    assert d["noise_pieces"] == 0


@pytest.mark.slow
def test_3000_pinholes_of_0_9_m2_fail(tmp_path: Path, demo_redline: gpd.GeoDataFrame, hash_tree) -> None:
    u = shapely.union_all(demo_redline.geometry.values)
    inner = shapely.buffer(u, -5)
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = inner.bounds
    pts: list[shapely.Point] = []
    while len(pts) < 3000:
        c = shapely.points(rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000))
        pts.extend(c[shapely.contains(inner, c)][: 3000 - len(pts)])
    h = 0.9**0.5 / 2
    x, y = shapely.get_x(np.array(pts)), shapely.get_y(np.array(pts))
    holes = shapely.union_all(shapely.box(x - h, y - h, x + h, y + h))
    (tmp_path / "in").mkdir()
    _one(demo_redline, shapely.difference(u, holes)).to_file(tmp_path / "in" / "pierced.gpkg", layer="redline")
    code, d = _diff(tmp_path / "in" / "pierced.gpkg", tmp_path / "o", hash_tree)
    removed = shapely.area(shapely.intersection(u, holes))
    assert removed > 2600
    assert code == 1 and d["area_not_reduced"] is False
    assert d["removed_km2"] * 1e6 == pytest.approx(removed, rel=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["wgs84_geojson", "gk_wgs84_gk", "other_gk_zone"])
def test_same_layer_in_another_crs_passes(tmp_path: Path, demo_redline: gpd.GeoDataFrame, hash_tree, how: str) -> None:
    (tmp_path / "in").mkdir()
    if how == "wgs84_geojson":
        path = tmp_path / "in" / "redline.geojson"
        demo_redline.to_crs(4326).to_file(path)
    elif how == "gk_wgs84_gk":
        path = tmp_path / "in" / "redline.gpkg"
        demo_redline.to_crs(4326).to_crs(demo_redline.crs).to_file(path, layer="redline")
    else:
        path = tmp_path / "in" / "redline.gpkg"
        demo_redline.to_crs(4547).to_file(path, layer="redline")
    code, d = _diff(path, tmp_path / "o", hash_tree)
    assert code == 0 and d["area_not_reduced"] is True
    assert abs(d["net_km2"] * 1e6) < 0.01
    # Round-trip lenses are reported as noise: a total area and a piece count.
    assert d["noise_m2"] < 0.05 and d["noise_pieces"] > 0 and d["added_pieces"] + d["removed_pieces"] == 0
