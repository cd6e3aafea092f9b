"""Province-scale machinery: generator, chunked/threaded engine, line pieces, zoning cache, GeoParquet.

The engine's answers must not depend on how the work is cut up: one chunk or
many, one thread or several, lines queried whole or in pieces.  The cache
must give back exactly what the loader gives and never serve stale data.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import km_box, km_line, km_point

from spatial.cache import cache_key, load_zoning_cached
from spatial.engine.prepared import prepare_zoning, split_lines
from spatial.engine.queries import query_pairs
from spatial.engine.text import features_per_site
from spatial.screening import screen
from spatial.zoning import load_zoning

ROOT = Path(__file__).resolve().parents[1]
TYPES = ["住宅", "化工", "电镀", "科研监测", "线性基础设施", "农业", "采矿", "供水设施", "旅游", "commercial", "industrial", "围填海"]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"_ecozone_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


SMALL = {"units": 25, "redlines": 60, "protected": 14, "water": 9, "farmland": 60, "urban": 3, "corridors": 12, "points": 1500, "polygons": 150, "lines": 40}


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic province (same generator as the benchmark)."""
    out = tmp_path_factory.mktemp("province")
    load_script("make_province").make_province(out, seed=3, quiet=True, **SMALL)
    return out


def toy_sites() -> gpd.GeoDataFrame:
    """Points on a 0.5 km grid (many exactly on edges), edge-straddling boxes and crossing lines, in WGS84."""
    rng = np.random.default_rng(5)
    pts = [km_point(x, y) for x in np.arange(-0.5, 20.6, 0.5) for y in np.arange(-0.5, 20.6, 0.5)]
    boxes = [km_box(x - 0.3, y - 0.2, x + 0.3, y + 0.2) for x in (2, 4, 9.8, 10, 12.5, 15, 19.9) for y in (3, 5, 8, 10, 14.5, 16)]
    lines = [km_line((0.5, y), (19.5, y + 1)) for y in (2.5, 4, 8.01, 15.5)] + [km_line((x, 0.5), (x + 0.2, 19.5)) for x in (3, 7.51, 14.5)]
    geoms = pts + boxes + lines
    return gpd.GeoDataFrame(
        {"site_id": [f"T{i}" for i in range(len(geoms))], "project_type": rng.choice(TYPES, len(geoms))}, geometry=geoms, crs="EPSG:4547"
    ).to_crs(4326)


def assert_same_result(a, b) -> None:
    """Sites, hits, units and layer status equal: values, dtypes and row order."""
    pd.testing.assert_frame_equal(pd.DataFrame(a.sites.drop(columns="geometry")), pd.DataFrame(b.sites.drop(columns="geometry")))
    assert (shapely.to_wkb(a.sites.geometry.values) == shapely.to_wkb(b.sites.geometry.values)).all()
    pd.testing.assert_frame_equal(a.hits.drop(columns="geometry"), b.hits.drop(columns="geometry"))
    ga, gb = np.asarray(a.hits["geometry"], dtype=object), np.asarray(b.hits["geometry"], dtype=object)
    assert (pd.isna(ga) == pd.isna(gb)).all()
    assert (shapely.to_wkb(ga[~pd.isna(ga)]) == shapely.to_wkb(gb[~pd.isna(gb)])).all()
    pd.testing.assert_frame_equal(a.units, b.units)
    pd.testing.assert_frame_equal(a.layer_status, b.layer_status)


# --------------------------------------------------------------------------- generator


@pytest.mark.slow
def test_generator_shapes_and_determinism(province: Path, tmp_path: Path) -> None:
    gen = load_script("make_province")
    z = load_zoning(province / "province_zoning.gpkg")
    assert str(z.crs.to_epsg()) == "4547"
    for name in ("boundary", "redline", "protected_area", "water_source", "control_unit", "farmland", "urban_boundary", "corridor"):
        assert len(z[name]), name
        assert shapely.is_valid(z[name].geometry.values).all(), name
    rl = z["redline"].geometry.values
    nv = shapely.get_num_coordinates(rl)
    assert nv.min() >= 100 and nv.max() >= 500  # hundreds to thousands of vertices
    assert (shapely.get_num_interior_rings(shapely.get_parts(rl)) > 0).any()  # holes
    assert (shapely.get_type_id(rl) == 6).any()  # multiparts
    assert set(z["protected_area"]["zone"]) == {"core", "general"}
    assert set(z["water_source"]["level"]) == {"1", "2", "quasi"}
    assert set(z["corridor"]["kind"]) == {"river", "road"}
    units = z["control_unit"]
    assert units["code"].str.match(r"^ZH\d{6}[123]\d{4}$").all() and units["code"].is_unique
    # Control units tile the province (shared edges warped identically).
    assert shapely.union_all(units.geometry.values).area == pytest.approx(z.boundary.area.sum(), rel=1e-6)
    for kind, n in (("points", SMALL["points"]), ("polygons", SMALL["polygons"]), ("lines", SMALL["lines"])):
        sites = gpd.read_parquet(province / f"sites_{kind}.parquet")
        assert len(sites) == n and sites["site_id"].is_unique
        assert shapely.contains_xy(shapely.union_all(z.boundary.geometry.values), *shapely.get_coordinates(shapely.centroid(sites.geometry.values)).T).mean() > 0.9
    # Same seed, same data; the zoning does not depend on the number of sites.
    again = gen.build_zoning(3, **{k: SMALL[k] for k in ("units", "redlines", "protected", "water", "farmland", "urban", "corridors")})
    raw = gpd.read_file(province / "province_zoning.gpkg", layer="redline")
    # (the GeoPackage stores every red line as a MultiPolygon: compare the coordinates)
    np.testing.assert_array_equal(shapely.get_coordinates(again["redline"].geometry.values), shapely.get_coordinates(raw.geometry.values))


