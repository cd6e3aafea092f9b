"""The suitability map in a real headless Chromium (network blocked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maps.browser import browser_unavailable_reason, open_page
from maps.style import SUITABILITY_COLOURS

_REASON = browser_unavailable_reason()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(_REASON is not None, reason=f"browser test: {_REASON}"),
]


@pytest.mark.slow
def test_suitability_map_in_chromium(tmp_path: Path) -> None:
    """Every area is drawn in its class colour, the legend names the classes, no JS error, and clicking shows the rules."""
    from maps.siting_map import save_suitability_map
    from spatial.rules import load_rules
    from spatial.suitability import suitability
    from spatial.zoning import load_zoning

    zoning = load_zoning(None)
    s = suitability(zoning, load_rules(), "化工")
    html_path = save_suitability_map(zoning, [s], tmp_path / "suitability.html")
    with open_page(html_path, wait_for="window.ecozone && window.ecozone.ready", viewport=(1400, 900)) as (page, log):
        drawn = page.evaluate(
            """() => {
                const out = [];
                for (const gj of window.ecozone.layers['suitability_chemical']) {
                    gj.eachLayer(l => out.push([l.feature.properties.k, l.options.fillColor]));
                }
                return out;
            }"""
        )
        assert len(drawn) == len(s.areas)
        assert all(colour == SUITABILITY_COLOURS[k] for k, colour in drawn)
        legend = page.locator(".eco-legend").all_inner_texts()
        assert any("适宜性" in t and "禁止" in t and "符合" in t for t in legend)
        control = page.locator(".leaflet-control-layers-overlays").inner_text()
        assert "适宜性" in control
        opened = page.evaluate(
            """() => {
                let text = null;
                window.ecozone.layers['suitability_chemical'][0].eachLayer(l => {
                    if (!text && l.feature.properties.k === 'prohibited') { l.openPopup(); text = true; }
                });
                return text;
            }"""
        )
        assert opened
        popup = page.locator(".leaflet-popup-content").inner_text()
        assert "触发规则" in popup and "禁止" in popup
        page.screenshot(path=str(tmp_path / "suitability.png"))
        assert not log.page_errors and not log.console_errors, (log.page_errors, log.console_errors)
