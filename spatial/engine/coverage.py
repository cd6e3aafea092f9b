"""Coverage: what the package cannot tell, as findings like any hit.

A verdict of 符合 says every control that applies was checked.  This stage
makes the gaps visible as coded ``notice`` (待核实) rows that join the normal
hits, so every output shows them without special-casing:

* ``COV-<layer>``: a layer the screening needs (a standard layer, or one an
  effective rule reads for the site's type) is absent or empty, the control
  units carry no 准入清单, or the site lies partly outside the layer's stated
  coverage (manifest ``coverage:``);
* ``ZONE-<layer>-<kind>``: the site lies in a zone for which no rule is
  loaded in this jurisdiction (管控要求以所在地市生态环境分区管控方案为准（未载入））;
* the share of each site outside the package boundary (``_outside`` pairs),
  so no 不涉及 is said for that part (the catalogue's ``OUTSIDE`` rule gives
  its finding).

The rules are synthesised once per run (:func:`with_coverage`) and appended
to the rule set; :func:`coverage_rows` turns them into coded hits in bulk
array operations (no loop over sites).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers import REGISTRY
from spatial.completeness import gap_labels, package_gaps, standard_layers
from spatial.engine.prepared import PreparedZoning
from spatial.engine.queries import TOUCH_M, obj
from spatial.project_types import VERDICT_RANK
from spatial.rules import Rule, RuleSet
from spatial.sources import Ref
from spatial.zoning import Zoning

__all__ = [
    "with_coverage", "coverage_rows", "outside_share", "standard_layers", "package_gaps", "is_coverage_rule", "coverage_lines",
    "run_coverage", "gap_labels",
    "COVERAGE_PREFIX", "ZONE_PREFIX", "OUTSIDE_KEY", "UNLOADED_ZH",
]  # fmt: skip

#: Rule-id prefix of the coverage findings (missing, empty or partial layer).
COVERAGE_PREFIX = "COV-"
#: Rule-id prefix of zones with no rule loaded in the jurisdiction.
ZONE_PREFIX = "ZONE-"
#: Key of the touched-pairs table holding each site's share outside the boundary.
OUTSIDE_KEY = "_outside"
#: What a zone without loaded requirements is told.
UNLOADED_ZH = "管控要求以所在地市生态环境分区管控方案为准（未载入）"
_REF = Ref(source="ecozone-default", at="数据完整性")
_EPS = 1e-9


def is_coverage_rule(rule: Rule) -> bool:
    """Return whether ``rule`` was synthesised by this stage.

    Parameters
    ----------
    rule : Rule
        A rule.

    Returns
    -------
    bool
        True for ``COV-`` and ``ZONE-`` rules.
    """
    return "coverage" in rule.params


def _gap_zh(layer: str, state: str) -> str:
    label = REGISTRY[layer].label_zh
    if state == "no_list":
        return f"{label}数据未附生态环境准入清单（禁止类、管控要求均为空）"
    if state == "empty":
        return f"{label}图层为空（0 个要素）"
    if state == "limited":
        return f"{label}数据仅覆盖部分范围"
    return f"未提供{label}数据"


def _readers(rules: RuleSet) -> dict[str, list[Rule]]:
    """Layer -> the effective rules that read it (boundary excluded)."""
    out: dict[str, list[Rule]] = {}
    for rule in rules:
        if is_coverage_rule(rule):
            continue
        for layer in rule.layers:
            if layer != "boundary":
                out.setdefault(layer, []).append(rule)
    return out


def _types_of(rules: list[Rule], names: tuple[str, ...] | list[str]) -> dict[str, str | None]:
    """Type -> notice where any of ``rules`` applies to the type (None elsewhere)."""
    return {t: ("notice" if any(r.type_verdicts.get(t) is not None for r in rules) else None) for t in names}


def _unruled(layer: str, frame: pd.DataFrame, readers: list[Rule]) -> list[tuple[str, str, np.ndarray]]:
    """Features of ``layer`` whose kind no effective rule reads, grouped by kind.

    The kind is the layer's ``class_field`` (an element zone's 大气/水/土壤, a
    corridor's kind): a rule reads a kind when its ``where`` does not restrict
    that field or names the value.  A layer without a class field is read as a
    whole as soon as one rule reads it.

    Returns
    -------
    list of (id suffix, Chinese kind, feature mask)
        One entry per kind with unread features.
    """
    spec = REGISTRY[layer]
    cf = spec.class_field if spec.class_field and spec.class_field in frame else None
    if cf is None:
        if readers:
            return []
        return [("", spec.label_zh, np.ones(len(frame), dtype=bool))]
    values = frame[cf].astype("string").fillna("").to_numpy(dtype=object)
    if any(cf not in r.where for r in readers):
        return []
    read = {v for r in readers for v in r.where[cf]}
    field_spec = next((f for f in spec.fields if f.name == cf), None)
    out = []
    for value in sorted(set(values) - read):
        zh = (field_spec.values.get(value) or (value,))[0] if field_spec is not None and value else (value or "未分类")
        out.append((value or "unclassified", f"{field_spec.label_zh if field_spec else cf}：{zh}", values == value))
    return out


def _has_coast(zoning: Zoning) -> bool:
    """Whether the package has a coast: a non-empty coastal layer (海岸线, 陆海分区, 海域单元).

    A marine red line alone does not count (packages made before the coast layers carry one).
    """
    return any(n in REGISTRY and REGISTRY[n].coastal and len(f) for n, f in zoning.layers.items())


def with_coverage(rules: RuleSet, zoning: Zoning) -> RuleSet:
    """Append the coverage rules for this package to ``rules`` (idempotent).

    Parameters
    ----------
    rules : RuleSet
        Effective rules for the package's jurisdiction.
    zoning : Zoning
        Loaded package.

    Returns
    -------
    RuleSet
        A copy with ``COV-`` and ``ZONE-`` rules appended (the same object if
        it has them already).
    """
    if rules.extra.get("coverage_for") == id(zoning):
        return rules
    base = [r for r in rules if not is_coverage_rule(r)]
    readers = _readers(rules)
    names = tuple(rules.types.names)
    registry = rules.registry
    basis = registry.cite_all((_REF,)) if registry is not None and _REF.source in registry.sources else "ecozone：无数据不得判为符合"
    extents = getattr(zoning, "coverage", {}) or {}
    needed = [*standard_layers(), *(n for n in readers if n not in REGISTRY or not REGISTRY[n].standard)]
    if not _has_coast(zoning):  # an inland county is not asked for its shoreline or sea units
        needed = [n for n in needed if n not in REGISTRY or not REGISTRY[n].coastal]
    gaps = package_gaps(zoning, [n for n in needed if n in REGISTRY])
    made: list[Rule] = []

    def rule(rid: str, layer: str, verdicts: dict[str, str | None], message: str, params: dict[str, Any]) -> Rule:
        return Rule(
            id=rid, layers=(layer,), where={}, mode="intersects", buffer_m=None, distance_m=None, type_verdicts=verdicts,
            verdict="notice", message_zh=message, message_en="", basis=basis, refs=(_REF,), level="custom",
            catalogue="ecozone coverage", params={"coverage": params.pop("kind"), **params},
        )  # fmt: skip

    for layer in needed:
        if layer not in REGISTRY:
            continue
        spec = REGISTRY[layer]
        blocked = [r.id for r in readers.get(layer, [])]
        verdicts = {t: "notice" for t in names} if spec.standard else _types_of(readers.get(layer, []), names)
        if not any(verdicts.values()):
            continue
        what = "、".join(blocked) if blocked else "（本辖区无规则读取此图层，仍属每次筛查必查图层）"
        state = gaps.get(layer)
        if state is not None:
            fix = "生态环境准入清单" if state == "no_list" else f"{spec.label_zh}数据"
            msg = f"{_gap_zh(layer, state)}，无法判断是否涉及{spec.label_zh}及其管控要求（受影响规则：{what}）。须补充{fix}后核实。"
            made.append(rule(f"{COVERAGE_PREFIX}{layer}", layer, verdicts, msg, {"kind": state}))
        elif layer in extents:
            msg = (
                f"{_gap_zh(layer, 'limited')}，地块位于其数据覆盖范围外的部分无法判断是否涉及{spec.label_zh}"
                f"（受影响规则：{what}）。须补充覆盖范围外的{spec.label_zh}数据后核实。"
            )
            made.append(rule(f"{COVERAGE_PREFIX}{layer}", layer, verdicts, msg, {"kind": "limited", "extent": extents[layer]}))
    # Zones (any kind) no effective rule reads here: their requirements are not loaded in this jurisdiction.
    for layer, frame in zoning.layers.items():
        if layer == "boundary" or layer not in REGISTRY or not len(frame):
            continue
        label = REGISTRY[layer].label_zh
        for suffix, kind_zh, mask in _unruled(layer, frame, readers.get(layer, [])):
            rid = f"{ZONE_PREFIX}{layer}" + (f"-{suffix}" if suffix else "")
            msg = f"位于{label}（{kind_zh}）内，本辖区未载入该类分区的管控要求：{UNLOADED_ZH}，待核实。"
            made.append(rule(rid, layer, {t: "notice" for t in names}, msg, {"kind": "zone", "features": mask}))
    extra = {**rules.extra, "coverage_for": id(zoning), "coverage_gaps": gaps}
    return replace(rules, rules=[*base, *made], extra=extra)


def outside_share(sg: np.ndarray, boundary: shapely.Geometry) -> np.ndarray:
    """Share (0–1) of each site outside the package boundary (area, length, or the point).

    Parameters
    ----------
    sg : ndarray
        Site geometries (working CRS).
    boundary : shapely.Geometry
        Prepared union of the boundary.

    Returns
    -------
    ndarray of float
        0 where the site lies inside (within 1 mm), 1 where wholly outside.
    """
    return _share_outside(sg, boundary)


def _share_outside(sg: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    share = np.zeros(len(sg))
    if not len(sg):
        return share
    shapely.prepare(area)
    cand = np.flatnonzero(~shapely.covers(area, sg))
    if not len(cand):
        return share
    g = sg[cand]
    dim = shapely.get_dimensions(g)
    part = np.full(len(g), None, dtype=object)
    part[dim > 0] = shapely.difference(g[dim > 0], area)
    val = np.where(dim == 0, (shapely.distance(area, g) > TOUCH_M).astype(float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        poly, line = dim == 2, dim == 1
        out_a, all_a = shapely.area(part[poly]), shapely.area(g[poly])
        val[poly] = np.where((out_a > TOUCH_M**2) & (all_a > 0), out_a / all_a, 0.0)
        out_l, all_l = shapely.length(part[line]), shapely.length(g[line])
        val[line] = np.where((out_l > TOUCH_M) & (all_l > 0), out_l / all_l, 0.0)
    share[cand] = np.clip(val, 0.0, 1.0)
    return share


def coverage_rows(
    sg: np.ndarray,
    types: tuple[np.ndarray, np.ndarray],
    prepared: PreparedZoning,
    table: list[tuple[Rule, str]],
    touch: dict[str, pd.DataFrame],
) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Coded hits of the coverage rules, and each site's share outside the boundary.

    Parameters
    ----------
    sg : ndarray
        Site geometries (working CRS).
    types : (ndarray, ndarray)
        Distinct site types and each site's index into them.
    prepared : PreparedZoning
        Prepared zoning.
    table : list of (Rule, str)
        The rule table (:func:`spatial.engine.evaluate.rule_table`) of rules
        holding the coverage rules (:func:`with_coverage`).
    touch : dict
        Layer -> touched (feature, site) pairs.

    Returns
    -------
    (list of DataFrame, DataFrame)
        Coded hit frames (``s``, ``k``, ``f``, ``v``, measurements, ``geometry``)
        and the ``_outside`` pairs (``s``, ``f`` = 0, ``share``) for sites with a part outside.
    """
    uniq, tcode = types
    n = len(sg)
    out_share = _share_outside(sg, prepared.boundary)
    outside = np.flatnonzero(out_share > _EPS)
    outside_pairs = pd.DataFrame({"s": outside.astype(np.int64), "f": np.zeros(len(outside), dtype=np.int64), "share": out_share[outside]})
    inside_any = out_share < 1.0 - _EPS
    frames: list[pd.DataFrame] = []
    for k, (rule, layer) in enumerate(table):
        if not is_coverage_rule(rule):
            continue
        per_type = np.array([VERDICT_RANK[v] if (v := rule.verdict_of(t)) is not None else -1 for t in uniq], dtype=np.int8)
        vrank = per_type[tcode] if n else np.zeros(0, dtype=np.int8)
        kind = rule.params["coverage"]
        cols: dict[str, Any] = {}
        if kind == "zone":
            pairs = touch.get(layer)
            if pairs is None or not len(pairs):
                continue
            f = pairs["f"].to_numpy()
            s = pairs["s"].to_numpy()
            keep = rule.params["features"][f] & (vrank[s] >= 0)
            sel = np.flatnonzero(keep)
            s, f = s[sel], f[sel]
            for c in ("overlap_m2", "overlap_pct", "length_m", "distance_m"):
                cols[c] = pairs[c].to_numpy()[sel] if c in pairs else np.full(len(sel), np.nan)
            geom = pairs["geometry"].to_numpy()[sel] if "geometry" in pairs else np.full(len(sel), None, dtype=object)
            inside = pairs["inside"].to_numpy()[sel] if "inside" in pairs else np.zeros(len(sel), dtype=bool)
        elif kind == "limited":
            extent = rule.params["extent"]
            cand = np.flatnonzero(inside_any & (vrank >= 0))
            share = _share_outside(sg[cand], extent)
            hit = share > _EPS
            s = cand[hit]
            f = np.full(len(s), -1, dtype=np.int64)
            cols["overlap_pct"] = 100.0 * share[hit]
            geom = sg[s].copy()  # the part beyond the stated coverage, to highlight
            dim = shapely.get_dimensions(geom) > 0
            geom[dim] = shapely.difference(geom[dim], extent)
            inside = np.zeros(len(s), dtype=bool)
        else:  # absent, empty, no list: every site with a part in the package
            s = np.flatnonzero(inside_any & (vrank >= 0))
            f = np.full(len(s), -1, dtype=np.int64)
            geom = sg[s].copy()  # the whole site is unchecked for this layer
            inside = np.zeros(len(s), dtype=bool)
        if not len(s):
            continue
        m = len(s)
        frame = pd.DataFrame(
            {
                "s": s.astype(np.int64), "k": np.full(m, k, dtype=np.int32), "f": f.astype(np.int64), "v": vrank[s],
                **{c: np.asarray(cols.get(c, np.full(m, np.nan)), dtype=float) for c in ("overlap_m2", "overlap_pct", "length_m", "distance_m")},
                "inside": inside.astype(bool),
            }
        )  # fmt: skip
        frame["geometry"] = obj(geom)
        frames.append(frame)
    return frames, outside_pairs


