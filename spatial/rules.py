"""Rules as data: load, validate and resolve a screening rule catalogue.

The default catalogue ships as ``spatial/data/rules_default.yaml``; a
planner copies it, edits it and passes it with ``--rules``.  Every problem
in a catalogue (unknown layer, field, value, project type or verdict) is an
error naming the rule and listing the valid choices.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from layers import REGISTRY
from layers.base import clean_key
from spatial.engine.modes import MODES, mode_keys
from spatial.errors import RuleError
from spatial.project_types import DEFAULT_TYPES, VERDICTS, ProjectTypes, verdict_rank

__all__ = ["Rule", "RuleSet", "load_rules", "default_rules_path"]

#: Keys every rule may have; each mode adds its own (:func:`spatial.engine.modes.mode_keys`).
_COMMON_KEYS = {"id", "layer", "where", "mode", "applies_to", "except", "by_type", "verdict", "message_zh", "message_en", "basis"}


def default_rules_path() -> Path:
    """Path of the shipped default catalogue.

    Returns
    -------
    Path
        ``spatial/data/rules_default.yaml``.
    """
    return Path(str(resources.files("spatial") / "data" / "rules_default.yaml"))


@dataclass(frozen=True)
class Rule:
    """One screening rule, validated and normalised.

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
    message_zh, message_en, basis : str
        Texts for reports.
    params : dict
        Further parameters the rule's mode validated.
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
    params: Mapping[str, Any] = field(default_factory=dict)

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


@dataclass
class RuleSet:
    """A validated catalogue.

    Attributes
    ----------
    rules : list of Rule
        Rules in catalogue order.
    types : ProjectTypes
        Vocabulary (default plus catalogue additions).
    catalogue_id : str
        Catalogue id (``ecozone-default`` for the shipped one).
    sha256 : str
        Hash of the catalogue file, for the audit trail.
    path : Path
        Where it was read from.
    """

    rules: list[Rule]
    types: ProjectTypes
    catalogue_id: str
    sha256: str
    path: Path
    version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Rule]:
        """Iterate over rules."""
        return iter(self.rules)


