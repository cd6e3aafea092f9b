"""The screening job: verdicts first, then exactly the products asked for, as one output set."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from conftest import TOY_CRS, km_point

from spatial import job as jobs
from spatial.job import TABLES_ONLY, Product, ScreeningJob
from spatial.output import FILES
from spatial.outset import RUN_FILE
from spatial.site_options import SiteOptions


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"编号": ["RL", "FREE"], "类型": ["化工", "商业"]},
        geometry=[km_point(3.5, 3.5), km_point(18, 12)],  # inside the red line; open country
        crs=TOY_CRS,
    )


def test_screen_gives_verdicts_and_writes_nothing(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    job = ScreeningJob(_sites(), toy_zoning, options=SiteOptions(id_field="编号", type_field="类型"))
    result = job.screen()
    assert dict(zip(result.sites["site_id"], result.sites["verdict"], strict=True))["RL"] == "prohibited"
    assert list(tmp_path.iterdir()) == []


def test_run_writes_only_the_products_asked_for(tmp_path: Path, toy_zoning) -> None:
    job = ScreeningJob(_sites(), toy_zoning, options=SiteOptions(id_field="编号", type_field="类型"), products=TABLES_ONLY)
    outcome = job.run(tmp_path / "out")
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {FILES[k].name for k in ("sites_csv", "hits_csv", "rules_csv", "screening_gpkg")} | {RUN_FILE}
    assert set(outcome.files) == {"sites_csv", "hits_csv", "rules_csv", "screening_gpkg"}
    assert all(p.parent == tmp_path / "out" and p.exists() for p in outcome.files.values())


def test_too_many_sites_skip_the_drawn_products_with_a_note(toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "MAP_MAX_SITES", 1)
    job = ScreeningJob(_sites(), toy_zoning, options=SiteOptions(type_field="类型"))
    result = job.screen()
    products, notes = job.drawn(result)
    assert products == TABLES_ONLY == {Product.TABLES, Product.GPKG} and notes and "map.html" in notes[0]


def test_unknown_engine_and_major_project_on_dask_are_refused_before_any_work() -> None:
    from spatial.errors import InputError
    from spatial.screening import RunOptions

    with pytest.raises(InputError, match="spark"):
        ScreeningJob("sites.csv", run_options=RunOptions(engine="spark"))
    with pytest.raises(InputError, match="--major-project"):
        RunOptions(engine="dask", major_project="yes")
