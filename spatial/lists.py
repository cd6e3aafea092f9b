"""Reading a bureau's 生态环境准入清单 as it is published (XLSX, CSV, DOCX tables).

A city's 三线一单 成果 comes as unit polygons carrying a unit code and a
separate access list: one row per unit (or per unit category), the code,
name and category, and the requirement text of each dimension under the
national headers (空间布局约束, 污染物排放管控, 环境风险防控,
资源开发效率要求) or the city's own (清远: 区域布局管控, 能源资源利用).
Workbooks merge cells, split headers over two lines, put one category per
sheet and start with 总体管控要求 rows.  :func:`read_list` turns all that
into one tidy table of requirement cells (:class:`UnitList`), each with
its sheet, row and column; nothing is dropped: rows it cannot place are
kept in :attr:`UnitList.problems`.

The clauses are read by :mod:`spatial.clauses` and become rules in
:mod:`spatial.list_rules`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from layers.base import clean_key
from layers.control_unit import CATEGORIES, CATEGORY_DIGIT, CODE_PATTERN
from spatial.errors import FileFormatError, InputError
from spatial.io import bundled_path, file_sha256

__all__ = ["UnitList", "read_list", "demo_list_path", "DIMENSION_HEADERS", "ENTRY_COLUMNS", "LIST_SUFFIXES"]

LIST_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".docx")

#: Dimension key -> header texts (national names first, then city variants such as 清远's).
DIMENSION_HEADERS: dict[str, tuple[str, ...]] = {
    "spatial_layout": ("空间布局约束", "区域布局管控", "空间布局管控", "空间布局引导", "空间布局", "布局约束", "kjbjys"),
    "emission_control": ("污染物排放管控", "污染物排放控制", "污染排放管控", "污染物排放", "排放管控", "pwwpfgk"),
    "risk_prevention": ("环境风险防控", "环境风险管控", "风险防控", "hjfxfk"),
    "resource_efficiency": (
        "资源开发效率要求",
        "资源利用效率要求",
        "资源开发利用效率",
        "资源开发利用要求",
        "能源资源利用",
        "资源能源利用",
        "资源利用效率",
        "资源利用",
        "zykfxlyq",
    ),  # fmt: skip
    "requirements": ("管控要求", "准入要求", "生态环境准入清单", "准入清单", "管控内容", "gkyq"),
}
DIMENSION_ZH = {
    "spatial_layout": "空间布局约束",
    "emission_control": "污染物排放管控",
    "risk_prevention": "环境风险防控",
    "resource_efficiency": "资源开发效率要求",
    "requirements": "管控要求",
}
#: Other columns -> header texts.
_KEY_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("环境管控单元编码", "管控单元编码", "单元编码", "单元代码", "编码", "代码", "hjzhgkdybm", "hjgkdybm"),
    "name": ("环境管控单元名称", "管控单元名称", "单元名称", "名称", "hjzhgkdymc", "hjgkdymc"),
    "category": (
        "环境管控单元类别",
        "管控单元类别",
        "管控单元分类",
        "单元类别",
        "单元分类",
        "管控类别",
        "单元类型",
        "类别",
        "分类",
        "zhgkdyfl",
    ),
    "dimension": ("管控维度", "准入维度", "维度", "清单类型"),
    "seq": ("序号", "编号"),
    "anchor": ("出处", "条款出处", "规划依据", "依据"),
    "scope_label": ("管控范围", "适用范围", "管控区域", "管控对象"),
}
_OVERALL = re.compile(r"总体管控要求|总体准入要求|总体要求|普适性|通用要求|全市|全县|全区")
#: Columns of :attr:`UnitList.entries`.
ENTRY_COLUMNS = [
    "sheet",
    "row",
    "column",
    "cell",
    "code",
    "name",
    "category",
    "scope",
    "scope_value",
    "dimension",
    "header",
    "text",
    "anchor",
]


@dataclass
class UnitList:
    """A published access list, read into requirement cells.

    Attributes
    ----------
    path : Path
        The file.
    sha256 : str
        Its hash (audit).
    title : str
        The first title line above the header (often the scheme's name), or ''.
    entries : DataFrame
        One row per non-empty requirement cell (:data:`ENTRY_COLUMNS`): ``scope`` is
        ``unit`` (``code`` set), ``category`` (``scope_value`` priority/key/general),
        ``region`` (``scope_value`` a place name) or ``all`` (the whole list's area).
    sheets : list of str
        Sheets (tables) read.
    problems : list of dict
        Rows that could not be placed (sheet, row, why), for ``validate`` and the review sheet.
    """

    path: Path
    sha256: str
    title: str
    entries: pd.DataFrame
    sheets: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """Unit codes with a row, in list order."""
        return list(dict.fromkeys(self.entries.loc[self.entries["scope"] == "unit", "code"]))


def demo_list_path() -> Path:
    """Return the bundled 连州 demo's access list (sentences of the 连州 plan, see DEMO_DATA.md).

    Returns
    -------
    Path
        ``spatial/data/lianzhou_list.xlsx``.
    """
    return bundled_path("lianzhou_list.xlsx")


def _fold(text: str) -> str:
    return re.sub(r"[\s*＊:：()（）【】\[\]“”\"'、/]", "", clean_key(text))


def _header_field(text: str) -> str | None:
    """Which field a header cell names (None: none)."""
    t = _fold(text)
    if not t:
        return None
    tables = [*DIMENSION_HEADERS.items(), *_KEY_HEADERS.items()]
    for key, aliases in tables:  # exact first
        if t in {_fold(a) for a in aliases}:
            return key
    best: tuple[int, str] | None = None
    for key, aliases in tables:  # then the longest alias the header contains
        for a in aliases:
            fa = _fold(a)
            if len(fa) >= 2 and fa in t and (best is None or len(fa) > best[0]):
                best = (len(fa), key)
    return best[1] if best and len(t) <= 24 else None


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


# --------------------------------------------------------------------------- grids


def _xlsx_grids(path: Path) -> list[tuple[str, list[list[str]], set[tuple[int, int]]]]:
    """Sheets as grids of text, merged cells filled; the set holds horizontally-merged non-anchor cells."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise FileFormatError(
            f"无法读取准入清单工作簿 {path.name}：{exc}。请另存为 .xlsx 后重试。",
            f"cannot read the access-list workbook {path.name}: {exc}; save it as .xlsx and retry",
        ) from exc
    out = []
    for ws in wb.worksheets:
        grid = [[_cell(c) for c in row] for row in ws.iter_rows(values_only=True)]
        width = max((len(r) for r in grid), default=0)
        grid = [r + [""] * (width - len(r)) for r in grid]
        across: set[tuple[int, int]] = set()
        for rng in ws.merged_cells.ranges:
            r0, c0, r1, c1 = rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1
            if r0 >= len(grid) or c0 >= width:
                continue
            value = grid[r0][c0]
            for r in range(r0, min(r1, len(grid) - 1) + 1):
                for c in range(c0, min(c1, width - 1) + 1):
                    grid[r][c] = value
                    if c > c0:
                        across.add((r, c))
        out.append((ws.title, grid, across))
    return out


def _csv_grids(path: Path) -> list[tuple[str, list[list[str]], set[tuple[int, int]]]]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, header=None, dtype=str, encoding=enc, keep_default_na=False)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileFormatError(
            f"准入清单 {path.name} 的编码无法识别（UTF-8/GB18030）。", f"{path.name}: encoding not UTF-8/GB18030"
        )
    return [(path.stem, [[_cell(v) for v in row] for row in frame.itertuples(index=False)], set())]


