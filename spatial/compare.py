"""What-if: the same sites screened under two zonings and/or two catalogues.

Both screenings run through :func:`spatial.screen`.  A site is listed
when its verdict changes or when its findings do (a rule hit on a feature
appears or disappears); the removed and added findings are the cause.  When
the zonings differ, the red-line change is audited with
:func:`spatial.diff.diff_layers` so the two read as one statement: "this
adjustment removes X km² and turns N projects from 禁止 to 符合".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.project_types import VERDICT_RANK, VERDICT_ZH
from spatial.rules import RuleSet
from spatial.screening import ScreeningResult, screen
from spatial.site_options import SiteOptions
from spatial.zoning import Zoning

__all__ = ["Comparison", "compare", "compare_results", "CHANGE_COLUMNS"]

CHANGE_COLUMNS = [
    "site_id", "name", "project_type", "verdict_before", "verdict_before_zh", "verdict_after", "verdict_after_zh",
    "change", "change_zh", "rules_removed", "rules_added", "findings_removed", "findings_added", "cause_zh",
]  # fmt: skip
_CHANGE_ZH = {"better": "改善", "worse": "变严", "findings": "结论不变、依据变化"}


@dataclass
class Comparison:
    """Outcome of :func:`compare`.

    Attributes
    ----------
    changes : GeoDataFrame
        :data:`CHANGE_COLUMNS` and the site geometry (zoning CRS of "after"),
        one row per site whose verdict or findings change.
    before, after : ScreeningResult
        The two screenings.
    redline : DiffResult or None
        Red-line change audit when the zonings differ.
    summary_zh : str
        The one-paragraph statement.
    transitions : DataFrame
        ``verdict_before``, ``verdict_after``, ``n`` for every pair that occurs.
    """

    changes: gpd.GeoDataFrame
    before: ScreeningResult
    after: ScreeningResult
    redline: Any = None
    summary_zh: str = ""
    transitions: pd.DataFrame = field(default_factory=pd.DataFrame)


def _keyed_hits(result: ScreeningResult) -> pd.DataFrame:
    """Hits keyed by site, rule, layer and feature, with a readable label."""
    h = pd.DataFrame(result.hits[["site_id", "rule_id", "layer", "feature_id", "feature_name", "verdict", "distance_m"]]).copy()
    for c in ("site_id", "rule_id", "layer", "feature_id", "feature_name"):
        h[c] = h[c].astype(str)
    name = h["feature_name"].where(h["feature_name"] != "", h["feature_id"])
    h["label"] = h["rule_id"] + "（" + name + "，" + h["verdict"].map(VERDICT_ZH).astype(str) + "）"
    return h.drop_duplicates(["site_id", "rule_id", "layer", "feature_id"])


def _join(frame: pd.DataFrame, col: str, ids: pd.Index) -> pd.Series:
    """``col`` values per site joined with 、 (empty string where none)."""
    if not len(frame):
        return pd.Series("", index=ids, dtype=object)
    joined = frame.groupby("site_id", sort=False)[col].agg(lambda s: "、".join(dict.fromkeys(s)))
    return joined.reindex(ids).fillna("").astype(object)


def compare(
    sites: gpd.GeoDataFrame | str | os.PathLike[str],
    zonings: tuple[Zoning, Zoning],
    rulesets: tuple[RuleSet, RuleSet],
    options: SiteOptions | None = None,
    *,
    audit_redline: bool = True,
    **site_options: Any,
) -> Comparison:
    """Screen ``sites`` before and after, and list what changes and why.

    Parameters
    ----------
    sites : GeoDataFrame or path-like
        Sites, as for :func:`spatial.screen`.
    zonings : (Zoning, Zoning)
        Before and after (the same object twice to compare catalogues only).
    rulesets : (RuleSet, RuleSet)
        Before and after catalogues.
    options : SiteOptions, optional
        How to read the sites, as for :func:`spatial.screen`.
    audit_redline : bool, default True
        Audit the red-line change when the zonings differ.
    **site_options
        Fields of :class:`~spatial.site_options.SiteOptions` given directly.

    Returns
    -------
    Comparison
        Changed sites, both screenings, the red-line audit and the summary.
    """
    opts = SiteOptions.of(options, **site_options)
    before = screen(sites, zonings[0], rulesets[0], opts)
    after = screen(sites, zonings[1], rulesets[1], opts)
    return compare_results(before, after, zonings, audit_redline=audit_redline)


def compare_results(before: ScreeningResult, after: ScreeningResult, zonings: tuple[Zoning, Zoning], *, audit_redline: bool = True) -> Comparison:
    """List what changes between two screenings of the same sites, and why.

    Parameters
    ----------
    before, after : ScreeningResult
        The same sites screened before and after.
    zonings : (Zoning, Zoning)
        The zonings they were screened against (the same object twice when only the catalogue changed).
    audit_redline : bool, default True
        Audit the red-line change when the zonings differ.

    Returns
    -------
    Comparison
        Changed sites, both screenings, the red-line audit and the summary.
    """
    a = after.sites.set_index(after.sites["site_id"].astype(str))
    b = before.sites.set_index(before.sites["site_id"].astype(str)).reindex(a.index)
    hb, ha = _keyed_hits(before), _keyed_hits(after)
    key = ["site_id", "rule_id", "layer", "feature_id"]
    merged = hb.merge(ha, on=key, how="outer", suffixes=("_b", "_a"), indicator=True)
    removed = merged[merged["_merge"] == "left_only"].rename(columns={"label_b": "label"})
    added = merged[merged["_merge"] == "right_only"].rename(columns={"label_a": "label"})
    ids = a.index
    vb, va = b["verdict"].astype(str), a["verdict"].astype(str)
    rank_b, rank_a = vb.map(VERDICT_RANK).to_numpy(), va.map(VERDICT_RANK).to_numpy()
    touched = ids.isin(removed["site_id"]) | ids.isin(added["site_id"])
    changed = (rank_a != rank_b) | touched
    out = pd.DataFrame(index=ids)
    out["site_id"] = ids
    out["name"] = a["name"] if "name" in a else ""
    out["project_type"] = a["project_type"]
    out["verdict_before"], out["verdict_after"] = vb, va
    out["verdict_before_zh"], out["verdict_after_zh"] = vb.map(VERDICT_ZH), va.map(VERDICT_ZH)
    out["change"] = np.where(rank_a < rank_b, "better", np.where(rank_a > rank_b, "worse", "findings"))
    out["change_zh"] = out["change"].map(_CHANGE_ZH)
    out["rules_removed"] = _join(removed, "rule_id", ids)
    out["rules_added"] = _join(added, "rule_id", ids)
    out["findings_removed"] = _join(removed, "label", ids)
    out["findings_added"] = _join(added, "label", ids)
    cause = np.where(out["findings_removed"] != "", "不再涉及：" + out["findings_removed"], "")
    plus = np.where(out["findings_added"] != "", "新增涉及：" + out["findings_added"], "")
    out["cause_zh"] = [("；".join(p for p in pair if p)) for pair in zip(cause, plus, strict=True)]
    out = out[changed]
    changes = gpd.GeoDataFrame(out[CHANGE_COLUMNS].reset_index(drop=True), geometry=list(a.geometry.values[changed]), crs=after.sites.crs)
    trans = (
        changes.groupby(["verdict_before", "verdict_after"], sort=False).size().rename("n").reset_index()
        if len(changes)
        else pd.DataFrame(columns=["verdict_before", "verdict_after", "n"])
    )
    red = None
    if audit_redline and zonings[0] is not zonings[1] and "redline" in zonings[0].layers and "redline" in zonings[1].layers:
        from spatial.diff import diff_layers

        red = diff_layers(zonings[0], zonings[1], "redline")
    return Comparison(changes, before, after, red, _summary(changes, trans, red, len(ids)), trans)


def _summary(changes: pd.DataFrame, trans: pd.DataFrame, red: Any, n_sites: int) -> str:
    """Write the paragraph: red-line change, then how many projects move between verdicts."""
    parts = []
    if red is not None:
        parts.append(
            f"本次调整生态保护红线调出 {red.removed_m2 / 1e6:.4f} km²、调入 {red.added_m2 / 1e6:.4f} km²"
            f"（净变化 {red.net_m2 / 1e6:+.4f} km²，{'面积不减少' if red.area_not_reduced else '面积减少'}）"
        )
    moves = [
        f"{int(r.n)} 个项目由{VERDICT_ZH[r.verdict_before]}变为{VERDICT_ZH[r.verdict_after]}"
        for r in trans.itertuples()
        if r.verdict_before != r.verdict_after
    ]
    same = int((changes["change"] == "findings").sum()) if len(changes) else 0
    text = "，".join(parts)
    if moves:
        text += ("，使" if text else "") + "、".join(moves)
    elif not text:
        text = "两种方案下"
    text += f"；{same} 个项目结论不变但依据变化；共筛查 {n_sites} 个项目，{len(changes)} 个有变化。"
    return text