# --------------------------------------------------------------------------- engine invariance


@pytest.mark.slow
def test_chunks_and_threads_do_not_change_results(toy_zoning) -> None:
    sites = toy_sites()
    base = screen(sites, toy_zoning, threads=1)
    assert len(base.hits) > 100 and set(base.sites.verdict) == {"compatible", "notice", "restricted", "prohibited"}
    assert_same_result(base, screen(sites, toy_zoning, threads=2))
    assert_same_result(base, screen(sites, toy_zoning, threads=3, chunk_size=97))


@pytest.mark.slow
def test_province_chunked_threaded_equal(province: Path) -> None:
    z = load_zoning(province / "province_zoning.gpkg")
    sites = pd.concat([gpd.read_parquet(province / f"sites_{k}.parquet") for k in ("points", "polygons", "lines")], ignore_index=True)
    base = screen(sites, z, threads=1)
    assert_same_result(base, screen(sites, z, threads=2, chunk_size=400))


def test_line_pieces_are_exact() -> None:
    # A long wiggly line: querying its 16-vertex pieces finds exactly the pairs the whole line finds.
    rng = np.random.default_rng(1)
    t = np.linspace(0, 40, 2001)
    line = shapely.LineString(np.column_stack([t * 1000, 800 * np.sin(t / 3) + 30 * rng.standard_normal(len(t))]))
    multi = shapely.MultiLineString([shapely.LineString([(0, 5000), (40000, 5200)]), shapely.LineString([(0, -5000), (100, -5100)])])
    geoms = np.array([line, multi, shapely.box(1000, 1000, 3000, 3000)], dtype=object)
    shapely.prepare(geoms)
    pts = shapely.points(rng.uniform(-500, 40500, 40000), rng.uniform(-5500, 5500, 40000))
    tree = shapely.STRtree(pts)
    for d in (25.0, np.array([20.0, 300.0, 5.0])):
        f0, s0 = tree.query(geoms, predicate="dwithin", distance=d)
        f1, s1 = query_pairs(tree, geoms, d, split_lines(geoms))
        assert len(f0) > 100
        assert sorted(zip(f0.tolist(), s0.tolist())) == list(zip(f1.tolist(), s1.tolist()))


def test_features_per_site_matches_groupby() -> None:
    rng = np.random.default_rng(2)
    pairs = pd.DataFrame({"s": rng.integers(0, 300, 2000), "label": rng.choice(list("ABCDEFG"), 2000)})
    slow = pairs.groupby("s", sort=True)["label"].agg(lambda s: "、".join(dict.fromkeys(s)))
    expected = np.full(320, "", dtype=object)
    expected[slow.index.to_numpy()] = slow.to_numpy()
    assert (features_per_site(pairs, 320) == expected).all()


def test_prepared_reuse_and_release(toy_zoning) -> None:
    from spatial.engine.prepared import release_prepared
    from spatial.rules import load_rules

    rules = load_rules()
    prepared = prepare_zoning(toy_zoning, rules.types)
    sites = toy_sites()
    a = screen(sites, toy_zoning, rules, prepared=prepared)
    release_prepared(prepared)  # indexes dropped: queries rebuild them lazily
    assert_same_result(a, screen(sites, toy_zoning, rules, prepared=prepared))


# --------------------------------------------------------------------------- cache


def _same_zoning(a, b) -> None:
    assert list(a.layers) == list(b.layers) and a.crs == b.crs and a.sources == b.sources and a.path == b.path
    assert a.content_hash == b.content_hash
    for name in a.layers:
        pd.testing.assert_frame_equal(pd.DataFrame(a[name].drop(columns="geometry")), pd.DataFrame(b[name].drop(columns="geometry")))
        assert (shapely.to_wkb(a[name].geometry.values) == shapely.to_wkb(b[name].geometry.values)).all()
        assert a[name].crs == b[name].crs


