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

__all__ = ["features_per_site", "summaries", "layer_status", "STATUS_COLUMNS"]

#: Columns of :func:`layer_status`.
STATUS_COLUMNS = ["site_id", "layer", "label_zh", "involved", "features", "status_zh", "concern"]


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


def layer_status(site_ids: np.ndarray, touch: dict[str, pd.DataFrame], present: list[str]) -> pd.DataFrame:
    """Site x layer 涉及/不涉及 table for every listed layer present.

    Parameters
    ----------
    site_ids : ndarray
        Site ids in row order.
    touch : dict
        Layer -> touched (feature, site) pairs with ``label``.
    present : list of str
        Layers in the zoning.

    Returns
    -------
    DataFrame
        :data:`STATUS_COLUMNS`.
    """
    rows = []
    for layer in status_layers():
        if layer not in present:
            continue
        feats = features_per_site(touch.get(layer), len(site_ids))
        involved = feats != ""
        spec = REGISTRY[layer]
        rows.append(
            pd.DataFrame(
                {
                    "site_id": site_ids,
                    "layer": layer,
                    "label_zh": spec.label_zh,
                    "involved": involved,
                    "features": feats,
                    "status_zh": np.where(involved, *spec.status_words),
                    # Inside the development boundary or a park is where a project belongs: no red 涉及.
                    "concern": involved & spec.status_concern,
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=STATUS_COLUMNS)
    return pd.concat(rows, ignore_index=True)


def summaries(n: int, rank: np.ndarray, hits: pd.DataFrame, rule_ids: list[str], touch: dict[str, pd.DataFrame], present: list[str]) -> np.ndarray:
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

    Returns
    -------
    ndarray of object
        One sentence per site.
    """
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
        if layer not in present:
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
    codes, inverse = np.unique(missing, return_inverse=True)
    table = np.array(
        ["不涉及" + "、".join(lab for j, lab in enumerate(labels) if c >> j & 1) + "。" if c else "" for c in codes], dtype=object
    )
    idx = np.flatnonzero(units != "")
    units[idx] = "所在管控单元：" + units[idx] + "。"
    # One pass joining the parts (each part was built only where it is not empty).
    return np.array(["".join(p) for p in zip(head, inv_text, table[inverse], located, units, strict=True)], dtype=object)
