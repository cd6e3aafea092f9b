"""生态廊道 ecological corridors (rivers, roads, green ways) and their buffers.

Road widths, each side, are the building-control zone of 《公路安全保护条例》
(国务院令第593号) 第十一条, measured from the 公路用地 outer edge: 高速 30 m,
国道 20 m, 省道 15 m, 县道 10 m, 乡道 5 m.  River and green corridors default to
20 m, the width 《连州市创建国家生态文明建设示范市规划》 L956 recommends
("宜控制在20米以上"); a ``width_m`` in the data overrides both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers._common import id_field, name_field
from layers.base import FieldSpec, IndicatorRole, LayerSpec, ReportRole, format_rows, line_styles

__all__ = ["SPEC", "KINDS", "ROAD_CLASSES", "DEFAULT_WIDTH_M", "widths"]

KINDS = {
    "river": ("河流", "水系", "水系廊道", "河道", "河", "江", "water", "stream"),
    "road": ("道路", "公路", "交通", "交通廊道", "道路廊道", "highway"),
    "green": ("绿道", "绿廊", "生态绿廊", "greenway", "绿带"),
}
ROAD_CLASSES = {
    "expressway": ("高速公路", "高速", "motorway", "高速路"),
    "national": ("国道", "national_road", "trunk"),
    "provincial": ("省道", "provincial_road"),
    "county": ("县道", "county_road"),
    "township": ("乡道", "township_road"),
}
#: Metres each side; basis: 连州 plan L956.
DEFAULT_WIDTH_M = {
    "expressway": 30.0,
    "national": 20.0,
    "provincial": 15.0,
    "county": 10.0,
    "township": 5.0,  # 《公路安全保护条例》第十一条（四）
    "river": 20.0,
    "green": 20.0,
    "road": 10.0,  # a road of unknown class gets the narrowest statutory width
}

def _infer_kind(fields: pd.DataFrame) -> pd.Series:
    """Infer the kind: a corridor with a road class is a road, without one a river."""
    road_class = fields["road_class"] if "road_class" in fields else pd.Series([None] * len(fields), index=fields.index)
    return pd.Series(np.where(road_class.notna(), "road", "river"), index=fields.index, dtype=object)


def _reach(layer: pd.DataFrame) -> np.ndarray:
    """Each corridor's control width: how far it reaches beyond its line (see :func:`widths`)."""
    return widths(layer)


def _check_width(fields: pd.DataFrame) -> list[tuple[str, str]]:
    """Flag widths that are zero or negative (a given width is never silently replaced by the default)."""
    if "width_m" not in fields:
        return []
    w = pd.to_numeric(fields["width_m"], errors="coerce")
    bad = np.flatnonzero((fields["width_m"].notna() & (w <= 0)).to_numpy())
    if not len(bad):
        return []
    ids = fields["id"] if "id" in fields else pd.Series([None] * len(fields), index=fields.index)
    rows = [f"要素 {i + 1}{'（' + str(ids.iloc[i]) + '）' if pd.notna(ids.iloc[i]) else ''}: {w.iloc[i]:g}" for i in bad]
    return [
        (
            f"控制宽度 width_m 须为正数（米，每侧），不能为零或负数：{format_rows(rows, 10)}。请改正；留空则按廊道类型/道路等级取默认宽度",
            f"width_m must be a positive number of metres (each side): {format_rows(rows, 10)}; fix it, or leave it empty for the default",
        )
    ]


SPEC = LayerSpec(
    name="corridor",
    report=ReportRole("other", 6, False, "land", True),
    label_zh="生态廊道",
    label_en="Ecological corridor",
    geometry="line_or_polygon",
    fields=(
        id_field("ldbh"),
        name_field("ldmc", "廊道名称", "河流名称", "道路名称", "hlmc", "dlmc"),
        FieldSpec(
            "kind",
            "廊道类型",
            ("ldlx", "廊道类型", "廊道类别", "类型", "类别", "lx", "type"),
            "enum",
            KINDS,
            required=True,
            derive=_infer_kind,
        ),
        FieldSpec("road_class", "道路等级", ("dldj", "道路等级", "公路等级", "等级", "gldj"), "enum", ROAD_CLASSES),
        # 《公路安全保护条例》第十一条 measures the building-control zone from the 公路用地 outer edge:
        # for a centreline, its distance to that edge is added to the class width.
        FieldSpec("land_m", "公路用地外缘距中线(米)", ("land_m", "公路用地半宽", "用地半宽", "公路用地外缘距离"), "number"),
        FieldSpec("width_m", "控制宽度(米)", ("width", "宽度", "宽度(米)", "宽度（米）", "廊道宽度", "控制宽度", "控制宽度(m)", "kd", "kzkd"), "number"),
    ),
    aliases=("corridor", "corridors", "生态廊道", "廊道", "stld"),
    reach=_reach,  # a site within a corridor's width touches it
    status=6,
    short_en="Corridors",
    draw_order=70,
    class_field="kind",
    styles=line_styles(
        "corridor",
        {
            "river": ("河流", "river", "#1f78b4", "#a6cee3", "#6baed6"),
            "road": ("道路", "road", "#8c510a", "#bdb3a4", "#8c7b6b"),
            "green": ("绿道", "greenway", "#4d9221", "#b8e186", "#7fbc41"),
        },
        weight=2.5,
        fill_opacity=0.45,
    ),
    indicator=IndicatorRole("length", by="kind", labels={"river": "河流廊道", "road": "道路廊道", "green": "绿道廊道"}),


    check=_check_width,
    kind_field="kind",  # a road rule is answered with roads, a river rule with rivers
)


def widths(layer: pd.DataFrame) -> np.ndarray:
    """Buffer width (metres, each side) of every corridor feature.

    ``width_m`` overrides; otherwise roads by class (plus ``land_m``, the
    distance from the centreline to the 公路用地 outer edge, where given),
    rivers and green ways by kind.

    Parameters
    ----------
    layer : DataFrame
        A normalised corridor layer.

    Returns
    -------
    ndarray of float
        Widths in metres.
    """
    by_class = layer["road_class"].map(DEFAULT_WIDTH_M)
    by_kind = layer["kind"].map(DEFAULT_WIDTH_M)
    w = by_class.where(layer["kind"] == "road", by_kind).fillna(by_kind)
    if "land_m" in layer:
        land = pd.to_numeric(layer["land_m"], errors="coerce")
        w = w + land.where(land > 0, 0.0).fillna(0.0)
    override = pd.to_numeric(layer["width_m"], errors="coerce")
    return override.where(override > 0, w).to_numpy(dtype=float)
