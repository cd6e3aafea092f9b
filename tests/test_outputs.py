"""The output set: names in one table, lean screening tables, one GeoPackage writer, reading back."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from conftest import km_box, km_point

from spatial import output
from spatial.screening import screen


def _sites(points_only: bool) -> gpd.GeoDataFrame:
    geoms = [km_point(3.5, 3.5), km_point(18.0, 1.0), km_point(19.0, 19.0)]
    if not points_only:
        geoms.append(km_box(3.9, 3.9, 4.1, 4.1))  # inside the red line
    ids = [f"S{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"site_id": ids, "project_type": "electroplating"}, geometry=geoms, crs="EPSG:4547")


def test_every_output_name_is_unique() -> None:
    names = [f.name for f in output.FILES.values()]
    assert len(set(names)) == len(names)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["gpkg", "parquet"])
def test_lean_tables_and_reading_back(tmp_path: Path, toy_zoning, fmt: str) -> None:
    result = screen(_sites(points_only=False), toy_zoning)
    files = output.write_screening(result, tmp_path, fmt=fmt)
    hits = pd.read_csv(files["hits_csv"], encoding="utf-8-sig", dtype={"site_id": str})
    rules = pd.read_csv(files["rules_csv"], encoding="utf-8-sig")
    assert "message_zh" not in hits and "basis" not in hits
    assert list(rules.rule_id) == [r.id for r in result.rules]
    assert len(hits) == len(result.hits) and set(hits.rule_id) <= set(rules.rule_id)
    back = output.read_screening(tmp_path)
    assert list(back.sites.site_id) == list(result.sites.site_id)
    # the texts come back through rules.csv, exactly as the engine gave them
    pd.testing.assert_series_equal(back.hits["message_zh"].reset_index(drop=True), result.hits["message_zh"].astype(object).reset_index(drop=True), check_names=False, check_dtype=False)
    geoms = np.asarray(back.hits.geometry.values, dtype=object)
    box = (back.hits.site_id == "S3").to_numpy()
    assert not pd.isna(geoms[box]).any() and pd.isna(geoms[~box]).all()  # only the polygon site's hits carry geometry


@pytest.mark.slow
def test_point_sites_write_hits_as_a_plain_table(tmp_path: Path, toy_zoning) -> None:
    result = screen(_sites(points_only=True), toy_zoning)
    gpkg = output.write_screening(result, tmp_path)["screening_gpkg"]
    assert pyogrio.read_info(gpkg, layer="hits")["geometry_type"] is None
    assert pyogrio.read_info(gpkg, layer="sites")["geometry_type"] is not None
    back = output.read_screening(gpkg)
    assert len(back.hits) == len(result.hits) and back.hits["basis"].str.len().gt(0).all()


@pytest.mark.slow
def test_large_runs_default_to_geoparquet(tmp_path: Path, toy_gpkg, monkeypatch: pytest.MonkeyPatch) -> None:
    from spatial.cli import cli

    assert output.screening_format(None, output.PARQUET_AUTO_SITES) == "gpkg"
    assert output.screening_format(None, output.PARQUET_AUTO_SITES + 1) == "parquet"
    assert output.screening_format("gpkg", 10**7) == "gpkg"
    monkeypatch.setattr(output, "PARQUET_AUTO_SITES", 2)
    path = tmp_path / "s.gpkg"
    _sites(points_only=True).to_file(path)
    res = CliRunner().invoke(cli, ["screen", str(path), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "--no-map"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "sites.parquet").exists() and not (tmp_path / "o" / "screening.gpkg").exists()
    res = CliRunner().invoke(cli, ["screen", str(path), "-z", str(toy_gpkg), "--out", str(tmp_path / "g"), "--no-map", "--format", "gpkg"])
    assert res.exit_code == 0 and (tmp_path / "g" / "screening.gpkg").exists()
