"""The :class:`ScreeningResult`: coded hits expanded into the tables users read.

Row order is canonical: sites as given; hits by site, then rule, then
feature; touched pairs by site then feature — so a chunked, threaded or
Dask run returns the same tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - registers pa.compute
import shapely

from layers.control_unit import DIMENSIONS
from spatial._version import __version__
from spatial.crs import describe_crs
from spatial.engine.coverage import OUTSIDE_KEY, coverage_lines, is_coverage_rule, run_coverage
from spatial.engine.evaluate import rule_table
from spatial.engine.prepared import PreparedZoning
from spatial.engine.queries import obj
from spatial.engine.text import layer_status, outside_shares, summaries
from spatial.project_types import VERDICT_EIA, VERDICT_ZH, VERDICTS, site_keys
from spatial.rules import LEVEL_ZH, RuleSet
from spatial.verdicts import annotate_hits
from spatial.zoning import DEMO_STAMP, Zoning, display_path, is_demo_zoning

__all__ = ["ScreeningResult", "assemble_result", "expand_hits", "HIT_COLUMNS", "SITE_COLUMNS"]

SITE_COLUMNS = ["site_id", "name", "project_type", "verdict", "verdict_zh", "verdict_eia", "n_hits", "summary_zh", "coverage_zh", "data_note"]
HIT_COLUMNS = [
    "site_id", "rule_id", "layer", "feature_id", "feature_name", "verdict", "verdict_eia", "level", "overlap_m2",
    "overlap_pct", "length_m", "distance_m", "basis", "sources", "exemption", "conditions_zh", "message_zh",
]  # fmt: skip


@dataclass
class ScreeningResult:
    """What :func:`spatial.screen` returns.

    Attributes
    ----------
    sites : GeoDataFrame
        One row per site: ``site_id``, ``name``, ``project_type``, ``verdict``,
        ``verdict_zh``, ``n_hits``, ``summary_zh``, ``area_m2``, ``length_m``
        and geometry in the working CRS.
    hits : DataFrame
        One row per site x rule x feature (:data:`HIT_COLUMNS` plus the
        overlap ``geometry`` for highlighting).
    zoning : Zoning
        The zoning used.
    rules : RuleSet
        The rules used.
    audit : dict
        Inputs, hashes, versions and timing for the report.
    """

    sites: gpd.GeoDataFrame
    hits: pd.DataFrame
    zoning: Zoning
    rules: RuleSet
    audit: dict[str, Any]
    _touch: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @cached_property
    def units(self) -> pd.DataFrame:
        """Control units touched per site, with their 准入清单 (information, no verdict)."""
        pairs = self._touch.get("control_unit")
        cols = ["site_id", "code", "name", "category", "prohibited", "requirements", *DIMENSIONS, "overlap_m2", "overlap_pct", "length_m"]
        if pairs is None or not len(pairs):
            return pd.DataFrame(columns=cols)
        ua = self.zoning["control_unit"]  # columns read by position: the whole layer is never copied
        f = pairs["f"].to_numpy()
        out: dict[str, Any] = {"site_id": self.sites["site_id"].to_numpy()[pairs["s"].to_numpy()]}
        for c in ("code", "name", "category", "prohibited", "requirements", *DIMENSIONS):
            out[c] = ua[c].to_numpy()[f] if c in ua and c != ua.geometry.name else None
        for c in ("overlap_m2", "overlap_pct", "length_m"):
            out[c] = pairs[c].to_numpy()
        return pd.DataFrame(out, columns=cols)

    @cached_property
    def layer_status(self) -> pd.DataFrame:
        """Site x layer 涉及/不涉及 table for every listed layer present."""
        return layer_status(self.sites["site_id"].to_numpy(), self._touch, _present(self.zoning), _gaps(self.rules))

    def take(self, site_ids: Any) -> ScreeningResult:
        """Return the result for some sites only: their rows, hits and touched pairs, in the sites' order.

        Every table is cut, not recomputed: a site's verdict, hits, units and
        facts in the part are exactly its own in the whole.

        Parameters
        ----------
        site_ids : iterable of str
            The sites to keep (unknown ids are ignored).

        Returns
        -------
        ScreeningResult
            Same zoning, rules and audit.
        """
        ids = self.sites["site_id"].astype(str)
        keep = ids.isin({str(i) for i in site_ids}).to_numpy()
        new_pos = np.full(len(keep), -1, dtype=np.int64)
        new_pos[keep] = np.arange(int(keep.sum()))
        touch = {}
        for layer, pairs in self._touch.items():
            s = new_pos[pairs["s"].to_numpy()]
            part = pairs.loc[s >= 0].copy()
            part["s"] = s[s >= 0]
            touch[layer] = part.reset_index(drop=True)
        hits = self.hits.loc[self.hits["site_id"].astype(str).isin(set(ids[keep]))].reset_index(drop=True) if len(self.hits) else self.hits
        return ScreeningResult(
            sites=self.sites.loc[keep].reset_index(drop=True), hits=hits, zoning=self.zoning, rules=self.rules, audit=self.audit, _touch=touch
        )


def _limited(hits: pd.DataFrame, rules: RuleSet, n: int) -> dict[str, np.ndarray]:
    """Layer -> per-site share (%) outside its stated coverage, from the coded ``COV-`` hits (NaN: none)."""
    out: dict[str, np.ndarray] = {}
    if not len(hits):
        return out
    k = hits["k"].to_numpy()
    for j, (rule, layer) in enumerate(rule_table(rules)):
        if is_coverage_rule(rule) and rule.params.get("coverage") == "limited":
            rows = np.flatnonzero(k == j)
            if len(rows):
                arr = np.full(n, np.nan)
                arr[hits["s"].to_numpy()[rows]] = hits["overlap_pct"].to_numpy()[rows]
                out[layer] = arr
    return out


def _gaps(rules: RuleSet) -> dict[str, str]:
    """Layers the package lacks (set on the rules by :func:`spatial.engine.coverage.with_coverage`)."""
    return dict(rules.extra.get("coverage_gaps") or {})


def _present(zoning: Zoning) -> list[str]:
    """Layers with at least one feature: an empty layer cannot support 不涉及."""
    return [name for name in zoning.layers if name in zoning]


#: pandas' default string dtype (Arrow-backed, NaN for missing).
_STR = pd.StringDtype(na_value=np.nan)


def _text(codes: np.ndarray, values: list[str]) -> pd.Series:
    """Return a str column from per-row codes into a small table of values.

    Arrow's ``take`` builds the column without a Python object per row: 10^6
    hits take milliseconds instead of the second pandas needs to convert them.
    """
    taken = pa.compute.take(pa.array(values, type=pa.large_string()), pa.array(np.asarray(codes, dtype=np.int64)))
    return pd.Series(pd.arrays.ArrowStringArray(taken, dtype=_STR))


def _strs(values: np.ndarray) -> pd.Series:
    """Return a str column from an object array of str."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()), dtype=_STR))


