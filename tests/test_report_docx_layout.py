"""report.docx laid out alike in Word, WPS and LibreOffice.

The grid of every table equals its cell widths (LibreOffice lays tables out
from ``tblGrid``, Word from the cells), layout fixed, header rows repeat, rows
do not split, pictures keep with their captions, East-Asian fonts named with
a fallback; and the demo, converted by a real LibreOffice, fits the page
budget (2 pages per site + 10) and renders to PNG.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings
import zipfile
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest
from conftest import km_box, km_line, km_point
from lxml import etree

from maps.report import write_report

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DATA = Path(__file__).resolve().parents[1] / "spatial" / "data"


def _toy_result(zoning) -> SimpleNamespace:
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["P1", "Y2", "L3"],
            "name": ["红线内码头", "电镀厂", "跨河道路"],
            "project_type": ["industrial", "electroplating", "linear_infrastructure"],
            "verdict": ["prohibited", "notice", "compatible"],
            "verdict_zh": ["禁止", "关注", "符合"],
            "n_hits": [1, 0, 0],
            "summary_zh": ["禁止。", "关注。", "符合。"],
        },
        geometry=[km_point(3.5, 3.5), km_box(11, 1, 11.5, 1.5), km_line((5, 7), (5, 9))],
        crs=zoning.crs,
    )
    hits = pd.DataFrame(
        {
            "site_id": ["P1"], "rule_id": ["RL-DEV"], "layer": ["redline"], "feature_id": ["HX001"],
            "feature_name": ["红线甲"], "verdict": ["prohibited"], "overlap_m2": [None], "overlap_pct": [None],
            "length_m": [None], "distance_m": [None], "basis": ["《示例》第一条"], "message_zh": ["位于生态保护红线内。"],
        }
    )  # fmt: skip
    units = pd.DataFrame(columns=["site_id", "code", "name"])
    return SimpleNamespace(sites=sites, hits=hits, units=units, zoning=zoning, rules=[], audit={})


def _tables(docx: Path) -> list[etree._Element]:
    with zipfile.ZipFile(docx) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    return root.findall(f".//{W}tbl")


def test_table_grid_equals_cell_widths_fixed_layout(tmp_path: Path, toy_zoning) -> None:
    """Every table: gridCol widths == each row's tcW widths == tblW; fixed layout; rows unsplittable; header repeats."""
    paths = write_report(_toy_result(toy_zoning), tmp_path, pdf=False)
    tables = _tables(paths["docx"])
    assert len(tables) >= 5
    for t in tables:
        grid = [int(g.get(f"{W}w")) for g in t.find(f"{W}tblGrid").findall(f"{W}gridCol")]
        assert len(set(grid)) > 1 or len(grid) == 1, grid  # not the equal split python-docx starts with
        tblw = t.find(f"{W}tblPr/{W}tblW")
        assert tblw.get(f"{W}type") == "dxa" and int(tblw.get(f"{W}w")) == sum(grid)
        assert t.find(f"{W}tblPr/{W}tblLayout").get(f"{W}type") == "fixed"
        rows = t.findall(f"{W}tr")
        for k, tr in enumerate(rows):
            cells = [int(tc.find(f"{W}tcPr/{W}tcW").get(f"{W}w")) for tc in tr.findall(f"{W}tc")]
            assert cells == grid
            assert tr.find(f"{W}trPr/{W}cantSplit") is not None
            assert (tr.find(f"{W}trPr/{W}tblHeader") is not None) == (k == 0)
        assert sum(grid) <= int(round(18.0 / 2.54 * 1440)) + 1  # within the text width


