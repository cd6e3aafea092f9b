"""Build the 连州 demo's 生态环境准入清单 workbook (``spatial/data/lianzhou_list.xlsx``).

Every requirement in it is a verbatim sentence of the 连州 plan
(``../shared/plans/003_d0ea2598a9721da8.txt``, 《连州市创建国家生态文明建设示范市规划》),
checked against the plan text when the workbook is built; its line is in the
出处 column.  Which demo unit a sentence is assigned to is ours (the plan
gives no per-unit list): see ``spatial/data/DEMO_DATA.md``.  The workbook
has the published layout: a title row, headers over two lines under a
merged 管控要求, merged code cells, one sheet per category, 全市总体管控要求
rows first, and 清远's own dimension names (区域布局管控, 能源资源利用) on the
优先保护 sheet.

Usage::

    python scripts/build_demo_list.py [--plan PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT.parent / "shared" / "plans" / "003_d0ea2598a9721da8.txt"
OUT = ROOT / "spatial" / "data" / "lianzhou_list.xlsx"
TITLE = "连州市创建国家生态文明建设示范市规划——生态环境准入要求（演示：按单元编排）"

#: Plan line -> sentences taken from it verbatim.
S = {
    "L711a": (711, "除大气环境高排放重点管控区外，其他区域严格控制新增工业园，严格控制引入石油化工、包装印刷、工业涂装企业类企业。"),
    "L711b": (711, "在大气环境弱扩散重点管控区内，原则上不得新建除国家规划项目外的火电、石化、钢铁等高污染排放项目。"),
    "L711c": (
        711,
        "在受体敏感重点管控区内，不得新建、扩建燃用高污染燃料设施；严格限制建设化工、包装印刷、工业涂装等涉VOCs排放项目；"
        "严格限制新建、改扩建排放有毒有害气体及恶臭污染物的建设项目（民生工程除外）；禁止露天烧烤，室内烧烤必须配备高效油烟净化设施。",
    ),
    "L743": (743, "严禁在水质超标河段建设新增超标污染物的排放项目，严厉查处偷排直排超标超量排放等环境违法行为。"),
    "L750": (750, "严禁以各种名义侵占河道、围垦湖泊，恢复河湖水域岸线生态安全。"),
    "L761": (761, "鼓励工业企业集聚发展，提高土地节约集约利用水平，减少土壤污染；"),
    "L762a": (762, "新建、扩建增加重金属污染物排放的建设项目，严格执行总量替代与削减要求，严格控制重点行业发展规模，严格污染地块再开发利用准入管理。"),
    "L762b": (
        762,
        "不得在基本农田保护区、优先保护类农用地集中区、饮用水源保护区、水库集水区、自然保护区等环境敏感区，以及居民区、学校、医疗和养老机构等人口敏感区周边"
        "新建有色金属矿采选、有色金属冶炼、石油加工、化工、焦化、电镀、制革、医药制造、铅酸蓄电池制造、废旧电子拆解、危险废物处理处置和危险化学品生产、储存、使用等"
        "排放重金属、多环芳烃类等持久性有机污染物的重点行业企业项目。",
    ),
    "L793": (793, "禁止审批无法落实固体废物利用、处置途径的项目，从严审批危险废物产生量大、全市区域范围内无配套利用处置能力的项目。"),
    "L831": (831, "严禁不符合主体功能定位的各类开发活动，严禁任意改变用途。"),
    "L834": (834, "落实最严格的耕地保护制度，不得随意调整或占用永久基本农田。"),
    "L836p": (836, "优先保护单元内，加强生态保护与恢复，恢复与重建水源涵养区森林、湿地等生态系统，提高生态系统的水源涵养能力。"),
    "L836k": (836, "重点管控单元内，坚持绿色发展导向，高质量培育生态经济。"),
    "L836g": (836, "一般管控单元内，根据资源环境承载能力，引导产业科学布局，合理控制开发强度，维护生态环境功能稳定。"),
    "L875": (875, "新建、扩建石化、化工、焦化、有色金属冶炼、平板玻璃项目应布设在依法合规设立并经规划环评的产业园区。"),
    "L900": (900, "坚决禁止各类耕地“非农化”行为。"),
}

NATIONAL = ["空间布局约束", "污染物排放管控", "环境风险防控", "资源开发效率要求"]
QINGYUAN = ["区域布局管控", "污染物排放管控", "环境风险防控", "能源资源利用"]
PRIORITY = [
    ("ZH44188210001", "连州市丰阳北部山地优先保护单元"), ("ZH44188210002", "连州市田心优先保护单元"),
    ("ZH44188210003", "连州市三水北部优先保护单元"), ("ZH44188210004", "连州市南岭优先保护单元"),
    ("ZH44188210005", "连州市星子东北部优先保护单元"), ("ZH44188210006", "连州市大路边东部优先保护单元"),
    ("ZH44188210007", "连州市东陂西部山地优先保护单元"), ("ZH44188210008", "连州市地质公园优先保护单元"),
    ("ZH44188210009", "连州市三水水产种质资源优先保护单元"), ("ZH44188210010", "连州市瑶安优先保护单元"),
    ("ZH44188210011", "连州市龙牙峡优先保护单元"), ("ZH44188210012", "连州市大路边南部优先保护单元"),
]  # fmt: skip
#: Key units: (code, name, [(dimension index, sentence key), ...]) — one row per sentence, code cells merged.
KEY = [
    ("ZH44188220001", "连州市中心城区重点管控单元", [(0, "L711c")]),
    ("ZH44188220002", "连州市城南重点管控单元", [(0, "L711a"), (2, "L762a")]),
    ("ZH44188220003", "连州市民族工业园重点管控单元", [(0, "L761"), (2, "L762a")]),
    ("ZH44188220004", "连州市星子石材循环产业园重点管控单元", [(0, "L761")]),
    ("ZH44188220005", "连州市城东重点管控单元", [(0, "L711b")]),
    ("ZH44188220006", "连州市西岸城镇重点管控单元", [(0, "L711a"), (2, "L762a")]),
]
GENERAL = [
    ("ZH44188230001", "连州市西江一般管控单元"), ("ZH44188230002", "连州市九陂一般管控单元"),
    ("ZH44188230003", "连州市龙坪一般管控单元"), ("ZH44188230004", "连州市西岸东部一般管控单元"),
    ("ZH44188230005", "连州市保安东部一般管控单元"), ("ZH44188230006", "连州市瑶安南部一般管控单元"),
    ("ZH44188230007", "连州市东陂一般管控单元"), ("ZH44188230008", "连州市大路边一般管控单元"),
    ("ZH44188230009", "连州市保安南部一般管控单元"), ("ZH44188230010", "连州市龙坪北部一般管控单元"),
]  # fmt: skip


def check(plan: Path) -> None:
    """Fail unless every sentence is verbatim in its plan line."""
    lines = plan.read_text(encoding="utf-8").splitlines()
    for key, (line, text) in S.items():
        if text not in lines[line - 1]:
            raise SystemExit(f"{key}: not verbatim in {plan.name} L{line}")


def _header(ws: openpyxl.worksheet.worksheet.Worksheet, title: str, heads: list[str], dims: list[str]) -> int:
    """Title row and two header lines (管控要求 merged over the dimensions); returns the first data row."""
    width = len(heads) + len(dims) + 1
    ws.cell(1, 1, title).font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for c, h in enumerate(heads, start=1):
        ws.cell(2, c, h)
        ws.merge_cells(start_row=2, start_column=c, end_row=3, end_column=c)
    ws.cell(2, len(heads) + 1, "管控要求")
    ws.merge_cells(start_row=2, start_column=len(heads) + 1, end_row=2, end_column=len(heads) + len(dims))
    for c, d in enumerate(dims, start=len(heads) + 1):
        ws.cell(3, c, d)
    ws.cell(2, width, "出处")
    ws.merge_cells(start_row=2, start_column=width, end_row=3, end_column=width)
    for row in ws.iter_rows(min_row=2, max_row=3):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for c in range(1, width + 1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width = 16 if c <= len(heads) else 48
    return 4


def _put(ws: openpyxl.worksheet.worksheet.Worksheet, r: int, first_dim: int, dim: int, key: str) -> None:
    ws.cell(r, first_dim + dim, S[key][1]).alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(r, first_dim + 4, f"L{S[key][0]}")


def build(out: Path) -> Path:
    """Write the workbook."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    title = f"{TITLE}"
    # 全市总体管控要求: the whole city, then each category (their own rows).
    ws = wb.create_sheet("全市总体管控要求")
    r = _header(ws, title, ["序号", "管控范围"], NATIONAL)
    rows = [
        ("连州市全市总体管控要求", [(0, "L875"), (1, "L743"), (2, "L762b"), (3, "L793")]),
        ("优先保护单元总体管控要求", [(0, "L836p")]),
        ("重点管控单元总体管控要求", [(0, "L836k")]),
        ("一般管控单元总体管控要求", [(0, "L836g")]),
    ]
    for i, (label, cells) in enumerate(rows, start=1):
        top = r
        for dim, key in cells:
            ws.cell(r, 1, i)
            ws.cell(r, 2, label)
            _put(ws, r, 3, dim, key)
            r += 1
        if r - top > 1:  # the scope label spans its rows, as bureaus lay it out
            for c in (1, 2):
                ws.merge_cells(start_row=top, start_column=c, end_row=r - 1, end_column=c)
    # 优先保护单元 with 清远's dimension names.
    ws = wb.create_sheet("优先保护单元")
    r = _header(ws, title, ["环境管控单元编码", "环境管控单元名称", "管控单元类别"], QINGYUAN)
    for code, name in PRIORITY:
        top = r
        for dim, key in ((0, "L831"), (0, "L834"), (3, "L750")):
            ws.cell(r, 1, code)
            ws.cell(r, 2, name)
            ws.cell(r, 3, "优先保护单元")
            _put(ws, r, 4, dim, key)
            r += 1
        for c in (1, 2, 3):
            ws.merge_cells(start_row=top, start_column=c, end_row=r - 1, end_column=c)
    ws = wb.create_sheet("重点管控单元")
    r = _header(ws, title, ["环境管控单元编码", "环境管控单元名称", "管控单元类别"], NATIONAL)
    for code, name, cells in KEY:
        top = r
        for dim, key in cells:
            ws.cell(r, 1, code)
            ws.cell(r, 2, name)
            ws.cell(r, 3, "重点管控单元")
            _put(ws, r, 4, dim, key)
            r += 1
        if r - top > 1:
            for c in (1, 2, 3):
                ws.merge_cells(start_row=top, start_column=c, end_row=r - 1, end_column=c)
    ws = wb.create_sheet("一般管控单元")
    r = _header(ws, title, ["环境管控单元编码", "环境管控单元名称", "管控单元类别"], NATIONAL)
    for code, name in GENERAL:
        top = r
        for dim, key in ((0, "L711a"), (0, "L900")):
            ws.cell(r, 1, code)
            ws.cell(r, 2, name)
            ws.cell(r, 3, "一般管控单元")
            _put(ws, r, 4, dim, key)
            r += 1
        for c in (1, 2, 3):
            ws.merge_cells(start_row=top, start_column=c, end_row=r - 1, end_column=c)
    wb.properties.creator = "ecozone scripts/build_demo_list.py"
    wb.properties.created = wb.properties.modified = __import__("datetime").datetime(2026, 1, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def main() -> None:
    """Check the sentences against the plan and write the workbook."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, default=PLAN)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    check(args.plan)
    print(build(args.out))


if __name__ == "__main__":
    main()
