"""report.pdf printed by a real headless Chromium: A4 page budget, page numbers, no local paths."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from maps.browser import browser_unavailable_reason
from maps.report import write_report

_REASON = browser_unavailable_reason()
_DATA = Path(__file__).resolve().parents[1] / "spatial" / "data"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(_REASON is not None, reason=f"browser test: {_REASON}"),
    pytest.mark.skipif(not (_DATA / "lianzhou_sites.gpkg").exists(), reason="demo data not built"),
]


def _pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.mark.parametrize("demo", ["lianzhou", "coast"])
def test_demo_pdf_fits_the_page_budget(demo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """31 demo sites (12 on the coastal demo): at most 2 pages per site plus 10, page numbers printed, no absolute path."""
    from maps.browser import chromium_path
    from spatial.screening import screen
    from spatial.zoning import coast_demo_sites_path, coast_demo_zoning_path, demo_sites_path, demo_zoning_path, load_zoning

    monkeypatch.setenv("ECOZONE_CHROMIUM", chromium_path())
    zpath, spath = (coast_demo_zoning_path(), coast_demo_sites_path()) if demo == "coast" else (demo_zoning_path(), demo_sites_path())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # demo data quirks are the data tests' business
        res = screen(spath, load_zoning(zpath))
    paths = write_report(res, tmp_path)
    pdf = paths["pdf"]
    n = _pages(pdf)
    assert 0 < n <= 2 * len(res.sites) + 10, n
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert re.search(r"第\s*2\s*页", text) and re.search(rf"第\s*{n}\s*页", text) and "综上，本项目" in text and "【待填写】" in text
        assert str(tmp_path) not in text and not re.search(r"/(home|root|tmp|work)/", text)
