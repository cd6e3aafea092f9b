"""生态保护红线 ecological protection red line (陆域 / 海洋).

The marine red line (海洋生态保护红线) is this layer with ``kind: marine``, not a kind of its
own: it is part of the one 生态保护红线, so every red-line rule, the 涉及生态保护红线 summary
and the red-line indicators apply to it unchanged; rules for the sea alone (no 围填海 in the
marine red line) select it with ``where: {kind: marine}``.
"""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import ClassStyle, FieldSpec, IndicatorRole, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC", "KINDS"]

KINDS = {
    "land": ("陆域", "陆地", "陆域生态保护红线", "陆域红线", "terrestrial"),
    "marine": ("海洋", "海域", "海洋生态保护红线", "海洋红线", "sea"),
}

SPEC = LayerSpec(
    name="redline",
    report=ReportRole("redline", 1, True, "ecology", False),
    label_zh="生态保护红线",
    label_en="Ecological protection red line",
    geometry="polygon",
    fields=(
        id_field("hxbh", "红线编号"),
        name_field("hxmc", "红线名称"),
        FieldSpec("kind", "类型", ("hxlx", "红线类型", "红线类别", "类型", "lx", "type", "hxlb", "realm", "陆海属性"), "enum", KINDS, default="land"),
    ),
    aliases=("redline", "red_line", "生态保护红线", "生态红线", "红线", "sthx", "stbhhx", "eco_redline"),
    status=1,
    standard=True,
    short_en="Red line",
    draw_order=60,
    class_field="kind",
    styles={
        "redline:land": ClassStyle("生态保护红线", "red line", fill_style("#e60000", 0.35, line="#b30000", weight=1.2)),
        "redline:marine": ClassStyle("海洋生态保护红线", "marine red line", {**fill_style("#e60000", 0.3, line="#08519c", weight=1.5), "dashArray": "6 3"}),
    },
    indicator=IndicatorRole("area", "redline_area_km2", "redline_ratio_pct"),
)