def test_captions_keep_with_figures_and_fonts_named(tmp_path: Path, toy_zoning) -> None:
    paths = write_report(_toy_result(toy_zoning), tmp_path, pdf=False)
    with zipfile.ZipFile(paths["docx"]) as z:
        root = etree.fromstring(z.read("word/document.xml"))
        styles = z.read("word/styles.xml").decode("utf-8")
        fonts = etree.fromstring(z.read("word/fontTable.xml"))
    paras = root.findall(f".//{W}body/{W}p")
    pictures = [i for i, p in enumerate(paras) if p.find(f".//{W}drawing") is not None]
    assert pictures
    for i in pictures:
        assert paras[i].find(f"{W}pPr/{W}keepNext") is not None
        caption = "".join(t.text or "" for t in paras[i + 1].iter(f"{W}t"))
        assert caption.startswith("附图"), caption
    # Every picture has its own drawing id (counted, not found by scanning the document each time).
    ids = [e.get("id") for e in root.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")]
    assert len(ids) == len(pictures) and len(set(ids)) == len(ids) and all(i.isdigit() and int(i) > 0 for i in ids)
    assert 'w:eastAsia="宋体"' in styles and 'w:eastAsia="黑体"' in styles
    alt = {f.get(f"{W}name"): f.find(f"{W}altName").get(f"{W}val") for f in fonts if f.find(f"{W}altName") is not None}
    assert alt.get("宋体", "").startswith("Noto Serif CJK") and alt.get("黑体", "").startswith("Noto Sans CJK")


def _pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", out).group(1))


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed: apt install libreoffice-writer-nogui"
)
@pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None, reason="poppler-utils not installed")
@pytest.mark.skipif(not (_DATA / "lianzhou_sites.gpkg").exists(), reason="demo data not built")
@pytest.mark.parametrize("demo", ["demo", "lianzhou-without-list", "coast"])
def test_demo_docx_in_libreoffice_fits_the_page_budget(demo: str, tmp_path: Path) -> None:
    """LibreOffice headless converts the demo report.docx; ≤ 2 pages per site + 10; two pages render to PNG.

    ``demo`` is ``ecozone demo`` as a user runs it (the 连州 demo with its 准入清单 workbook and the
    indicators); the 连州 sites without the list and the coastal demo are screened directly.
    """
    from spatial.screening import screen
    from spatial.zoning import coast_demo_sites_path, coast_demo_zoning_path, demo_sites_path, demo_zoning_path, load_zoning

    if demo == "demo":
        from click.testing import CliRunner

        from spatial.cli import cli

        out = tmp_path / "out"
        r = CliRunner().invoke(cli, ["demo", "--out", str(out)])
        assert r.exit_code == 0, r.output
        docx, n_sites = out / "report.docx", len(pd.read_csv(out / "sites.csv"))
        lists = json.loads((out / "run.json").read_text(encoding="utf-8"))["lists"]
        assert [Path(lst["path"].split("（")[0]).name for lst in lists] == ["lianzhou_list.xlsx"] and lists[0]["n_pending"] > 0
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # demo data quirks are the data tests' business
            if demo == "coast":
                res = screen(coast_demo_sites_path(), load_zoning(coast_demo_zoning_path()))
            else:
                res = screen(demo_sites_path(), load_zoning(demo_zoning_path()))
        docx, n_sites = write_report(res, tmp_path / "out", pdf=False)["docx"], len(res.sites)
    lo = tmp_path / "lo"
    profile = (tmp_path / "profile").as_uri()  # own profile: no clash with a running soffice
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(lo), str(docx)],
        capture_output=True, timeout=600, check=True,
    )  # fmt: skip
    pdf = lo / "report.pdf"
    n = _pdf_pages(pdf)
    assert 0 < n <= 2 * n_sites + 10, n
    subprocess.run(["pdftoppm", "-r", "50", "-f", "2", "-l", "3", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 2 and all(p.stat().st_size > 5_000 for p in pngs)


@pytest.mark.slow
def test_figures_numbered_in_order_of_first_citation(tmp_path: Path, toy_zoning) -> None:
    """Reading the DOCX (and the HTML) from the top, 附图 numbers first appear as 1, 2, 3 … with none skipped."""
    res = _toy_result(toy_zoning)
    paths = write_report(res, tmp_path, pdf=False)
    with zipfile.ZipFile(paths["docx"]) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    body = root.find(f"{W}body")
    text = "\n".join("".join(t.text or "" for t in el.iter(f"{W}t")) for el in body)
    html = paths["html"].read_text(encoding="utf-8")
    n_figs = len(list((tmp_path / "附图").iterdir()))
    assert n_figs >= 5  # location, layer maps, three insets
    for doc in (text, html):
        first = list(dict.fromkeys(int(n) for n in re.findall(r"附图(\d+)", doc)))
        assert first == list(range(1, n_figs + 1)), first


def test_legend_and_note_stay_inside_the_frame(toy_zoning) -> None:
    """A long source note and legend are wrapped/shrunk: nothing drawn in the outer 3 px of the picture."""
    import io

    import numpy as np
    from PIL import Image

    from maps.figures import render_overview, render_site

    note = "｜".join(["底图：无（仅绘制分区数据，未使用在线底图，无需审图号）", "分区数据：" + "、".join(["一个很长的分区数据文件名.gpkg"] * 6),
                     "坐标系：EPSG:4547 CGCS2000 / 3-degree Gauss-Kruger CM 114E", "示意图，不作为权属界线依据"])  # fmt: skip
    sites = _toy_result(toy_zoning).sites
    for png in (
        render_site(toy_zoning, km_box(11, 1, 11.5, 1.5), site_id="Y2", name="电镀厂", verdict="prohibited", note=note),
        render_overview(toy_zoning, sites, note),
    ):
        img = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
        edge = np.concatenate([img[:, -3:].ravel(), img[-3:, :].ravel(), img[:, :3].ravel()])
        assert edge.min() >= 250, "something is drawn at the picture's edge (cut off)"


def test_table_cells_keep_markup_characters_tabs_and_line_breaks(tmp_path: Path, toy_zoning) -> None:
    """Cell text is escaped (``&``, ``<``), a tab is a ``w:tab`` and a newline a ``w:br``, as Word expects."""
    res = _toy_result(toy_zoning)
    res.sites.loc[0, "name"] = "码头&<仓库>\t一期\n二期"
    paths = write_report(res, tmp_path, pdf=False)
    summary = _tables(paths["docx"])[0]
    cells = [tc for tc in summary.iter(f"{W}tc") if "码头" in "".join(t.text or "" for t in tc.iter(f"{W}t"))]
    assert cells, "the site's name is not in the summary table"
    run = cells[0].find(f".//{W}r")
    assert [el.tag.removeprefix(W) for el in run if el.tag != f"{W}rPr"] == ["t", "tab", "t", "br", "t"]
    texts = [t.text for t in run.iter(f"{W}t")]
    assert texts == ["码头&<仓库>", "一期", "二期"]
    assert run.find(f"{W}rPr/{W}sz").get(f"{W}val") == "16"  # 8 pt
