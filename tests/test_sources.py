"""Sources registry, jurisdiction, stacked catalogue levels and ``ecozone rules --explain``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from spatial.cli import cli
from spatial.errors import RuleError
from spatial.rules import load_rules, shipped_catalogues
from spatial.sources import Ref, default_registry

# What the shipped catalogues may cite for a package at each adcode (local plans by jurisdiction).
PLANS = {"plan-kaiping", "plan-jianghai", "plan-jiangmen", "plan-lianzhou", "plan-yangjiang-hitech"}


def cited_sources(rules) -> set[str]:
    out = set()
    for r in rules:
        out.update(ref.source for ref in r.refs)
        for ex in r.exemptions:
            out.update(ref.source for ref in ex.refs)
    return out


def test_registry_renders_title_number_and_article() -> None:
    reg = default_registry()
    text = reg.cite(Ref("zrzf-2022-142", "一（一）6"))
    assert text.startswith("《自然资源部 生态环境部 国家林业和草原局关于加强生态保护红线管理的通知（试行）》（自然资发〔2022〕142号）一（一）6")
    assert "节录" in text  # item 6 was only partly obtained
    # Issue 21: repealed texts carry their end date and successor; the note is computed for a date.
    import datetime

    water = reg.cite(Ref("water-law-2017", "第六十五条"))  # today (after 2026-08-15): repealed
    assert "第六十五条" in water and "已被替代" in water and "生态环境法典" in water
    assert reg.on_date(Ref("water-law-2017", "第六十五条"), datetime.date(2026, 8, 15)) == Ref("eco-code-2026", "第三百一十九条")
    assert reg.on_date(Ref("water-law-2017", "第六十五条"), datetime.date(2026, 8, 14)) == Ref("water-law-2017", "第六十五条")
    assert reg.on_date(Ref("eco-code-2026", "第三百二十一条"), datetime.date(2026, 1, 1)) == Ref("water-law-2017", "第六十七条")
    assert reg.on_date(Ref("eco-code-2026", "第四百八十一条"), datetime.date(2026, 1, 1)) is None  # no predecessor held
    assert "已被替代" in reg.cite(Ref("nr-reg-2017", "第十八条")) and "830号" in reg.cite(Ref("nr-reg-2017", "第十八条"))


@pytest.mark.parametrize(
    ("source", "anchor"),
    [("zrzf-2022-142", "一（一）7"), ("zrzf-2022-142", "二"), ("tingzi-2019-48", "城镇开发边界"), ("yuefu-2020-71", "区域管控要求"), ("zrzh-2020-71", "核心保护区")],
)
def test_missing_clause_cannot_be_cited(tmp_path: Path, source: str, anchor: str) -> None:
    """Clauses the law library marks as not obtained may never back a rule."""
    cat = tmp_path / "c.yaml"
    cat.write_text(
        f"rules:\n  - id: X\n    layer: redline\n    verdict: prohibited\n    basis: [{{source: {source}, at: {anchor}}}]\n", encoding="utf-8"
    )
    with pytest.raises(RuleError, match="未取得"):
        load_rules(cat)


def test_unknown_source_and_anchor_named(tmp_path: Path) -> None:
    cat = tmp_path / "c.yaml"
    cat.write_text("rules:\n  - id: X\n    layer: redline\n    verdict: notice\n    basis: [{source: no-such-law, at: 第一条}]\n", encoding="utf-8")
    with pytest.raises(RuleError, match="no-such-law"):
        load_rules(cat)
    cat.write_text("rules:\n  - id: X\n    layer: redline\n    verdict: notice\n    basis: [{source: land-law-2019, at: 第九十九条}]\n", encoding="utf-8")
    with pytest.raises(RuleError, match="第九十九条"):
        load_rules(cat)


def test_every_shipped_rule_cites_the_registry() -> None:
    for ad in (None, "441882", "441284", "440783", "4417"):
        rs = load_rules(adcode=ad)
        for r in rs:
            assert r.refs and all(ref.source for ref in r.refs), r.id
            assert all(ex.refs and ex.conditions_zh for ex in r.exemptions), r.id


def test_sihui_gets_no_lianzhou_kaiping_yangjiang_citation() -> None:
    """A 四会 (441284) package: national and Guangdong sources only."""
    rs = load_rules(adcode="441284")
    cited = cited_sources(rs)
    assert not cited & PLANS
    assert {"zrzf-2022-142", "gd-redline-2023"} <= cited
    assert "COR-RIVER" not in {r.id for r in rs}  # its only source is the 连州 plan
    assert "L956" not in " ".join(r.basis for r in rs)


def test_unknown_jurisdiction_cites_national_only() -> None:
    rs = load_rules(adcode=None)
    reg = default_registry()
    assert all(reg[s].jurisdiction is None for s in cited_sources(rs))
    assert [lv["level"] for lv in rs.levels if lv["applied"]] == ["national"]


def test_lianzhou_stack_levels_and_sources() -> None:
    rs = load_rules(adcode="441882")
    applied = [lv["level"] for lv in rs.levels if lv["applied"]]
    assert applied == ["national", "province", "region", "county"]
    cited = cited_sources(rs)
    reg = default_registry()
    # Only national, Guangdong (44), 清远 (4418) or 连州 (441882) sources.
    for sid in cited:
        j = reg[sid].jurisdiction
        assert j is None or all("441882".startswith(p) for p in j), sid
    assert rs["COR-RIVER"].level == "county" and rs["RL"].level == "province" and rs["CU-BANNED"].level == "unit"
    assert "gd-redline-2023" in rs["RL"].source_keys("water_supply")


def test_zoning_adcode_from_boundary_and_manifest(tmp_path: Path, toy_zoning) -> None:
    from spatial.jurisdiction import zoning_adcode

    assert zoning_adcode(toy_zoning)[0] == "441899"
    assert zoning_adcode(toy_zoning, "441284")[0] == "441284"
    no_code = toy_zoning.layers["boundary"].drop(columns="code")
    stub = type("Z", (), {"layers": {"boundary": no_code}, "path": None})()
    code, note = zoning_adcode(stub)
    assert code is None and "国家级" in note


def test_screen_resolves_rules_for_the_package(toy_zoning) -> None:
    import geopandas as gpd
    from conftest import km_point

    from spatial.screening import screen

    # River corridor at y = 8 km: the 连州 county rule only applies when the package is 连州.
    sites = gpd.GeoDataFrame({"site_id": ["A"], "project_type": ["residential"]}, geometry=[km_point(19.0, 8.01)], crs="EPSG:4547")
    own = screen(sites, toy_zoning)  # 441899: Guangdong, not 连州
    assert not own.hits.rule_id.eq("COR-RIVER").any()
    lz = screen(sites, toy_zoning, load_rules(adcode="441882"))
    assert lz.hits.rule_id.eq("COR-RIVER").any()


V01 = """catalogue:
  id: my-bureau
  version: "2025.1"
