"""Plan citations by section, not by line: ``《…规划》第三部分（二）2（1）“严格污染物排放管控”``.

Rule catalogues cite a plan by a line of its text file (``at: L711``): exact for a
machine, useless to a reader of the report.  ``spatial/data/plan_sections.yaml``
(built by ``scripts/plan_sections.py`` from the plan texts' headings) holds each
plan's outline; :func:`cite_sections` rewrites every ``《title》L123`` in a text to
the section holding that line.  Line numbers stay only in ``rules.csv``.

>>> cite_sections("《连州市创建国家生态文明建设示范市规划》L711")
'《连州市创建国家生态文明建设示范市规划》第三部分（二）2（1）“严格污染物排放管控”'
"""

from __future__ import annotations

import bisect
import re
from functools import cache
from pathlib import Path

from spatial.io import load_yaml

__all__ = ["section_of", "cite_sections", "compact_sections", "PLAN_LINE", "UNKNOWN_SECTION"]

#: A plan line reference as catalogues write it (``L762``, ``L262–264``).
PLAN_LINE = re.compile(r"L\d+(?:[–-]\d+)?")
#: Said when a line's section is not known (never the line number itself).
UNKNOWN_SECTION = "（章节待核实）"
_CITED = re.compile(r"《([^《》]+)》((?:L\d+(?:[–-]\d+)?)(?:[、,，]\s*L\d+(?:[–-]\d+)?)*)")


@cache
def _outlines() -> dict[str, tuple[list[int], list[str]]]:
    path = Path(__file__).with_name("data") / "plan_sections.yaml"
    raw = load_yaml(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {str(t): ([int(a) for a, _ in rows], [str(b) for _, b in rows]) for t, rows in (raw or {}).items()}


def section_of(title: str, line: int) -> str | None:
    """Section of a plan holding a line of its text.

    Parameters
    ----------
    title : str
        Plan title (with or without 《》).
    line : int
        1-based line of the plan text.

    Returns
    -------
    str or None
        E.g. ``第三部分（二）2（1）“严格污染物排放管控”``; None for an unknown plan or a line before the first heading.
    """
    outline = _outlines().get(title.strip("《》"))
    if not outline:
        return None
    i = bisect.bisect_right(outline[0], int(line)) - 1
    return outline[1][i] if i >= 0 else None


def cite_sections(text: str) -> str:
    """Rewrite every ``《plan》L123`` (and ``L1、L2``) in a text as the plan's sections.

    Parameters
    ----------
    text : str
        Citations.

    Returns
    -------
    str
        The text with no plan line number left (:data:`UNKNOWN_SECTION` where the section is not known).
    """

    def one(m: re.Match[str]) -> str:
        title = m.group(1)
        found = []
        for ref in PLAN_LINE.findall(m.group(2)):
            sec = section_of(title, int(re.match(r"L(\d+)", ref).group(1)))  # type: ignore[union-attr]
            found.append(sec or UNKNOWN_SECTION)
        return f"《{title}》" + "、".join(dict.fromkeys(found))

    return _CITED.sub(one, str(text or ""))


_CN = "一二三四五六七八九十"
_MARKS = re.compile(rf"^(?:([{_CN}]+)、|（([{_CN}]+)）|(\d{{1,2}})[.．、]|（(\d{{1,2}})）|(第[{_CN}]+[章节篇]))\s*(.*)$")
_CHAIN_START = re.compile(rf"、(?=[{_CN}]+、)")


def _compact_chain(tokens: list[str]) -> str | None:
    marks, title = [], ""
    for k, tok in enumerate(tokens):
        m = _MARKS.match(tok)
        if not m:
            return None
        cn1, cn2, n1, n2, chap, rest = m.groups()
        if cn1:
            marks.append(f"第{cn1}部分" if k == 0 else cn1)
        elif cn2:
            marks.append(f"（{cn2}）")
        elif n1:
            marks.append(n1)
        elif n2:
            marks.append(f"（{n2}）")
        else:
            marks.append(chap)
        title = rest.strip()
    return "".join(marks) + (f"“{title}”" if title else "")


def compact_sections(text: str) -> str:
    """Shorten each plan section path after a 《title》 to its numbers and last heading.

    ``《…规划》三、规划任务与措施 （二）持续改善… 4.加强土壤污染管控… （1）严控新增土壤污染`` becomes
    ``《…规划》第三部分（二）4（1）“严控新增土壤污染”``; text that is not a heading path is left alone.

    Parameters
    ----------
    text : str
        Citations joined with '；'.

    Returns
    -------
    str
        The citations, section paths compacted.
    """
    out = []
    for part in str(text or "").split("；"):
        head, sep, tail = part.partition("》")
        if not sep or not tail.strip():
            out.append(part)
            continue
        chains = [c.split() for c in _CHAIN_START.split(tail.strip())]
        short = [_compact_chain(c) for c in chains]
        out.append(head + sep + "、".join(short) if all(short) else part)  # type: ignore[arg-type]
    return "；".join(out)
