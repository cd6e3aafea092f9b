"""三线一单 环境管控单元 with their 生态环境准入清单.

National 成果数据 field codes (HJZHGKDYBM, ZHGKDYFL, KJBJYS …) are recognised
without a manifest.  Unit codes follow ZH + 6-digit admin code + category
digit (1 优先保护 / 2 重点管控 / 3 一般管控) + 4-digit serial.
"""

from __future__ import annotations

import re

import pandas as pd

from layers._common import code_field, name_field
from layers.base import ClassStyle, FieldSpec, IndicatorRole, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC", "CATEGORIES", "CATEGORY_DIGIT", "DIMENSIONS", "CODE_PATTERN", "code_matches_category"]

CATEGORIES = {
    "priority": ("优先保护", "优先保护单元", "优先保护类", "优先", "1", "protection"),
    "key": ("重点管控", "重点管控单元", "重点管控类", "重点", "2"),
    "general": ("一般管控", "一般管控单元", "一般管控类", "一般", "3"),
}
CATEGORY_DIGIT = {"priority": "1", "key": "2", "general": "3"}
CATEGORY_ZH = {"priority": "优先保护单元", "key": "重点管控单元", "general": "一般管控单元"}
#: The four 准入清单 dimensions, in the order reviewers expect them.
DIMENSIONS = {
    "spatial_layout": "空间布局约束",
    "emission_control": "污染物排放管控",
    "risk_prevention": "环境风险防控",
    "resource_efficiency": "资源开发效率要求",
}
CODE_PATTERN = re.compile(r"^ZH(\d{6})([123])(\d{4})$")

SPEC = LayerSpec(
    name="control_unit",
    report=ReportRole(None, 0, False, "units", False),
    label_zh="环境管控单元",
    label_en="Environmental control unit",
    geometry="polygon",
    fields=(
        code_field("hjzhgkdybm", "hjgkdybm", "gkdybm", "单元编码", "管控单元编码", "环境管控单元编码", "dybm"),
        name_field("hjzhgkdymc", "hjgkdymc", "gkdymc", "单元名称", "管控单元名称", "环境管控单元名称", "dymc"),
        FieldSpec(
            "category",
            "单元类别",
            ("zhgkdyfl", "gkdylb", "单元类别", "管控单元类别", "单元分类", "管控类别", "单元类型", "管控单元类型", "类别", "分类", "dylb", "gkdyfl", "gklb", "dylx"),
            "enum",
            CATEGORIES,
            required=True,
        ),
        FieldSpec("prohibited", "禁止类项目", ("jzhy", "禁止类", "禁止行业", "禁止项目", "禁止准入"), "types"),
        FieldSpec("requirements", "准入清单", ("zrqd", "准入清单", "管控要求", "准入要求", "gkyq")),
        FieldSpec("spatial_layout", DIMENSIONS["spatial_layout"], ("kjbjys", "空间布局约束", "空间布局")),
        FieldSpec("emission_control", DIMENSIONS["emission_control"], ("pwwpfgk", "污染物排放管控", "污染物排放")),
        FieldSpec("risk_prevention", DIMENSIONS["risk_prevention"], ("hjfxfk", "环境风险防控", "风险防控")),
        FieldSpec(
            "resource_efficiency",
            DIMENSIONS["resource_efficiency"],
            ("zykfxlyq", "资源开发效率要求", "资源利用效率要求", "资源开发利用效率"),
        ),
    ),
    aliases=("control_unit", "control_units", "环境管控单元", "管控单元", "hjgkdy", "zhgkdy", "三线一单"),
    id_field="code",
    status=7,
    standard=True,
    summary="unit",
    short_en="Control units",
    draw_order=10,
    class_field="category",
    styles={
        "control_unit:priority": ClassStyle("优先保护单元", "priority", fill_style("#31a354", 0.22, line="#238b45", weight=1.0)),
        "control_unit:key": ClassStyle("重点管控单元", "key control", fill_style("#fd8d3c", 0.3, line="#e6550d", weight=1.0)),
        "control_unit:general": ClassStyle("一般管控单元", "general control", fill_style("#d9d9a0", 0.3, line="#a5a57a", weight=1.0)),
        "control_unit": ClassStyle("其他单元", "other", fill_style("#bdbdbd", 0.25, line="#969696")),
    },
    indicator=IndicatorRole("count"),
)


def code_matches_category(codes: pd.Series, categories: pd.Series) -> pd.Series:
    """Tell which unit codes are well formed and carry their category digit.

    Parameters
    ----------
    codes : Series of str
        Unit codes.
    categories : Series of str
        Canonical categories (``priority``/``key``/``general``).

    Returns
    -------
    Series of bool
        True where the code matches ``ZH`` + 6 digits + category digit + 4 digits.
    """
    parts = codes.astype("string").str.extract(CODE_PATTERN)
    digit = categories.map(CATEGORY_DIGIT)
    return (parts[1] == digit).fillna(False).astype(bool)
