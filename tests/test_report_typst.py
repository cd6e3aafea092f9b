"""report.pdf typeset by Typst: the model's text verbatim (never read as markup), A4 pages, the engines' fallbacks."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

pytest.importorskip("typst")

from test_report import _hand_result  # noqa: E402

from maps.report import write_report  # noqa: E402
from maps.report_typst import LONG_RUN, break_long_runs, cjk_fonts, typst_available  # noqa: E402

_NO_FONT = not typst_available()
needs_font = pytest.mark.skipif(_NO_FONT, reason="no Chinese font for Typst (fonts-noto-cjk)")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")

#: Typst markup in a site name: read as markup it would resize the page, set bold/math or fail to compile.
HOSTILE = '#set page(width: 3cm) *粗体* $x^2$ [括号] \\ <标签> @引用 // 注释 "引号" `代码` = 标题'


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _pages(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


@given(hs.text(alphabet=hs.characters(blacklist_characters="\u200b"), max_size=200))
@settings(max_examples=200, deadline=None)
def test_break_points_only_add_zero_width_spaces(s: str) -> None:
    """Removing the break points gives the text back; no ASCII run is left longer than a cell can wrap."""
    out = break_long_runs(s)
    assert out.replace("\u200b", "") == s
    assert all(len(run) < LONG_RUN for run in re.findall(r"[!-~]+", out))


@needs_font
@needs_poppler
@pytest.mark.slow
def test_typst_pdf_states_the_model_verbatim_on_a4(tmp_path: Path, toy_zoning) -> None:
    """A site named in Typst markup is printed as text; every site, page numbers and the fill-in marks are there."""
    res = _hand_result(toy_zoning)
    res.sites.loc[0, "name"] = HOSTILE
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback, no failure
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        paths = write_report(res, tmp_path, pdf_engine="typst", formats={"pdf"})
    pdf = paths["pdf"]
    pages = _pages(pdf)
    assert len(pages) >= 3 and all(abs(w - 595.3) < 1 and abs(h - 841.9) < 1 for w, h in pages)  # A4, the markup set no page
    text = _text(pdf)
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", HOSTILE) in flat
    for sid in res.sites["site_id"]:
        assert f"{sid}" in text
    assert re.search(r"第\s*2\s*页", text) and re.search(rf"第\s*{len(pages)}\s*页", text)
    assert "综上，本项目" in text and "【待填写】" in text and "附表" in text
    assert str(tmp_path) not in text
    # Only the PDF was asked for: no HTML printed behind the scenes, nothing half-written left.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["report.pdf", "附图"])


@needs_font
@pytest.mark.slow
def test_auto_engine_needs_no_browser(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no browser anywhere, the default engine still writes report.pdf (Typst), without a warning."""
    monkeypatch.setenv("ECOZONE_CHROMIUM", str(tmp_path / "no-such-browser"))
    monkeypatch.delenv("ECOZONE_PDF_ENGINE", raising=False)
    res = _hand_result(toy_zoning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        paths = write_report(res, tmp_path / "out", site_insets=False)
    assert paths["pdf"].read_bytes().startswith(b"%PDF-")


@pytest.mark.slow
def test_no_font_and_no_browser_says_both(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a Chinese font Typst is not used; without a browser either, the warning names both and no PDF is left."""
    from maps import report_typst
    from spatial.errors import DataWarning

    monkeypatch.setattr(report_typst, "cjk_fonts", lambda: ())
    monkeypatch.setenv("ECOZONE_CHROMIUM", str(tmp_path / "no-such-browser"))
    monkeypatch.setenv("PATH", str(tmp_path))
    res = _hand_result(toy_zoning)
    with pytest.warns(DataWarning, match="中文字体.*Chromium"):
        paths = write_report(res, tmp_path / "out", site_insets=False)
    assert "pdf" not in paths and not (tmp_path / "out" / "report.pdf").exists()
    assert not list((tmp_path / "out").glob(".*part*"))


@pytest.mark.slow
def test_a_typst_failure_keeps_the_other_files(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    """When Typst fails, the HTML/DOCX/XLSX are still written and the warning carries Typst's message."""
    import maps.report_typst as rt
    from spatial.errors import DataWarning

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("字体损坏 font broken")

    monkeypatch.setattr(rt, "write_pdf", broken)
    res = _hand_result(toy_zoning)
    with pytest.warns(DataWarning, match="Typst.*字体损坏"):
        paths = write_report(res, tmp_path, pdf_engine="typst", site_insets=False)
    assert {"html", "docx", "xlsx"} <= set(paths) and "pdf" not in paths
    assert not (tmp_path / "report.pdf").exists() and not list(tmp_path.glob(".*part*"))


def test_unknown_engine_is_refused_in_chinese(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOZONE_PDF_ENGINE", "wkhtml")
    with pytest.raises(ValueError, match="PDF 引擎 'wkhtml' 无效.*ECOZONE_PDF_ENGINE"):
        write_report(_hand_result(toy_zoning), tmp_path, site_insets=False)
    assert not list(tmp_path.iterdir())


def test_fonts_found_are_the_preferred_ones() -> None:
    """The families Typst is given are installed ones, in the report's order of preference."""
    from maps.report_typst import CJK_FAMILIES

    found = cjk_fonts()
    assert list(found) == [f for f in CJK_FAMILIES if f in found]


@needs_font
@needs_poppler
@pytest.mark.slow
def test_text_longer_than_a_page_is_printed_whole(tmp_path: Path, toy_zoning) -> None:
    """A finding whose text runs over a page breaks across pages: its last words are in the PDF, none cut off."""
    res = _hand_result(toy_zoning)
    long_text = "".join(f"第{i}款：禁止在饮用水水源一级保护区内新建、改建、扩建与供水设施和保护水源无关的建设项目。" for i in range(1, 121)) + "全文完毕。"
    res.hits.loc[0, "message_zh"] = long_text
    paths = write_report(res, tmp_path, pdf_engine="typst", formats={"pdf"}, site_insets=False)
    flat = re.sub(r"\s+", "", _text(paths["pdf"]))
    assert "第120款" in flat and "全文完毕" in flat


@needs_font
@pytest.mark.slow
@given(name=hs.text(hs.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60))
@settings(max_examples=25, deadline=None)
def test_any_text_typesets(name: str, typst_model: tuple) -> None:
    """Whatever a site's name and a row's text hold (markup, control characters, any script), the PDF is made."""
    import dataclasses

    from maps.report_typst import write_pdf

    model, tmp = typst_model
    site = model.sites[0]
    table = dataclasses.replace(site.tables[0], rows=[dataclasses.replace(site.tables[0].rows[0], situation=name), *site.tables[0].rows[1:]])
    changed = dataclasses.replace(model, sites=[dataclasses.replace(site, name=name, tables=[table, *site.tables[1:]])])
    pdf = write_pdf(changed, [], tmp / "any.pdf", root=tmp, folder="附图")
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 5_000


@pytest.fixture(scope="module")
def typst_model(tmp_path_factory: pytest.TempPathFactory, toy_gpkg: Path) -> tuple:
    """A real report model of the toy county (no figures), built once for the property test."""
    from maps.eia import build_model
    from maps.model import output_model
    from spatial.zoning import load_zoning

    res = _hand_result(load_zoning(toy_gpkg))
    return build_model(res, None, model=output_model(res)), tmp_path_factory.mktemp("typst")


@pytest.mark.slow
def test_typst_asked_for_without_a_chinese_font_says_so(tmp_path: Path, toy_zoning, monkeypatch: pytest.MonkeyPatch) -> None:
    """Typst named explicitly on a machine without a Chinese font: no PDF of missing glyphs, a warning naming the font."""
    from maps import report_typst
    from spatial.errors import DataWarning

    monkeypatch.setattr(report_typst, "cjk_fonts", lambda: ())
    with pytest.warns(DataWarning, match="Typst.*中文字体"):
        paths = write_report(_hand_result(toy_zoning), tmp_path, pdf_engine="typst", site_insets=False)
    assert "pdf" not in paths and not (tmp_path / "report.pdf").exists() and {"html", "docx"} <= set(paths)
