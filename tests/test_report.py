"""The report set: HTML, DOCX, XLSX, 附图 PNGs (and PDF in a real browser).

Checks the EIA format (four-column 三线一单 tables per site, conclusions, 综上),
prefilled facts with numbers, 【待填写】 cells, plain Chinese, no rule codes in
running text, no absolute paths, and that Word reads the DOCX back.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from conftest import km_box, km_line, km_point

from layers.control_unit import DIMENSIONS
from maps.eia import TO_FILL
from maps.offline import find_external_resources
from maps.report import FIGURE_DIR, PENDING_ZH, write_report
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
            {
                "site_id": s,
                "layer": lyr,
                "label_zh": zoning.spec(lyr).label_zh,
                "involved": inv,
                "features": f,
                "status_zh": "涉及" if inv else "不涉及",
            }  # fmt: skip
            for s, lyr, inv, f in [
                ("P1", "redline", True, "红线甲"),
                ("P1", "protected_area", False, ""),
                ("P1", "control_unit", True, "示例优先保护单元"),
                ("Y2", "redline", False, ""),
                ("Y2", "protected_area", False, ""),
                ("Y2", "control_unit", True, "示例重点管控单元"),
                ("L3", "redline", False, ""),
                ("L3", "protected_area", False, ""),
                ("L3", "control_unit", True, "示例优先保护单元,示例一般管控单元一"),
            ]  # fmt: skip
            if lyr in layers
        ]
    )
    audit = {
        "ecozone_version": "0.0-test",
        "run_at": "2026-01-02T03:04:05+08:00",
        "duration_s": 0.1,
        "rules": {"catalogue_id": "ecozone-default", "sha256": "ab" * 32, "path": "rules.yaml"},
        "zoning": [
            {"layer": s.layer, "path": s.path, "sha256": s.sha256, "crs": s.crs, "n_features": s.n_features}
            for s in zoning.sources
        ],
        "sites": {"path": "sites.geojson", "sha256": "cd" * 32, "crs": "EPSG:4326", "n_features": 3},
    }
    return SimpleNamespace(sites=sites, hits=hits, units=units, layer_status=status, audit=audit, zoning=zoning, rules=None)


HEADER = ["序号", "管控要求（清单内容）", "本项目情况", "符合性"]


def _rule_codes() -> re.Pattern[str]:
    from spatial.rules import load_rules

    ids = sorted((r.id for r in load_rules(None).rules), key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z0-9-])(?:" + "|".join(map(re.escape, ids)) + r")(?![A-Za-z0-9-])")


RULE_CODE = _rule_codes()
ABSOLUTE = re.compile(r"(?:/(?:home|root|tmp|work|usr|var|Users)/|[A-Za-z]:\\\\)")


def _visible(html_text: str) -> str:
    """Text a reader sees: tags and attributes dropped, scripts and data URIs gone."""
    body = re.sub(r"<style>.*?</style>", "", html_text, flags=re.S)
    body = re.sub(r'src="data:[^"]*"', "", body)
    return re.sub(r"<[^>]+>", " ", body)


def _section(text: str, sid: str) -> str:
    sec = text[text.index(f'id="site-{sid}"') :]
    return sec[: sec.index("</section>")]


@pytest.mark.slow
def test_report_html_eia_format(tmp_path: Path, toy_zoning) -> None:
    """Cover, summary, a section per site with four-column tables, conclusions, 综上, appendices."""
    res = _hand_result(toy_zoning)
    paths = write_report(res, tmp_path, pdf=False)
    assert set(paths) == {"html", "docx", "xlsx", "figures"}
    text = paths["html"].read_text(encoding="utf-8")
    assert "示例县" in text.split("</h1>")[0]  # county in the cover title
    assert "编制单位" in text and TO_FILL in text and re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text)
    assert "@page{size:A4" in text and "counter(page)" in text and "Noto Sans CJK SC" in text
    assert find_external_resources(text) == [] and "<script" not in text
    for sid in res.sites.site_id:
        sec = _section(text, sid)
        assert f'<tr data-site="{sid}">' in text
        assert sec.count("<th>序号</th><th>管控要求（清单内容）</th><th>本项目情况</th><th>符合性</th>") >= 2
        assert sec.count('class="concl"') >= 2 and "综上，本项目" in sec
        # the toy county (441899) is in Guangdong: the 综上 names the province's scheme with its 文号
        assert re.search(r"综上，本项目.*《[^》]*广东省“三线一单”生态环境分区管控方案[^》]*》（粤府〔2020〕71号）", sec)
    for rid in res.hits.rule_id:
        assert f'<tr data-rule="{rid}">' in text  # rule codes live in the appendix's own column
    # '<' in real data is escaped, never markup
    assert NASTY not in text and "要求&lt;b&gt;不得&lt;/b&gt;超过 5 &lt; 6 &amp; 7 &gt; 3" in text
    # plain Chinese: no rule codes in running text of the site sections, no program words
    for sid in res.sites.site_id:
        visible = _visible(_section(text, sid))
        assert not RULE_CODE.search(visible), RULE_CODE.search(visible)
        for word in ("命中规则", "涉及图层", "分区图层", "几何：", "占地块%"):
            assert word not in visible
    # no absolute path anywhere; the audit names files and their SHA-256
    assert not ABSOLUTE.search(text) and str(tmp_path) not in text
    for s in toy_zoning.sources:
        assert s.sha256 in text and Path(s.path).name in text
    # 附图: location, groups, one inset per site, all embedded and written as numbered PNGs
    figs = sorted((tmp_path / FIGURE_DIR).iterdir())
    assert figs[0].name == "附图1_项目位置示意图.png"
    assert text.count('src="data:image/png;base64,') == len(figs) >= 1 + 3
    assert all(f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in figs)


def test_verdict_words_and_prefilled_facts(tmp_path: Path, toy_zoning) -> None:
    """Real screening: 不符合/有条件符合/符合 in the tables, every geometric fact carries a number."""
    from maps.eia import build_model
    from spatial.screening import screen

    sites = gpd.GeoDataFrame(
        {
            "site_id": ["RL", "BAN", "ROAD", "OK"],
            "project_type": ["住宅", "电镀", "道路", "商业"],
            "name": ["红线内住宅", "电镀厂", "县道", "商场"],
            "建设单位": ["甲公司", "乙公司", "丙公司", "丁公司"],
        },  # fmt: skip
        geometry=[km_point(3.5, 3.5), km_box(11, 1, 12, 2), km_line((1, 7), (1, 9)), km_point(18, 19)],
        crs=toy_zoning.crs,
    )
    res = screen(sites, toy_zoning)
    model = build_model(res)
    by_id = {s.site_id: s for s in model.sites}
    assert by_id["RL"].verdict_zh == "不符合" and by_id["OK"].verdict_zh in {"符合", "待核实"}
    red = by_id["RL"].tables[0]
    assert red.title == "生态保护红线" and red.rows[0].verdict == "不符合"
    assert "位于生态保护红线" in red.rows[0].situation and "红线乙" in red.rows[0].situation
    ban = [r for t in by_id["BAN"].tables for r in t.rows if r.requirement.startswith("禁止准入类")]
    assert ban and ban[0].verdict == "不符合" and "电镀" in ban[0].situation
    ok_red = by_id["OK"].tables[0].rows[0]
    assert ok_red.verdict == "符合" and re.search(r"(东|西|南|北)", ok_red.situation) and re.search(r"约\d", ok_red.situation)
    for s in model.sites:
        for t in s.tables:
            assert t.conclusion.startswith("综合上表")
            for r in t.rows:
                assert r.verdict in {"符合", "不符合", "有条件符合", "待核实", "—"}
                if r.geometric:
                    assert re.search(r"\d", r.situation), (s.site_id, t.title, r.situation)
                elif r.verdict == PENDING_ZH:
                    assert TO_FILL in r.situation
    # the user's own column is carried into the report's site facts
    assert ("项目信息", "建设单位：乙公司") in by_id["BAN"].info
    # polygon site: area in m², 公顷 and 亩
    assert any(k == "用地面积" and "公顷" in v and "亩" in v for k, v in by_id["BAN"].info)


@pytest.mark.slow
def test_docx_reads_back_with_tables_figures_and_page_numbers(tmp_path: Path, toy_zoning) -> None:
    import docx

    res = _hand_result(toy_zoning)
    paths = write_report(res, tmp_path, pdf=False)
    doc = docx.Document(str(paths["docx"]))
    four = [t for t in doc.tables if [c.text for c in t.rows[0].cells] == HEADER]
    per_site = len(four) / len(res.sites)
    assert per_site >= 2  # the hand result has no rule catalogue: only the rows its hits and units give
    for t in four:
        assert len(t.rows) >= 2 and all(len(r.cells) == 4 for r in t.rows)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "一、选址符合性结论汇总" in headings and any(h.startswith("3. L3") for h in headings)
    n_figs = len(list((tmp_path / FIGURE_DIR).iterdir()))
    assert len(doc.inline_shapes) == n_figs
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert captions[0] == "附图1 项目位置示意图" and len(captions) == n_figs
    with zipfile.ZipFile(paths["docx"]) as z:
        footers = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("word/footer"))
        xml = "".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))
    assert "PAGE" in footers and 'w:eastAsia="宋体"' in xml
    assert not ABSOLUTE.search(xml)


@pytest.mark.slow
def test_report_xlsx_plain_chinese(tmp_path: Path, toy_zoning) -> None:
    res = _hand_result(toy_zoning)
    ind = pd.DataFrame(
        {
            "indicator": ["redline_ratio_pct", "unit_count"],
            "label_zh": ["生态保护红线占比", "管控单元数"],
            "value": [12.5, 28.0],
            "unit": ["%", "个"],
            "target": [">= 10", ""],
            "status": ["met", "no_target"],
        }  # fmt: skip
    )
    paths = write_report(res, tmp_path, indicators=ind, pdf=False)
    wb = openpyxl.load_workbook(paths["xlsx"])
    assert wb.sheetnames == ["汇总", "三线一单对照", "分区涉及情况", "命中规则明细", "指标", "审计"]
    for ws in wb.worksheets:
        for cell in ws[1]:
            assert not re.search(r"[A-Za-z]{3,}|%\)|\(m", str(cell.value)), (ws.title, cell.value)
    summary = pd.read_excel(paths["xlsx"], sheet_name="汇总")
    assert summary["地块编号"].tolist() == ["P1", "Y2", "L3"]
    assert summary.loc[1, "项目名称"] == "Y2"  # missing name -> site id
    assert set(summary["符合性结论"]) <= {"符合", "不符合", "有条件符合", "待核实"}
    table = pd.read_excel(paths["xlsx"], sheet_name="三线一单对照")
    assert list(table.columns[3:7]) == HEADER
    facts = pd.read_excel(paths["xlsx"], sheet_name="分区涉及情况")
    assert {"重叠面积（公顷）", "重叠面积（亩）", "占项目用地比例（%）", "距离（米）", "方位"} <= set(facts.columns)
    ind_sheet = pd.read_excel(paths["xlsx"], sheet_name="指标", dtype=str)
    assert ind_sheet["数值"].tolist() == ["12.5", "28"]  # integers as integers
    assert ind_sheet.loc[0, "达标情况"] == "达标"
    text = paths["html"].read_text(encoding="utf-8")
    assert "生态保护红线占比" in text and "28.00" not in text
    audit = pd.read_excel(paths["xlsx"], sheet_name="审计", dtype=str).fillna("")
    assert not audit.apply(lambda c: c.str.contains(ABSOLUTE)).any().any()


@pytest.mark.slow
def test_report_refuses_overwrite(tmp_path: Path, toy_zoning) -> None:
    """Existing reports are kept unless forced; nothing half-written is left."""
    res = _hand_result(toy_zoning)
    paths = write_report(res, tmp_path, pdf=False)
    stamp = paths["html"].stat().st_mtime_ns
    with pytest.raises(OutputExistsError, match="--force"):
        write_report(res, tmp_path, pdf=False)
    assert paths["html"].stat().st_mtime_ns == stamp
    write_report(res, tmp_path, force=True, pdf=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.docx", "report.html", "report.xlsx", FIGURE_DIR]


@pytest.mark.slow
def test_no_browser_means_no_pdf_and_a_hint(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    from spatial.errors import DataWarning

    monkeypatch.setenv("ECOZONE_CHROMIUM", str(tmp_path / "no-such-browser"))
    monkeypatch.setenv("PATH", str(tmp_path))
    res = _hand_result(toy_zoning)
    with pytest.warns(DataWarning, match="report.pdf"):
        paths = write_report(res, tmp_path / "out", pdf_engine="chromium")
    assert "pdf" not in paths and not (tmp_path / "out" / "report.pdf").exists()
    assert not list((tmp_path / "out").glob(".*part*"))


DEMO = Path(__file__).resolve().parents[1] / "spatial" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (DEMO / "lianzhou_sites.gpkg").exists(), reason="demo data not built")
def test_demo_report_lists_everything(tmp_path: Path) -> None:
    """The demo report contains every site, every hit in the appendix and every touched unit's list texts."""
    from spatial.screening import screen
    from spatial.zoning import demo_sites_path, load_zoning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # demo data quirks are the data tests' business
        zoning = load_zoning()
        res = screen(demo_sites_path(), zoning)
    text = write_report(res, tmp_path, pdf=False, site_insets=False)["html"].read_text(encoding="utf-8")
    assert "连州市" in text.split("</h1>")[0]
    sections = re.findall(r'<section class="site" id="site-([^"]+)"', text)
    assert sections == res.sites.site_id.astype(str).tolist()
    for rid in set(res.hits.rule_id):
        assert f'<tr data-rule="{rid}">' in text
    import html as html_lib

    for u in res.units.to_dict("records"):
        sec = _section(text, u["site_id"])
        assert u["code"] in sec
        for d in ("spatial_layout", "emission_control", "risk_prevention", "resource_efficiency"):
            if isinstance(u[d], str) and u[d].strip():
                assert html_lib.escape(u[d].strip(), quote=True) in sec, (u["site_id"], u["code"], d)
    assert not ABSOLUTE.search(text)


def test_schemes_cited_only_inside_their_jurisdiction(toy_zoning) -> None:
    """A package outside Guangdong gets no 粤府 citation in its 综上."""
    from maps.eia import scheme_citations

    assert any("粤府〔2020〕71号" in c for c in scheme_citations(toy_zoning))  # 441899
    elsewhere = SimpleNamespace(layers={**toy_zoning.layers, "boundary": toy_zoning.layers["boundary"].assign(code="110101")}, path=None)
    assert scheme_citations(elsewhere) == []
