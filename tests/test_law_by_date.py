"""Issue 21: the law as it stands on the screening date, and exemptions decided by site and zone.

Known-answer tests on a toy county coded 441899 (Guangdong, no county catalogue of its
own), each quoting the clause it checks.  Coordinates are km from the toy origin.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import ORIGIN, km_box, km_line, km_point, toy_layers

from spatial import screen
from spatial.cli import cli
from spatial.explain import explain_type
from spatial.output import rules_table
from spatial.project_types import site_keys
from spatial.rules import load_rules
from spatial.sources import VERDICT_WORDS, default_registry
from spatial.zoning import load_zoning

CRS = "EPSG:4547"
LATE, EARLY = "2026-12-01", "2026-01-01"
#: Words by which a clause permits on conditions (an exemption's 有条件符合 rests on one of them).
PERMIT = ("仅允许", "批准", "应当", "除国家重大战略项目外", "除下列活动外", "除防洪、供水工程")


def _layers() -> dict[str, gpd.GeoDataFrame]:
    layers = toy_layers()
    # A 省道 along y = 12 km and a 县道 along x = 18.5 km (centre lines, no 公路用地 width).
    layers["corridor"] = gpd.GeoDataFrame(
        {"MC": ["省道甲", "县道乙"], "LX": ["道路", "道路"], "DLDJ": ["省道", "县道"]},
        geometry=[km_line((0, 12), (9, 12)), km_line((18.5, 0.5), (18.5, 9))],
        crs=CRS,
    )
    pa = layers["protected_area"]
    park = gpd.GeoDataFrame(
        {"BHDMC": ["示例森林公园", "示例森林公园"], "BHDLX": ["森林公园", "森林公园"], "GNFQ": ["核心保护区", "一般控制区"], "BSM": ["FP-C", "FP-G"]},
        geometry=[km_box(0.2, 0.2, 1.0, 1.0), km_box(0.2, 1.2, 1.0, 1.8)],
        crs=CRS,
    )
    layers["protected_area"] = pd.concat([pa, park], ignore_index=True)
    # A red-line patch inside the nature reserve's general zone (9–12 km box minus the 10–11 km core).
    red = layers["redline"]
    layers["redline"] = pd.concat(
        [red, gpd.GeoDataFrame({"BSM": ["HX009"], "HXMC": ["红线丁"], "HXLX": ["陆域"]}, geometry=[km_box(9.0, 11.2, 9.9, 11.9)], crs=CRS)],
        ignore_index=True,
    )
    del layers["livestock_ban"], layers["industrial_park"]  # replaced by this module's own (Chinese layer names)
    layers["畜禽禁养区"] = gpd.GeoDataFrame({"MC": ["示例禁养区"]}, geometry=[km_box(0.2, 18.0, 1.5, 19.5)], crs=CRS)
    layers["产业园区"] = gpd.GeoDataFrame({"园区名称": ["示例工业园"]}, geometry=[km_box(16.0, 0.5, 17.5, 2.0)], crs=CRS)
    return layers


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory):
    """The toy county coded 441899 with roads, a forest park, a livestock ban area and a park."""
    path = tmp_path_factory.mktemp("law") / "z.gpkg"
    for name, gdf in _layers().items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return load_zoning(path)


def _screen(county, geoms: list, types: list[str], as_of: str = LATE, **extra) -> tuple[pd.DataFrame, pd.DataFrame]:
    sites = gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(len(geoms))], "project_type": types, **extra}, geometry=geoms, crs=CRS
    ).to_crs(4326)
    result = screen(sites, county, as_of=as_of)
    return result.sites.set_index("site_id"), result.hits


def _hits(hits: pd.DataFrame, site: str, rule: str) -> pd.DataFrame:
    return hits[(hits["site_id"] == site) & (hits["rule_id"] == rule)]


# --- 1. sources carry time -------------------------------------------------------------------


@pytest.mark.slow
def test_level1_cites_code_from_2026_08_15_and_water_law_before(county) -> None:
    """法典第三百一十九条 "禁止在饮用水水源一级保护区内新建…与供水设施和保护水源无关的建设项目" from 2026-08-15;
    水污染防治法第六十五条 (the same words) before it."""
    for as_of, law, article, absent in ((LATE, "生态环境法典", "第三百一十九条", "水污染防治法"), (EARLY, "水污染防治法", "第六十五条", "生态环境法典")):
        _, hits = _screen(county, [km_point(15.5, 15.5)], ["residential"], as_of=as_of)
        row = _hits(hits, "S0", "WS-1")
        assert len(row) == 1 and row["verdict"].iloc[0] == "prohibited"
        basis = row["basis"].iloc[0]
        assert law in basis and article in basis and absent not in basis
        assert "〔待核实" not in basis and "〔已被替代" not in basis  # notes are footnotes, never repeated per row


def test_notes_once_and_rules_command_as_of() -> None:
    """`ecozone rules --as-of` shows the stack for a date; replaced texts are noted once."""
    late = load_rules(adcode="441899", as_of=LATE)
    assert any("水污染防治法" in n and "已被替代" in n for n in late.notes)
    table = rules_table(late)
    assert "notes" in table and not table["basis"].str.contains("〔待核实|〔已被替代").any()
    assert table["notes"].str.contains("待核实").any()
    runner = CliRunner()
    out_early = runner.invoke(cli, ["rules", "--adcode", "441899", "--as-of", EARLY]).output
    out_late = runner.invoke(cli, ["rules", "--adcode", "441899", "--as-of", LATE]).output
    ws1_early = next(line for line in out_early.splitlines() if line.startswith("WS-1 "))
    ws1_late = next(line for line in out_late.splitlines() if line.startswith("WS-1 "))
    assert "水污染防治法" in ws1_early and "第六十五条" in ws1_early
    assert "生态环境法典" in ws1_late and "第三百一十九条" in ws1_late
    # 法典第三百四十九、四百八十一条 did not exist before 2026-08-15: those rules are left out then.
    assert "RL-WASTE" in out_early.split("未适用", 1)[-1] and "RL-WASTE" not in {r.id for r in load_rules(adcode="441899", as_of=EARLY)}
    bad = runner.invoke(cli, ["rules", "--as-of", "2026-13-01"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


# --- 2./3. 法典 articles, water-source levels, discharging types --------------------------------


def test_outfall_in_quasi_zone_is_321_not_318(county) -> None:
    """第三百一十七条: the 准保护区 lies outside the 保护区, so 第三百一十八条 "在饮用水水源保护区内，禁止设置排污口"
    does not reach it; 第三百二十一条 governs there (待核实)."""
    sites, hits = _screen(county, [km_point(13.5, 13.5), km_point(15.5, 15.5)], ["排污口", "排污口"])
    quasi = hits[hits["site_id"] == "S0"]
    assert set(quasi["rule_id"]) >= {"WS-Q-OUTFALL"} and "WS-OUTFALL" not in set(quasi["rule_id"])
    assert "第三百二十一条" in _hits(hits, "S0", "WS-Q-OUTFALL")["basis"].iloc[0]
    assert "第三百一十八条" not in " ".join(quasi["basis"])
    level1 = _hits(hits, "S1", "WS-OUTFALL")
    assert level1["verdict"].iloc[0] == "prohibited" and "第三百一十八条" in level1["basis"].iloc[0]


def test_discharging_types_in_level2_and_quasi(county) -> None:
    """第三百二十条 "禁止在饮用水水源二级保护区内新建、改建、扩建排放污染物的建设项目": a hospital there is 不符合;
    第三百二十一条: a landfill or pig farm in the 准保护区 is at least 待核实."""
    sites, hits = _screen(
        county, [km_point(14.5, 14.5), km_point(13.5, 17.5), km_point(13.5, 14.5)], ["医院", "垃圾填埋场", "养猪场"]
    )
    assert _hits(hits, "S0", "WS-2")["verdict"].iloc[0] == "prohibited"
    assert "第三百二十条" in _hits(hits, "S0", "WS-2")["basis"].iloc[0]
    for s in ("S1", "S2"):
        assert _hits(hits, s, "WS-Q")["verdict"].iloc[0] == "notice"
        assert sites.loc[s, "verdict"] != "compatible"


def test_forest_park_core_never_cites_830(county) -> None:
    """《自然保护区条例》（国务院令第830号）第二十六条 "自然保护区核心保护区内禁止人为活动" applies to 自然保护区 only:
    a 森林公园 core zone is 待核实 and never cites it."""
    sites, hits = _screen(county, [km_point(0.6, 0.6), km_point(10.5, 10.5)], ["residential", "residential"])
    park = hits[hits["site_id"] == "S0"]
    assert "830号" not in " ".join(park["basis"]) and set(park["rule_id"]) >= {"PA-CORE-OTHER"}
    assert _hits(hits, "S0", "PA-CORE-OTHER")["verdict"].iloc[0] == "notice"
    assert "830号" in _hits(hits, "S1", "PA-CORE")["basis"].iloc[0]  # the nature reserve still does


def test_nature_reserve_general_zone_is_to_be_verified(county) -> None:
    """142号 一（一） "生态保护红线内自然保护区、风景名胜区、饮用水水源保护区等区域，依照法律法规执行": a 110 kV line
    in a nature reserve's general zone is no longer 有条件符合 on 142号 一（一）6."""
    _, hits = _screen(county, [km_line((9.2, 9.5), (9.8, 9.5))], ["输电线路"])
    row = _hits(hits, "S0", "PA-GENERAL-NR")
    assert row["verdict"].iloc[0] == "notice" and "PA-GENERAL" not in set(hits["rule_id"])


