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

import yaml

__all__ = ["section_of", "cite_sections", "PLAN_LINE", "UNKNOWN_SECTION"]

#: A plan line reference as catalogues write it (``L762``, ``L262–264``).
PLAN_LINE = re.compile(r"L\d+(?:[–-]\d+)?")
#: Said when a line's section is not known (never the line number itself).
UNKNOWN_SECTION = "（章节待核实）"
_CITED = re.compile(r"《([^《》]+)》((?:L\d+(?:[–-]\d+)?)(?:[、,，]\s*L\d+(?:[–-]\d+)?)*)")


@cache
def _outlines() -> dict[str, tuple[list[int], list[str]]]:
    path = Path(__file__).with_name("data") / "plan_sections.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
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
