"""report.pdf, typeset by Typst or printed by a real headless Chromium: A4 page budget, page numbers, no local paths."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest

from maps.browser import browser_unavailable_reason
from maps.report import write_report

_REASON = browser_unavailable_reason()
_DATA = Path(__file__).resolve().parents[1] / "spatial" / "data"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (_DATA / "lianzhou_sites.gpkg").exists(), reason="demo data not built"),
]
_BROWSER = [pytest.mark.browser, pytest.mark.skipif(_REASON is not None, reason=f"browser test: {_REASON}")]


def _typst_reason() -> str | None:
    try:
        from maps.report_typst import typst_available
    except ImportError:
        return "typst not installed"
    return None if typst_available() else "no Chinese font for Typst"


_TYPST = [pytest.mark.skipif(_typst_reason() is not None, reason=f"typst: {_typst_reason()}")]


def _pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.mark.parametrize(
    ("demo", "engine"),
    [
        pytest.param("demo", "typst", marks=_TYPST),
        pytest.param("demo", "chromium", marks=_BROWSER),
        pytest.param("lianzhou-without-list", "typst", marks=_TYPST),
        pytest.param("coast", "chromium", marks=_BROWSER),
        pytest.param("coast", "typst", marks=_TYPST),
    ],
)
def test_demo_pdf_fits_the_page_budget(demo: str, engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At most 2 pages per site plus 10, page numbers printed, no absolute path, from either engine.

    ``demo`` is ``ecozone demo`` as a user runs it (41 sites of 连州 with the demo's 准入清单 and the
    indicators); the same sites without the list and the 12-site coastal demo are screened directly.
    """
    from maps.browser import chromium_path
    from spatial.screening import screen
    from spatial.zoning import coast_demo_sites_path, coast_demo_zoning_path, demo_sites_path, demo_zoning_path, load_zoning

    if engine == "chromium":
        monkeypatch.setenv("ECOZONE_CHROMIUM", chromium_path())
    monkeypatch.setenv("ECOZONE_PDF_ENGINE", engine)
    if demo == "demo":
        from click.testing import CliRunner

        from spatial.cli import cli

        out = tmp_path / "out"
        r = CliRunner().invoke(cli, ["demo", "--out", str(out)])
        assert r.exit_code == 0, r.output
        pdf, n_sites = out / "report.pdf", len(pd.read_csv(out / "sites.csv"))
        assert "准入清单共用条款" in (out / "report.html").read_text(encoding="utf-8")  # the list was read
    else:
        zpath, spath = (coast_demo_zoning_path(), coast_demo_sites_path()) if demo == "coast" else (demo_zoning_path(), demo_sites_path())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # demo data quirks are the data tests' business
            res = screen(spath, load_zoning(zpath))
        pdf, n_sites = write_report(res, tmp_path)["pdf"], len(res.sites)
    assert (b"/Creator(Typst" in pdf.read_bytes()) == (engine == "typst")  # the engine asked for made it
    n = _pages(pdf)
    assert 0 < n <= 2 * n_sites + 10, n
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert re.search(r"第\s*2\s*页", text) and re.search(rf"第\s*{n}\s*页", text) and "综上，本项目" in text and "【待填写】" in text
        assert str(tmp_path) not in text and not re.search(r"/(home|root|tmp|work)/", text)
