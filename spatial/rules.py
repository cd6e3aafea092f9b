"""Rules as data: load, stack, validate and resolve screening rule catalogues.

The default catalogue is a stack of shipped levels: the national catalogue
(``spatial/data/rules_default.yaml``), then Guangdong province, its regions
and counties (``spatial/data/catalogues/``), then each unit's own 准入清单
from the zoning data.  A catalogue extends others (``extend:``); a later level may
add rules, tighten a verdict, or (only with a cited source) relax one.

Each level and each cited source applies only inside its jurisdiction (an
adcode prefix), so the effective rule set depends on where the zoning
package lies: :meth:`RuleSet.for_adcode`.  Every problem in a catalogue
(unknown layer, field, value, project type, verdict, source or clause) is
an error naming the file and the rule and listing the valid choices.  The
old v0.1 format (free-text ``basis``, no ``extend``) still loads.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from layers import REGISTRY
from layers.base import clean_key
from spatial.engine.modes import MODES, mode_keys, where_values
from spatial.errors import RuleError
from spatial.io import bundled_path, load_yaml
from spatial.project_types import DEFAULT_TYPES, VERDICT_RANK, VERDICTS, ProjectTypes, verdict_rank
from spatial.sources import Ref, SourceRegistry, applies_in, default_registry, parse_date, parse_jurisdiction, parse_sources

__all__ = [
    "Rule",
    "RuleSet",
    "Exemption",
    "load_rules",
    "default_rules_path",
    "shipped_catalogues",
    "MODES",
    "LEVELS",
    "LEVEL_ZH",
    "split_key",
    "FACETS",
]

#: Site facets a conditional exemption may require (issue 21 item 3): ``geometry: line`` (a 管线/线路
#: site, not a facility) and ``major_project: yes`` (国家重大项目, a site attribute; unknown is never yes).
FACETS = {"geometry": {"line": "line"}, "major_project": {"yes": "major"}}


def split_key(key: str) -> tuple[str, frozenset[str]]:
    """Split a site's rule key (``water_supply|line``) into its type and facets.

    Parameters
    ----------
    key : str
        Canonical type, optionally followed by ``|facet`` parts
        (:func:`spatial.project_types.site_keys`).

    Returns
    -------
    (str, frozenset of str)
        Type and facets.
    """
    t, *facets = str(key).split("|")
    return t, frozenset(facets)


#: Catalogue levels, in stacking order (a later level overrides an earlier one).
LEVELS = ("national", "province", "region", "city", "county", "custom", "unit")
LEVEL_ZH = {
    "national": "国家",
    "province": "省",
    "region": "区域",
    "city": "市",
    "county": "县（市、区）",
    "custom": "自定义",
    "unit": "管控单元",
}
#: Keys every rule may have; each mode adds its own (:func:`spatial.engine.modes.mode_keys`).
_RULE_KEYS = {
    "id", "layer", "where", "mode", "applies_to", "except",
    "by_type", "verdict", "message_zh", "message_en", "basis", "conditions_zh", "exemptions",
    "level", "relax_basis", "add_basis", "add_conditions_zh",
}  # fmt: skip
_EXEMPTION_KEYS = {"types", "verdict", "basis", "conditions_zh", *FACETS}
_CATALOGUE_KEYS = {"catalogue", "rules", "project_types", "extend", "sources"}


def default_rules_path() -> Path:
    """Path of the shipped national catalogue (the base of the default stack).

    Returns
    -------
    Path
        ``spatial/data/rules_default.yaml``.
    """
    return bundled_path("rules_default.yaml")


def shipped_catalogues() -> dict[str, Path]:
    """Shipped catalogues by name: ``national`` and the files under ``data/catalogues``.

    Returns
    -------
    dict
        Name (file stem) -> path, national first.
    """
    folder = bundled_path("catalogues")
    out = {"national": default_rules_path()}
    if folder.is_dir():
        out.update({p.stem: p for p in sorted(folder.glob("*.yaml"))})
    return out


@dataclass(frozen=True)
class Exemption:
    """Types a rule treats more leniently under a cited clause, and on what conditions.

    Attributes
    ----------
    types : tuple of str
        Canonical types (after expansion).
    verdict : str
        Verdict for them (e.g. ``restricted``).
    refs : tuple of Ref
        The exemption clause(s).
    conditions_zh : str
        Conditions, e.g. "必须且无法避让、符合县级以上国土空间规划；需依法批准".
    basis : str
        Full citation of ``refs`` (set when the rule set is resolved).
    """

    types: tuple[str, ...]
    verdict: str
    refs: tuple[Ref, ...]
    conditions_zh: str = ""
    basis: str = ""
    when: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One screening rule, validated, normalised and resolved for a jurisdiction.

    Attributes
    ----------
    id : str
        Rule id.
    layers : tuple of str
        Standard layers the rule looks at.
    where : dict
        Field -> allowed canonical values.
    mode : str
        A registered mode (:data:`spatial.engine.modes.MODES`).
    buffer_m : float or 'width' or None
        Buffer distance for ``buffer`` mode.
    distance_m : float or None
        Proximity for ``near`` mode.
    type_verdicts : dict
        Canonical project type -> verdict (None: rule does not apply).
    verdict : str
        Headline verdict.
    message_zh, message_en : str
        Texts for reports.
    basis : str
        Full citation (title, 文号, article) of the rule's own sources.
    refs : tuple of Ref
        The sources behind ``basis``.
    conditions_zh : str
        Conditions attached to the headline verdict.
    exemptions : tuple of Exemption
        Exempted types with their clauses and conditions.
    type_exemption : dict
        Canonical type -> index into ``exemptions`` (absent: none).
    level : str
        Level (:data:`LEVELS`) of the definition in force.
    catalogue : str
        File the definition in force comes from.
    """

    id: str
    layers: tuple[str, ...]
    where: dict[str, tuple[str, ...]]
    mode: str
    buffer_m: float | str | None
    distance_m: float | None
    type_verdicts: dict[str, str | None]
    verdict: str
    message_zh: str
    message_en: str
    basis: str
    refs: tuple[Ref, ...] = ()
    conditions_zh: str = ""
    exemptions: tuple[Exemption, ...] = ()
    type_exemption: dict[str, int] = field(default_factory=dict)
    level: str = "custom"
    catalogue: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    #: Type -> indexes of conditional exemptions (``when``) covering it, most specific type first.
    facet_exemption: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def _facet_match(self, project_type: str, facets: frozenset[str]) -> Exemption | None:
        """Return the first conditional exemption for the type whose facets the site has."""
        for i in self.facet_exemption.get(project_type, ()):
            if set(self.exemptions[i].when) <= facets:
                return self.exemptions[i]
        return None

    def verdict_of(self, key: str) -> str | None:
        """Verdict for a site's rule key (type plus facets such as ``|line``, ``|major``).

        Parameters
        ----------
        key : str
            :func:`spatial.project_types.site_keys` value, or a bare type.

        Returns
        -------
        str or None
            Verdict (None: the rule does not concern the site).
        """
        t, facets = split_key(key)
        base = self.type_verdicts.get(t)
        if base is None or not facets:
            return base
        ex = self._facet_match(t, facets)
        return ex.verdict if ex is not None else base

    def verdicts_for(self, types: np.ndarray) -> np.ndarray:
        """Verdict of this rule for each canonical project type (None: n/a).

        Parameters
        ----------
        types : ndarray of str
            Canonical site types.

        Returns
        -------
        ndarray of object
            Verdict or None per site.
        """
        uniq, inv = np.unique(np.asarray(types, dtype=str), return_inverse=True)
        per = np.array([self.type_verdicts.get(t) for t in uniq], dtype=object)
        return per[inv] if len(uniq) else np.array([], dtype=object)

    def exemption_for(self, project_type: str) -> Exemption | None:
        """Exemption the rule applies to a type (None: the rule's own verdict).

        Parameters
        ----------
        project_type : str
            Canonical type.

        Returns
        -------
        Exemption or None
            The exemption.
        """
        t, facets = split_key(project_type)
        if facets and self.type_verdicts.get(t) is not None:
            ex = self._facet_match(t, facets)
            if ex is not None:
                return ex
        i = self.type_exemption.get(t)
        return None if i is None else self.exemptions[i]

    def source_keys(self, project_type: str | None = None) -> str:
        """Compact source ids and anchors (``water-law-2017:第六十五条``) for tables.

        Parameters
        ----------
        project_type : str, optional
            Give the exemption's sources for this type when it has one.

        Returns
        -------
        str
            Keys joined with '；'.
        """
        ex = self.exemption_for(project_type) if project_type else None
        return "；".join(r.key for r in (ex.refs if ex else self.refs))


