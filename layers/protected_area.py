"""自然保护地 protected areas with 核心保护区 / 一般控制区 zones.

Old-style reserves are zoned 核心区 / 缓冲区 / 实验区; under the 2019
《关于建立以国家公园为主体的自然保护地体系的指导意见》 核心区 and 缓冲区 become
核心保护区 and 实验区 becomes 一般控制区, so the synonyms follow that rule.
"""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import ClassStyle, FieldSpec, IndicatorRole, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC", "TYPES", "ZONES"]

TYPES = {
    "nature_reserve": ("自然保护区", "国家级自然保护区", "省级自然保护区", "市级自然保护区", "县级自然保护区", "reserve"),
    "national_park": ("国家公园",),
    "forest_park": ("森林公园", "国家森林公园", "省级森林公园"),
    "wetland_park": ("湿地公园", "国家湿地公园", "省级湿地公园"),
    "scenic_area": ("风景名胜区", "风景区", "scenic"),
    "geopark": ("地质公园", "国家地质公园"),
    "other": ("其他", "其它", "自然公园", "水产种质资源保护区", "海洋公园", "沙漠公园", "草原公园"),
}
ZONES = {
    "core": ("核心保护区", "核心区", "核心", "缓冲区", "core_zone", "核心保护"),
    "general": ("一般控制区", "一般控制", "一般区", "实验区", "一般保护区", "general_zone", "控制区"),
}

SPEC = LayerSpec(
    name="protected_area",
    report=ReportRole("redline", 2, True, "ecology", False),
    label_zh="自然保护地",
    label_en="Protected area",
    geometry="polygon",
    fields=(
        id_field("bhdbh", "保护地编号", "zrbhdbm"),
        name_field("bhdmc", "保护地名称", "zrbhdmc", "保护区名称"),
        FieldSpec("type", "类型", ("bhdlx", "保护地类型", "保护地类别", "类型", "类别", "lx", "zrbhdlx"), "enum", TYPES, default="other"),
        FieldSpec(
            "zone", "功能分区", ("gnfq", "功能分区", "分区", "gkfq", "管控分区", "功能区", "fqmc", "分区名称", "fqlx", "分区类型"), "enum", ZONES, required=True
        ),
    ),
    aliases=("protected_area", "protected_areas", "自然保护地", "保护地", "自然保护区", "zrbhd", "pa"),
    status=2,
    standard=True,
    short_en="Protected areas",
    draw_order=50,
    class_field="zone",
    styles={
        "protected_area:core": ClassStyle("核心保护区", "core zone", fill_style("#006d2c", 0.55)),
        "protected_area:general": ClassStyle("一般控制区", "general zone", fill_style("#74c476", 0.5, line="#31a354")),
    },
    indicator=IndicatorRole("area", "protected_area_km2", "protected_ratio_pct"),
)