def expand_hits(coded: pd.DataFrame, prepared: PreparedZoning, rules: RuleSet) -> pd.DataFrame:
    """Turn coded hits into the :data:`HIT_COLUMNS` table (site index ``s`` first, ``geometry`` last).

    Parameters
    ----------
    coded : DataFrame
        Output of :func:`spatial.engine.evaluate.screen_core`.
    prepared : PreparedZoning
        Zoning arrays the hits refer to.
    rules : RuleSet
        Rules the hits refer to.

    Returns
    -------
    DataFrame
        ``s``, ``rule_id`` ... ``message_zh``, ``geometry``.
    """
    table = rule_table(rules)
    k = coded["k"].to_numpy()
    f = coded["f"].to_numpy()
    fid = np.full(len(coded), "", dtype=object)
    fname = np.full(len(coded), "", dtype=object)
    layer_of = np.array([lay for _, lay in table], dtype=object)[k] if len(k) else np.zeros(0, dtype=object)
    named = f >= 0  # f < 0: an outside hit with no feature to name
    for layer in dict.fromkeys(layer_of[named]):  # only the layers hit, and only their hit features read
        rows = np.flatnonzero((layer_of == layer) & named)
        attrs = prepared.attrs[layer]
        if "feature_id" in attrs:
            fid[rows] = attrs["feature_id"].take(f[rows]).to_numpy(dtype=object)
        fname[rows] = prepared.labels[layer][f[rows]]
    cols: dict[str, Any] = {
        "s": coded["s"].to_numpy(),
        "rule_id": _text(k, [r.id for r, _ in table]),
        "layer": _text(k, [lay for _, lay in table]),
        "feature_id": _strs(fid),
        "feature_name": _strs(fname),
        "verdict": _text(coded["v"].to_numpy(np.int64), list(VERDICTS)),
        **{c: coded[c].to_numpy() for c in ("overlap_m2", "overlap_pct", "length_m", "distance_m")},
        "basis": _text(k, [r.basis for r, _ in table]),
        "message_zh": _text(k, [r.message_zh for r, _ in table]),
        "geometry": obj(coded["geometry"].to_numpy()),
    }
    return pd.DataFrame(cols)  # one frame built once, not a column at a time


def _canonical_touch(pairs: pd.DataFrame) -> pd.DataFrame:
    """Touched pairs sorted by site, then feature (independent of chunking)."""
    order = np.lexsort((pairs["f"].to_numpy(), pairs["s"].to_numpy()))
    if isinstance(pairs.index, pd.RangeIndex) and pairs.index.start == 0 and pairs.index.step == 1 and (order[1:] > order[:-1]).all():
        return pairs  # already canonical (one site, or a single chunk in order): no copy
    return pairs.take(order).reset_index(drop=True)


