"""The web pages' map key: the zoning legend, verdict symbols and the red line's hatch, as ``map.html`` draws them.

Everything is built from the map package's public pieces (class styles,
swatches, :func:`maps.zoning_map.marker_svg`, :func:`maps.zoning_map.map_style`)
so the result page and ``map.html`` show the same legend rows, the same
✕ ▲ ◆ ● symbols and the same hatched 生态保护红线.  Labels are Chinese only:
the page is read by planners, and no layer or class identifier is shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from maps import style as st
from maps.zoning_map import HATCH_DEFS, legend_groups_html, marker_svg

__all__ = ["zoning_legend_html", "verdict_legend_html", "verdict_markers", "HATCH_DEFS", "MAX_LABELLED_SITES", "LABEL_NAMES_ZOOM"]

#: Permanent site labels only on maps with at most this many sites (as ``map.html``).
MAX_LABELLED_SITES = 60
#: Zoom from which site labels show the name as well as the id (as ``map.html``).
LABEL_NAMES_ZOOM = 12


def zoning_legend_html(legend_keys: Mapping[str, list[str]]) -> str:
    """Return the legend rows of the zoning layers drawn, grouped by layer, in Chinese.

    Parameters
    ----------
    legend_keys : mapping
        Layer -> class keys present (:func:`maps.style.class_keys`), in drawing order.

    Returns
    -------
    str
        HTML of ``.eco-lg-group`` blocks (``data-layer`` names the layer for tests, not the reader).
    """
    return legend_groups_html(legend_keys, st.layer_label, english=False)


def verdict_legend_html() -> str:
    """Return the legend rows of the site verdicts: the symbol of each (✕ 禁止, ▲ 限制, ◆ 关注, ● 符合).

    Returns
    -------
    str
        One ``.eco-lg-group`` block.
    """
    rows = "".join(
        f'<div class="eco-lg-row sub" data-verdict="{v}">{marker_svg(v, 16)}<span>{st.VERDICT_ZH[v]}</span></div>' for v in st.VERDICT_ORDER
    )
    return f'<div class="eco-lg-group" data-layer="sites"><div class="eco-lg-head">项目选址结论</div>{rows}</div>'


def verdict_markers() -> dict[str, str]:
    """Return the site symbol of each verdict (and of an unscreened site) as inline SVG, for the page script.

    Returns
    -------
    dict
        Verdict -> ``<svg>`` markup (24 px).
    """
    return {v: marker_svg(v) for v in (*st.VERDICT_ORDER, "site")}
