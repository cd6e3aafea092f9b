"""Suitability partition: agreement with ``screen``, areas, slope from a DEM."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import shapely

from spatial.screening import screen
from spatial.suitability import AREA_TOLERANCE, CLASSES, suitability
from spatial.terrain import horn_slope, load_terrain


@pytest.fixture(scope="module")
def demo_zoning():
    """The bundled 连州 demo zoning."""
    from spatial.zoning import load_zoning

    return load_zoning(None)


def _points_inside(areas, n: int, seed: int, margin: float = 1.0):
    """``n`` random points inside the areas, none within ``margin`` m of an area edge."""
    g = np.asarray(areas.geometry.values, dtype=object)
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = shapely.total_bounds(g)
    pts = shapely.points(rng.uniform(xmin, xmax, 40 * n), rng.uniform(ymin, ymax, 40 * n))
    p, f = shapely.STRtree(g).query(pts, predicate="within")
    edges = shapely.boundary(g)
    shapely.prepare(edges)
    far = shapely.distance(pts[p], edges[f]) > margin
    p, f = p[far][:n], f[far][:n]
    assert len(p) == n
    return pts[p], f


@pytest.mark.slow
@pytest.mark.parametrize("ptype", ["化工", "agriculture", "tourism", "linear_infrastructure", "residential"])
def test_random_points_get_their_area_verdict(demo_zoning, ptype):
    """1,000 random interior points, screened by the engine, get the verdict of the area they fall in."""
    import geopandas as gpd

    from spatial.rules import load_rules

    rules = load_rules()
    s = suitability(demo_zoning, rules, ptype)
    pts, f = _points_inside(s.areas, 1000, seed=len(ptype))
    sites = gpd.GeoDataFrame({"site_id": [f"P{i}" for i in range(len(pts))]}, geometry=list(pts), crs=demo_zoning.crs)
    res = screen(sites, demo_zoning, rules, project_type=ptype)
    expected = s.areas["verdict"].to_numpy()[f]
    got = res.sites["verdict"].to_numpy()
    assert (got == expected).all(), res.sites.loc[got != expected, ["site_id", "verdict"]]
    # the cause rules of the area hold at the point, at its own verdict (other rules of that
    # level may also hold in part of the area: their edges are not cut inside it)
    hits = res.hits[res.hits["verdict"] == res.sites.set_index("site_id").loc[res.hits["site_id"], "verdict"].to_numpy()]
    causes = hits.groupby("site_id")["rule_id"].agg(lambda x: set(x))
    area_cause = s.areas["cause"].to_numpy()[f]
    for i in np.flatnonzero(got != "compatible")[:200]:
        assert area_cause[i] and set(area_cause[i].split("、")) <= causes[f"P{i}"]


def test_areas_sum_to_county(demo_zoning):
    """Per-class ellipsoidal areas add up to the county's within 0.01 %, and every class is known."""
    from spatial.rules import load_rules

    s = suitability(demo_zoning, load_rules(), "chemical")
    total = s.table["area_km2"].sum() * 1e6
    assert abs(total - s.county_m2) / s.county_m2 < AREA_TOLERANCE
    assert abs(s.table["pct"].sum() - 100.0) < 100 * AREA_TOLERANCE
    assert set(s.table["class"]) <= set(CLASSES)
    assert {"prohibited", "compatible"} <= set(s.table["class"])
    # areas are disjoint: the dissolved union has the same planar area as the parts
    g = np.asarray(s.areas.geometry.values, dtype=object)
    assert shapely.area(shapely.union_all(g)) == pytest.approx(shapely.area(g).sum(), rel=1e-9)


def test_unknown_type_is_named(demo_zoning):
    """An unknown --project-type is an error naming it."""
    from spatial.errors import InputError
    from spatial.rules import load_rules

    with pytest.raises(InputError, match="不存在的类型"):
        suitability(demo_zoning, load_rules(), "不存在的类型")


