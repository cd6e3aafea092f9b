"""饮用水水源保护区 drinking-water source protection zones (一级/二级/准)."""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import ClassStyle, FieldSpec, IndicatorRole, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC", "LEVELS"]

LEVELS = {
    "1": ("一级", "一级保护区", "一级水源保护区", "first", "level1", "level_1", "i"),
    "2": ("二级", "二级保护区", "二级水源保护区", "second", "level2", "level_2", "ii"),
    "quasi": ("准保护区", "准", "准水源保护区", "quasi-protection", "level3"),
}

SPEC = LayerSpec(
    name="water_source",
    report=ReportRole("redline", 3, True, "ecology", False),
    label_zh="饮用水水源保护区",
    label_en="Drinking-water source protection zone",
    geometry="polygon",
    fields=(
        id_field("bhqbh"),
        name_field("bhqmc", "保护区名称", "水源地名称", "syd"),
        FieldSpec(
            "level", "级别", ("bhqjb", "级别", "保护区级别", "保护级别", "jb", "bhqlb", "类别", "bhqlx", "保护区类型", "分级", "fj", "bhjb", "level_"), "enum", LEVELS, required=True
        ),
    ),
    aliases=("water_source", "水源保护区", "饮用水水源保护区", "饮用水源保护区", "sybhq", "water"),
    status=3,
    standard=True,
    short_en="Water sources",
    draw_order=40,
    class_field="level",
    styles={
        "water_source:1": ClassStyle("一级保护区", "level 1", fill_style("#08519c", 0.6)),
        "water_source:2": ClassStyle("二级保护区", "level 2", fill_style("#4292c6", 0.5)),
        "water_source:quasi": ClassStyle("准保护区", "quasi", fill_style("#9ecae1", 0.5, line="#6baed6")),
    },
    indicator=IndicatorRole("area", "water_source_area_km2"),
)