rules:
  - id: RL-DEV
    layer: redline
    except: [national_strategic, research]
    verdict: prohibited
    message_zh: 位于生态保护红线内。
    basis: 《开平市生态文明建设示范市创建规划》L568
  - id: WS-1
    layer: water_source
    where: {level: "1"}
    except: [water_supply]
    verdict: prohibited
    basis: 《中华人民共和国水污染防治法》第六十五条
"""


def test_v01_catalogue_still_loads(tmp_path: Path, toy_zoning) -> None:
    """Users copied the v0.1 format (free-text basis, no extend): it loads and screens as before."""
    import geopandas as gpd
    from conftest import km_point

    from spatial.screening import screen

    cat = tmp_path / "mine.yaml"
    cat.write_text(V01, encoding="utf-8")
    rs = load_rules(cat)
    assert [r.id for r in rs] == ["RL-DEV", "WS-1"] and rs.catalogue_id == "my-bureau"
    assert rs["RL-DEV"].basis == "《开平市生态文明建设示范市创建规划》L568"  # kept verbatim, wherever the package lies
    sites = gpd.GeoDataFrame(
        {"site_id": ["A", "B"], "project_type": ["residential", "water_supply"]},
        geometry=[km_point(3.5, 3.5), km_point(15.5, 15.5)],
        crs="EPSG:4547",
    )
    res = screen(sites, toy_zoning, rs)
    own = res.hits[~res.hits.rule_id.str.startswith(("COV-", "ZONE-"))]
    assert set(own.site_id) == {"A"} and set(own.rule_id) == {"RL-DEV"}  # two overlapping red-line patches
    # issue 20: the old catalogue sets nothing for the control units B lies in: 待核实 naming the unit, never 符合
    zone = res.hits[res.hits.site_id == "B"]
    assert set(zone.rule_id) == {"ZONE-control_unit-general"} and (zone.verdict == "notice").all()
    assert dict(zip(res.sites.site_id, res.sites.verdict)) == {"A": "prohibited", "B": "notice"}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_extend_tightens_and_records_level(tmp_path: Path) -> None:
    child = _write(
        tmp_path / "county.yaml",
        """catalogue: {id: my-county, level: county, jurisdiction: "441882"}
extend: [default]
rules:
  - id: WS-2
    layer: water_source
    where: {level: "2"}
    verdict: prohibited
    message_zh: 二级保护区内禁止一切新建项目（本县加严）。
    basis: [{source: plan-lianzhou, at: L956}]
""",
    )
    rs = load_rules(child, adcode="441882")
    assert rs["WS-2"].level == "county" and rs["WS-2"].type_verdicts["commercial"] == "prohibited"
    assert "PA-CORE" in {r.id for r in rs}  # inherited
    other = load_rules(child, adcode="441284")  # the county level does not apply in 四会
    assert other["WS-2"].level == "national" and other["WS-2"].type_verdicts["commercial"] == "restricted"


def test_relax_needs_a_source(tmp_path: Path) -> None:
    text = """catalogue: {id: lax, level: county, jurisdiction: "441882"}
