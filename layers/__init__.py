"""Zoning layer kinds: one module each, registered by standard name.

>>> from layers import REGISTRY
>>> REGISTRY["redline"].label_zh
'生态保护红线'
"""

from __future__ import annotations

from layers import (
    boundary,
    coastline,
    control_unit,
    corridor,
    env_zone,
    farmland,
    general_eco_space,
    industrial_park,
    land_sea,
    livestock_ban,
    protected_area,
    redline,
    sea_unit,
    sensitive_receptor,
    urban_boundary,
    water_source,
)
from layers.base import REPORT_SECTIONS, FieldSpec, LayerSpec, ReportRole, clean_key

__all__ = ["REGISTRY", "LAYER_ORDER", "FieldSpec", "LayerSpec", "spec_for_layer_name", "generic_spec", "status_layers", "draw_order", "section_layers", "figure_layers", "report_layers"]

REGISTRY: dict[str, LayerSpec] = {
    m.SPEC.name: m.SPEC
    for m in (
        boundary, redline, protected_area, water_source, control_unit, farmland, urban_boundary, corridor,
        industrial_park, general_eco_space, env_zone, sensitive_receptor, livestock_ban, coastline,
        sea_unit, land_sea,
    )
}  # fmt: skip
#: Display and processing order.
LAYER_ORDER = list(REGISTRY)


def draw_order() -> list[str]:
    """Return the standard layers in map stacking order, bottom first.

    Returns
    -------
    list of str
        Names sorted by ``LayerSpec.draw_order``.
    """
    return sorted(REGISTRY, key=lambda n: REGISTRY[n].draw_order)


def status_layers() -> list[str]:
    """Return the layers every site is told 涉及/不涉及 about, in the order they are listed.

    Returns
    -------
    list of str
        Names of the specs with a ``status`` position, by that position.
    """
    return sorted((n for n, s in REGISTRY.items() if s.status is not None), key=lambda n: REGISTRY[n].status)


def _roles() -> list[tuple[str, ReportRole]]:
    """Return (name, report role) of every standard layer, by row order."""
    return sorted(((n, s.report) for n, s in REGISTRY.items() if s.report is not None), key=lambda item: item[1].order)


def section_layers(section: str) -> tuple[str, ...]:
    """Return the layers with a row in a report section, in row order.

    Parameters
    ----------
    section : {'redline', 'quality', 'coast', 'other'}
        Section (``ReportRole.section``).

    Returns
    -------
    tuple of str
        Names by ``ReportRole.order``.
    """
    return tuple(n for n, role in _roles() if role.section == section)


def figure_layers(group: str) -> tuple[str, ...]:
    """Return the layers a 附图 group draws, in order.

    Parameters
    ----------
    group : {'ecology', 'units', 'land'}
        Group (``ReportRole.figure``).

    Returns
    -------
    tuple of str
        Names by section, then ``ReportRole.order``.
    """
    return tuple(n for n, role in sorted(_roles(), key=lambda item: item[1].section or "") if role.figure == group)


def report_layers(flag: str) -> tuple[str, ...]:
    """Return the layers whose ``ReportRole`` sets ``flag`` (``constraint`` or ``control_zone``), in report order.

    Parameters
    ----------
    flag : {'constraint', 'control_zone'}
        A boolean field of :class:`~layers.base.ReportRole`.

    Returns
    -------
    tuple of str
        Names by section, then row order.
    """
    return tuple(n for sec in REPORT_SECTIONS for n in section_layers(sec) if getattr(REGISTRY[n].report, flag))


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
