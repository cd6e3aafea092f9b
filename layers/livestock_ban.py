"""畜禽禁养区 livestock-farming ban areas (畜禽养殖禁养区).

Counties delimit them by 划定方案 (连州: 《连州市禽畜养殖禁养区划定调整方案》,
003 L14; 开平 000 L624); inside, livestock farming is not allowed.
"""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import NOT_MEASURED, ClassStyle, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="livestock_ban",
    report=ReportRole("other", 4, True, "land", False),
    indicator=NOT_MEASURED,
    label_zh="畜禽禁养区",
    label_en="Livestock ban area",
    geometry="polygon",
    fields=(id_field("jyqbh", "禁养区编号"), name_field("jyqmc", "禁养区名称")),
    aliases=("livestock_ban", "畜禽禁养区", "畜禽养殖禁养区", "禽畜养殖禁养区", "禁养区", "jyq", "xqjyq"),
    short_en="Livestock ban areas",
    draw_order=37,
    styles={"livestock_ban": ClassStyle("畜禽禁养区", "livestock ban area", fill_style("#a6761d", 0.3, line="#8c6d31", weight=0.8))},
    status=10,
)
