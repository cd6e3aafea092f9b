"""Zoning integrity: planted gaps, overlaps, duplicate/malformed codes, conflicts, CLI exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import TOY_CRS, km_box, toy_layers

from spatial.errors import SchemaError
from spatial.validate import validate_zoning
from spatial.zoning import demo_zoning_path


def clean_layers() -> dict[str, gpd.GeoDataFrame]:
    """The toy county made clean: its core zone is added to the red line."""
    layers = toy_layers()
    core = layers["protected_area"].geometry.iloc[0]
    red = layers["redline"]
    red.loc[len(red)] = {"BSM": "HX004", "HXMC": "保护区核心", "HXLX": "陆域", "geometry": core}
    return layers


def write(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """Write layers to a GeoPackage."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


def with_units(tmp_path: Path, edit) -> Path:
    """Clean toy package with the control-unit layer edited."""
    layers = clean_layers()
    edit(layers["control_unit"])
    return write(tmp_path / "edited.gpkg", layers)


def test_clean_toy_is_clean(tmp_path: Path) -> None:
    """No findings on the clean toy county."""
    report = validate_zoning(write(tmp_path / "clean.gpkg", clean_layers()))
    assert report.findings == []
    assert report.clean and report.exit_code == 0


def test_toy_core_outside_redline(toy_gpkg: Path) -> None:
    """The raw toy's core zone lies outside the red line."""
    report = validate_zoning(toy_gpkg)
    (f,) = report.findings
    assert f.code == "core_outside_redline"
    assert f.feature_ids == ("PA1-C",)
    assert f.area_m2 == pytest.approx(1e6, rel=5e-3)
    assert report.exit_code == 1


def test_planted_gap(tmp_path: Path) -> None:
    """Shrinking the NE unit leaves a 10 km x 0.5 km gap."""

    def edit(units: gpd.GeoDataFrame) -> None:
        units.loc[3, "geometry"] = km_box(10, 10, 20, 19.5)

    report = validate_zoning(with_units(tmp_path, edit))
    assert report.codes() == {"unit_gap": 1}
    gap = report.gaps
    assert len(gap) == 1
    assert gap["area_m2"].iloc[0] == pytest.approx(5e6, rel=5e-3)
    assert gap.geometry.iloc[0].symmetric_difference(km_box(10, 19.5, 20, 20)).area < 1e-3


def test_planted_overlap(tmp_path: Path) -> None:
    """Growing the SW unit eastwards overlaps the SE unit by 5 km²."""

    def edit(units: gpd.GeoDataFrame) -> None:
        units.loc[0, "geometry"] = km_box(0, 0, 10.5, 10)

    report = validate_zoning(with_units(tmp_path, edit))
    assert report.codes() == {"unit_overlap": 1}
    (f,) = report.by_code("unit_overlap")
    assert set(f.feature_ids) == {"ZH44189910001", "ZH44189920001"}
    assert f.area_m2 == pytest.approx(5e6, rel=5e-3)
    assert report.overlaps.geometry.iloc[0].area == pytest.approx(5e6, rel=1e-9)


def test_duplicate_code_is_a_finding_not_a_warning(tmp_path: Path) -> None:
    """A duplicate code is reported once with both features; the loader's warning does not escape."""

    def edit(units: gpd.GeoDataFrame) -> None:
        units.loc[3, "HJZHGKDYBM"] = "ZH44189930001"

    report = validate_zoning(with_units(tmp_path, edit))  # filterwarnings=error: an escaped warning fails
    assert report.codes() == {"duplicate_code": 1}
    (f,) = report.findings
    assert f.feature_ids == ("ZH44189930001", "ZH44189930001#2")
    assert f.severity == "error"


def test_code_checks(tmp_path: Path) -> None:
    """Malformed codes, wrong category digits and foreign admin codes."""

    def edit(units: gpd.GeoDataFrame) -> None:
        units.loc[1, "HJZHGKDYBM"] = "ZH44189930009"  # a key unit with the general digit
        units.loc[2, "HJZHGKDYBM"] = "ZH4418993001"  # one digit short
        units.loc[3, "HJZHGKDYBM"] = "ZH44000030002"  # another county's admin code

    report = validate_zoning(with_units(tmp_path, edit))
    assert report.codes() == {"code_category_mismatch": 1, "code_malformed": 1, "code_admin_mismatch": 1}
    assert report.by_code("code_category_mismatch")[0].feature_ids == ("ZH44189930009",)


