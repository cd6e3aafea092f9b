"""Rules applied to candidate pairs: coded hits and the worst verdict per site.

Rule conditions, project-type verdicts and each mode's own selection are
array lookups over the candidate (feature, site) pairs; the worst verdict
per site comes from ``np.maximum.at``.  Hits are *coded* (numbers only:
site, rule-table index, feature, verdict rank, measurements) so chunks and
Dask partitions move and concatenate cheaply; :mod:`spatial.engine.assemble`
expands them.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers import REGISTRY
from spatial.engine.coverage import OUTSIDE_KEY, coverage_rows, is_coverage_rule
from spatial.engine.modes import MODES, QueryContext
from spatial.engine.parallel import run_jobs, run_tasks
from spatial.engine.prepared import PreparedZoning
from spatial.engine.queries import feature_ranges, obj, touch_pairs
from spatial.project_types import VERDICT_RANK, site_keys
from spatial.rules import Rule, RuleSet

__all__ = ["screen_core", "rule_table", "empty_coded", "concat", "CODED"]

#: Columns (and dtypes) of a coded hit table, before ``geometry``.
CODED = {
    "s": np.int64, "k": np.int32, "f": np.int64, "v": np.int8, "overlap_m2": float, "overlap_pct": float, "length_m": float,
    "distance_m": float, "inside": bool,
}  # fmt: skip


def rule_table(rules: RuleSet) -> list[tuple[Rule, str]]:
    """Return the (rule, layer) combinations in evaluation order; a hit's ``k`` indexes it.

    Parameters
    ----------
    rules : RuleSet
        Rules.

    Returns
    -------
    list of (Rule, str)
        Catalogue order, then each rule's layers in order.
    """
    return [(rule, layer) for rule in rules for layer in rule.layers]


def empty_coded() -> pd.DataFrame:
    """Return a coded hit table with no rows.

    Returns
    -------
    DataFrame
        :data:`CODED` columns and ``geometry``.
    """
    frame = pd.DataFrame({c: np.zeros(0, dtype=t) for c, t in CODED.items()})
    frame["geometry"] = obj(np.zeros(0, dtype=object))
    return frame


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames (the only one as it is).

    Parameters
    ----------
    frames : list of DataFrame
        At least one frame.

    Returns
    -------
    DataFrame
        Rows of all frames, index reset.
    """
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def screen_core(
    sites: gpd.GeoDataFrame, prepared: PreparedZoning, rules: RuleSet, *, threads: int = 1, nearest: bool = True
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], np.ndarray]:
    """Screen prepared sites (in ``prepared.crs``): the engine core, hits coded as numbers.

    Parameters
    ----------
    sites : GeoDataFrame
        Prepared sites (:func:`spatial.sites.prepare_sites`) in ``prepared.crs``.
    prepared : PreparedZoning
        Zoning arrays.
    rules : RuleSet
        Validated rules.
    threads : int, default 1
        Threads for the geometry work (results do not depend on it).
    nearest : bool, default True
        Name the nearest feature (and its distance) of ``outside`` hits.  False gives
        the same verdicts and hits without that search (suitability reads verdicts only).

    Returns
    -------
    (DataFrame, dict, ndarray)
        Coded hits (``s`` site, ``k`` index into :func:`rule_table`, ``f``
        feature, ``v`` verdict rank, measurements, ``geometry``), touched
        pairs per layer, worst verdict rank per site; see
        :func:`spatial.engine.assemble.expand_hits`.
    """
    sg = np.asarray(sites.geometry.values, dtype=object)
    n = len(sg)
    tree = shapely.STRtree(sg)
    if n:
        tree.query(sg[:1])  # build the tree here, before threads share it
    # Types coded once per chunk: each rule then looks its verdict up per distinct type
    # (with the site facets the law distinguishes: a line 管线, a 国家重大项目).
    uniq, tcode = np.unique(site_keys(sites).astype(str), return_inverse=True)
    layers = [name for name in prepared.geoms if name in REGISTRY and name != "boundary"]
    ranges = {layer: feature_ranges(prepared, layer, threads) for layer in layers}
    # Phase 1: touched pairs, per feature range (biggest layers first for load balance).
    tasks = [(touch_pairs, tree, sg, prepared, layer, lo, hi) for layer in layers for lo, hi in ranges[layer]]
    order = (  # one thread: no balancing to do (counting every feature's vertices would cost more than a small screening)
        list(range(len(tasks)))
        if threads <= 1
        else sorted(range(len(tasks)), key=lambda i: -int(shapely.get_num_coordinates(prepared.geoms[tasks[i][4]][tasks[i][5] : tasks[i][6]]).sum()))
    )
    done = dict(zip(order, run_tasks([tasks[i] for i in order], threads), strict=True))
    touch: dict[str, pd.DataFrame] = {}
    i = 0
    for layer in layers:
        touch[layer] = concat([done[j] for j in range(i, i + len(ranges[layer]))])
        i += len(ranges[layer])
    # Phase 2: the extra queries some modes need (distances, outside the boundary).
    # Jobs on the same feature range share one task: two rules on one layer must not query
    # the same prepared geometries from two threads at once.
    ctx = QueryContext(tree, sg, prepared, touch, threads, ranges, nearest)
    groups: dict[Any, list[tuple[Any, ...]]] = {}
    for rule in rules:
        if is_coverage_rule(rule) or not any(rule.verdict_of(t) is not None for t in uniq):
            continue
        for layer in rule.layers:
            if layer not in prepared.geoms or not len(prepared.geoms[layer]):
                continue
            for key, *job in MODES[rule.mode].jobs(rule, layer, ctx) or ():
                groups.setdefault(key, []).append(((rule.id, layer), *job))
    extra: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for jobs, frames in zip(groups.values(), run_tasks([(run_jobs, jobs) for jobs in groups.values()], threads), strict=True):
        for job, frame in zip(jobs, frames, strict=True):
            extra.setdefault(job[0], []).append(frame)
    rank = np.zeros(n, dtype=np.int8)
    hit_frames: list[pd.DataFrame] = []
    table = rule_table(rules)
    for k, (rule, layer) in enumerate(table):
        if is_coverage_rule(rule):
            continue  # answered below, from the package's gaps
        pairs = concat(extra[(rule.id, layer)]) if (rule.id, layer) in extra else touch.get(layer)
        frame = apply_rule(rule, k, layer, prepared, pairs, (uniq, tcode))
        if frame is not None and len(frame):
            np.maximum.at(rank, frame["s"].to_numpy(), frame["v"].to_numpy())
            hit_frames.append(frame)
    # Coverage: missing layers, zones without loaded rules, the share outside the boundary.
    cov_frames, touch[OUTSIDE_KEY] = coverage_rows(sg, (uniq, tcode), prepared, table, touch)
    for frame in cov_frames:
        frame = frame.astype(CODED)
        np.maximum.at(rank, frame["s"].to_numpy(), frame["v"].to_numpy())
        hit_frames.append(frame)
    hits = pd.concat(hit_frames, ignore_index=True) if hit_frames else empty_coded()
    return hits, touch, rank