def test_forest_park_general_zone_keeps_the_142_list(county) -> None:
    """For kinds other than 自然保护区/风景名胜区, 142号 一（一） "禁止开发性、生产性建设活动…仅允许…有限人为活动"
    and its items still decide: 5. "不破坏生态功能的适度参观旅游…配套性服务设施" 有条件符合, commerce 不符合."""
    _, hits = _screen(county, [km_point(0.6, 1.5), km_point(0.7, 1.5)], ["旅游配套服务设施", "commercial"])
    assert _hits(hits, "S0", "PA-GENERAL")["verdict"].iloc[0] == "restricted"
    assert _hits(hits, "S1", "PA-GENERAL")["verdict"].iloc[0] == "prohibited"
    assert "PA-GENERAL-NR" not in set(hits["rule_id"])


def test_red_line_inside_a_nature_reserve_defers_to_its_law(county) -> None:
    """142号 一（一） "生态保护红线内自然保护区、风景名胜区、饮用水水源保护区等区域，依照法律法规执行": where the
    red line is also a nature reserve, a 110 kV line is not 有条件符合 on 一（一）6 but 待核实 (RL-LAW); the red-line
    ban of 厅字〔2019〕48号 ("其他区域严格禁止开发性、生产性建设活动") still makes industry 不符合."""
    sites, hits = _screen(county, [km_line((9.2, 11.5), (9.8, 11.5)), km_point(9.5, 11.6)], ["输电线路", "工业"])
    assert "RL" not in set(hits["rule_id"])
    assert _hits(hits, "S0", "RL-LAW")["verdict"].iloc[0] == "notice"
    assert sites.loc["S0", "verdict"] == "notice"
    assert _hits(hits, "S1", "RL-LAW")["verdict"].iloc[0] == "prohibited"


