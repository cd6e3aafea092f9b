"""The screening report a planner hands in: HTML, Word, PDF, Excel and the numbered 附图.

``write_report`` writes, atomically:

* ``report.html``: self-contained, printable on A4 (cover; summary table of all
  sites; 附图1 location map; one compact section per site with the four
  三线一单 tables and conclusions; appendices with every finding and the audit
  trail: file names and SHA-256, never a local path);
* ``report.docx``: the same content as real Word tables with heading styles,
  the 附图 embedded and page numbers in the footer (python-docx), editable in
  Word, WPS or LibreOffice;
* ``report.pdf``: the same content typeset by Typst (:mod:`maps.report_typst`,
  no browser needed), or the HTML printed by a local headless Chromium
  (``pdf_engine``; Typst needs a Chinese font, else the browser prints it, and
  without either a note says how to get one; the run still succeeds);
* ``report.xlsx``: the tables, one sheet each, with plain Chinese headers;
* ``附图/附图N_标题.png``: the numbered maps.

The content is built once (:mod:`maps.eia`); this module only renders it.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from maps import style as st
from maps.eia import HITS_NOTE, PENDING, RULE_TEXTS_INTRO, SHARED_LIST_INTRO, TO_FILL, ReportModel, build_model, pack_pairs
from maps.figures import LAYER_GROUPS, Figure, render_group, render_overview, render_sites
from maps.model import OutputModel, output_model
from maps.summary import summary_counts, summary_note, summary_table
from maps.xlsx import write_xlsx
from spatial.engine.parallel import frozen_heap
from spatial.io import atomic_output, ensure_writable
from spatial.output import FILES, output_path

__all__ = ["write_report", "report_tables", "render_report_html", "make_figures", "report_paths", "PENDING_ZH",
           "REPORT_TITLE", "FIGURE_DIR", "MAX_SITE_FIGURES", "PDF_ENGINES", "PDF_ENGINE_ENV"]  # fmt: skip

REPORT_TITLE = "生态环境分区管控符合性分析报告"
PENDING_ZH = PENDING
#: Folder of the numbered 附图 PNGs inside the output directory.
FIGURE_DIR = FILES["figures_dir"].name
#: Above this many sites the per-site insets are skipped (the county maps stay).
MAX_SITE_FIGURES = 300
#: Who makes report.pdf (:func:`write_report`'s ``pdf_engine``).
PDF_ENGINES = ("auto", "typst", "chromium")
#: Environment variable choosing the PDF engine (a deployment setting).
PDF_ENGINE_ENV = "ECOZONE_PDF_ENGINE"
_FONT_STACK = ",".join([*(f'"{f}"' for f in st.CJK_SANS), '"SimSun"', "sans-serif"])
_VERDICT_CLASS = {"符合": "ok", "不符合": "no", "有条件符合": "cond", "待核实": "pend"}


def report_paths(out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Paths of the report files (the 附图 folder's files are named as they are drawn).

    Parameters
    ----------
    out_dir : path-like
        Output directory.

    Returns
    -------
    dict of str to Path
        ``html``, ``docx``, ``pdf``, ``xlsx``.
    """
    out = Path(out_dir)
    return {k: output_path(out, f"report_{k}") for k in ("html", "docx", "pdf", "xlsx")}


# --------------------------------------------------------------------------- figures


def _source_note(result: Any) -> str:
    audit = getattr(result, "audit", {}) or {}
    files = sorted({Path(str(z.get("path", ""))).name for z in audit.get("zoning") or [] if z.get("path")})
    crs = str(audit.get("working_crs", ""))
    return (
        f"底图：无（仅绘制分区数据，未使用在线底图，无需审图号）｜分区数据：{'、'.join(files) or '—'}｜坐标系：{crs}｜"
        "示意图，不作为权属界线依据"
    )


