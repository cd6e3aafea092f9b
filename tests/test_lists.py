"""Published 准入清单 workbooks read into unit-level rules (issue 29).

The workbook is built in code in the format bureaus publish: a title row,
headers over two lines under a merged 管控要求, merged cells in the code
column, one sheet per category, 总体管控要求 rows first, and 清远's own
dimension names on one sheet.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from conftest import TOY_CRS, km_point

from spatial.clauses import parse_clause, split_clauses
from spatial.list_review import review_tables, write_review
from spatial.list_rules import attach_lists, list_coverage, parse_list
from spatial.lists import read_list
from spatial.project_types import DEFAULT_TYPES
from spatial.rules import load_rules
from spatial.screening import screen

KEY = "ZH44189920001"  # toy 重点管控单元 (10-20 km, 0-10 km)
GEN = "ZH44189930001"  # toy 一般管控单元一 (0-10 km, 10-20 km)
BAN_KEY = "禁止新建、扩建化工、电镀、印染等重污染项目"
RESTRICT_KEY = "严格控制采矿、小水电等资源开发活动"
PENDING_KEY = "加强农村生活污水和生活垃圾收集处理"
BAN_HYDRO = "禁止新建火电项目"
BAN_CITY = "禁止新建、扩建制革项目"
BAN_CAT = "重点管控单元内禁止新建造纸项目"
BAN_GEN = "禁止新建畜禽养殖场"
#: Every banning clause of the workbook -> exactly the types it names.
BANS = {
    BAN_KEY: {"chemical", "electroplating", "dyeing"},
    BAN_HYDRO: {"thermal_power"},
    BAN_CITY: {"tanning"},
    BAN_GEN: {"livestock"},
    BAN_CAT: {"papermaking"},
}


def _sheet(
    wb: openpyxl.Workbook, title: str, heads: list[str], dims: list[str], rows: list[list[str]]
) -> openpyxl.worksheet.worksheet.Worksheet:
    """Title row, two-line header (管控要求 merged over the dimensions), then rows."""
    ws = wb.create_sheet(title)
    width = len(heads) + len(dims)
    ws.cell(1, 1, f"示例县环境管控单元生态环境准入清单（{title}）")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for c, h in enumerate(heads, start=1):
        ws.cell(2, c, h)
        ws.merge_cells(start_row=2, start_column=c, end_row=3, end_column=c)
    ws.cell(2, len(heads) + 1, "管控要求")
    ws.merge_cells(start_row=2, start_column=len(heads) + 1, end_row=2, end_column=width)
    for c, d in enumerate(dims, start=len(heads) + 1):
        ws.cell(3, c, d)
    for r, row in enumerate(rows, start=4):
        for c, v in enumerate(row, start=1):
            if v:
                ws.cell(r, c, v)
    return ws


def build_workbook(path: Path) -> Path:
    """The published format, built cell by cell."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    city = ["区域布局管控", "污染物排放管控", "环境风险防控", "能源资源利用"]
    national = ["空间布局约束", "污染物排放管控", "环境风险防控", "资源开发效率要求"]
    _sheet(
        wb,
        "全县总体管控要求",
        ["序号", "管控范围"],
        city,
        [
            ["1", "全县总体管控要求", f"{BAN_CITY}。", "", "", ""],
            ["2", "重点管控单元总体管控要求", f"{BAN_CAT}。", "", "", ""],
        ],
    )
    ws = _sheet(
        wb,
        "重点管控单元",
        ["环境管控单元编码", "环境管控单元名称", "管控单元类别"],
        national,
        [
            [KEY, "示例重点管控单元", "重点管控单元", f"{BAN_KEY}，{RESTRICT_KEY}。", f"{PENDING_KEY}。", "", ""],
            ["", "", "", f"（1）{BAN_HYDRO}（2）鼓励发展生态旅游", "", "", "节约集约利用土地。"],
        ],
    )
    for c in (1, 2, 3):  # the unit's code, name and category span its two rows
        ws.merge_cells(start_row=4, start_column=c, end_row=5, end_column=c)
    _sheet(
        wb,
        "一般管控单元",
        ["单元编码", "单元名称", "单元类别"],
        city,
        [
            [GEN, "示例一般管控单元一", "一般管控单元", f"{BAN_GEN}。", "", "", ""],
            ["ZH44189939999", "示例单元（无图斑）", "一般管控单元", "禁止新建印染项目。", "", "", ""],
        ],
    )
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("list") / "准入清单.xlsx")