def _docx_grids(path: Path) -> list[tuple[str, list[list[str]], set[tuple[int, int]]]]:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds for a bad file
        raise FileFormatError(f"无法读取 Word 文件 {path.name}：{exc}", f"cannot read the Word file {path.name}: {exc}") from exc
    out = []
    for i, table in enumerate(document.tables, start=1):
        grid: list[list[str]] = []
        across: set[tuple[int, int]] = set()
        for r, row in enumerate(table.rows):
            cells = row.cells  # a merged cell is repeated: filled down and across already
            texts = [_cell(c.text) for c in cells]
            for c in range(1, len(cells)):
                if cells[c]._tc is cells[c - 1]._tc:
                    across.add((r, c))
            grid.append(texts)
        width = max((len(r) for r in grid), default=0)
        out.append((f"表{i}", [r + [""] * (width - len(r)) for r in grid], across))
    return out


# --------------------------------------------------------------------------- reading


def _find_header(grid: list[list[str]]) -> tuple[int, int, list[str | None], list[str]] | None:
    """(first header row, first data row, field per column, header text per column), or None."""
    for i, row in enumerate(grid[:20]):
        fields = [_header_field(v) for v in row]
        dims = [f for f in fields if f in DIMENSION_HEADERS]
        keys = [f for f in fields if f in ("code", "name", "category", "dimension", "scope_label")]
        if not dims or not keys:
            continue
        labels = list(row)
        start = i + 1
        if i + 1 < len(grid):
            nxt = [_header_field(v) for v in grid[i + 1]]
            if any(f in DIMENSION_HEADERS and f != "requirements" for f in nxt):  # the second header line
                for c, f in enumerate(nxt):
                    if f is not None:
                        fields[c] = f
                        labels[c] = grid[i + 1][c]
                start = i + 2
        return i, start, fields, labels
    return None


