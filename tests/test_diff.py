"""Red-line change audit: added/removed/net, 面积不减少, noise, breakdown, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import TOY_CRS, km_box, toy_layers
from pyproj import Geod

from spatial.diff import diff_layers
from spatial.errors import SchemaError

GEOD = Geod(ellps="GRS80")


def _redline(extra: list[shapely.Geometry] | None = None, cut: shapely.Geometry | None = None) -> gpd.GeoDataFrame:
    """Toy red line, optionally with a piece cut out of HX001 and extra features."""
    red = toy_layers()["redline"].copy()
    if cut is not None:
        red.loc[0, "geometry"] = red.geometry.iloc[0].difference(cut)
    for k, geom in enumerate(extra or []):
        red.loc[len(red)] = {"BSM": f"HX10{k}", "HXMC": f"新增{k}", "HXLX": "陆域", "geometry": geom}
    return red


def _package(path: Path, redline: gpd.GeoDataFrame) -> Path:
    """Write the toy package with the given red line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, gdf in {**toy_layers(), "redline": redline}.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


def _geod_km2(geom: shapely.Geometry) -> float:
    """Independent ellipsoidal area of a toy-CRS geometry."""
    geo = gpd.GeoSeries([geom], crs=TOY_CRS).to_crs("EPSG:4490").iloc[0]
    return abs(GEOD.geometry_area_perimeter(geo)[0]) / 1e6


OUT_BOX = km_box(2, 2, 3, 3)  # 1 km² of HX001 not covered by HX002
IN_HALF = km_box(11, 7, 12, 7.5)  # 0.5 km² in the SE (key) unit


@pytest.fixture(scope="module")
def old_pkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The unchanged toy package."""
    return _package(tmp_path_factory.mktemp("old") / "old.gpkg", _redline())


@pytest.fixture(scope="module")
def reduced_pkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 km² moved out, 0.5 km² moved in."""
    return _package(tmp_path_factory.mktemp("new") / "new.gpkg", _redline([IN_HALF], cut=OUT_BOX))


@pytest.mark.slow
def test_one_out_half_in_fails(old_pkg: Path, reduced_pkg: Path) -> None:
    """1 km² out and 0.5 km² in: net −0.5 km², 面积不减少 fails."""
    r = diff_layers(old_pkg, reduced_pkg)
    d = r.to_dict()
    assert d["removed_km2"] == pytest.approx(_geod_km2(OUT_BOX), rel=5e-4)
    assert d["added_km2"] == pytest.approx(_geod_km2(IN_HALF), rel=5e-4)
    assert d["net_km2"] == pytest.approx(-0.5, rel=5e-3)
    assert d["net_pct"] == pytest.approx(-0.5 / 19 * 100, rel=5e-3)
    assert d["area_not_reduced"] is False
    assert d["old_km2"] == pytest.approx(19.0, rel=5e-3)
    assert d["new_km2"] - d["old_km2"] == pytest.approx(d["net_km2"], abs=1e-9)
    assert d["tolerance_m2"] == 1.0
    assert (d["added_pieces"], d["removed_pieces"], d["noise_pieces"]) == (1, 1, 0)


@pytest.mark.slow
def test_breakdown_by_unit(old_pkg: Path, reduced_pkg: Path) -> None:
    """The change is attributed to the control units it falls in."""
    b = diff_layers(old_pkg, reduced_pkg).breakdown.set_index("code")
    assert b.loc["ZH44189910001", "removed_km2"] == pytest.approx(1.0, rel=5e-3)
    assert b.loc["ZH44189910001", "added_km2"] == 0
    assert b.loc["ZH44189920001", "added_km2"] == pytest.approx(0.5, rel=5e-3)
    assert set(b["by"]) == {"control_unit"}
    assert len(b) == 2


@pytest.mark.slow
def test_breakdown_by_town(tmp_path: Path, old_pkg: Path) -> None:
    """With a town layer in the new package the change is also attributed to towns."""
    new = _package(tmp_path / "t.gpkg", _redline([IN_HALF], cut=OUT_BOX))
    town = gpd.GeoDataFrame(
        {"name": ["西镇", "东镇"], "code": ["001", "002"]}, geometry=[km_box(0, 0, 10, 20), km_box(10, 0, 20, 20)], crs=TOY_CRS
    )
    town.to_file(new, layer="town", driver="GPKG")
    b = diff_layers(old_pkg, new).breakdown
    towns = b[b["by"] == "town"].set_index("name")
    assert towns.loc["西镇", "net_km2"] == pytest.approx(-1.0, rel=5e-3)
    assert towns.loc["东镇", "net_km2"] == pytest.approx(0.5, rel=5e-3)


