"""report.html / report.xlsx: every site, every hit, every touched unit's 准入清单, audit."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from conftest import km_box, km_line, km_point

from layers.control_unit import DIMENSIONS
from maps.offline import find_external_resources
from maps.report import PENDING_ZH, REPORT_TITLE, write_report
from spatial.errors import OutputExistsError

NASTY = "要求<b>不得</b>超过 5 < 6 & 7 > 3"


def _hand_result(zoning) -> SimpleNamespace:
    """A ScreeningResult-shaped object built by hand on the toy county."""
    crs = zoning.crs
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["P1", "Y2", "L3"],
            "name": ["红线内码头", None, "跨河道路"],
            "project_type": ["industrial", "electroplating", "linear_infrastructure"],
            "verdict": ["prohibited", "prohibited", "compatible"],
            "verdict_zh": ["禁止", "禁止", "符合"],
            "n_hits": [1, 1, 0],
            "summary_zh": ["禁止（RL-DEV）。", "禁止（CU-BANNED）。", "符合。"],
        },
        geometry=[km_point(3.5, 3.5), km_box(11, 1, 11.5, 1.5), km_line((5, 7), (5, 9))],
        crs=crs,
    )
    hits = pd.DataFrame(
        {
            "site_id": ["P1", "Y2"],
            "rule_id": ["RL-DEV", "CU-BANNED"],
            "layer": ["redline", "control_unit"],
            "feature_id": ["HX001", "ZH44189920001"],
            "feature_name": ["红线甲", "示例重点管控单元"],
            "verdict": ["prohibited", "prohibited"],
            "overlap_m2": [None, 250_000.0],
            "overlap_pct": [None, 100.0],
            "length_m": [None, None],
            "distance_m": [None, None],
            "basis": ["《示例规划》L1", NASTY],
            "message_zh": ["位于生态保护红线内。", "列入禁止类。"],
            "geometry": [km_point(3.5, 3.5), km_box(11, 1, 11.5, 1.5)],
        }
    )
    cu = zoning["control_unit"].set_index("code")

    def unit(site: str, code: str, **extra: object) -> dict:
        row = cu.loc[code]
        return {"site_id": site, "code": code, "name": row["name"], "category": row["category"],
                "prohibited": row["prohibited"], "requirements": None,
                **{d: row[d] for d in DIMENSIONS}, "overlap_m2": None, "overlap_pct": None, "length_m": None, **extra}  # fmt: skip

    units = pd.DataFrame(
        [
            unit("P1", "ZH44189910001"),
            unit("Y2", "ZH44189920001", overlap_m2=250_000.0, overlap_pct=100.0),
            unit("L3", "ZH44189910001", length_m=1000.0),
            unit("L3", "ZH44189930001", length_m=1000.0),
        ]
    )
    units.loc[1, "emission_control"] = NASTY
    layers = ["redline", "protected_area", "control_unit"]
    status = pd.DataFrame(
        [
            {"site_id": s, "layer": lyr, "label_zh": zoning.spec(lyr).label_zh, "involved": inv, "features": f,
             "status_zh": "涉及" if inv else "不涉及"}  # fmt: skip
            for s, lyr, inv, f in [
                ("P1", "redline", True, "红线甲"), ("P1", "protected_area", False, ""), ("P1", "control_unit", True, "示例优先保护单元"),
                ("Y2", "redline", False, ""), ("Y2", "protected_area", False, ""), ("Y2", "control_unit", True, "示例重点管控单元"),
                ("L3", "redline", False, ""), ("L3", "protected_area", False, ""), ("L3", "control_unit", True, "示例优先保护单元,示例一般管控单元一"),
            ]  # fmt: skip
            if lyr in layers
        ]
    )
    audit = {
        "ecozone_version": "0.0-test",
        "run_at": "2026-01-02T03:04:05+08:00",
        "duration_s": 0.1,
        "rules": {"catalogue_id": "ecozone-default", "sha256": "ab" * 32, "path": "rules.yaml"},
        "zoning": [{"layer": s.layer, "path": s.path, "sha256": s.sha256, "crs": s.crs, "n_features": s.n_features} for s in zoning.sources],
        "sites": {"path": "sites.geojson", "sha256": "cd" * 32, "crs": "EPSG:4326", "n_features": 3},
    }
    return SimpleNamespace(sites=sites, hits=hits, units=units, layer_status=status, audit=audit, zoning=zoning, rules=None)


def test_report_has_every_site_hit_and_unit_dimension(tmp_path: Path, toy_zoning) -> None:
    """HTML: summary + a section per site, every hit's rule, each unit's four dimension texts, audit."""
    res = _hand_result(toy_zoning)
    paths = write_report(res, tmp_path)
    assert set(paths) == {"html", "xlsx"}
    text = paths["html"].read_text(encoding="utf-8")
    assert REPORT_TITLE in text and "@page{size:A4;margin:15mm;}" in text and "Noto Sans CJK SC" in text
    assert find_external_resources(text) == []
    for sid in res.sites.site_id:
        assert f'<section class="site" id="site-{sid}"' in text
        assert f'<tr data-site="{sid}">' in text
    for rid in res.hits.rule_id:
        assert f'<tr data-rule="{rid}">' in text
    for r in res.units.to_dict("records"):
        assert f'data-unit="{r["code"]}"' in text
        for d, label in DIMENSIONS.items():
            assert label in text
            if r[d] != NASTY:
                assert r[d] in text, (r["code"], d)
    # '<' in real data is escaped, never markup
    assert NASTY not in text and "要求&lt;b&gt;不得&lt;/b&gt;超过 5 &lt; 6 &amp; 7 &gt; 3" in text
    # Y2 is banned by its key unit: the spatial-layout row is prefilled 禁止, the others 待核实
    y2 = text[text.index('id="site-Y2"') : text.index('id="site-L3"')]
    assert "禁止（项目类型“电镀”列入本单元禁止类）" in y2 and y2.count(PENDING_ZH) == 3
    # the planner's column exists and is empty
    assert y2.count('<td class="planner"></td>') == 4
    # every site section has its static SVG map, no raster, no script
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="site-map"') == 3
    assert "<script" not in text
    # audit: hashes, CRS, counts, catalogue
    for s in toy_zoning.sources:
        assert s.sha256 in text
    assert "ab" * 32 in text and "0.0-test" in text and "ecozone-default" in text


def test_report_xlsx_sheets(tmp_path: Path, toy_zoning) -> None:
    """XLSX: one sheet per table; the unit sheet has a row per dimension with an empty 项目情况."""
    res = _hand_result(toy_zoning)
    ind = pd.DataFrame(
        {"indicator": ["redline_ratio_pct"], "label_zh": ["生态保护红线占比"], "value": [12.5], "unit": ["%"],
         "target": [">= 10"], "status": ["met"]}  # fmt: skip
    )
    paths = write_report(res, tmp_path, indicators=ind)
    wb = openpyxl.load_workbook(paths["xlsx"])
    assert wb.sheetnames == ["汇总", "命中", "管控单元对照", "涉及情况", "指标", "审计"]
    summary = pd.read_excel(paths["xlsx"], sheet_name="汇总")
    assert summary["地块编号"].tolist() == ["P1", "Y2", "L3"]
    assert summary.loc[1, "名称"] == "Y2"  # missing name -> site id
    hits = pd.read_excel(paths["xlsx"], sheet_name="命中")
    assert hits["规则"].tolist() == ["RL-DEV", "CU-BANNED"]
    assert hits.loc[1, "重叠面积(公顷)"] == pytest.approx(25.0)
    units = pd.read_excel(paths["xlsx"], sheet_name="管控单元对照", keep_default_na=False)
    assert len(units) == 4 * len(res.units)
    assert set(units["管控维度"]) == set(DIMENSIONS.values())
    assert (units["项目情况"] == "").all()
    assert units["符合性结论"].str.startswith("禁止").sum() == 1
    ind_sheet = pd.read_excel(paths["xlsx"], sheet_name="指标")
    assert ind_sheet.loc[0, "状态"] == "达标"
    text = paths["html"].read_text(encoding="utf-8")
    assert "生态保护红线占比" in text and 'id="indicators"' in text


def test_report_refuses_overwrite(tmp_path: Path, toy_zoning) -> None:
    """Existing reports are kept unless forced; nothing half-written is left."""
    res = _hand_result(toy_zoning)
    paths = write_report(res, tmp_path)
    stamp = paths["html"].stat().st_mtime_ns
    with pytest.raises(OutputExistsError, match="--force"):
        write_report(res, tmp_path)
    assert paths["html"].stat().st_mtime_ns == stamp
    write_report(res, tmp_path, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.xlsx"]


def test_report_end_to_end_with_screen(tmp_path: Path, toy_zoning) -> None:
    """Real screening on the toy county: report and map list every site, hit and touched unit."""
    from maps.zoning_map import save_map
    from spatial.screening import screen

    sites = gpd.GeoDataFrame(
        {"site_id": ["RL", "BAN", "ROAD", "OK"], "project_type": ["住宅", "电镀", "道路", "商业"]},
        geometry=[km_point(3.5, 3.5), km_box(11, 1, 12, 2), km_line((1, 7), (1, 9)), km_point(18, 19)],
        crs=toy_zoning.crs,
    )
    res = screen(sites, toy_zoning)
    assert len(res.hits) >= 2
    paths = write_report(res, tmp_path)
    text = paths["html"].read_text(encoding="utf-8")
    for sid in sites.site_id:
        assert f'id="site-{sid}"' in text
    for rid in set(res.hits.rule_id):
        assert f'<tr data-rule="{rid}">' in text
    for code in set(res.units.code):
        assert f'data-unit="{code}"' in text
    ban = text[text.index('id="site-BAN"') : text.index('id="site-ROAD"')]
    assert "CU-BANNED" in ban and "列入本单元禁止类" in ban
    html = save_map(res.zoning, tmp_path / "map.html", res, basemap="none").read_text(encoding="utf-8")
    assert find_external_resources(html) == []
    for sid in sites.site_id:
        assert f'"id":"{sid}"' in html


DEMO = Path(__file__).resolve().parents[1] / "spatial" / "data"


@pytest.mark.skipif(not (DEMO / "lianzhou_sites.gpkg").exists(), reason="demo data not built")
def test_demo_report_lists_everything(tmp_path: Path) -> None:
    """The demo report contains every site, every hit and every touched unit's 准入清单."""
    from spatial.screening import screen
    from spatial.zoning import demo_sites_path, load_zoning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # demo data quirks are the data tests' business
        zoning = load_zoning()
        res = screen(demo_sites_path(), zoning)
    text = write_report(res, tmp_path)["html"].read_text(encoding="utf-8")
    sections = re.findall(r'<section class="site" id="site-([^"]+)"', text)
    assert sections == res.sites.site_id.astype(str).tolist()
    for sid, g in res.hits.groupby("site_id"):
        sec = text[text.index(f'id="site-{sid}"') :]
        sec = sec[: sec.index("</section>")]
        for rid in g.rule_id:
            assert f'<tr data-rule="{rid}">' in sec, (sid, rid)
    import html as html_lib

    for u in res.units.to_dict("records"):
        sec = text[text.index(f'id="site-{u["site_id"]}"') :]
        sec = sec[: sec.index("</section>")]
        assert f'data-unit="{u["code"]}"' in sec
        for d in DIMENSIONS:
            if isinstance(u[d], str) and u[d].strip():
                assert html_lib.escape(u[d].strip(), quote=True) in sec, (u["site_id"], u["code"], d)