def _sites(types: dict[str, tuple[str, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": list(types), "project_type": [t for t, _, _ in types.values()]},
        geometry=[km_point(x, y) for _, x, y in types.values()],
        crs=TOY_CRS,
    )


def test_read_published_format(workbook: Path) -> None:
    ul = read_list(workbook)
    e = ul.entries
    assert ul.sheets == ["全县总体管控要求", "重点管控单元", "一般管控单元"]
    assert ul.title.startswith("示例县环境管控单元生态环境准入清单")
    # merged code cells filled down: both rows of the key unit carry its code
    key_rows = e[e["code"] == KEY]
    assert sorted(key_rows["row"].unique()) == [4, 5]
    assert set(key_rows["dimension"]) == {"spatial_layout", "emission_control", "resource_efficiency"}
    # city dimension names map to the national dimensions
    assert set(e.loc[e["sheet"] == "一般管控单元", "dimension"]) == {"spatial_layout"}
    assert e.loc[e["sheet"] == "一般管控单元", "header"].iloc[0] == "区域布局管控"
    # 总体 rows apply to their level
    overall = e[e["sheet"] == "全县总体管控要求"]
    assert list(zip(overall["scope"], overall["scope_value"], strict=True)) == [("all", ""), ("category", "key")]
    # the 管控要求 header over the dimensions does not become a text column of its own
    assert not (e["dimension"] == "requirements").any()


def test_clause_split_and_modality() -> None:
    parts = split_clauses(f"{BAN_KEY}，{RESTRICT_KEY}。（1）{BAN_HYDRO}（2）鼓励发展生态旅游；")
    assert parts == [BAN_KEY, RESTRICT_KEY, BAN_HYDRO, "鼓励发展生态旅游"]
    assert parse_clause(RESTRICT_KEY, DEFAULT_TYPES).verdict == "restricted"
    assert parse_clause("原则上不得新建火电项目", DEFAULT_TYPES).modality == "restricted"
    # a type word that only qualifies another noun names no project
    assert parse_clause("不得新设工业污染物排放口", DEFAULT_TYPES).types == ("sewage_outfall",)
    # qualifiers kept as conditions, softening never hardening
    c = parse_clause("在水源涵养区范围内禁止新建化工项目", DEFAULT_TYPES)
    assert c.verdict == "notice" and any("水源涵养区" in x for x in c.conditions)
    c = parse_clause("新建化工项目须入园", DEFAULT_TYPES)
    assert c.verdict == "notice" and c.types == ("chemical",) and any("入园" in x for x in c.conditions)


def test_every_ban_yields_exactly_its_types(workbook: Path) -> None:
    clauses = parse_list(read_list(workbook), DEFAULT_TYPES)
    for text, types in BANS.items():
        row = clauses[clauses["text"] == text]
        assert len(row) == 1, text
        assert row["verdict"].iloc[0] == "prohibited", text
        assert set(row["types"].iloc[0]) == types, text
    assert not clauses.loc[clauses["text"] == PENDING_KEY, "parsed"].iloc[0]


def test_screening_with_the_list(workbook: Path, toy_zoning) -> None:
    rules = attach_lists(load_rules(), workbook, toy_zoning)
    sites = _sites(
        {
            "chem": ("化工", 12, 1),  # key unit: banned by name
            "shop": ("商业", 12.5, 1.5),  # key unit: not named by the ban
            "paper_key": ("造纸", 13, 1),  # key unit: 重点管控单元总体 ban
            "paper_gen": ("造纸", 1, 11),  # general unit: not under the key category's row
            "tan_gen": ("制革", 1.5, 11.5),  # whole-county ban
        }
    )
    res = screen(sites, toy_zoning, rules)
    hits = res.hits[res.hits["rule_id"].astype(str).str.startswith("LIST:")]
    v = res.sites.set_index("site_id")["verdict"]
    ban = hits[hits["message_zh"].str.contains(BAN_KEY)]
    assert set(ban["site_id"]) == {"chem"}
    assert ban["verdict"].tolist() == ["prohibited"] and v["chem"] == "prohibited"
    assert "“" + BAN_KEY + "”" in ban["message_zh"].iloc[0]
    assert "重点管控单元 D4" in ban["basis"].iloc[0]
    # the unparsed clause is a 待核实 finding for every site of the unit, quoting it
    pending = hits[hits["message_zh"].str.contains(PENDING_KEY)]
    assert set(pending["site_id"]) == {"chem", "shop", "paper_key"}
    assert set(pending["verdict"]) == {"notice"}
    assert set(hits.loc[hits["message_zh"].str.contains(BAN_CAT), "site_id"]) == {"paper_key"}
    assert set(hits.loc[hits["message_zh"].str.contains(BAN_CITY), "site_id"]) == {"tan_gen"}
    assert set(hits.loc[hits["message_zh"].str.contains(BAN_GEN), "site_id"]) == set()
    assert res.rules.extra["lists"][0]["n_clauses"] == 10
    # every unparsed clause: a 待核实 hit quoting it for every site of its unit, and no other verdict
    clauses = parse_list(read_list(workbook), DEFAULT_TYPES)
    unparsed = clauses[~clauses["parsed"].astype(bool) & (clauses["code"] == KEY)]
    assert len(unparsed) == 2
    for c in unparsed.to_dict("records"):
        mine = hits[hits["rule_id"] == f"LIST:{c['clause_id']}"]
        assert set(mine["site_id"]) == {"chem", "shop", "paper_key"}, c["text"]
        assert set(mine["verdict"]) == {"notice"} and mine["message_zh"].str.contains(f"“{c['text']}”", regex=False).all()
    # a parsed clause flags exactly the types it names: the shop is not flagged by any ban
    assert not len(hits[(hits["site_id"] == "shop") & (hits["verdict"] == "prohibited")])


def test_coverage_and_review(workbook: Path, toy_zoning, tmp_path: Path) -> None:
    ul = read_list(workbook)
    units = toy_zoning["control_unit"].drop(columns="geometry")
    cov = list_coverage(ul, units)
    assert cov["no_polygon"] == ["ZH44189939999"]
    assert sorted(cov["no_row"]) == ["ZH44189910001", "ZH44189930002"]
    clauses = parse_list(ul, DEFAULT_TYPES)
    out = write_review(tmp_path / "review.xlsx", review_tables(ul, clauses, cov))
    back = pd.read_excel(out, sheet_name=None)
    assert list(back["条款解析"]["条款原文"]) == list(clauses["text"])
    assert len(back["条款解析"]) == len(clauses) == 10
    assert "ZH44189939999" in set(back["问题"]["对象"])
    per = back["单元统计"].set_index("单元")
    assert per.loc[KEY, "条款数"] == 6 and per.loc[KEY, "待核实"] == 2


@pytest.mark.slow
def test_override_changes_the_verdict(workbook: Path, toy_zoning, tmp_path: Path) -> None:
    clauses = parse_list(read_list(workbook), DEFAULT_TYPES)
    cid = clauses.loc[clauses["text"] == PENDING_KEY, "clause_id"].iloc[0]
    over = tmp_path / "overrides.yaml"
    over.write_text(f"{cid}:\n  types: [商业]\n  verdict: 禁止\n  note: 本局认定\n", encoding="utf-8")
    sites = _sites({"shop": ("商业", 12.5, 1.5)})
    before = screen(sites, toy_zoning, attach_lists(load_rules(), workbook, toy_zoning))
    after_rules = attach_lists(load_rules(), workbook, toy_zoning, overrides=over)
    after = screen(sites, toy_zoning, after_rules)
    rid = f"LIST:{cid}"
    assert before.hits.loc[before.hits["rule_id"] == rid, "verdict"].tolist() == ["notice"]
    assert before.sites["verdict"].iloc[0] != "prohibited"
    assert after.hits.loc[after.hits["rule_id"] == rid, "verdict"].tolist() == ["prohibited"]
    assert after.sites["verdict"].iloc[0] == "prohibited"
    change = after_rules.extra["lists"][0]["overrides"]
    assert [c["clause"] for c in change] == [cid] and "禁止：商业" in change[0]["change"] and "本局认定" in change[0]["change"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("nosuch!A1#1:\n  verdict: 禁止\n", encoding="utf-8")
    with pytest.raises(Exception, match="nosuch"):
        attach_lists(load_rules(), workbook, toy_zoning, overrides=bad)


def test_csv_and_docx(tmp_path: Path) -> None:
    import docx

    csv_path = tmp_path / "list.csv"
    pd.DataFrame({"单元编码": [KEY], "单元名称": ["示例"], "空间布局约束": [BAN_KEY]}).to_csv(
        csv_path, index=False, encoding="utf-8-sig"
    )
    e = read_list(csv_path).entries
    assert e[["code", "text"]].values.tolist() == [[KEY, BAN_KEY]]
    doc = docx.Document()
    t = doc.add_table(rows=3, cols=3)
    for c, h in enumerate(["环境管控单元编码", "环境管控单元名称", "能源资源利用"]):
        t.cell(0, c).text = h
    t.cell(1, 0).merge(t.cell(2, 0)).text = KEY
    t.cell(1, 2).text = "禁止新建小水电站。"
    t.cell(2, 2).text = "严格控制采矿。"
    doc.save(tmp_path / "list.docx")
    e = read_list(tmp_path / "list.docx").entries
    assert e["code"].tolist() == [KEY, KEY] and set(e["dimension"]) == {"resource_efficiency"}


def _overrides(workbook: Path, tmp_path: Path) -> tuple[Path, str]:
    clauses = parse_list(read_list(workbook), DEFAULT_TYPES)
    cid = clauses.loc[clauses["text"] == PENDING_KEY, "clause_id"].iloc[0]
    over = tmp_path / "更正.csv"
    over.write_text(f"条款编号,项目类型,结论,说明\n{cid},商业,禁止,本局认定\n", encoding="utf-8-sig")
    return over, cid


def test_cli_review_screen_validate(workbook: Path, toy_gpkg: Path, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from spatial.cli import cli

    run = CliRunner()
    review = tmp_path / "review.xlsx"
    res = run.invoke(cli, ["lists", "review", str(workbook), "--zoning", str(toy_gpkg), "--out", str(review)])
    assert res.exit_code == 0, res.output
    assert "条款 10 条" in res.output and "清单编码无图斑 1 个" in res.output
    assert len(pd.read_excel(review, sheet_name="条款解析")) == 10
    again = run.invoke(cli, ["lists", "review", str(workbook), "--out", str(review)])
    assert again.exit_code == 2 and "--force" in again.output
    over, cid = _overrides(workbook, tmp_path)
    sites = tmp_path / "sites.gpkg"
    _sites({"shop": ("商业", 12.5, 1.5), "chem": ("化工", 12, 1)}).to_file(sites)
    out = tmp_path / "out"
    args = [
        "screen",
        str(sites),
        "-z",
        str(toy_gpkg),
        "--lists",
        str(workbook),
        "--list-overrides",
        str(over),
        "--no-map",
        "--out",
        str(out),
    ]
    res = run.invoke(cli, args)
    assert res.exit_code == 0, res.output
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert [o["clause"] for o in record["lists"][0]["overrides"]] == [cid]
    assert "本局认定" in record["lists"][0]["overrides"][0]["change"]
    verdicts = pd.read_csv(out / "sites.csv", encoding="utf-8-sig").set_index("site_id")["verdict"]
    assert verdicts["shop"] == "prohibited" and verdicts["chem"] == "prohibited"
    res = run.invoke(cli, ["validate", str(toy_gpkg), "--lists", str(workbook)])
    assert res.exit_code == 1 and "list_code_no_polygon" in res.output and "unit_no_list_row" in res.output


@pytest.mark.slow
def test_manifest_lists_and_report_audit(workbook: Path, toy_gpkg: Path, tmp_path: Path) -> None:
    import shutil

    from maps.eia import build_model
    from spatial.zoning import load_zoning

    shutil.copy(workbook, tmp_path / "清单.xlsx")
    over, cid = _overrides(workbook, tmp_path)
    layers = {"boundary": "行政区", "control_unit": "环境管控单元", "redline": "生态保护红线"}
    body = "".join(f"  {k}: {{path: {toy_gpkg}, layer: {v}}}\n" for k, v in layers.items())
    manifest = tmp_path / "zoning.yaml"
    manifest.write_text(f"layers:\n{body}lists:\n  - path: 清单.xlsx\n    overrides: {over.name}\n", encoding="utf-8")
    res = screen(_sites({"shop": ("商业", 12.5, 1.5)}), load_zoning(manifest))
    hits = res.hits[res.hits["rule_id"] == f"LIST:{cid}"]
    assert hits["verdict"].tolist() == ["prohibited"]
    assert res.audit["lists"][0]["overrides"][0]["clause"] == cid
    model = build_model(res)
    audit = dict(model.audit)
    assert "人工更正" in audit["准入清单"] and cid in audit["准入清单"]
    rows = [r for s in model.sites for t in s.tables for r in t.rows if PENDING_KEY in r.requirement]
    assert rows and rows[0].verdict == "不符合" and "商业" in rows[0].situation


_ALPHABET = (
    "禁止不得严禁限制严格控制原则上应当须鼓励新建扩建在范围内入园除外化工电镀印染采矿小水电畜禽养殖项目企业、，；。（1）2、等的"
)


@pytest.mark.slow
def test_clauses_are_verbatim_and_conservative() -> None:
    """Any text: clauses are substrings of it; a parsed verdict never exceeds the modality read."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from spatial.project_types import VERDICT_RANK

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(st.text(alphabet=_ALPHABET, max_size=60))
    def check(text: str) -> None:
        for clause in split_clauses(text):
            assert clause and clause in text
            c = parse_clause(clause, DEFAULT_TYPES)
            assert set(c.types) <= set(DEFAULT_TYPES.names)
            if c.parsed:
                assert c.types and c.modality is not None
                assert VERDICT_RANK[c.verdict] <= VERDICT_RANK[c.modality]
            else:
                assert c.verdict == "notice" and c.reason

    check()


def test_region_rows_and_unplaced_rows(toy_zoning, tmp_path: Path) -> None:
    """A region naming no unit applies to every unit (reported); a row without code or level warns."""
    from spatial.errors import DataWarning

    path = tmp_path / "list.csv"
    rows = [
        {"单元编码": "", "单元名称": "示例县总体管控要求", "空间布局约束": "禁止新建焦化项目。"},
        {"单元编码": "", "单元名称": "某某片区", "空间布局约束": "禁止新建钢铁项目。"},
    ]
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    ul = read_list(path)
    assert list(ul.entries["scope"]) == ["region"] and ul.entries["scope_value"].iloc[0] == "示例县"
    assert len(ul.problems) == 1 and ul.problems[0]["row"] == "3"
    assert list_coverage(ul, toy_zoning["control_unit"].drop(columns="geometry"))["no_region"] == ["示例县"]
    with pytest.warns(DataWarning, match="某某片区"):
        rules = attach_lists(load_rules(), path, toy_zoning)
    res = screen(_sites({"a": ("焦化", 1, 1), "b": ("焦化", 19, 19)}), toy_zoning, rules)
    hit = res.hits[res.hits["rule_id"].astype(str).str.startswith("LIST:")]
    assert set(hit["site_id"]) == {"a", "b"} and set(hit["verdict"]) == {"prohibited"}


def test_list_rules_survive_a_screening_date(workbook: Path, toy_zoning) -> None:
    """Re-resolving the catalogue for a date (--as-of) or a place keeps the list's rules."""
    rules = attach_lists(load_rules(), workbook, toy_zoning)
    res = screen(_sites({"chem": ("化工", 12, 1)}), toy_zoning, rules, as_of="2026-09-01")
    assert res.hits["rule_id"].astype(str).str.startswith("LIST:").any()
    assert res.audit["lists"][0]["n_clauses"] == 10
