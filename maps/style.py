"""Map colours, verdict styles and legend entries; layer styles gathered from the layer specs.

Each zoning layer's class styles live in its ``layers/`` module
(``LayerSpec.styles``), following the conventions Chinese planning maps use
(红线 red, 自然保护地 greens, 水源保护区 blues, 三线一单 units
green/orange/yellow-grey, 基本农田 yellow) so a planner reads the map without
studying the legend.  Verdict colours are ColorBrewer's diverging
RdYlBu/RdYlGn end points (colour-blind safe in pairs).

Every zoning feature gets a *class key* (:func:`class_keys`): ``redline``,
``protected_area:core``, ``control_unit:key`` ... ; :data:`CLASS_STYLES` maps a
key to a Leaflet path style and :func:`legend_entries` lists the keys present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from layers import REGISTRY
from layers.base import REACH_SUFFIX, ClassStyle

__all__ = [
    "CJK_SANS",
    "VERDICT_COLOURS",
    "VERDICT_ZH",
    "VERDICT_EN",
    "VERDICT_ORDER",
    "SUITABILITY_COLOURS",
    "ClassStyle",
    "CLASS_STYLES",
    "LAYER_CLASS_FIELD",
    "HIDDEN_BY_DEFAULT",
    "EXTRA_LAYER_STYLE",
    "OVERLAP_STYLE",
    "UNSCREENED_COLOUR",
    "LAYER_SHORT_EN",
    "EXTRA_LABELS_ZH",
    "layer_label",
    "BUFFER_SUFFIX",
    "class_keys",
    "class_style",
    "legend_entries",
    "value_label",
    "project_type_zh",
    "swatch_html",
]

#: Chinese sans-serif families, in order of preference: the HTML report's font stack, the 附图 (matplotlib)
#: and the PDF (Typst) take the first one installed.
CJK_SANS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "SimHei", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")

#: Site verdict -> colour.
VERDICT_COLOURS: dict[str, str] = {
    "prohibited": "#d7191c",
    "restricted": "#fdae61",
    "notice": "#2b83ba",
    "compatible": "#1a9641",
}
VERDICT_ZH: dict[str, str] = {"prohibited": "禁止", "restricted": "限制", "notice": "关注", "compatible": "符合"}
VERDICT_EN: dict[str, str] = {
    "prohibited": "prohibited",
    "restricted": "restricted",
    "notice": "notice",
    "compatible": "compatible",
}
#: Most severe first (legend and summary order).
VERDICT_ORDER: tuple[str, ...] = ("prohibited", "restricted", "notice", "compatible")
#: Suitability class -> colour (verdict colours; the slope-only 限制 class in earth brown).
SUITABILITY_COLOURS: dict[str, str] = {**VERDICT_COLOURS, "restricted_slope": "#a6611a", "slope_unknown": "#bdbdbd"}
#: Colour of a plain site (no screening verdict).
UNSCREENED_COLOUR = "#6a3d9a"

#: Which standard field splits a layer into legend classes (from the layer specs).
LAYER_CLASS_FIELD: dict[str, str] = {name: spec.class_field for name, spec in REGISTRY.items() if spec.class_field}
#: Layers not shown when the map opens (still listed in the layer control).
HIDDEN_BY_DEFAULT: frozenset[str] = frozenset(name for name, spec in REGISTRY.items() if spec.hidden)
#: Class-key suffix of a layer's reach zone (a corridor's control buffer).
BUFFER_SUFFIX = REACH_SUFFIX
#: Class key -> style, in legend order: every layer spec's ``styles``, in registry order.
CLASS_STYLES: dict[str, ClassStyle] = {key: cs for spec in REGISTRY.values() for key, cs in spec.styles.items()}
#: Short English layer names for the layer control and legend (the specs' labels are long).
LAYER_SHORT_EN: dict[str, str] = {**{name: spec.short_en for name, spec in REGISTRY.items() if spec.short_en}, "town": "Townships"}
#: Chinese names of common extra layers.
EXTRA_LABELS_ZH: dict[str, str] = {"town": "乡镇界", "village": "村界", "county": "县界"}
#: Extra layers (``town`` ...): thin grey outline.
EXTRA_LAYER_STYLE = {"color": "#737373", "weight": 1.0, "opacity": 0.9, "fill": False, "dashArray": "3 3"}

#: Overlap part of a site with a zoning feature (non-interactive highlight).
OVERLAP_STYLE = {"weight": 2, "opacity": 1, "fillOpacity": 0.65, "dashArray": "4 3", "interactive": False}


def layer_label(name: str, spec: Any = None) -> tuple[str, str]:
    """Chinese and short English name of a layer (legend, layer control, report).

    Parameters
    ----------
    name : str
        Standard or extra layer name.
    spec : layers.base.LayerSpec, optional
        Its spec (for the Chinese name of standard layers).

    Returns
    -------
    (str, str)
        ``(label_zh, label_en)``.
    """
    if spec is None:
        spec = REGISTRY.get(name)
    zh = EXTRA_LABELS_ZH.get(name) or (spec.label_zh if spec is not None else name)
    en = LAYER_SHORT_EN.get(name) or (spec.label_en if spec is not None else name)
    return zh, en


def class_keys(layer: str, frame: pd.DataFrame) -> np.ndarray:
    """Legend class key of every feature of a zoning layer.

    Parameters
    ----------
    layer : str
        Standard layer name (extra layers get their own name as key).
    frame : DataFrame
        The normalised layer.

    Returns
    -------
    ndarray of str
        ``layer:value`` where the layer is split by a field and the value has a
        style, else ``layer``.
    """
    fld = LAYER_CLASS_FIELD.get(layer)
    if fld is None or fld not in frame:
        return np.full(len(frame), layer, dtype=object)
    keys = (layer + ":" + frame[fld].astype("string").fillna("")).astype(object).to_numpy()
    known = np.isin(keys, list(CLASS_STYLES))
    return np.where(known, keys, layer)


def class_style(key: str) -> dict[str, Any]:
    """Leaflet style of a class key (extra layers: thin grey outline).

    Parameters
    ----------
    key : str
        A class key from :func:`class_keys`.

    Returns
    -------
    dict
        Path options.
    """
    cs = CLASS_STYLES.get(key)
    if cs is None and ":" in key:
        cs = CLASS_STYLES.get(key.split(":", 1)[0])
    return dict(cs.style) if cs is not None else dict(EXTRA_LAYER_STYLE)


def legend_entries(keys: list[str] | tuple[str, ...]) -> list[tuple[str, ClassStyle]]:
    """Legend rows for the class keys present, in :data:`CLASS_STYLES` order.

    Parameters
    ----------
    keys : sequence of str
        Class keys drawn on the map.

    Returns
    -------
    list of (key, ClassStyle)
        Known keys in canonical order, then unknown (extra-layer) keys.
    """
    present = set(keys)
    out = [(k, cs) for k, cs in CLASS_STYLES.items() if k in present]
    for k in keys:
        if k not in CLASS_STYLES and k not in {o[0] for o in out}:
            out.append((k, ClassStyle(k, k, EXTRA_LAYER_STYLE, "outline")))
    return out


def swatch_html(cs: ClassStyle | Mapping[str, Any], kind: str | None = None) -> str:
    """Draw a legend swatch as inline SVG (no icon font needed offline).

    Parameters
    ----------
    cs : ClassStyle or mapping
        A class style, or bare path options.
    kind : {'fill', 'line', 'outline', 'point'}, optional
        Overrides the class's swatch kind.

    Returns
    -------
    str
        ``<svg>`` markup, 22 x 14 px.
    """
    style = dict(cs.style) if isinstance(cs, ClassStyle) else dict(cs)
    kind = kind or (cs.kind if isinstance(cs, ClassStyle) else "fill")
    stroke = style.get("color", "#333")
    width = min(float(style.get("weight", 1)), 3.0)
    dash = f' stroke-dasharray="{style["dashArray"]}"' if style.get("dashArray") else ""
    if kind == "line":
        body = f'<line x1="1" y1="7" x2="21" y2="7" stroke="{stroke}" stroke-width="{max(width, 2.5)}"{dash}/>'
    elif kind == "point":
        fill = style.get("fillColor", stroke)
        body = f'<circle cx="11" cy="7" r="5.5" fill="{fill}" stroke="#ffffff" stroke-width="1.5"/>'
    else:
        fill = style.get("fillColor", "none") if style.get("fill", True) else "none"
        fo = style.get("fillOpacity", 0.3) if fill != "none" else 0
        # Legend swatches sit on white: show fills a little stronger than on the map.
        fo = min(1.0, float(fo) * 1.4 + 0.1) if fo else 0
        body = (
            f'<rect x="1.5" y="1.5" width="19" height="11" fill="{fill}" fill-opacity="{fo:.2f}" '
            f'stroke="{stroke}" stroke-width="{max(width, 1.2)}"{dash}/>'
        )
    return f'<svg class="eco-swatch" width="22" height="14" viewBox="0 0 22 14" aria-hidden="true">{body}</svg>'


def value_label(layer_spec: Any, field_name: str, value: Any) -> str:
    """Chinese display text of a canonical field value (``core`` -> 核心保护区).

    Parameters
    ----------
    layer_spec : layers.base.LayerSpec
        The layer's spec.
    field_name : str
        Standard field name.
    value : Any
        Canonical value.

    Returns
    -------
    str
        The first Chinese synonym for enums, the value as text otherwise.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if field_name == "category" and layer_spec.name == "control_unit":
        from layers.control_unit import CATEGORY_ZH

        return CATEGORY_ZH.get(str(value), str(value))
    try:
        fs = layer_spec.field(field_name)
    except KeyError:
        return str(value)
    if fs.kind == "enum":
        syns = fs.values.get(str(value), ())
        return str(syns[0]) if syns else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def project_type_zh(name: Any) -> str:
    """Chinese name of a canonical project type (``chemical`` -> 化工).

    Parameters
    ----------
    name : Any
        Canonical project type.

    Returns
    -------
    str
        Chinese name, or the input as text when unknown.
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    from spatial.project_types import label_zh

    return label_zh(str(name))
