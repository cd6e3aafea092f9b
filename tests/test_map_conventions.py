"""Planning-map conventions on the interactive map and the report's 附图.

Red line hatched (outline + pattern, no flat fill), verdict markers told apart
by shape, north arrow and scale bar, default basemap ``none`` said in the
legend, collision-free labels (checked in a real browser and in the static
label placer).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from conftest import km_box, km_line, km_point
from PIL import Image

from maps.browser import browser_unavailable_reason, open_page
from maps.figures import VERDICT_MARKERS, render_overview, render_site
from maps.offline import find_external_resources, offline_html
from maps.zoning_map import build_map, map_style, marker_svg, save_map


@pytest.fixture(scope="module")
def screened(toy_zoning):
    from spatial.screening import screen

    sites = gpd.GeoDataFrame(
        {
            "site_id": ["RL", "BAN", "ROAD", "OK", "NEAR"],
            "name": ["红线内住宅", "电镀厂", "县道", "商场", "商场二期"],
            "project_type": ["住宅", "电镀", "道路", "商业", "商业"],
        },  # fmt: skip
        geometry=[km_point(3.5, 3.5), km_box(11, 1, 12, 2), km_line((1, 7), (1, 9)), km_point(18, 19), km_point(18.05, 19.02)],
        crs=toy_zoning.crs,
    )
    return screen(sites, toy_zoning)


@pytest.mark.slow
def test_default_basemap_is_none_and_legend_says_so(toy_zoning, screened) -> None:
    html = offline_html(build_map(toy_zoning, screened))
    assert "tile.openstreetmap.org" not in html and find_external_resources(html) == []
    assert "底图：无" in html and "无需审图号" in html and "toy.gpkg" in html
    osm = offline_html(build_map(toy_zoning, screened, basemap="osm"))
    assert "审图号以底图服务商标注为准" in osm


def test_red_line_hatched_and_markers_by_shape(toy_zoning, screened) -> None:
    style = map_style("redline")
    assert style["fillColor"] == "url(#eco-hatch-red)" and style["fillOpacity"] == 1 and style["color"] == "#e60000"
    html = offline_html(build_map(toy_zoning, screened))
    assert "eco-hatch-red" in html and "patternTransform" in html
    paths = {v: re.search(r'd="([^"]+)"', marker_svg(v)).group(1) for v in ("prohibited", "restricted", "notice", "compatible")}
    assert len(set(paths.values())) == 4  # four different outlines
    assert all('stroke="#111"' in marker_svg(v) and 'stroke="#fff"' in marker_svg(v) for v in paths)
    assert len({m for m, _ in VERDICT_MARKERS.values()}) == 4  # the 附图 use four shapes too
    assert "指北针" in html


def _png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_site_inset_has_hatching_not_a_flat_red_fill(toy_zoning, screened) -> None:
    site = screened.sites.iloc[0]  # inside red line 乙, which is much larger than the window
    img = _png(render_site(toy_zoning, site.geometry, site_id="RL", name="红线内住宅", verdict="prohibited"))
    assert img.shape[1] == pytest.approx(17 / 2.54 * 150, abs=2)
    map_part = img[: int(img.shape[0] * 0.85), : int(img.shape[1] * 0.6)]
    red = (map_part[..., 0] > 200) & (map_part[..., 1] < 80) & (map_part[..., 2] < 80)
    reddish = map_part[..., 0] - map_part[..., 1] > 40
    # hatching: pure red strokes, but most of the red-line area keeps the colour underneath (no 35 % salmon fill)
    assert 0.02 < red.mean() < 0.3 and reddish.mean() < 0.35


def test_overview_renders_every_site(toy_zoning, screened) -> None:
    img = _png(render_overview(toy_zoning, screened.sites, "底图：无"))
    assert img.shape[0] > 600 and img.shape[1] > 900
    assert (img.sum(axis=2) < 60).any()  # dark outlines of markers, boundary, north arrow


def test_static_labeller_never_overlaps() -> None:
    from maps.figures import Labeller
    from maps.sheet import Frame, Sheet

    lab = Labeller(Frame(Sheet(10, 8), (0, 0, 1000, 800), (0, 0, 1, 1)))
    placed = sum(lab.place(500, 400, [f"label {i}"]) for i in range(20))
    assert 1 <= placed <= 8  # eight candidate positions around one point, then no room
    boxes = lab.boxes  # one row per reserved box: x0, y0, x1, y1 (pixels)
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            assert not (a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3])


_REASON = browser_unavailable_reason()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(_REASON is not None, reason=f"browser test: {_REASON}")
def test_browser_labels_do_not_overlap_and_markers_have_no_focus_box(tmp_path: Path, toy_zoning, screened) -> None:
    html_path = save_map(toy_zoning, tmp_path / "map.html", screened)
    with open_page(html_path, wait_for="window.ecozone && window.ecozone.ready", viewport=(1200, 800)) as (page, log):
        for zoom in (11, 14):
            page.evaluate(f"window.ecozone.map.setView(window.ecozone.sites['OK'].getLatLng(), {zoom}, {{animate: false}})")
            page.wait_for_timeout(400)
            rects = page.evaluate(
                """() => Array.from(document.querySelectorAll('.eco-site-label, .eco-zone-label'))
                     .filter(el => el.style.visibility !== 'hidden' && getComputedStyle(el).display !== 'none')
                     .map(el => { const t = el.firstChild && el.firstChild.getBoundingClientRect ? el.firstChild : el;
                                  const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })
                     .filter(r => r[2] > r[0])"""
            )
            assert rects
            for i, a in enumerate(rects):
                for b in rects[i + 1 :]:
                    assert not (a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]), (zoom, a, b)
        assert page.locator(".eco-mark svg[data-verdict]").count() >= 2  # point sites are shaped markers
        assert page.locator(".eco-mark[tabindex]").count() == 0  # not focusable: no black focus box on click
        fills = page.evaluate(
            "Array.from(document.querySelectorAll('path.leaflet-interactive')).map(p => p.getAttribute('fill'))"
        )
        assert "url(#eco-hatch-red)" in fills
        assert page.locator("#eco-hatch-red").count() == 1 and page.locator(".eco-north").count() == 1
        assert page.locator(".leaflet-control-scale").count() == 1
        assert log.errors == [], log.errors