# --- 3. geometry, major projects; 4. road distances --------------------------------------------


@pytest.mark.slow
def test_pump_station_polygon_vs_pipeline_line_in_county_road_zone(county) -> None:
    """公路安全保护条例第十三条 "在公路建筑控制区内…禁止修建建筑物和地面构筑物"; 公路法第五十六条 exempts only
    "埋设管线、电缆等设施": a pump-station polygon is 不符合, a water pipeline line crossing the road 有条件符合."""
    x = ORIGIN[0] + 18_500
    y = ORIGIN[1] + 3_000
    pump = shapely.box(x - 2, y - 2, x + 2, y + 2)
    pipe = km_line((18.4, 3.2), (18.6, 3.2))
    _, hits = _screen(county, [pump, pipe], ["供水设施", "供水设施"])
    assert _hits(hits, "S0", "COR-ROAD")["verdict"].iloc[0] == "prohibited"
    line = _hits(hits, "S1", "COR-ROAD")
    assert line["verdict"].iloc[0] == "restricted" and "第五十六条" in line["exemption"].iloc[0]


def test_school_55m_from_provincial_road_gets_article_14(county) -> None:
    """公路安全保护条例第十四条 "学校…与公路建筑控制区边界外缘的距离…国道、省道不少于50米": a school 55 m from a
    省道 centre line is 40 m from the 15 m control-zone edge; one 70 m away (55 m from the edge) escapes."""
    _, hits = _screen(
        county,
        [km_point(4.0, 12.055), km_point(4.0, 12.070), km_point(4.0, 12.055), km_point(18.5 + 0.029, 5.0), km_point(18.5 + 0.031, 5.0)],
        ["学校", "学校", "工业", "农贸市场", "学校"],
    )
    row = _hits(hits, "S0", "ROAD-14")
    assert len(row) == 1 and row["feature_name"].iloc[0] == "省道甲" and "国道、省道" in row["message_zh"].iloc[0]
    assert row["distance_m"].iloc[0] == pytest.approx(40.0, abs=0.05)
    assert _hits(hits, "S1", "ROAD-14").empty and _hits(hits, "S2", "ROAD-14").empty
    # 县道: 10 m control zone + 20 m: 29 m from the centre line is 19 m from the edge; 31 m escapes.
    local = _hits(hits, "S3", "ROAD-14-LOCAL")
    assert local["feature_name"].iloc[0] == "县道乙" and local["distance_m"].iloc[0] == pytest.approx(19.0, abs=0.05)
    assert "县道、乡道" in local["message_zh"].iloc[0] and _hits(hits, "S4", "ROAD-14-LOCAL").empty


