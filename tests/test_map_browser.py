"""The zoning map in a real headless Chromium (playwright driving /usr/bin/chromium).

Uses the 连州 demo (screened demo sites) when it is built, the toy county
otherwise.  All http(s) requests are aborted, so only basemap tiles fail; any
other JavaScript error fails the test.  A screenshot is saved under tmp_path.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely
from conftest import click_latlng
from pyproj import CRS

from maps.browser import browser_unavailable_reason, open_page
from maps.style import VERDICT_ZH, layer_label
from maps.zoning_map import save_map
from spatial.crs import WGS84, to_crs_geoms

_REASON = browser_unavailable_reason()
_DATA = Path(__file__).resolve().parents[1] / "spatial" / "data"
_HAS_DEMO = (_DATA / "lianzhou_demo.gpkg").exists() and (_DATA / "lianzhou_sites.gpkg").exists()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(_REASON is not None, reason=f"browser test: {_REASON}"),
]


@pytest.fixture(scope="module", params=["lianzhou", "coast"])
def screened(request, toy_zoning):
    """The demo zoning with the demo sites screened (toy county when the demo is absent); the coastal demo too."""
    from spatial.screening import screen

    if request.param == "coast":
        from spatial.zoning import coast_demo_sites_path, coast_demo_zoning_path, load_zoning

        if not coast_demo_zoning_path().exists():
            pytest.skip("coastal demo not built")
        return screen(coast_demo_sites_path(), load_zoning(coast_demo_zoning_path()))
    if _HAS_DEMO:
        from spatial.zoning import demo_sites_path, load_zoning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # demo data repairs are the data tests' business
            zoning = load_zoning()
            return screen(demo_sites_path(), zoning)
    import geopandas as gpd
    from conftest import km_box, km_line, km_point

    sites = gpd.GeoDataFrame(
        {"site_id": ["RL", "BAN", "ROAD", "OK"], "project_type": ["住宅", "电镀", "道路", "商业"]},
        geometry=[km_point(3.5, 3.5), km_box(11, 1, 12, 2), km_line((1, 7), (1, 9)), km_point(18, 19)],
        crs=toy_zoning.crs,
    )
    return screen(sites, toy_zoning)


def _lonlat(geom: shapely.Geometry, crs: CRS) -> tuple[float, float]:
    p = to_crs_geoms(np.asarray([shapely.point_on_surface(geom)], dtype=object), CRS.from_user_input(crs), WGS84)[0]
    return p.x, p.y


def _click(page, lon: float, lat: float, zoom: float) -> None:
    """Centre the map on a point at ``zoom`` and click it (after any open popup is gone)."""
    page.evaluate("window.ecozone.map.closePopup()")
    page.wait_for_function("!document.querySelector('.leaflet-popup')")
    click_latlng(page, "ecozone.map", lat, lon, zoom)


@pytest.mark.slow
def test_map_in_chromium(tmp_path: Path, screened) -> None:
    """No JS errors but blocked tiles; all layers in control + legend; site click -> verdict popup."""
    zoning, sites = screened.zoning, screened.sites
    html_path = save_map(zoning, tmp_path / "map.html", screened)
    labels = {n: layer_label(n, zoning.spec(n))[0] for n in zoning.layers if len(zoning.layers[n])}
    with open_page(html_path, wait_for="window.ecozone && window.ecozone.ready", viewport=(1400, 900)) as (page, log):
        control = page.locator(".leaflet-control-layers-overlays").inner_text()
        legend = page.locator(".eco-legend").inner_text()
        for name, zh in labels.items():
            assert zh in control, (name, control)
            assert zh in legend, (name, legend)
            assert page.locator(f'.eco-legend [data-layer="{name}"]').count() == 1, name
        assert f"项目选址（{len(sites)} 处）" in control
        for v in VERDICT_ZH.values():
            assert v in legend
        assert page.evaluate("Object.keys(window.ecozone.sites).length") == len(sites)
        page.wait_for_timeout(300)
        shot = tmp_path / "map.png"
        page.screenshot(path=str(shot))

        # one point site and one polygon site (when there is one): click -> popup with its verdict
        dims = shapely.get_dimensions(np.asarray(sites.geometry.values, dtype=object))
        picks = [int(np.flatnonzero(dims == 0)[0])]
        if (dims == 2).any():
            picks.append(int(np.flatnonzero(dims == 2)[0]))
        for i in picks:
            row = sites.iloc[i]
            lon, lat = _lonlat(row.geometry, sites.crs)
            _click(page, lon, lat, 15)
            popup = page.locator(".leaflet-popup-content .eco-site")
            popup.wait_for(state="visible")
            text = popup.inner_text()
            assert str(row["verdict_zh"]) in text, (row["site_id"], text)
            assert str(row["site_id"]) in text
            for rid in screened.hits.loc[screened.hits.site_id == row["site_id"], "rule_id"]:
                assert rid in text, (row["site_id"], rid)
            badge = popup.locator(".eco-pop-title .eco-badge").get_attribute("data-verdict")
            assert badge == row["verdict"]

        # zoning features stay clickable under the sites pane: a farmland parcel clear of layers drawn above it
        if "farmland" in zoning.layers:
            above = [zoning.layers[n].geometry.values for n in ("urban_boundary", "water_source", "protected_area", "redline", "corridor") if n in zoning.layers]
            cover = shapely.union_all(np.concatenate([np.asarray(a, dtype=object) for a in above])) if above else shapely.Polygon()
            cover = shapely.buffer(cover, 60)  # corridor buffers and line widths
            free = shapely.difference(np.asarray(zoning.layers["farmland"].geometry.values, dtype=object), cover)
            free = free[~shapely.is_empty(free)]
            site_cover = shapely.buffer(shapely.union_all(np.asarray(sites.geometry.values, dtype=object)), 300)
            free = shapely.difference(free, site_cover)
            free = free[~shapely.is_empty(free)]
            if len(free):
                best = free[np.argmax(shapely.area(free))]
                lon, lat = _lonlat(best, zoning.crs)
                _click(page, lon, lat, 15)
                pop = page.locator(".leaflet-popup-content .eco-pop")
                pop.wait_for(state="visible")
                assert labels["farmland"] in pop.inner_text()

        assert log.errors == [], log.errors
        assert all("tile.openstreetmap.org" in u for u in log.blocked_requests), log.blocked_requests[:3]
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}  map: {html_path} ({html_path.stat().st_size / 1e6:.2f} MB)")


def _opened(page, details, timeout_ms: float = 2000) -> bool:
    """Wait until a ``<details>`` element is open; False when it is not within the timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("el => el.open", arg=details.element_handle(), timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


@pytest.mark.slow
def test_amap_map_in_chromium_long_text_toggle(tmp_path: Path, screened) -> None:
    """高德 basemap page runs clean; a control unit popup truncates 准入清单 text with 更多/more."""
    zoning = screened.zoning
    html_path = save_map(zoning, tmp_path / "amap.html", screened, basemap="amap")
    with open_page(html_path, wait_for="window.ecozone && window.ecozone.ready") as (page, log):
        assert page.evaluate("window.ecozone.basemap") == "amap"
        assert "高德" in page.locator(".eco-legend").inner_text()
        # open the first control unit's popup directly: long text must be collapsed
        def open_popup() -> bool:
            return page.evaluate(
                """() => {
                    const gj = window.ecozone.layers['control_unit'][0];
                    let done = false;
                    gj.eachLayer(l => { if (!done) { l.openPopup(); done = true; } });
                    return done;
                }"""
            )

        assert open_popup()
        pop = page.locator(".leaflet-popup-content .eco-pop")
        pop.wait_for(state="visible")
        long_text = any(
            isinstance(v, str) and len(v) > 120 for c in ("requirements", "spatial_layout", "emission_control")
            for v in zoning.layers["control_unit"].get(c, [])
        )
        if long_text:
            more = pop.locator("details.eco-more").first
            assert more.get_attribute("open") is None
            # The popup may still be panning into view when the mouse arrives (Leaflet's autoPan,
            # slower on a loaded machine): a click that lands beside the moving summary lands on the
            # map, which closes the popup.  Then the popup is opened again and the click retried.
            from playwright.sync_api import TimeoutError as PlaywrightTimeout

            for _ in range(3):
                if not pop.count():
                    assert open_popup()
                    pop.wait_for(state="visible")
                try:
                    more.locator("summary").click(timeout=5000)
                except PlaywrightTimeout:
                    continue
                if _opened(page, more):
                    break
            assert more.get_attribute("open") is not None
        assert log.errors == [], log.errors
        assert all("autonavi.com" in u for u in log.blocked_requests), log.blocked_requests[:3]
        bottom = "land_sea" if "land_sea" in zoning.layers else "control_unit"  # the sea under the units
        assert json.loads(json.dumps(page.evaluate("window.ecozone.drawOrder")))[0] == bottom
