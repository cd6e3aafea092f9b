"""What describes a layer lives in its ``layers/`` module, and every consumer reads it from there.

A new layer kind must pass these checks: they are the contract the maps,
reports, indicators and screening rely on.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

import layers
from layers import REGISTRY
from layers.base import FIGURE_GROUPS, REACH_SUFFIX, REPORT_SECTIONS


@pytest.mark.parametrize("name", list(REGISTRY))
def test_spec_is_complete(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.name == name
    assert spec.label_zh and spec.label_en and spec.short_en
    assert spec.styles, f"{name}: no map style"
    for key in spec.styles:
        assert key == name or key.startswith(name + ":"), f"{name}: style key {key} must start with the layer name"
    if spec.class_field:
        field = spec.field(spec.class_field)
        for value in field.values:
            assert f"{name}:{value}" in spec.styles, f"{name}: no style for {spec.class_field}={value}"
    if spec.reach is not None:
        assert any(k.endswith(REACH_SUFFIX) for k in spec.styles), f"{name}: a layer with a reach needs a style for its reach zone"
    # Every layer fact is declared on the spec: a forgotten one would silently put the layer in no report
    # section, no 附图 and no indicator.
    assert spec.report is not None, f"{name}: no ReportRole (report section, constraint flag, 附图 group)"
    assert spec.report.section in (None, *REPORT_SECTIONS), f"{name}: unknown report section {spec.report.section}"
    assert spec.report.figure in (None, *FIGURE_GROUPS), f"{name}: unknown 附图 group {spec.report.figure}"
    assert spec.indicator is not None, f"{name}: no IndicatorRole (use NOT_MEASURED when indicators do not measure it)"
    from spatial.indicators import INDICATORS

    if spec.indicator.kind == "area":
        assert (spec.indicator.area or f"{name}_area_km2") in INDICATORS
    if spec.indicator.kind == "length":
        assert spec.indicator.by is not None, f"{name}: a length indicator needs the field it is reported by"
        values = spec.field(spec.indicator.by).values
        assert values and set(spec.indicator.labels) == set(values), f"{name}: a label per {spec.indicator.by} value"
        assert all(f"{name}_length_km_{v}" in INDICATORS for v in values)


def test_report_and_figures_read_the_specs() -> None:
    """The report's sections, summary lists and 附图 groups are the specs' ReportRoles, nothing more."""
    from maps import eia, figures

    for section, names in eia.SECTION_LAYERS.items():
        assert all(REGISTRY[n].report.section == section for n in names)
    in_sections = {n for names in eia.SECTION_LAYERS.values() for n in names}
    assert in_sections == {n for n, s in REGISTRY.items() if s.report.section is not None}
    drawn = {n for _, names in figures.LAYER_GROUPS for n in names}
    assert drawn == {n for n, s in REGISTRY.items() if s.report.figure is not None}
    assert set(layers.report_layers("constraint")) == {n for n, s in REGISTRY.items() if s.report.constraint}
    from spatial.facts import SKIP_LAYERS

    assert SKIP_LAYERS == {n for n, s in REGISTRY.items() if not s.nearest}


def test_draw_and_status_orders_are_unambiguous() -> None:
    orders = [s.draw_order for s in REGISTRY.values()]
    assert len(set(orders)) == len(orders)
    status = [s.status for s in REGISTRY.values() if s.status is not None]
    assert len(set(status)) == len(status)
    assert list(layers.draw_order()[:2]) == ["land_sea", "control_unit"] and layers.draw_order()[-1] == "boundary"  # the sea under the units


def test_maps_read_the_registry() -> None:
    from maps import style as st

    for name, spec in REGISTRY.items():
        for key, cs in spec.styles.items():
            assert st.CLASS_STYLES[key] is cs
        assert st.layer_label(name) == (spec.label_zh, spec.short_en)
        if spec.class_field:
            assert st.LAYER_CLASS_FIELD[name] == spec.class_field


def test_status_lists_follow_the_specs(toy_zoning) -> None:
    from spatial.screening import screen

    site = gpd.GeoDataFrame({"site_id": ["S"], "project_type": ["commercial"]}, geometry=[shapely.Point(400_500, 2_740_500)], crs="EPSG:4547")
    result = screen(site, toy_zoning)
    status = result.layer_status
    # Layers the package holds, and those it lacks but rules read (待核实, issue 20), in the specs' order.
    missing = result.audit["coverage"]["missing"]
    assert status["layer"].tolist() == [n for n in layers.status_layers() if n in toy_zoning.layers or n in missing]
    assert status["label_zh"].tolist() == [REGISTRY[n].label_zh for n in status["layer"]]


def test_reach_zones_buffer_by_width(toy_zoning) -> None:
    spec = REGISTRY["corridor"]
    cor = toy_zoning["corridor"]
    zones = spec.reach_zones(cor)
    # River 20 km long, 20 m each side (round caps add pi*r^2).
    river = zones[cor["kind"] == "river"].iloc[0]
    assert river.area == pytest.approx(20_000 * 40 + 3.14159 * 20**2, rel=1e-3)
    assert REGISTRY["redline"].reach_zones(toy_zoning["redline"]).equals(toy_zoning["redline"].geometry)