def test_inland_major_project_gets_no_reclamation_finding(county) -> None:
    """国发〔2018〕24号 二（三） "除国家重大战略项目外，全面停止新增围填海项目审批" concerns reclamation at sea:
    an inland major project (major_project=是) and an inland 围填海 site get no 围填海 finding."""
    sites, hits = _screen(
        county, [km_point(8.5, 5.5), km_point(8.6, 5.6)], ["industrial", "围填海"], major_project=["是", "不详"]
    )
    assert "RECLAIM" not in set(hits["rule_id"])
    keys = site_keys(sites.reset_index())
    assert keys[0].endswith("|major") and not keys[1].endswith("|major")  # unknown is never yes


def test_major_project_unknown_is_not_yes_in_red_line(county) -> None:
    """Red line: "除国家重大战略项目外，仅允许…有限人为活动" — only a site whose major_project is yes is 有条件符合."""
    _, hits = _screen(county, [km_point(2.5, 2.5), km_point(2.6, 2.6)], ["industrial", "industrial"], major_project=["yes", ""])
    assert _hits(hits, "S0", "RL")["verdict"].iloc[0] == "restricted"
    assert _hits(hits, "S1", "RL")["verdict"].iloc[0] == "prohibited"


# --- 5. national 禁养区, Guangdong 进园 ---------------------------------------------------------


@pytest.mark.slow
def test_pig_farm_in_ban_area_without_county_catalogue(county) -> None:
    """畜禽规模养殖污染防治条例第十一条 "禁止在下列区域内建设畜禽养殖场…（四）法律、法规规定的其他禁止养殖区域":
    a pig farm in a 禁养区 of a county with no catalogue of its own is 不符合."""
    assert load_rules(adcode="441899").levels[-1]["level"] != "county" or not load_rules(adcode="441899").levels[-1]["applied"]
    sites, hits = _screen(county, [km_point(0.8, 18.8)], ["养猪场"])
    row = _hits(hits, "S0", "LB")
    assert row["verdict"].iloc[0] == "prohibited" and "643号" in row["basis"].iloc[0]
    assert sites.loc["S0", "verdict"] == "prohibited"


def test_guangdong_31_industry_outside_parks(county) -> None:
    """广东省环境保护条例第三十一条 "新建工业企业应当按照规定入驻工业园区": 有条件符合 outside every park, none inside."""
    _, hits = _screen(county, [km_point(12.0, 1.0), km_point(16.5, 1.0)], ["工业", "工业"])
    row = _hits(hits, "S0", "IP-OUT")
    assert row["verdict"].iloc[0] == "restricted" and "第三十一条" in row["basis"].iloc[0]
    assert _hits(hits, "S1", "IP-OUT").empty


# --- 6. the county plan read whole; 7. principles are not verdicts ------------------------------


