"""``report.docx``: the report as an editable Word document (python-docx).

Real Word tables (the four-column 三线一单 tables), heading styles (so Word's
navigation pane and table of contents work), the numbered 附图 embedded as PNG,
A4 pages with the page number in the footer.

Laid out so that Word, WPS and LibreOffice agree:

* every table's ``tblGrid`` equals its cell widths, with a fixed layout and an
  explicit total width (LibreOffice lays a table out from the grid, Word from
  the cells: they must say the same);
* header rows repeat on every page and rows never split across pages;
* a figure and its caption are kept on one page (keep-with-next), as is a
  heading with what follows;
* Chinese text is set through the East-Asian font slot (``w:eastAsia``):
  :data:`CJK_FONT` (宋体) for text and :data:`CJK_HEAD_FONT` (黑体) for headings,
  and the document's font table names the fallback (:data:`CJK_FALLBACK`,
  Noto Serif CJK SC / Noto Sans CJK SC) for machines without them.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maps.eia import HITS_NOTE, RULE_TEXTS_INTRO, SHARED_LIST_INTRO, TO_FILL, ReportModel
from maps.figures import Figure

__all__ = ["write_docx", "CJK_FONT", "CJK_HEAD_FONT", "CJK_FALLBACK"]

#: East-Asian font of body text (w:eastAsia).
CJK_FONT = "宋体"
#: East-Asian font of headings.
CJK_HEAD_FONT = "黑体"
#: Fallback named in the font table for machines without 宋体/黑体 (w:altName).
CJK_FALLBACK = {"宋体": "Noto Serif CJK SC", "黑体": "Noto Sans CJK SC"}
_LATIN_FONT = "Times New Roman"
_HEAD_FONT = CJK_HEAD_FONT
#: Text width of the A4 page between the margins (cm).
_TEXT_CM = 18.0
_VERDICT_RGB = {
    "符合": (0x1A, 0x7A, 0x36),
    "不符合": (0xB3, 0x00, 0x00),
    "有条件符合": (0xB3, 0x59, 0x00),
    "待核实": (0x1F, 0x5F, 0x99),
}
_CN_NUM = "一二三四五六七八九十"


def _set_font(run_or_style: Any, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = run_or_style.font
    font.name = _LATIN_FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asia)


def _page_number_footer(section: Any) -> None:
    """Footer ``第 N 页`` with a PAGE field."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("第 ")
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    p.add_run(" 页")


