"""``report.xlsx``: tables as sheets with plain Chinese headers, written fast and safely.

Every sheet gets a bold, shaded header row that stays frozen, a width per
column, wrapped text in the wide columns, and no formulas: a text cell
stays text whatever it starts with, and text led by ``= + - @``, a tab or
CR (OWASP's CSV-injection list) gets Excel's quote prefix (the apostrophe
typed before text), so it stays text when the cell is edited.

Two writers give the same cells (values, types, styles, widths, frozen
header): the sheet XML written directly, column by column (the default;
a 15 000-row 汇总 sheet in well under a second), and openpyxl cell by
cell (several seconds for the same sheet), used for anything the direct
writer does not handle (dates and times, characters XML cannot hold,
sheet names Excel refuses): those stay exactly as openpyxl writes (or
refuses) them.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from spatial.io import FORMULA_TRIGGERS

__all__ = ["write_xlsx", "direct_supported", "HEADER_FILL", "WRAP_MIN_WIDTH"]

#: Fill of the header row (RGB).
HEADER_FILL = "DDE6F0"
#: Columns at least this wide (Excel character units) wrap their text.
WRAP_MIN_WIDTH = 24
#: What pandas writes for an infinite float (its ``inf_rep``).
_INF = "inf"
#: Characters an XML 1.0 document cannot hold (openpyxl refuses them as "illegal characters").
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BAD_SHEET = re.compile(r"[\\/*?:\[\]]")

Widths = Callable[[str], float]

# Cell styles of the direct writer (indexes into cellXfs below).
_PLAIN, _HEAD, _WRAP, _QUOTE, _WRAP_QUOTE = 0, 1, 2, 3, 4

_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>'
    '<font><b val="1"/></font></fonts>'
    '<fills count="3"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill>'
    f'<fill><patternFill patternType="solid"><fgColor rgb="00{HEADER_FILL}"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1" quotePrefix="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def _letters(n: int) -> list[str]:
    """Excel column letters of the first ``n`` columns."""
    out = []
    for i in range(1, n + 1):
        s = ""
        while i:
            i, r = divmod(i - 1, 26)
            s = chr(65 + r) + s
        out.append(s)
    return out


def _text(value: str) -> str:
    """XML text of a string cell (CR kept as a character reference: a parser would fold it into LF)."""
    return escape(value).replace("\r", "&#13;")


def _column_values(series: pd.Series) -> list[Any] | None:
    """Return the column's values as Python scalars (None for missing), or None when the direct writer cannot write them."""
    dtype = series.dtype
    if (
        isinstance(dtype, pd.DatetimeTZDtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    ):
        return None
    values = series.astype(object).tolist()
    out: list[Any] = []
    for v in values:
        if v is None or v is pd.NA or v is pd.NaT:
            out.append(None)
        elif isinstance(v, str):
            if _ILLEGAL.search(v):
                return None
            out.append(v)
        elif isinstance(v, (bool, np.bool_)):
            out.append(bool(v))
        elif isinstance(v, (int, np.integer)):
            out.append(int(v))
        elif isinstance(v, (float, np.floating)):
            out.append(None if math.isnan(v) else float(v))
        else:  # dates, times, decimals, objects: as openpyxl writes them
            return None
    return out


def direct_supported(tables: Mapping[str, pd.DataFrame]) -> bool:
    """Return True when the direct writer can write every sheet (else :func:`write_xlsx` uses openpyxl).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet name -> table.

    Returns
    -------
    bool
        Plain values only (text without XML-illegal characters, numbers, booleans, missing values)
        and sheet names Excel accepts.
    """
    return _columns(tables) is not None


def _columns(tables: Mapping[str, pd.DataFrame]) -> list[list[list[Any]]] | None:
    """Every sheet's columns as Python values, or None when the direct writer cannot write them all."""
    names = [str(n) for n in tables]
    if not names or len({n.lower() for n in names}) != len(names):
        return None
    if any(
        not n or len(n) > 31 or _BAD_SHEET.search(n) or _ILLEGAL.search(n) or n.startswith("'") or n.endswith("'") for n in names
    ):
        return None
    out = []
    for frame in tables.values():
        if any(_ILLEGAL.search(str(c)) for c in frame.columns):
            return None
        cols = [_column_values(frame.iloc[:, j]) for j in range(frame.shape[1])]
        if any(c is None for c in cols):
            return None
        out.append(cols)
    return out


def _sheet_xml(frame: pd.DataFrame, columns: list[list[Any]], widths: Widths) -> str:
    """Return the worksheet XML of one table: frozen header, column widths, every cell."""
    ncol, nrow = frame.shape[1], len(frame)
    letters = _letters(max(ncol, 1))
    col_widths = [float(widths(str(c))) for c in frame.columns]
    rows: list[list[str]] = [[] for _ in range(nrow + 1)]
    for j, col in enumerate(frame.columns):
        rows[0].append(
            f'<c r="{letters[j]}1" s="{_HEAD}" t="inlineStr"><is><t xml:space="preserve">{_text(str(col))}</t></is></c>'
        )
        wrap = col_widths[j] >= WRAP_MIN_WIDTH
        values = columns[j]
        letter = letters[j]
        for i, v in enumerate(values, start=2):
            ref = f"{letter}{i}"
            if isinstance(v, float) and math.isinf(v):  # pandas writes infinity as text
                v = f"{'-' if v < 0 else ''}{_INF}"
            if v is None or v == "":  # missing or empty: the cell keeps its style only (as pandas + openpyxl write it)
                if wrap:
                    rows[i - 1].append(f'<c r="{ref}" s="{_WRAP}"/>')
                continue
            if isinstance(v, str):
                style = (_WRAP_QUOTE if wrap else _QUOTE) if v[:1] in FORMULA_TRIGGERS else (_WRAP if wrap else _PLAIN)
                s = f' s="{style}"' if style else ""
                rows[i - 1].append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_text(v)}</t></is></c>')
                continue
            s = f' s="{_WRAP}"' if wrap else ""
            if isinstance(v, bool):
                rows[i - 1].append(f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>')
            else:
                rows[i - 1].append(f'<c r="{ref}"{s}><v>{v!r}</v></c>')
    cols = "".join(f'<col min="{j}" max="{j}" width="{w:g}" customWidth="1"/>' for j, w in enumerate(col_widths, start=1))
    body = "".join(f'<row r="{i}">{"".join(cells)}</row>' for i, cells in enumerate(rows, start=1))
    last = f"{letters[ncol - 1]}{nrow + 1}" if ncol else "A1"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "") + f"<sheetData>{body}</sheetData>"
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>'
    )


