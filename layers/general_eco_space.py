"""一般生态空间 general ecological space: 生态空间 outside the red line.

004 L284: "加强一般生态空间保护监管，禁止或限制大规模、高强度的工业和城镇建设";
连州's 生态空间 totals 1254.95 km² (003 L16), the red line included.
"""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import NOT_MEASURED, ClassStyle, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="general_eco_space",
    report=ReportRole("redline", 4, True, "ecology", False),
    indicator=NOT_MEASURED,
    label_zh="一般生态空间",
    label_en="General ecological space",
    geometry="polygon",
    fields=(id_field("ybstkjbh", "空间编号"), name_field("ybstkjmc", "空间名称")),
    aliases=("general_eco_space", "一般生态空间", "一般生态空间范围", "ybstkj", "general_ecological_space"),
    short_en="General eco-space",
    draw_order=15,
    styles={"general_eco_space": ClassStyle("一般生态空间", "general eco-space", fill_style("#c7e9c0", 0.4, line="#a1d99b", weight=0.8))},
    status=9,
)