def _font_table(doc: Any) -> None:
    """Name the fallback of each CJK font in the font table (w:altName), for machines without it."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml

    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    fonts = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{"roman" if name == CJK_FONT else "modern"}"/><w:pitch w:val="variable"/></w:font>'
        for name, alt in CJK_FALLBACK.items()
    )
    fonts += (
        f'<w:font w:name="{_LATIN_FONT}"><w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
    )
    part = doc.part
    for rel in part.rels.values():
        if rel.reltype == RT.FONT_TABLE:
            el = parse_xml(rel.target_part.blob)
            for f in list(el):
                if f.get(f"{{{ns}}}name") in (*CJK_FALLBACK, _LATIN_FONT):
                    el.remove(f)
            for f in parse_xml(f'<w:fonts xmlns:w="{ns}">{fonts}</w:fonts>'):
                el.append(f)
            from lxml import etree

            rel.target_part._blob = etree.tostring(el, xml_declaration=True, encoding="UTF-8", standalone=True)
            return


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CELL_PPR = '<w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
_TABLE_LOOK = (
    '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" w:noVBand="1" w:val="04A0"/>'
)


def _sz(size: float) -> str:
    """``w:sz`` of a font size in points (half-points, as python-docx writes ``Pt(size)``)."""
    from docx.shared import Pt

    return f'<w:sz w:val="{int(Pt(size).pt * 2)}"/>'


def _run_xml(text: str, rpr: str) -> str:
    """One ``w:r``: tabs become ``w:tab``, line breaks ``w:br`` (as python-docx's ``add_run``)."""
    from xml.sax.saxutils import escape

    out = [f"<w:r><w:rPr>{rpr}</w:rPr>"]
    for i, chunk in enumerate(re.split(r"([\t\r\n])", text)):
        if i % 2:
            out.append("<w:tab/>" if chunk == "\t" else "<w:br/>")
        elif chunk:
            space = ' xml:space="preserve"' if len(chunk.strip()) < len(chunk) else ""
            out.append(f"<w:t{space}>{escape(chunk)}</w:t>")
    out.append("</w:r>")
    return "".join(out)


def _text_xml(text: str, *, bold: bool = False, colour: tuple[int, int, int] | None = None, size: float = 8) -> str:
    """Return the runs of a cell's text; 【待填写】 runs are red and highlighted so they are found and replaced."""
    bold_xml = "<w:b/>" if bold else '<w:b w:val="0"/>'
    colour_xml = f'<w:color w:val="{colour[0]:02X}{colour[1]:02X}{colour[2]:02X}"/>' if colour else ""
    sz = _sz(size)
    parts = str(text).split(TO_FILL)
    runs = []
    for i, part in enumerate(parts):
        if part:
            runs.append(_run_xml(part, bold_xml + colour_xml + sz))
        if i < len(parts) - 1:
            runs.append(_run_xml(TO_FILL, f'<w:color w:val="B30000"/>{sz}<w:highlight w:val="yellow"/>'))
    return "".join(runs)


def _basis_xml(text: str) -> str:
    """Return the requirement's source, small and grey, right after it (same paragraph: no extra line)."""
    return _run_xml(f"（依据：{text}）", f'<w:color w:val="555555"/>{_sz(7)}')


def _table(
    doc: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_cm: Sequence[float],
    verdict_col: int | None = None,
    *,
    basis: Sequence[str] | None = None,
    style_id: str | None = "TableGrid",
) -> Any:
    """Append a table: the header row repeats on each page, rows never split, grid and cell widths agree.

    Written as WordprocessingML in one piece (what python-docx's cell-by-cell calls write, at a
    fraction of the cost): ``basis`` adds each row's source after its second cell's text.
    """
    from docx.oxml import parse_xml
    from docx.shared import Cm

    total = sum(widths_cm)
    widths = [w * _TEXT_CM / total for w in widths_cm] if total > _TEXT_CM else list(widths_cm)
    twips = [int(Cm(w).twips) for w in widths]
    tc_w = [f'<w:tcW w:type="dxa" w:w="{t}"/>' for t in twips]
    style = f'<w:tblStyle w:val="{style_id}"/>' if style_id else ""
    out = [
        f'<w:tbl xmlns:w="{_W_NS}"><w:tblPr>{style}<w:tblW w:type="dxa" w:w="{sum(twips)}"/><w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
        f"{_TABLE_LOOK}</w:tblPr><w:tblGrid>",
        *(f'<w:gridCol w:w="{t}"/>' for t in twips),
        '</w:tblGrid><w:tr><w:trPr><w:cantSplit/><w:tblHeader w:val="true"/></w:trPr>',
    ]
    for j, h in enumerate(header):  # keep-with-next: never a header row alone at a page's foot
        out.append(
            f'<w:tc><w:tcPr>{tc_w[j]}<w:shd w:val="clear" w:color="auto" w:fill="EEF2F6"/></w:tcPr>'
            f"<w:p><w:pPr><w:keepNext/>{_CELL_PPR}</w:pPr>{_text_xml(h, bold=True)}</w:p></w:tc>"
        )
    out.append("</w:tr>")
    for i, r in enumerate(rows):
        out.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        for j, v in enumerate(r):
            colour = _VERDICT_RGB.get(str(v)) if j == verdict_col else None
            runs = _text_xml(str(v), bold=j == verdict_col, colour=colour)
            if j == 1 and basis is not None and basis[i]:
                runs += _basis_xml(basis[i])
            out.append(f"<w:tc><w:tcPr>{tc_w[j]}</w:tcPr><w:p><w:pPr>{_CELL_PPR}</w:pPr>{runs}</w:p></w:tc>")
        out.append("</w:tr>")
    out.append("</w:tbl>")
    tbl = parse_xml("".join(out))
    doc.element.body._insert_tbl(tbl)
    return tbl


def _counted_ids(doc: Any) -> None:
    """Give the pictures their drawing ids from a counter started above the document's largest id.

    python-docx finds the next id by collecting every ``@id`` of the whole document for each picture
    it adds (a second for the 104 pictures of a 15 000-site summary); nothing else here adds an id,
    so a counter gives the same unique ids.
    """
    part = doc.part
    counter = itertools.count(max((int(v) for v in part.element.xpath("//@id") if v.isdigit()), default=0) + 1)
    base = type(part)
    part.__class__ = type(base.__name__, (base,), {"next_id": property(lambda _self: next(counter))})


def _figure(doc: Any, fig: Figure, width_cm: float = 16.5) -> None:
    """Add the picture, kept on the page of its caption (keep-with-next), then the caption."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    pic = doc.add_paragraph()  # (doc.add_picture, then doc.paragraphs[-1], lists every paragraph of the document)
    pic.add_run().add_picture(io.BytesIO(fig.png), width=Cm(width_cm))
    pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pic.paragraph_format.keep_with_next = True
    pic.paragraph_format.space_after = Pt(0)
    cap = doc.add_paragraph(fig.caption, style="Caption")
    cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cap.paragraph_format.keep_together = True


def write_docx(model: ReportModel, figures: Sequence[Figure], path: Path) -> Path:
    """Write the report as ``.docx``.

    Parameters
    ----------
    model : ReportModel
        The content (:func:`maps.eia.build_model`).
    figures : sequence of Figure
        The numbered 附图.
    path : Path
        Output file (the caller makes it atomic).

    Returns
    -------
    Path
        ``path``.
    """
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    # Style names resolve to the same ids all through the document: look each up once (python-docx scans the
    # style part on every heading and caption).
    doc.part.get_style_id = functools.cache(doc.part.get_style_id)
    _counted_ids(doc)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm((21.0 - _TEXT_CM) / 2)
    sec.top_margin, sec.bottom_margin = Cm(1.6), Cm(1.6)
    sec.footer_distance = Cm(0.8)
    normal = doc.styles["Normal"]
    _set_font(normal, CJK_FONT, 10)
    normal.paragraph_format.space_after = Pt(2)
    normal.paragraph_format.line_spacing = 1.1
    for name, size in (("Title", 22), ("Heading 1", 14), ("Heading 2", 12), ("Heading 3", 10.5), ("Caption", 9)):
        st = doc.styles[name]
        _set_font(st, _HEAD_FONT if name != "Caption" else CJK_FONT, size, bold=name != "Caption")
        if name.startswith("Heading"):
            st.paragraph_format.space_before = Pt(6 if name != "Heading 3" else 3)
            st.paragraph_format.space_after = Pt(2)
            st.paragraph_format.keep_with_next = True
            st.font.color.rgb = RGBColor(0, 0, 0)
    _font_table(doc)
    figs = {f.number: f for f in figures}

    # Cover: its own section without a footer; page numbers start on the next section.
    for _ in range(6):
        doc.add_paragraph()
    title = doc.add_paragraph(model.title, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if model.stamp:  # synthetic demo data: on the cover and in every page header
        stamp = doc.add_paragraph()
        stamp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = stamp.add_run(model.stamp)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
        sec.header.paragraphs[0].text = model.stamp
    for _ in range(8):
        doc.add_paragraph()
    for line in (f"编制单位：{TO_FILL}", model.date):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        r = p.add_run(line.replace(TO_FILL, ""))
        r.font.size = Pt(14)
        if TO_FILL in line:
            rr = p.add_run(TO_FILL)
            rr.font.size = Pt(14)
    body = doc.add_section(WD_SECTION.NEW_PAGE)
    body.footer.is_linked_to_previous = False
    _page_number_footer(body)

    doc.add_heading("一、选址符合性结论汇总", level=1)
    for c in model.coverage:  # the package's missing layers, before any conclusion
        run = doc.add_paragraph().add_run(f"⚠ {c}")
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    for w in model.warnings:
        run = doc.add_paragraph().add_run(f"⚠ 数据警告：{w}")
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    counts = "；".join(f"{w} {n} 个" for w, n in model.counts.items())
    plans = "、".join(model.plans) if model.plans else "所在地“三线一单”生态环境分区管控方案"
    doc.add_paragraph(f"本报告对照{plans}，逐个分析 {len(model.sites)} 个项目地块的符合性。结论：{counts}。")
    if model.notes:  # the sources' status notes once, never per hit row
        doc.add_paragraph("依据注：" + " ".join(f"{i}. {n}" for i, n in enumerate(model.notes, start=1)))
    rows = [
        [str(r["序号"]), r["地块编号"], r["项目名称"], r["项目类型"], r["符合性结论"], r["涉及情况"]]
        for r in model.summary.to_dict("records")
    ]
    _table(
        doc,
        ["序号", "地块编号", "项目名称", "项目类型", "符合性结论", "涉及情况"],
        rows,
        [1.1, 2.0, 4.4, 2.0, 2.2, 5.3],
        verdict_col=4,
    )
    if len(model.shared_list):  # list clauses several sites share: once here, cited by number in the site tables
        doc.add_paragraph(SHARED_LIST_INTRO).paragraph_format.keep_with_next = True
        _table(
            doc,
            list(model.shared_list.columns),
            [[str(v) for v in r] for r in model.shared_list.itertuples(index=False)],
            [0.8, 8.2, 5.0, 3.0],
        )
    if 1 in figs:
        doc.add_paragraph(model.figure_intro)
        _figure(doc, figs[1])
    groups = [f for f in figures if f.number > 1 and f.number not in {s.figure for s in model.sites}]
    for f in groups:  # numbered in order of first citation: the layer maps right after 附图1
        _figure(doc, f)

    doc.add_heading("二、逐个地块符合性分析", level=1)
    if model.summary_note:
        doc.add_paragraph(model.summary_note)
    if len(model.rule_texts):
        doc.add_paragraph(RULE_TEXTS_INTRO).runs[0].font.size = Pt(9)
    for s in model.sites:
        doc.add_heading(f"{s.n}. {s.site_id} {s.name}（{s.verdict_zh}）", level=2)
        _table(doc, ["项目", "内容"], [[k, v] for k, v in s.info], [3.2, 13.8])
        if s.figure in figs:
            _figure(doc, figs[s.figure], width_cm=13.0)
        for i, t in enumerate(s.tables):
            doc.add_heading(f"（{_CN_NUM[i]}）{t.title}符合性分析", level=3)
            _table(
                doc,
                ["序号", "管控要求（清单内容）", "本项目情况", "符合性"],
                [[str(j), r.requirement, r.situation, r.verdict] for j, r in enumerate(t.rows, start=1)],
                [0.8, 7.9, 6.7, 1.6],
                verdict_col=3,
                basis=[r.basis for r in t.rows],
            )
            concl = doc.add_paragraph()
            concl.add_run(t.conclusion).font.size = Pt(9)
        p = doc.add_paragraph()
        p.add_run(s.conclusion).bold = True

    k = 0
    if model.indicators is not None:
        k += 1
        doc.add_heading(f"附表{_CN_NUM[k - 1]}　生态空间指标", level=1)
        cols = list(model.indicators.columns)
        _table(
            doc,
            cols,
            [["" if v is None else str(v) for v in r] for r in model.indicators.itertuples(index=False)],
            [17.0 / len(cols)] * len(cols),
        )
    if len(model.rule_texts):
        k += 1
        doc.add_heading(f"附表{_CN_NUM[k - 1]}　管控规则条文", level=1)
        _table(
            doc,
            ["规则编号", "管控要求", "依据"],
            [[str(v) for v in r] for r in model.rule_texts.itertuples(index=False)],
            [2.6, 7.4, 7.0],
        )
    k += 1
    doc.add_heading(f"附表{_CN_NUM[k - 1]}　命中管控规则明细", level=1)
    if model.hits_printed is not None:
        doc.add_paragraph(HITS_NOTE).runs[0].font.size = Pt(9)
    hit_rows = [
        [r["地块编号"], r["规则编号"], r["分区"], r["要素名称"], r["符合性"], r["依据"]]
        for r in (model.hits if model.hits_printed is None else model.hits_printed).to_dict("records")
    ] or [["无", "", "", "", "", ""]]
    _table(
        doc, ["地块编号", "规则编号", "分区", "要素", "符合性", "依据"], hit_rows, [1.5, 2.2, 1.9, 3.9, 1.5, 7.0], verdict_col=4
    )
    k += 1
    doc.add_heading(f"附表{_CN_NUM[k - 1]}　审计信息", level=1)
    _table(doc, ["项目", "内容"], [list(r) for r in model.audit], [3.2, 13.8])
    doc.add_paragraph()
    files = [[str(v) for v in r] for r in model.audit_files.itertuples(index=False)]
    _table(doc, list(model.audit_files.columns), files, [1.8, 3.4, 2.4, 5.0, 3.2, 1.2])
    doc.core_properties.title = model.title
    doc.core_properties.author = "ecozone"
    doc.save(str(path))
    return path
