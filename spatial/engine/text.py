"""The Chinese result text: one summary sentence per site and the 涉及/不涉及 table.

Which layers are listed, in which order and under which name comes from
the layer registry (:func:`layers.status_layers`, ``LayerSpec.label_zh``
and ``LayerSpec.summary``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers import REGISTRY, status_layers
from spatial.project_types import VERDICT_RANK, VERDICT_ZH, VERDICTS

__all__ = ["features_per_site", "summaries", "layer_status", "outside_shares", "STATUS_COLUMNS", "GAP_ZH", "OFF_MAP_ZH"]

#: Columns of :func:`layer_status` (``checked``: False where the package cannot answer: 待核实).
STATUS_COLUMNS = ["site_id", "layer", "label_zh", "involved", "features", "status_zh", "concern", "checked"]
#: Status of a layer the package lacks, by gap (see :func:`spatial.engine.coverage.package_gaps`).
GAP_ZH = {"absent": "待核实（未提供数据）", "empty": "待核实（图层为空）", "no_list": "待核实（未附准入清单）"}
#: A site wholly outside the package.
OFF_MAP_ZH = "待核实（不在分区数据范围内）"


def outside_shares(pairs: pd.DataFrame | None, n: int) -> np.ndarray:
    """Per site, the share (0–1) outside the package boundary.

    Parameters
    ----------
    pairs : DataFrame or None
        The ``_outside`` touched pairs (``s``, ``share``).
    n : int
        Number of sites.

    Returns
    -------
    ndarray of float
        0 for sites wholly inside.
    """
    out = np.zeros(n)
    if pairs is not None and len(pairs):
        out[pairs["s"].to_numpy(np.int64)] = pairs["share"].to_numpy(float)
    return out


def _part_outside(share: np.ndarray) -> np.ndarray:
    """"（另有 xx% 在分区数据范围外，待核实）" for partly outside sites ('' elsewhere)."""
    txt = np.full(len(share), "", dtype=object)
    part = (share > 0) & (share < 1)
    txt[part] = np.char.add(np.char.add("（另有", np.char.mod("%.1f%%", 100.0 * share[part])), "在分区数据范围外，待核实）").astype(object)
    return txt


def features_per_site(pairs: pd.DataFrame | None, n: int, column: str = "label") -> np.ndarray:
    """Distinct labels joined with '、' per site, in row order ('' where none).

    Vectorised: rows are grouped by a stable sort on the site index, repeats
    dropped, and the k-th label of every site appended in one array
    operation per k.

    Parameters
    ----------
    pairs : DataFrame or None
        Rows with a site index ``s`` and ``column``.
    n : int
        Number of sites.
    column : str, default 'label'
        Column to join.

    Returns
    -------
    ndarray of object
        One string per site.
    """
    out = np.full(n, "", dtype=object)
    if pairs is None or not len(pairs):
        return out
    site = pairs["s"].to_numpy(np.int64)
    label = pairs[column].to_numpy(dtype=object)
    if len(site) > 1 and (site[1:] < site[:-1]).any():  # canonical tables are sorted already
        order = np.argsort(site, kind="stable")
        site, label = site[order], label[order]
    if len(site) > 1 and (site[1:] == site[:-1]).any():  # a site with several rows: drop repeated labels
        keep = ~pd.DataFrame({"s": site, "l": label}).duplicated().to_numpy()
        site, label = site[keep], label[keep]
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    rank = np.arange(len(site)) - np.repeat(starts, np.diff(np.r_[starts, len(site)]))
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(rank))]
    for k in range(len(bounds) - 1):  # one pass per label position (a handful), not per site
        idx = by_rank[bounds[k] : bounds[k + 1]]
        out[site[idx]] = label[idx] if k == 0 else out[site[idx]] + "、" + label[idx]
    return out


def layer_status(
    site_ids: np.ndarray, touch: dict[str, pd.DataFrame], present: list[str], gaps: dict[str, str] | None = None
) -> pd.DataFrame:
    """Site x layer 涉及/不涉及 table for every listed layer present, 待核实 where the package cannot tell.

    A layer in ``gaps`` (absent, empty, no 准入清单) is 待核实 for every site;
    a site wholly outside the package boundary is 待核实 for every layer it
    does not touch, and one partly outside is 不涉及 only for the part inside.

    Parameters
    ----------
    site_ids : ndarray
        Site ids in row order.
    touch : dict
        Layer -> touched (feature, site) pairs with ``label``.
    present : list of str
        Layers in the zoning.
    gaps : dict, optional
        Layer -> gap the package has (absent, empty, no_list).

    Returns
    -------
    DataFrame
        :data:`STATUS_COLUMNS`.
    """
    gaps = gaps or {}
    n = len(site_ids)
    share = outside_shares(touch.get("_outside"), n)
    off = share >= 1.0
    part = _part_outside(share)
    rows: list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for layer in status_layers():
        spec = REGISTRY[layer]
        if layer in gaps:
            feats = features_per_site(touch.get(layer), n) if layer in present else np.full(n, "", dtype=object)
            involved = feats != ""
            status = np.where(involved, spec.status_words[0] + "；" + GAP_ZH[gaps[layer]], GAP_ZH[gaps[layer]])
            checked = np.zeros(n, dtype=bool)
        elif layer in present:
            feats = features_per_site(touch.get(layer), n)
            involved = feats != ""
            status = np.where(involved, *spec.status_words).astype(object)
            status[off & ~involved] = OFF_MAP_ZH
            status[~off & ~involved] = status[~off & ~involved] + part[~off & ~involved]
            checked = involved | (share <= 0)
        else:
            continue
        # Inside the development boundary or a park is where a project belongs: no red 涉及.
        rows.append((layer, spec.label_zh, involved, feats, status, involved & spec.status_concern, checked))
    if not rows:
        return pd.DataFrame(columns=STATUS_COLUMNS)
    # One frame for all layers (layer-major, site order within a layer): built once, not per layer.
    k = len(rows)
    return pd.DataFrame(
        {
            "site_id": np.tile(np.asarray(site_ids), k),
            "layer": pd.array(np.repeat(np.array([r[0] for r in rows], dtype=object), n), dtype=str),
            "label_zh": pd.array(np.repeat(np.array([r[1] for r in rows], dtype=object), n), dtype=str),
            "involved": np.concatenate([r[2] for r in rows]),
            "features": np.concatenate([np.asarray(r[3], dtype=object) for r in rows]),
            "status_zh": np.concatenate([np.asarray(r[4], dtype=object) for r in rows]),
            "concern": np.concatenate([r[5] for r in rows]),
            "checked": np.concatenate([r[6] for r in rows]),
        }
    )


def summaries(
    n: int,
    rank: np.ndarray,
    hits: pd.DataFrame,
    rule_ids: list[str],
    touch: dict[str, pd.DataFrame],
    present: list[str],
    gaps: dict[str, str] | None = None,
) -> np.ndarray:
    """One Chinese sentence per site: verdict, rules, 涉及 and 不涉及 layers, its unit.

    String work is done only on the sites concerned; the 不涉及 list depends
    only on which layers a site misses, so it comes from a small table.

    Parameters
    ----------
    n : int
        Number of sites.
    rank : ndarray
        Worst verdict rank per site.
    hits : DataFrame
        Coded hits (``s``, ``k``, ``v``), site order.
    rule_ids : list of str
        Rule id of each rule-table index ``k``.
    touch : dict
        Layer -> touched pairs with ``label``.
    present : list of str
        Layers in the zoning.
    gaps : dict, optional
        Layer -> gap of the package (absent, empty, no_list): named as missing, never 不涉及.

    Returns
    -------
    ndarray of object
        One sentence per site.
    """
    gaps = gaps or {}
    share = outside_shares(touch.get("_outside"), n)
    off = share >= 1.0
    head = np.array([VERDICT_ZH[v] + "。" for v in VERDICTS], dtype=object)[rank]
    if len(hits):
        bad = hits["v"].to_numpy() > VERDICT_RANK["compatible"]
        ids = np.array(rule_ids, dtype=object)
        bad_rules = pd.DataFrame({"s": hits["s"].to_numpy()[bad], "rule_id": pd.Series(ids[hits["k"].to_numpy()[bad]], dtype=object)})
        joined = features_per_site(bad_rules, n, "rule_id")
        idx = np.flatnonzero(joined != "")
        head[idx] = np.array([VERDICT_ZH[v] for v in VERDICTS], dtype=object)[rank[idx]] + "（" + joined[idx] + "）。"
    involved = np.full(n, None, dtype=object)
    missing = np.zeros(n, dtype=np.int64)
    labels: list[str] = []
    units = np.full(n, "", dtype=object)
    located = np.full(n, "", dtype=object)
    for layer in status_layers():
        if layer not in present or layer in gaps:
            continue
        feats = features_per_site(touch.get(layer), n)
        spec = REGISTRY[layer]
        if not spec.status_concern:  # "位于城镇开发边界内（…）。" / "位于城镇开发边界外。"
            inside = feats != ""
            located[inside] += spec.status_words[0] + "（" + feats[inside] + "）。"
            located[~inside] += spec.status_words[1] + "。"
            continue
        if spec.summary == "unit":
            idx = np.flatnonzero(feats != "")
            units[idx] = np.where(units[idx] != "", units[idx] + "、", "") + feats[idx]
            continue
        label = REGISTRY[layer].label_zh
        has = feats != ""
        missing[~has] |= 1 << len(labels)
        labels.append(label)
        idx = np.flatnonzero(has)
        piece = label + "（" + feats[idx] + "）"
        prev = involved[idx]
        more = prev != None  # noqa: E711 - elementwise on an object array
        piece[more] = prev[more] + "；" + piece[more]
        involved[idx] = piece
    inv_text = np.full(n, "", dtype=object)
    idx = np.flatnonzero(involved != None)  # noqa: E711
    inv_text[idx] = "涉及" + involved[idx] + "。"
    missing[off] = 0  # wholly outside the package: nothing can be said 不涉及
    located[off] = ""  # nor 位于开发边界外 / 不在产业园区内
    codes, inverse = np.unique(missing, return_inverse=True)
    table = np.array(
        ["不涉及" + "、".join(lab for j, lab in enumerate(labels) if c >> j & 1) + "。" if c else "" for c in codes], dtype=object
    )
    table = table[inverse]
    part = _part_outside(share)
    idx = np.flatnonzero((table != "") & (part != ""))
    table[idx] = "分区数据范围内" + np.char.rstrip(table[idx].astype(str), "。").astype(object) + part[idx] + "。"
    gap_text = "" if not gaps else "未提供或缺少：" + "、".join(_gap_label(g, s) for g, s in gaps.items()) + "，相应管控无法判断。"
    cover = np.full(n, gap_text, dtype=object)
    cover[off] = "地块不在分区数据范围内，各项管控均未核查。"
    idx = np.flatnonzero(units != "")
    units[idx] = "所在管控单元：" + units[idx] + "。"
    # One pass joining the parts (each part was built only where it is not empty).
    return np.array(["".join(p) for p in zip(head, inv_text, table, located, units, cover, strict=True)], dtype=object)


def _gap_label(layer: str, state: str) -> str:
    """Chinese name of a gap: the layer, or its 准入清单."""
    label = REGISTRY[layer].label_zh if layer in REGISTRY else layer
    return f"{label}准入清单" if state == "no_list" else (f"{label}（图层为空）" if state == "empty" else f"{label}数据")
