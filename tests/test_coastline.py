"""The coastline layer kind, added through the recipe alone (layers/coastline.py + layers/__init__.py).

Everything below reads it from the registry: the reader (Chinese columns and values), indicators
(dissolved length per kind), screening's 涉及/不涉及 with the control width, map styles, report
section and 附图 group.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from conftest import TOY_CRS, km_line, km_point, write_toy_gpkg

from layers import REGISTRY
from spatial.errors import SchemaError


def _coast(path: Path, kinds: tuple[str, ...] = ("自然岸线", "人工岸线", "生态恢复岸线")) -> Path:
    """The toy county plus a 海岸线 layer with a planner's Chinese columns.

    South edge y = 1 km: natural x 1..9 km (8 km, 控制宽度 100 m), artificial x 9..12 (3 km), restored x 12..14 (2 km,
    no width); a duplicate of part of the natural line (dissolved away).
    """
    write_toy_gpkg(path)
    coast = gpd.GeoDataFrame(
        {
            "岸线编号": ["AX1", "AX2", "AX3", "AX4"],
            "岸线名称": ["示例湾", "示例港", "示例修复段", "示例湾重复"],
            "岸线类型": [*kinds, kinds[0]],
            "岸线功能": ["生态", "港口", None, "生态"],
            "控制宽度": [100, None, None, 100],
        },
        geometry=[km_line((1, 1), (9, 1)), km_line((9, 1), (12, 1)), km_line((12, 1), (14, 1)), km_line((2, 1), (3, 1))],
        crs=TOY_CRS,
    )
    coast.to_file(path, layer="海岸线", driver="GPKG")
    return path


@pytest.fixture(scope="module")
def coast_zoning(tmp_path_factory: pytest.TempPathFactory):
    from spatial.zoning import load_zoning

    return load_zoning(_coast(tmp_path_factory.mktemp("coast") / "coast.gpkg"))


@pytest.mark.slow
def test_reader_normalises_chinese_columns_and_values(coast_zoning) -> None:
    layer = coast_zoning.layers["coastline"]
    assert list(layer["kind"]) == ["natural", "artificial", "restored", "natural"]
    assert list(layer["function"].fillna("")) == ["生态", "港口", "", "生态"]
    assert layer["buffer_m"].iloc[0] == 100


@pytest.mark.slow
def test_unknown_kind_names_the_value(tmp_path: Path) -> None:
    from spatial.zoning import load_zoning

    with pytest.raises(SchemaError, match="沙滩岸线"):
        load_zoning(_coast(tmp_path / "bad.gpkg", kinds=("沙滩岸线", "人工岸线", "生态恢复岸线")))


def test_indicators_measure_length_per_kind(coast_zoning) -> None:
    from spatial.indicators import compute_indicators

    table = compute_indicators(coast_zoning)
    assert table.value("coastline_length_km_natural") == pytest.approx(8.0, rel=2e-3)  # the duplicate counts once
    assert table.value("coastline_length_km_artificial") == pytest.approx(3.0, rel=2e-3)
    assert table.value("coastline_length_km_restored") == pytest.approx(2.0, rel=2e-3)


def test_control_width_decides_involvement(coast_zoning) -> None:
    from spatial.screening import screen

    sites = gpd.GeoDataFrame(
        {"site_id": ["near", "far", "restored"], "project_type": ["commercial"] * 3},
        geometry=[km_point(5, 1.05), km_point(5, 1.5), km_point(13, 1.05)],  # 50 m / 500 m from natural; 50 m from restored (no width)
        crs=TOY_CRS,
    )
    status = screen(sites, coast_zoning).layer_status
    coast = status[status["layer"] == "coastline"].set_index("site_id")["status_zh"]
    assert coast["near"] == "涉及"
    assert coast["far"] == "不涉及"
    assert coast["restored"] == "不涉及"


def test_maps_and_report_read_the_spec() -> None:
    from maps import eia, figures
    from maps import style as st

    spec = REGISTRY["coastline"]
    assert all(st.CLASS_STYLES[k] is cs for k, cs in spec.styles.items())
    assert "coastline" in eia.SECTION_LAYERS["coast"]
    assert any("coastline" in names for _, names in figures.LAYER_GROUPS)
    from spatial.indicators import INDICATORS

    assert INDICATORS["coastline_length_km_natural"].label_zh == "自然岸线长度"
