"""产业园区 / 工业园区 industrial parks: level, 规划环评 status, admitted and banned types.

The plans send new industry into parks and the heaviest types (化工, 有色金属冶炼,
平板玻璃 …) only into parks that are 依法合规设立并经规划环评 (连州 plan L875,
阳江高新区 plan L270–272), so a park records whether its 规划环评 is done.
``allowed`` and ``banned`` hold project types (Chinese or English, separated
by ``;；,，、/`` or spaces), read with the project-type vocabulary like a unit's
禁止类 list.
"""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import NOT_MEASURED, ClassStyle, FieldSpec, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC", "LEVELS", "EIA_STATUS"]

LEVELS = {
    "national": ("国家级", "国家", "国家级开发区", "国家级园区", "national_level"),
    "provincial": ("省级", "省", "省级开发区", "省级园区", "省产业园", "province"),
    "city": ("市级", "地市级", "市", "市级园区"),
    "county": ("县级", "县", "县级园区", "县区级"),
}
#: 规划环评 done?  Unknown is kept apart: it must not pass as done, nor as missing.
EIA_STATUS = {
    "yes": ("是", "已开展", "已完成", "已审查", "已批复", "通过", "有", "true", "1", "y", "done", "approved"),
    "no": ("否", "未开展", "未完成", "无", "没有", "false", "0", "n", "none"),
    "unknown": ("不详", "未知", "待核实", "不清楚", "?", "？"),
}

SPEC = LayerSpec(
    name="industrial_park",
    report=ReportRole("other", 3, False, "land", False),
    indicator=NOT_MEASURED,
    label_zh="产业园区",
    label_en="Industrial park",
    geometry="polygon",
    fields=(
        id_field("yqbm", "园区编码", "园区代码", "kfqdm", "开发区代码"),
        name_field("yqmc", "园区名称", "开发区名称", "kfqmc", "产业园名称"),
        FieldSpec("level", "园区级别", ("yqjb", "园区级别", "级别", "开发区级别", "jb"), "enum", LEVELS),
        FieldSpec(
            "eia_approved",
            "规划环评",
            ("ghhp", "规划环评", "规划环评情况", "是否开展规划环评", "规划环评审查", "hpzt", "eia"),
            "enum",
            EIA_STATUS,
            default="unknown",
        ),
        FieldSpec("allowed", "主导产业（准入类型）", ("zdcy", "主导产业", "准入产业", "准入类型", "允许类", "产业定位"), "types"),
        FieldSpec("banned", "禁止类项目", ("jzlx", "禁止类", "禁止产业", "禁止入园", "负面清单", "禁止类项目"), "types"),
    ),
    aliases=(
        "industrial_park", "industrial_parks", "产业园区", "工业园区", "工业园", "产业园", "开发区", "园区",
        "产业集聚区", "cyyq", "gyyq", "kfq",
    ),
    short_en="Industrial parks",
    draw_order=35,
    styles={"industrial_park": ClassStyle("产业园区", "industrial park", fill_style("#8856a7", 0.25, line="#6a3d8a", weight=1.2))},
    status=8,
    status_words=("位于产业园区内", "不在产业园区内"),
    status_concern=False,
)  # fmt: skip
