"""A planner's first hour: their own types, columns, coordinate order and folders of 坐标文件 all work."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import ORIGIN, TOY_CRS, km_point

from spatial.cli import cli
from spatial.errors import CRSError, DataWarning
from spatial.project_types import DEFAULT_TYPES
from spatial.sites import read_sites
from spatial.xyorder import XY_ATTR, fit_xy_to_boundary, looks_like_survey


def screen(*args: object, **kwargs: object):
    """``spatial.screen`` the function, even where ``spatial.screen`` the module was imported first."""
    import spatial

    fn = spatial.screen
    return (fn if callable(fn) else fn.screen)(*args, **kwargs)


EIGHT = ["光伏", "风电", "加油站", "污水处理厂", "垃圾焚烧", "住宅小区", "生猪养殖", "一个不存在的类型"]
CANON = ["photovoltaic", "wind_power", "fuel_station", "sewage_treatment", "waste_incineration", "residential_estate", "pig_farm", "other"]


def _lonlat(km: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    pts = gpd.GeoSeries([km_point(x, y) for x, y in km], crs=TOY_CRS).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def _eight_csv(tmp_path: Path) -> Path:
    lon, lat = _lonlat([(1 + 2 * i, 12.5) for i in range(8)])
    df = pd.DataFrame(
        {
            "编号": [f"P{i + 1}" for i in range(8)],
            "项目名称": [f"{t}项目" for t in EIGHT],
            "项目类型": EIGHT,
            "建设单位": [f"单位{i}" for i in range(8)],
            "投资(万元)": [100 * (i + 1) for i in range(8)],
            "经度": lon,
            "纬度": lat,
        }
    )
    path = tmp_path / "eight.csv"
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return path


# ---------------------------------------------------------------------------- project types


def test_planner_types_have_parents_whose_rules_apply() -> None:
    assert [DEFAULT_TYPES.resolve(t) for t in EIGHT[:-1]] == CANON[:-1]
    assert DEFAULT_TYPES.lineage("pig_farm") == ["pig_farm", "livestock"]
    assert DEFAULT_TYPES.lineage("quarry") == ["quarry", "mining"]
    assert DEFAULT_TYPES.lineage("residential_estate") == ["residential_estate", "residential"]
    assert DEFAULT_TYPES.lineage("waste_incineration") == ["waste_incineration", "solid_waste", "municipal_utility"]
    assert DEFAULT_TYPES.lineage("power_transmission") == ["power_transmission", "linear_infrastructure"]
    for word, canon in {"储能": "energy_storage", "变电站": "substation", "输变电": "power_transmission", "加气站": "fuel_station",
                        "物流仓储": "logistics", "垃圾填埋": "landfill", "采石场": "quarry", "医院": "hospital", "学校": "school",
                        "港口码头": "port", "数据中心": "data_center", "农家乐": "tourism_lodging", "民宿": "tourism_lodging",
                        "仓储": "warehousing", "其他": "other"}.items():  # fmt: skip
        assert DEFAULT_TYPES.resolve(word) == canon, word


def test_a_planner_type_inherits_its_parents_rule(tmp_path: Path, toy_zoning: object) -> None:
    """采石场 is mining: the rule on industry and mining in a priority unit (CU-PRIORITY) applies; 医院 is not."""
    gdf = gpd.GeoDataFrame({"site_id": ["Q", "H"], "project_type": ["采石场", "医院"]}, geometry=[km_point(6, 7), km_point(6, 7)], crs=TOY_CRS)
    result = screen(gdf, toy_zoning)
    rules_q = set(result.hits.loc[result.hits.site_id == "Q", "rule_id"])
    rules_h = set(result.hits.loc[result.hits.site_id == "H", "rule_id"])
    assert "CU-PRIORITY" in rules_q and "CU-PRIORITY" not in rules_h
    verdicts = result.sites.set_index("site_id")["verdict"].map({"compatible": 0, "notice": 1, "restricted": 2, "prohibited": 3})
    assert verdicts["Q"] > verdicts["H"]


@pytest.mark.filterwarnings("default")
def test_eight_types_screen_in_one_run(tmp_path: Path, toy_gpkg: Path) -> None:
    """Done-when: 8 sites, one with an unknown type, exit 0; the unknown one becomes `other` with one warning."""
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["screen", str(_eight_csv(tmp_path)), "-z", str(toy_gpkg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.count("项目类型无法识别") == 1
    assert "一个不存在的类型（行 9）" in res.output  # CSV line 9 (header = line 1)
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert list(sites.project_type) == CANON
    for col in ("建设单位", "项目名称", "投资(万元)", "编号"):
        assert col in sites.columns, col
    assert list(sites["建设单位"]) == [f"单位{i}" for i in range(8)]
    assert list(sites["投资(万元)"].astype(int)) == [100 * (i + 1) for i in range(8)]
    gpkg = gpd.read_file(out / "screening.gpkg", layer="sites")
    assert list(gpkg["建设单位"]) == [f"单位{i}" for i in range(8)] and "项目名称" in gpkg
    xlsx = pd.read_excel(out / "report.xlsx", sheet_name="汇总")
    assert list(xlsx["建设单位"]) == [f"单位{i}" for i in range(8)] and list(xlsx["项目名称"]) == [f"{t}项目" for t in EIGHT]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "建设单位：单位3" in report and "光伏项目" in report
    assert "建设单位" in (out / "map.html").read_text(encoding="utf-8")


@pytest.mark.filterwarnings("default")
def test_strict_types_restores_the_error(tmp_path: Path, toy_gpkg: Path) -> None:
    res = CliRunner().invoke(cli, ["screen", str(_eight_csv(tmp_path)), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "--strict-types"])
    assert res.exit_code == 2
    assert "一个不存在的类型（行 9）" in res.output and "--type-map" in res.output
    assert not (tmp_path / "o" / "sites.csv").exists()


def test_unknown_values_warn_once_listing_each_distinct_value() -> None:
    values = pd.Series(["光伏", "火星基地", "", "火星基地", "月球站"])
    with pytest.warns(DataWarning) as rec:
        out = DEFAULT_TYPES.normalise(values, rows=np.array(["2", "3", "4", "5", "6"], dtype=object))
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert "火星基地（行 3, 5）" in msg and "(空/empty)（行 4）" in msg and "月球站（行 6）" in msg
    assert list(out) == ["photovoltaic", "other", "other", "other", "other"]


def test_bad_project_type_option_names_the_option(tmp_path: Path, toy_gpkg: Path) -> None:
    sites = _eight_csv(tmp_path)
    res = CliRunner().invoke(cli, ["screen", str(sites), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "-t", "光付"])
    assert res.exit_code == 2
    assert "--project-type 光付 无法识别" in res.output and "光伏" in res.output  # did you mean
    assert "行" not in res.output.split("可用类型")[0]  # no row list: the option is at fault
    res = CliRunner().invoke(cli, ["screen", str(sites), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "-t", "两高"])
    assert res.exit_code == 2 and "类型分组" in res.output


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_type_map_file(tmp_path: Path, toy_zoning: object, fmt: str) -> None:
    gdf = gpd.GeoDataFrame({"site_id": ["A", "B"], "project_type": ["镇级污水站", "集中式光伏"]}, geometry=[km_point(8, 12), km_point(9, 12)], crs=TOY_CRS)
    if fmt == "yaml":
        tm = tmp_path / "map.yaml"
        tm.write_text("镇级污水站: 污水处理厂\n集中式光伏: photovoltaic\n", encoding="utf-8")
    else:
        tm = tmp_path / "map.csv"
        tm.write_text("本单位类型,ecozone类型\n镇级污水站,污水处理厂\n集中式光伏,photovoltaic\n", encoding="gbk")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # mapped values are not unknown: no warning
        result = screen(gdf, toy_zoning, type_map=tm)
    assert list(result.sites.project_type) == ["sewage_treatment", "photovoltaic"]
    assert list(result.sites.project_type_raw) == ["镇级污水站", "集中式光伏"]


def test_type_map_with_unknown_target_names_file(tmp_path: Path, toy_gpkg: Path) -> None:
    tm = tmp_path / "map.yaml"
    tm.write_text("镇级污水站: 污水站站\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["screen", str(_eight_csv(tmp_path)), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "--type-map", str(tm)])
    assert res.exit_code == 2 and "map.yaml" in res.output and "镇级污水站 → 污水站站" in res.output


def test_excel_rows_are_spreadsheet_rows_with_sheet(tmp_path: Path, toy_zoning: object) -> None:
    lon, lat = _lonlat([(8, 12), (9, 12), (10, 12)])
    df = pd.DataFrame({"编号": ["A", "B", "A"], "项目类型": ["光伏", "风电", "光伏"], "经度": lon, "纬度": lat})
    path = tmp_path / "s.xlsx"
    df.to_excel(path, index=False, sheet_name="一期")
    with pytest.raises(Exception, match=r"一期!2: A.*一期!4: A"):  # Excel rows 2 and 4 (header = row 1)
        screen(path, toy_zoning)


# ---------------------------------------------------------------------------- coordinates as surveyors write them


def _xy_csv(tmp_path: Path, survey: bool) -> Path:
    pts = [km_point(8, 12), km_point(9, 12.5)]
    east = [p.x for p in pts]
    north = [p.y for p in pts]
    df = pd.DataFrame({"编号": ["A", "B"], "项目类型": ["光伏", "光伏"], "X": north if survey else east, "Y": east if survey else north})
    path = tmp_path / ("survey.csv" if survey else "gis.csv")
    df.to_csv(path, index=False)
    return path


def test_survey_order_detected_with_warning(tmp_path: Path, toy_zoning: object) -> None:
    path = _xy_csv(tmp_path, survey=True)
    with pytest.warns(Warning, match="测量坐标顺序"):
        result = screen(path, toy_zoning, sites_crs=TOY_CRS)
    got = result.sites.geometry.to_crs(TOY_CRS)
    assert got.distance(gpd.GeoSeries([km_point(8, 12), km_point(9, 12.5)], crs=TOY_CRS)).max() < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explicit = screen(path, toy_zoning, sites_crs=TOY_CRS, xy_order="survey")  # no guess, no warning
    assert explicit.sites.geometry.geom_equals_exact(result.sites.geometry, 1e-9).all()
    with pytest.raises(CRSError, match="颠倒"):  # read the other way round, the sites are 2 000 km off
        screen(path, toy_zoning, sites_crs=TOY_CRS, xy_order="gis")


def test_gis_order_left_alone(tmp_path: Path) -> None:
    path = _xy_csv(tmp_path, survey=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdf = read_sites(path, sites_crs=TOY_CRS)
    assert gdf.geometry.x.iloc[0] == pytest.approx(km_point(8, 12).x)
    assert looks_like_survey(np.array([2.7e6]), np.array([38.4e6])) and looks_like_survey(np.array([2.7e6]), np.array([4.0e5]))
    assert not looks_like_survey(np.array([4.0e5]), np.array([2.7e6])) and not looks_like_survey(np.array([112.4]), np.array([24.8]))


def test_boundary_decides_an_auto_order(toy_zoning: object) -> None:
    """The reading that puts the sites inside the boundary wins, with a warning."""
    p = km_point(8, 12)
    raw = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(p.y, p.x)], crs=TOY_CRS)  # read with X and Y the wrong way
    raw.attrs[XY_ATTR] = {"swapped": False}
    with pytest.warns(Warning, match="已改按测量顺序"):
        fixed = fit_xy_to_boundary(raw, toy_zoning, "t.csv")
    assert fixed.geometry.iloc[0].equals(p)
    raw.attrs.pop(XY_ATTR)  # an order the user chose is never second-guessed
    assert fit_xy_to_boundary(raw, toy_zoning, "t.csv") is raw


def test_gk_hint_names_the_zone_that_fits_lianzhou(tmp_path: Path) -> None:
    """连州 (~112.4°E) lies in the 111°E zone: the hint must say EPSG:4546, not the 114°E EPSG:4547."""
    from spatial.zoning import demo_sites_path

    sites = gpd.read_file(demo_sites_path())
    pts = sites.geometry.representative_point().to_crs(4546)
    df = pd.DataFrame({"编号": sites.index.astype(str), "项目类型": "光伏", "X": pts.x, "Y": pts.y})
    path = tmp_path / "gk.csv"
    df.to_csv(path, index=False)
    with pytest.raises(CRSError) as err:
        screen(path)
    msg = str(err.value)
    assert "EPSG:4546" in msg and "111°E" in msg and "--sites-crs EPSG:4546" in msg


# ---------------------------------------------------------------------------- folders of 坐标文件


def _coordfile(index: int) -> str:
    """A 坐标文件 whose one parcel carries the template id FID_0 (zone 38, eastings prefixed)."""
    x0 = ORIGIN[0] + 1000 + 1500 * (index % 6)
    y0 = ORIGIN[1] + 11000 + 1500 * (index // 6)
    ring = [(y0, x0), (y0, x0 + 100), (y0 + 80, x0 + 100), (y0 + 80, x0), (y0, x0)]
    rows = [f"J{i + 1},1,{n:.3f},{38_000_000 + e:.3f}" for i, (n, e) in enumerate(ring)]
    head = "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n投影类型=高斯克吕格\n计量单位=米\n带号=38\n精度=0.01\n[地块坐标]\n"
    return head + f"{len(rows)},0.8000,FID_0,地块{index},面,,工业用地,,@\n" + "\n".join(rows) + "\n"


@pytest.mark.filterwarnings("default")
def test_folder_of_twelve_placeholder_coordfiles(tmp_path: Path, toy_gpkg: Path, hash_tree: object) -> None:
    """Done-when: 12 files that all carry FID_0 screen as 12 distinct sites."""
    folder = tmp_path / "坐标文件"
    folder.mkdir()
    for i in range(12):
        (folder / f"宗地{i + 1:02d}.txt").write_bytes(_coordfile(i).replace("\n", "\r\n").encode("gbk"))
    (folder / "说明.txt").write_text("这是说明，不是坐标文件。\n", encoding="utf-8")
    before = hash_tree(folder)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["screen", str(folder), "-z", str(toy_gpkg), "-t", "工业", "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    assert "说明.txt" in res.output  # skipped, and said so
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert len(sites) == 12 and sites.site_id.is_unique
    assert sorted(sites.site_id) == sorted(f"宗地{i + 1:02d}-1" for i in range(12))
    assert set(sites.source_file) == {f"宗地{i + 1:02d}.txt" for i in range(12)}
    assert {"gk_plane_area_ha", "ellipsoidal_area_ha", "declared_area_ha"} <= set(sites.columns)
    assert np.allclose(sites.gk_plane_area_ha, 0.8)
    assert hash_tree(folder) == before  # inputs untouched


def test_folder_mixes_formats_and_keeps_ids_apart(tmp_path: Path, toy_zoning: object) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.txt").write_bytes(_coordfile(0).encode("gbk"))
    lon, lat = _lonlat([(8, 12), (9, 12)])
    pd.DataFrame({"编号": ["1", "2"], "项目类型": ["光伏", "风电"], "经度": lon, "纬度": lat}).to_csv(folder / "b.csv", index=False)
    gpd.GeoDataFrame({"编号": ["1"], "项目类型": ["医院"]}, geometry=[km_point(10, 12)], crs=TOY_CRS).to_file(folder / "c.gpkg")
    raw = read_sites(folder)
    assert len(raw) == 4 and raw.site_id.is_unique
    assert set(raw.site_id) == {"a-1", "b-1", "b-2", "c-1"}  # "1" is in two files: both prefixed with their stem
    result = screen(folder, toy_zoning, project_type="工业")
    assert len(result.sites) == 4 and result.audit["sites"]["sha256"]


# ---------------------------------------------------------------------------- shared cache, right paths


def test_cache_entry_never_shows_another_installations_paths(tmp_path: Path, toy_gpkg: Path) -> None:
    import shutil

    from spatial.cache import load_zoning_cached

    root = tmp_path / "cache"
    first = tmp_path / "installA" / "zoning.gpkg"
    second = tmp_path / "userB" / "zoning.gpkg"
    for p in (first, second):
        p.parent.mkdir()
        shutil.copy(toy_gpkg, p)
    info: dict = {}
    load_zoning_cached(first, root=root, info=info)
    assert info["status"] == "miss"
    meta = next(root.glob("*/meta.json")).read_text(encoding="utf-8")
    assert "installA" not in meta and str(tmp_path) not in meta
    info = {}
    z = load_zoning_cached(second, root=root, info=info)
    assert info["status"] == "hit"
    assert z.path == second and all(s.path == str(second) for s in z.sources)
    result = screen(gpd.GeoDataFrame({"site_id": ["A"], "project_type": ["光伏"]}, geometry=[km_point(8, 12)], crs=TOY_CRS), z)
    assert "installA" not in json.dumps(result.audit, ensure_ascii=False)


@pytest.mark.filterwarnings("default")
def test_demo_is_named_not_located(tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["screen", str(_demo_csv(tmp_path)), "--zoning", "demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "lianzhou_demo.gpkg（ecozone 内置数据" in report
    assert "site-packages" not in report and not re.search(r"/spatial/data/", report)


def _demo_csv(tmp_path: Path) -> Path:
    path = tmp_path / "one.csv"
    pd.DataFrame({"编号": ["D1"], "项目名称": ["测试项目"], "项目类型": ["光伏"], "经度": [112.38], "纬度": [24.78]}).to_csv(path, index=False)
    return path


def test_readme_python_api_runs(tmp_path: Path) -> None:
    """The README's Python API section loads the demo and writes the report, as written, in a fresh interpreter."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme.split("Python API", 1)[1], re.S).group(1)
    env = dict(os.environ, PYTHONPATH=str(root))
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    for name in ("sites.csv", "report.html", "report.xlsx", "map.html"):
        assert (tmp_path / "api_out" / name).stat().st_size > 0, name
    assert "LZ-001" in res.stdout and "summary_zh" in res.stdout


