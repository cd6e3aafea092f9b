"""Explain a rule set: for one project type, the effective rules with their level and sources."""

from __future__ import annotations

import pandas as pd

from layers import REGISTRY
from spatial.errors import RuleError
from spatial.project_types import VERDICT_EIA, VERDICT_RANK, VERDICT_ZH
from spatial.rules import LEVEL_ZH, Exemption, Rule, RuleSet

__all__ = ["explain_type", "EXPLAIN_COLUMNS"]

EXPLAIN_COLUMNS = [
    "rule_id", "level", "level_zh", "layer_zh", "where", "verdict", "verdict_zh", "verdict_eia",
    "exemption", "basis", "sources", "conditions_zh", "message_zh", "catalogue", "site", "clause",
]  # fmt: skip

#: What a conditional exemption's facet means, for the ``site`` column.
_FACET_ZH = {"line": "线状地块（管线、电缆）", "major": "国家重大项目（major_project=是）"}


#: What a mode's verdict depends on beyond the zone itself.
_UNIT_NOTE = {
    "unit_prohibited": "仅当所在管控单元准入清单的禁止类列有本类型（或其上级类型）时",
    "near": "仅对位于图层外、在规定距离内的地块",
    "setback": "仅对距控制区边界外缘不足规定距离的地块",
}


def _mode_note(rule: Rule) -> str:
    """Return what the rule's mode adds to its conditions (an overlay names the areas it needs or excludes)."""
    if rule.mode == "overlay":
        areas = "或".join(
            REGISTRY[layer].label_zh + ("（" + "；".join(f"{k}={'/'.join(v)}" for k, v in where.items()) + "）" if where else "")
            for layer, where in rule.params["areas"]
        )
        return ("仅当地块同时位于" if rule.params["overlay"] == "also_in" else "仅当地块不位于") + areas + "时"
    return _UNIT_NOTE.get(rule.mode, "")


def explain_type(rules: RuleSet, project_type: str) -> pd.DataFrame:
    """Effective rules for one project type, worst verdict first.

    Parameters
    ----------
    rules : RuleSet
        Rules resolved for a jurisdiction (:meth:`RuleSet.for_adcode`).
    project_type : str
        A type name or synonym (Chinese or English).

    Returns
    -------
    DataFrame
        :data:`EXPLAIN_COLUMNS`, one row per rule that concerns the type.

    Raises
    ------
    RuleError
        For an unknown type or a group (name one type).
    """
    canon = rules.types.resolve(project_type)
    if canon is None or canon in rules.types.groups:
        raise RuleError(
            f"未知或非单一的项目类型“{project_type}”；可用类型：{', '.join(rules.types.names)}",
            f"unknown project type '{project_type}' (or a group); valid: {', '.join(rules.types.names)}",
        )
    rows = []
    registry = rules.registry

    def clause(refs: tuple) -> str:
        """Quote each clause: 《title》article：“quote”."""
        if registry is None:
            return ""
        return "；".join(f"{registry.cite(r, with_status=False)}：“{q}”" for r in refs if (q := registry.quote(r)))

    for rule in rules:
        verdict = rule.type_verdicts.get(canon)
        if verdict is None:
            continue
        ex = rule.exemption_for(canon)
        variants = [("", verdict, ex)]
        for i in rule.facet_exemption.get(canon, ()):
            cond = rule.exemptions[i]
            variants.append(("、".join(_FACET_ZH.get(f, f) for f in cond.when), cond.verdict, cond))
        for site, verdict, ex in variants:
            rows.append(_row(rule, canon, site, verdict, ex, clause((ex or rule).refs)))
    frame = pd.DataFrame(rows, columns=EXPLAIN_COLUMNS)
    if len(frame):
        frame = frame.iloc[frame["verdict"].map(VERDICT_RANK).argsort(kind="stable")[::-1]].reset_index(drop=True)
    frame.attrs["project_type"] = canon
    return frame


def _row(rule: Rule, canon: str, site: str, verdict: str, ex: Exemption | None, clause: str) -> dict[str, object]:
    """One explain row: a rule's verdict for the type (on sites with ``site`` facets) and the clause it rests on."""
    return {
        "rule_id": rule.id,
        "level": rule.level,
        "level_zh": LEVEL_ZH[rule.level],
        "layer_zh": "、".join(REGISTRY[layer].label_zh for layer in rule.layers),
        "where": "；".join(f"{k}={'/'.join(v)}" for k, v in rule.where.items()),
        "verdict": verdict,
        "verdict_zh": VERDICT_ZH[verdict],
        "verdict_eia": VERDICT_EIA[verdict],
        "exemption": ex is not None,
        "basis": ex.basis if ex else rule.basis,
        "sources": "；".join(r.key for r in (ex.refs if ex else rule.refs)),
        "conditions_zh": "；".join(x for x in (ex.conditions_zh if ex else rule.conditions_zh, _mode_note(rule)) if x),
        "message_zh": rule.message_zh,
        "catalogue": rule.catalogue,
        "site": site,
        "clause": clause,
    }
