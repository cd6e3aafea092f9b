"""环境敏感目标 sensitive receptors: residences, schools, hospitals, care homes, reservoirs.

Points (a school's gate) or polygons (a village's extent).  Distance rules in
the catalogue pick receptors by ``kind``; the hit names the nearest receptor
and its distance.
"""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import NOT_MEASURED, ClassStyle, FieldSpec, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC", "KINDS"]

KINDS = {
    "residential": ("居民区", "居住区", "居民点", "居民", "住宅区", "小区", "村庄", "自然村", "行政村", "村", "社区", "集中居住区"),
    "school": ("学校", "中学", "小学", "幼儿园", "中小学", "学院", "大学", "职业学校", "教育"),
    "hospital": ("医院", "卫生院", "医疗机构", "医疗", "诊所", "卫生服务中心", "疾控中心"),
    "care_home": ("养老院", "敬老院", "福利院", "养老机构", "养老", "老年公寓", "颐养院"),
    "reservoir": ("水库", "水库集水区", "饮用水库"),
    "other": ("其他", "其它", "文物", "风景区", "机关"),
}

SPEC = LayerSpec(
    name="sensitive_receptor",
    report=ReportRole("other", 5, False, "land", True),
    indicator=NOT_MEASURED,
    label_zh="环境敏感目标",
    label_en="Sensitive receptor",
    geometry="point_or_polygon",
    fields=(
        id_field("mbbh", "目标编号", "敏感目标编号"),
        name_field("mbmc", "目标名称", "敏感目标名称", "敏感点名称", "保护目标名称"),
        FieldSpec(
            "kind",
            "敏感目标类型",
            ("mblx", "目标类型", "敏感目标类型", "敏感点类型", "保护目标类型", "类型", "类别", "lx", "type"),
            "enum",
            KINDS,
            required=True,
        ),
    ),
    aliases=(
        "sensitive_receptor", "sensitive_receptors", "环境敏感目标", "敏感目标", "环境保护目标", "保护目标",
        "敏感点", "环境敏感点", "hjmgmb", "mgmb",
    ),
    short_en="Sensitive receptors",
    draw_order=75,
    styles={"sensitive_receptor": ClassStyle("环境敏感目标", "sensitive receptor", fill_style("#e7298a", 0.5, line="#ce1256", weight=1.2))},
)  # fmt: skip
