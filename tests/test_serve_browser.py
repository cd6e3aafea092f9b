"""``ecozone serve`` in a real headless Chromium (playwright driving Debian's /usr/bin/chromium).

A planner's session on a live uvicorn server on loopback, with every
non-loopback request aborted: upload the demo sites (verdicts equal
``ecozone screen``), upload a 坐标文件, draw a polygon over a red-line patch and
see 禁止, download the report, and see verdict markers on the map.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from click.testing import CliRunner
from serve_helpers import coordfile_text, make_app, outside_patch, redline_patch, to_lonlat

from maps.browser import CHROMIUM_ARGS, browser_unavailable_reason, chromium_path
from spatial.cli import cli
from spatial.zoning import demo_sites_path

_REASON = browser_unavailable_reason()
pytestmark = [pytest.mark.browser, pytest.mark.skipif(_REASON is not None, reason=f"browser test: {_REASON}")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A real uvicorn server on a free loopback port (no login: the planner's own PC)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(tmp_path_factory.mktemp("serve-browser"), workers=2)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    t0 = time.monotonic()
    while not srv.started:
        assert time.monotonic() - t0 < 30, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser_page(server: str):
    """A Chromium page whose requests to anything but the loopback server are aborted."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    errors: list[str] = []

    def route(r) -> None:
        host = urlparse(r.request.url).hostname or ""
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("blockedbyclient")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=list(CHROMIUM_ARGS))
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN", accept_downloads=True, service_workers="block")
        ctx.set_default_timeout(60_000)
        ctx.route("**/*", route)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield page, blocked, errors
        browser.close()