@pytest.mark.slow
def test_cache_hit_equals_fresh_load(toy_gpkg: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    info: dict = {}
    first = load_zoning_cached(toy_gpkg, root=root, info=info)
    assert info["status"] == "miss" and (root / info["key"] / "meta.json").exists()
    second = load_zoning_cached(toy_gpkg, root=root, info=info)
    assert info["status"] == "hit"
    fresh = load_zoning(toy_gpkg)
    _same_zoning(fresh, first)
    _same_zoning(fresh, second)
    assert_same_result(screen(toy_sites(), fresh), screen(toy_sites(), second))
    assert not list(root.glob(".*.part"))  # no temporary leftovers


@pytest.mark.slow
def test_cache_rebuilds_corrupt_and_ignores_changed_inputs(toy_gpkg: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "cache"
    info: dict = {}
    load_zoning_cached(toy_gpkg, root=root, info=info)
    entry = root / info["key"]
    next(entry.glob("*.parquet")).write_bytes(b"garbage")
    z = load_zoning_cached(toy_gpkg, root=root, info=info)
    assert info["status"] == "rebuilt"
    _same_zoning(load_zoning(toy_gpkg), z)
    (entry / "meta.json").write_text("{", encoding="utf-8")
    load_zoning_cached(toy_gpkg, root=root, info=info)
    assert info["status"] == "rebuilt"
    # A changed input file is a different key: never served from the old entry.
    copy = tmp_path / "toy.gpkg"
    shutil.copy(toy_gpkg, copy)
    key_before = cache_key(copy)
    from conftest import toy_layers

    changed = toy_layers()["redline"].iloc[:1]
    changed.to_file(copy, layer="生态保护红线", driver="GPKG")  # overwrite one layer
    assert cache_key(copy) != key_before
    z2 = load_zoning_cached(copy, root=root, info=info)
    assert info["status"] == "miss" and len(z2["redline"]) == 1
    # use_cache=False neither reads nor writes.
    off = tmp_path / "off"
    load_zoning_cached(toy_gpkg, root=off, use_cache=False, info=info)
    assert info["status"] == "off" and not off.exists()


def test_cache_replays_load_warnings(tmp_path: Path) -> None:
    from conftest import toy_layers

    from spatial.errors import GeometryRepairWarning

    layers = toy_layers()
    bow = shapely.Polygon([(400_000, 2_740_000), (401_000, 2_741_000), (401_000, 2_740_000), (400_000, 2_741_000)])  # self-crossing
    layers["farmland"] = gpd.GeoDataFrame({"BSM": ["BAD"]}, geometry=[bow], crs="EPSG:4547")
    path = tmp_path / "z.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    for status in ("miss", "hit"):
        info: dict = {}
        with pytest.warns(GeometryRepairWarning):
            load_zoning_cached(path, root=tmp_path / "cache", info=info)
        assert info["status"] == status


# --------------------------------------------------------------------------- GeoParquet in and out


@pytest.mark.slow
def test_geoparquet_sites_and_outputs(tmp_path: Path, toy_gpkg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spatial.cli import cli

    monkeypatch.setenv("ECOZONE_CACHE_DIR", str(tmp_path / "cache"))
    sites = toy_sites()
    pq, gp = tmp_path / "sites.parquet", tmp_path / "sites.gpkg"
    sites.to_parquet(pq)
    sites.to_file(gp, driver="GPKG")
    z = load_zoning(toy_gpkg)
    assert_same_result(screen(pq, z), screen(gp, z))
    res = CliRunner().invoke(cli, ["screen", str(pq), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "--no-map", "--threads", "2", "--chunk-size", "300"])
    assert res.exit_code == 0, res.output
    out = gpd.read_parquet(tmp_path / "o" / "sites.parquet")  # format follows the input
    hits = gpd.read_parquet(tmp_path / "o" / "hits.parquet")
    csv = pd.read_csv(tmp_path / "o" / "sites.csv", encoding="utf-8-sig")
    assert list(out.site_id) == list(sites.site_id) == list(csv.site_id)
    assert (out.verdict.to_numpy() == csv.verdict.to_numpy()).all()
    assert len(hits) == len(pd.read_csv(tmp_path / "o" / "hits.csv", encoding="utf-8-sig"))
    assert list((tmp_path / "cache").iterdir())  # the CLI used (and filled) the zoning cache


@pytest.mark.slow
def test_two_distance_rules_on_one_layer_threaded(tmp_path: Path, toy_zoning) -> None:
    # Rules sharing a layer's prepared geometries run in one task: same answers with threads.
    from spatial.rules import default_rules_path, load_rules

    text = default_rules_path().read_text(encoding="utf-8") + (
        "\n  - id: NEAR-600\n    layer: redline\n    mode: near\n    distance_m: 600\n    verdict: notice\n"
        "  - id: BUF-WS\n    layer: water_source\n    mode: buffer\n    buffer_m: 300\n    verdict: notice\n"
    )
    (tmp_path / "r.yaml").write_text(text, encoding="utf-8")
    rules = load_rules(tmp_path / "r.yaml")
    sites = toy_sites()
    base = screen(sites, toy_zoning, rules, threads=1)
    assert {"NEAR-600", "BUF-WS"} <= set(base.hits.rule_id)
    assert_same_result(base, screen(sites, toy_zoning, rules, threads=4, chunk_size=500))