def _write_direct(path: Path, tables: Mapping[str, pd.DataFrame], columns: list[list[list[Any]]], widths: Widths) -> None:
    names = [str(n) for n in tables]
    sheets = "".join(f'<sheet name={quoteattr(n)} sheetId="{k}" r:id="rId{k}"/>' for k, n in enumerate(names, start=1))
    types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for k in range(1, len(names) + 1)
    )
    rels = "".join(
        f'<Relationship Id="rId{k}" Type="{_REL}/worksheet" Target="worksheets/sheet{k}.xml"/>' for k in range(1, len(names) + 1)
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        z.writestr(
            "[Content_Types].xml",
            head + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{types}</Types>",
        )
        z.writestr(
            "_rels/.rels",
            head
            + f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            head
            + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>',
        )
        n = len(names)
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            head
            + f'<Relationships xmlns="{_PKG_REL}">{rels}<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        )
        z.writestr("xl/styles.xml", _STYLES)
        for k, (frame, cols) in enumerate(zip(tables.values(), columns, strict=True), start=1):
            z.writestr(f"xl/worksheets/sheet{k}.xml", _sheet_xml(frame, cols, widths))


def _no_formulas(ws: Any) -> None:
    """openpyxl: make every ``=``-led text a string again and quote-prefix every text led by a formula trigger."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
            if cell.data_type == "s" and isinstance(cell.value, str) and cell.value[:1] in FORMULA_TRIGGERS:
                cell.quotePrefix = True


def _write_openpyxl(path: Path, tables: Mapping[str, pd.DataFrame], widths: Widths) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    head = PatternFill("solid", fgColor=HEADER_FILL)
    wrap = Alignment(wrap_text=True, vertical="top")  # one style object for every wide cell
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in tables.items():
            frame.to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            _no_formulas(ws)
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.fill = head
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            for j, col in enumerate(frame.columns, start=1):
                letter = ws.cell(row=1, column=j).column_letter
                width = widths(str(col))
                ws.column_dimensions[letter].width = width
                if width >= WRAP_MIN_WIDTH:
                    for cell in ws[letter][1:]:
                        cell.alignment = wrap


def write_xlsx(path: str | Path, tables: Mapping[str, pd.DataFrame], widths: Widths, *, engine: str | None = None) -> None:
    """Write ``tables`` as the sheets of one workbook.

    Parameters
    ----------
    path : path-like
        The file (the caller makes it atomic).
    tables : mapping of str to DataFrame
        Sheet name -> table (header row from the columns, no index).
    widths : callable
        Column name -> width in Excel character units (columns from :data:`WRAP_MIN_WIDTH` wrap).
    engine : {'direct', 'openpyxl'}, optional
        Default: ``direct`` when :func:`direct_supported`, else ``openpyxl``.
    """
    columns = _columns(tables) if engine in (None, "direct") else None
    if engine is None:
        engine = "direct" if columns is not None else "openpyxl"
    if engine == "direct":
        if columns is None:
            raise ValueError("the direct writer cannot write these tables (see direct_supported)")
        _write_direct(Path(path), tables, columns, widths)
    elif engine == "openpyxl":
        _write_openpyxl(Path(path), tables, widths)
    else:
        raise ValueError(f"unknown engine {engine!r}")
