"""The bureau's review sheet of a published access list: every clause and what it became.

``ecozone lists review`` writes it (:func:`review_list`): 条款解析 (each clause, its modality,
types, conditions and verdict, or why it was not parsed, and any correction), 单元统计 (clauses,
parsed and 待核实 per unit or 总体 level), 问题 (rows that could not be placed, codes without a
polygon, polygons without a row, regions naming no unit) and 汇总.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from layers.control_unit import CATEGORY_ZH
from spatial.list_rules import audit_record, list_coverage, parse_list, read_overrides, types_zh
from spatial.lists import UnitList, read_list
from spatial.project_types import VERDICT_EIA, VERDICT_ZH, ProjectTypes

__all__ = ["review_tables", "write_review", "review_list"]


def review_tables(
    ulist: UnitList, clauses: pd.DataFrame, coverage: Mapping[str, list[str]] | None = None
) -> dict[str, pd.DataFrame]:
    """Build the bureau's review sheet: every clause and what it became, counts per unit, join problems.

    Parameters
    ----------
    ulist : UnitList
        The list.
    clauses : DataFrame
        :func:`parse_list` output.
    coverage : mapping, optional
        :func:`list_coverage` output.

    Returns
    -------
    dict
        Sheet name -> table: 条款解析, 单元统计, 问题.
    """
    rows = []
    for c in clauses.to_dict("records"):
        rows.append(
            {
                "条款编号 clause_id": c["clause_id"],
                "工作表": c["sheet"],
                "单元格": c["cell"],
                "适用范围": {"unit": "单元", "category": "类别总体", "region": "区域总体", "all": "全域总体"}[c["scope"]],
                "单元编码/范围": c["code"] or CATEGORY_ZH.get(str(c["scope_value"]), str(c["scope_value"])) or "全域",
                "单元名称": c["name"],
                "维度": c["header"],
                "序": c["n"],
                "条款原文": c["text"],
                "情态": VERDICT_ZH.get(c["modality"], "不明") if c["modality"] else "不明",
                "识别词": c["terms"],
                "项目类型": types_zh(c["types"]),
                "条件": c["conditions"],
                "结论": VERDICT_EIA[c["verdict"]] if c["parsed"] else "待核实（全部类型）",
                "是否解析": "是" if c["parsed"] else "否",
                "未解析原因/说明": c["reason"],
                "人工更正": c["override"],
            }
        )
    table = pd.DataFrame(rows)
    level = [
        {"all": "全域总体管控要求", "region": f"{v}总体管控要求", "category": f"{CATEGORY_ZH.get(v, v)}总体管控要求"}.get(s, "")
        for s, v in zip(clauses["scope"], clauses["scope_value"].astype(str), strict=True)
    ]
    key = clauses["code"].where(clauses["code"] != "", pd.Series(level, index=clauses.index))
    names = clauses["name"].where(clauses["code"] != "", pd.Series(level, index=clauses.index))
    per = (
        clauses.assign(单元=key, name=names, parsed_i=clauses["parsed"].astype(int))
        .groupby("单元", sort=False)
        .agg(单元名称=("name", "first"), 条款数=("text", "size"), 已解析=("parsed_i", "sum"))
        .reset_index()
    )
    per["待核实"] = per["条款数"] - per["已解析"]
    problems = [{"问题": "清单行无法定位", "对象": f"{p['sheet']} 第 {p['row']} 行", "说明": p["why"]} for p in ulist.problems]
    cov = coverage or {}
    problems += [
        {"问题": "清单单元编码在分区数据中没有图斑", "对象": c, "说明": "核对编码或补充图斑"} for c in cov.get("no_polygon", [])
    ]
    problems += [
        {"问题": "分区图斑在清单中没有对应行", "对象": c, "说明": "该单元只适用总体管控要求"} for c in cov.get("no_row", [])
    ]
    problems += [
        {"问题": "总体管控要求所指区域未匹配到单元", "对象": r, "说明": "该行不适用于任何单元"} for r in cov.get("no_region", [])
    ]
    total = pd.DataFrame(
        [
            {
                "条款数": len(clauses),
                "已解析": int(clauses["parsed"].sum()),
                "待核实": int((~clauses["parsed"].astype(bool)).sum()),
                "文件": ulist.path.name,
                "SHA-256": ulist.sha256,
            }
        ]
    )
    return {"条款解析": table, "单元统计": per, "问题": pd.DataFrame(problems, columns=["问题", "对象", "说明"]), "汇总": total}


def write_review(path: str | os.PathLike[str], tables: Mapping[str, pd.DataFrame], *, force: bool = False) -> Path:
    """Write the review tables as one XLSX (atomically; text never read as a formula).

    Parameters
    ----------
    path : path-like
        The workbook to write.
    tables : mapping
        Sheet name -> table (:func:`review_tables`).
    force : bool, default False
        Overwrite an existing file.

    Returns
    -------
    Path
        The file written.
    """
    from spatial.io import atomic_output

    def safe(v: object) -> object:
        return "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v

    with atomic_output(path, force=force) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        for name, frame in tables.items():
            frame.map(safe).to_excel(xw, sheet_name=name[:31], index=False)
            ws = xw.sheets[name[:31]]
            for col in ws.columns:
                width = max(len(str(c.value or "")) for c in col[:200])
                ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width * 1.6))
    return Path(path)


def review_list(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    zoning: Any = None,
    overrides: str | os.PathLike[str] | None = None,
    types: ProjectTypes | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Read a list, parse it (with corrections) and write the bureau's review sheet.

    Parameters
    ----------
    path : path-like
        The access list.
    out : path-like
        The review workbook to write.
    zoning : Zoning, optional
        Checks the join with the unit polygons.
    overrides : path-like, optional
        Corrections (:func:`read_overrides`).
    types : ProjectTypes, optional
        Vocabulary (default built-in).
    force : bool, default False
        Overwrite ``out``.

    Returns
    -------
    dict
        Counts (``n_clauses``, ``n_parsed``, ``n_pending``), join problems and overrides, as in ``run.json``.
    """
    from spatial.project_types import DEFAULT_TYPES

    ulist = read_list(path)
    clauses = parse_list(ulist, types or DEFAULT_TYPES, read_overrides(overrides) if overrides else None)
    units = zoning["control_unit"].drop(columns="geometry") if zoning is not None and "control_unit" in zoning.layers else None
    coverage = list_coverage(ulist, units, clauses)
    write_review(out, review_tables(ulist, clauses, coverage if units is not None else None), force=force)
    return audit_record(
        ulist, clauses, coverage if units is not None else {"no_polygon": [], "no_row": [], "no_region": []}, overrides
    )
