"""Offline map HTML: vendored assets inlined, no CDN left, page works without network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import pytest
from branca.element import MacroElement
from conftest import click_latlng
from folium.plugins import Fullscreen, MeasureControl, MousePosition
from folium.template import Template

from maps.browser import browser_unavailable_reason, open_page
from maps.offline import (
    OfflineAssetError,
    find_external_resources,
    load_manifest,
    make_offline,
    offline_html,
    save_offline,
    verify_vendor,
)
from spatial.errors import OutputExistsError

REDLINE = "生态保护红线"
SAMPLE = "采样点 A"
CENTER = (30.25, 120.15)  # lat, lon


class _Legend(MacroElement):
    """Minimal custom-HTML legend, the way ecozone maps add theirs."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="eco-legend" style="position:fixed;bottom:40px;right:12px;z-index:1000;
             background:#fff;padding:6px 10px;border:1px solid #999;">
          <b>图例</b><br><span style="color:#c00">&#9632;</span> 生态保护红线
        </div>
        {% endmacro %}
        """
    )


def _redline_geojson() -> dict:
    lat, lon = CENTER
    d = 0.03
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": REDLINE, "zone": "core"},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        ],
    }


def _demo_map(tiles: str | None = "OpenStreetMap") -> folium.Map:
    m = folium.Map(location=CENTER, zoom_start=12, control_scale=True, tiles=tiles)
    Fullscreen(position="topleft").add_to(m)
    MeasureControl(position="topright").add_to(m)
    MousePosition().add_to(m)
    folium.GeoJson(
        _redline_geojson(),
        name=REDLINE,
        style_function=lambda f: {"color": "#c00", "fillOpacity": 0.3},
        popup=folium.GeoJsonPopup(fields=["name"], aliases=["名称"]),
        tooltip=folium.GeoJsonTooltip(fields=["zone"]),
    ).add_to(m)
    # folium.Popup goes through jQuery ($(`...`)[0]) -> exercises the jQuery path
    folium.CircleMarker(
        [CENTER[0] + 0.05, CENTER[1] + 0.05], radius=10, color="#06c", fill=True,
        popup=folium.Popup(SAMPLE), tooltip="采样点",
    ).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    _Legend().add_to(m)
    return m


_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_HREF = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)


# --------------------------------------------------------------------------- pure Python


def test_vendor_matches_manifest_and_budget() -> None:
    """Vendored files match MANIFEST sha256s, licences are listed, total < 1 MB."""
    manifest = load_manifest()
    assert verify_vendor() == []
    names = {p["package"] for p in manifest["packages"]}
    assert {"leaflet", "leaflet.fullscreen", "leaflet-measure", "jquery"} <= names
    assert manifest["total_bytes"] < 1_000_000
    for pkg in manifest["packages"]:
        assert pkg["licence"] and pkg["licence_file"].startswith(pkg["package"] + "/")


def test_offline_html_has_no_external_script_or_link() -> None:
    """Every CDN script/stylesheet of a full ecozone-style map is inlined or removed."""
    raw = _demo_map().get_root().render()
    assert any(u.startswith("https://") for u in _SRC.findall(raw))  # folium uses CDNs
    html = make_offline(raw)
    for url in _SRC.findall(html) + _HREF.findall(html):
        assert not url.lower().startswith(("http://", "https://", "//")), url
    assert find_external_resources(html) == []
    for label in (
        "leaflet@1.9.4/leaflet.js",
        "leaflet@1.9.4/leaflet.css",
        "jquery@3.7.1/jquery.min.js",
        "leaflet.fullscreen@3.0.2/Control.FullScreen.js",
        "leaflet-measure@2.1.7/leaflet-measure.min.js",
        "leaflet-measure@2.1.7/leaflet-measure.css",
    ):
        assert html.count(f'data-ecozone-vendor="{label}"') == 1, label
    assert "bootstrap.bundle" not in html and "fontawesome" not in html.lower()
    # CSS images were inlined, the tile template is the only network URL left
    assert "url(images/" not in html and 'url("data:image/png;base64,' in html
    assert "tile.openstreetmap.org" in html
    assert REDLINE in html
    assert make_offline(html) == html  # idempotent


def test_jquery_only_when_used() -> None:
    """Without page code calling it (no folium.Popup), jQuery is dropped."""
    m = folium.Map(location=CENTER, tiles=None)
    folium.CircleMarker(CENTER, tooltip="只有提示").add_to(m)
    html = offline_html(m)
    assert "jquery@" not in html and "removed jquery" in html
    assert find_external_resources(html) == []


def test_unknown_cdn_asset_raises() -> None:
    """A plugin loading a non-vendored CDN file is caught, not shipped broken."""
    from folium.plugins import MarkerCluster

    m = folium.Map(location=CENTER, tiles=None)
    MarkerCluster().add_to(m)
    with pytest.raises(OfflineAssetError, match="markercluster"):
        offline_html(m)


def test_new_leaflet_version_is_not_silently_replaced() -> None:
    """A folium upgrade to an incompatible Leaflet raises instead of inlining 1.9."""
    raw = _demo_map().get_root().render().replace("leaflet@1.9.3", "leaflet@2.0.0")
    with pytest.raises(OfflineAssetError, match=r"leaflet@2\.0\.0"):
        make_offline(raw)


def test_use_of_stripped_awesome_markers_raises() -> None:
    """folium.Icon needs the stripped awesome-markers: raise with a fix."""
    m = folium.Map(location=CENTER, tiles=None)
    folium.Marker(CENTER, icon=folium.Icon(color="red", icon="info-sign")).add_to(m)
    with pytest.raises(OfflineAssetError, match="awesome-markers"):
        offline_html(m)


def test_plain_marker_gets_inline_default_icon() -> None:
    """Leaflet's default marker icon points at data: URIs."""
    m = folium.Map(location=CENTER, tiles=None)
    folium.Marker(CENTER).add_to(m)
    html = offline_html(m)
    assert "L.Icon.Default" in html and '"iconUrl": "data:image/png;base64,' in html