def make_figures(
    result: Any,
    *,
    site_insets: bool = True,
    inset_sites: Collection[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    meanwhile: Callable[[list[tuple[int, str, str]], dict[str, int], dict[str, int]], Any] | None = None,
) -> tuple[list[Figure], dict[str, int], dict[str, int]]:
    """Draw the numbered 附图: location, each layer group present, each site's inset.

    Parameters
    ----------
    result : ScreeningResult
        Screening output.
    site_insets : bool, default True
        Draw one inset per site (skipped above :data:`MAX_SITE_FIGURES` insets).
    inset_sites : collection of str, optional
        Draw insets for these site ids only (a summary report's sections); default every site.
    progress : callable, optional
        Called with (figures drawn, figures to draw) after each figure.
    meanwhile : callable, optional
        Called once with the numbered figures to be (number, caption, file name), layer -> group figure
        number and site id -> inset number, after the county maps: the caller's work (the report model)
        runs while a forked process draws the insets, when it may (:func:`maps.figures.render_sites`;
        the copy starts on the insets before the county maps are drawn here).

    Returns
    -------
    (list of Figure, dict, dict)
        The figures, layer -> group figure number, site id -> inset number.
    """
    zoning, sites = result.zoning, result.sites
    note = _source_note(result)
    groups = [(title, [n for n in layers if n in zoning.layers and len(zoning.layers[n])]) for title, layers in LAYER_GROUPS]
    groups = [(title, present) for title, present in groups if present]
    wanted = None if inset_sites is None else {str(i) for i in inset_sites}
    n_insets = len(sites) if wanted is None else int(sites["site_id"].astype(str).isin(wanted).sum())
    insets = site_insets and n_insets <= MAX_SITE_FIGURES
    total = 1 + len(groups) + (n_insets if insets else 0)
    figs: list[Figure] = []

    def add(fig: Figure) -> None:
        figs.append(fig)
        if progress is not None:
            progress(len(figs), total)

    county: list[tuple[int, str, str, list[str] | None]] = [(1, "项目位置示意图", "附图1_项目位置示意图.png", None)]
    layer_fig: dict[str, int] = {}
    for n, (title, present) in enumerate(groups, start=2):
        county.append((n, title, f"附图{n}_{title}.png", present))
        layer_fig.update(dict.fromkeys(present, n))

    def draw_county() -> None:
        for n, title, filename, present in county:
            png = render_overview(zoning, sites, note) if present is None else render_group(zoning, sites, present, note)
            add(Figure(n, title, filename, png))

    site_fig: dict[str, int] = {}
    listed = [(n, Figure(n, title, filename, b"").caption, filename) for n, title, filename, _ in county]
    if not insets:
        draw_county()
        if meanwhile is not None:
            meanwhile(listed, layer_fig, site_fig)
        return figs, layer_fig, site_fig
    hits = getattr(result, "hits", None)
    overlaps: dict[str, list[Any]] = {}
    if hits is not None and len(hits) and "geometry" in hits:
        g = np.asarray(hits["geometry"].to_numpy(), dtype=object)
        ok = np.array([x is not None and isinstance(x, shapely.Geometry) for x in g], dtype=bool)
        if ok.any():
            dims = np.full(len(g), -1)
            dims[ok] = shapely.get_dimensions(g[ok])
            keep = ok & (dims >= 1) & (hits["verdict"].astype(str).to_numpy() != "compatible")
            for sid, geom in zip(hits["site_id"].astype(str).to_numpy()[keep], g[keep], strict=True):
                overlaps.setdefault(sid, []).append(geom)
    ids = sites["site_id"].astype(str).tolist()
    names = sites["name"].tolist() if "name" in sites else ids
    verdicts = sites["verdict"].astype(str).tolist() if "verdict" in sites else [""] * len(ids)
    jobs: list[dict[str, Any]] = []
    for sid, nm, v, geom in zip(ids, names, verdicts, sites.geometry.values, strict=True):
        if wanted is not None and sid not in wanted:
            continue
        name = nm if isinstance(nm, str) and nm.strip() else sid
        jobs.append(dict(site=geom, site_id=sid, name=name, verdict=v, overlaps=overlaps.get(sid, ()), note=note))
    planned = []
    for k, job in enumerate(jobs, start=len(county) + 1):
        sid = job["site_id"]
        site_fig[sid] = k
        planned.append((k, f"{sid} {job['name']}位置及周边分区示意图", f"附图{k}_{_safe(sid)}.png"))
    listed += [(k, Figure(k, title, filename, b"").caption, filename) for k, title, filename in planned]

    def county_and_model() -> None:  # this process's share while a forked copy (when one may) starts on the insets
        draw_county()
        if meanwhile is not None:
            meanwhile(listed, layer_fig, site_fig)

    def drawn(count: int) -> None:  # the insets done so far (by either process), for the progress bar
        if progress is not None:
            progress(len(county) + count, total)

    pngs = render_sites(zoning, jobs, meanwhile=county_and_model, progress=drawn)  # two processes when it pays
    figs += [Figure(k, title, filename, png) for (k, title, filename), png in zip(planned, pngs, strict=True)]
    if progress is not None:
        progress(len(figs), total)
    return figs, layer_fig, site_fig


def _safe(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", str(text))[:60]


# --------------------------------------------------------------------------- tables (XLSX)


def report_tables(model: ReportModel) -> dict[str, pd.DataFrame]:
    """Lay the report out as XLSX sheets, with plain Chinese headers.

    Parameters
    ----------
    model : ReportModel
        Built by :func:`maps.eia.build_model`.

    Returns
    -------
    dict of str to DataFrame
        ``汇总``, ``三线一单对照``, ``分区涉及情况``, ``命中规则明细``, ``准入清单共用条款`` and
        ``管控规则条文`` (when there are any), ``指标`` (when given), ``审计``.
    """
    rows = []
    for s in model.sites:
        for t in s.tables:
            for i, r in enumerate(t.rows, start=1):
                rows.append({"地块编号": s.site_id, "项目名称": s.name, "分析内容": t.title, "序号": i, "管控要求（清单内容）": r.requirement,
                             "本项目情况": r.situation, "符合性": r.verdict, "依据": r.basis, "规则编号": r.rules})  # fmt: skip
    cols = ["地块编号", "项目名称", "分析内容", "序号", "管控要求（清单内容）", "本项目情况", "符合性", "依据", "规则编号"]
    tables = {
        "汇总": model.summary,
        "三线一单对照": pd.DataFrame(rows, columns=cols),
        "分区涉及情况": model.layer_facts,
        "命中规则明细": model.hits,
    }
    if len(model.shared_list):
        tables["准入清单共用条款"] = model.shared_list
    if len(model.rule_texts):
        tables["管控规则条文"] = model.rule_texts
    if model.indicators is not None:
        tables["指标"] = model.indicators
    audit = pd.DataFrame(model.audit, columns=["项目", "内容"])
    files = (
        model.audit_files.apply(lambda r: " | ".join(f"{k}：{v}" for k, v in r.items() if str(v)), axis=1)
        if len(model.audit_files)
        else []
    )
    coverage = pd.DataFrame({"项目": "数据完整性", "内容": model.coverage}) if model.coverage else None
    tables["审计"] = pd.concat([x for x in (coverage, audit, pd.DataFrame({"项目": "输入文件", "内容": list(files)})) if x is not None], ignore_index=True)
    return tables


_WIDTHS = {"管控要求（清单内容）": 60, "本项目情况": 50, "管控要求": 50, "依据": 45, "分项结论": 50, "涉及情况": 30, "数据覆盖": 40, "内容": 110, "项目": 16,
           "项目名称": 26, "条款": 60, "出处": 45, "适用地块": 30, "涉及要素": 30, "最近要素": 26, "最近要素（不涉及时）": 26, "要素名称": 24, "分析内容": 16}  # fmt: skip


def _width(column: str) -> float:
    """Width of a report column in Excel character units (from :data:`maps.xlsx.WRAP_MIN_WIDTH` its text wraps)."""
    return _WIDTHS.get(column, max(10, min(20, len(column) * 2 + 2)))


def _write_xlsx(path: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    write_xlsx(path, tables, _width)


# --------------------------------------------------------------------------- HTML


def _b64(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _cell(text: str) -> Markup:
    """Escape, then show 【待填写】 as a highlighted fill-in mark."""
    esc = str(Markup.escape(text))
    return Markup(esc.replace(TO_FILL, f'<span class="fill">{TO_FILL}</span>'))


def render_report_html(model: ReportModel, figures: list[Figure]) -> str:
    """Render ``report.html`` as a string.

    Parameters
    ----------
    model : ReportModel
        The content.
    figures : list of Figure
        The 附图 (embedded as PNG data URIs).

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cell"] = _cell
    env.filters["vclass"] = lambda w: _VERDICT_CLASS.get(str(w), "")
    env.filters["pairs"] = pack_pairs
    figs = {f.number: {"src": _b64(f.png), "caption": f.caption} for f in figures}
    return env.from_string(_TEMPLATE).render(
        m=model,
        css=Markup(_CSS),
        figs=figs,
        group_figs=[f for f in figures if f.number > 1 and f.number not in {s.figure for s in model.sites}],
        summary=model.summary.to_dict("records"),
        hits=(model.hits if model.hits_printed is None else model.hits_printed).to_dict("records"),
        files=model.audit_files.to_dict("records"),
        shared=model.shared_list.to_dict("records"),
        shared_intro=SHARED_LIST_INTRO,
        rule_texts=model.rule_texts.to_dict("records"),
        rule_texts_intro=RULE_TEXTS_INTRO,
        hits_note=HITS_NOTE,
        indicators=None
        if model.indicators is None
        else {"columns": list(model.indicators.columns), "rows": model.indicators.to_dict("records")},
        colours={
            w: st.VERDICT_COLOURS[v]
            for v, w in (("prohibited", "不符合"), ("restricted", "有条件符合"), ("notice", "待核实"), ("compatible", "符合"))
        },
    )


def write_report(
    result: Any,
    out_dir: str | os.PathLike[str],
    *,
    indicators: Any = None,
    force: bool = False,
    pdf: bool = True,
    title: str | None = None,
    site_insets: bool = True,
    formats: Collection[str] | None = None,
    sections: Collection[str] | None = None,
    on_stage: Callable[[str, float], None] | None = None,
    model: OutputModel | None = None,
    meanwhile: Callable[[], Mapping[str, Path]] | None = None,
    pdf_engine: str | None = None,
) -> dict[str, Path]:
    """Write the report set (HTML, DOCX, PDF, XLSX, 附图 PNGs).

    Parameters
    ----------
    result : ScreeningResult
        Screening output.
    out_dir : path-like
        Directory (created if needed).
    indicators : DataFrame or IndicatorTable, optional
        Adds an indicators section and sheet.
    force : bool, default False
        Overwrite existing reports.
    pdf : bool, default True
        Write ``report.pdf`` (see ``pdf_engine``).
    title : str, optional
        Report title (default: county + project + 生态环境分区管控符合性分析报告).
    site_insets : bool, default True
        Draw an inset map per site.
    formats : collection of {'html', 'docx', 'xlsx', 'pdf'}, optional
        The files to write (default: HTML, DOCX, XLSX, and the PDF when ``pdf``);
        the 附图 folder comes with any of them.
    sections : collection of str, optional
        A summary report (:mod:`maps.summary`): a section and an inset only for
        these sites (the job picks them), every site in the XLSX ``汇总`` sheet,
        with a note saying so.  Default: a full report, a section per site.
    on_stage : callable, optional
        Called with ``("draw", fraction)`` as the 附图 are drawn, then
        ``("report", fraction)`` as the files are written.
    model : OutputModel, optional
        What the lower modules tell about the sites the report states (:func:`maps.model.output_model`, with
        the same ``sections``; default: computed here).
    meanwhile : callable, optional
        The caller's other writers (the tables, the map), run in this process once the XLSX and the DOCX
        are written, while the PDF is made on the other core; the files it returns (key -> path) are in
        the result.
    pdf_engine : {'auto', 'typst', 'chromium'}, optional
        Who makes ``report.pdf``: ``typst`` typesets it from the model (:mod:`maps.report_typst`, needs a
        Chinese font), ``chromium`` prints ``report.html`` with a local browser (:mod:`maps.pdf`); ``auto``
        is Typst when it can run here, else the browser.  Default: ``$ECOZONE_PDF_ENGINE``, else ``auto``.

    Returns
    -------
    dict of str to Path
        Each format written (``html``, ``docx``, ``xlsx``, ``pdf``) and ``figures`` (the folder).

    Raises
    ------
    OutputExistsError
        A report file or 附图 exists and ``force`` is False (checked for all of them, once the
        content is laid out, before anything is written).
    """
    from maps.pdf import start_printer
    from maps.report_typst import typst_available

    if pdf_engine is None:
        pdf_engine = os.environ.get(PDF_ENGINE_ENV, "").strip().lower() or "auto"
    if pdf_engine not in PDF_ENGINES:
        raise ValueError(
            f"PDF 引擎 {pdf_engine!r} 无效（{PDF_ENGINE_ENV} 或 pdf_engine），可选：{'、'.join(PDF_ENGINES)} / "
            f"unknown PDF engine {pdf_engine!r}; choose one of {', '.join(PDF_ENGINES)}"
        )
    out = Path(out_dir)
    paths = report_paths(out)
    wanted = set(formats) if formats is not None else {"html", "docx", "xlsx", *(["pdf"] if pdf else [])}
    step = on_stage or (lambda _stage, _fraction: None)
    typeset = "pdf" in wanted and (pdf_engine == "typst" or (pdf_engine == "auto" and typst_available()))
    # The browser starts now, while the 附图 are drawn: its start-up is then off the way to the PDF.
    printer = start_printer() if "pdf" in wanted and not typeset else None
    try:
        with frozen_heap():  # the zoning and the screening are not walked again by every full collection
            return _write_report(
                result, out, paths, wanted, step, printer, typeset=typeset, indicators=indicators, force=force, title=title,
                site_insets=site_insets, sections=sections, model=model, meanwhile=meanwhile,
            )  # fmt: skip
    finally:
        if printer is not None:
            printer.close()


def _write_report(
    result: Any, out: Path, paths: dict[str, Path], wanted: set[str], step: Callable[[str, float], None], printer: Any, *,
    typeset: bool, indicators: Any, force: bool, title: str | None, site_insets: bool, sections: Collection[str] | None,
    model: OutputModel | None, meanwhile: Callable[[], Mapping[str, Path]] | None,
) -> dict[str, Path]:  # fmt: skip
    """Write the report set (:func:`write_report` does the arguments and the browser started ahead)."""
    from maps.pdf import PDF_HINT_EN, PDF_HINT_ZH, html_to_pdf
    from maps.report_docx import write_docx
    from maps.report_typst import NO_CJK_FONT_EN, NO_CJK_FONT_ZH, typst_available, write_pdf

    step("draw", 0.0)
    part = result if sections is None else result.take(sections)  # a summary report models its sections' sites only
    built: list[ReportModel] = []

    def model_now(listed: list[tuple[int, str, str]], layer_fig: dict[str, int], site_fig: dict[str, int]) -> None:
        built.append(
            build_model(
                part, indicators, title=title, project=None if sections is None else "建设项目选址", figure_numbers=layer_fig,
                site_figures=site_fig, figures=listed, model=model if model is not None else output_model(part),
            )
        )  # fmt: skip

    # The model is built while a forked copy of this process draws the insets (when one may: figures.render_sites).
    figures, layer_fig, site_fig = make_figures(
        result, site_insets=site_insets, inset_sites=None if sections is None else set(sections), progress=lambda d, t: step("draw", d / t),
        meanwhile=model_now,
    )  # fmt: skip
    step("report", 0.0)
    content = built[0]
    sheets = content
    if sections is not None:
        table = summary_table(result.sites, list(part.sites["site_id"].astype(str)))
        not_ok = int((result.sites["verdict"].astype(str) != "compatible").sum())
        content = replace(
            content, summary=table[table["地块编号"].isin(set(part.sites["site_id"].astype(str)))].reset_index(drop=True),
            counts=summary_counts(table), summary_note=summary_note(len(table), not_ok, len(part.sites)),
        )  # fmt: skip
        sheets = replace(content, summary=table)
    printed = "pdf" in wanted and not typeset  # the PDF is the browser's print of the HTML
    text = render_report_html(content, figures) if "html" in wanted or printed else ""
    tables = report_tables(sheets) if "xlsx" in wanted else {}
    # Everything is drawn and laid out: nothing is written unless every file may be (one check), then each is written atomically.
    fig_dir = out / FIGURE_DIR
    ensure_writable([*(paths[k] for k in ("html", "docx", "xlsx", "pdf") if k in wanted), *(fig_dir / f.filename for f in figures)], force)
    for f in figures:
        with atomic_output(fig_dir / f.filename, force=force) as tmp:
            tmp.write_bytes(f.png)
    step("report", 0.3)
    written: dict[str, Path] = {}
    # The browser prints the PDF from the HTML (a hidden copy when the HTML itself is not asked for).
    html_path = paths["html"] if "html" in wanted else out / ".report.part.html"
    if "html" in wanted or printed:
        with atomic_output(html_path, force=True if html_path != paths["html"] else force) as tmp:
            tmp.write_text(text, encoding="utf-8")
        if "html" in wanted:
            written["html"] = paths["html"]
    # The PDF is typeset (Typst, in a thread) or printed by a browser process while this one writes the XLSX and
    # the DOCX (same files, less wall time).
    part = out / ".report.part.pdf"
    made, failure = None, ""
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecozone-pdf") as pool:  # waits for the PDF on the way out
            if typeset:
                printing = pool.submit(write_pdf, content, figures, part, root=out, folder=FIGURE_DIR)
            else:
                printing = pool.submit(html_to_pdf, html_path, part, printer=printer) if "pdf" in wanted else None
            step("report", 0.4)
            if "xlsx" in wanted:
                with atomic_output(paths["xlsx"], force=force) as tmp:
                    _write_xlsx(tmp, tables)
                written["xlsx"] = paths["xlsx"]
            step("report", 0.5)
            if "docx" in wanted:
                with atomic_output(paths["docx"], force=force) as tmp:
                    write_docx(content, figures, tmp)
                written["docx"] = paths["docx"]
            step("report", 0.8)
            if meanwhile is not None:
                written.update(meanwhile())
            try:
                made = printing.result() if printing is not None else None
            except Exception as err:  # Typst failed: the other files stand, the warning below says why
                if not typeset:
                    raise
                failure = f"Typst 排版 report.pdf 失败：{err} / Typst could not typeset report.pdf: {err}"
        if made is not None:
            os.replace(part, paths["pdf"])
            written["pdf"] = paths["pdf"]
    finally:
        part.unlink(missing_ok=True)
        if html_path != paths["html"]:
            html_path.unlink(missing_ok=True)
    written["figures"] = fig_dir
    step("report", 1.0)
    if "pdf" in wanted and made is None:
        import warnings

        from spatial.errors import DataWarning

        if not failure and not typeset and not typst_available():  # auto fell back to the browser: say why
            failure = f"{NO_CJK_FONT_ZH}{PDF_HINT_ZH} / {NO_CJK_FONT_EN}{PDF_HINT_EN}"
        warnings.warn(failure or f"{PDF_HINT_ZH} / {PDF_HINT_EN}", DataWarning, stacklevel=3)
    return written


_CSS = (
    "@page{size:A4;margin:10mm 10mm 12mm 10mm;@bottom-center{content:'第 ' counter(page) ' 页';font-size:9pt;color:#555;}}"
    "@page:first{@bottom-center{content:none;}}"
    f"body{{font-family:{_FONT_STACK};font-size:10pt;line-height:1.45;color:#111;margin:0 auto;max-width:190mm;}}"
    "@media screen{body{padding:16px 20px;}}"
    ".cover{height:250mm;display:flex;flex-direction:column;justify-content:center;text-align:center;break-after:page;page-break-after:always;}"
    ".cover h1{font-size:24pt;line-height:1.4;margin:0 0 40mm;}"
    ".cover .org{font-size:14pt;margin:4mm 0;}"
    "h1.part{font-size:15pt;margin:6mm 0 3mm;break-after:avoid;}"
    "h2{font-size:12.5pt;margin:6mm 0 2mm;border-bottom:1.5px solid #333;padding-bottom:1mm;break-after:avoid;page-break-after:avoid;}"
    "h3{font-size:10.5pt;margin:3mm 0 1mm;break-after:avoid;page-break-after:avoid;}"
    "table{border-collapse:collapse;width:100%;margin:1mm 0 1.5mm;font-size:7.8pt;line-height:1.25;}"
    "th,td{border:0.8px solid #777;padding:0.5mm 1.2mm;vertical-align:top;text-align:left;}"
    "th{background:#eef2f6;font-weight:600;-webkit-print-color-adjust:exact;print-color-adjust:exact;}"
    "thead{display:table-header-group;}tr{break-inside:avoid;page-break-inside:avoid;}tr.long{break-inside:auto;page-break-inside:auto;}"
    "td.n{text-align:center;width:7mm;}td.v{white-space:nowrap;text-align:center;width:17mm;font-weight:600;}"
    ".info th{width:24mm;}.t3 col.req{width:46%;}"
    ".ok{color:#1a7a36;}.no{color:#b30000;}.cond{color:#b35900;}.pend{color:#1f5f99;}"
    ".fill{color:#b30000;background:#fff4c2;-webkit-print-color-adjust:exact;print-color-adjust:exact;}"
    ".badge{display:inline-block;color:#fff;border-radius:3px;padding:0 6px;font-weight:600;font-size:9pt;"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact;}"
    "figure{margin:2mm 0;text-align:center;break-inside:avoid;page-break-inside:avoid;}"
    "figure img{width:92%;height:auto;}figcaption{font-size:9pt;margin-top:1mm;}.site figure img{width:55%;}"
    ".basis{color:#555;font-size:7pt;line-height:1.2;}"
    ".concl{margin:0 0 1.5mm;font-size:9pt;}.final{font-weight:600;margin:2mm 0 4mm;}"
    ".site{border-top:1px dashed #bbb;padding-top:1mm;}"
    ".keep{break-inside:avoid;page-break-inside:avoid;}"
    ".warn{color:#b00020;font-weight:600;margin:1mm 0;}"
    ".demo-stamp{position:fixed;top:0;left:0;right:0;text-align:center;color:#b00020;font-weight:700;font-size:9pt;}"
    ".demo-stamp-cover{text-align:center;color:#b00020;font-weight:700;font-size:14pt;}"
    ".note{color:#444;font-size:8.6pt;}.audit td{word-break:break-all;font-size:8pt;}"
    ".appendix{break-before:page;page-break-before:always;}"
)

_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ m.title }}</title>
<style>{{ css }}</style>
</head>
<body>
{% if m.stamp %}<div class="demo-stamp">{{ m.stamp }}</div>
{% endif %}<section class="cover">
<h1>{{ m.title }}</h1>
{% if m.stamp %}<p class="demo-stamp-cover">{{ m.stamp }}</p>{% endif %}
<div class="org">编制单位：<span class="fill">【待填写】</span></div>
<div class="org">{{ m.date }}</div>
</section>

<h1 class="part">一、选址符合性结论汇总</h1>
{% for c in m.coverage %}<p class="warn coverage">⚠ {{ c }}</p>
{% endfor %}{% for w in m.warnings %}<p class="warn">⚠ 数据警告：{{ w }}</p>
{% endfor %}
{% if m.notes %}<p class="note">依据注：{% for n in m.notes %}{{ loop.index }}. {{ n }}{% if not loop.last %} {% endif %}{% endfor %}</p>{% endif %}
<p>本报告对照{{ m.plans|join("、") if m.plans else "所在地“三线一单”生态环境分区管控方案" }}，逐个分析 {{ m.sites|length }} 个项目地块与生态保护红线、环境质量底线、资源利用上线和生态环境准入清单的符合性。
结论：{% for w, n in m.counts.items() %}<span class="badge" style="background:{{ colours[w] }}">{{ w }}</span> {{ n }} 个{% if not loop.last %}；{% endif %}{% endfor %}。</p>
<table class="summary">
<thead><tr><th style="width:8mm">序号</th><th style="width:16mm">地块编号</th><th style="width:34mm">项目名称</th><th style="width:16mm">项目类型</th><th style="width:17mm">符合性结论</th><th>涉及情况</th></tr></thead>
<tbody>
{% for r in summary %}
<tr data-site="{{ r['地块编号'] }}"><td class="n">{{ r['序号'] }}</td><td>{{ r['地块编号'] }}</td><td>{{ r['项目名称'] }}</td><td>{{ r['项目类型'] }}</td><td class="v {{ r['符合性结论']|vclass }}">{{ r['符合性结论'] }}</td><td>{{ r['涉及情况'] }}</td></tr>
{% endfor %}
</tbody>
</table>
<p class="note">符合性结论：符合；不符合（须调整选址）；有条件符合（依法批准并落实管控条件后方可建设）；待核实（须结合项目排放、用水等情况核实）。<span class="fill">【待填写】</span>处由编制单位补充。</p>
{% if shared %}
<p class="note">{{ shared_intro }}</p>
<table class="shared">
<colgroup><col style="width:7mm"><col style="width:45%"><col><col style="width:30mm"></colgroup>
<thead><tr><th>序号</th><th>条款</th><th>出处</th><th>适用地块</th></tr></thead>
<tbody>
{% for r in shared %}<tr data-rule="{{ r['序号'] }}"><td class="n">{{ r['序号'] }}</td><td>{{ r['条款'] }}</td><td>{{ r['出处'] }}</td><td>{{ r['适用地块'] }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if 1 in figs %}
<p>{{ m.figure_intro }}</p>
<figure id="fig-1"><img src="{{ figs[1].src }}" alt="{{ figs[1].caption }}"><figcaption>{{ figs[1].caption }}</figcaption></figure>
{% endif %}
{% for f in group_figs %}
<figure><img src="{{ figs[f.number].src }}" alt="{{ f.caption }}"><figcaption>{{ f.caption }}</figcaption></figure>
{% endfor %}

<h1 class="part">二、逐个地块符合性分析</h1>
{% if m.summary_note %}<p class="note summary-note">{{ m.summary_note }}</p>
{% endif %}{% if rule_texts %}<p class="note">{{ rule_texts_intro }}</p>{% endif %}
{% for s in m.sites %}
<section class="site" id="site-{{ s.site_id }}" data-site="{{ s.site_id }}">
<div class="keep">
<h2>{{ s.n }}. {{ s.site_id }} {{ s.name }}　<span class="{{ s.verdict_zh|vclass }}" data-verdict="{{ s.verdict }}">【{{ s.verdict_zh }}】</span></h2>
<table class="info"><tbody>
{% for pair in s.info|pairs %}<tr>{% for k, v in pair %}<th>{{ k }}</th><td{% if pair|length == 1 %} colspan="3"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>
</div>
{% if s.figure and s.figure in figs %}
<figure><img src="{{ figs[s.figure].src }}" alt="{{ figs[s.figure].caption }}"><figcaption>{{ figs[s.figure].caption }}</figcaption></figure>
{% endif %}
{% for t in s.tables %}
<h3>（{{ "一二三四五六"[loop.index0] }}）{{ t.title }}符合性分析</h3>
<table class="sxyd" data-table="{{ t.key }}">
<colgroup><col style="width:7mm"><col style="width:44%"><col><col style="width:17mm"></colgroup>
<thead><tr><th>序号</th><th>管控要求（清单内容）</th><th>本项目情况</th><th>符合性</th></tr></thead>
<tbody>
{% for r in t.rows %}
<tr{% if r.rules %} data-rules="{{ r.rules }}"{% endif %}{% if (r.requirement|length) + (r.basis|length) > 260 %} class="long"{% endif %}><td class="n">{{ loop.index }}</td><td>{{ r.requirement }}{% if r.basis %} <span class="basis">（依据：{{ r.basis }}）</span>{% endif %}</td><td>{{ r.situation|cell }}</td><td class="v {{ r.verdict|vclass }}">{{ r.verdict }}</td></tr>
{% endfor %}
</tbody>
</table>
<p class="concl">{{ t.conclusion }}</p>
{% endfor %}
<p class="final">{{ s.conclusion }}</p>
</section>
{% endfor %}

{% set ns = namespace(k=0) %}
{% if indicators %}
{% set ns.k = ns.k + 1 %}
<h1 class="part">附表{{ "一二三四五"[ns.k - 1] }}　生态空间指标</h1>
<table class="indicators">
<thead><tr>{% for c in indicators.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in indicators.rows %}<tr>{% for c in indicators.columns %}<td>{{ r[c] if r[c] is not none else '' }}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
</table>
{% endif %}

{% if rule_texts %}
{% set ns.k = ns.k + 1 %}
<h1 class="part appendix">附表{{ "一二三四五"[ns.k - 1] }}　管控规则条文</h1>
<table class="rules">
<colgroup><col style="width:26mm"><col style="width:45%"><col></colgroup>
<thead><tr><th>规则编号</th><th>管控要求</th><th>依据</th></tr></thead>
<tbody>
{% for r in rule_texts %}<tr data-rule="{{ r['规则编号'] }}"><td>{{ r['规则编号'] }}</td><td>{{ r['管控要求'] }}</td><td>{{ r['依据'] }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% set ns.k = ns.k + 1 %}
<h1 class="part appendix">附表{{ "一二三四五"[ns.k - 1] }}　命中管控规则明细</h1>
{% if m.hits_printed is not none %}<p class="note">{{ hits_note }}</p>{% endif %}
<table class="hits">
<thead><tr><th>地块编号</th><th>规则编号</th><th>分区</th><th>要素</th><th>符合性</th><th>重叠面积（公顷）</th><th>距离（米）</th></tr></thead>
<tbody>
{% for h in hits %}
<tr data-rule="{{ h['规则编号'] }}"><td>{{ h['地块编号'] }}</td><td>{{ h['规则编号'] }}</td><td>{{ h['分区'] }}</td><td>{{ h['要素名称'] }}</td><td class="v {{ h['符合性']|vclass }}">{{ h['符合性'] }}</td>
<td>{{ '' if h['重叠面积（公顷）'] != h['重叠面积（公顷）'] else h['重叠面积（公顷）'] }}</td><td>{{ '' if h['距离（米）'] != h['距离（米）'] else h['距离（米）'] }}</td></tr>
{% else %}
<tr><td colspan="7">无。</td></tr>
{% endfor %}
</tbody>
</table>

{% set ns.k = ns.k + 1 %}
<h1 class="part">附表{{ "一二三四五"[ns.k - 1] }}　审计信息（可追溯、可复现）</h1>
<table class="audit"><tbody>
{% for k, v in m.audit %}<tr><th style="width:28mm">{{ k }}</th><td>{{ v }}</td></tr>
{% endfor %}
</tbody></table>
<table class="audit">
<thead><tr><th>用途</th><th>文件</th><th>图层/版本</th><th>SHA-256</th><th>坐标系</th><th>要素数</th></tr></thead>
<tbody>
{% for f in files %}<tr><td>{{ f['用途'] }}</td><td>{{ f['文件'] }}</td><td>{{ f['图层/版本'] }}</td><td>{{ f['SHA-256'] }}</td><td>{{ f['坐标系'] }}</td><td>{{ f['要素数'] }}</td></tr>
{% endfor %}
</tbody>
</table>
<p class="note">本报告由 ecozone 根据上述输入自动生成。面积为 CGCS2000 椭球面积，距离在高斯-克吕格投影平面量算，方位为坐标北方向。结论供编制与审查参考，须由专业人员结合项目实际核实。</p>
</body>
</html>
"""