def load_rules(path: str | os.PathLike[str] | None = None, types: ProjectTypes | None = None) -> RuleSet:
    """Load and validate a rule catalogue.

    Parameters
    ----------
    path : path-like, optional
        YAML catalogue; the shipped default when omitted.
    types : ProjectTypes, optional
        Base vocabulary (default built-in).

    Returns
    -------
    RuleSet
        The validated rules.

    Raises
    ------
    RuleError
        Naming the rule and the valid choices.
    """
    path = Path(path) if path is not None else default_rules_path()
    if not path.exists():
        raise RuleError(f"找不到规则文件：{path}", f"rule catalogue not found: {path}")
    data = path.read_bytes()
    try:
        doc = yaml.safe_load(data.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RuleError(f"规则文件 {path} 不是有效的 UTF-8 YAML：{exc}", f"{path} is not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("rules"), list) or not doc["rules"]:
        raise RuleError(
            f"规则文件 {path} 需要非空的顶层列表 rules:（参见默认规则 {default_rules_path().name}）。",
            f"{path} needs a non-empty top-level `rules:` list (see the default catalogue)",
        )
    vocab = (types or DEFAULT_TYPES).copy()
    for name, spec in (doc.get("project_types") or {}).items():
        spec = spec or {}
        vocab.add(str(name), spec.get("parent"), [str(s) for s in spec.get("synonyms", [])])
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc["rules"], start=1):
        rule = _parse_rule(raw, i, vocab, path)
        if rule.id in seen:
            raise RuleError(f"{path}：规则编号 {rule.id} 重复。", f"{path}: duplicate rule id {rule.id}")
        seen.add(rule.id)
        rules.append(rule)
    cat = doc.get("catalogue") or {}
    return RuleSet(
        rules=rules,
        types=vocab,
        catalogue_id=str(cat.get("id", path.stem)),
        sha256=hashlib.sha256(data).hexdigest(),
        path=path,
        version=str(cat.get("version", "")),
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _parse_rule(raw: Any, i: int, vocab: ProjectTypes, path: Path) -> Rule:
    where_txt = f"{path.name} 第 {i} 条规则"
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where_txt}应为映射（键: 值）。", f"{path.name} rule {i} must be a mapping")
    rid = str(raw.get("id") or "")
    label = f"{path.name} 规则 {rid or '#' + str(i)}"
    if not rid:
        raise RuleError(f"{where_txt}缺少 id。", f"{path.name} rule {i} lacks an id")
    keys = _COMMON_KEYS | mode_keys()
    unknown = set(raw) - keys
    if unknown:
        raise RuleError(
            f"{label}：未知的键 {sorted(unknown)}；可用：{sorted(keys)}",
            f"{label}: unknown keys {sorted(unknown)}; valid: {sorted(keys)}",
        )
    layers = tuple(str(x) for x in _as_list(raw.get("layer")))
    bad_layers = [x for x in layers if x not in REGISTRY]
    if not layers or bad_layers:
        raise RuleError(
            f"{label}：图层 {bad_layers or '(缺失)'} 无效；可用：{', '.join(REGISTRY)}",
            f"{label}: invalid layer {bad_layers or '(missing)'}; valid: {', '.join(REGISTRY)}",
        )
    mode = str(raw.get("mode", "intersects"))
    if mode not in MODES:
        raise RuleError(f"{label}：mode '{mode}' 无效；可用：{', '.join(MODES)}", f"{label}: invalid mode '{mode}'; valid: {', '.join(MODES)}")
    params = dict(MODES[mode].validate(raw, layers, label))
    where: dict[str, tuple[str, ...]] = {}
    for fname, vals in (raw.get("where") or {}).items():
        where[str(fname)] = _where_values(label, layers, str(fname), _as_list(vals))
    verdict = str(raw.get("verdict", ""))
    try:
        verdict = VERDICTS[verdict_rank(verdict)]
    except RuleError as exc:
        raise RuleError(f"{label}：{exc.zh}", f"{label}: {exc.en}") from exc
    applies = vocab.expand([str(x) for x in _as_list(raw.get("applies_to", "all"))], where=f"{label} applies_to：")
    excepted = vocab.expand([str(x) for x in _as_list(raw.get("except"))], where=f"{label} except：")
    by_type_raw = raw.get("by_type") or {}
    if not isinstance(by_type_raw, Mapping):
        raise RuleError(f"{label}：by_type 应为 类型: 结论 的映射。", f"{label}: by_type must map type: verdict")
    by_type: dict[str, str] = {}
    for t, v in by_type_raw.items():
        for canon in vocab.expand([str(t)], where=f"{label} by_type："):
            by_type[canon] = VERDICTS[verdict_rank(str(v))]
    type_verdicts = {t: _type_verdict(vocab, t, applies, excepted, by_type, verdict) for t in vocab.names}
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
        basis=str(raw.get("basis", "")),
        params=params,
    )


def _type_verdict(
    vocab: ProjectTypes, t: str, applies: set[str], excepted: set[str], by_type: dict[str, str], verdict: str
) -> str | None:
    """by_type (most specific) beats except, which beats applies_to."""
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
    out: list[str] = []
    for layer in layers:
        spec = REGISTRY[layer]
        if fname not in spec.field_names:
            raise RuleError(
                f"{label}：图层 {layer} 没有字段 {fname}；可用：{', '.join(spec.field_names)}",
                f"{label}: layer {layer} has no field {fname}; valid: {', '.join(spec.field_names)}",
            )
        f = spec.field(fname)
        if f.kind != "enum":
            out.extend(str(v) for v in vals)
            continue
        table = f.lookup()
        for v in vals:
            canon = table.get(clean_key(v))
            if canon is None:
                raise RuleError(
                    f"{label}：{layer}.{fname} 的取值 '{v}' 无效；可用：{', '.join(f.values)}",
                    f"{label}: invalid value '{v}' for {layer}.{fname}; valid: {', '.join(f.values)}",
                )
            out.append(canon)
    return tuple(dict.fromkeys(out))
