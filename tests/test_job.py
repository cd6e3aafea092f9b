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


def test_product_names_and_groups() -> None:
    from spatial.errors import InputError
    from spatial.job import ALL_PRODUCTS, parse_products

    assert parse_products("tables, gpkg") == TABLES_ONLY
    assert parse_products("report") == {Product.HTML, Product.DOCX, Product.XLSX, Product.PDF, Product.FIGURES}
    assert parse_products("all,report-full") == ALL_PRODUCTS | {Product.REPORT_FULL}
    assert Product.REPORT_FULL not in ALL_PRODUCTS
    with pytest.raises(InputError, match="report-full"):
        parse_products("tabels")
    with pytest.raises(InputError):
        parse_products("report-full")  # a modifier alone writes nothing


@pytest.mark.parametrize("full", [False, True])
def test_summary_report_above_the_threshold(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch, full: bool) -> None:
    monkeypatch.setattr(jobs, "SUMMARY_SITES", 2)  # three sites are "many"
    monkeypatch.setattr(jobs, "SUMMARY_SECTIONS", 1)  # and one section is all a summary gets
    products = {Product.HTML, Product.DOCX, Product.XLSX} | ({Product.REPORT_FULL} if full else set())
    sites = gpd.GeoDataFrame(
        {"编号": ["OUT", "RL", "FREE"], "类型": ["化工", "化工", "商业"]},
        # wholly off the map (待核实); inside the red line (不符合); inside the development boundary (符合)
        geometry=[km_point(60, 60), km_point(3.5, 3.5), km_point(7, 15)],
        crs=TOY_CRS,
    )
    job = ScreeningJob(sites, toy_zoning, options=SiteOptions(id_field="编号", type_field="类型"), products=products)
    notes: list[str] = []
    outcome = job.run(tmp_path / "out", notify=notes.append)
    verdicts = dict(zip(outcome.result.sites["site_id"], outcome.result.sites["verdict"], strict=True))
    assert verdicts == {"OUT": "notice", "RL": "prohibited", "FREE": "compatible"}
    html = outcome.files["html"].read_text(encoding="utf-8")
    sections = {s for s in verdicts if f'<section class="site" id="site-{s}"' in html}
    # the worst site gets the one section; the printed summary table lists the sites with a section
    assert sections == (set(verdicts) if full else {"RL"})
    assert {s for s in verdicts if f'data-site="{s}"' in html} == sections
    assert ("摘要报告" in html) is not full and (any("summary report" in n for n in notes)) is not full
    if not full:
        assert "共 3 个地块" in html and "前 1 个逐个分析，其余 1 个" in html
    import docx
    import pandas as pd

    text = "\n".join(p.text for p in docx.Document(str(outcome.files["docx"])).paragraphs)
    assert ("摘要报告" in text) is not full
    assert ("FREE" in text) is full
    sheet = pd.read_excel(outcome.files["xlsx"], sheet_name="汇总")
    assert sheet["地块编号"].tolist() == ["OUT", "RL", "FREE"]  # every site in the tables, in input order
    assert sheet["符合性结论"].tolist() == ["待核实", "不符合", "符合"]


def test_summary_sections_are_the_worst_sites_in_input_order() -> None:
    import pandas as pd

    from maps.summary import section_ids

    sites = pd.DataFrame({"site_id": list("abcdef"), "verdict": ["notice", "compatible", "prohibited", "restricted", "prohibited", "notice"]})
    assert section_ids(sites, 10) == ["a", "c", "d", "e", "f"]  # every site that is not 符合, input order
    assert section_ids(sites, 3) == ["c", "d", "e"]  # 禁止 first, then 限制
    assert section_ids(sites, 0) == []


def test_job_reports_its_stages_in_order_with_fractions(tmp_path: Path, toy_zoning) -> None:
    from spatial.job import STAGES

    seen: list[tuple[str, float]] = []
    products = {Product.TABLES, Product.GPKG, Product.MAP, Product.HTML, Product.FIGURES}
    job = ScreeningJob(_sites(), toy_zoning, options=SiteOptions(id_field="编号", type_field="类型"), products=products)
    job.run(tmp_path / "out", on_stage=lambda s, f: seen.append((s, f)))
    order = list(dict.fromkeys(s for s, _ in seen))
    assert order == list(STAGES) == ["read", "screen", "draw", "report"]
    for stage in STAGES:
        fr = [f for s, f in seen if s == stage]
        assert fr[0] == 0.0 and fr[-1] == 1.0 and fr == sorted(fr), (stage, fr)
    # the 附图 move the draw stage one figure at a time: overview, group maps, two insets
    assert len([f for s, f in seen if s == "draw"]) >= 2 + 1 + 2
    # tables only: no drawing stage
    seen.clear()
    ScreeningJob(_sites(), toy_zoning, options=SiteOptions(id_field="编号", type_field="类型"), products=TABLES_ONLY).run(
        tmp_path / "t", on_stage=lambda s, f: seen.append((s, f))
    )
    assert list(dict.fromkeys(s for s, _ in seen)) == ["read", "screen", "report"]