extend: [national]
rules:
  - id: WS-1
    layer: water_source
    where: {level: "1"}
    verdict: notice
    basis: [{source: plan-lianzhou, at: L956}]
"""
    with pytest.raises(RuleError, match="relax_basis") as err:
        load_rules(_write(tmp_path / "lax.yaml", text), adcode="441882")
    assert "lax.yaml" in str(err.value) and "rules_default.yaml" in str(err.value)
    ok = load_rules(_write(tmp_path / "lax2.yaml", text + "    relax_basis: [{source: plan-lianzhou, at: L956}]\n"), adcode="441882")
    assert ok["WS-1"].type_verdicts["residential"] == "notice" and "加强生态廊道建设" in ok["WS-1"].basis
    assert "plan-lianzhou:L956" in ok["WS-1"].source_keys()  # the line stays in the machine field


def test_same_level_conflict_names_both_files(tmp_path: Path) -> None:
    rule = "rules:\n  - id: X-1\n    layer: redline\n    verdict: notice\n    basis: [{source: land-law-2019, at: 第三十五条}]\n"
    a = _write(tmp_path / "a.yaml", "catalogue: {id: a, level: city, jurisdiction: '4418'}\nextend: [national]\n" + rule)
    _write(tmp_path / "b.yaml", "catalogue: {id: b, level: city, jurisdiction: '441882'}\nextend: [a.yaml]\n" + rule)
    with pytest.raises(RuleError) as err:
        load_rules(tmp_path / "b.yaml")
    assert "a.yaml" in str(err.value) and "b.yaml" in str(err.value) and "X-1" in str(err.value)
    assert load_rules(a)  # alone it is fine


def test_extend_loop_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", "extend: [b.yaml]\nrules: []\n")
    _write(tmp_path / "b.yaml", "extend: [a.yaml]\nrules: []\n")
    with pytest.raises(RuleError, match="循环"):
        load_rules(tmp_path / "a.yaml")


def test_shipped_catalogues_listed() -> None:
    names = set(shipped_catalogues())
    assert {"national", "guangdong", "gd-north", "gd-coastal", "gd-prd", "lianzhou"} <= names


def test_explain_water_supply() -> None:
    """`ecozone rules --explain water_supply`: WS-1 关注 (法典§319, formerly 水污染防治法§65), RL 限制 (142号 一（一）6), FARM 限制 (§35)."""
    res = CliRunner().invoke(cli, ["rules", "--explain", "water_supply"])
    assert res.exit_code == 0, res.output
    blocks = {b.split()[0]: b for b in res.output.split("\n\n")[1:] if b.strip()}
    assert "关注" in blocks["WS-1"] and "第三百一十九条" in blocks["WS-1"] and "待核实" in blocks["WS-1"]
    assert "限制" in blocks["RL"] and "142号" in blocks["RL"] and "一（一）6" in blocks["RL"] and "必须且无法避让" in blocks["RL"]
    assert "限制" in blocks["FARM"] and "第三十五条" in blocks["FARM"] and "国务院批准" in blocks["FARM"]
    assert "[国家级]" in blocks["RL"]


def test_explain_with_adcode_shows_levels() -> None:
    res = CliRunner().invoke(cli, ["rules", "--explain", "供水", "--adcode", "441882"])
    assert res.exit_code == 0, res.output
    assert "省：" in res.output and "县（市、区）：" in res.output
    # Issue 21: the plan is cited by its chapter and section, not by a line number.
    assert "COR-RIVER" in res.output and "《连州市创建国家生态文明建设示范市规划》三、规划任务与措施" in res.output
    assert "（2）加强生态廊道建设" in res.output and "L956" not in res.output
    res = CliRunner().invoke(cli, ["rules", "--explain", "不存在的类型"])
    assert res.exit_code == 2 and "不存在的类型" in res.output


def test_manifest_adcode_wins(tmp_path: Path) -> None:
    from conftest import toy_layers

    from spatial.jurisdiction import zoning_adcode
    from spatial.zoning import load_zoning

    layers = toy_layers()
    for name, gdf in layers.items():
        gdf.to_file(tmp_path / f"{name}.gpkg", driver="GPKG")
    manifest = tmp_path / "zoning.yaml"
    manifest.write_text("adcode: 441284\nlayers:\n" + "".join(f"  {n}: {n}.gpkg\n" for n in layers), encoding="utf-8")
    code, note = zoning_adcode(load_zoning(manifest))
    assert code == "441284" and "zoning.yaml" in note
    manifest.write_text("adcode: 四会\nlayers:\n  boundary: boundary.gpkg\n", encoding="utf-8")
    from spatial.errors import InputError

    with pytest.raises(InputError, match="四会"):
        zoning_adcode(load_zoning(manifest))
