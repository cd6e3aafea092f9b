"""Sources as data: the registry of laws, documents and plans that rules cite.

The registry ships as ``spatial/data/sources.yaml``.  A rule's ``basis`` is a
list of :class:`Ref` (a source id and an article, section or plan line); the
registry turns it into the full citation (title, 文号, article) and tells
whether the source may be cited for a zoning package: a local plan only
inside its own jurisdiction (an adcode prefix), national sources everywhere.
Anchors whose text was not obtained cannot be cited at all.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from spatial.errors import RuleError
from spatial.io import bundled_path, load_yaml

__all__ = [
    "Source",
    "Ref",
    "SourceRegistry",
    "default_registry",
    "default_sources_path",
    "STATUS_ZH",
    "applies_in",
    "dimension_names",
    "scheme_citations",
    "parse_date",
    "VERDICT_WORDS",
]

#: Words a quoted clause must contain to carry each verdict (issue 21 item 7): a clause that
#: states only a principle carries 关注/待核实 at most.  占补平衡 (occupation balanced by compensation,
#: 004 L276 自然岸线占补平衡制度) permits occupation on the condition of compensating it: 有条件符合.
VERDICT_WORDS = {
    "prohibited": ("禁止", "不得", "严禁", "一律", "不能", "全面停止", "应布设在"),
    "restricted": (
        "禁止", "不得", "严禁", "应当", "严格控制", "严格限制", "批准", "原则上", "须", "必须", "限制", "仅允许", "除国家重大战略项目外",
        "占补平衡",
    ),
}  # fmt: skip

#: Source status -> Chinese label printed with every citation.
STATUS_ZH = {"in_force": "现行", "superseded": "已被替代", "unverified": "待核实"}
_KINDS = ("law", "regulation", "rule", "policy", "plan", "data", "tool")
_TEXT = ("obtained", "partial", "missing")
_LINE = re.compile(r"^L\d+(?:[–-]\d+)?$")
_ADCODE = re.compile(r"^\d{2,12}$")


def default_sources_path() -> Path:
    """Path of the shipped sources registry.

    Returns
    -------
    Path
        ``spatial/data/sources.yaml``.
    """
    return bundled_path("sources.yaml")


def applies_in(jurisdiction: tuple[str, ...] | None, adcode: str | None) -> bool:
    """Whether something with ``jurisdiction`` applies to a package at ``adcode``.

    Parameters
    ----------
    jurisdiction : tuple of str or None
        Adcode prefixes; None means national.
    adcode : str or None
        The package's adcode (None: unknown, only national things apply).

    Returns
    -------
    bool
        True for national, or when ``adcode`` starts with one of the prefixes.
    """
    if jurisdiction is None:
        return True
    return adcode is not None and any(adcode.startswith(p) for p in jurisdiction)


@dataclass(frozen=True)
class Anchor:
    """An article, section or line of a source."""

    key: str
    summary: str
    text: str
    quote: str = ""
    #: For a plan line: the chapter/section path found from the plan's own headings (cited instead of the line).
    section: str = ""

    def label(self, key: str) -> str:
        """How the anchor is printed in a citation: a plan's section (the line stays in ``sources``), else the key."""
        return self.section or key


