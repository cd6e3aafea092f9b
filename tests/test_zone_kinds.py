"""The zone kinds the plans use: industrial parks, general ecological space, element zones,
sensitive receptors and livestock ban areas — schemas, synonyms, national 成果 names, validation."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
import shapely
from conftest import km_box, km_line, km_point, toy_layers

from layers import REGISTRY, spec_for_layer_name
from spatial.errors import DataWarning, GeometryRepairWarning, SchemaError
from spatial.zoning import load_zoning

NEW_KINDS = ("industrial_park", "general_eco_space", "env_zone", "sensitive_receptor", "livestock_ban")


@pytest.mark.parametrize(
    ("source_name", "standard"),
    [
        ("产业园区", "industrial_park"),
        ("工业园区", "industrial_park"),
        ("一般生态空间", "general_eco_space"),
        ("大气环境管控分区", "env_zone"),
        ("水环境管控分区", "env_zone"),
        ("土壤环境风险管控分区", "env_zone"),
        ("环境敏感目标", "sensitive_receptor"),
        ("敏感点", "sensitive_receptor"),
        ("畜禽禁养区", "livestock_ban"),
        ("禁养区", "livestock_ban"),
    ],
)
def test_layer_names_chinese_and_english(source_name: str, standard: str) -> None:
    assert spec_for_layer_name(source_name).name == standard
    assert spec_for_layer_name(standard).name == standard


def test_every_new_kind_has_bilingual_labels() -> None:
    for name in NEW_KINDS:
        spec = REGISTRY[name]
        assert spec.label_zh and spec.label_en and spec.label_zh != spec.label_en


@pytest.mark.parametrize(
    ("columns", "element"),
    [
        ({"DQHJGKFQBM": ["YS01"], "DQHJGKFQMC": ["城区大气受体敏感区"]}, "air"),
        ({"SHJGKFQBM": ["YS01"], "SHJGKFQMC": ["连江水环境优先保护区"]}, "water"),
        ({"STHJYSGKFQBM": ["YS01"], "STHJZHGKFQMC": ["南岭生态优先保护区"]}, "eco"),
    ],
)
def test_national_element_zone_fields_without_manifest(columns: dict, element: str) -> None:
    raw = gpd.GeoDataFrame({**columns, "ZHGKDYFL": ["优先保护区"]}, geometry=[km_box(0, 0, 1, 1)], crs="EPSG:4547")
    out, mapping = REGISTRY["env_zone"].normalise(raw, source="成果.gpkg")
    assert out.loc[0, "element"] == element  # told by the code column alone
    assert out.loc[0, "code"] == "YS01" and out.loc[0, "feature_id"] == "YS01"
    assert out.loc[0, "name"] == next(v[0] for k, v in columns.items() if k.endswith("MC"))
    assert out.loc[0, "category"] == "priority"
    assert set(mapping) == {"code", "name", "category"}


def test_element_zone_sub_kinds_and_explicit_element() -> None:
    raw = gpd.GeoDataFrame(
        {
            "HJYS": ["大气", "大气", "大气", "水", "水", "土壤", "土壤"],
            "YSXL": ["大气环境高排放重点管控区", "弱扩散", "受体敏感重点管控区", "水环境优先保护区", "工业污染重点管控区",
                     "农用地优先保护区", "建设用地污染风险重点管控区"],
            "ZHGKDYFL": ["重点管控区"] * 3 + ["优先保护区", "重点管控区", "优先保护区", "重点管控区"],
        },
        geometry=[km_box(i, 0, i + 1, 1) for i in range(7)],
        crs="EPSG:4547",
    )  # fmt: skip
    out, _ = REGISTRY["env_zone"].normalise(raw, source="z.gpkg")
    assert out["element"].tolist() == ["air"] * 3 + ["water"] * 2 + ["soil"] * 2
    assert out["sub_kind"].tolist() == [
        "high_emission", "weak_diffusion", "receptor_sensitive", "priority", "industrial", "farmland_priority", "construction_risk",
    ]  # fmt: skip
    assert out["category"].tolist() == ["key", "key", "key", "priority", "key", "priority", "key"]


def test_element_inferred_from_sub_kind_with_a_warning() -> None:
    raw = gpd.GeoDataFrame({"YSXL": ["高排放", "农用地优先保护区"]}, geometry=[km_box(0, 0, 1, 1), km_box(1, 0, 2, 1)], crs="EPSG:4547")
    with pytest.warns(DataWarning) as record:
        out, _ = REGISTRY["env_zone"].normalise(raw, source="z.gpkg")
    assert any("env_zone.element" in str(w.message) for w in record)
    assert out["element"].tolist() == ["air", "soil"]
    assert out["category"].tolist() == ["key", "priority"]


def test_element_zone_sub_kind_of_another_element_is_an_error() -> None:
    raw = gpd.GeoDataFrame({"SHJGKFQBM": ["W1", "W2"], "YSXL": ["高排放", "工业污染"]}, geometry=[km_box(0, 0, 1, 1)] * 2, crs="EPSG:4547")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # category inferred
        with pytest.raises(SchemaError, match=r"要素细类与环境要素不符.*0: high_emission") as exc:
            REGISTRY["env_zone"].normalise(raw, source="水.gpkg")
    assert "1:" not in exc.value.zh.split("要素细类与环境要素不符")[1]  # the water row is fine


def test_element_zone_without_any_element_clue_is_an_error() -> None:
    raw = gpd.GeoDataFrame({"FQMC": ["某分区"], "ZHGKDYFL": ["一般管控区"]}, geometry=[km_box(0, 0, 1, 1)], crs="EPSG:4547")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(SchemaError, match="无法判断环境要素"):
            REGISTRY["env_zone"].normalise(raw, source="z.gpkg")


def test_manifest_default_element_wins_over_nothing() -> None:
    raw = gpd.GeoDataFrame({"FQMC": ["某分区"], "ZHGKDYFL": ["一般管控区"]}, geometry=[km_box(0, 0, 1, 1)], crs="EPSG:4547")
    out, _ = REGISTRY["env_zone"].normalise(raw, defaults={"element": "soil"}, source="z.gpkg")
    assert out.loc[0, "element"] == "soil"


def test_industrial_park_fields() -> None:
    raw = gpd.GeoDataFrame(
        {
            "园区名称": ["甲园", "乙园", "丙园"],
            "园区级别": ["省级", "市级", None],
            "规划环评": ["已开展", "否", None],
            "主导产业": ["电子;新材料", "", None],
            "禁止类": ["电镀、化工", None, None],
        },
        geometry=[km_box(0, 0, 1, 1), km_box(2, 0, 3, 1), km_box(4, 0, 5, 1)],
        crs="EPSG:4547",
    )
    out, _ = REGISTRY["industrial_park"].normalise(raw, source="园区.shp")
    assert out["name"].tolist() == ["甲园", "乙园", "丙园"]
    assert out["level"].tolist()[:2] == ["provincial", "city"]
    assert out["eia_approved"].tolist() == ["yes", "no", "unknown"]  # never silently 'yes'
    assert out.loc[0, "banned"] == "电镀、化工"


def test_industrial_park_bad_eia_value_names_the_row() -> None:
    raw = gpd.GeoDataFrame({"规划环评": ["是", "大概"]}, geometry=[km_box(0, 0, 1, 1), km_box(2, 0, 3, 1)], crs="EPSG:4547")
    with pytest.raises(SchemaError, match=r"1: '大概'"):
        REGISTRY["industrial_park"].normalise(raw, source="园区.shp")


def test_sensitive_receptor_kinds_and_required_kind() -> None:
    raw = gpd.GeoDataFrame(
        {"敏感目标名称": ["东陂中学", "城南村", "人民医院", "敬老院"], "敏感目标类型": ["学校", "村庄", "医院", "养老院"]},
        geometry=[km_point(0, 0), km_box(1, 1, 2, 2), km_point(3, 3), km_point(4, 4)],
        crs="EPSG:4547",
    )
    out, _ = REGISTRY["sensitive_receptor"].normalise(raw, source="敏感点.shp")
    assert out["kind"].tolist() == ["school", "residential", "hospital", "care_home"]
    with pytest.raises(SchemaError, match="kind"):
        REGISTRY["sensitive_receptor"].normalise(raw.drop(columns="敏感目标类型"), source="敏感点.shp")


def _toy_with(tmp_path, extra: dict[str, gpd.GeoDataFrame]):
    path = tmp_path / "z.gpkg"
    from layers import spec_for_layer_name

    # Layers given here replace the toy's own (its corner park, school and 禁养区), whatever name they use.
    taken = {getattr(spec_for_layer_name(k), "name", k) for k in extra}
    for name, gdf in {**{k: v for k, v in toy_layers().items() if k not in taken}, **extra}.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return load_zoning(path)


def test_loader_reads_new_kinds_and_keeps_points_and_polygons(tmp_path) -> None:
    receptors = gpd.GeoDataFrame(
        {"name": ["学校甲", "村乙", "线丙"], "kind": ["学校", "居民区", "其他"]},
        geometry=[km_point(5, 5), km_box(6, 6, 7, 7), km_line((1, 1), (2, 2))],
        crs="EPSG:4547",
    )
    extra = {
        "环境敏感目标": receptors,
        "产业园区": gpd.GeoDataFrame({"name": ["园"], "eia_approved": ["是"]}, geometry=[km_box(8, 1, 9, 2)], crs="EPSG:4547"),
        "一般生态空间": gpd.GeoDataFrame({"name": ["山"]}, geometry=[km_box(1, 10, 3, 12)], crs="EPSG:4547"),
        "畜禽禁养区": gpd.GeoDataFrame({"name": ["禁养"]}, geometry=[km_box(12, 12, 13, 13)], crs="EPSG:4547"),
        "大气环境管控分区": gpd.GeoDataFrame(
            {"DQHJGKFQBM": ["YS1"], "ZHGKDYFL": ["重点管控区"], "YSXL": ["高排放"]}, geometry=[km_box(0, 0, 20, 20)], crs="EPSG:4547"
        ),
    }
    with pytest.warns(GeometryRepairWarning, match="线要素"):
        z = _toy_with(tmp_path, extra)
    for name in NEW_KINDS:
        assert name in z.layers, name
    rec = z["sensitive_receptor"]
    assert rec["name"].tolist() == ["学校甲", "村乙"]  # the line receptor is dropped, with the warning
    assert shapely.get_type_id(rec.geometry.values).tolist() == [0, 3]
    assert z["env_zone"].loc[0, "element"] == "air"
    assert z["industrial_park"].loc[0, "eia_approved"] == "yes"