def test_lianzhou_plan_lines_read_whole() -> None:
    """003 L711 "火电、石化、钢铁等高污染排放项目": listed types 不符合, other industry 待核实; L762 "不得在基本农田保护区、
    饮用水源保护区…自然保护区等环境敏感区，以及居民区、学校…周边新建…" as 不符合, with the 周边 figure stated."""
    rs = load_rules(adcode="441882")
    assert rs["AIR-WEAK"].type_verdicts["steel"] == "prohibited"
    assert rs["AIR-WEAK"].type_verdicts["chemical"] == "notice"
    for rid in ("REC-HM", "HM-FARM", "HM-WS", "HM-NR"):
        rule = rs[rid]
        assert rule.type_verdicts["electroplating"] == "prohibited" and rule.distance_m == 1000
        assert "1000 米" in rule.conditions_zh and "连州市创建国家生态文明建设示范市规划" in rule.basis
        # cited by title and section (found from the plan's headings), the line only in the machine field
        assert "4.加强土壤污染管控，打好连州净土保卫战 （1）严控新增土壤污染" in rule.basis and "L762" not in rule.basis
        assert "plan-lianzhou:L762" in rule.source_keys()
    assert "2.加强大气污染防治，稳步推进连州清新蓝 （1）严格污染物排放管控" in rs["AIR-WEAK"].basis


@pytest.mark.slow
def test_principles_are_not_verdicts() -> None:
    """A rule's 不符合/有条件符合 rests on a quoted sentence that says so (禁止/不得/应当/严格控制 …)."""
    registry = default_registry()
    for adcode in ("441882", "441702", "441899", None):
        rs = load_rules(adcode=adcode)
        for rule in rs:
            groups = [(rule.refs, {v for t, v in rule.type_verdicts.items() if v and rule.type_exemption.get(t) is None})]
            # An exemption is read with the rule's own clause ("仅允许以下…" lists what its items allow),
            # and must rest on words that permit on conditions, not on the ban alone.
            for e in rule.exemptions:
                if e.verdict == "restricted":
                    quotes = "".join(registry.quote(r) for r in (*e.refs, *rule.refs))
                    assert any(w in quotes for w in PERMIT), (rule.id, e.types, quotes)
            for refs, verdicts in groups:
                if any(registry[r.source].kind in ("data", "tool") and r.at != "周边距离" for r in refs if r.source):
                    continue  # the zoning data's own lists are the prohibition
                for v in verdicts & set(VERDICT_WORDS):
                    quotes = "".join(registry.quote(r) for r in refs)
                    assert any(w in quotes for w in VERDICT_WORDS[v]), (rule.id, v, quotes)
    late = load_rules(adcode="441899")
    assert late["UB-OUT"].verdict == "notice" and late["REC-2H"].verdict == "notice"


def test_explain_shows_the_clause_each_verdict_rests_on() -> None:
    """`ecozone rules --explain` prints, per verdict, the quoted clause; a line-only exemption is its own row."""
    table = explain_type(load_rules(adcode="441899"), "供水设施")
    road = table[table["rule_id"] == "COR-ROAD"]
    assert set(road["verdict"]) == {"prohibited", "restricted"}
    assert "禁止修建建筑物和地面构筑物" in road[road["verdict"] == "prohibited"]["clause"].iloc[0]
    assert "埋设管线、电缆" in road[road["verdict"] == "restricted"]["clause"].iloc[0]
    out = CliRunner().invoke(cli, ["rules", "--adcode", "441899", "--explain", "供水设施"]).output
    assert "条文：" in out and "仅限线状地块" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    mode: setback\n    setback_m: {national: 50}\n", "class_field"),
        ("    mode: setback\n    class_field: road_class\n    setback_m: {motorway_x: 50}\n", "motorway_x"),
        ("    mode: overlay\n", "also_in"),
        ("    mode: overlay\n    also_in: [{layer: protected_area, where: {type: [no_such_kind]}}]\n", "no_such_kind"),
    ],
)
def test_new_modes_reject_bad_parameters(tmp_path, extra: str, message: str) -> None:
    """The setback and overlay modes name the rule and the fix."""
    from spatial.errors import RuleError

    cat = tmp_path / "c.yaml"
    cat.write_text(
        "rules:\n  - id: X\n    layer: corridor\n    verdict: notice\n    basis: [{source: highway-reg-2011, at: 第十四条}]\n" + extra,
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match=message) as err:
        load_rules(cat)
    assert "X" in err.value.zh