def coverage_lines(present: list[str], gaps: dict[str, str], share: np.ndarray, limited: dict[str, np.ndarray]) -> np.ndarray:
    """One coverage line per site: layers checked, missing, and the part outside the data.

    Parameters
    ----------
    present : list of str
        Non-empty layers of the package.
    gaps : dict
        Layer -> gap (:func:`package_gaps`).
    share : ndarray
        Per site, share (0–1) outside the package boundary.
    limited : dict
        Layer -> per-site % outside the layer's stated coverage (NaN: none).

    Returns
    -------
    ndarray of object
        E.g. ``已核查：生态保护红线、…；缺少：自然保护地（未提供）；12.5% 在分区数据范围外``.
    """
    n = len(share)
    checked = [REGISTRY[x].label_zh for x in REGISTRY if x in present and x != "boundary" and x not in gaps]
    head = "已核查：" + ("、".join(checked) if checked else "无")
    if gaps:
        head += "；缺少：" + "、".join(gap_labels(gaps)) + "（待核实）"
    out = np.full(n, head, dtype=object)
    part = (share > 0) & (share < 1)
    if part.any():
        out[part] = out[part] + np.char.add("；", np.char.mod("%.1f%% 在分区数据范围外（待核实）", 100.0 * share[part])).astype(object)
    off = share >= 1
    out[off] = "不在分区数据范围内（100% 在范围外）：各图层均未核查，待核实"
    for layer, pct in limited.items():
        idx = np.flatnonzero(~np.isnan(pct) & ~off)
        if len(idx):
            label = REGISTRY[layer].label_zh
            out[idx] = out[idx] + np.char.add(f"；{label}数据覆盖范围外 ", np.char.mod("%.1f%%（待核实）", pct[idx])).astype(object)
    return out


