"""The zoning loader: GeoPackage, manifest, folder; CRSs; field and value synonyms."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import yaml
from conftest import toy_layers, write_toy_gpkg

from spatial.errors import CRSError, SchemaError
from spatial.measure import ellipsoidal_area
from spatial.zoning import demo_zoning_path, load_zoning


@pytest.mark.parametrize("crs", ["EPSG:4547", "EPSG:4526", "EPSG:4490", "EPSG:4326", "EPSG:32649"])
def test_any_source_crs_gives_same_working_layers(tmp_path, crs) -> None:
    z = load_zoning(write_toy_gpkg(tmp_path / "z.gpkg", crs=crs))
    assert z.crs.to_epsg() == 4547  # nearest CGCS2000 3-degree zone to the toy county (113.0E)
    union = shapely.union_all(z["redline"].geometry.values)
    assert union.area == pytest.approx(19e6, rel=1e-4)  # 7 + 12 km², overlaps dissolved


def test_values_normalised_from_chinese(toy_zoning) -> None:
    z = toy_zoning
    assert z["protected_area"].zone.tolist() == ["core", "general"]
    assert z["protected_area"]["type"].tolist() == ["nature_reserve", "nature_reserve"]  # .type is GeoPandas' geom type
    assert z["water_source"].level.tolist() == ["1", "2", "quasi"]
    assert z["control_unit"].category.tolist() == ["priority", "key", "general", "general"]
    assert z["redline"].kind.tolist() == ["land", "land", "marine"]
    assert z["corridor"].kind.tolist() == ["river", "road"]
    assert z["control_unit"].code.tolist()[0] == "ZH44189910001"
    assert z["control_unit"].feature_id.is_unique


def _write_shapefiles(folder, names=None, keep_cpg=True):
    paths = {}
    for name, gdf in toy_layers().items():
        stem = (names or {}).get(name, name)
        p = folder / f"{stem}.shp"
        gdf.to_file(p, driver="ESRI Shapefile", encoding="GBK")
        if not keep_cpg:
            p.with_suffix(".cpg").unlink()
        paths[name] = p
    return paths


def test_manifest_fields_values_defaults_crs(tmp_path) -> None:
    paths = _write_shapefiles(tmp_path)
    paths["redline"].with_suffix(".prj").unlink()  # a delivery without .prj, fixed by the manifest
    gdf = toy_layers()["control_unit"].rename(columns={"ZHGKDYFL": "GKDYLB_X"})
    gdf.loc[0, "GKDYLB_X"] = "生态优先区"
    gdf.to_file(tmp_path / "units.gpkg", layer="环境管控单元", driver="GPKG")
    manifest = {
        "layers": {
            "boundary": {"path": "boundary.shp"},
            "redline": {"path": "redline.shp", "crs": "EPSG:4547", "encoding": "gbk", "fields": {"name": "HXMC"}},
            "control_unit": {
                "path": "units.gpkg",
                "layer": "环境管控单元",
                "fields": {"category": "GKDYLB_X"},
                "values": {"category": {"生态优先区": "priority"}},
            },
            "protected_area": {"path": "protected_area.shp", "defaults": {"type": "nature_reserve"}},
        }
    }
    (tmp_path / "zoning.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    z = load_zoning(tmp_path / "zoning.yaml")
    assert z["redline"].name.tolist() == ["红线甲", "红线乙", "红线丙"]
    assert z["control_unit"].category.tolist() == ["priority", "key", "general", "general"]
    src = {s.layer: s for s in z.sources}
    assert src["control_unit"].fields["category"] == "GKDYLB_X"
    assert src["redline"].encoding == "gbk" and len(src["redline"].sha256) == 64


def test_folder_with_chinese_file_names(tmp_path) -> None:
    from conftest import CHINESE_LAYER_NAMES

    _write_shapefiles(tmp_path, CHINESE_LAYER_NAMES, keep_cpg=False)
    with pytest.warns(Warning, match="GBK"):
        z = load_zoning(tmp_path)
    assert set(z.layers) == set(CHINESE_LAYER_NAMES)
    assert z["water_source"].name.tolist()[0] == "示例水库一级"


def test_missing_boundary_is_an_error(tmp_path) -> None:
    toy_layers()["redline"].to_file(tmp_path / "z.gpkg", layer="redline", driver="GPKG")
    with pytest.raises(SchemaError, match="boundary"):
        load_zoning(tmp_path / "z.gpkg")


def test_crs_conflict_needs_force(tmp_path) -> None:
    _write_shapefiles(tmp_path)
    doc = {"layers": {"boundary": {"path": "boundary.shp"}, "redline": {"path": "redline.shp", "crs": "EPSG:4526"}}}
    (tmp_path / "z.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(CRSError, match="force_crs"):
        load_zoning(tmp_path / "z.yaml")


def test_real_lianzhou_boundary_working_crs(tmp_path, lianzhou_boundary) -> None:
    b = lianzhou_boundary.rename(columns={"district_name": "名称", "district_adcode": "编码"})[["名称", "编码", "geometry"]]
    b.to_file(tmp_path / "z.gpkg", layer="行政区", driver="GPKG")
    z = load_zoning(tmp_path / "z.gpkg")
    assert z.crs.to_epsg() == 4546  # 连州 is centred at ~112.4E: CM 111E is nearer than 114E
    assert z.boundary.name.item() == "连州市" and z.boundary.code.item() == "441882"
    area_km2 = ellipsoidal_area(z.boundary.geometry.values, z.crs).sum() / 1e6
    independent = abs(__import__("pyproj").Geod(ellps="GRS80").geometry_area_perimeter(lianzhou_boundary.geometry.iloc[0])[0]) / 1e6
    assert area_km2 == pytest.approx(independent, rel=1e-4)
    assert area_km2 == pytest.approx(2663.33, rel=0.005)


def test_demo_package_figures() -> None:
    z = load_zoning(demo_zoning_path())
    b = shapely.union_all(z.boundary.geometry.values)
    area = ellipsoidal_area(b, z.crs)[0] / 1e6
    assert area == pytest.approx(2663.33, rel=0.005)
    redline = ellipsoidal_area(shapely.intersection(shapely.union_all(z["redline"].geometry.values), b), z.crs)[0] / 1e6
    assert redline == pytest.approx(568.74, rel=0.01)
    pa = ellipsoidal_area(shapely.union_all(z["protected_area"].geometry.values), z.crs)[0] / 1e6
    assert pa == pytest.approx(303.71, rel=0.01)
    cats = z["control_unit"].category.value_counts().to_dict()
    assert cats == {"priority": 12, "key": 6, "general": 10}
    units = shapely.union_all(z["control_unit"].geometry.values)
    assert shapely.symmetric_difference(units, b).area / b.area < 1e-4
    assert np.isclose(z["control_unit"].geometry.area.sum(), units.area, rtol=1e-4)
    assert set(z["corridor"].name) >= {"连江", "东陂河", "星子河", "三江河", "九陂河", "清连高速"}


def test_geodesic_area_known_answer() -> None:
    # A 1 degree x 1 degree cell at the equator on GRS80: 12,308.78 km² (Karney), independent of projection.
    cell = gpd.GeoSeries([shapely.box(0, 0, 1, 1)], crs=4490)
    a = ellipsoidal_area(cell.values, cell.crs)[0]
    assert a / 1e6 == pytest.approx(12308.78, rel=1e-4)
    a2 = ellipsoidal_area(cell.to_crs(3857).values, 3857)[0]  # same cell via Web Mercator
    assert a2 == pytest.approx(a, rel=1e-3)


def test_corridor_kind_inferred_from_road_class(tmp_path) -> None:
    from spatial.errors import DataWarning

    layers = toy_layers()
    layers["corridor"] = layers["corridor"].drop(columns=["LX"])  # no kind column, road class only
    for name, gdf in layers.items():
        gdf.to_file(tmp_path / "z.gpkg", layer=name, driver="GPKG")
    with pytest.warns(DataWarning, match="推断"):
        z = load_zoning(tmp_path / "z.gpkg")
    assert z["corridor"].kind.tolist() == ["river", "road"]
    assert z["corridor"].road_class.tolist()[1] == "expressway"
