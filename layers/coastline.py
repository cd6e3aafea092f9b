"""海岸线 coastline: natural, artificial and restored shoreline, with an optional control width.

The kind follows the 岸线 classes of coastal plans (自然岸线 / 人工岸线 /
生态恢复岸线); a shoreline's ``buffer_m`` (控制宽度, metres landward and
seaward) makes sites within it touch the line.  No rule ships for this layer:
a catalogue adds rules whose ``layer:`` is ``coastline`` once the clause they
cite is in hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers._common import id_field, name_field
from layers.base import FieldSpec, IndicatorRole, LayerSpec, ReportRole, line_styles

__all__ = ["SPEC", "KINDS"]

KINDS = {
    # 全国海岸线修测 classes: 自然岸线 = 砂质 / 淤泥质 / 基岩 / 生物岸线.
    "natural": ("自然岸线", "自然", "natural_coast", "zrax", "砂质岸线", "淤泥质岸线", "基岩岸线", "生物岸线"),
    "artificial": ("人工岸线", "人工", "artificial_coast", "rgax"),
    "restored": ("生态恢复岸线", "恢复岸线", "整治修复岸线", "修复岸线", "restored_coast", "stxfax"),
}


def _reach(layer: pd.DataFrame) -> np.ndarray:
    """Each shoreline's control width in metres (0 where none is given: the line itself)."""
    if "buffer_m" not in layer:
        return np.zeros(len(layer))
    w = pd.to_numeric(layer["buffer_m"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(w) & (w > 0), w, 0.0)


SPEC = LayerSpec(
    name="coastline",
    label_zh="海岸线",
    label_en="Coastline",
    geometry="line_or_polygon",
    fields=(
        id_field("axbh", "岸线编号"),
        name_field("axmc", "岸线名称"),
        FieldSpec("kind", "岸线类型", ("axlx", "岸线类型", "岸线类别", "类型", "type"), "enum", KINDS, required=True),
        FieldSpec("function", "岸线功能", ("axgn", "岸线功能", "功能", "function"), "text"),
        FieldSpec("buffer_m", "控制宽度(米)", ("kzkd", "控制宽度", "控制宽度(米)", "缓冲距离", "buffer"), "number"),
    ),
    aliases=("coastline", "coast", "海岸线", "岸线", "haxian", "ax"),
    reach=_reach,
    status=11,
    short_en="Coastline",
    draw_order=72,
    class_field="kind",
    styles=line_styles(
        "coastline",
        {
            "natural": ("自然岸线", "natural", "#006d2c", "#a1d99b", "#41ab5d"),
            "artificial": ("人工岸线", "artificial", "#636363", "#d9d9d9", "#969696"),
            "restored": ("生态恢复岸线", "restored", "#2b8cbe", "#a6bddb", "#74a9cf"),
        },
        weight=3,
        fill_opacity=0.4,
    ),
    indicator=IndicatorRole(
        "length",
        by="kind",
        labels={"natural": "自然岸线", "artificial": "人工岸线", "restored": "生态恢复岸线"},
        share=("natural", "natural_coastline_ratio_pct", "自然岸线保有率", "Natural coastline retention (natural / total length)"),
    ),
    coastal=True,
    report=ReportRole("coast", 1, False, "land", True),
)