@dataclass(frozen=True)
class Source:
    """One registered source.

    Attributes
    ----------
    id : str
        Registry id (``water-law-2017``).
    title : str
        Full title without 《》.
    number : str or None
        文号, None where not obtained.
    issuer, date, kind, status, status_note : str
        As in the registry.
    jurisdiction : tuple of str or None
        Adcode prefixes; None = national.
    anchors : dict
        Anchor key -> :class:`Anchor`.
    """

    id: str
    title: str
    number: str | None
    issuer: str
    date: str
    kind: str
    jurisdiction: tuple[str, ...] | None
    status: str
    status_note: str
    anchors: dict[str, Anchor] = field(default_factory=dict)
    in_force_from: _dt.date | None = None
    in_force_to: _dt.date | None = None
    replaced_by: str | None = None
    article_map: dict[str, str] = field(default_factory=dict)

    def in_force_on(self, day: _dt.date) -> bool:
        """Whether the source is in force on ``day`` (open ends count as in force).

        Parameters
        ----------
        day : date
            Screening date.

        Returns
        -------
        bool
            ``in_force_from <= day <= in_force_to``.
        """
        return (self.in_force_from is None or day >= self.in_force_from) and (self.in_force_to is None or day <= self.in_force_to)

    @property
    def citation(self) -> str:
        """Title in 《》 with the 文号 in brackets when known (data and tool settings without 《》)."""
        if self.kind in ("data", "tool"):
            return self.title
        return f"《{self.title}》" + (f"（{self.number}）" if self.number else "")

    @property
    def status_zh(self) -> str:
        """Status label, with the note for anything not plainly in force."""
        label = STATUS_ZH[self.status]
        return label if self.status == "in_force" else f"{label}：{self.status_note}"

    def anchor(self, key: str) -> Anchor:
        """Return an anchor, accepting any plan line ``L123``.

        Parameters
        ----------
        key : str
            Article, section or line.

        Returns
        -------
        Anchor
            The registered anchor (or an unregistered plan line).

        Raises
        ------
        RuleError
            For an unknown anchor, or one whose text was not obtained.
        """
        a = self.anchors.get(key)
        if a is None and self.kind == "plan" and _LINE.match(key):
            return Anchor(key, "", "obtained")
        if a is None:
            known = "、".join(self.anchors) or "（无）"
            raise RuleError(
                f"来源 {self.id}（{self.citation}）没有登记条款“{key}”；已登记：{known}",
                f"source {self.id} has no anchor '{key}'; registered: {', '.join(self.anchors) or '(none)'}",
            )
        if a.text == "missing":
            raise RuleError(
                f"{self.citation}“{key}”的原文未取得，规则不得引用（来源登记表标为 missing）。",
                f"{self.id} '{key}': the clause text was not obtained, so a rule may not cite it",
            )
        return a


@dataclass(frozen=True)
class Ref:
    """A citation: a source id and an anchor (article, section or plan line).

    A catalogue in the old format gives its basis as free text: then
    ``source`` is empty and ``text`` holds it verbatim.
    """

    source: str = ""
    at: str = ""
    text: str = ""

    @property
    def key(self) -> str:
        """Compact form for tables: ``source:anchor`` (or the free text)."""
        return f"{self.source}:{self.at}" if self.source else self.text


