"""Zoning layer kinds: one module each, registered by standard name.

>>> from layers import REGISTRY
>>> REGISTRY["redline"].label_zh
'生态保护红线'
"""

from __future__ import annotations

from layers import (
    boundary,
    control_unit,
    corridor,
    env_zone,
    farmland,
    general_eco_space,
    industrial_park,
    livestock_ban,
    protected_area,
    redline,
    sensitive_receptor,
    urban_boundary,
    water_source,
)
from layers.base import FieldSpec, LayerSpec, clean_key

__all__ = ["REGISTRY", "LAYER_ORDER", "FieldSpec", "LayerSpec", "spec_for_layer_name", "generic_spec"]

REGISTRY: dict[str, LayerSpec] = {
    m.SPEC.name: m.SPEC
    for m in (
        boundary, redline, protected_area, water_source, control_unit, farmland, urban_boundary, corridor,
        industrial_park, general_eco_space, env_zone, sensitive_receptor, livestock_ban,
    )
}  # fmt: skip
#: Display and processing order.
LAYER_ORDER = list(REGISTRY)


def spec_for_layer_name(name: str) -> LayerSpec | None:
    """Find the standard layer a source layer/file name stands for.

    Parameters
    ----------
    name : str
        A GeoPackage layer name or file stem (Chinese or English).

    Returns
    -------
    LayerSpec or None
        The matching spec, or None for an extra layer.
    """
    key = clean_key(name)
    for spec in REGISTRY.values():
        if key in {clean_key(a) for a in (spec.name, *spec.aliases)}:
            return spec
    return None


def generic_spec(name: str) -> LayerSpec:
    """Spec for an extra layer (e.g. ``town``): just ``name`` and ``code``.

    Parameters
    ----------
    name : str
        Layer name.

    Returns
    -------
    LayerSpec
        A permissive spec of any geometry.
    """
    from layers._common import code_field, name_field

    return LayerSpec(
        name=name,
        label_zh=name,
        label_en=name,
        geometry="any",
        fields=(name_field("xzmc", "乡镇名称", "镇名"), code_field("xzdm", "乡镇代码")),
        id_field="code",
    )
