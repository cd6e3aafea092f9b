"""环境要素管控分区 element control zones of the 三线一单: 生态 / 大气 / 水 / 土壤.

The national 成果 data ship one layer per element, each with its own code and
name fields (``STHJYSGKFQBM``/``STHJZHGKFQMC``, ``DQHJGKFQBM``/``DQHJGKFQMC``,
``SHJGKFQBM``/``SHJGKFQMC``), the category ``ZHGKDYFL``, the element ``HJYS``
and the sub-kind ``YSXL`` (要素细类).  Those names are recognised without a
manifest; a layer's code column also tells its element when ``HJYS`` is absent,
and so does an element-specific sub-kind (高排放 is always air).

Sub-kinds (003 L711, L756–762):

* air: ``priority`` 优先保护区, ``high_emission`` 高排放, ``weak_diffusion`` 弱扩散,
  ``receptor_sensitive`` 受体敏感, ``layout_sensitive`` 布局敏感 重点管控区;
* water: ``priority`` 优先保护区, ``industrial`` 工业污染, ``urban`` 城镇生活污染,
  ``agricultural`` 农业污染 重点管控区;
* soil: ``farmland_priority`` 农用地优先保护区, ``construction_risk`` 建设用地污染风险重点管控区.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.base import NOT_MEASURED, ClassStyle, FieldSpec, LayerSpec, ReportRole, fill_style, format_rows
from layers.control_unit import CATEGORIES as UNIT_CATEGORIES

__all__ = ["SPEC", "CATEGORIES", "ELEMENTS", "SUB_KINDS", "SUB_KIND_ELEMENTS", "ELEMENT_CODE_FIELDS"]

ELEMENTS = {
    "air": ("大气", "大气环境", "大气环境管控分区", "环境空气", "dq", "dqhj"),
    "water": ("水", "水环境", "水环境管控分区", "地表水", "shj"),
    "soil": ("土壤", "土壤环境", "土壤环境风险管控分区", "土壤污染风险", "tr", "trhj"),
    "eco": ("生态", "生态环境", "生态空间", "生态环境管控分区", "sthj", "ecology"),
}
#: Folded YSXL/要素细类 synonyms per sub-kind; the full national wording comes first.
SUB_KINDS = {
    "priority": ("优先保护区", "大气环境优先保护区", "水环境优先保护区", "优先保护", "环境空气一类功能区"),
    "high_emission": ("大气环境高排放重点管控区", "高排放重点管控区", "高排放区", "高排放"),
    "weak_diffusion": ("大气环境弱扩散重点管控区", "弱扩散重点管控区", "弱扩散区", "弱扩散"),
    "receptor_sensitive": ("大气环境受体敏感重点管控区", "受体敏感重点管控区", "受体敏感区", "受体敏感"),
    "layout_sensitive": ("大气环境布局敏感重点管控区", "布局敏感重点管控区", "布局敏感区", "布局敏感"),
    "industrial": ("水环境工业污染重点管控区", "工业污染重点管控区", "工业污染", "工业源"),
    "urban": ("水环境城镇生活污染重点管控区", "城镇生活污染重点管控区", "城镇生活污染", "城镇生活"),
    "agricultural": ("水环境农业污染重点管控区", "农业污染重点管控区", "农业污染", "农业源"),
    "farmland_priority": ("农用地优先保护区", "农用地优先保护", "优先保护类农用地", "农用地优先保护类"),
    "construction_risk": ("建设用地污染风险重点管控区", "建设用地污染风险", "建设用地风险管控区", "污染地块"),
}
#: Which elements a sub-kind belongs to.
SUB_KIND_ELEMENTS = {
    "priority": ("air", "water"),
    "high_emission": ("air",),
    "weak_diffusion": ("air",),
    "receptor_sensitive": ("air",),
    "layout_sensitive": ("air",),
    "industrial": ("water",),
    "urban": ("water",),
    "agricultural": ("water",),
    "farmland_priority": ("soil",),
    "construction_risk": ("soil",),
}
#: National 成果 code and name fields per element (a layer's code column names its element).
ELEMENT_CODE_FIELDS = {
    "eco": ("sthjysgkfqbm", "sthjzhgkfqmc"),
    "air": ("dqhjgkfqbm", "dqhjgkfqmc"),
    "water": ("shjgkfqbm", "shjgkfqmc"),
}
#: Unit category words plus the zone wording (优先保护区, 重点管控区, 一般管控区).
CATEGORIES = {k: (*v, *(w.replace("单元", "区") for w in v if w.endswith("单元"))) for k, v in UNIT_CATEGORIES.items()}
_ELEMENT_ZH = {"air": "大气", "water": "水", "soil": "土壤", "eco": "生态"}


def _infer_element(fields: pd.DataFrame) -> pd.Series:
    """Element from an element-specific sub-kind (None where it does not say)."""
    sole = {k: v[0] for k, v in SUB_KIND_ELEMENTS.items() if len(v) == 1}
    sub = fields["sub_kind"] if "sub_kind" in fields else pd.Series([None] * len(fields), index=fields.index)
    return sub.map(sole).astype(object)


def _check(fields: pd.DataFrame) -> list[tuple[str, str]]:
    """Every zone has an element, and its sub-kind belongs to that element."""
    problems: list[tuple[str, str]] = []
    element = fields["element"]
    missing = [str(i) for i in fields.index[element.isna()]]
    if missing:
        problems.append(
            (
                f"无法判断环境要素（大气/水/土壤/生态），行：{format_rows(missing)}。"
                "请加 HJYS（环境要素）字段，或在清单 defaults 中写 element: 大气",
                f"cannot tell the element (air/water/soil/eco) of rows {format_rows(missing)}; "
                "add an HJYS column or a manifest default `element`",
            )
        )
    sub = fields["sub_kind"]
    allowed = sub.map(SUB_KIND_ELEMENTS)
    bad = [
        f"{i}: {sub[i]}（{_ELEMENT_ZH.get(element[i], element[i])}）"
        for i in fields.index[sub.notna() & element.notna()]
        if element[i] not in allowed[i]
    ]
    if bad:
        problems.append(
            (
                f"要素细类与环境要素不符，行：{format_rows(bad)}（如“高排放”只属于大气，“农用地优先保护”只属于土壤）",
                f"sub-kind does not belong to the element in rows {format_rows(bad)}",
            )
        )
    return problems


def _default_category(fields: pd.DataFrame) -> pd.Series:
    """优先保护 sub-kinds are priority zones, the other named sub-kinds key zones."""
    sub = fields["sub_kind"] if "sub_kind" in fields else pd.Series([None] * len(fields), index=fields.index)
    cat = np.where(sub.isin(["priority", "farmland_priority"]), "priority", np.where(sub.notna(), "key", None))
    return pd.Series(cat, index=fields.index, dtype=object)


SPEC = LayerSpec(
    name="env_zone",
    report=ReportRole("quality", 1, False, "units", False),
    indicator=NOT_MEASURED,
    label_zh="环境要素管控分区",
    label_en="Environmental element control zone",
    geometry="polygon",
    fields=(
        FieldSpec(
            "code",
            "分区编码",
            (*(c for c, _ in ELEMENT_CODE_FIELDS.values()), "管控分区编码", "分区编码", "要素管控分区编码", "fqbm", "编码", "bm"),
        ),
        FieldSpec(
            "name",
            "分区名称",
            (*(n for _, n in ELEMENT_CODE_FIELDS.values()), "sthjysgkfqmc", "管控分区名称", "分区名称", "fqmc", "名称", "mc"),
        ),
        FieldSpec("element", "环境要素", ("hjys", "环境要素", "要素", "要素类型", "ys"), "enum", ELEMENTS, derive=_infer_element),
        FieldSpec(
            "category",
            "管控类别",
            ("zhgkdyfl", "管控类别", "分区类别", "管控分区类别", "管控单元分类", "类别", "gklb"),
            "enum",
            CATEGORIES,
            derive=_default_category,
        ),
        FieldSpec("sub_kind", "要素细类", ("ysxl", "要素细类", "细类", "分区类型", "管控分区类型", "fqlx"), "enum", SUB_KINDS),
    ),
    aliases=(
        "env_zone", "env_zones", "环境要素管控分区", "要素管控分区", "大气环境管控分区", "水环境管控分区",
        "土壤环境风险管控分区", "生态环境管控分区", "dqhjgkfq", "shjgkfq", "sthjysgkfq", "element_zone",
    ),
    id_field="code",
    column_defaults={code: {"element": element} for element, (code, _) in ELEMENT_CODE_FIELDS.items()},
    check=_check,
    short_en="Element zones",
    draw_order=12,
    class_field="element",
    styles={
        "env_zone:air": ClassStyle("大气环境管控分区", "air zone", fill_style("#9e9ac8", 0.15, line="#756bb1", weight=1.0)),
        "env_zone:water": ClassStyle("水环境管控分区", "water zone", fill_style("#6baed6", 0.15, line="#3182bd", weight=1.0)),
        "env_zone:soil": ClassStyle("土壤环境风险管控分区", "soil zone", fill_style("#d8b365", 0.15, line="#a6761d", weight=1.0)),
        "env_zone:eco": ClassStyle("生态环境管控分区", "ecological zone", fill_style("#74c476", 0.15, line="#31a354", weight=1.0)),
        "env_zone": ClassStyle("其他要素分区", "other element zone", fill_style("#bdbdbd", 0.15, line="#969696")),
    },
    hidden=True,  # four overlapping element maps would bury the units: listed, switched on by the reader
    kind_field="element",  # an air rule is answered with air zones, a soil rule with soil zones
)  # fmt: skip
