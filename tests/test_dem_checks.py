"""DEMs are checked before use (issue 22): CRS over the boundary, valid-cell coverage, resolution.

Every DEM is written in code with rasterio over the toy county (20 km square,
EPSG:4547): the three that used to pass silently (all nodata, one 30 m pixel,
the right numbers labelled EPSG:3857) now exit 2 naming the file, its extent,
its CRS and the coverage; a partly covered county gets a 坡度未知 class.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from click.testing import CliRunner
from conftest import ORIGIN, write_toy_gpkg
from pyproj import Transformer

from spatial.cli import cli
from spatial.errors import DataWarning, InputError
from spatial.terrain import load_terrain_for_zoning

SIZE = 20_000.0  # the toy county's side (m)


def _write(path: Path, z: np.ndarray, transform: Affine, crs: str, nodata: float = -9999.0) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1, dtype="float32",
                       crs=crs, transform=transform, nodata=nodata) as dst:  # fmt: skip
        dst.write(z.astype("float32"), 1)
    return path


def _plane(res: float, x0: float, x1: float, y0: float, y1: float, slope_deg: float = 5.0) -> tuple[np.ndarray, Affine]:
    """A plane rising east at ``slope_deg`` over [x0, x1] x [y0, y1] (EPSG:4547 metres)."""
    nx, ny = int(np.ceil((x1 - x0) / res)), int(np.ceil((y1 - y0) / res))
    x = x0 + (np.arange(nx) + 0.5) * res
    z = np.tile(100.0 + np.tan(np.radians(slope_deg)) * (x - x0), (ny, 1))
    return z, Affine(res, 0, x0, 0, -res, y1)


def _county_dem(tmp: Path, res: float = 100.0, west_fraction: float = 1.0, steep: float = 5.0) -> Path:
    ox, oy = ORIGIN
    z, t = _plane(res, ox - 500, ox + SIZE + 500, oy - 500, oy + SIZE + 500, steep)
    if west_fraction < 1.0:  # nodata east of the cut
        xs = t.c + (np.arange(z.shape[1]) + 0.5) * res
        z[:, xs > ox + west_fraction * SIZE] = -9999.0
    return _write(tmp / "dem.tif", z, t, "EPSG:4547")


def _run(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(cli, args)
    assert "Traceback" not in res.output and "validate" not in res.output, res.output
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def toy_pkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_gpkg(tmp_path_factory.mktemp("dem_zoning") / "zoning.gpkg")


def _all_nodata(tmp: Path) -> Path:
    ox, oy = ORIGIN
    z, t = _plane(100.0, ox - 500, ox + SIZE + 500, oy - 500, oy + SIZE + 500)
    return _write(tmp / "nodata.tif", np.full_like(z, -9999.0), t, "EPSG:4547")


def _one_pixel(tmp: Path) -> Path:
    ox, oy = ORIGIN
    return _write(tmp / "pixel.tif", np.array([[250.0]]), Affine(30.0, 0, ox + SIZE / 2, 0, -30.0, oy + SIZE / 2), "EPSG:4547")


def _degrees_as_3857(tmp: Path) -> Path:
    """Right numbers (CGCS2000 lon/lat grid over the county) labelled EPSG:3857."""
    tr = Transformer.from_crs("EPSG:4547", "EPSG:4490", always_xy=True)
    ox, oy = ORIGIN
    lon0, lat0 = tr.transform(ox - 500, oy - 500)
    lon1, lat1 = tr.transform(ox + SIZE + 500, oy + SIZE + 500)
    step = 0.001
    nx, ny = int((lon1 - lon0) / step) + 1, int((lat1 - lat0) / step) + 1
    z = np.tile(100.0 + np.arange(nx) * 2.0, (ny, 1))
    return _write(tmp / "wrong_crs.tif", z, Affine(step, 0, lon0, 0, -step, lat1), "EPSG:3857")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("build", "crs", "cover"),
    [(_all_nodata, "EPSG:4547", "0.0%"), (_one_pixel, "EPSG:4547", "0.0%"), (_degrees_as_3857, "EPSG:3857", "0.0%")],
    ids=["all_nodata", "one_30m_pixel", "degrees_labelled_3857"],
)
@pytest.mark.parametrize("command", ["suitability", "alternatives"])
def test_dem_not_covering_the_county_exits_2(build, crs, cover, command, toy_pkg, tmp_path, hash_tree) -> None:
    """Exit 2 naming the file, its extent, its CRS and the coverage found; nothing written; inputs untouched."""
    src = tmp_path / "in"
    src.mkdir()
    dem = build(src)
    (src / "site.csv").write_text("site_id,lon,lat\nA,113.1,24.85\n", encoding="utf-8")
    before = hash_tree(src)
    out = tmp_path / "out"
    args = ["-t", "住宅", "-z", str(toy_pkg), "--dem", str(dem), "--out", str(out), "--no-map"]
    if command == "alternatives":
        args = [str(src / "site.csv"), *args]
    code, text = _run([command, *args])
    assert code == 2, text
    with rasterio.open(dem) as ds:
        left = f"{ds.bounds.left:.6g}"
    assert dem.name in text and left in text and crs in text and cover in text and "--dem-min-coverage" in text
    assert not out.exists() or not any(out.iterdir())
    assert hash_tree(src) == before


def test_covering_dem_passes_with_its_coverage(toy_zoning, tmp_path) -> None:
    t = load_terrain_for_zoning(_county_dem(tmp_path), toy_zoning)
    assert t.coverage == pytest.approx(1.0, abs=1e-9)
    slope = t.slope[~np.isnan(t.slope)]
    assert np.allclose(slope, 5.0, atol=0.01)


def test_coverage_is_measured_and_the_threshold_is_an_option(toy_zoning, tmp_path) -> None:
    """West 60 % covered: refused at the default 95 %, accepted at 0.5 with coverage ~0.6."""
    dem = _county_dem(tmp_path, west_fraction=0.6)
    with pytest.raises(InputError, match=r"60\.\d%.*95%"):
        load_terrain_for_zoning(dem, toy_zoning)
    t = load_terrain_for_zoning(dem, toy_zoning, min_coverage=0.5)
    assert t.coverage == pytest.approx(0.6, abs=0.01)


def test_coarse_dem_warns(toy_zoning, tmp_path) -> None:
    with pytest.warns(DataWarning, match=r"250 m.*粗于 100 m"):
        load_terrain_for_zoning(_county_dem(tmp_path, res=250.0), toy_zoning)


def test_memory_checked_before_the_dem_is_read(toy_zoning, tmp_path, monkeypatch) -> None:
    """With too little memory free the DEM is refused as 数据量过大 before it is read."""
    import spatial.budget

    monkeypatch.setattr(spatial.budget, "available_memory", lambda: 1000)
    with pytest.raises(InputError, match=r"数据量过大.*dem\.tif.*--dem"):
        load_terrain_for_zoning(_county_dem(tmp_path), toy_zoning)


@pytest.mark.slow
def test_partly_covered_county_gets_slope_unknown_class(toy_zoning, tmp_path) -> None:
    """No DEM east of x = 12 km: that part is 坡度未知 (never 符合 by slope), the west keeps its classes."""
    from spatial.rules import load_rules
    from spatial.suitability import suitability

    t = load_terrain_for_zoning(_county_dem(tmp_path, west_fraction=0.6), toy_zoning, min_coverage=0.5)
    s = suitability(toy_zoning, load_rules(), "住宅", terrain=t)
    ox, oy = ORIGIN
    east = shapely.box(ox + 0.6 * SIZE + 300, oy, ox + SIZE, oy + SIZE)
    west = shapely.box(ox, oy, ox + 0.6 * SIZE - 300, oy + SIZE)
    cls = s.areas["class"].to_numpy()
    geoms = np.asarray(s.areas.geometry.values, dtype=object)
    comp = shapely.union_all(geoms[cls == "compatible"])
    unknown = shapely.union_all(geoms[cls == "slope_unknown"])
    assert shapely.area(shapely.intersection(comp, east)) < 1.0  # nothing 符合 where the slope is unknown
    assert shapely.area(shapely.intersection(unknown, west)) < 1.0
    # exactly what would be 符合/关注 there without a DEM (the 2 km² development-boundary patch) is 坡度未知
    base = suitability(toy_zoning, load_rules(), "住宅")
    ok = shapely.union_all(np.asarray(base.areas.geometry.values, dtype=object)[base.areas["class"].isin(["compatible", "notice"]).to_numpy()])
    want = shapely.area(shapely.intersection(ok, east))
    assert want > 1e6
    assert shapely.area(shapely.intersection(unknown, east)) == pytest.approx(want, rel=0.01)
    assert set(s.areas.loc[s.areas["class"] == "slope_unknown", "verdict"]) <= {"notice"}
    assert any("坡度未知" in n for n in s.notes)
    assert "slope_unknown" in set(s.table["class"])


@pytest.mark.slow
def test_alternatives_without_dem_data_are_not_compatible(toy_zoning, tmp_path) -> None:
    """Candidates where a partly covering DEM has no data are at least 关注, with the SLOPE-NODATA finding."""
    from conftest import km_point

    from spatial.alternatives import find_alternatives
    from spatial.rules import load_rules

    t = load_terrain_for_zoning(_county_dem(tmp_path, west_fraction=0.6), toy_zoning, min_coverage=0.5)
    site = km_point(18.5, 19.0).buffer(50)  # in the eastern development-boundary patch, no DEM there
    res = find_alternatives(site, toy_zoning, load_rules(), "住宅", allow="notice", terrain=t, max_distance_m=3000, n=3)
    cand = res.candidates
    assert len(cand)
    unknown = cand["slope_deg"].isna().to_numpy()
    assert unknown.any()
    assert (cand.loc[unknown, "verdict"] != "compatible").all()
    assert cand.loc[unknown, "findings"].str.contains("SLOPE-NODATA").all()