def _category(value: str, code: str, sheet: str) -> str:
    """Canonical category from the cell, the code's digit, or the sheet name ('' when none)."""
    key = clean_key(value)
    for canon, words in CATEGORIES.items():
        if key and (key in {clean_key(w) for w in words} or any(clean_key(w) in key for w in words[:2])):
            return canon
    m = CODE_PATTERN.match(code)
    if m:
        return {d: c for c, d in CATEGORY_DIGIT.items()}[m.group(2)]
    for canon, words in CATEGORIES.items():
        if any(w in sheet for w in words[:2]):
            return canon
    return ""


def _overall_scope(label: str) -> tuple[str, str]:
    """Scope of a 总体管控要求 row from its label: a category, a region, or all."""
    for canon, words in CATEGORIES.items():
        if any(w in label for w in words[:2]):
            return "category", canon
    if re.search(r"全市|全县|全区|全省|全域", label):
        return "all", ""
    m = re.match(r"^(.+?[市县区镇乡])(?:总体|生态环境|环境管控|管控|准入)", label)
    return ("region", m.group(1)) if m else ("all", "")


def _read_grid(
    sheet: str,
    grid: list[list[str]],
    across: set[tuple[int, int]],
    entries: list[dict[str, object]],
    problems: list[dict[str, str]],
) -> str:
    """Add one sheet's requirement cells to ``entries``; return the title line above its header."""
    found = _find_header(grid)
    if found is None:
        if any(any(v for v in row) for row in grid):
            problems.append(
                {"sheet": sheet, "row": "", "why": "未找到表头（单元编码/名称/类别 与 管控要求各维度）/ no header row found"}
            )
        return ""
    head, start, fields, labels = found
    title = next((v for row in grid[:head] for v in row if v), "")
    col = {f: c for c, f in reversed(list(enumerate(fields))) if f is not None}
    dim_cols = [c for c, f in enumerate(fields) if f in DIMENSION_HEADERS]
    sheet_overall = bool(_OVERALL.search(sheet))
    for r in range(start, len(grid)):
        row = grid[r]
        if not any(row):
            continue
        code = row[col["code"]].replace(" ", "") if "code" in col else ""
        name = row[col["name"]] if "name" in col else ""
        cat_text = row[col["category"]] if "category" in col else ""
        label_cells = [row[c] for c in range(len(row)) if c not in dim_cols and fields[c] not in ("seq", "anchor") and row[c]]
        label = " ".join(dict.fromkeys([name, cat_text, *label_cells])).strip()
        if code and CODE_PATTERN.match(code):
            scope, value = "unit", ""
        elif code and not _OVERALL.search(label):
            scope, value = "unit", ""  # a code in the bureau's own format: joined as it is
        elif _OVERALL.search(label) or sheet_overall:
            scope, value = _overall_scope(label or sheet)
            if scope == "all" and not _OVERALL.search(label):  # a 总体 sheet's row naming a category
                cat = _category(cat_text, "", "")
                if cat:
                    scope, value = "category", cat
        else:
            problems.append(
                {
                    "sheet": sheet,
                    "row": str(r + 1),
                    "why": f"没有单元编码，也不是总体管控要求行：{label[:40]} / no unit code and not an overall row",
                }
            )
            continue
        dims: list[tuple[int, str]] = []
        if "dimension" in col:  # long format: one row per dimension
            key = _header_field(row[col["dimension"]]) or "requirements"
            dims = [(c, key) for c in dim_cols]
            dim_label = row[col["dimension"]]
        for c in dim_cols:
            text = row[c]
            if not text or (r, c) in across:
                continue
            key = dims[0][1] if dims else str(fields[c])
            entries.append(
                {
                    "sheet": sheet,
                    "row": r + 1,
                    "column": _col_letter(c),
                    "cell": f"{_col_letter(c)}{r + 1}",
                    "code": code if scope == "unit" else "",
                    "name": name,
                    "category": _category(cat_text, code, sheet) if scope == "unit" else (value if scope == "category" else ""),
                    "scope": scope,
                    "scope_value": value,
                    "dimension": key,
                    "header": dim_label if dims else labels[c],
                    "text": text,
                    "anchor": row[col["anchor"]] if "anchor" in col else "",
                }
            )
    return title


