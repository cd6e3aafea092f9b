"""城镇开发边界 urban development boundary."""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import ClassStyle, IndicatorRole, LayerSpec, ReportRole

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="urban_boundary",
    report=ReportRole("other", 2, False, "land", False),
    label_zh="城镇开发边界",
    label_en="Urban development boundary",
    geometry="polygon",
    fields=(id_field(), name_field("kfbjmc", "开发边界名称")),
    aliases=("urban_boundary", "城镇开发边界", "开发边界", "czkfbj", "ubg"),
    status=5,
    standard=True,
    short_en="Urban boundary",
    draw_order=30,
    styles={
        "urban_boundary": ClassStyle(
            "城镇开发边界",
            "urban boundary",
            {"color": "#7b3294", "weight": 2.2, "opacity": 1, "dashArray": "8 5", "fill": True, "fillColor": "#7b3294", "fillOpacity": 0.04},
            "outline",
        )
    },
    indicator=IndicatorRole("area", "urban_boundary_area_km2"),
    status_words=("位于城镇开发边界内", "位于城镇开发边界外"),
    status_concern=False,
)