@dataclass
class SourceRegistry:
    """All registered sources, by id.

    Attributes
    ----------
    sources : dict
        Id -> :class:`Source`.
    path : Path
        File it was read from.
    """

    sources: dict[str, Source]
    path: Path

    def __contains__(self, sid: str) -> bool:
        """Whether ``sid`` is registered."""
        return sid in self.sources

    def __getitem__(self, sid: str) -> Source:
        """Return source ``sid``."""
        return self.sources[sid]

    def parse_basis(self, raw: Any, *, where: str) -> tuple[Ref, ...]:
        """Validate a rule's ``basis``: a mapping or list of ``{source, at}``.

        Plain text is accepted as an old-format free-text basis.

        Parameters
        ----------
        raw : Any
            The YAML value.
        where : str
            Rule label for messages.

        Returns
        -------
        tuple of Ref
            Validated references.

        Raises
        ------
        RuleError
            Unknown source or anchor, or an anchor whose text is missing.
        """
        if raw is None or raw == "":
            return ()
        if isinstance(raw, str):
            return (Ref(text=raw),)
        items = raw if isinstance(raw, list) else [raw]
        refs = []
        for item in items:
            if isinstance(item, str):
                refs.append(Ref(text=item))
                continue
            if not isinstance(item, Mapping) or "source" not in item:
                raise RuleError(
                    f"{where}：basis 每项应为 {{source: 来源编号, at: 条款或行号}}，得到 {item!r}",
                    f"{where}: each basis item must be {{source: id, at: article or line}}, got {item!r}",
                )
            sid, at = str(item["source"]), str(item.get("at", "")).strip()
            if sid not in self.sources:
                raise RuleError(
                    f"{where}：未登记的来源 {sid}；可用：{'、'.join(self.sources)}（见 {self.path.name}）",
                    f"{where}: unknown source {sid}; registered: {', '.join(self.sources)}",
                )
            try:
                self.sources[sid].anchor(at)
            except RuleError as exc:
                raise RuleError(f"{where}：{exc.zh}", f"{where}: {exc.en}") from exc
            refs.append(Ref(sid, at))
        return tuple(refs)

    def cite(self, ref: Ref, *, with_status: bool = True) -> str:
        """Full citation of one reference: title, 文号, article (and status when not plain).

        Parameters
        ----------
        ref : Ref
            The reference.
        with_status : bool, default True
            Append 待核实/已被替代 notes.

        Returns
        -------
        str
            E.g. ``《中华人民共和国水污染防治法（2017年修正）》第六十五条〔待核实：…〕``.
        """
        if not ref.source:
            return ref.text
        src = self.sources[ref.source]
        anchor = src.anchor(ref.at)
        text = src.citation + anchor.label(ref.at) + ("（节录）" if anchor.text == "partial" else "")
        status, note = self.status_on(ref.source, _dt.date.today())
        if with_status and status != "in_force":
            text += f"〔{STATUS_ZH[status]}：{note}〕"
        return text

    def cite_all(self, refs: Iterable[Ref], *, with_status: bool = True) -> str:
        """Join the citations of several references with '；'.

        Parameters
        ----------
        refs : iterable of Ref
            References.
        with_status : bool, default True
            As for :meth:`cite`.

        Returns
        -------
        str
            Citations.
        """
        parts: list[str] = []
        prev = None
        for r in refs:
            if r.source and r.source == prev:
                anchor = self.sources[r.source].anchor(r.at)
                status, note = self.status_on(r.source, _dt.date.today())
                tail = f"〔{STATUS_ZH[status]}：{note}〕" if with_status and status != "in_force" else ""
                head = parts[-1][: len(parts[-1]) - len(tail)] if tail else parts[-1]
                label = anchor.label(r.at) + ("（节录）" if anchor.text == "partial" else "")
                if not head.endswith(label):  # two lines of one plan section are cited once
                    parts[-1] = head + "、" + label + tail
            else:
                parts.append(self.cite(r, with_status=with_status))
            prev = r.source
        return "；".join(parts)

    def on_date(self, ref: Ref, day: _dt.date | None) -> Ref | None:
        """Return the reference as cited on ``day``: the text then in force, or None.

        A source repealed before ``day`` gives way to its ``replaced_by`` source
        at the mapped article; a source not yet in force on ``day`` gives way to
        the source it replaced (the inverse map).  A clause with no counterpart
        in force on ``day`` is not citable then (None).

        Parameters
        ----------
        ref : Ref
            Reference as written in a catalogue.
        day : date or None
            Screening date (None: no date, the reference as written).

        Returns
        -------
        Ref or None
            The reference to cite on ``day``.
        """
        if day is None or not ref.source or ref.source not in self.sources:
            return ref
        seen: set[str] = set()
        cur: Ref | None = ref
        while cur is not None and cur.source not in seen:
            seen.add(cur.source)
            src = self.sources[cur.source]
            if src.in_force_on(day):
                return cur
            if src.in_force_to is not None and day > src.in_force_to:
                nxt = src.article_map.get(cur.at)
                cur = Ref(src.replaced_by, nxt) if src.replaced_by and nxt else None
                continue
            # Not yet in force: the text it replaced, if an article maps back to it.
            back = [(s, old) for s in self.sources.values() if s.replaced_by == cur.source for old, new in s.article_map.items() if new == cur.at]
            cur = Ref(back[0][0].id, back[0][1]) if back else None
        return None

    def status_on(self, sid: str, day: _dt.date | None) -> tuple[str, str]:
        """Status and note of a source on ``day`` (repealed after its ``in_force_to``).

        Parameters
        ----------
        sid : str
            Source id.
        day : date or None
            Screening date (None: the registry's status).

        Returns
        -------
        (str, str)
            Status key (:data:`STATUS_ZH`) and note.
        """
        src = self.sources[sid]
        if day is not None and src.in_force_to is not None and day > src.in_force_to:
            by = self.sources[src.replaced_by].citation if src.replaced_by in self.sources else "新法"
            return "superseded", f"{src.in_force_to + _dt.timedelta(days=1)} 起已废止，由{by}替代"
        return src.status, src.status_note

    def notes(self, refs: Iterable[Ref], day: _dt.date | None = None) -> list[str]:
        """Return the 〔待核实〕/〔已被替代〕 notes of the sources cited, once each (for a footnote or rules.csv).

        Parameters
        ----------
        refs : iterable of Ref
            References cited.
        day : date, optional
            Screening date.

        Returns
        -------
        list of str
            ``《title》〔label：note〕`` per distinct source not plainly in force.
        """
        out: list[str] = []
        for sid in dict.fromkeys(r.source for r in refs if r.source and r.source in self.sources):
            status, note = self.status_on(sid, day)
            if status != "in_force":
                out.append(f"{self.sources[sid].citation}〔{STATUS_ZH[status]}：{note}〕")
        return out

    def quote(self, ref: Ref) -> str:
        """Return the quoted clause text of a reference ('' when none is registered).

        Parameters
        ----------
        ref : Ref
            Reference.

        Returns
        -------
        str
            The anchor's ``quote`` (verbatim clause text from the law library).
        """
        return self.sources[ref.source].anchor(ref.at).quote if ref.source and ref.source in self.sources else ""

    def citable(self, ref: Ref, adcode: str | None) -> bool:
        """Whether ``ref`` may be cited for a package at ``adcode`` (free text always may).

        Parameters
        ----------
        ref : Ref
            Reference.
        adcode : str or None
            Package adcode (None: unknown).

        Returns
        -------
        bool
            National sources always; local ones only inside their jurisdiction.
        """
        return not ref.source or applies_in(self.sources[ref.source].jurisdiction, adcode)

    def summary(self, ref: Ref) -> str:
        """Return what the cited anchor says (registry summary; '' for free text).

        Parameters
        ----------
        ref : Ref
            Reference.

        Returns
        -------
        str
            Summary text.
        """
        return self.sources[ref.source].anchor(ref.at).summary if ref.source else ""