@pytest.mark.parametrize("deg", [5.0, 30.0, 45.0])
def test_horn_slope_of_a_plane(deg):
    """A plane rising at a known angle has that slope everywhere, in any direction."""
    yy, xx = np.mgrid[0:20, 0:30] * 10.0
    for ax, ay in ((1, 0), (0, 1), (0.6, 0.8)):
        z = np.tan(np.radians(deg)) * (ax * xx + ay * yy)
        assert np.allclose(horn_slope(z, 10.0, -10.0), deg)


def _write_dem(path, z, transform, crs):
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1, dtype="float32",
                       crs=crs, transform=transform, nodata=-9999) as dst:  # fmt: skip
        dst.write(z.astype("float32"), 1)


def test_projected_dem_steep_half_becomes_slope_class(demo_zoning, tmp_path):
    """A DEM whose east half rises at 30° and west half at 10°: the east half is 限制（坡度>25°） where rules allow."""
    from affine import Affine

    from spatial.rules import load_rules

    xmin, ymin, xmax, ymax = demo_zoning.layers["boundary"].total_bounds
    res = 100.0
    nx, ny = int((xmax - xmin) / res) + 2, int((ymax - ymin) / res) + 2
    x = xmin - res + np.arange(nx) * res
    mid = (xmin + xmax) / 2
    # piecewise plane in x: 10° west of mid, 30° east of it (continuous at mid)
    z = np.where(x < mid, np.tan(np.radians(10)) * (x - mid), np.tan(np.radians(30)) * (x - mid))
    z = np.tile(z + 1000.0, (ny, 1))
    dem = tmp_path / "dem.tif"
    _write_dem(dem, z, Affine(res, 0, xmin - res, 0, -res, ymax + res), demo_zoning.crs.to_wkt())
    terrain = load_terrain(dem, demo_zoning.crs)
    s = suitability(demo_zoning, load_rules(), "tourism", terrain=terrain, max_slope=25)
    assert "restricted_slope" in set(s.table["class"])
    assert any("坡度>25°" in n for n in s.notes)
    steep = s.areas[s.areas["class"] == "restricted_slope"]
    cx = shapely.centroid(np.asarray(steep.geometry.values, dtype=object))
    assert (shapely.get_x(cx) > mid - 2 * res).all()
    assert steep["rules"].str.contains("SLOPE").all()
    # nothing west of mid (10°) is in the slope class, and no 符合 remains east of mid
    comp = shapely.union_all(np.asarray(s.areas.geometry.values[s.areas["class"] == "compatible"], dtype=object))
    east = shapely.box(mid + 2 * res, ymin, xmax, ymax)
    assert shapely.area(shapely.intersection(comp, east)) < 1.0
    total = s.table["area_km2"].sum() * 1e6
    assert abs(total - s.county_m2) / s.county_m2 < AREA_TOLERANCE


def test_geographic_dem_is_reprojected_before_slope(demo_zoning, tmp_path):
    """A DEM in CGCS2000 degrees describing a 30° plane in metres gives ~30° after reprojection."""
    from affine import Affine
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4490", demo_zoning.crs, always_xy=True)
    lon0, lat0, step = 112.30, 24.80, 0.001
    lon = lon0 + np.arange(120) * step + step / 2
    lat = lat0 - np.arange(100) * step - step / 2
    lo, la = np.meshgrid(lon, lat)
    x, _ = tr.transform(lo, la)
    z = np.tan(np.radians(30)) * (x - x.min())
    dem = tmp_path / "dem_geo.tif"
    _write_dem(dem, z, Affine(step, 0, lon0, 0, -step, lat0), "EPSG:4490")
    from spatial.errors import DataWarning

    with pytest.warns(DataWarning, match="105 m.*粗于 100 m"):  # 0.001° is ~105 m here: slope is still right on a plane
        t = load_terrain(dem, demo_zoning.crs)
    assert not t.crs.is_geographic
    inner = t.slope[5:-5, 5:-5]
    inner = inner[np.isfinite(inner)]
    assert np.median(inner) == pytest.approx(30.0, abs=0.5)