@pytest.mark.slow
def test_equal_swap_passes(tmp_path: Path, old_pkg: Path) -> None:
    """A 1 km² swap drawn equal in the Gauss-Kruger plane passes, 9 km apart or not."""
    swapped = _package(tmp_path / "swap.gpkg", _redline([km_box(11, 7, 12, 8)], cut=OUT_BOX))
    r = diff_layers(old_pkg, swapped)
    assert r.added_m2 == pytest.approx(1e6, rel=5e-3)
    assert r.removed_m2 == pytest.approx(1e6, rel=5e-3)
    assert abs(r.net_m2) < 100  # scale factor differs by ~4e-5 between the two places
    assert r.net_planar_m2 == pytest.approx(0.0, abs=1e-3)
    assert r.area_not_reduced is True
    # Same idea with a swap that is equal on the ellipsoid (same easting, nearby northing).
    north = _package(tmp_path / "north.gpkg", _redline([km_box(2, 7, 3, 8)], cut=OUT_BOX))
    assert diff_layers(old_pkg, north).area_not_reduced is True


@pytest.mark.slow
def test_identical_and_growth(tmp_path: Path, old_pkg: Path) -> None:
    """No change passes with zero pieces; pure growth passes with a positive net."""
    same = diff_layers(old_pkg, old_pkg)
    assert (same.added_m2, same.removed_m2, len(same.pieces)) == (0.0, 0.0, 0)
    assert same.area_not_reduced
    grown = diff_layers(old_pkg, _package(tmp_path / "g.gpkg", _redline([IN_HALF])))
    assert grown.net_m2 == pytest.approx(0.5e6, rel=5e-3)
    assert grown.area_not_reduced


@pytest.mark.slow
def test_small_pieces_count_and_tolerance_is_on_the_total(tmp_path: Path, old_pkg: Path) -> None:
    """Every m² counts: small pieces are not dropped; the tolerance applies to the net total."""
    ox, oy = km_box(0, 0, 0, 0).bounds[:2]
    tiny = shapely.box(ox + 8000, oy + 8000, ox + 8000.5, oy + 8001)  # 0.5 m² added
    nick = shapely.box(ox + 2000, oy + 2000, ox + 2000.5, oy + 2001)  # 0.5 m² cut from HX001's corner
    r = diff_layers(old_pkg, _package(tmp_path / "n.gpkg", _redline([tiny], cut=nick)))
    assert r.noise_count == 0 and r.noise_m2 == 0.0
    assert r.added_m2 == pytest.approx(0.5, rel=1e-2) and r.removed_m2 == pytest.approx(0.5, rel=1e-2)
    assert r.area_not_reduced
    cut_only = diff_layers(old_pkg, _package(tmp_path / "n2.gpkg", _redline(cut=nick)), tolerance_m2=0.1)
    assert cut_only.removed_m2 == pytest.approx(0.5, rel=1e-2) and not cut_only.area_not_reduced


def test_plain_vector_files_and_reprojection(tmp_path: Path) -> None:
    """OLD/NEW may be single-layer files in different CRSs (no boundary)."""
    old = tmp_path / "old_redline.geojson"
    _redline().to_crs("EPSG:4326").to_file(old, driver="GeoJSON")
    new = tmp_path / "new_redline.gpkg"
    _redline([IN_HALF], cut=OUT_BOX).to_file(new, layer="生态保护红线", driver="GPKG")
    r = diff_layers(old, new)
    assert r.net_m2 / 1e6 == pytest.approx(-0.5, rel=5e-3)
    assert not r.area_not_reduced
    assert r.breakdown.empty  # no control units without a package


def test_missing_layer_and_gdf_input(old_pkg: Path) -> None:
    """A package without the layer is an error naming the layers; GeoDataFrames are accepted."""
    with pytest.raises(SchemaError, match="mining"):
        diff_layers(old_pkg, old_pkg, layer="mining")
    r = diff_layers(_redline(), _redline([IN_HALF], cut=OUT_BOX))
    assert r.net_m2 / 1e6 == pytest.approx(-0.5, rel=5e-3)


@pytest.mark.slow
def test_cli(tmp_path: Path, old_pkg: Path, reduced_pkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI prints the verdict and writes diff.json, diff.gpkg and the breakdown CSV."""
    from spatial.cli import main

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(old_pkg), str(reduced_pkg), "--out", str(out)])
    assert exc.value.code == 0
    printed = capsys.readouterr().out
    assert "面积不减少" in printed and "FAIL" in printed
    doc = json.loads((out / "diff.json").read_text(encoding="utf-8"))
    for key in ("added_km2", "removed_km2", "net_km2", "net_pct", "area_not_reduced", "tolerance_m2"):
        assert key in doc
    assert doc["area_not_reduced"] is False
    layers = dict(pyogrio.list_layers(out / "diff.gpkg"))
    assert {"added", "removed", "noise"} <= set(layers)
    added = gpd.read_file(out / "diff.gpkg", layer="added")
    assert added["area_km2"].sum() == pytest.approx(0.5, rel=5e-3)
    assert pd.read_csv(out / "diff_breakdown.csv", encoding="utf-8-sig")["code"].tolist()
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(old_pkg), str(reduced_pkg), "--out", str(out)])
    assert exc.value.code == 2  # outputs exist, no --force
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(old_pkg), str(reduced_pkg), "--out", str(out), "--force", "--fail-on-reduction"])
    assert exc.value.code == 1
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(old_pkg), str(old_pkg), "--out", str(tmp_path / "o2"), "--fail-on-reduction"])
    assert exc.value.code == 0
