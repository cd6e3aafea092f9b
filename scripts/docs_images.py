"""Regenerate the README images under ``docs/`` from the demo.

* ``docs/map.png``: the interactive zoning map in a real headless Chromium
  (playwright + the system Chromium, network blocked, default basemap ``none``);
* ``docs/report-page-summary.png`` and ``docs/report-page-site.png``: two pages
  of the demo ``report.pdf`` rendered with poppler's ``pdftoppm``;
* ``docs/report-docx-libreoffice.png`` and ``docs/report-pdf-site.png``: the same
  site page of ``ecozone demo``'s report (with the demo 准入清单), once from
  ``report.docx`` converted by LibreOffice headless, once from ``report.pdf``.

Usage::

    python scripts/docs_images.py            # writes docs/*.png
    python scripts/docs_images.py --out DIR  # elsewhere

Needs Chromium (``apt install chromium``), playwright (test extras),
poppler-utils (``apt install poppler-utils``) and LibreOffice
(``apt install libreoffice-writer-nogui``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path


def main() -> None:
    """Write the map screenshot and two report page renders."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    ap.add_argument("--site-page", type=int, default=0, help="PDF page with a site section (default: the first one)")
    ap.add_argument("--demo-site", default="LZ-014", help="site whose first page is rendered from ecozone demo's DOCX and PDF")
    args = ap.parse_args()
    from maps.browser import open_page
    from maps.report import write_report
    from maps.zoning_map import save_map
    from spatial.screening import screen
    from spatial.zoning import demo_sites_path, load_zoning

    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm not found: apt install poppler-utils")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        work = Path(tmp)
        res = screen(demo_sites_path(), load_zoning())
        html = save_map(res.zoning, work / "map.html", res)
        with open_page(html, wait_for="window.ecozone && window.ecozone.ready", viewport=(1680, 1050)) as (page, log):
            page.wait_for_timeout(1500)
            page.screenshot(path=str(args.out / "map.png"))
            if log.errors:
                raise SystemExit(f"map page errors: {log.errors}")
        paths = write_report(res, work)
        pdf = paths.get("pdf")
        if pdf is None:
            raise SystemExit("report.pdf was not written (no Chromium?)")
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        pages = text.split("\f")
        summary = next(i for i, p in enumerate(pages) if "选址符合性结论汇总" in p) + 1
        site = args.site_page or next(i for i, p in enumerate(pages) if "生态保护红线符合性分析" in p) + 1
        for name, number in (("report-page-summary", summary), ("report-page-site", site)):
            stem = work / name
            subprocess.run(
                ["pdftoppm", "-png", "-r", "90", "-f", str(number), "-l", str(number), "-singlefile", str(pdf), str(stem)],
                check=True,
            )
            shutil.copyfile(stem.with_suffix(".png"), args.out / f"{name}.png")
        _demo_pages(work, args.out, args.demo_site)
    print(f"wrote {args.out}/map.png, report-page-summary.png, report-page-site.png, report-docx-libreoffice.png, report-pdf-site.png")


def _page_of(pdf: Path, needle: str) -> int:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return next(i for i, p in enumerate(text.split("\f")) if needle in p) + 1


def _demo_pages(work: Path, out: Path, site: str) -> None:
    """Render the page where ``site``'s section starts, from ecozone demo's DOCX (LibreOffice) and PDF."""
    from click.testing import CliRunner

    from spatial.cli import cli

    demo = work / "demo"
    r = CliRunner().invoke(cli, ["demo", "--out", str(demo)])
    if r.exit_code != 0:
        raise SystemExit(r.output)
    profile = (work / "lo-profile").as_uri()
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(work / "lo"), str(demo / "report.docx")],
        capture_output=True, timeout=900, check=True,
    )  # fmt: skip
    for name, pdf in (("report-docx-libreoffice", work / "lo" / "report.pdf"), ("report-pdf-site", demo / "report.pdf")):
        number = _page_of(pdf, f" {site} ")
        stem = work / name
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", str(number), "-l", str(number), "-singlefile", str(pdf), str(stem)], check=True
        )
        shutil.copyfile(stem.with_suffix(".png"), out / f"{name}.png")
        print(f"{name}.png: page {number} of {pdf.name}")


if __name__ == "__main__":
    main()