def test_tiles_give_the_same_areas(demo_zoning):
    """Working in 8 km tiles (as on a province) changes no class area and keeps the areas dissolved."""
    from spatial.rules import load_rules

    rules = load_rules()
    whole = suitability(demo_zoning, rules, "tourism")
    tiled = suitability(demo_zoning, rules, "tourism", tile_m=8000.0, threads=2)
    a = whole.table.set_index("class")["area_km2"]
    b = tiled.table.set_index("class")["area_km2"]
    assert list(a.index) == list(b.index)
    assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-7, atol=1e-6)
    assert tiled.faces > whole.faces

    def groups(s):
        big = s.areas[s.areas["area_m2"] >= 1.0]
        return set(zip(big["class"], big["rules"], strict=True))

    assert groups(tiled) == groups(whole)


@pytest.mark.slow
def test_two_step_buffer_stays_at_the_true_distance():
    """A wiggly polygon (and a ring holding it) buffered by 500 m in two steps: the edge stays at the true distance.

    Outward, GEOS's own buffer may fill notches shallower than 1 % of the distance (0.63 m
    here, at the ring's wiggly hole, in one step as in two); the agreement test's 1 m margin
    is the bound.  Inward only the arc chords (4 steps' worth of ARC_TOLERANCE_M) remain.
    """
    from spatial.suitability import ARC_TOLERANCE_M, offset_buffer

    rng = np.random.default_rng(3)
    t = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    r = 3000 + 400 * np.sin(7 * t) + rng.normal(0, 25, len(t))
    wiggly = shapely.Polygon(np.column_stack([r * np.cos(t), r * np.sin(t)]))
    holed = shapely.Polygon(shapely.get_coordinates(shapely.buffer(wiggly, 2000).exterior), [shapely.get_coordinates(wiggly.exterior)[::-1]])
    g = np.array([wiggly, holed], dtype=object)
    b = offset_buffer(g, np.array([500.0, 500.0]))
    edge = shapely.segmentize(shapely.boundary(b), 1.0)
    xy, own = shapely.get_coordinates(edge, return_index=True)
    d = shapely.distance(shapely.points(xy), g[own])
    direct = shapely.buffer(g, 500.0, quad_segs=64)
    dxy, down = shapely.get_coordinates(shapely.segmentize(shapely.boundary(direct), 1.0), return_index=True)
    worst_direct = shapely.distance(shapely.points(dxy), g[down]).max()
    assert d.max() <= max(worst_direct, 500.0) + 0.05  # never worse than a one-step buffer
    assert d.max() < 501.0
    assert d.min() >= 500 - 4 * ARC_TOLERANCE_M


@pytest.mark.slow
@pytest.mark.parametrize("ptype", ["chemical", "tourism"])
def test_levels_equal_the_exhaustive_partition(demo_zoning, ptype):
    """Cutting milder edges only where no worse verdict holds changes no class area, with fewer faces."""
    from spatial.rules import load_rules

    rules = load_rules()
    old = suitability(demo_zoning, rules, ptype, method="exhaustive")
    new = suitability(demo_zoning, rules, ptype)
    a = old.table.set_index("class")["area_km2"]
    b = new.table.set_index("class")["area_km2"]
    assert list(a.index) == list(b.index)
    assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-7, atol=1e-6)
    assert new.faces < old.faces
    # inside the worst areas the NEAR buffers are never drawn, so NEAR is not listed there
    worst = new.areas["verdict"] == "prohibited"
    assert worst.any() and not new.areas.loc[worst, "rules"].str.contains("NEAR").any()
    assert old.areas.loc[old.areas["verdict"] == "prohibited", "rules"].str.contains("NEAR").any()
    assert new.tolerance_m > 0 and any(f"{new.tolerance_m:g} m" in n for n in new.notes)