def read_list(path: str | os.PathLike[str]) -> UnitList:
    """Read a published 生态环境准入清单 (XLSX/XLSM, CSV or the tables of a DOCX).

    Parameters
    ----------
    path : path-like
        The list file.

    Returns
    -------
    UnitList
        Its requirement cells with their sheet, row and column.

    Raises
    ------
    InputError
        When the file is missing or of another kind.
    FileFormatError
        When it cannot be read, or no sheet has a recognisable header.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"找不到准入清单文件：{p}", f"access list not found: {p}")
    suffix = p.suffix.lower()
    if suffix not in LIST_SUFFIXES:
        raise InputError(
            f"准入清单 {p.name} 的格式不支持；可用：{'、'.join(LIST_SUFFIXES)}（.xls 请先另存为 .xlsx）。",
            f"access list {p.name}: unsupported format; use {', '.join(LIST_SUFFIXES)} (save .xls as .xlsx)",
        )
    grids = _xlsx_grids(p) if suffix in (".xlsx", ".xlsm") else _csv_grids(p) if suffix == ".csv" else _docx_grids(p)
    entries: list[dict[str, object]] = []
    problems: list[dict[str, str]] = []
    titles = [_read_grid(sheet, grid, across, entries, problems) for sheet, grid, across in grids]
    if not entries:
        raise FileFormatError(
            f"准入清单 {p.name} 中没有读到管控要求：需要一行表头，含单元编码（或名称、类别）和至少一个维度列"
            f"（{'、'.join(DIMENSION_ZH.values())}，或城市名称如 区域布局管控、能源资源利用）。",
            f"access list {p.name}: no requirements read; a header row needs the unit code (or name/category) and at least "
            "one dimension column (空间布局约束, 污染物排放管控, 环境风险防控, 资源开发效率要求 or a city's variant)",
        )
    return UnitList(
        path=p,
        sha256=file_sha256(p),
        title=next((t for t in titles if t), ""),
        entries=pd.DataFrame(entries, columns=ENTRY_COLUMNS),
        sheets=[g[0] for g in grids],
        problems=problems,
    )
