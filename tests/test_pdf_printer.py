"""The browser started ahead of time prints the same pages as the command-line print, and falls back to it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from maps.browser import browser_unavailable_reason
from maps.pdf import html_to_pdf, start_printer

_REASON = browser_unavailable_reason()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(_REASON is not None, reason=f"browser test: {_REASON}"),
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed"),
]

_HTML = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page{size:A4;margin:10mm;@bottom-center{content:'第 ' counter(page) ' 页';}}
body{font-family:"Noto Sans CJK SC",sans-serif;font-size:10pt}
th{background:#eef2f6;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.p{break-after:page}
</style></head><body>
<h1 class="p">生态环境分区管控符合性分析报告</h1>
<table>{rows}</table></body></html>"""


def _pixels(pdf: Path, tmp: Path, tag: str) -> list[np.ndarray]:
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp / tag)], check=True)
    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(tmp.glob(f"{tag}-*.png"))]


@pytest.mark.slow
def test_printer_pages_equal_command_line_pages_and_fall_back(tmp_path: Path) -> None:
    rows = "".join(f"<tr><th>{i}</th><td>项目位于“连州市九陂一般管控单元”内，重叠面积 {i * 7} m²</td></tr>" for i in range(120))
    html = tmp_path / "r.html"
    html.write_text(_HTML.replace("{rows}", rows), encoding="utf-8")
    printer = start_printer()
    assert printer is not None
    try:
        assert html_to_pdf(html, tmp_path / "pipe.pdf", printer=printer) == tmp_path / "pipe.pdf"
    finally:
        printer.close()
    assert html_to_pdf(html, tmp_path / "cli.pdf") == tmp_path / "cli.pdf"
    a, b = _pixels(tmp_path / "pipe.pdf", tmp_path, "a"), _pixels(tmp_path / "cli.pdf", tmp_path, "b")
    assert len(a) == len(b) >= 3  # the cover page, then the table over several A4 pages
    assert a[0].shape[0] > a[0].shape[1]  # portrait A4 from the CSS page size
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert (b[1] != 255).any(axis=2).sum() > 0  # something printed (header background, text)
    # A browser that is gone: the command-line print still gives the PDF.
    dead = start_printer()
    assert dead is not None
    dead.close()
    assert html_to_pdf(html, tmp_path / "again.pdf", printer=dead) == tmp_path / "again.pdf"
    assert len(_pixels(tmp_path / "again.pdf", tmp_path, "c")) == len(b)