@dataclass
class RuleSet:
    """A validated catalogue (or stack of catalogues) resolved for one jurisdiction.

    Attributes
    ----------
    rules : list of Rule
        Effective rules in stacking order.
    types : ProjectTypes
        Vocabulary (default plus catalogue additions).
    catalogue_id : str
        Catalogue id (``ecozone-default`` for the shipped stack).
    sha256 : str
        Hash of the catalogue files, for the audit trail.
    path : Path
        The catalogue asked for.
    adcode : str or None
        Jurisdiction the rules are resolved for (None: unknown, national only).
    adcode_note : str
        How the jurisdiction was found (for reports).
    fixed : bool
        The jurisdiction was given explicitly; :func:`spatial.screen` does not re-resolve.
    registry : SourceRegistry
        Sources the rules cite.
    levels : list of dict
        The catalogues of the stack: file, id, title, level, jurisdiction, applied.
    dropped : list of dict
        Rules left out here (no citable source in this jurisdiction) and why.
    """

    rules: list[Rule]
    types: ProjectTypes
    catalogue_id: str
    sha256: str
    path: Path
    version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    adcode: str | None = None
    adcode_note: str = ""
    fixed: bool = False
    registry: SourceRegistry | None = None
    levels: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)
    as_of: _dt.date | None = None
    replaced: dict[str, str] = field(default_factory=dict)
    #: Rules added after the catalogue (a published access list's clauses): kept when re-resolved.
    attached: list[Rule] = field(default_factory=list)
    _stack: list[_Catalogue] = field(default_factory=list, repr=False)

    @property
    def notes(self) -> list[str]:
        """The 〔待核实〕/〔已被替代〕 notes of every source the rules cite, once each (report footnote).

        Returns
        -------
        list of str
            One line per source not plainly in force on :attr:`as_of`.
        """
        if self.registry is None:
            return []
        refs = [r for rule in self.rules for r in (*rule.refs, *(x for e in rule.exemptions for x in e.refs))]
        moved = [f"{old}〔已被替代：筛查日期 {self.as_of} 适用{new}〕" for old, new in self.replaced.items()]
        return moved + self.registry.notes(refs, self.as_of)

    def rule_notes(self, rule: Rule) -> str:
        """Return the source notes of one rule (its own and its exemptions' sources), for ``rules.csv``.

        Parameters
        ----------
        rule : Rule
            A rule of this set.

        Returns
        -------
        str
            Notes joined with '；' ('' when every source is in force).
        """
        if self.registry is None:
            return ""
        return "；".join(self.registry.notes([*rule.refs, *(x for e in rule.exemptions for x in e.refs)], self.as_of))

    def for_date(self, as_of: _dt.date | str | None) -> RuleSet:
        """Resolve the same stack for another screening date (the law in force then).

        Parameters
        ----------
        as_of : date or str or None
            Screening date (None: today).

        Returns
        -------
        RuleSet
            Rules citing the texts in force on that date.
        """
        day = parse_date(as_of, where="--as-of") or _dt.date.today()
        if day == self.as_of:
            return self
        return self._carry(
            _resolve(self._stack, self.types, self.registry, self.path, self.adcode, self.adcode_note, fixed=self.fixed, as_of=day)
        )

    def __iter__(self) -> Iterator[Rule]:
        """Iterate over rules."""
        return iter(self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        """Return the effective rule ``rule_id``."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def for_adcode(self, adcode: str | None, note: str = "", *, fixed: bool = False) -> RuleSet:
        """Resolve the same catalogue stack for another jurisdiction.

        Parameters
        ----------
        adcode : str or None
            Adcode of the zoning package (None: unknown, national rules only).
        note : str
            How it was determined (shown in reports).
        fixed : bool, default False
            Mark the jurisdiction as explicit.

        Returns
        -------
        RuleSet
            Rules whose level and sources apply there.
        """
        if adcode == self.adcode and not fixed:
            self.adcode_note = note or self.adcode_note
            return self
        return self._carry(_resolve(self._stack, self.types, self.registry, self.path, adcode, note, fixed=fixed, as_of=self.as_of))

    def _carry(self, out: RuleSet) -> RuleSet:
        """Keep an access list's rules on a re-resolved set: they belong to the zoning, not to the catalogue's levels."""
        if self.attached:
            out.rules += self.attached
            out.attached = list(self.attached)
            out.extra = {**out.extra, "lists": self.extra.get("lists", [])}
        return out


@dataclass
class _Catalogue:
    """One catalogue file as read, before resolution."""

    path: Path
    id: str
    title: str
    version: str
    level: str
    jurisdiction: tuple[str, ...] | None
    rules: list[dict[str, Any]]
    data: bytes


def load_rules(
    path: str | os.PathLike[str] | None = None,
    types: ProjectTypes | None = None,
    *,
    adcode: str | None = None,
    adcode_note: str = "",
    as_of: _dt.date | str | None = None,
) -> RuleSet:
    """Load, stack and validate a rule catalogue, resolved for a jurisdiction.

    Parameters
    ----------
    path : path-like, optional
        YAML catalogue; the shipped default stack when omitted.
    types : ProjectTypes, optional
        Base vocabulary (default built-in).
    adcode : str, optional
        Jurisdiction to resolve for; when omitted the rules are resolved for
        national sources only and :func:`spatial.screen` re-resolves them for
        the zoning package's own adcode.
    adcode_note : str
        How ``adcode`` was found.
    as_of : date or str, optional
        Screening date (``YYYY-MM-DD``; default today): every rule cites the
        text in force that day (a repealed law gives way to the article that
        replaced it; a rule whose only sources were not in force is left out).

    Returns
    -------
    RuleSet
        The validated rules.

    Raises
    ------
    RuleError
        Naming the file, the rule and the valid choices.
    """
    registry = default_registry()
    day = parse_date(as_of, where="--as-of") or _dt.date.today()
    if path is None:
        files = list(shipped_catalogues().values())
        top = default_rules_path()
    else:
        top = Path(path)
        if not top.exists():
            raise RuleError(f"找不到规则文件：{top}", f"rule catalogue not found: {top}")
        files = [top]
    stack: list[_Catalogue] = []
    docs: dict[Path, Mapping[str, Any]] = {}
    for f in files:
        _collect(f, stack, docs, [])
    extra_sources: dict[str, Any] = {}
    vocab = (types or DEFAULT_TYPES).copy()
    for cat in stack:
        doc = docs[cat.path]
        for sid, src in parse_sources(doc.get("sources") or {}, where=cat.path.name).items():
            if sid in registry:
                raise RuleError(
                    f"{cat.path.name}：来源 {sid} 已在来源登记表中登记，请换一个编号。",
                    f"{cat.path.name}: source {sid} is already registered; use another id",
                )
            extra_sources[sid] = src
        for name, spec in (doc.get("project_types") or {}).items():
            spec = spec or {}
            vocab.add(str(name), spec.get("parent"), [str(s) for s in spec.get("synonyms", [])])
    if extra_sources:
        registry = SourceRegistry({**registry.sources, **extra_sources}, registry.path)
    stack.sort(key=lambda c: LEVELS.index(c.level))  # stable: parents before children within a level
    _check_conflicts(stack)
    rs = _resolve(stack, vocab, registry, top, adcode, adcode_note, fixed=adcode is not None, as_of=day)
    if path is None:
        rs.catalogue_id = "ecozone-default"
    return rs


def _collect(path: Path, stack: list[_Catalogue], docs: dict[Path, Mapping[str, Any]], chain: list[Path]) -> None:
    """Read ``path`` and (first) the catalogues it extends, once each."""
    path = path.resolve()
    if path in chain:
        loop = " → ".join(p.name for p in [*chain, path])
        raise RuleError(f"规则文件循环引用（extend）：{loop}", f"catalogues extend each other in a loop: {loop}")
    if path in docs:
        return
    data = path.read_bytes()
    try:
        doc = load_yaml(data.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RuleError(f"规则文件 {path} 不是有效的 UTF-8 YAML：{exc}", f"{path} is not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("rules", []), list) or ("rules" not in doc and "extend" not in doc):
        raise RuleError(
            f"规则文件 {path} 需要顶层列表 rules:（或 extend: 其他规则文件）；参见默认规则 {default_rules_path().name}。",
            f"{path} needs a top-level `rules:` list (or `extend:`); see the default catalogue",
        )
    unknown = set(doc) - _CATALOGUE_KEYS
    if unknown:
        raise RuleError(
            f"规则文件 {path.name}：未知的顶层键 {sorted(unknown)}；可用：{sorted(_CATALOGUE_KEYS)}",
            f"{path.name}: unknown top-level keys {sorted(unknown)}; valid: {sorted(_CATALOGUE_KEYS)}",
        )
    docs[path] = doc
    for parent in _as_list(doc.get("extend")):
        targets = list(shipped_catalogues().values()) if str(parent) == "default" else [_extend_target(str(parent), path)]
        for target in targets:
            _collect(target, stack, docs, [*chain, path])
    meta = doc.get("catalogue") or {}
    level = str(meta.get("level", "custom"))
    if level not in LEVELS:
        raise RuleError(
            f"{path.name}：catalogue.level '{level}' 无效；可用：{', '.join(LEVELS)}",
            f"{path.name}: invalid catalogue.level '{level}'; valid: {', '.join(LEVELS)}",
        )
    rules = doc.get("rules") or []
    if not rules and not doc.get("extend"):
        raise RuleError(f"规则文件 {path} 的 rules: 为空。", f"{path}: `rules:` is empty")
    stack.append(
        _Catalogue(
            path=path,
            id=str(meta.get("id", path.stem)),
            title=str(meta.get("title", "")),
            version=str(meta.get("version", "")),
            level=level,
            jurisdiction=parse_jurisdiction(meta.get("jurisdiction"), where=path.name),
            rules=rules,
            data=data,
        )
    )


def _extend_target(name: str, child: Path) -> Path:
    """Resolve an ``extend:`` entry: a shipped name (``national``, ``guangdong``…) or a path (``default``: every shipped level)."""
    shipped = shipped_catalogues()
    if name in shipped:
        return shipped[name]
    path = (child.parent / name) if not Path(name).is_absolute() else Path(name)
    if not path.exists():
        raise RuleError(
            f"{child.name}：extend 的规则文件 {name} 不存在；可用内置名称：{', '.join(shipped)}，或相对本文件的路径。",
            f"{child.name}: extended catalogue {name} not found; shipped names: {', '.join(shipped)}, or a path relative to this file",
        )
    return path


def _overlap(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> bool:
    """Whether two jurisdictions share any place."""
    if a is None or b is None:
        return True
    return any(x.startswith(y) or y.startswith(x) for x in a for y in b)


def _check_conflicts(stack: list[_Catalogue]) -> None:
    """Raise when two files define one rule id at the same level for overlapping places (naming both)."""
    seen: dict[tuple[str, str], _Catalogue] = {}
    for cat in stack:
        ids: set[str] = set()
        for raw in cat.rules:
            if not isinstance(raw, Mapping) or not raw.get("id"):
                continue  # reported with its position when the rule is parsed
            rid = str(raw["id"])
            if rid in ids:
                raise RuleError(f"{cat.path}：规则编号 {rid} 重复。", f"{cat.path}: duplicate rule id {rid}")
            ids.add(rid)
            level = str(raw.get("level", cat.level))
            other = seen.get((level, rid))
            if other is not None and other.path != cat.path and _overlap(other.jurisdiction, cat.jurisdiction):
                raise RuleError(
                    f"规则 {rid} 在同一层级（{LEVEL_ZH[level]}）被两个文件定义：{other.path} 与 {cat.path}；请删去其一或改到下一层级。",
                    f"rule {rid} is defined twice at level {level}: {other.path} and {cat.path}; remove one or move it to a later level",
                )
            seen[(level, rid)] = cat


def _resolve(
    stack: list[_Catalogue],
    vocab: ProjectTypes,
    registry: SourceRegistry | None,
    top: Path,
    adcode: str | None,
    note: str,
    *,
    fixed: bool,
    as_of: _dt.date | None = None,
) -> RuleSet:
    """Merge the levels that apply at ``adcode`` (on ``as_of``) into effective rules."""
    registry = registry or default_registry()
    ctx = _Ctx(registry, adcode, as_of)
    merged: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    levels = []
    dropped: list[dict[str, str]] = []
    for cat in stack:
        applied = applies_in(cat.jurisdiction, adcode)
        levels.append(
            {
                "file": cat.path.name,
                "id": cat.id,
                "title": cat.title,
                "level": cat.level,
                "jurisdiction": "national" if cat.jurisdiction is None else ",".join(cat.jurisdiction),
                "applied": applied,
                "version": cat.version,
                "sha256": hashlib.sha256(cat.data).hexdigest(),
            }
        )
        if not applied:
            continue
        for i, raw in enumerate(cat.rules, start=1):
            rule = _parse_rule(raw, i, vocab, cat, ctx)
            rid = str(raw.get("id"))
            prev = merged.get(rid)
            if _is_patch(raw):
                if prev is None:
                    if any(d["rule_id"] == rid for d in dropped):
                        continue  # amends a rule left out here
                    raise RuleError(
                        f"{cat.path.name} 规则 {rid}：add_basis/add_conditions_zh 只能修改上一层级已有的规则，但上一层级没有此规则。",
                        f"{cat.path.name} rule {rid}: add_basis/add_conditions_zh amend an earlier level's rule, but none defines it",
                    )
                merged[rid] = _amend(prev, raw, cat, ctx)
                continue
            if isinstance(rule, str):  # no citable source here
                dropped.append({"rule_id": rid, "file": cat.path.name, "reason": rule})
                merged.pop(rid, None)
                continue
            if prev is not None:
                rule = _override(prev, rule, raw, cat, ctx)
            else:
                order.append(rid)
            merged[rid] = rule
    rules = [merged[rid] for rid in order if rid in merged]
    data = b"".join(c.data for c in stack)
    first = stack[-1] if len(stack) == 1 else next((c for c in stack if c.path == top.resolve()), stack[-1])
    return RuleSet(
        rules=rules,
        types=vocab,
        catalogue_id=first.id,
        sha256=hashlib.sha256(data).hexdigest(),
        path=top,
        version=first.version,
        adcode=adcode,
        adcode_note=note,
        fixed=fixed,
        registry=registry,
        levels=levels,
        dropped=dropped,
        as_of=as_of,
        replaced=dict(ctx.replaced),
        _stack=stack,
    )


@dataclass(frozen=True)
class _Ctx:
    """Where and when rules are resolved: the registry, the adcode, the screening date (and what was replaced)."""

    registry: SourceRegistry
    adcode: str | None
    day: _dt.date | None
    replaced: dict[str, str] = field(default_factory=dict)

    def refs(self, raw: Any, where: str) -> tuple[tuple[Ref, ...], tuple[Ref, ...]]:
        """(all references as written, those citable here on the day, mapped to the text then in force)."""
        written = self.registry.parse_basis(raw, where=where)
        out: list[Ref] = []
        for r in written:
            if not self.registry.citable(r, self.adcode):
                continue
            dated = self.registry.on_date(r, self.day)
            if dated is not None and dated != r:
                self.replaced[self.registry.cite(r, with_status=False)] = self.registry.cite(dated, with_status=False)
            if dated is not None and dated not in out:
                out.append(dated)
        return written, tuple(out)

    def cite(self, refs: tuple[Ref, ...]) -> str:
        """Citation without status notes (they are printed once, in :attr:`RuleSet.notes`)."""
        return self.registry.cite_all(refs, with_status=False)


def _is_patch(raw: Any) -> bool:
    return isinstance(raw, Mapping) and ("add_basis" in raw or "add_conditions_zh" in raw) and "layer" not in raw


def _amend(prev: Rule, raw: Mapping[str, Any], cat: _Catalogue, ctx: _Ctx) -> Rule:
    """Add a later level's sources and conditions to an existing rule and all its exemptions (never relaxes)."""
    label = f"{cat.path.name} 规则 {prev.id}"
    add = ctx.refs(raw.get("add_basis"), label)[1]
    cond = str(raw.get("add_conditions_zh", "") or "")
    if not add and not cond:
        return prev

    def join(a: str, b: str) -> str:
        return "；".join(x for x in (a, b) if x)

    exemptions = tuple(
        replace(e, refs=(*e.refs, *add), basis=ctx.cite((*e.refs, *add)), conditions_zh=join(e.conditions_zh, cond))
        for e in prev.exemptions
    )
    refs = (*prev.refs, *add)
    return replace(
        prev,
        refs=refs,
        basis=ctx.cite(refs),
        conditions_zh=join(prev.conditions_zh, cond) if prev.conditions_zh else prev.conditions_zh,
        exemptions=exemptions,
        level=cat.level,
        catalogue=str(cat.path),
    )


def _override(prev: Rule, new: Rule, raw: Mapping[str, Any], cat: _Catalogue, ctx: _Ctx) -> Rule:
    """Apply a later level's definition of an existing rule: tighten freely, relax only with a source."""
    label = f"{cat.path.name} 规则 {new.id}"
    relax = ctx.refs(raw.get("relax_basis"), label)[1]
    looser = sorted(
        t for t, v in prev.type_verdicts.items()
        if v is not None and (new.type_verdicts.get(t) is None or VERDICT_RANK[new.type_verdicts[t]] < VERDICT_RANK[v])
    )  # fmt: skip
    if looser and not relax:
        raise RuleError(
            f"{label}：本层级（{LEVEL_ZH[cat.level]}）放宽了上一层级（{LEVEL_ZH[prev.level]}，{Path(prev.catalogue).name}）的结论，"
            f"涉及类型 {', '.join(looser[:12])}；放宽须在 relax_basis 中引用依据来源。",
            f"{label}: relaxes the verdict of the earlier level ({prev.level}, {Path(prev.catalogue).name}) for "
            f"{', '.join(looser[:12])}; a relaxation needs a cited `relax_basis`",
        )
    if relax:
        new = replace(new, refs=(*new.refs, *relax), basis=ctx.cite((*new.refs, *relax)))
    return new


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _parse_rule(raw: Any, i: int, vocab: ProjectTypes, cat: _Catalogue, ctx: _Ctx) -> Rule | str:
    """Validate one catalogue rule; a string says why it has no citable source here."""
    path = cat.path
    where_txt = f"{path.name} 第 {i} 条规则"
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where_txt}应为映射（键: 值）。", f"{path.name} rule {i} must be a mapping")
    rid = str(raw.get("id") or "")
    label = f"{path.name} 规则 {rid or '#' + str(i)}"
    if not rid:
        raise RuleError(f"{where_txt}缺少 id。", f"{path.name} rule {i} lacks an id")
    keys = _RULE_KEYS | mode_keys()
    unknown = set(raw) - keys
    if unknown:
        raise RuleError(
            f"{label}：未知的键 {sorted(unknown)}；可用：{sorted(keys)}",
            f"{label}: unknown keys {sorted(unknown)}; valid: {sorted(keys)}",
        )
    if _is_patch(raw):
        return rid  # applied to the earlier definition by _amend
    layers = tuple(str(x) for x in _as_list(raw.get("layer")))
    bad_layers = [x for x in layers if x not in REGISTRY]
    if not layers or bad_layers:
        raise RuleError(
            f"{label}：图层 {bad_layers or '(缺失)'} 无效；可用：{', '.join(REGISTRY)}",
            f"{label}: invalid layer {bad_layers or '(missing)'}; valid: {', '.join(REGISTRY)}",
        )
    mode, params = _mode_fields(raw, label, layers)
    where: dict[str, tuple[str, ...]] = {}
    for fname, vals in (raw.get("where") or {}).items():
        where[str(fname)] = _where_values(label, layers, str(fname), _as_list(vals))
    verdict = _verdict(raw.get("verdict", ""), label)
    level = str(raw.get("level", cat.level))
    if level not in LEVELS:
        raise RuleError(
            f"{label}：level '{level}' 无效；可用：{', '.join(LEVELS)}",
            f"{label}: invalid level '{level}'; valid: {', '.join(LEVELS)}",
        )
    all_refs, refs = ctx.refs(raw.get("basis"), label)
    if all_refs and not refs:
        if any(ctx.registry.citable(r, ctx.adcode) for r in all_refs):
            return (
                f"依据在筛查日期 {ctx.day} 尚未施行或已废止且无承继条文，不适用 / "
                f"its sources were not in force on the screening date {ctx.day}"
            )
        return "依据均为本辖区以外的地方规划，不适用 / its only sources are local plans of another jurisdiction"
    applies = vocab.expand([str(x) for x in _as_list(raw.get("applies_to", "all"))], where=f"{label} applies_to：")
    excepted = vocab.expand([str(x) for x in _as_list(raw.get("except"))], where=f"{label} except：")
    by_type_raw = raw.get("by_type") or {}
    if not isinstance(by_type_raw, Mapping):
        raise RuleError(f"{label}：by_type 应为 类型: 结论 的映射。", f"{label}: by_type must map type: verdict")
    by_type: dict[str, str] = {}
    for t, v in by_type_raw.items():
        for canon in vocab.expand([str(t)], where=f"{label} by_type："):
            by_type[canon] = _verdict(v, label)
    exemptions: list[Exemption] = []
    ex_of: dict[str, int] = {}
    conditional: list[int] = []
    for j, ex in enumerate(_as_list(raw.get("exemptions")), start=1):
        parsed = _parse_exemption(ex, j, label, vocab, ctx)
        if parsed is None:
            continue  # its clause is a local source of another jurisdiction (or not in force): no relaxation here
        if parsed.when:  # applies only to sites with those facets, on top of the type's own verdict
            conditional.append(len(exemptions))
            exemptions.append(parsed)
            continue
        for t in parsed.types:
            by_type[t] = parsed.verdict
            ex_of[t] = len(exemptions)
        exemptions.append(parsed)
    type_verdicts = {t: _type_verdict(vocab, t, applies, excepted, by_type, verdict) for t in vocab.names}
    type_exemption = {}
    for t in vocab.names:
        owner = next((a for a in vocab.lineage(t) if a in by_type), None)
        if owner is not None and owner in ex_of:
            type_exemption[t] = ex_of[owner]
    facet_exemption: dict[str, tuple[int, ...]] = {}
    if conditional:
        for t in vocab.names:
            lineage = vocab.lineage(t)
            hits = sorted(
                (i for i in conditional if "all" in exemptions[i].types or set(exemptions[i].types) & set(lineage)),
                key=lambda i: min((lineage.index(x) for x in exemptions[i].types if x in lineage), default=len(lineage)),
            )
            if hits:
                facet_exemption[t] = tuple(hits)
    return Rule(
        id=rid,
        layers=layers,
        where=where,
        mode=mode,
        buffer_m=params.pop("buffer_m", None),
        distance_m=params.pop("distance_m", None),
        type_verdicts=type_verdicts,
        verdict=verdict,
        message_zh=str(raw.get("message_zh", "")),
        message_en=str(raw.get("message_en", "")),
        basis=ctx.cite(refs),
        refs=refs,
        conditions_zh=str(raw.get("conditions_zh", "")),
        exemptions=tuple(exemptions),
        type_exemption=type_exemption,
        facet_exemption=facet_exemption,
        level=level,
        catalogue=str(path),
        params=params,
    )


