"""The `ecozone screen` / `layers` contract other tools script against."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
from click.testing import CliRunner
from conftest import km_point

from spatial.cli import cli


def _sites_file(tmp_path, types=("住宅", "商业")):
    gdf = gpd.GeoDataFrame(
        {"site_id": ["RL", "OK"], "project_type": list(types)},
        geometry=[km_point(3.5, 3.5), km_point(7, 15)],  # OK: inside the development boundary [6,9]x[14,17]
        crs="EPSG:4547",
    ).to_crs(4326)
    path = tmp_path / "sites.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_screen_writes_contract_files(tmp_path, toy_gpkg, hash_tree) -> None:
    sites = _sites_file(tmp_path)
    before = hash_tree(toy_gpkg.parent) | hash_tree(sites.parent)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["screen", str(sites), "--zoning", str(toy_gpkg), "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert {"site_id", "project_type", "verdict", "verdict_zh", "n_hits", "summary_zh", "coverage_zh", "data_note"} <= set(s.columns)
    assert dict(zip(s.site_id, s.verdict)) == {"RL": "prohibited", "OK": "compatible"}
    h = pd.read_csv(out / "hits.csv", encoding="utf-8-sig")
    assert set(h.columns) >= {"site_id", "rule_id", "layer", "feature_id", "feature_name", "verdict", "overlap_m2", "overlap_pct", "length_m", "distance_m"}
    assert set(h[h.site_id == "RL"].rule_id) == {"RL", "UB-OUT"}  # housing in the red line, outside the boundary
    assert not (h.site_id == "OK").any()
    r = pd.read_csv(out / "rules.csv", encoding="utf-8-sig")  # rule texts once per run, referenced by rule_id
    assert set(h.rule_id) <= set(r.rule_id) and r.rule_id.is_unique and r.basis.str.len().gt(0).all()
    assert sorted(pyogrio.list_layers(out / "screening.gpkg")[:, 0]) == ["hits", "rules", "sites"]
    # inputs untouched (the sites folder now also holds out/, compare only what was there)
    after = hash_tree(toy_gpkg.parent) | hash_tree(sites.parent)
    assert {k: after[k] for k in before} == before


def test_screen_refuses_overwrite_then_force(tmp_path, toy_gpkg) -> None:
    sites = _sites_file(tmp_path)
    out = tmp_path / "out"
    args = ["screen", str(sites), "-z", str(toy_gpkg), "--out", str(out), "--no-map"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    stamp = (out / "sites.csv").stat().st_mtime_ns
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2
    assert "--force" in res.output and "Traceback" not in res.output
    assert (out / "sites.csv").stat().st_mtime_ns == stamp
    assert CliRunner().invoke(cli, [*args, "--force"]).exit_code == 0


def test_fail_on_exit_code(tmp_path, toy_gpkg) -> None:
    sites = _sites_file(tmp_path)
    base = ["screen", str(sites), "-z", str(toy_gpkg), "--no-map"]
    assert CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "a"), "--fail-on", "prohibited"]).exit_code == 3
    (tmp_path / "b").mkdir()
    research = _sites_file(tmp_path / "b", types=("科研监测", "科研监测"))  # red line -> restricted only
    args = ["screen", str(research), "-z", str(toy_gpkg), "--no-map"]
    assert CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "c"), "--fail-on", "prohibited"]).exit_code == 0
    assert CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "d"), "--fail-on", "restricted"]).exit_code == 3


def test_project_type_override_and_unknown(tmp_path, toy_gpkg) -> None:
    sites = _sites_file(tmp_path)
    res = CliRunner().invoke(cli, ["screen", str(sites), "-z", str(toy_gpkg), "--no-map", "--out", str(tmp_path / "o"), "-t", "火星基地"])
    assert res.exit_code == 2
    assert "火星基地" in res.output and "industrial" in res.output
    assert not (tmp_path / "o" / "sites.csv").exists()


def test_user_error_has_no_traceback_unless_debug(tmp_path, toy_gpkg) -> None:
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"not a geopackage")
    res = CliRunner().invoke(cli, ["screen", str(bad), "-z", str(toy_gpkg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "bad.gpkg" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["--debug", "screen", str(bad), "-z", str(toy_gpkg), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0 and res.exception is not None


def test_layers_lists_mapping(toy_gpkg) -> None:
    res = CliRunner().invoke(cli, ["layers", "--zoning", str(toy_gpkg)])
    assert res.exit_code == 0, res.output
    for word in ("redline", "control_unit", "category←ZHGKDYFL", "EPSG:4547"):
        assert word in res.output


def test_unexpected_errors_are_one_message(tmp_path, toy_gpkg, monkeypatch) -> None:
    import spatial.job as job

    def boom(*args, **kwargs):
        raise RuntimeError("GEOS said no")

    monkeypatch.setattr(job, "prepare_inputs", boom)
    sites = _sites_file(tmp_path)
    res = CliRunner().invoke(cli, ["screen", str(sites), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "--no-map"])
    assert res.exit_code == 2
    assert "GEOS said no" in res.output and "--debug" in res.output and "Traceback" not in res.output


def test_products_choose_the_files(tmp_path, toy_gpkg) -> None:
    sites = _sites_file(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["screen", str(sites), "-z", str(toy_gpkg), "--out", str(out), "--products", "tables"])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == {"sites.csv", "hits.csv", "rules.csv", "run.json"}
    out2 = tmp_path / "out2"
    res = CliRunner().invoke(cli, ["screen", str(sites), "-z", str(toy_gpkg), "--out", str(out2), "--products", "gpkg,html", "--no-cache"])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out2.iterdir()}
    assert {"screening.gpkg", "report.html", "附图"} <= names and not names & {"sites.csv", "report.docx", "report.xlsx", "map.html"}
    # no per-site inset without `figures`: the 附图 folder holds the county maps only
    assert not [p for p in (out2 / "附图").iterdir() if "RL" in p.name]


def test_unknown_product_is_refused_naming_the_choices(tmp_path, toy_gpkg) -> None:
    sites = _sites_file(tmp_path)
    res = CliRunner().invoke(cli, ["screen", str(sites), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "--products", "tables,maps"])
    assert res.exit_code != 0
    assert "maps" in res.output and "report-full" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()
    res = CliRunner().invoke(cli, ["screen", str(sites), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "--products", "map", "--no-map"])
    assert res.exit_code != 0 and "--no-map" in res.output
