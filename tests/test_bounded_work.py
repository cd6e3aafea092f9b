"""Bounded work (issue 22): options that multiply work fail fast with an estimate, never as a zoning problem.

Inputs are built in code on the toy county (20 km square, EPSG:4547) and
hashed before and after each run.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import km_point, write_toy_gpkg

from spatial.budget import WorkLimitError, check_memory, check_raster, memory_error_message
from spatial.cli import cli

#: The CLI prints ecozone's warnings (a site far off the map warns first); the tests assert on its output.
pytestmark = pytest.mark.filterwarnings("always::spatial.errors.EcozoneWarning")


@pytest.fixture(scope="module")
def toy_pkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_gpkg(tmp_path_factory.mktemp("budget_zoning") / "zoning.gpkg")


def _site(folder: Path, x_km: float, y_km: float) -> Path:
    g = gpd.GeoDataFrame({"site_id": ["A"]}, geometry=[km_point(x_km, y_km).buffer(100)], crs=4547).to_crs(4326)
    path = folder / "site.gpkg"
    g.to_file(path, driver="GPKG")
    return path


def _run(args: list[str]) -> tuple[int, str, float]:
    t0 = time.perf_counter()
    res = CliRunner().invoke(cli, args)
    took = time.perf_counter() - t0
    assert "Traceback" not in res.output and "IndexError" not in res.output, res.output
    assert "validate" not in res.output, "a work limit is never blamed on the zoning"
    return res.exit_code, res.output, took


@pytest.mark.slow
def test_alternatives_tiny_rotate_fails_fast(toy_pkg, tmp_path, hash_tree) -> None:
    """--rotate 0.01 (18 000 rotations of every position) is refused up front, with the estimate and a step that fits."""
    src = tmp_path / "in"
    src.mkdir()
    site = _site(src, 3.5, 3.5)
    before = hash_tree(src)
    code, text, took = _run(["alternatives", str(site), "-t", "住宅", "-z", str(toy_pkg), "--rotate", "0.01", "--out", str(tmp_path / "o"), "--no-map"])
    assert code == 2, text
    assert "数据量过大" in text and "--rotate 0.01" in text and "上限" in text and "e+0" in text
    assert took < 30, f"refused only after {took:.0f} s"
    assert hash_tree(src) == before


def test_alternatives_site_far_outside_the_county(toy_pkg, tmp_path, hash_tree) -> None:
    """A site 150 km east of the county: exit 2 naming the distance and --max-distance-km, no IndexError."""
    src = tmp_path / "in"
    src.mkdir()
    site = _site(src, 170.0, 10.0)
    before = hash_tree(src)
    code, text, _ = _run(["alternatives", str(site), "-t", "住宅", "-z", str(toy_pkg), "--out", str(tmp_path / "o"), "--no-map"])
    assert code == 2, text
    assert "距分区边界 150.0 km" in text and "--max-distance-km" in text
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    assert hash_tree(src) == before


@pytest.mark.parametrize(("option", "value"), [("--n", "100000"), ("--max-distance-km", "100000")])
def test_alternatives_options_have_upper_bounds(option, value, toy_pkg, tmp_path) -> None:
    site = _site(tmp_path, 3.5, 3.5)
    code, text, _ = _run(["alternatives", str(site), "-t", "住宅", "-z", str(toy_pkg), option, value, "--out", str(tmp_path / "o"), "--no-map"])
    assert code == 2 and option in text, text


def test_suitability_tiny_resolution_fails_fast(toy_pkg, tmp_path) -> None:
    """--resolution 0.01 over a 20 km county is 4·10^12 cells: refused before any work, with a resolution that fits."""
    code, text, took = _run(["suitability", "-t", "住宅", "-z", str(toy_pkg), "--resolution", "0.01", "--out", str(tmp_path / "o"), "--no-map"])
    assert code == 2, text
    assert "数据量过大" in text and "--resolution 0.01" in text and "4e+12" in text
    assert took < 30


def test_raster_estimate_is_the_cell_count() -> None:
    assert check_raster((0.0, 0.0, 20_000.0, 10_000.0), 30.0) == 667 * 334
    with pytest.raises(WorkLimitError, match=r"--resolution 0\.5"):
        check_raster((0.0, 0.0, 200_000.0, 200_000.0), 0.5)


def test_memory_checked_before_big_allocations(monkeypatch) -> None:
    import spatial.budget

    monkeypatch.setattr(spatial.budget, "available_memory", lambda: 2_000_000_000)
    check_memory(1_000_000_000, "甲", "a", "--x")  # fits
    with pytest.raises(WorkLimitError, match=r"数据量过大：乙约需 3\.0 GB.*可用约 2\.0 GB.*--y"):
        check_memory(3_000_000_000, "乙", "b", "--y")


def test_memory_error_is_too_much_data_naming_the_option(toy_pkg, tmp_path, monkeypatch) -> None:
    """A MemoryError anywhere in a command is "数据量过大" with the options to change, not a zoning problem."""
    import spatial.alternatives

    def boom(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(spatial.alternatives, "find_alternatives", boom)
    site = _site(tmp_path, 3.5, 3.5)
    code, text, _ = _run(["alternatives", str(site), "-t", "住宅", "-z", str(toy_pkg), "--out", str(tmp_path / "o"), "--no-map"])
    assert code == 2, text
    assert "数据量过大" in text and "--rotate" in text and "--max-distance-km" in text and "不是分区数据的问题" in text
    zh, en = memory_error_message("suitability")
    assert "--resolution" in zh and "--resolution" in en