def _verdict(value: Any, label: str) -> str:
    try:
        return VERDICTS[verdict_rank(str(value))]
    except RuleError as exc:
        raise RuleError(f"{label}：{exc.zh}", f"{label}: {exc.en}") from exc


def _parse_exemption(raw: Any, j: int, label: str, vocab: ProjectTypes, ctx: _Ctx) -> Exemption | None:
    """One ``exemptions:`` entry: types, verdict, the clause and its conditions."""
    where = f"{label} exemptions 第 {j} 项"
    if not isinstance(raw, Mapping) or not raw.get("types") or not raw.get("basis"):
        raise RuleError(
            f"{where}：需要 types（项目类型）、verdict 和 basis（豁免条款）。",
            f"{label} exemption {j}: needs types, verdict and basis (the exemption clause)",
        )
    unknown = set(raw) - _EXEMPTION_KEYS
    if unknown:
        raise RuleError(
            f"{where}：未知的键 {sorted(unknown)}；可用：{sorted(_EXEMPTION_KEYS)}",
            f"{label} exemption {j}: unknown keys {sorted(unknown)}",
        )
    citable = ctx.refs(raw["basis"], where)[1]
    if not citable:
        return None
    when: list[str] = []
    for key, values in FACETS.items():
        if key in raw:
            value = raw[key]
            value = "yes" if value is True else value  # YAML reads a bare yes as true
            facet = values.get(clean_key(str(value)))
            if facet is None:
                raise RuleError(
                    f"{where}：{key} 只能是 {'/'.join(values)}，得到 {raw[key]!r}",
                    f"{label} exemption {j}: {key} must be {'/'.join(values)}, got {raw[key]!r}",
                )
            when.append(facet)
    types = vocab.expand([str(x) for x in _as_list(raw["types"])], where=f"{where} types：")
    if not when:
        types -= {"all"}
    return Exemption(
        types=tuple(sorted(types)),
        verdict=_verdict(raw.get("verdict", ""), where),
        refs=citable,
        conditions_zh=str(raw.get("conditions_zh", "")),
        basis=ctx.cite(citable),
        when=tuple(when),
    )


def _mode_fields(raw: Mapping[str, Any], label: str, layers: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """Validate the rule mode and its parameters through the mode registry: (mode, parameters)."""
    mode = str(raw.get("mode", "intersects"))
    if mode not in MODES:
        raise RuleError(
            f"{label}：mode '{mode}' 无效；可用：{', '.join(MODES)}", f"{label}: invalid mode '{mode}'; valid: {', '.join(MODES)}"
        )
    return mode, dict(MODES[mode].validate(raw, layers, label))


def _type_verdict(
    vocab: ProjectTypes, t: str, applies: set[str], excepted: set[str], by_type: dict[str, str], verdict: str
) -> str | None:
    """by_type and exemptions (most specific) beat except, which beats applies_to."""
    lineage = vocab.lineage(t)
    for anc in lineage:
        if anc in by_type:
            return by_type[anc]
    if excepted.intersection(lineage):
        return None
    if "all" in applies or applies.intersection(lineage):
        return verdict
    return None


def _where_values(label: str, layers: tuple[str, ...], fname: str, vals: list[Any]) -> tuple[str, ...]:
    """Normalise a condition's values through each layer's field vocabulary."""
    return tuple(dict.fromkeys(v for layer in layers for v in where_values(label, layer, fname, vals)))