def assemble_result(
    prep_sites: gpd.GeoDataFrame,
    hits: pd.DataFrame,
    touch: dict[str, pd.DataFrame],
    rank: np.ndarray,
    prepared: PreparedZoning,
    rules: RuleSet,
    sites_audit: dict[str, Any],
    *,
    t0: float,
    started: datetime,
) -> ScreeningResult:
    """Build the :class:`ScreeningResult` from the engine's raw output (all engines).

    Parameters
    ----------
    prep_sites : GeoDataFrame
        Prepared sites in the working CRS, in input order.
    hits : DataFrame
        Coded hits with the site index ``s`` (rows of one site in rule, then feature order).
    touch : dict
        Layer -> touched (feature, site) pairs.
    rank : ndarray
        Worst verdict rank per site.
    prepared : PreparedZoning
        Zoning used (the hits' feature indexes refer to it).
    rules : RuleSet
        Rules used.
    sites_audit : dict
        Audit record of the sites input.
    t0 : float
        ``time.perf_counter()`` at the start (for the duration).
    started : datetime
        Start time.

    Returns
    -------
    ScreeningResult
        The result in canonical row order.
    """
    n = len(prep_sites)
    zoning = prepared.zoning
    touch = {k: _canonical_touch(v) for k, v in touch.items()}
    verdict = np.array(VERDICTS, dtype=object)[rank]
    counts = np.bincount(hits["s"].to_numpy(np.int64), minlength=n) if len(hits) else np.zeros(n, dtype=int)
    out = prep_sites.copy()
    out.insert(3, "verdict", verdict)
    out.insert(4, "verdict_zh", np.array([VERDICT_ZH[v] for v in VERDICTS], dtype=object)[rank])
    out.insert(5, "verdict_eia", np.array([VERDICT_EIA[v] for v in VERDICTS], dtype=object)[rank])
    out.insert(6, "n_hits", counts[:n])
    if len(hits):
        # Site order (site ids are unique, so the site index orders them), stable within a site.
        s_idx = hits["s"].to_numpy(np.int64)
        if (s_idx[1:] < s_idx[:-1]).any():
            hits = hits.take(np.argsort(s_idx, kind="stable")).reset_index(drop=True)
    rule_ids = [r.id for r, _ in rule_table(rules)]
    text = summaries(n, rank, hits, rule_ids, touch, _present(zoning), _gaps(rules)) if n else np.array([], dtype=object)
    out.insert(7, "summary_zh", text)
    gaps = _gaps(rules)
    share = outside_shares(touch.get(OUTSIDE_KEY), n)
    cov_hits = _limited(hits, rules, n)
    out.insert(8, "coverage_zh", coverage_lines(_present(zoning), gaps, share, cov_hits))
    demo = is_demo_zoning(zoning)
    out.insert(9, "data_note", DEMO_STAMP if demo else "")
    dims = shapely.get_dimensions(np.asarray(out.geometry.values, dtype=object))
    out.insert(10, "area_m2", np.where(dims == 2, shapely.area(out.geometry.values), np.nan))
    out.insert(11, "length_m", np.where(dims == 1, shapely.length(out.geometry.values), np.nan))
    if len(hits):
        hits = expand_hits(hits, prepared, rules)
        hits.insert(0, "site_id", out["site_id"].to_numpy()[hits["s"].to_numpy()])
        hits = hits.drop(columns="s")
        # Level, sources, exemption clause and conditions follow from the rule and the site's type.
        hits = annotate_hits(hits, pd.Series(site_keys(out), index=out["site_id"].to_numpy()), rules)
    else:
        hits = pd.DataFrame(columns=[*HIT_COLUMNS, "geometry"])
    audit = {
        "ecozone_version": __version__,
        "run_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 3),
        "rules": {
            "catalogue_id": rules.catalogue_id,
            "version": rules.version,
            "sha256": rules.sha256,
            "path": display_path(rules.path) if rules.path else "",
            "adcode": rules.adcode or "",
            "jurisdiction": rules.adcode_note,
            "levels": " → ".join(f"{LEVEL_ZH[lv['level']]}：{lv['title'] or lv['id']}" for lv in rules.levels if lv["applied"]),
        },
        "zoning": [
            {"layer": s.layer, "path": display_path(s.path), "sha256": s.sha256, "crs": s.crs, "n_features": s.n_features}
            for s in zoning.sources
        ],
        "working_crs": describe_crs(zoning.crs),
        "sites": {k: v for k, v in sites_audit.items() if k != "zoning_warnings"},
        "warnings": list(sites_audit.get("zoning_warnings", [])),
        "coverage": run_coverage(_present(zoning), gaps, share, demo=demo),
        "demo": demo,
        "lists": list(rules.extra.get("lists", [])),
    }
    if n == 0:
        audit["note"] = "无地块 / no sites"
    return ScreeningResult(sites=out, hits=hits, zoning=zoning, rules=rules, audit=audit, _touch=touch)
