"""The Dask engine returns exactly what the local engine returns.

Small inputs, a 2-worker cluster of threads in this process (fast to start),
plus one run through the CLI on a real process cluster.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from test_scale import SMALL, assert_same_result, load_script, toy_sites

from spatial.screening import screen
from spatial.zoning import load_zoning

pytest.importorskip("dask_geopandas")
pytest.importorskip("distributed")



@pytest.fixture(scope="module")
def client():
    """A 2-worker in-process cluster shared by the tests of this module."""
    from spatial.engine.dask import dask_client

    with dask_client(workers=2, processes=False) as c:
        yield c


@pytest.mark.slow
def test_dask_equals_local_on_toy_county(toy_zoning, client) -> None:
    sites = toy_sites()
    local = screen(sites, toy_zoning)
    remote = screen(sites, toy_zoning, engine="dask", engine_options={"client": client, "npartitions": 5})
    assert remote.audit["engine"]["partitions"] == 5
    assert_same_result(local, remote)


@pytest.mark.slow
def test_dask_equals_local_on_small_province(tmp_path: Path, client) -> None:
    load_script("make_province").make_province(tmp_path, seed=11, quiet=True, **SMALL)
    z = load_zoning(tmp_path / "province_zoning.gpkg")
    sites = pd.concat([gpd.read_parquet(tmp_path / f"sites_{k}.parquet") for k in ("points", "polygons", "lines")], ignore_index=True)
    local = screen(sites, z)
    assert_same_result(local, screen(sites, z, engine="dask", engine_options={"client": client, "npartitions": 7}))
    # Sites given as a file path go through the same reader and checks.
    path = tmp_path / "mixed.parquet"
    sites.to_parquet(path)
    assert_same_result(local, screen(path, z, engine="dask", engine_options={"client": client, "npartitions": 3}))


def test_dask_no_sites(toy_zoning, client) -> None:
    empty = toy_sites().iloc[:0]
    assert len(screen(empty, toy_zoning, engine="dask", engine_options={"client": client}).sites) == 0


@pytest.mark.slow
def test_cli_dask_engine_matches_local(tmp_path: Path, toy_gpkg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spatial.cli import cli

    monkeypatch.setenv("ECOZONE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ECOZONE_DASK_SCHEDULER", raising=False)
    path = tmp_path / "sites.parquet"
    toy_sites().to_parquet(path)
    base = ["screen", str(path), "-z", str(toy_gpkg), "--no-map"]
    res = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "local")])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "dask"), "--engine", "dask", "--workers", "2"])
    assert res.exit_code == 0, res.output
    for name in ("sites.csv", "hits.csv"):
        a = pd.read_csv(tmp_path / "local" / name, encoding="utf-8-sig")
        b = pd.read_csv(tmp_path / "dask" / name, encoding="utf-8-sig")
        pd.testing.assert_frame_equal(a, b)
