"""城镇开发边界 urban development boundary."""

from __future__ import annotations

from layers._common import id_field
from layers.base import LayerSpec

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="urban_boundary",
    label_zh="城镇开发边界",
    label_en="Urban development boundary",
    geometry="polygon",
    fields=(id_field(),),
    aliases=("urban_boundary", "城镇开发边界", "开发边界", "czkfbj", "ubg"),
    name_field=None,
    status=5,
)