def apply_rule(
    rule: Rule,
    k: int,
    layer: str,
    prepared: PreparedZoning,
    pairs: pd.DataFrame | None,
    types: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame | None:
    """Coded hits of one rule on one layer (``k``: its index in :func:`rule_table`).

    Parameters
    ----------
    rule : Rule
        The rule.
    k : int
        Its index in the rule table.
    layer : str
        The layer.
    prepared : PreparedZoning
        Prepared zoning.
    pairs : DataFrame or None
        Candidate (feature, site) pairs from the rule's mode.
    types : (ndarray, ndarray)
        Distinct site types and each site's index into them.

    Returns
    -------
    DataFrame or None
        Coded hits, or None when there are none.
    """
    if layer not in prepared.geoms or not len(prepared.geoms[layer]) or pairs is None or not len(pairs):
        return None
    uniq, tcode = types
    # Verdict rank per distinct type (what Rule.verdicts_for gives; -1: n/a), looked up per pair.
    per_type = np.array([VERDICT_RANK[v] if (v := rule.verdict_of(t)) is not None else -1 for t in uniq], dtype=np.int8)
    fidx = pairs["f"].to_numpy()
    sidx = pairs["s"].to_numpy()
    vrank = per_type[tcode[sidx]]
    keep = vrank >= 0
    where = prepared.where_mask(rule.id, layer, rule.where)
    named = fidx >= 0  # an outside pair with no feature meeting ``where`` names none
    if where is not None:
        keep &= np.where(named, where[np.where(named, fidx, 0)], True)
    bare = np.array([t.split("|")[0] for t in uniq], dtype=object)  # modes look types up without facets
    narrowed = MODES[rule.mode].select(rule, layer, prepared, fidx, (bare, tcode[sidx]))
    if narrowed is not None:
        keep &= narrowed
    keep = MODES[rule.mode].finish(pairs, keep)
    if not keep.any():
        return None
    sel = np.flatnonzero(keep)
    m = len(sel)

    def col(name: str) -> np.ndarray:
        return pairs[name].to_numpy()[sel] if name in pairs else np.full(m, np.nan)

    out = pd.DataFrame(
        {
            "s": sidx[sel].astype(np.int64),
            "k": np.full(m, k, dtype=np.int32),
            "f": fidx[sel].astype(np.int64),
            "v": vrank[sel],
            "overlap_m2": col("overlap_m2"),
            "overlap_pct": col("overlap_pct"),
            "length_m": col("length_m"),
            "distance_m": col("distance_m"),
            # The hit geometry is the site itself (so it need not travel between processes).
            "inside": pairs["inside"].to_numpy()[sel] if "inside" in pairs else np.zeros(m, dtype=bool),
        }
    )
    out["geometry"] = obj(pairs["geometry"].to_numpy()[sel] if "geometry" in pairs else np.full(m, None, dtype=object))
    return out
