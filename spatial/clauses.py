"""Requirement sentences read into clauses, conservatively.

A requirement cell of an access list is split into clauses at ；。 and
numbered items, and again at a comma where a new modal word starts
("禁止…，严格控制…").  Each clause gets:

* its modality: 禁止/不得/严禁 → ``prohibited``; 限制/严格控制/原则上不 →
  ``restricted``; 应当/须/鼓励 → ``notice``;
* the project types it names, matched through the type vocabulary
  (:mod:`spatial.project_types`: synonyms and groups such as 两高) — a
  word counts only as an item of a list of projects (followed by 、 等 项目
  企业 …), so "工业污染物排放口" and "新增工业园" do not name industry;
* its qualifiers, kept as conditions: 新建/扩建/改建, 在…范围内, 入园,
  除…外, capacity words.  A qualifier the site data cannot decide softens
  the verdict, never the other way: within a named sub-area → 待核实;
  入园, an exception or a capacity threshold → 有条件 (restricted).

A clause naming no known type, or whose modality is unclear, is not a rule
for any type: :attr:`Clause.parsed` is False and the reason says why; the
rules module turns it into a 待核实 finding for every site of its unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spatial.project_types import ProjectTypes

__all__ = ["Clause", "split_clauses", "clauses_in_context", "parse_clause", "MODAL_WORDS"]

#: Modality -> words, strongest reading first (原则上不 before 不得: "原则上不得" is restricted).
MODAL_WORDS: dict[str, tuple[str, ...]] = {
    "restricted": ("原则上不", "严格控制", "严格限制", "从严控制", "严控", "限制"),
    "prohibited": ("禁止", "不得", "严禁", "不准", "不予", "不再新建", "不再审批", "一律不"),
    "notice": ("应当", "必须", "鼓励", "引导", "须", "应"),
}
_MODAL_RE = re.compile("|".join(re.escape(w) for ws in MODAL_WORDS.values() for w in sorted(ws, key=len, reverse=True)))
_MODAL_OF = {w: m for m, ws in MODAL_WORDS.items() for w in ws}
#: 应 inside ordinary words is not a modal verb.
_NOT_MODAL = re.compile(r"相应|供应|适应|响应|对应|反应|应用|应急|效应|应对|顺应|理应|呼应")
_SPLIT = re.compile(r"[；;。！!\n]+|[（(]\d{1,2}[）)]|[①-⑳]|(?:^|(?<=[，,\s]))(?:\d{1,2}[、.．]|[一二三四五六七八九十]+[是、])")
_ITEM = re.compile(r"^\s*(?:[（(]?\d{1,2}[）)]|\d{1,2}[、.．]|[①-⑳]|[一二三四五六七八九十]+[是、])\s*")
#: After a type word: what makes it an item of a list of projects.
_FOLLOW = re.compile(
    r"^(?:[、，,和及与或等]|$|[）)]|类|项目|企业|行业|产业|设施|工程|活动|生产|建设|开发|电站|站|场|厂|基地|装置|业|制造|加工|的)"
)
_NEW = re.compile(r"新建|扩建|改建|改扩建|新增|新设|新上")
_SCOPE = re.compile(r"(?:在|于)([^；。]{2,120}?)(?:范围内|范围|区内|以内|内|周边|沿岸|两侧|上游)")
_LEAD_SCOPE = re.compile(r"^(?:在|于)?([^，,；。]{2,40}?(?:范围内|区内|内|周边|沿岸|两侧|上游))[，,]?$")
#: Phrasings that turn a list of types round ("与供水…无关的建设项目"): read by a person.
_INVERTED = re.compile(r"无关|以外的|之外的|不符合|不属于|非[^，,；。]{0,6}类")
_PARK_OUT = re.compile(r"园区外|工业园区以外|入园|进入园区|布设在[^，,；。]*园区|集聚区|纳入[^，,；。]*园区")
_EXCEPT = re.compile(r"除[^，,；。]{1,30}?(?:以)?外|[（(][^）)]{1,20}除外[）)]?")
_CAPACITY = re.compile(
    r"\d+(?:\.\d+)?\s*(?:万?吨|蒸吨|兆瓦|MW|千瓦|万千瓦|kW|头|只|羽|亩|公顷|立方米|万平方米|平方米)|规模以上|规模以下|小型|中小型|规模小|"
    r"(?:单机|装机)容量|生产规模|产能",
)


@dataclass(frozen=True)
class Clause:
    """One clause of a requirement and what it became.

    Attributes
    ----------
    text : str
        The clause, verbatim (a substring of the requirement, item number removed).
    modality : str or None
        ``prohibited``/``restricted``/``notice`` read from its words (None: unclear).
    verdict : str
        Verdict after the qualifiers (``notice`` when not parsed).
    types : tuple of str
        Canonical types named (groups expanded).
    terms : tuple of str
        The words that named them, as written.
    conditions : tuple of str
        Qualifiers kept as conditions.
    parsed : bool
        True when the clause is a rule for the named types.
    reason : str
        Why it was not parsed, or how the verdict was softened.
    """

    text: str
    modality: str | None
    verdict: str
    types: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    parsed: bool = False
    reason: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False)


#: (vocabulary id, size) -> its Chinese words, longest first.
_WORDS: dict[tuple[int, int], list[str]] = {}


def _modal_hits(text: str) -> list[tuple[int, str, str]]:
    """(position, word, modality) of each modal word, 应 in ordinary words left out."""
    out = []
    blocked = [m.span() for m in _NOT_MODAL.finditer(text)]
    for m in _MODAL_RE.finditer(text):
        if any(a <= m.start() < b for a, b in blocked):
            continue
        out.append((m.start(), m.group(), _MODAL_OF[m.group()]))
    return out


def split_clauses(text: str) -> list[str]:
    """Split a requirement into clauses (verbatim substrings).

    At ；。 and line breaks, at numbered items (（1） 1、 ① 一是), and at a comma
    where a modal word of another modality starts a new part.

    Parameters
    ----------
    text : str
        A requirement cell.

    Returns
    -------
    list of str
        Non-empty clauses, in order.
    """
    out: list[str] = []
    for part in _SPLIT.split(str(text or "")):
        part = _ITEM.sub("", part).strip(" \t，,：:")
        if not part:
            continue
        hits = _modal_hits(part)
        cuts = [0]
        prev = hits[0][2] if hits else None
        for pos, _, modality in hits[1:]:
            if modality == prev:
                continue
            comma = max(part.rfind("，", 0, pos), part.rfind(",", 0, pos))
            if comma > cuts[-1]:
                cuts.append(comma + 1)
            prev = modality
        for a, b in zip(cuts, [*cuts[1:], len(part)], strict=True):
            piece = part[a:b].strip(" \t，,：:")
            if piece:
                out.append(piece)
    return out


def clauses_in_context(text: str) -> list[tuple[str, str]]:
    """Clauses with the area a sentence's first clause names ("在受体敏感重点管控区内，…；…").

    Parameters
    ----------
    text : str
        A requirement cell.

    Returns
    -------
    list of (str, str)
        Each clause (:func:`split_clauses`) and the leading area phrase of its sentence ('' when none).
    """
    out: list[tuple[str, str]] = []
    for sentence in re.split(r"[。！!\n]+", str(text or "")):
        context = ""
        m = re.match(
            r"^\s*(?:[（(]?\d{1,2}[）)]|\d{1,2}[、.．])?\s*((?:在|于)[^，,；;。]{2,40}?(?:范围内|区内|内))[，,]", sentence
        )
        if m and not re.search(r"单元(?:范围)?内|本单元", m.group(1)):
            context = m.group(1)
        for i, clause in enumerate(split_clauses(sentence)):
            out.append((clause, context if i and context and context not in clause else ""))
    return out


def _type_terms(text: str, vocab: ProjectTypes) -> list[tuple[int, str, str]]:
    """(position, word, canonical type or group) of each type word used as a list item, longest first."""
    key = (id(vocab), len(vocab.synonyms))
    words = _WORDS.get(key)
    if words is None:  # once per vocabulary: a list has thousands of clauses
        words = sorted((s for s in vocab.synonyms if len(s) >= 2 and re.search(r"[\u4e00-\u9fff]", s)), key=len, reverse=True)
        _WORDS.clear()
        _WORDS[key] = words
    taken = [False] * len(text)
    found = []
    for w in words:
        start = 0
        while (i := text.find(w, start)) >= 0:
            start = i + 1
            if any(taken[i : i + len(w)]) or not _FOLLOW.match(text[i + len(w) :]):
                continue
            for j in range(i, i + len(w)):
                taken[j] = True
            found.append((i, w, vocab.synonyms[w]))
    return sorted(found)


def parse_clause(text: str, vocab: ProjectTypes, context: str = "") -> Clause:
    """Read one clause: modality, types named, qualifiers, and the verdict they give.

    Parameters
    ----------
    text : str
        A clause (:func:`split_clauses`).
    vocab : ProjectTypes
        The type vocabulary (synonyms and groups).
    context : str, optional
        The area an earlier clause of the same sentence names (:func:`clauses_in_context`).

    Returns
    -------
    Clause
        Parsed when the modality is clear and at least one known type is named.
    """
    hits = _modal_hits(text)
    kinds = {m for _, _, m in hits}
    modality = next(iter(kinds)) if len(kinds) == 1 else None
    conditions: list[str] = []
    new = list(dict.fromkeys(m.group() for m in _NEW.finditer(text)))
    if new:
        conditions.append(f"限{'、'.join(new)}项目（现有项目不在此列：须核实建设性质）")
    scope = _SCOPE.search(text)
    lead = _LEAD_SCOPE.match(text[: hits[0][0]]) if hits and hits[0][0] >= 3 else None
    scope = scope or lead
    if scope and re.search(r"单元(?:范围)?内|本单元|全[市县区]", scope.group()):
        scope = None  # the unit (or the list's whole area) itself, not a part of it
    if scope:
        conditions.append(f"仅在“{scope.group().lstrip('在于').rstrip('，,')}”（须核实项目是否位于其中）")
    elif context:
        conditions.append(f"仅在“{context.lstrip('在于')}”（承前句；须核实项目是否位于其中）")
    park = _PARK_OUT.search(text)
    if park:
        conditions.append(f"入园要求：“{park.group()}”")
    exc = _EXCEPT.search(text)
    if exc:
        conditions.append(f"例外：“{exc.group()}”")
    cap = _CAPACITY.search(text)
    if cap:
        conditions.append(f"规模条件：“{cap.group()}”（须核实项目规模）")
    # Words inside the named area ("在学校周边") describe where, not what.
    # and a qualifier ("须入园") is not a project either.
    spans = [m.span() for m in (scope, park) if m is not None]
    terms = [t for t in _type_terms(text, vocab) if not any(a <= t[0] < b or t[0] <= a < t[0] + len(t[1]) for a, b in spans)]
    types: set[str] = set()
    for _, _, canon in terms:
        types.update(vocab.groups.get(canon, (canon,)))
    shown = tuple(dict.fromkeys(w for _, w, _ in terms))
    if types and _INVERTED.search(text):
        why = f"含反向表述“{_INVERTED.search(text).group()}”，所列类型可能是允许而非禁止，须人工判读"
        return Clause(text, modality, "notice", tuple(sorted(types)), shown, tuple(conditions), False, why)
    if modality is None:
        why = "未识别情态词（禁止/限制/应当…）" if not kinds else f"情态不明（同时含 {'、'.join(sorted(w for _, w, _ in hits))}）"
        return Clause(text, None, "notice", tuple(sorted(types)), shown, tuple(conditions), False, why)
    if not types:
        return Clause(text, modality, "notice", (), (), tuple(conditions), False, "未识别到项目类型")
    verdict, soft = modality, ""
    if (scope or context) and verdict != "notice":
        verdict, soft = "notice", "限定范围无法由单元图斑判断，按待核实"
    elif (park or exc or cap) and verdict == "prohibited":
        verdict, soft = "restricted", "有入园/例外/规模条件，按有条件（限制）"
    return Clause(text, modality, verdict, tuple(sorted(types)), shown, tuple(conditions), True, soft)