def test_vertex_tiles_hold_bounded_vertices():
    """Tiles are split until each holds at most the vertex budget (or reaches the smallest size), and cover the county."""
    from spatial.suitability import TILE_MIN_M, vertex_tiles

    county = shapely.box(0, 0, 100_000, 40_000)
    rng = np.random.default_rng(5)
    # dense rings in one corner, sparse elsewhere
    cx = np.r_[rng.uniform(0, 10_000, 400), rng.uniform(0, 100_000, 40)]
    cy = np.r_[rng.uniform(0, 10_000, 400), rng.uniform(0, 40_000, 40)]
    edges = shapely.boundary(shapely.buffer(shapely.points(cx, cy), 200.0, quad_segs=64))
    tiles = vertex_tiles(county, edges, max_vertices=5_000)
    assert len(tiles) > 4
    assert shapely.area(shapely.intersection(shapely.union_all(tiles), county)) == pytest.approx(county.area)
    assert sum(shapely.area(tiles)) == pytest.approx(shapely.area(shapely.union_all(tiles)))  # no overlaps
    b = shapely.bounds(edges)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    n = shapely.get_num_coordinates(edges)
    for t in tiles:
        x0, y0, x1, y1 = t.bounds
        inside = (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
        assert n[inside].sum() <= 5_000 or max(x1 - x0, y1 - y0) <= TILE_MIN_M + 1.0


@pytest.mark.slow
def test_dask_tiles_give_the_same_classes(demo_zoning):
    """Tiles noded on a 2-worker Dask cluster (given by its scheduler address) give the local classes."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    from spatial.rules import load_rules

    rules = load_rules()
    local = suitability(demo_zoning, rules, "tourism", tile_m=8000.0, threads=1)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=40
    ) as cluster:
        remote = suitability(demo_zoning, rules, "tourism", tile_m=8000.0, threads=1, scheduler=cluster.scheduler_address)
        assert "node_faces" in cluster.scheduler.task_prefixes  # the tiles really went to the workers
    a = local.table.set_index("class")["area_km2"]
    b = remote.table.set_index("class")["area_km2"]
    assert list(a.index) == list(b.index)
    assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-9)
    assert remote.faces == local.faces
    key = ["class", "rules"]
    assert local.areas[key].sort_values(key).to_numpy().tolist() == remote.areas[key].sort_values(key).to_numpy().tolist()


def test_equal_area_is_the_geodesic_area():
    """Areas through the equal-area projection agree with Karney's geodesic areas within 1e-8 (holes, far from the centre)."""
    from spatial.measure import ellipsoidal_area, equal_area

    rng = np.random.default_rng(11)
    t = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    out = []
    for cx, cy in rng.uniform([100_000, 2_300_000], [800_000, 2_800_000], (12, 2)):  # EPSG:4547, across Guangdong
        r = 5_000 + 1_500 * np.sin(5 * t) + rng.normal(0, 50, len(t))
        shell = np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t)])
        hole = np.column_stack([cx + 1_000 * np.cos(t), cy + 1_000 * np.sin(t)])[::-1]
        out.append(shapely.Polygon(shell, [hole]))
    g = shapely.orient_polygons(np.array(out, dtype=object))
    a, b = ellipsoidal_area(g, "EPSG:4547"), equal_area(g, "EPSG:4547")
    assert np.allclose(a, b, rtol=1e-8, atol=0)
    assert not np.allclose(b, shapely.area(g), rtol=1e-5)  # the projected area differs: this is really ellipsoidal


@pytest.mark.slow
def test_batches_give_the_same_partition(demo_zoning):
    """Taking the tiles through the levels in small batches changes no face, verdict or area."""
    from spatial.rules import load_rules
    from spatial.suitability import iter_levels, partition_levels, resolve_rules

    rules = resolve_rules(load_rules(), demo_zoning)
    one = partition_levels(demo_zoning, rules, "tourism", tile_m=8000.0, threads=1, batch_vertices=10**9)
    assert len(list(iter_levels(demo_zoning, rules, "tourism", tile_m=8000.0, threads=1, batch_vertices=10**9))) == 1
    many = partition_levels(demo_zoning, rules, "tourism", tile_m=8000.0, threads=1, batch_vertices=150_000)
    assert len(set(many.tile.tolist())) > 4
    assert len(one.faces) == len(many.faces)

    batches = list(iter_levels(demo_zoning, rules, "tourism", tile_m=8000.0, threads=1, batch_vertices=150_000))
    assert len(batches) > 1 and sum(len(b.faces) for b in batches) == len(many.faces)

    def by_verdict(lv):
        return {v: float(shapely.area(lv.faces[lv.verdicts == v]).sum()) for v in set(lv.verdicts)}

    a, b = by_verdict(one), by_verdict(many)
    assert a.keys() == b.keys()
    assert all(b[v] == pytest.approx(a[v], rel=1e-9, abs=1e-3) for v in a)


