"""行政区 boundary: the planning area; the only required layer."""

from __future__ import annotations

from layers._common import code_field, name_field
from layers.base import NOT_MEASURED, ClassStyle, LayerSpec, ReportRole

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="boundary",
    report=ReportRole(None, 0, False, None, False),
    indicator=NOT_MEASURED,
    nearest=False,
    label_zh="行政区",
    label_en="Administrative boundary",
    geometry="polygon",
    fields=(
        name_field("xzqmc", "行政区名称", "district_name", "县区名称"),
        code_field("xzqdm", "行政区代码", "行政区划代码", "district_adcode", "adcode"),
    ),
    aliases=("boundary", "行政区", "行政区划", "行政边界", "xzq", "县域", "规划范围", "admin"),
    id_field="code",
    short_en="Boundary",
    draw_order=80,
    styles={"boundary": ClassStyle("行政区", "boundary", {"color": "#000000", "weight": 2.5, "opacity": 1, "fill": False}, "outline")},
)