def test_a_previous_result_can_be_screened_again(tmp_path: Path, toy_zoning: object) -> None:
    """screening.gpkg fed back in: its verdict/n_hits columns are kept as 原表 columns, not a crash."""
    gdf = gpd.GeoDataFrame({"site_id": ["A"], "project_type": ["光伏"], "建设单位": ["甲"]}, geometry=[km_point(8, 12)], crs=TOY_CRS)
    first = screen(gdf, toy_zoning)
    with pytest.warns(DataWarning, match="识别为 ecozone 的筛查结果表"):  # said, not silent (issue 22)
        again = screen(first.sites, toy_zoning)
    assert again.sites["verdict（原表）"].iloc[0] == first.sites["verdict"].iloc[0]
    assert again.sites["verdict"].iloc[0] == first.sites["verdict"].iloc[0] and again.sites["建设单位"].iloc[0] == "甲"


def test_cached_warning_texts_carry_no_folder(tmp_path: Path) -> None:
    """A load warning naming the writer's folder is stored without it and replayed with the reader's."""
    from spatial import cache

    recs = cache.scrub_warnings([{"category": "DataWarning", "message": f"{tmp_path}/installA/z.gpkg：修复了 2 个几何"}], [f"{tmp_path}/installA"])
    assert "installA" not in json.dumps(recs, ensure_ascii=False)
    with pytest.warns(DataWarning, match=r"userB/z.gpkg：修复了 2 个几何"):
        cache.replay_warnings(recs, tmp_path / "userB")