def test_conflicts_outside_and_repairs(tmp_path: Path) -> None:
    """Farmland/urban/mining inside protected land, features outside, invalid geometry."""
    layers = clean_layers()
    layers["farmland"].loc[1] = {"BSM": "JBNT2", "geometry": km_box(3.5, 3.5, 4.5, 4.5)}  # in HX001/HX002
    layers["urban_boundary"].loc[1] = {"BSM": "KFBJ2", "geometry": km_box(11.5, 11.5, 12.5, 12.5)}  # 0.25 km² in PA
    layers["mining"] = gpd.GeoDataFrame({"name": ["示例矿"], "code": ["KQ1"]}, geometry=[km_box(14, 4, 14.5, 5.5)], crs=TOY_CRS)
    layers["water_source"].loc[3] = {"MC": "界外", "JB": "一级保护区", "geometry": km_box(30, 30, 31, 31)}
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    ox, oy = km_box(0, 0, 0, 0).bounds[:2]
    layers["redline"].loc[len(layers["redline"])] = {
        "BSM": "HX009",
        "HXMC": "蝴蝶",
        "HXLX": "陆域",
        "geometry": shapely.affinity.translate(shapely.affinity.scale(bowtie, 1000, 1000, origin=(0, 0)), ox + 6000, oy + 6000),
    }
    report = validate_zoning(write(tmp_path / "c.gpkg", layers))
    codes = report.codes()
    assert codes["farmland_in_redline"] == 2  # overlaps HX001 and HX002
    assert codes["urban_boundary_in_protected_area"] == 1
    assert codes["mining_in_redline"] == 1
    assert codes["outside_boundary"] == 1
    assert codes["geometry_repaired"] >= 1  # the repair, and the alert that it changed the area by > 0.1 %
    assert report.by_code("geometry_repaired")[0].feature_ids == ("HX009",)
    (mine,) = report.by_code("mining_in_redline")
    assert mine.area_m2 == pytest.approx(0.25e6, rel=5e-3)  # [14,14.5]x[4,5] is in HX003's hole: only y 5-5.5 counts
    urban = report.by_code("urban_boundary_in_protected_area")[0]
    assert urban.area_m2 == pytest.approx(0.25e6, rel=5e-3)
    assert report.by_code("outside_boundary")[0].layer == "water_source"


def test_partly_outside_and_tolerance(tmp_path: Path) -> None:
    """A unit overhanging the boundary is flagged; slivers below the tolerance are not."""
    layers = clean_layers()
    layers["control_unit"].loc[3, "geometry"] = km_box(10, 10, 20.001, 20)  # 10 km x 1 m overhang = 10,000 m²
    report = validate_zoning(write(tmp_path / "p.gpkg", layers))
    assert report.codes() == {"partly_outside_boundary": 1}
    assert validate_zoning(write(tmp_path / "p2.gpkg", layers), tolerance_m2=20_000).codes() == {"sliver_noise": 1}


def test_cli_exit_codes_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0 clean, 1 with findings (gpkg + json written), 2 unusable input."""
    from spatial.cli import main

    clean = write(tmp_path / "clean.gpkg", clean_layers())
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(clean)])
    assert exc.value.code == 0

    def edit(units: gpd.GeoDataFrame) -> None:
        units.loc[0, "geometry"] = km_box(0, 0, 10.5, 9)  # overlap SE by 4.5 km², leave a 10 km² gap
        units.loc[3, "HJZHGKDYBM"] = "ZH44189930001"

    bad = with_units(tmp_path / "b", edit)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(bad), "--out", str(out)])
    assert exc.value.code == 1
    assert "unit_gap" in capsys.readouterr().out
    doc = json.loads((out / "validate.json").read_text(encoding="utf-8"))
    assert doc["clean"] is False and doc["counts"] == {"unit_gap": 1, "unit_overlap": 1, "duplicate_code": 1}
    assert {"gaps", "overlaps", "findings"} <= set(dict(pyogrio.list_layers(out / "validate.gpkg")))
    gaps = gpd.read_file(out / "validate.gpkg", layer="gaps")
    assert gaps["area_m2"].sum() == pytest.approx(10e6, rel=5e-3)
    nob = tmp_path / "noboundary.gpkg"
    toy_layers()["redline"].to_file(nob, layer="redline", driver="GPKG")
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(nob)])
    assert exc.value.code == 2
    with pytest.raises(SchemaError):
        validate_zoning(nob)


DEMO = demo_zoning_path()


@pytest.mark.skipif(not DEMO.exists(), reason="bundled demo GeoPackage not built yet")
def test_demo_is_clean() -> None:
    """Nothing to report on the bundled demo (reprojection slivers are info only)."""
    report = validate_zoning(DEMO)
    assert report.clean, pd.DataFrame(report.to_frame()).to_string()
    assert report.exit_code == 0