def test_inline_script_escaping() -> None:
    """Inlined code cannot close its <script>/<style> element early."""
    from maps.offline import escape_inline_css, escape_inline_js

    js = escape_inline_js("var a='</script><script>alert(1)</SCRIPT>'; var b='<!--';")
    assert "</script" not in js.lower() and "<!--" not in js
    assert js == "var a='<\\/script><script>alert(1)<\\/SCRIPT>'; var b='\\x3C!--';"
    assert "</style" not in escape_inline_css("a{content:'</style>'}").lower()


def test_save_offline_refuses_overwrite(tmp_path: Path) -> None:
    """save_offline writes atomically and keeps existing files unless forced."""
    out = save_offline(folium.Map(location=CENTER, tiles=None), tmp_path / "m.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(OutputExistsError):
        save_offline(folium.Map(location=CENTER, tiles=None), out)
    save_offline(folium.Map(location=CENTER, tiles=None), out, force=True)


# --------------------------------------------------------------------------- browser

_REASON = browser_unavailable_reason()
_needs_browser = pytest.mark.skipif(_REASON is not None, reason=f"browser test: {_REASON}")


@pytest.mark.slow
@pytest.mark.browser
@_needs_browser
def test_offline_map_works_in_chromium_without_network(tmp_path: Path) -> None:
    """Offline map runs in Chromium with all http(s) aborted; popups show Chinese."""
    m = _demo_map()
    html_path = save_offline(m, tmp_path / "map.html")
    name = m.get_name()
    with open_page(html_path, wait_for="typeof L !== 'undefined'") as (page, log):
        assert page.evaluate("typeof L") == "object"
        assert page.evaluate(f"window[{json.dumps(name)}] instanceof L.Map")
        for selector in (
            ".leaflet-control-zoom-fullscreen.fullscreen-icon",
            ".leaflet-control-measure",
            ".leaflet-control-scale",
            ".leaflet-control-layers",
            ".leaflet-control-mouseposition",
            ".eco-legend",
        ):
            assert page.locator(selector).count() >= 1, selector
        # CSS images came along as data: URIs
        for selector in (".leaflet-control-layers-toggle", ".fullscreen-icon"):
            bg = page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundImage")
            assert bg.startswith('url("data:image/'), (selector, bg[:60])

        click_latlng(page, name, CENTER[0], CENTER[1])
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible")
        assert REDLINE in popup.inner_text()
        # let the popup fade-in finish so the screenshot shows it opaque
        page.wait_for_function(
            "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
        )
        shot = tmp_path / "map.png"
        page.screenshot(path=str(shot))

        # folium.Popup (built with jQuery) on the circle marker
        click_latlng(page, name, CENTER[0] + 0.05, CENTER[1] + 0.05)
        page.wait_for_function(
            "t => document.querySelector('.leaflet-popup-content')?.innerText.includes(t)",
            arg=SAMPLE,
        )

        assert log.errors == [], log.errors
        assert log.blocked_requests, "tiles should have been requested and blocked"
        assert all("tile.openstreetmap.org" in u for u in log.blocked_requests), (
            log.blocked_requests[:5]
        )
    assert shot.stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.browser
@_needs_browser
def test_none_basemap_needs_no_network(tmp_path: Path) -> None:
    """A 'none' basemap makes no network request at all."""
    html_path = save_offline(_demo_map(tiles=None), tmp_path / "none.html")
    with open_page(html_path, wait_for="typeof L !== 'undefined'") as (page, log):
        page.wait_for_timeout(300)
        assert page.locator("path.leaflet-interactive").count() == 2
        assert log.errors == [], log.errors
        assert log.blocked_requests == []


@pytest.mark.slow
@pytest.mark.browser
@_needs_browser
def test_harness_sees_cdn_failure(tmp_path: Path) -> None:
    """Control: plain folium HTML with the network blocked shows "L is not defined"."""
    raw = tmp_path / "raw.html"
    _demo_map(tiles=None).save(str(raw))
    with open_page(raw) as (page, log):
        page.wait_for_timeout(200)
        assert any("L is not defined" in e for e in log.page_errors), log.errors
        assert any("leaflet" in u for u in log.blocked_requests)
