"""近岸海域环境管控单元 near-shore sea control units with their 准入清单.

The 三线一单 schemes of coastal provinces zone the near-shore sea in units of their own
(优先保护 / 重点管控 / 一般管控), each with a 生态环境准入清单; like the land control units,
a unit's 禁止类 field bans project types (rule mode ``unit_prohibited``).
"""

from __future__ import annotations

from layers._common import code_field, name_field
from layers.base import ClassStyle, FieldSpec, IndicatorRole, LayerSpec, ReportRole, fill_style
from layers.control_unit import CATEGORIES

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="sea_unit",
    label_zh="近岸海域环境管控单元",
    label_en="Near-shore sea control unit",
    geometry="polygon",
    fields=(
        code_field("hyhjgkdybm", "jahyhjgkdybm", "海域单元编码", "海域管控单元编码", "近岸海域环境管控单元编码", "单元编码", "dybm"),
        name_field("hyhjgkdymc", "jahyhjgkdymc", "海域单元名称", "近岸海域环境管控单元名称", "单元名称", "dymc"),
        FieldSpec(
            "category",
            "单元类别",
            ("zhgkdyfl", "gkdylb", "单元类别", "管控单元类别", "管控类别", "单元分类", "类别", "dylb"),
            "enum",
            CATEGORIES,
            required=True,
        ),
        FieldSpec("prohibited", "禁止类项目", ("jzhy", "禁止类", "禁止行业", "禁止项目", "禁止准入"), "types"),
        FieldSpec("requirements", "准入清单", ("zrqd", "准入清单", "管控要求", "准入要求", "gkyq")),
    ),
    aliases=("sea_unit", "sea_units", "近岸海域环境管控单元", "海域管控单元", "海域环境管控单元", "jahyhjgkdy"),
    id_field="code",
    status=12,
    short_en="Sea units",
    draw_order=11,
    class_field="category",
    styles={
        "sea_unit:priority": ClassStyle("海域优先保护单元", "sea priority", fill_style("#41b6c4", 0.3, line="#1d91c0", weight=1.0)),
        "sea_unit:key": ClassStyle("海域重点管控单元", "sea key control", fill_style("#fe9929", 0.3, line="#cc4c02", weight=1.0)),
        "sea_unit:general": ClassStyle("海域一般管控单元", "sea general control", fill_style("#9ecae1", 0.3, line="#4292c6", weight=1.0)),
    },
    indicator=IndicatorRole("area", "sea_unit_area_km2"),
    coastal=True,
    report=ReportRole("coast", 2, False, "units", True),
)
