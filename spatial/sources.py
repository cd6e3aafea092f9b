"""Sources as data: the registry of laws, documents and plans that rules cite.

The registry ships as ``spatial/data/sources.yaml``.  A rule's ``basis`` is a
list of :class:`Ref` (a source id and an article, section or plan line); the
registry turns it into the full citation (title, 文号, article) and tells
whether the source may be cited for a zoning package: a local plan only
inside its own jurisdiction (an adcode prefix), national sources everywhere.
Anchors whose text was not obtained cannot be cited at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from spatial.errors import RuleError

__all__ = [
    "Source",
    "Ref",
    "SourceRegistry",
    "default_registry",
    "default_sources_path",
    "STATUS_ZH",
    "applies_in",
    "dimension_names",
]

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
    return Path(str(resources.files("spatial") / "data" / "sources.yaml"))


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
        text = src.citation + ref.at + ("（节录）" if anchor.text == "partial" else "")
        if with_status and src.status != "in_force":
            text += f"〔{src.status_zh}〕"
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
                tail = (
                    f"〔{self.sources[r.source].status_zh}〕"
                    if with_status and self.sources[r.source].status != "in_force"
                    else ""
                )
                head = parts[-1][: len(parts[-1]) - len(tail)] if tail else parts[-1]
                parts[-1] = head + "、" + r.at + ("（节录）" if anchor.text == "partial" else "") + tail
            else:
                parts.append(self.cite(r, with_status=with_status))
            prev = r.source
        return "；".join(parts)

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
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
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
            anchors[str(key)] = Anchor(str(key), str(a.get("summary", "")), text)
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
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
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
