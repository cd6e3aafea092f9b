"""report.xlsx's two writers give the same cells; the direct one is the default when it can write the tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from maps.xlsx import WRAP_MIN_WIDTH, direct_supported, write_xlsx

HOSTILE = ["=1+1", "+x", "-3", "@a", "\tb", "\rc", "  lead", " trail ", "a&b<c>\"'", "中文\n两行", "", None, "=cmd|' /C calc'!A0"]


def _width(column: str) -> float:
    return 40.0 if column.startswith("宽") else 12.0


def _cells(path: Path) -> dict[str, object]:
    """Everything a reader sees: values, types, bold, fill, wrap, quote prefix, widths, the frozen header."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, object] = {}
    for ws in wb:
        cells = [
            (c.coordinate, c.value, c.data_type if c.value is not None else None, bool(c.font.b),
             c.fill.fgColor.rgb if c.fill.fill_type else None, c.alignment.wrap_text, c.alignment.vertical, c.quotePrefix)
            for row in ws.iter_rows() for c in row if c.value is not None or c.has_style
        ]  # fmt: skip
        out[ws.title] = (cells, ws.freeze_panes, {k: v.width for k, v in ws.column_dimensions.items()}, ws.max_row, ws.max_column)
    return out


def _both(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> tuple[object, object]:
    write_xlsx(tmp_path / "a.xlsx", tables, _width, engine="openpyxl")
    write_xlsx(tmp_path / "b.xlsx", tables, _width, engine="direct")
    return _cells(tmp_path / "a.xlsx"), _cells(tmp_path / "b.xlsx")


def test_direct_writer_matches_openpyxl_on_hostile_text(tmp_path: Path) -> None:
    """Formula-led text stays text with a quote prefix, CR/tab/blanks survive, numbers stay numbers, NaN/inf as pandas writes them."""
    n = len(HOSTILE)
    frame = pd.DataFrame(
        {
            "宽文本": HOSTILE,
            "窄文本": pd.array(HOSTILE, dtype="string"),
            "n": range(n),
            "f": [1.5, np.nan, np.inf, -np.inf, 0.1, 1e20, 2.25, 3, 4, 5, 6, 7, 8],
            "b": [True, False] * 6 + [True],
        }
    )
    tables = {"汇总": frame, "空表": frame.iloc[:0]}
    assert direct_supported(tables)
    old, new = _both(tmp_path, tables)
    assert new == old
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    ws = wb["汇总"]
    assert [c.value for c in ws[1]] == list(frame.columns) and all(c.font.b for c in ws[1])
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s" and ws["A2"].quotePrefix
    assert ws["A7"].value == "\rc" and ws["A8"].value == "  lead" and ws["A2"].alignment.wrap_text
    assert ws["B2"].alignment.wrap_text is not True
    assert ws["D4"].value == "inf" and ws["D5"].value == "-inf" and ws["D3"].value is None
    assert _width("宽文本") >= WRAP_MIN_WIDTH > _width("n")


@settings(max_examples=25, deadline=None)
@given(
    hs.lists(
        hs.tuples(hs.text(alphabet=hs.characters(blacklist_categories=("Cs", "Cc")), max_size=12), hs.integers(-(10**6), 10**6)),
        max_size=8,
    )
)
def test_direct_writer_matches_openpyxl_on_random_text(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, int]]
) -> None:
    """Any printable text and integers: the same cells from both writers."""
    tmp = tmp_path_factory.mktemp("x")
    frame = pd.DataFrame(rows, columns=["宽", "n"]).astype({"n": "int64"})
    old, new = _both(tmp, {"表": frame})
    assert new == old


def test_dates_and_control_characters_go_through_openpyxl(tmp_path: Path) -> None:
    """What the direct writer cannot hold is left to openpyxl (dates written as dates; an illegal character refused as before)."""
    dates = {"表": pd.DataFrame({"日期": pd.to_datetime(["2026-01-02"]), "x": ["a"]})}
    assert not direct_supported(dates)
    write_xlsx(tmp_path / "d.xlsx", dates, _width)
    assert openpyxl.load_workbook(tmp_path / "d.xlsx")["表"]["A2"].is_date
    bad = {"表": pd.DataFrame({"x": ["a\x01b"]})}
    assert not direct_supported(bad)
    with pytest.raises(Exception, match="cannot be used in worksheets"):
        write_xlsx(tmp_path / "e.xlsx", bad, _width)
