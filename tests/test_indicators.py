"""Area indicators: known answers on the toy county, independent ellipsoidal checks, raster cover."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from conftest import ORIGIN, TOY_CRS, km_box, toy_layers, write_toy_gpkg
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod

from spatial.errors import InputError, OutputExistsError, SchemaError
from spatial.indicators import (
    INDICATORS,
    TABLE_COLUMNS,
    WHOLE,
    compute_indicators,
)
from spatial.measure import dissolve, ellipsoidal_area
from spatial.zoning import demo_zoning_path, load_zoning

GEOD = Geod(ellps="GRS80")


def independent_area_km2(gdf: gpd.GeoDataFrame, clip: gpd.GeoDataFrame | None = None) -> float:
    """Ellipsoidal area computed without ecozone: geopandas to EPSG:4490, dissolve, Geod."""
    geo = gdf.to_crs("EPSG:4490")
    union = geo.union_all()
    if clip is not None:
        union = union.intersection(clip.to_crs("EPSG:4490").union_all())
    dense = shapely.segmentize(union, 0.001)  # ~100 m in degrees
    return abs(GEOD.geometry_area_perimeter(dense)[0]) / 1e6


def independent_length_km(gdf: gpd.GeoDataFrame) -> float:
    """Ellipsoidal length without ecozone."""
    geo = gdf.to_crs("EPSG:4490")
    return sum(GEOD.geometry_length(shapely.segmentize(g, 0.001)) for g in geo.geometry) / 1e3


@pytest.fixture(scope="module")
def toy_table(toy_zoning):
    return compute_indicators(toy_zoning)


def test_columns_and_whole_rows(toy_table) -> None:
    assert list(toy_table.frame.columns) == TABLE_COLUMNS
    assert list(toy_table.frame.columns[:6]) == ["indicator", "label_zh", "value", "unit", "target", "status"]
    assert set(toy_table.frame["area_name"]) == {WHOLE}
    assert set(toy_table.frame["indicator"]) <= set(INDICATORS)
    assert (toy_table.frame["status"] == "no_target").all()


@pytest.mark.parametrize(
    ("indicator", "layer", "planar_km2"),
    [
        ("boundary_area_km2", "boundary", 400.0),
        ("redline_area_km2", "redline", 19.0),  # 7 (two overlapping squares) + 12 (holed)
        ("protected_area_km2", "protected_area", 9.0),
        ("water_source_area_km2", "water_source", 25.0),
        ("farmland_area_km2", "farmland", 16.0),
        ("urban_boundary_area_km2", "urban_boundary", 11.0),
    ],
)
def test_areas_match_independent_ellipsoidal_and_closed_form(toy_table, indicator: str, layer: str, planar_km2: float) -> None:
    raw = toy_layers()
    expected = independent_area_km2(raw[layer], raw["boundary"])
    got = toy_table.value(indicator)
    assert got == pytest.approx(expected, rel=5e-4)
    assert got == pytest.approx(planar_km2, rel=5e-3)
    # Ellipsoidal is not planar: the GK plane is ~0.02 % larger 100 km off the central meridian.
    assert got < planar_km2


def test_ratios_and_union_counted_once(toy_table) -> None:
    raw = toy_layers()
    both = pd.concat([raw["redline"], raw["protected_area"]])
    assert toy_table.value("protected_or_redline_km2") == pytest.approx(independent_area_km2(both, raw["boundary"]), rel=5e-4)
    ratio = 100 * toy_table.value("redline_area_km2") / toy_table.value("boundary_area_km2")
    assert toy_table.value("redline_ratio_pct") == pytest.approx(ratio, rel=1e-9)
    assert toy_table.value("redline_ratio_pct") == pytest.approx(100 * 19 / 400, rel=5e-3)
    assert toy_table.value("protected_ratio_pct") == pytest.approx(100 * 9 / 400, rel=5e-3)


def test_control_units_and_corridors(toy_table) -> None:
    assert toy_table.value("control_unit_count") == 4
    assert toy_table.value("control_unit_count_priority") == 1
    assert toy_table.value("control_unit_count_key") == 1
    assert toy_table.value("control_unit_count_general") == 2
    assert toy_table.value("control_unit_area_km2_general") == pytest.approx(200, rel=5e-3)
    total = sum(toy_table.value(f"control_unit_area_km2_{c}") for c in ("priority", "key", "general"))
    assert total == pytest.approx(toy_table.value("boundary_area_km2"), rel=1e-9)
    raw = toy_layers()["corridor"]
    assert toy_table.value("corridor_length_km_river") == pytest.approx(independent_length_km(raw.iloc[[0]]), rel=5e-4)
    assert toy_table.value("corridor_length_km_road") == pytest.approx(20.0, rel=5e-3)
    with pytest.raises(KeyError):
        toy_table.value("corridor_length_km_green")


@pytest.mark.slow
def test_overlapping_holed_redline_in_prefixed_gk(tmp_path: Path) -> None:
    """Data stored in 3-degree GK *with* zone prefix (EPSG:4526) and clipped by the boundary."""
    path = write_toy_gpkg(tmp_path / "gk38.gpkg", crs="EPSG:4526")
    table = compute_indicators(load_zoning(path))
    raw = toy_layers()
    assert table.value("redline_area_km2") == pytest.approx(independent_area_km2(raw["redline"], raw["boundary"]), rel=5e-4)
    assert table.value("boundary_area_km2") == pytest.approx(independent_area_km2(raw["boundary"]), rel=5e-4)


@pytest.mark.slow
def test_layers_clipped_to_boundary(tmp_path: Path) -> None:
    layers = toy_layers()
    # A red line straddling the county's east edge: only [18,20]x[10,12] counts.
    extra = gpd.GeoDataFrame({"BSM": ["HX009"], "HXMC": ["跨界"], "HXLX": ["陆域"]}, geometry=[km_box(18, 10, 22, 12)], crs=TOY_CRS)
    layers["redline"] = pd.concat([layers["redline"], extra], ignore_index=True)
    path = tmp_path / "clip.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    table = compute_indicators(load_zoning(path))
    assert table.value("redline_area_km2") == pytest.approx(23.0, rel=5e-3)
    assert table.value("redline_area_km2") == pytest.approx(
        independent_area_km2(layers["redline"], layers["boundary"]), rel=5e-4
    )


def zoning_with_town(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_toy_gpkg(tmp_path / "town.gpkg")
    town = gpd.GeoDataFrame(
        {"name": ["西镇", "东镇"], "code": ["441899001", "441899002"]},
        geometry=[km_box(0, 0, 10, 20), km_box(10, 0, 20, 20)],
        crs=TOY_CRS,
    )
    town.to_file(path, layer="town", driver="GPKG")
    return path


@pytest.mark.slow
def test_by_town_layer(tmp_path: Path) -> None:
    table = compute_indicators(load_zoning(zoning_with_town(tmp_path)), by_layer="town")
    assert table.area_names == [WHOLE, "西镇", "东镇"]
    assert table.by == "layer:town"
    assert table.value("redline_area_km2", "西镇") == pytest.approx(7.0, rel=5e-3)
    assert table.value("redline_area_km2", "东镇") == pytest.approx(12.0, rel=5e-3)
    parts = table.value("redline_area_km2", "西镇") + table.value("redline_area_km2", "东镇")
    assert parts == pytest.approx(table.value("redline_area_km2"), rel=1e-9)
    assert table.value("redline_ratio_pct", "东镇") == pytest.approx(100 * 12 / 200, rel=5e-3)
    assert table.value("control_unit_count", "西镇") == 2  # SW priority + NW general
    assert table.value("control_unit_count_key", "西镇") == 0
    assert table.value("corridor_length_km_river", "东镇") == pytest.approx(10.0, rel=5e-3)
    assert table.row("boundary_area_km2", "东镇")["area_code"] == "441899002"
    with pytest.raises(SchemaError, match="nosuch"):
        compute_indicators(load_zoning(zoning_with_town(tmp_path / "x")), by_layer="nosuch")


@pytest.mark.slow
def test_by_boundary_field(tmp_path: Path) -> None:
    layers = toy_layers()
    layers["boundary"] = gpd.GeoDataFrame(
        {"XZQMC": ["甲县", "乙县"], "XZQDM": ["441801", "441802"]},
        geometry=[km_box(0, 0, 20, 10), km_box(0, 10, 20, 20)],
        crs=TOY_CRS,
    )
    path = tmp_path / "two.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    table = compute_indicators(load_zoning(path), by_field="name")
    assert table.value("boundary_area_km2", "甲县") == pytest.approx(200, rel=5e-3)
    assert table.value("redline_area_km2", "甲县") == pytest.approx(19.0, rel=5e-3)
    assert table.value("redline_area_km2", "乙县") == pytest.approx(0.0, abs=1e-9)
    assert table.value("boundary_area_km2") == pytest.approx(400, rel=5e-3)
    with pytest.raises(SchemaError, match="XZQ"):
        compute_indicators(load_zoning(path), by_field="XZQ")


# --------------------------------------------------------------------------- raster cover
CELL = 1500.0  # 1.5 km cells: the county edge at 20 km cuts cells in half


def _write_raster(path: Path) -> Path:
    """14 x 14 cells from the toy origin: x < 10.5 km forest (1), else other (2),
    except grass (3) for x >= 10.5 km and y < 3 km; one nodata cell at [1.5,3]x[1.5,3] km.
    """
    n = 14
    data = np.full((n, n), 2, dtype="uint8")
    data[:, :7] = 1
    data[n - 2 :, 7:] = 3  # bottom two rows: y in [0, 3) km
    data[n - 2, 1] = 0  # row for y in [1.5, 3) km, column for x in [1.5, 3) km
    transform = Affine(CELL, 0, ORIGIN[0], 0, -CELL, ORIGIN[1] + n * CELL)
    with rasterio.open(
        path, "w", driver="GTiff", width=n, height=n, count=1, dtype="uint8", crs=TOY_CRS, transform=transform, nodata=0
    ) as ds:
        ds.write(data, 1)
    return path


@pytest.mark.slow
def test_raster_cover_exact_fractions(tmp_path: Path) -> None:
    raster = _write_raster(tmp_path / "lc.tif")
    table = compute_indicators(
        load_zoning(zoning_with_town(tmp_path)), by_layer="town", raster=raster, forest_classes="1", grass_classes=[3]
    )
    valid = 400 - 2.25
    assert table.value("forest_cover_pct") == pytest.approx(100 * (210 - 2.25) / valid, rel=1e-6)
    assert table.value("forest_grass_cover_pct") == pytest.approx(100 * (210 - 2.25 + 28.5) / valid, rel=1e-6)
    assert table.value("forest_cover_pct", "西镇") == pytest.approx(100.0, rel=1e-9)
    assert table.value("forest_cover_pct", "东镇") == pytest.approx(5.0, rel=1e-6)
    assert table.value("forest_grass_cover_pct", "东镇") == pytest.approx(19.25, rel=1e-6)
    # The raster (21 x 21 km) covers the county; the nodata cell is 0.56 % of it: noted.
    assert any("栅格有效像元" in n for n in table.notes)


@pytest.mark.slow
def test_raster_in_geographic_crs(tmp_path: Path) -> None:
    """Polygons are reprojected to a lon/lat raster; cells weigh by their spherical area."""
    boundary = toy_layers()["boundary"].to_crs("EPSG:4490")
    x0, y0, x1, y1 = boundary.total_bounds
    n = 50
    dx, dy = (x1 - x0 + 0.02) / n, (y1 - y0 + 0.02) / n
    data = np.full((n, n), 2, dtype="uint8")
    data[:, : n // 2] = 1  # west of the middle meridian is forest
    mid = x0 - 0.01 + dx * (n // 2)
    with rasterio.open(
        tmp_path / "ll.tif", "w", driver="GTiff", width=n, height=n, count=1, dtype="uint8", crs="EPSG:4490",
        transform=Affine(dx, 0, x0 - 0.01, 0, -dy, y1 + 0.01), nodata=0,
    ) as ds:
        ds.write(data, 1)
    table = compute_indicators(load_zoning(write_toy_gpkg(tmp_path / "t.gpkg")), raster=tmp_path / "ll.tif", forest_classes=[1])
    west = boundary.clip(shapely.box(x0 - 1, y0 - 1, mid, y1 + 1))
    expected = 100 * independent_area_km2(west) / independent_area_km2(boundary)
    assert table.value("forest_cover_pct") == pytest.approx(expected, rel=2e-3)


def test_raster_needs_classes(tmp_path: Path, toy_zoning) -> None:
    raster = _write_raster(tmp_path / "lc.tif")
    with pytest.raises(InputError, match="forest"):
        compute_indicators(toy_zoning, raster=raster)
    with pytest.raises(InputError, match="integers"):
        compute_indicators(toy_zoning, raster=raster, forest_classes="forest")


# --------------------------------------------------------------------------- dissolve
def test_dissolve_coverage_and_overlap() -> None:
    quads = np.array([km_box(0, 0, 10, 10), km_box(10, 0, 20, 10), km_box(0, 10, 10, 20), km_box(10, 10, 20, 20)])
    assert shapely.coverage_is_valid(quads)
    merged = dissolve(quads)
    assert merged.is_valid and merged.area == pytest.approx(400e6)
    overlapping = np.array([km_box(2, 2, 4, 4), km_box(3, 3, 5, 5)])
    assert not shapely.coverage_is_valid(overlapping)
    assert dissolve(overlapping).area == pytest.approx(7e6)  # not the 8 a coverage union would give
    assert dissolve([]).is_empty
    assert dissolve([None, shapely.Polygon()]).is_empty


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 15), st.floats(0, 15), st.floats(0.1, 5), st.floats(0.1, 5)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_dissolved_area_bounds(boxes: list[tuple[float, float, float, float]]) -> None:
    geoms = np.array([km_box(x, y, x + w, y + h) for x, y, w, h in boxes], dtype=object)
    crs = CRS.from_user_input(TOY_CRS)
    parts = ellipsoidal_area(geoms, crs)
    total = ellipsoidal_area(dissolve(geoms), crs)[0]
    # Geodesic edges between projected vertices make areas additive only to ~1e-9.
    assert total <= parts.sum() * (1 + 1e-8)
    assert total >= parts.max() * (1 - 1e-8)


# --------------------------------------------------------------------------- CLI
@pytest.mark.slow
def test_cli_writes_csv_json_and_refuses_overwrite(tmp_path: Path, toy_gpkg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from spatial.cli import main

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["indicators", "--zoning", str(toy_gpkg), "--out", str(out)])
    assert exc.value.code == 0
    raw = (out / "indicators.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(out / "indicators.csv", encoding="utf-8-sig")
    assert list(frame.columns[:6]) == ["indicator", "label_zh", "value", "unit", "target", "status"]
    doc = json.loads((out / "indicators.json").read_text(encoding="utf-8"))
    red = next(r for r in doc["indicators"] if r["indicator"] == "redline_area_km2")
    assert red["value"] == pytest.approx(19.0, rel=5e-3)
    assert "生态保护红线" in capsys.readouterr().out
    before = (out / "indicators.csv").read_bytes()
    with pytest.raises(OutputExistsError):
        main(["--debug", "indicators", "--zoning", str(toy_gpkg), "--out", str(out)])
    assert (out / "indicators.csv").read_bytes() == before
    with pytest.raises(SystemExit) as exc:
        main(["indicators", "--zoning", str(toy_gpkg), "--out", str(out), "--force"])
    assert exc.value.code == 0


@pytest.mark.slow
def test_cli_by_town_and_targets(tmp_path: Path) -> None:
    from spatial.cli import main

    targets = tmp_path / "t.yaml"
    targets.write_text('indicators:\n  redline_ratio_pct: ">= 5"\n  protected_ratio_pct:\n    terrain: plain\n', encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["indicators", "-z", str(zoning_with_town(tmp_path)), "--by", "town", "--targets", str(targets), "--out", str(out)])
    assert exc.value.code == 0
    frame = pd.read_csv(out / "indicators.csv", encoding="utf-8-sig", dtype={"area_code": str})
    whole = frame[frame["area_name"] == WHOLE].set_index("indicator")
    assert whole.loc["redline_ratio_pct", "status"] == "not_met"  # 4.75 % < 5 %
    assert whole.loc["protected_ratio_pct", "target"] == "≥ 16（平原地区）"
    assert whole.loc["protected_ratio_pct", "status"] == "not_met"
    assert set(frame["area_name"]) == {WHOLE, "西镇", "东镇"}
    with pytest.raises(SystemExit) as exc:
        main(["indicators", "-z", str(zoning_with_town(tmp_path / "b")), "--by", "nosuch", "--out", str(tmp_path / "o2")])
    assert exc.value.code == 2


DEMO = demo_zoning_path()


@pytest.mark.slow
@pytest.mark.skipif(not DEMO.exists(), reason="bundled demo GeoPackage not built yet")
def test_demo_headline_figures(tmp_path: Path) -> None:
    from spatial.cli import main

    out = tmp_path / "demo"
    with pytest.raises(SystemExit) as exc:
        main(["indicators", "--zoning", "demo", "--by", "town", "--out", str(out)])  # the demo zoning + 连州 targets
    assert exc.value.code == 0
    frame = pd.read_csv(out / "indicators.csv", encoding="utf-8-sig")
    whole = frame[frame["area_name"] == WHOLE].set_index("indicator")
    assert whole.loc["boundary_area_km2", "value"] == pytest.approx(2663.33, rel=5e-3)
    assert whole.loc["redline_area_km2", "value"] == pytest.approx(568.74, rel=1e-2)
    assert whole.loc["redline_ratio_pct", "target"] == "≥ 21.31"
    assert whole.loc["redline_ratio_pct", "status"] in ("met", "not_met")
    assert len(set(frame["area_name"])) > 2