def _until(cond, timeout: float = 20.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "condition not reached"
        time.sleep(0.05)


def _screen_demo_sites(page, server: str) -> dict[str, tuple[str, str]]:
    """Upload the demo sites on the start page, submit, and return the result page's verdict table."""
    page.goto(server + "/")
    page.wait_for_selector("#map[data-zoning-loaded]")
    page.set_input_files("#files", str(demo_sites_path()))
    page.click("#submit")
    _wait_result(page)
    return _table(page)


def _draw_polygon(page, patch) -> None:
    """Draw ``patch`` (a square, working CRS) with the map's polygon tool, vertex by vertex, and finish it."""
    ll = to_lonlat(patch)
    page.evaluate("([lat, lon]) => window.ecozoneMap.setView([lat, lon], 15, {animate: false})", [ll.centroid.y, ll.centroid.x])
    page.click(".leaflet-draw-draw-polygon")
    pts = page.evaluate(
        """(ring) => {
            const map = window.ecozoneMap, r = map.getContainer().getBoundingClientRect();
            return ring.map(([lon, lat]) => { const p = map.latLngToContainerPoint([lat, lon]); return [r.left + p.x, r.top + p.y]; });
        }""",
        list(ll.exterior.coords)[:4],
    )
    for i, (x, y) in enumerate(pts, start=1):
        page.mouse.click(x, y)
        page.wait_for_timeout(300)  # Leaflet.draw ignores a click right after a vertex is added
        _until(lambda i=i: page.locator(".leaflet-editing-icon").count() == i)  # each vertex placed before the next click
    page.click(".leaflet-draw-actions a:text-is('完成')")  # the toolbar's Chinese "finish" closes the polygon


def _wait_result(page) -> None:
    """The result page with its verdicts, then (the page reloads itself) with its files."""
    page.wait_for_url("**/screenings/*")
    page.wait_for_selector("#verdicts", timeout=120_000)
    page.wait_for_selector("#files-state[data-files='ready']", timeout=300_000)
    page.wait_for_selector("#map[data-sites-loaded]")  # wait_for_function would need eval, which the CSP forbids


def _table(page) -> dict[str, str]:
    rows = page.eval_on_selector_all("#verdicts tbody tr", "rs => rs.map(r => [r.cells[0].innerText, r.dataset.verdict, r.cells[3].innerText])")
    return {sid: (v, zh) for sid, v, zh in rows}


@pytest.mark.slow
def test_upload_demo_sites_same_verdicts_as_cli_and_download(server: str, browser_page, tmp_path: Path) -> None:
    """Upload the demo sites: the table equals ``ecozone screen``; verdict markers are drawn; the report downloads."""
    page, blocked, errors = browser_page
    out = tmp_path / "cli"
    res = CliRunner().invoke(cli, ["screen", str(demo_sites_path()), "--zoning", "demo", "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    expected = pd.read_csv(out / "sites.csv", dtype=str).set_index("site_id")["verdict"].to_dict()

    table = _screen_demo_sites(page, server)
    assert {k: v for k, (v, _) in table.items()} == expected
    markers = page.eval_on_selector_all(".verdict-marker", "ms => ms.map(m => m.getAttribute('class'))")
    assert len(markers) == len(expected)
    for verdict in set(expected.values()):
        assert sum(f"verdict-{verdict}" in c for c in markers) == list(expected.values()).count(verdict)
    page.screenshot(path=str(tmp_path / "result.png"), full_page=False)

    links = page.eval_on_selector_all("ul.files a[download]", "as => as.map(a => a.textContent)")
    name = "report.docx" if "report.docx" in links else "report.xlsx"
    with page.expect_download() as info:
        page.click(f"ul.files a[download]:text-is('{name}')")
    saved = tmp_path / name
    info.value.save_as(saved)
    import zipfile

    with zipfile.ZipFile(saved) as zf:  # DOCX and XLSX are OOXML zips: real, complete files
        parts = zf.namelist()
    assert ("word/document.xml" if name.endswith(".docx") else "xl/workbook.xml") in parts
    assert blocked == [] and errors == []


@pytest.mark.slow
def test_coordfile_and_drawn_polygon_over_red_line_are_prohibited(server: str, browser_page, tmp_path: Path) -> None:
    """A 坐标文件 parcel and a polygon drawn over a red-line patch, typed 化工, both get 禁止."""
    page, blocked, errors = browser_page
    patch, _ = redline_patch(300.0)
    coord = tmp_path / "界址点坐标.txt"
    coord.write_text(coordfile_text([("DK01", patch.buffer(-100, join_style="mitre"))]), encoding="gbk")

    page.goto(server + "/")
    page.wait_for_selector("#map[data-zoning-loaded]")
    page.set_input_files("#files", str(coord))
    page.select_option("#project_type", "chemical")
    _draw_polygon(page, patch)
    page.wait_for_selector("#drawn-count:text-is('1')")
    page.click("#submit")
    _wait_result(page)
    table = _table(page)
    assert len(table) == 2
    assert {zh for _, zh in table.values()} == {"禁止"}
    assert page.locator(".verdict-marker.verdict-prohibited").count() == 2
    assert blocked == [] and errors == []


@pytest.mark.slow
def test_live_verdict_while_drawing_changes_when_moved_out(server: str, browser_page) -> None:
    """Draw a polygon over a red-line patch: the live panel shows 禁止 with no job submitted; move it out: the verdict changes.

    The move sets the drawn layer's vertices to a square in the town's development
    boundary and fires ``draw:editvertex``, the event Leaflet.draw fires when a vertex is dragged.
    """
    page, blocked, errors = browser_page
    patch, _ = redline_patch(300.0)
    page.goto(server + "/")
    page.wait_for_selector("#map[data-zoning-loaded]")
    page.select_option("#project_type", "industrial")
    page.fill("#site_name", "拟建厂房")
    _draw_polygon(page, patch)
    page.wait_for_selector("#live-verdict[data-verdict='prohibited']", timeout=30_000)
    assert "禁止" in page.inner_text("#live-verdict")
    assert page.locator(".leaflet-tooltip.live-prohibited").inner_text().startswith("拟建厂房")
    assert "生态保护红线" in page.inner_text("#live-detail")
    assert page.url.rstrip("/") == server  # nothing submitted
    out = to_lonlat(outside_patch(300.0))
    page.evaluate(
        """(ring) => {
            const layer = window.ecozoneDrawn.getLayers()[0];
            layer.setLatLngs([ring.map(([lon, lat]) => L.latLng(lat, lon))]);
            window.ecozoneMap.fire('draw:editvertex', {layers: window.ecozoneDrawn, poly: layer});
        }""",
        list(out.exterior.coords)[:4],
    )
    page.wait_for_selector("#live-verdict[data-verdict='restricted']", timeout=30_000)
    assert "限制" in page.inner_text("#live-verdict")
    jobs = page.evaluate("() => fetch('/api/screenings', {headers: {Accept: 'application/json'}}).then(r => r.json())")
    assert not any(j.get("n_sites") == 1 and "拟建厂房" in str(j) for j in jobs)
    assert blocked == [] and errors == []


#: Identifiers that have a Chinese label (layers, unit categories, project types, verdicts): never shown raw on the result pages.
_RAW_IDS = re.compile(
    r"\b(redline|protected_area|water_source|control_unit|farmland|urban_boundary|corridor|industrial_park|industrial|chemical|"
    r"residential_estate|residential|priority|key|general|prohibited|restricted|notice|compatible)\b"
)


@pytest.mark.slow
def test_result_map_has_legend_labels_symbols_and_no_raw_identifiers(server: str, browser_page, tmp_path: Path) -> None:
    """The result map is map.html's: zoning legend and verdict symbols (under the map), a label per site, the hatched red line; all text Chinese."""
    page, blocked, errors = browser_page
    table = _screen_demo_sites(page, server)
    page.wait_for_selector(".eco-legend")
    legend = page.inner_text(".eco-legend")
    for word in ("图例", "生态保护红线", "永久基本农田", "优先保护单元", "重点管控单元", "一般管控单元", "城镇开发边界", "项目选址结论"):
        assert word in legend, word
    rows = page.eval_on_selector_all(".eco-legend .eco-lg-row[data-verdict]", "rs => rs.map(r => [r.dataset.verdict, r.innerText.trim(), !!r.querySelector('svg.eco-marker')])")
    assert rows == [["prohibited", "禁止", True], ["restricted", "限制", True], ["notice", "关注", True], ["compatible", "符合", True]]
    # The land red line: red outline filled with the hatch pattern, not a solid fill.
    assert page.locator("pattern#eco-hatch-red").count() == 1
    assert page.locator("path.leaflet-interactive[fill='url(#eco-hatch-red)']").count() > 0
    # One label per site (its id), names from zoom 12 on.
    ids = page.eval_on_selector_all(".eco-site-label .eco-lbl-id", "ls => ls.map(l => l.textContent)")
    assert sorted(ids) == sorted(table)
    # Point sites carry their verdict's symbol (✕ ▲ ◆ ●): the icon's shape names the same verdict as the table.
    marks = page.eval_on_selector_all(
        ".eco-mark.verdict-marker", "ms => ms.map(m => [m.className, m.querySelector('svg.eco-marker').getAttribute('data-verdict')])"
    )
    assert marks and all(f"verdict-{v}" in cls for cls, v in marks)
    assert {v for _, v in marks} <= {v for v, _ in table.values()}
    box = page.locator(".mapcard").bounding_box()
    assert box is not None
    page.screenshot(path=str(tmp_path / "serve_result.png"), full_page=True, clip={"x": 0, "y": 0, "width": 1400, "height": box["y"] + box["height"] + 16})
    assert not page.locator(".eco-near").count()
    page.evaluate("() => window.ecozoneMap.setZoom(13, {animate: false})")
    page.wait_for_selector("#map.eco-near")
    assert page.locator(".eco-site-label .eco-lbl-name:visible").count() > 0
    text = page.inner_text("main")
    assert not _RAW_IDS.search(text), _RAW_IDS.search(text)
    # The 逐项对照 of a site in a control unit: layer names, categories and types in Chinese too.
    page.click("#verdicts tbody tr:first-child a:text-is('逐项对照')")
    page.wait_for_selector("h2:text-is('环境管控单元准入清单')")
    site_text = page.inner_text("main")
    assert "管控单元" in site_text and not _RAW_IDS.search(site_text), _RAW_IDS.search(site_text)
    assert blocked == [] and errors == []
