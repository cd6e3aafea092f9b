"""``report.pdf`` typeset by Typst from the report model: no browser, about a second for the demo.

The content and its order are those of ``report.html`` (:mod:`maps.report`):
cover, 结论汇总 with the summary table and the county 附图, one section per site
with its facts table, inset and the 三线一单 tables, then the 附表.  The layout is
``maps/report.typ``; this module only hands it the model as JSON (in
``sys.inputs``, so no text of the model is ever read as Typst markup) and the
附图 as the PNG files already written to the output folder.

Typst (the ``typst`` wheel: the Typst compiler, Apache-2.0) embeds the subset
of the fonts it uses and tags the PDF (headings become bookmarks).  It needs a
Chinese font on the machine: :func:`cjk_fonts` finds one of :data:`CJK_FAMILIES`
(Noto/Source Han Sans, 微软雅黑, 苹方, 黑体, 文泉驿); without any, the caller
uses the browser (:mod:`maps.pdf`).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from maps.eia import HITS_NOTE, RULE_TEXTS_INTRO, SHARED_LIST_INTRO, ReportModel, pack_pairs
from maps.figures import Figure
from maps.style import CJK_SANS

__all__ = ["NO_CJK_FONT_ZH", "NO_CJK_FONT_EN", "CJK_FAMILIES", "KEEP_CHARS", "LONG_RUN", "break_long_runs", "cjk_fonts", "typst_available", "report_data", "write_pdf"]

#: Chinese sans-serif families Typst may set the report in, in order of preference (:data:`maps.style.CJK_SANS`).
CJK_FAMILIES = CJK_SANS
_TEMPLATE = "report.typ"
#: A table row or kept block with more characters than this may break across pages (as ``tr.long`` in the HTML:
#: a short row stays whole, a row longer than a page could hold must not be cut off at the page's foot).
KEEP_CHARS = 260
NO_CJK_FONT_ZH = "未找到可供 Typst 排版 PDF 的中文字体（Noto Sans CJK SC、思源黑体、微软雅黑、苹方、黑体或文泉驿，可安装 fonts-noto-cjk）；"
NO_CJK_FONT_EN = "no Chinese font for Typst (Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, SimHei, WenQuanYi: install fonts-noto-cjk); "
#: A run of this many printable ASCII characters (no space) gets break points (SHA-256, file names).
LONG_RUN = 24
_TOKEN = re.compile(rf"[!-~]{{{LONG_RUN},}}")
_NAN_COLUMNS = ("重叠面积（公顷）", "距离（米）")


@functools.cache
def _fonts() -> Any:
    import typst

    return typst.Fonts(include_system_fonts=True, include_embedded_fonts=True)


@functools.cache
def cjk_fonts() -> tuple[str, ...]:
    """Return the families of :data:`CJK_FAMILIES` installed on this machine (empty: none, or no Typst).

    Returns
    -------
    tuple of str
        Installed families, in order of preference.
    """
    try:
        have = {f.lower() for f in _fonts().families()}
    except Exception:  # no typst wheel, or its font search failed
        return ()
    return tuple(f for f in CJK_FAMILIES if f.lower() in have)


def typst_available() -> bool:
    """Tell whether the PDF can be typeset here: the ``typst`` module imports and a Chinese font is installed.

    Returns
    -------
    bool
        True when :func:`write_pdf` can run.
    """
    return bool(cjk_fonts())


def break_long_runs(text: Any) -> str:
    """Put zero-width break points into long runs of ASCII (hashes, file names), so they wrap in a table cell.

    Parameters
    ----------
    text : Any
        A cell's value (None and NaN give an empty string).

    Returns
    -------
    str
        The text with U+200B after every 16 characters of each run of :data:`LONG_RUN` or more.
    """
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return _TOKEN.sub(lambda m: "\u200b".join(m.group(0)[i : i + 16] for i in range(0, len(m.group(0)), 16)), s)


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[list[str]]:
    return [[break_long_runs(v) for v in r] for r in frame[list(columns)].itertuples(index=False)]


def _long(texts: Sequence[str]) -> bool:
    """Whether a row (or a block kept together) may run over a page break: more text than a third of a page holds."""
    return sum(len(t) for t in texts) > KEEP_CHARS


def _table(head: Sequence[str], rows: list[list[str]], widths: Sequence[float], *, verdict_col: int = -1, kv: bool = False) -> dict[str, Any]:
    return {"head": list(head), "rows": rows, "widths": list(widths), "verdict_col": verdict_col, "kv": kv, "long": [_long(r) for r in rows]}


def _figure(fig: Figure | None, folder: str) -> dict[str, str] | None:
    return None if fig is None else {"path": f"{folder}/{fig.filename}", "caption": break_long_runs(fig.caption)}


def _pairs(items: Sequence[tuple[str, str]], short: int = 16) -> list[list[str]]:
    """Two short key/value items to a row of the facts table; a long one gets a row of its own (as in the HTML)."""
    return [[break_long_runs(x) for kv in pair for x in kv] for pair in pack_pairs(list(items), short)]


def report_data(model: ReportModel, figures: Sequence[Figure], folder: str) -> dict[str, Any]:
    """Turn the report model into the JSON that ``maps/report.typ`` lays out.

    Parameters
    ----------
    model : ReportModel
        The content (:func:`maps.eia.build_model`).
    figures : sequence of Figure
        The numbered 附图.
    folder : str
        Their folder, relative to the compile root (the output folder).

    Returns
    -------
    dict
        Plain strings, lists and numbers.
    """
    figs = {f.number: f for f in figures}
    site_figs = {s.figure for s in model.sites}
    hits = model.hits if model.hits_printed is None else model.hits_printed
    appendices: list[dict[str, Any]] = []
    if model.indicators is not None:
        cols = list(model.indicators.columns)
        appendices.append({"title": "生态空间指标", "page_break": False, "note": "",
                           "tables": [_table(cols, _rows(model.indicators, cols), [0] * len(cols))]})  # fmt: skip
    if len(model.rule_texts):
        appendices.append({"title": "管控规则条文", "page_break": True, "note": "",
                           "tables": [_table(["规则编号", "管控要求", "依据"], _rows(model.rule_texts, ["规则编号", "管控要求", "依据"]), [26, 85, 0])]})  # fmt: skip
    hit_cols = ["地块编号", "规则编号", "分区", "要素名称", "符合性", *_NAN_COLUMNS]
    hit_rows = _rows(hits, hit_cols) if len(hits) else [["无。", "", "", "", "", "", ""]]
    appendices.append({"title": "命中管控规则明细", "page_break": True, "note": HITS_NOTE if model.hits_printed is not None else "",
                       "tables": [_table(["地块编号", "规则编号", "分区", "要素", "符合性", "重叠面积（公顷）", "距离（米）"], hit_rows,
                                         [17, 26, 22, 0, 17, 20, 16], verdict_col=4)]})  # fmt: skip
    file_cols = list(model.audit_files.columns)
    appendices.append({"title": "审计信息（可追溯、可复现）", "page_break": False, "note": "",
                       "tables": [_table([], [[break_long_runs(k), break_long_runs(v)] for k, v in model.audit], [28, 0], kv=True),
                                  _table(file_cols, _rows(model.audit_files, file_cols), [16, 40, 26, 0, 30, 14][: len(file_cols)])]})  # fmt: skip
    numerals = "一二三四五六七八九十"
    for k, a in enumerate(appendices):
        a["title"] = f"附表{numerals[k]}　{a['title']}"
    counts = list(model.counts.items())
    plans = "、".join(model.plans) if model.plans else "所在地“三线一单”生态环境分区管控方案"
    return {
        "title": break_long_runs(model.title),
        "doc_title": model.title,
        "stamp": model.stamp,
        "date": model.date,
        "fonts": list(cjk_fonts()) or list(CJK_FAMILIES),
        "coverage": [break_long_runs(c) for c in model.coverage],
        "warnings": [break_long_runs(w) for w in model.warnings],
        "notes": break_long_runs("依据注：" + " ".join(f"{i}. {n}" for i, n in enumerate(model.notes, start=1))) if model.notes else "",
        "intro": f"本报告对照{plans}，逐个分析 {len(model.sites)} 个项目地块与生态保护红线、环境质量底线、资源利用上线和生态环境准入清单的符合性。结论：",
        "counts": [[w, int(n)] for w, n in counts],
        "summary": _rows(model.summary, ["序号", "地块编号", "项目名称", "项目类型", "符合性结论", "涉及情况"]),
        "shared_intro": SHARED_LIST_INTRO,
        "shared": _table(["序号", "条款", "出处", "适用地块"], _rows(model.shared_list, ["序号", "条款", "出处", "适用地块"]), [8.5, 85, 0, 30])
        if len(model.shared_list)
        else None,
        "figure_intro": break_long_runs(model.figure_intro),
        "fig1": _figure(figs.get(1), folder),
        "group_figs": [_figure(f, folder) for f in figures if f.number > 1 and f.number not in site_figs],
        "summary_note": break_long_runs(model.summary_note),
        "rule_texts_intro": RULE_TEXTS_INTRO if len(model.rule_texts) else "",
        "sites": [
            {
                "head": break_long_runs(f"{s.n}. {s.site_id} {s.name}"),
                "verdict_zh": s.verdict_zh,
                "info": _pairs(s.info),
                "keep": not _long([str(v) for _k, v in s.info]),
                "figure": _figure(figs.get(s.figure) if s.figure is not None else None, folder),
                "tables": [
                    {
                        "title": f"（{numerals[i]}）{t.title}符合性分析",
                        "rows": [
                            {"n": j, "requirement": break_long_runs(r.requirement), "basis": break_long_runs(r.basis), "situation": break_long_runs(r.situation),
                             "verdict": r.verdict, "long": _long((r.requirement, r.basis, r.situation))}  # fmt: skip
                            for j, r in enumerate(t.rows, start=1)
                        ],
                        "conclusion": break_long_runs(t.conclusion),
                    }
                    for i, t in enumerate(s.tables)
                ],
                "conclusion": break_long_runs(s.conclusion),
            }
            for s in model.sites
        ],
        "appendices": appendices,
        "closing": "本报告由 ecozone 根据上述输入自动生成。面积为 CGCS2000 椭球面积，距离在高斯-克吕格投影平面量算，方位为坐标北方向。"
        "结论供编制与审查参考，须由专业人员结合项目实际核实。",
    }


def write_pdf(model: ReportModel, figures: Sequence[Figure], path: Path, *, root: Path, folder: str, when: datetime | None = None) -> Path:
    """Typeset ``report.pdf``.

    Parameters
    ----------
    model : ReportModel
        The content.
    figures : sequence of Figure
        The numbered 附图, already written to ``root / folder``.
    path : Path
        Output file (the caller makes it atomic).
    root : Path
        The output folder (Typst reads the 附图 below it, nothing else).
    folder : str
        The 附图 folder's name inside ``root``.
    when : datetime, optional
        The PDF's creation date (default: now).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    RuntimeError
        No Chinese font is installed, or Typst failed (``typst.TypstError``: its message names the cause).
    """
    import typst

    if not cjk_fonts():  # Typst would set every Chinese character as a missing glyph, silently
        raise RuntimeError(NO_CJK_FONT_ZH.rstrip("；") + " / " + NO_CJK_FONT_EN.rstrip("; "))
    template = resources.files("maps").joinpath(_TEMPLATE).read_bytes()
    data = json.dumps(report_data(model, figures, folder), ensure_ascii=False, allow_nan=False)
    pdf = typst.Compiler(root=str(root), font_paths=_fonts()).compile(
        input=template, format="pdf", sys_inputs={"model": data}, timestamp=(when or datetime.now(UTC)).replace(microsecond=0)
    )
    assert isinstance(pdf, bytes)
    Path(path).write_bytes(pdf)
    return path