@pytest.mark.slow
def test_raster_overview_agrees_with_the_partition_at_cell_centres(demo_zoning):
    """--raster-only: every cell takes the engine's class at its centre, the class of the exact area holding that centre."""
    from spatial.rules import load_rules
    from spatial.suitability_raster import raster_suitability

    rules = load_rules()
    res = 800.0
    grid = raster_suitability(demo_zoning, rules, "tourism", res)
    exact = suitability(demo_zoning, rules, "tourism")
    rows, cols = np.nonzero(grid.codes)
    assert grid.cells == len(rows) > 1000
    pts = shapely.points(grid.transform.c + (cols + 0.5) * res, grid.transform.f - (rows + 0.5) * res)
    geoms = np.asarray(exact.areas.geometry.values, dtype=object)
    p, f = shapely.STRtree(geoms).query(pts, predicate="within")
    edges = shapely.boundary(geoms)
    far = shapely.distance(pts[p], edges[f]) > exact.tolerance_m  # a centre on an area edge may go either way
    want = np.array([CLASSES.index(c) + 1 for c in exact.areas["class"].to_numpy()[f]])
    assert far.sum() > 0.95 * len(rows)
    assert (grid.codes[rows[p], cols[p]][far] == want[far]).all()
    # class areas: right to about half a cell along the edges; the cells add up to themselves
    assert grid.table["area_km2"].sum() * 1e6 == pytest.approx(grid.cells_m2, rel=1e-12)
    assert grid.cells_m2 == pytest.approx(grid.county_m2, rel=0.01)
    a = exact.table.set_index("class")["area_km2"]
    b = grid.table.set_index("class")["area_km2"]
    assert set(b.index) <= set(a.index)
    assert np.allclose(b.reindex(a.index).fillna(0).to_numpy(), a.to_numpy(), rtol=0.2, atol=10.0)


def test_raster_only_cli_writes_the_grid_and_table(tmp_path):
    """``ecozone suitability --raster-only RES`` writes the GeoTIFF and CSV only, says it is approximate, and codes match the table."""
    import pandas as pd
    import rasterio
    from click.testing import CliRunner

    from spatial.cli import cli

    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["suitability", "-t", "tourism", "--zoning", "demo", "--raster-only", "1000", "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert (out / "suitability.tif").exists() and (out / "suitability.csv").exists()
    assert not (out / "suitability.gpkg").exists() and not (out / "suitability.html").exists()
    assert "approximate to one cell" in res.output
    with rasterio.open(out / "suitability.tif") as src:
        codes = src.read(1)
        assert src.res == (1000.0, 1000.0)
    table = pd.read_csv(out / "suitability.csv")
    present = set(table.loc[table["code"] > 0, "code"])
    assert set(np.unique(codes[codes > 0]).tolist()) == present


@pytest.mark.slow
def test_worker_processes_give_the_same_areas(demo_zoning):
    """Batches run in 2 forked worker processes give exactly the areas of one process."""
    from spatial.rules import load_rules

    rules = load_rules()
    kw = {"tile_m": 8000.0, "batch_vertices": 150_000}
    one = suitability(demo_zoning, rules, "tourism", processes=1, **kw)
    before = os.times()
    two = suitability(demo_zoning, rules, "tourism", processes=2, **kw)
    after = os.times()
    # the batches ran in child processes (their CPU is counted once they have ended)
    assert after.children_user + after.children_system > before.children_user + before.children_system
    assert len(one.areas) > 1 and one.areas["class"].nunique() > 1
    pd.testing.assert_frame_equal(one.areas.drop(columns="geometry"), two.areas.drop(columns="geometry"))
    assert shapely.equals_exact(np.asarray(one.areas.geometry.values), np.asarray(two.areas.geometry.values), 0.0).all()
    assert (one.faces, one.screened) == (two.faces, two.screened)
    pd.testing.assert_frame_equal(one.table, two.table)