def parse_date(raw: Any, *, where: str = "") -> _dt.date | None:
    """Parse a date ``YYYY-MM-DD`` (a date object passes through; None/'' is None).

    Parameters
    ----------
    raw : Any
        The value.
    where : str
        Context for the message.

    Returns
    -------
    date or None
        The date.

    Raises
    ------
    RuleError
        When the value is not a date.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, _dt.datetime):
        return raw.date()
    if isinstance(raw, _dt.date):
        return raw
    try:
        return _dt.date.fromisoformat(str(raw).strip())
    except ValueError as exc:
        raise RuleError(
            f"{where}：日期应为 YYYY-MM-DD（如 2026-08-15），得到 {raw!r}",
            f"{where}: a date must be YYYY-MM-DD (e.g. 2026-08-15), got {raw!r}",
        ) from exc


def parse_jurisdiction(raw: Any, *, where: str) -> tuple[str, ...] | None:
    """Validate a jurisdiction: ``national`` or adcode prefixes.

    Parameters
    ----------
    raw : Any
        ``national`` (or None), a code, or a list of codes.
    where : str
        Context for messages.

    Returns
    -------
    tuple of str or None
        Prefixes; None for national.
    """
    if raw is None or raw == "national" or raw == "全国":
        return None
    codes = [str(c).strip() for c in (raw if isinstance(raw, list) else [raw])]
    bad = [c for c in codes if not _ADCODE.match(c)]
    if bad or not codes:
        raise RuleError(
            f"{where}：管辖范围应为 national 或行政区划代码前缀（如 44、4418、441882），得到 {bad or raw}",
            f"{where}: jurisdiction must be national or adcode prefixes (44, 4418, 441882), got {bad or raw}",
        )
    return tuple(codes)


def load_registry(path: str | Path | None = None) -> SourceRegistry:
    """Load and validate a sources registry.

    Parameters
    ----------
    path : path-like, optional
        Registry YAML; the shipped one when omitted.

    Returns
    -------
    SourceRegistry
        The sources.
    """
    path = Path(path) if path is not None else default_sources_path()
    try:
        doc = load_yaml(path.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RuleError(f"无法读取来源登记表 {path}：{exc}", f"cannot read sources registry {path}: {exc}") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("sources"), Mapping):
        raise RuleError(
            f"来源登记表 {path} 需要顶层映射 sources:", f"sources registry {path} needs a top-level `sources:` mapping"
        )
    return SourceRegistry(parse_sources(doc["sources"], where=path.name), path)


def parse_sources(raw: Mapping[str, Any], *, where: str) -> dict[str, Source]:
    """Validate a ``sources:`` mapping (the registry's, or a catalogue's own additions).

    Parameters
    ----------
    raw : mapping
        Id -> source fields.
    where : str
        File name for messages.

    Returns
    -------
    dict
        Id -> :class:`Source`.
    """
    out: dict[str, Source] = {}
    for sid, spec in raw.items():
        label = f"{where} 来源 {sid}"
        if not isinstance(spec, Mapping) or not spec.get("title"):
            raise RuleError(f"{label}：需要 title。", f"{where} source {sid}: needs a title")
        kind, status = str(spec.get("kind", "policy")), str(spec.get("status", "in_force"))
        if kind not in _KINDS or status not in STATUS_ZH:
            raise RuleError(
                f"{label}：kind 应为 {'/'.join(_KINDS)}，status 应为 {'/'.join(STATUS_ZH)}",
                f"{where} source {sid}: kind must be one of {_KINDS}, status one of {tuple(STATUS_ZH)}",
            )
        anchors = {}
        for key, a in (spec.get("anchors") or {}).items():
            a = a if isinstance(a, Mapping) else {"summary": str(a)}
            text = str(a.get("text", "obtained"))
            if text not in _TEXT:
                raise RuleError(
                    f"{label} 条款 {key}：text 应为 {'/'.join(_TEXT)}",
                    f"{where} source {sid} anchor {key}: text must be one of {_TEXT}",
                )
            anchors[str(key)] = Anchor(
                str(key), str(a.get("summary", "")), text, str(a.get("quote", "") or "").strip(), str(a.get("section", "") or "").strip()
            )
        out[str(sid)] = Source(
            id=str(sid),
            title=str(spec["title"]).strip("《》"),
            number=str(spec["number"]) if spec.get("number") else None,
            issuer=str(spec.get("issuer", "")),
            date=str(spec.get("date", "")),
            kind=kind,
            jurisdiction=parse_jurisdiction(spec.get("jurisdiction"), where=label),
            status=status,
            status_note=str(spec.get("status_note", "")),
            anchors=anchors,
            in_force_from=parse_date(spec.get("in_force_from"), where=f"{label} in_force_from"),
            in_force_to=parse_date(spec.get("in_force_to"), where=f"{label} in_force_to"),
            replaced_by=str(rb["source"]) if (rb := spec.get("replaced_by")) else None,
            article_map={str(k): str(v) for k, v in ((rb or {}).get("articles") or {}).items()},
        )
    return out


@cache
def default_registry() -> SourceRegistry:
    """Return the shipped registry (read once per process).

    Returns
    -------
    SourceRegistry
        ``spatial/data/sources.yaml``.
    """
    return load_registry()


@cache
def _raw_dimensions(path: str) -> dict[str, tuple[tuple[str, ...] | None, dict[str, str]]]:
    raw = load_yaml(Path(path).read_text(encoding="utf-8")) or {}
    out = {}
    for sid, spec in (raw.get("sources") or {}).items():
        if isinstance(spec, Mapping) and isinstance(spec.get("dimensions"), Mapping):
            juris = parse_jurisdiction(spec.get("jurisdiction"), where=f"sources {sid}")
            out[str(sid)] = (juris, {str(k): str(v) for k, v in spec["dimensions"].items()})
    return out


def dimension_names(adcode: str | None, path: str | Path | None = None) -> dict[str, str]:
    """Return the 准入清单 dimension names of the most local scheme whose jurisdiction holds ``adcode``.

    A city scheme may name the four dimensions its own way (清远: 区域布局管控,
    能源资源利用); reports inside that city use its names.

    Parameters
    ----------
    adcode : str or None
        The zoning package's adcode.
    path : path-like, optional
        Registry file (default: the shipped one).

    Returns
    -------
    dict of str to str
        Standard dimension key (``spatial_layout`` …) -> name; empty when no scheme names them.
    """
    best: tuple[int, dict[str, str]] = (-1, {})
    for juris, names in _raw_dimensions(str(path or default_sources_path())).values():
        if juris is None or not applies_in(juris, adcode):
            continue
        depth = max(len(j) for j in juris if adcode and str(adcode).startswith(j))
        if depth > best[0]:
            best = (depth, names)
    return dict(best[1])


def scheme_citations(adcode: str | None) -> list[str]:
    """List the 三线一单 schemes whose jurisdiction holds ``adcode``, with 文号.

    Parameters
    ----------
    adcode : str or None
        The zoning package's adcode (:func:`spatial.jurisdiction.zoning_adcode`).

    Returns
    -------
    list of str
        Province first, then city, e.g.
        ``《广东省人民政府关于印发广东省“三线一单”生态环境分区管控方案的通知》（粤府〔2020〕71号）``,
        ``《清远市“三线一单”生态环境分区管控方案》（文号待核实）``.
    """
    found = [
        s for s in default_registry().sources.values()
        if "三线一单" in s.title and s.kind == "policy" and s.jurisdiction is not None and applies_in(s.jurisdiction, adcode)
    ]  # fmt: skip
    found.sort(key=lambda s: min(len(j) for j in s.jurisdiction or ("",)))  # province, then city
    return [s.citation + ("" if s.number else "（文号待核实）") for s in found]
