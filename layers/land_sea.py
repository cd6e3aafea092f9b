"""陆海 land and sea: which part of the planning area is sea (海域), intertidal (滩涂) or land.

Rules on sea use (围填海) read this layer: a 围填海 finding needs a site at sea or on the
intertidal flats, and a 围填海-type site wholly on land is flagged as inconsistent.  The layer is
given by the planner (a 海域 polygon, or the county's sea and land faces); it is not derived
from a coastline line, which does not say on which side the sea lies.
"""

from __future__ import annotations

from layers._common import id_field, name_field
from layers.base import NOT_MEASURED, ClassStyle, FieldSpec, LayerSpec, ReportRole, fill_style

__all__ = ["SPEC", "KINDS"]

KINDS = {
    "sea": ("海域", "海", "近岸海域", "管辖海域", "marine", "ocean"),
    "intertidal": ("滩涂", "潮间带", "沿海滩涂", "海岸滩涂", "tidal_flat", "tidal"),
    "land": ("陆域", "陆地", "陆", "terrestrial"),
}

SPEC = LayerSpec(
    name="land_sea",
    label_zh="陆海分区",
    label_en="Land and sea",
    geometry="polygon",
    fields=(
        id_field("bh", "编号"),
        name_field("mc", "名称"),
        FieldSpec("kind", "陆海属性", ("lhsx", "陆海属性", "陆海类型", "realm", "类型", "type", "kind"), "enum", KINDS, required=True),
    ),
    aliases=("land_sea", "sea", "海域", "陆海分区", "海陆分区", "sea_area"),
    status=None,
    short_en="Land / sea",
    draw_order=2,
    class_field="kind",
    styles={
        "land_sea:sea": ClassStyle("海域", "sea", fill_style("#c6dbef", 0.45, line="#6baed6", weight=0.5)),
        "land_sea:intertidal": ClassStyle("滩涂", "intertidal", fill_style("#d8c9a3", 0.45, line="#a6946b", weight=0.5)),
        "land_sea:land": ClassStyle("陆域", "land", fill_style("#ffffff", 0.0, line="#bdbdbd", weight=0.3)),
    },
    indicator=NOT_MEASURED,
    report=ReportRole(None, 0, False, "land", False),
    nearest=False,
    coastal=True,
)
