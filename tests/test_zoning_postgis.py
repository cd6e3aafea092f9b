"""Zoning kept in PostGIS: publish, list, read back, and screen with results identical to the GeoPackage.

Runs against a real, throwaway PostgreSQL + PostGIS server (``postgis_url``
in conftest; skipped with the reason when the Debian packages
``postgresql``/``postgresql-15-postgis-3`` are absent).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import write_toy_gpkg

from spatial import load_rules, screen
from spatial.cli import cli
from spatial.errors import InputError, OutputExistsError
from spatial.pgpublish import list_versions, publish_package
from spatial.zoning import demo_sites_path, demo_zoning_path, is_demo_zoning, load_zoning

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from golden_cases import FROZEN_RULES, _load_script  # noqa: E402

pytestmark = pytest.mark.slow


def _sql(url: str, *statements: str) -> list:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1).split("?")[0])
    try:
        with engine.begin() as con:
            return [con.execute(sa.text(s)).all() if s.lstrip().lower().startswith("select") else None for s in statements]
    finally:
        engine.dispose()


def _assert_same_zoning(a, b) -> None:
    assert list(a.layers) == list(b.layers)
    assert a.crs == b.crs
    for name in a.layers:
        x, y = a.layers[name], b.layers[name]
        pd.testing.assert_frame_equal(pd.DataFrame(x.drop(columns="geometry")), pd.DataFrame(y.drop(columns="geometry")), obj=name)
        assert x.geometry.geom_equals_exact(y.geometry, 0).all(), name
        assert [s.n_features for s in a.sources] == [s.n_features for s in b.sources]


def _assert_same_screening(r1, r2) -> None:
    s1, s2 = (pd.DataFrame(r.sites.drop(columns="geometry")).reset_index(drop=True) for r in (r1, r2))
    pd.testing.assert_frame_equal(s1, s2)
    assert len(r1.hits) > 0
    h1, h2 = (pd.DataFrame(r.hits).drop(columns=[c for c in ("geometry",) if c in r.hits]).reset_index(drop=True) for r in (r1, r2))
    pd.testing.assert_frame_equal(h1, h2)  # every hit: rule, feature, verdict, overlap, length, distance, message


def test_demo_published_listed_and_screened_identically(postgis_url: str, tmp_path: Path) -> None:
    """CLI publish + list; the demo from PostGIS gives the same zoning and every verdict and measurement of the GPKG."""
    runner = CliRunner()
    res = runner.invoke(cli, ["zoning", "publish", str(demo_zoning_path()), "--db", postgis_url, "--label", "2026年动态更新",
                              "--issuer", "连州市生态环境局", "--schema", "lianzhou_2026"])
    assert res.exit_code == 0, res.output
    url = f"{postgis_url}?schema=lianzhou_2026"
    assert url in res.output
    res = runner.invoke(cli, ["zoning", "list", "--db", postgis_url, "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["schema"]: r for r in json.loads(res.output)}
    v = rows["lianzhou_2026"]
    assert v["label"] == "2026年动态更新" and v["issuer"] == "连州市生态环境局" and len(v["content_hash"]) == 64
    assert "boundary" in v["layers"] and "redline" in v["layers"]
    # a GiST index per table
    n_gist = _sql(postgis_url, "select count(*) from pg_indexes where schemaname='lianzhou_2026' and indexdef ilike '%using gist%'")[0][0][0]
    assert n_gist == len(v["layers"])
    assert v["findings"] is not None  # validated by default

    zf, zd = load_zoning(demo_zoning_path()), load_zoning(url)
    _assert_same_zoning(zf, zd)
    assert zd.path == url and all(s.path == url for s in zd.sources)
    assert is_demo_zoning(zd)  # the synthetic demo stays stamped 示范数据 from the database too
    rules = load_rules(FROZEN_RULES)
    from_file = screen(demo_sites_path(), zf, rules)
    _assert_same_screening(from_file, screen(demo_sites_path(), zd, rules))

    out = tmp_path / "out"  # the command line takes the URL as --zoning
    res = runner.invoke(cli, ["screen", str(demo_sites_path()), "--zoning", url, "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    on_disk = pd.read_csv(out / "sites.csv", dtype={"site_id": str})
    with_file = screen(demo_sites_path(), zf)  # the shipped catalogue, as the command uses
    assert on_disk["verdict"].tolist() == with_file.sites["verdict"].tolist()
    assert on_disk["site_id"].tolist() == with_file.sites["site_id"].astype(str).tolist()


def test_province_from_postgis_equals_gpkg(postgis_url: str, tmp_path: Path) -> None:
    """A generated province (points, polygons, lines; national 成果 field names) screens identically from PostGIS."""
    mp = _load_script("make_province")
    info = mp.make_province(
        tmp_path / "province", units=40, redlines=400, protected=120, water=90, farmland=400, urban=20, corridors=60,
        points=1500, polygons=300, lines=80, seed=3, quiet=True,
    )  # fmt: skip
    v = publish_package(info["zoning"], postgis_url, label="全省测试", schema="province_t")
    zf, zd = load_zoning(info["zoning"]), load_zoning(v.url)
    _assert_same_zoning(zf, zd)
    parts = [gpd.read_parquet(info["sites"][k]["path"]) for k in ("points", "polygons", "lines")]
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    rules = load_rules(FROZEN_RULES)
    _assert_same_screening(
        screen(sites, zf, rules, type_field="project_type"), screen(sites, zd, rules, type_field="project_type")
    )


def test_tables_without_manifest_and_refusals(postgis_url: str, tmp_path: Path) -> None:
    """One table per layer named by synonyms (no manifest table) reads like the GPKG; a version is never overwritten."""
    gpkg = write_toy_gpkg(tmp_path / "toy.gpkg")
    v = publish_package(gpkg, postgis_url, label="toy", schema="toy_plain")
    _sql(postgis_url, "drop table toy_plain.ecozone_manifest", 'alter table toy_plain.redline rename to "生态保护红线"')
    _assert_same_zoning(load_zoning(gpkg), load_zoning(v.url))
    with pytest.raises(OutputExistsError, match="toy_plain"):
        publish_package(gpkg, postgis_url, label="again", schema="toy_plain")
    assert [x.label for x in list_versions(postgis_url) if x.schema == "toy_plain"] == ["toy"]
    with pytest.raises(InputError, match="no_such"):
        load_zoning(f"{postgis_url}?schema=no_such")


def test_web_app_screens_against_a_published_version(postgis_url: str, tmp_path: Path) -> None:
    """``ecozone serve --zoning postgresql://…?schema=…``: the version is registered with its label and hash, jobs use it."""
    import shapely
    from fastapi.testclient import TestClient
    from serve_helpers import make_app, redline_patch, to_lonlat, wait_job

    v = publish_package(demo_zoning_path(), postgis_url, label="网页版本", issuer="局", schema="web_v1", validate=False)
    app = make_app(tmp_path / "data", zoning=v.url)
    with TestClient(app) as c:
        versions = app.state.store.versions(accepted_only=True)
        assert [(x.label, x.path, x.sha256) for x in versions] == [("网页版本（PostGIS web_v1）", v.url, v.content_hash)]
        r = c.post("/api/screenings", files={"files": ("s.gpkg", demo_sites_path().read_bytes())})
        assert r.status_code == 202, r.text
        doc = wait_job(c, r.json()["id"])
        inside, _ = redline_patch()  # the instant check reads the same published version
        chk = c.post("/api/check", json={"geometries": [shapely.geometry.mapping(to_lonlat(inside))], "project_type": "工业"})
        assert chk.status_code == 200, chk.text
        assert chk.json()["verdict"] == "prohibited"
    assert doc["status"] == "done", doc
    expected = screen(demo_sites_path(), load_zoning(demo_zoning_path()))
    assert [s["verdict"] for s in doc["sites"]] == expected.sites["verdict"].tolist()
    app.state.store.close()


