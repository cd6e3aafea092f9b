"""The web pages' map key: the zoning legend, verdict symbols and the red line's hatch, as ``map.html`` draws them.

Everything is built from the map package's public pieces (class styles,
swatches, :func:`maps.zoning_map.marker_svg`, :func:`maps.zoning_map.map_style`)
so the result page and ``map.html`` show the same legend rows, the same
✕ ▲ ◆ ● symbols and the same hatched 生态保护红线.  Labels are Chinese only:
the page is read by planners, and no layer or class identifier is shown.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from layers import LAYER_ORDER
from maps import style as st
from maps.zoning_map import HATCH_DEFS, map_style, marker_svg

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
    e = html.escape
    out: list[str] = []
    for name, keys in legend_keys.items():
        label_zh = st.layer_label(name)[0]
        entries = (
            st.legend_entries(keys)
            if name in LAYER_ORDER
            else [(name, st.ClassStyle(label_zh, label_zh, st.EXTRA_LAYER_STYLE, "outline"))]
        )
        entries = [(k, st.ClassStyle(cs.label_zh, cs.label_en, map_style(k), cs.kind)) for k, cs in entries]
        single = len(entries) == 1 and (":" not in entries[0][0] or name not in st.LAYER_CLASS_FIELD)
        out.append(f'<div class="eco-lg-group" data-layer="{e(name)}">')
        if single:
            out.append(f'<div class="eco-lg-row top">{st.swatch_html(entries[0][1])}<span>{e(label_zh)}</span></div>')
        else:
            out.append(f'<div class="eco-lg-head">{e(label_zh)}</div>')
            out.extend(f'<div class="eco-lg-row sub">{st.swatch_html(cs)}<span>{e(cs.label_zh)}</span></div>' for _, cs in entries)
        out.append("</div>")
    return "".join(out)


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
