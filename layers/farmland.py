"""永久基本农田 permanent basic farmland."""

from __future__ import annotations

from layers._common import id_field
from layers.base import LayerSpec

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="farmland",
    label_zh="永久基本农田",
    label_en="Permanent basic farmland",
    geometry="polygon",
    fields=(id_field("jbntbh", "基本农田编号", "tbbh", "图斑编号"),),
    aliases=("farmland", "永久基本农田", "基本农田", "yjjbnt", "jbnt", "jbntbhtb"),
    name_field=None,
    status=4,
)