def test_coverage_extent_travels_and_province_is_not_demo(postgis_url: str, tmp_path: Path) -> None:
    """A manifest's coverage extent is published and read back; a package that is not the demo is not stamped."""
    import yaml

    gpkg = write_toy_gpkg(tmp_path / "toy.gpkg")
    zf0 = load_zoning(gpkg)
    lon0, lat0, lon1, lat1 = (float(v) for v in zf0.to_wgs84("boundary").total_bounds)
    cov = [lon0, lat0, (lon0 + lon1) / 2, lat1]  # farmland stated to cover only the western half
    manifest = tmp_path / "zoning.yaml"
    layers = {name: {"path": "toy.gpkg", "layer": name} for name in ("boundary", "redline", "farmland")}
    layers["farmland"]["coverage"] = cov
    manifest.write_text(yaml.safe_dump({"layers": layers}, allow_unicode=True), encoding="utf-8")
    from spatial.io import list_layers

    names = {n: n for n in list_layers(gpkg)}
    if "boundary" not in names:  # the toy writes Chinese layer names: point the manifest at them
        from layers import spec_for_layer_name

        by_std = {spec_for_layer_name(n).name: n for n in names if spec_for_layer_name(n)}
        for name in layers:
            layers[name]["layer"] = by_std[name]
        manifest.write_text(yaml.safe_dump({"layers": layers}, allow_unicode=True), encoding="utf-8")
    zf = load_zoning(manifest)
    v = publish_package(manifest, postgis_url, label="coverage", schema="toy_cov", validate=False)
    zd = load_zoning(v.url)
    _assert_same_zoning(zf, zd)
    assert set(zd.coverage) == {"farmland"} and zd.coverage["farmland"].equals(zf.coverage["farmland"])
    assert not is_demo_zoning(zd)
