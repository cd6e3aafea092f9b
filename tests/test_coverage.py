"""Nothing concluded without its basis (issue 20).

Missing or empty standard layers, sites off the map, layers with a stated
coverage and zones without loaded rules all give 待核实 (``notice``) rows
naming what is missing, never 符合 or 不涉及; ``screen`` without ``--zoning``
stops; demo outputs are stamped.  Every input is built here.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import TOY_CRS, km_box, km_point, toy_layers

from spatial import screen
from spatial.cli import cli as main
from spatial.completeness import package_gaps, standard_layers
from spatial.validate import validate_zoning
from spatial.zoning import DEMO_STAMP, demo_zoning_path, load_zoning


def _write(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


def _sites(*geoms, types=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(n)], "project_type": types or ["industrial"] * n}, geometry=list(geoms), crs=TOY_CRS
    )


@pytest.fixture(scope="module")
def no_redline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layers = toy_layers()
    del layers["redline"]
    return _write(tmp_path_factory.mktemp("nored") / "nored.gpkg", layers)


@pytest.fixture(scope="module")
def rivers_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layers = toy_layers()
    keep = {"boundary": layers["boundary"], "corridor": layers["corridor"].iloc[:1]}
    return _write(tmp_path_factory.mktemp("rivers") / "rivers.gpkg", keep)


@pytest.mark.slow
def test_rule_read_layer_missing_only_for_types_its_rules_concern(tmp_path: Path) -> None:
    """No park layer: IP-BANNED reads it for every type; no receptor layer: REC-2H only for 两高 types."""
    layers = toy_layers()
    del layers["industrial_park"], layers["sensitive_receptor"], layers["livestock_ban"]
    z = load_zoning(_write(tmp_path / "noparks.gpkg", layers))
    res = screen(_sites(km_point(8.5, 12.5), km_point(8.5, 12.6), types=["residential", "chemical"]), z)
    got = res.hits[res.hits["rule_id"].str.startswith("COV-")].groupby("site_id")["rule_id"].agg(set).to_dict()
    assert got == {"S0": {"COV-industrial_park"}, "S1": {"COV-industrial_park", "COV-sensitive_receptor"}}
    assert "IP-BANNED" in res.hits.set_index("rule_id").loc["COV-industrial_park", "message_zh"].iloc[0]
    assert (res.sites["verdict"] != "compatible").all()


def test_standard_layers_are_the_six() -> None:
    assert standard_layers() == ["redline", "protected_area", "water_source", "control_unit", "farmland", "urban_boundary"]


@pytest.mark.slow
def test_no_redline_no_site_compatible(no_redline: Path) -> None:
    """Sites in the toy county: the one inside the (dropped) red line and one clear of everything."""
    z = load_zoning(no_redline)
    assert package_gaps(z) == {"redline": "absent"}  # the standard layers only
    # (3, 3) lies in red line 甲 in the full package; (8.5, 12) touches nothing in it.
    sites = _sites(km_box(2.5, 2.5, 3.5, 3.5), km_point(8.5, 12.5), types=["industrial", "residential"])
    res = screen(sites, z)
    assert (res.sites["verdict"] != "compatible").all()
    cov = res.hits[res.hits["rule_id"] == "COV-redline"]
    assert set(cov["site_id"]) == {"S0", "S1"} and (cov["verdict"] == "notice").all() and (cov["layer"] == "redline").all()
    assert cov["message_zh"].str.contains("未提供生态保护红线数据，无法判断").all()
    # The rules it blocks are named.
    assert cov["message_zh"].str.contains("RL").all() and cov["message_zh"].str.contains("NEAR").all()
    status = res.layer_status.set_index(["site_id", "layer"])
    assert status.loc[("S1", "redline"), "status_zh"] == "待核实（未提供数据）" and not status.loc[("S1", "redline"), "checked"]
    assert "不涉及生态保护红线" not in res.sites.set_index("site_id").loc["S1", "summary_zh"]
    assert "缺少：生态保护红线（未提供）" in res.sites.set_index("site_id").loc["S1", "coverage_zh"]
    assert res.audit["coverage"]["missing"] == ["redline"]


@pytest.mark.slow
def test_no_redline_validate_exits_1(no_redline: Path) -> None:
    report = validate_zoning(no_redline)
    errs = [f for f in report.findings if f.code == "missing_layer"]
    assert [f.layer for f in errs] == ["redline"] and errs[0].severity == "error" and "生态保护红线" in errs[0].message_zh
    res = CliRunner().invoke(main, ["validate", str(no_redline)])
    assert res.exit_code == 1, res.output
    assert "生态保护红线" in res.output


@pytest.mark.slow
def test_no_redline_report_first_page(no_redline: Path, tmp_path: Path) -> None:
    from maps.eia import build_model

    z = load_zoning(no_redline)
    res = screen(_sites(km_point(8.5, 12.5)), z)
    model = build_model(res)
    assert any("生态保护红线（未提供）" in c for c in model.coverage)
    conclusion = model.sites[0].conclusion
    assert "无法判定" in conclusion and "生态保护红线" in conclusion
    assert not conclusion.startswith("综上，本项目选址符合")
    assert "不涉及生态保护红线" not in model.summary["涉及情况"].iloc[0]


@pytest.mark.slow
def test_rivers_only_every_industrial_site_pending(rivers_only: Path, tmp_path: Path, hash_tree) -> None:
    """Boundary + rivers: every industrial site 待核实, listing the missing layers (library, CLI, report)."""
    sites = _sites(km_point(3, 3), km_point(15, 15), km_box(10.2, 2, 10.8, 3), km_point(5, 8))
    z = load_zoning(rivers_only)
    res = screen(sites, z)
    assert (res.sites["verdict"] == "notice").all()
    missing = {f"COV-{x}" for x in standard_layers()}
    per_site = res.hits.groupby("site_id")["rule_id"].agg(set)
    assert all(missing <= ids for ids in per_site), per_site
    for line in res.sites["coverage_zh"]:
        for label in ("生态保护红线", "自然保护地", "饮用水水源保护区", "环境管控单元", "永久基本农田", "城镇开发边界"):
            assert label in line.split("缺少：", 1)[1]
    # CLI: sites.csv carries the coverage line; inputs untouched.
    src = tmp_path / "in"
    src.mkdir()
    sites.to_file(src / "sites.gpkg", driver="GPKG")
    before = hash_tree(src), hash_tree(rivers_only.parent)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["screen", str(src / "sites.gpkg"), "--zoning", str(rivers_only), "--out", str(out), "--no-cache"])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "sites.csv", dtype=str, keep_default_na=False)
    assert (table["verdict"] == "notice").all() and table["coverage_zh"].str.contains("缺少：生态保护红线").all()
    assert (table["data_note"] == "").all()
    hits = pd.read_csv(out / "hits.csv", dtype=str)
    assert {"COV-redline", "COV-control_unit"} <= set(hits["rule_id"])
    html = (out / "report.html").read_text(encoding="utf-8") if (out / "report.html").exists() else ""
    if html:
        first = html.split("二、逐个地块", 1)[0]
        assert "生态保护红线（未提供）" in first and "综上，本项目选址符合" not in html
    assert (hash_tree(src), hash_tree(rivers_only.parent)) == before


def test_site_far_outside_is_pending_without_not_involved(toy_zoning) -> None:
    """A site 150 km outside the county: 待核实, 不在分区数据范围内, no 不涉及 row; a half-outside site: its share."""
    sites = _sites(km_point(170, 10), km_point(5, 12.5), km_box(18, 11, 22, 12))
    res = screen(sites, toy_zoning)
    s = res.sites.set_index("site_id")
    assert s.loc["S0", "verdict"] == "notice"
    assert s.loc["S0", "coverage_zh"].startswith("不在分区数据范围内")
    assert "不涉及" not in s.loc["S0", "summary_zh"] and "不在分区数据范围内" in s.loc["S0", "summary_zh"]
    assert "开发边界外" not in s.loc["S0", "summary_zh"] and "不在产业园区内" not in s.loc["S0", "summary_zh"]
    st = res.layer_status
    far = st[st["site_id"] == "S0"]
    assert len(far) and not far["status_zh"].str.startswith("不涉及").any()
    assert far["status_zh"].str.startswith("待核实").all() and not far["checked"].any()
    assert (far[far["layer"] == "redline"]["status_zh"] == "待核实（不在分区数据范围内）").all()
    # Half of S2 (x 18..22 km, boundary at 20 km) lies outside: said with its share, never plain 不涉及.
    assert "50.0% 在分区数据范围外" in s.loc["S2", "coverage_zh"]
    part = st[(st["site_id"] == "S2") & ~st["involved"]]
    assert len(part) and (part["status_zh"].str.contains("50.0%在分区数据范围外，待核实") | part["status_zh"].str.startswith("待核实")).all()
    assert not (part["status_zh"] == "不涉及").any()
    assert s.loc["S2", "verdict"] != "compatible"


@pytest.mark.slow
def test_zone_without_loaded_rule(toy_layers_env: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> None:
    """An element zone and a general eco-space in a county whose scheme is not loaded: 待核实 naming zone, kind and code."""
    path = _write(tmp_path / "env.gpkg", toy_layers_env)
    res = screen(_sites(km_point(5, 12.5), km_point(15, 5.5), types=["industrial", "industrial"]), load_zoning(path))
    zone = res.hits[res.hits["rule_id"].str.startswith("ZONE-")]
    got = {(r.site_id, r.rule_id, r.feature_id, r.feature_name) for r in zone.itertuples()}
    assert ("S0", "ZONE-env_zone-air", "YS001", "示例县大气环境弱扩散重点管控区") in got
    assert ("S1", "ZONE-general_eco_space", "GES001", "示例一般生态空间") in got
    assert (zone["verdict"] == "notice").all()
    assert zone["message_zh"].str.contains("管控要求以所在地市生态环境分区管控方案为准（未载入）").all()
    assert zone[zone["rule_id"] == "ZONE-env_zone-air"]["message_zh"].str.contains("大气").all()
    assert (res.sites["verdict"] != "compatible").all()


@pytest.fixture
def toy_layers_env() -> dict[str, gpd.GeoDataFrame]:
    layers = toy_layers()
    layers["env_zone"] = gpd.GeoDataFrame(
        {"DQHJGKFQBM": ["YS001"], "DQHJGKFQMC": ["示例县大气环境弱扩散重点管控区"], "ZHGKDYFL": ["重点管控区"], "YSXL": ["弱扩散"]},
        geometry=[km_box(0, 12, 8, 13)],
        crs=TOY_CRS,
    )
    layers["general_eco_space"] = gpd.GeoDataFrame(
        {"YBSTKJBH": ["GES001"], "YBSTKJMC": ["示例一般生态空间"]}, geometry=[km_box(14, 5, 16, 6)], crs=TOY_CRS
    )
    return layers


@pytest.mark.slow
def test_layer_coverage_from_manifest(tmp_path: Path) -> None:
    """A farmland layer stated to cover only the west half: sites in the east half are 待核实 for it, with the share."""
    layers = toy_layers()
    for name, gdf in layers.items():
        gdf.to_file(tmp_path / f"{name}.gpkg", driver="GPKG")
    west = gpd.GeoDataFrame(geometry=[km_box(0, 0, 10, 20)], crs=TOY_CRS)
    west.to_file(tmp_path / "farmland_cover.gpkg", driver="GPKG")
    manifest = "layers:\n" + "".join(f"  {n}: {{path: {n}.gpkg}}\n" for n in layers if n != "farmland")
    manifest += "  farmland: {path: farmland.gpkg, coverage: farmland_cover.gpkg}\n"
    (tmp_path / "zoning.yaml").write_text(manifest, encoding="utf-8")
    z = load_zoning(tmp_path / "zoning.yaml")
    sites = _sites(km_point(5, 12.5), km_point(15, 12.5), km_box(9, 11, 11, 12))
    res = screen(sites, z)
    cov = res.hits[res.hits["rule_id"] == "COV-farmland"].set_index("site_id")
    assert set(cov.index) == {"S1", "S2"}
    assert cov.loc["S1", "overlap_pct"] == pytest.approx(100.0) and cov.loc["S2", "overlap_pct"] == pytest.approx(50.0)
    assert "永久基本农田数据覆盖范围外 50.0%" in res.sites.set_index("site_id").loc["S2", "coverage_zh"]
    assert "S0" not in cov.index


def test_screen_without_zoning_exits_2(tmp_path: Path) -> None:
    sites = _sites(km_point(5, 5))
    sites.to_file(tmp_path / "s.gpkg", driver="GPKG")
    for argv in (["screen", str(tmp_path / "s.gpkg"), "--out", str(tmp_path / "x")], ["validate"], ["layers"], ["map", "--out", str(tmp_path / "m.html")]):
        r = CliRunner().invoke(main, argv)
        assert r.exit_code == 2, (argv, r.output)
        assert "--zoning demo" in r.output and "--zoning PATH" in r.output
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_rules_zoning_demo_resolves_jurisdiction() -> None:
    r = CliRunner().invoke(main, ["rules", "--zoning", "demo"])
    assert r.exit_code == 0, r.output
    assert "441882" in r.output and "连州" in r.output
    national = CliRunner().invoke(main, ["rules"])
    assert national.exit_code == 0 and "仅列国家级规则" in national.output


@pytest.mark.slow
def test_demo_outputs_are_stamped(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "sites.csv", dtype=str)
    assert (table["data_note"] == DEMO_STAMP).all()
    assert DEMO_STAMP in (out / "report.html").read_text(encoding="utf-8")
    assert DEMO_STAMP in (out / "map.html").read_text(encoding="utf-8")
    from docx import Document

    doc = Document(str(out / "report.docx"))
    assert DEMO_STAMP in doc.sections[0].header.paragraphs[0].text
    assert any(DEMO_STAMP in p.text for p in doc.paragraphs[:20])


def test_demo_path_is_demo() -> None:
    from spatial.zoning import is_demo_zoning

    assert is_demo_zoning(demo_zoning_path()) and not is_demo_zoning(Path("elsewhere.gpkg"))


@pytest.mark.slow
def test_guangdong_31_without_a_park_layer_is_pending_naming_the_layer(tmp_path: Path) -> None:
    """广东省环境保护条例第三十一条 ("应当按照规定入驻工业园区") cannot be checked without parks: 待核实, naming them."""
    layers = toy_layers()
    del layers["industrial_park"]
    z = load_zoning(_write(tmp_path / "noparks31.gpkg", layers))
    res = screen(_sites(km_point(8.5, 12.6), types=["chemical"]), z)
    cov = res.hits[res.hits["rule_id"] == "COV-industrial_park"]
    assert len(cov) == 1 and cov["verdict"].iloc[0] == "notice"
    assert "IP-OUT" in cov["message_zh"].iloc[0] and "产业园区" in cov["message_zh"].iloc[0]
    assert "IP-OUT" not in set(res.hits["rule_id"])  # never decided without the layer it reads
    assert res.sites["verdict"].iloc[0] != "compatible"