def run_coverage(present: list[str], gaps: dict[str, str], share: np.ndarray, *, demo: bool = False) -> dict[str, Any]:
    """Return the run-level coverage record (``audit["coverage"]``) with its one-line Chinese summary.

    Parameters
    ----------
    present : list of str
        Non-empty layers of the package.
    gaps : dict
        Layer -> gap (:func:`package_gaps`).
    share : ndarray
        Per site, share (0–1) outside the package boundary.
    demo : bool, default False
        The package is the bundled synthetic demo.

    Returns
    -------
    dict
        ``checked``, ``missing`` (layer names), ``missing_zh``, ``sites_outside``,
        ``sites_partly_outside``, ``demo`` and ``line_zh``.
    """
    checked = [x for x in REGISTRY if x in present and x != "boundary" and x not in gaps]
    off = int((share >= 1).sum())
    partly = int(((share > 0) & (share < 1)).sum())
    line = f"分区数据完整性：已核查 {len(checked)} 类图层（" + "、".join(REGISTRY[x].label_zh for x in checked) + "）"
    line += "；缺少 " + "、".join(gap_labels(gaps)) + "，相关结论为待核实" if gaps else "；标准图层齐全"
    if off or partly:
        line += f"；{off} 个地块不在分区数据范围内，{partly} 个地块部分在范围外"
    return {
        "checked": checked,
        "missing": list(gaps),
        "missing_zh": gap_labels(gaps),
        "sites_outside": off,
        "sites_partly_outside": partly,
        "demo": demo,
        "line_zh": line + "。",
    }
