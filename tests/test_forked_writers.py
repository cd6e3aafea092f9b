"""Writers forked beside the report: the same files, the copy's warnings and errors come back, no silent loss."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import TOY_CRS, km_point

from spatial import job as jobs
from spatial.engine.parallel import ForkedWorkLost, fork_is_safe, start_forked
from spatial.errors import DataWarning, InputError
from spatial.job import Product, ScreeningJob
from spatial.site_options import SiteOptions

forks = pytest.mark.skipif(not fork_is_safe() or (os.cpu_count() or 1) < 2, reason="no fork here (or one core)")


def _pid_and_warn() -> int:
    warnings.warn("子进程警告 from the copy", DataWarning, stacklevel=1)
    return os.getpid()


def _fails() -> None:
    raise InputError("第 3 行坐标无效 / row 3: bad coordinates")


def _dies() -> None:
    os._exit(3)


@forks
def test_the_copy_runs_elsewhere_and_its_warnings_come_back() -> None:
    wait = start_forked(_pid_and_warn)
    with pytest.warns(DataWarning, match="子进程警告"):
        pid = wait()
    assert pid != os.getpid()


@forks
def test_the_copys_error_is_raised_here_and_a_lost_copy_is_said() -> None:
    with pytest.raises(InputError, match="第 3 行"):
        start_forked(_fails)()
    with pytest.raises(ForkedWorkLost, match="退出码 3"):
        start_forked(_dies)()


def test_work_not_worth_a_fork_runs_here_when_waited() -> None:
    wait = start_forked(os.getpid, worth=False)
    assert wait is os.getpid and wait() == os.getpid()


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.suffix in (".csv",)}


@forks
@pytest.mark.slow
def test_forked_tables_and_map_equal_the_ones_written_here(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch large enough to fork its map and tables gets the same tables and a map, with the report beside them."""
    sites = gpd.GeoDataFrame(
        {"编号": [f"S{i}" for i in range(12)], "类型": ["化工", "商业", "住宅"] * 4},
        geometry=[km_point(1 + i * 1.5, 1 + (i % 5) * 2.5) for i in range(12)],
        crs=TOY_CRS,
    )
    products = {Product.TABLES, Product.GPKG, Product.MAP, Product.HTML}
    opts = SiteOptions(id_field="编号", type_field="类型")
    here = ScreeningJob(sites, toy_zoning, options=opts, products=products).run(tmp_path / "here")
    monkeypatch.setattr(jobs, "FORK_WRITERS_SITES", 1)
    forked = ScreeningJob(sites, toy_zoning, options=opts, products=products).run(tmp_path / "forked")
    assert set(forked.files) == set(here.files) >= {"map", "html", "sites_csv", "hits_csv"}
    a, b = _digests(tmp_path / "here"), _digests(tmp_path / "forked")
    assert a == b and {"sites.csv", "hits.csv", "rules.csv"} <= set(a)
    assert (tmp_path / "forked" / "map.html").stat().st_size > 10_000


def test_frozen_heap_is_reentrant_and_unfreezes_at_the_end() -> None:
    """Nested blocks (a report around a fork) stay frozen until the outermost ends; then nothing is left frozen."""
    import gc

    from spatial.engine.parallel import frozen_heap

    assert gc.get_freeze_count() == 0
    keep = [[i] for i in range(1000)]  # objects alive before the block
    with frozen_heap():
        outer = gc.get_freeze_count()
        assert outer >= len(keep)
        with frozen_heap():
            assert gc.get_freeze_count() >= outer
        assert gc.get_freeze_count() >= outer  # the inner block's end does not unfreeze the outer one
    assert gc.get_freeze_count() == 0
    assert len(keep) == 1000
