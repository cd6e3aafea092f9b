"""永久基本农田 permanent basic farmland."""

from __future__ import annotations

from layers._common import id_field
from layers.base import ClassStyle, IndicatorRole, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="farmland",
    report=ReportRole("other", 1, True, "land", False),
    label_zh="永久基本农田",
    label_en="Permanent basic farmland",
    geometry="polygon",
    fields=(id_field("jbntbh", "基本农田编号", "tbbh", "图斑编号"),),
    aliases=("farmland", "永久基本农田", "基本农田", "yjjbnt", "jbnt", "jbntbhtb"),
    name_field=None,
    status=4,
    standard=True,
    short_en="Basic farmland",
    draw_order=20,
    styles={"farmland": ClassStyle("永久基本农田", "farmland", fill_style("#ffd92f", 0.55, line="#d4b000", weight=0.6))},
    indicator=IndicatorRole("area", "farmland_area_km2"),
)
