"""``report.pdf`` from ``report.html`` through a locally installed headless Chromium.

Chromium (or Chrome/Edge) prints the HTML exactly as the browser shows it,
with the CSS page rules (A4, page numbers in the margin boxes).  Nothing is
downloaded: when no browser is installed, :func:`html_to_pdf` returns None and
the caller says how to get one.  A run never fails for lack of it.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from maps.browser import CHROMIUM_ARGS, chromium_path

__all__ = ["html_to_pdf", "PDF_HINT_ZH", "PDF_HINT_EN", "CHROMIUM_ENV"]

#: Environment variable naming the browser executable.
CHROMIUM_ENV = "ECOZONE_CHROMIUM"
PDF_HINT_ZH = (
    "未找到 Chromium/Chrome，未生成 report.pdf：可安装 Chromium（Debian/Ubuntu：apt install chromium），"
    f"或设置环境变量 {CHROMIUM_ENV} 指向浏览器程序；也可在 Word/WPS 中打开 report.docx 另存为 PDF。"
)
PDF_HINT_EN = (
    f"no Chromium/Chrome found, report.pdf skipped: install chromium or set {CHROMIUM_ENV}; "
    "or open report.docx in Word/WPS and save as PDF"
)


def html_to_pdf(html: Path, pdf: Path, *, timeout: float = 180.0) -> Path | None:
    """Print ``html`` to ``pdf`` with headless Chromium.

    Parameters
    ----------
    html : Path
        A self-contained HTML file.
    pdf : Path
        Where to write the PDF (the caller makes it atomic).
    timeout : float, default 180
        Seconds before the browser is given up on.

    Returns
    -------
    Path or None
        ``pdf`` when written; None when no browser is installed (see
        :func:`maps.browser.chromium_path`) or it failed.
    """
    exe = chromium_path()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="ecozone-chromium-") as profile:
        # No header/footer from Chromium: it would print the file's local path; the page numbers come from the CSS.
        # The PDF keeps Chromium's structure tags (screen readers; ≈1 s of the browser's CPU for the demo report).
        cmd = [
            exe,
            *CHROMIUM_ARGS,
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}",
            Path(html).resolve().as_uri(),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
    return pdf if pdf.exists() and pdf.stat().st_size > 0 else None
