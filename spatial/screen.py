"""Site screening: which zoning each site touches, which rules it breaks.

The engine is vectorised end to end:

1. one STRtree over the *sites*, queried with each zoning layer's geometries
   (the zoning side is prepared once and reused for every site candidate —
   the fast orientation for complex polygons; long corridor lines are queried
   as short pieces so their bounding boxes do not sweep up every site);
2. rule conditions, project-type exceptions and 准入清单 bans evaluated as
   array lookups over the candidate (feature, site) pairs;
3. worst verdict per site with ``np.maximum.at``;
4. measurements (overlap area, length inside, distance) only for pairs that
   hit, skipping the intersection when the feature contains the site.

There is no Python loop over sites or features.  Row order is canonical:
sites as given; hits by site, then rule, then feature; touched pairs by site
then feature — so a chunked, threaded or Dask run returns the same tables.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import REGISTRY
from layers.control_unit import DIMENSIONS
from layers.corridor import widths as corridor_widths
from spatial._version import __version__
from spatial.crs import describe_crs, to_crs_geoms
from spatial.errors import DataWarning, SitesCRSMissing
from spatial.project_types import VERDICT_RANK, VERDICT_ZH, VERDICTS, ProjectTypes
from spatial.rules import Rule, RuleSet, load_rules
from spatial.sites import explain_missing_crs, input_sha256, prepare_sites, read_sites, site_types
from spatial.xyorder import fit_xy_to_boundary
from spatial.zoning import Zoning, display_path, load_zoning

__all__ = ["screen", "screen_frame", "ScreeningResult", "PreparedZoning", "prepare_zoning", "HIT_COLUMNS", "SITE_COLUMNS"]

#: Sites closer than this (m) to a feature count as touching it: a point
#: digitised on a shared edge in WGS84 lands a few nanometres off after
#: reprojection, and must still hit both units.
TOUCH_M = 1e-3
#: Standard layers reported as 涉及/不涉及 for every site.
STATUS_LAYERS = ("redline", "protected_area", "water_source", "farmland", "urban_boundary", "corridor", "control_unit")
SITE_COLUMNS = ["site_id", "name", "project_type", "verdict", "verdict_zh", "n_hits", "summary_zh"]
HIT_COLUMNS = [
    "site_id", "rule_id", "layer", "feature_id", "feature_name", "verdict", "overlap_m2",
    "overlap_pct", "length_m", "distance_m", "basis", "message_zh",
]  # fmt: skip
_SPLIT = r"[;；,，、/\s]+"


@dataclass
class PreparedZoning:
    """Zoning arrays ready for bulk queries; build once, screen many times.

    Attributes
    ----------
    zoning : Zoning
        The source package.
    geoms : dict
        Layer -> ndarray of prepared geometries (working CRS).
    attrs : dict
        Layer -> attribute DataFrame aligned with ``geoms``.
    labels : dict
        Layer -> feature display names.
    widths : ndarray
        Corridor widths (m).
    boundary : shapely.Geometry
        Prepared union of the boundary.
    unit_bans : list of set
        Per unit, the canonical project types its 准入清单 bans.
    types : ProjectTypes
        Vocabulary the bans were parsed with.
    """

    zoning: Zoning
    geoms: dict[str, np.ndarray]
    attrs: dict[str, pd.DataFrame]
    labels: dict[str, np.ndarray]
    widths: np.ndarray
    boundary: shapely.Geometry
    types: ProjectTypes
    unit_bans: list[set[str]] = field(default_factory=list)
    unknown_bans: list[str] = field(default_factory=list)
    pieces: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _where: dict[tuple[Any, ...], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def crs(self) -> CRS:
        """Working CRS."""
        return self.zoning.crs


def prepare_zoning(zoning: Zoning, types: ProjectTypes) -> PreparedZoning:
    """Build the arrays the engine queries (prepared geometries, ban lists).

    Parameters
    ----------
    zoning : Zoning
        Loaded package.
    types : ProjectTypes
        Vocabulary for parsing units' ``prohibited`` lists.

    Returns
    -------
    PreparedZoning
        Ready for :func:`screen_frame`.
    """
    geoms: dict[str, np.ndarray] = {}
    attrs: dict[str, pd.DataFrame] = {}
    labels: dict[str, np.ndarray] = {}
    for name, layer in zoning.layers.items():
        g = np.asarray(layer.geometry.values, dtype=object)
        shapely.prepare(g)
        geoms[name] = g
        attrs[name] = pd.DataFrame(layer.drop(columns=layer.geometry.name)).reset_index(drop=True)
        spec = zoning.spec(name)
        nm = attrs[name][spec.name_field] if spec.name_field and spec.name_field in attrs[name] else None
        fid = attrs[name]["feature_id"].astype(str)
        labels[name] = (nm.astype("string").fillna(fid).astype(str) if nm is not None else fid).to_numpy()
    boundary = shapely.union_all(geoms["boundary"])
    shapely.prepare(boundary)
    widths = corridor_widths(attrs["corridor"]) if "corridor" in attrs and len(attrs["corridor"]) else np.zeros(0)
    bans: list[set[str]] = []
    unknown: list[str] = []
    if "control_unit" in attrs and "prohibited" in attrs["control_unit"]:
        for terms in attrs["control_unit"]["prohibited"].fillna("").astype(str).str.split(_SPLIT, regex=True):
            found, bad = types.parse(t for t in terms if t)
            bans.append(found - {"all"})
            unknown.extend(bad)
    pieces = {name: _split_lines(g) for name, g in geoms.items() if name != "boundary" and _has_lines(g)}
    return PreparedZoning(zoning, geoms, attrs, labels, widths, boundary, types, bans, sorted(set(unknown)), pieces)


def release_prepared(prepared: PreparedZoning) -> None:
    """Free the GEOS indexes built on the zoning's geometries (the next screening re-prepares them).

    Parameters
    ----------
    prepared : PreparedZoning
        Prepared zoning no longer needed for queries.
    """
    for g in prepared.geoms.values():
        shapely.destroy_prepared(g)
    for g, _ in prepared.pieces.values():
        shapely.destroy_prepared(g)
    shapely.destroy_prepared(prepared.boundary)
    _trim_heap()


def _trim_heap() -> None:
    """Give freed C heap memory back to the OS (glibc only; a no-op elsewhere).

    GEOS frees its indexes into the C heap, but Python's own small-object
    allocator takes fresh memory from the OS instead of reusing it, so without
    a trim the freed gigabyte still counts towards the peak.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


#: Vertices per piece when long zoning lines are split for querying.
PIECE_VERTICES = 16


def _has_lines(geoms: np.ndarray) -> bool:
    """Whether any geometry is (multi)linear."""
    return bool(len(geoms)) and bool(np.isin(shapely.get_type_id(geoms), [1, 2, 5]).any())


def _split_lines(geoms: np.ndarray, size: int = PIECE_VERTICES) -> tuple[np.ndarray, np.ndarray]:
    """Cut lines into pieces of at most ``size`` vertices (sharing end vertices), for querying.

    A river 200 km long has a bounding box that catches every site in a
    county; its 16-vertex pieces have tight boxes.  The distance to a line is
    the minimum over its segments, so "within d of some piece" is exactly
    "within d of the line".  Polygons are kept whole.

    Parameters
    ----------
    geoms : ndarray
        Layer geometries.
    size : int
        Maximum vertices per piece.

    Returns
    -------
    (ndarray, ndarray)
        Prepared piece geometries and the index of the feature each came from.
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    tid = shapely.get_type_id(parts)
    line = np.isin(tid, [1, 2])
    coords, pidx = shapely.get_coordinates(parts[line], return_index=True)
    nv = np.bincount(pidx, minlength=int(line.sum()))
    nseg = np.maximum(nv - 1, 1)
    npieces = -(-nseg // (size - 1))
    part_of_piece = np.repeat(np.arange(len(nv)), npieces)
    k = np.arange(len(part_of_piece)) - np.repeat(np.cumsum(npieces) - npieces, npieces)
    first = np.repeat(np.cumsum(nv) - nv, npieces) + k * (size - 1)
    length = np.minimum(size - 1, nseg[part_of_piece] - k * (size - 1)) + 1
    vidx = np.repeat(first, length) + (np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length))
    piece_geoms = shapely.linestrings(coords[vidx], indices=np.repeat(np.arange(len(first)), length))
    geoms_out = np.concatenate([piece_geoms, parts[~line]])
    owner_out = np.concatenate([owner[line][part_of_piece], owner[~line]])
    shapely.prepare(geoms_out)
    return geoms_out, owner_out


@dataclass
class ScreeningResult:
    """What :func:`screen` returns.

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
        ua = self.zoning["control_unit"].drop(columns="geometry").reset_index(drop=True)
        out = pd.DataFrame({"site_id": self.sites["site_id"].to_numpy()[pairs["s"].to_numpy()]})
        for c in ("code", "name", "category", "prohibited", "requirements", *DIMENSIONS):
            out[c] = ua[c].to_numpy()[pairs["f"].to_numpy()] if c in ua else None
        for c in ("overlap_m2", "overlap_pct", "length_m"):
            out[c] = pairs[c].to_numpy()
        return out[cols]

    @cached_property
    def layer_status(self) -> pd.DataFrame:
        """Site x layer 涉及/不涉及 table for every standard layer present."""
        rows = []
        ids = self.sites["site_id"].to_numpy()
        for layer in STATUS_LAYERS:
            if layer not in self.zoning:  # absent or empty: 不涉及 would claim what no data shows
                continue
            feats = _features_per_site(self._touch.get(layer), len(ids))
            involved = feats != ""
            rows.append(
                pd.DataFrame(
                    {
                        "site_id": ids,
                        "layer": layer,
                        "label_zh": REGISTRY[layer].label_zh,
                        "involved": involved,
                        "features": feats,
                        "status_zh": np.where(involved, "涉及", "不涉及"),
                    }
                )
            )
        if not rows:
            return pd.DataFrame(columns=["site_id", "layer", "label_zh", "involved", "features", "status_zh"])
        return pd.concat(rows, ignore_index=True)


def _features_per_site(pairs: pd.DataFrame | None, n: int, column: str = "label") -> np.ndarray:
    """Distinct labels joined with '、' per site, in row order ('' where none).

    Vectorised: rows are grouped by a stable sort on the site index, repeats
    dropped, and the k-th label of every site appended in one array
    operation per k.
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


def _query(
    site_tree: shapely.STRtree,
    geoms: np.ndarray,
    distance: float | np.ndarray,
    pieces: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(feature, site) index pairs within ``distance``, in feature order.

    The zoning side is the (prepared) query geometry: the fast orientation.
    With ``pieces`` the layer's lines are queried piecewise and the hits
    mapped back to their features.
    """
    if not len(geoms):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    if pieces is None:
        return site_tree.query(geoms, predicate="dwithin", distance=distance)
    pg, owner = pieces
    d = distance[owner] if isinstance(distance, np.ndarray) else distance
    pf, s = site_tree.query(pg, predicate="dwithin", distance=d)
    key = np.unique(owner[pf].astype(np.int64) * (len(site_tree.geometries) + 1) + s)
    return (key // (len(site_tree.geometries) + 1)).astype(np.intp), (key % (len(site_tree.geometries) + 1)).astype(np.intp)


def _measure(site_geoms: np.ndarray, feat_geoms: np.ndarray, f: np.ndarray, s: np.ndarray) -> pd.DataFrame:
    """Overlap area/%, length inside for (feature, site) pairs that intersect."""
    n = len(f)
    area = np.full(n, np.nan)
    pct = np.full(n, np.nan)
    length = np.full(n, np.nan)
    if not n:
        return pd.DataFrame({"overlap_m2": area, "overlap_pct": pct, "length_m": length, "inside": np.zeros(0, dtype=bool)})
    sg, fg = site_geoms[s], feat_geoms[f]
    dim = shapely.get_dimensions(sg)
    # Prepared contains_properly skips the costly intersection.  For a single
    # point it equals contains (a point on the edge is in neither) and needs
    # only the point locator, not the segment index contains_properly builds.
    pt = shapely.get_type_id(sg) == 0
    inside = np.empty(n, dtype=bool)
    inside[pt] = shapely.contains(fg[pt], sg[pt])
    inside[~pt] = shapely.contains_properly(fg[~pt], sg[~pt])
    poly, line = dim == 2, dim == 1
    inter = np.full(n, None, dtype=object)
    need = (poly | line) & ~inside
    if need.any():
        inter[need] = shapely.intersection(sg[need], fg[need])
    site_area = shapely.area(sg)
    area[poly] = np.where(inside[poly], site_area[poly], shapely.area(inter[poly]) if poly.any() else 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct[poly] = np.where(site_area[poly] > 0, 100.0 * area[poly] / site_area[poly], np.nan)
    if line.any():
        length[line] = np.where(inside[line], shapely.length(sg[line]), shapely.length(inter[line]))
    out = pd.DataFrame({"overlap_m2": area, "overlap_pct": pct, "length_m": length, "inside": inside})
    out["geometry"] = np.where(inside, sg, inter)
    return out


def _obj(values: np.ndarray) -> pd.Series:
    """Wrap values as an object-dtype column (pandas would otherwise convert strings to its str dtype on every frame)."""
    return pd.Series(values, dtype=object, copy=False)


def _ranges(prepared: PreparedZoning, layer: str, threads: int) -> list[tuple[int, int]]:
    """Split a layer's features into contiguous ranges of similar vertex counts.

    GEOS prepared geometries are not thread-safe (their indexes are built
    lazily and carry state), so a feature range is only ever worked on by
    one thread at a time; ranges let big layers spread over threads.
    """
    n = len(prepared.geoms[layer])
    if threads <= 1 or n < 2 or layer in prepared.pieces:
        return [(0, n)]
    nv = shapely.get_num_coordinates(prepared.geoms[layer]).astype(np.float64)
    total = sum(float(shapely.get_num_coordinates(g).sum()) for g in prepared.geoms.values())
    # At least one range per thread (a layer's cost also grows with the sites it meets), more for big layers.
    k = int(min(n, max(threads, round(3 * threads * nv.sum() / max(total, 1.0)))))
    if k == 1:
        return [(0, n)]
    cuts = np.searchsorted(np.cumsum(nv), nv.sum() * np.arange(1, k) / k)
    edges = np.unique(np.r_[0, np.clip(cuts, 1, n - 1), n])
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def _touch_pairs(tree: shapely.STRtree, sg: np.ndarray, prepared: PreparedZoning, layer: str, lo: int, hi: int) -> pd.DataFrame:
    """Pairs of features ``lo:hi`` of ``layer`` touching a site (within TOUCH_M), measured."""
    geoms = prepared.geoms[layer]
    _ensure_prepared(prepared, layer, lo, hi)
    # Only features lo:hi: another task owns the rest of the layer (a corridor layer of
    # polygons is split into ranges like any other, so it must not query all of it).
    pieces = prepared.pieces.get(layer) if (lo, hi) == (0, len(geoms)) else None
    if layer == "corridor":
        f, s = _query(tree, geoms[lo:hi], prepared.widths[lo:hi] + TOUCH_M, pieces)
        f = f + lo
        pairs = pd.DataFrame({"f": f, "s": s, "distance_m": shapely.distance(geoms[f], sg[s])})
    else:
        f, s = _query(tree, geoms[lo:hi], TOUCH_M, pieces)
        f = f + lo
        pairs = pd.concat([pd.DataFrame({"f": f, "s": s}), _measure(sg, geoms, f, s)], axis=1)
    pairs["label"] = _obj(prepared.labels[layer][pairs["f"].to_numpy()])
    return pairs


def _ensure_prepared(prepared: PreparedZoning, layer: str, lo: int, hi: int) -> None:
    """Prepare features ``lo:hi`` again if :func:`release_prepared` dropped them (a no-op otherwise)."""
    shapely.prepare(prepared.geoms[layer][lo:hi])
    if layer in prepared.pieces and (lo, hi) == (0, len(prepared.geoms[layer])):
        shapely.prepare(prepared.pieces[layer][0])


def _distance_pairs(
    tree: shapely.STRtree, sg: np.ndarray, prepared: PreparedZoning, layer: str, lo: int, hi: int, distance: float, away: np.ndarray | None
) -> pd.DataFrame:
    """Pairs of features ``lo:hi`` within ``distance`` of a site, with the distance.

    ``away``: sites to keep (None: all), e.g. those not touching the layer.
    """
    geoms = prepared.geoms[layer]
    _ensure_prepared(prepared, layer, lo, hi)
    f, s = _query(tree, geoms[lo:hi], distance, None if (lo, hi) != (0, len(geoms)) else prepared.pieces.get(layer))
    f = f + lo
    if away is not None:
        keep = away[s]
        f, s = f[keep], s[keep]
    pairs = pd.DataFrame({"f": f, "s": s, "distance_m": shapely.distance(geoms[f], sg[s])})
    pairs["label"] = _obj(prepared.labels[layer][f])
    return pairs


def _run(tasks: list[tuple[Any, ...]], threads: int) -> list[Any]:
    """Run ``(function, *args)`` tasks, on a thread pool when ``threads > 1``.

    shapely releases the GIL in its vectorised calls and tree queries, so the
    geometry work of independent tasks overlaps on several cores.
    """
    if threads <= 1 or len(tasks) <= 1:
        return [fn(*args) for fn, *args in tasks]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ecozone-screen") as pool:
        futures = [pool.submit(fn, *args) for fn, *args in tasks]
        return [fut.result() for fut in futures]


def _run_jobs(jobs: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``(key, function, *args)`` jobs one after another (one task, one thread)."""
    return [fn(*args) for _, fn, *args in jobs]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def default_threads() -> int:
    """Threads per screening: ``$ECOZONE_THREADS`` or the number of usable cores (at most 8).

    Returns
    -------
    int
        Thread count (>= 1).
    """
    env = os.environ.get("ECOZONE_THREADS")
    if env:
        return max(1, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def screen_frame(
    sites: gpd.GeoDataFrame, prepared: PreparedZoning, rules: RuleSet, *, threads: int = 1
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], np.ndarray]:
    """Screen prepared sites (already in the working CRS): the engine core.

    Parameters
    ----------
    sites : GeoDataFrame
        Output of :func:`spatial.sites.prepare_sites`, in ``prepared.crs``.
    prepared : PreparedZoning
        Zoning arrays.
    rules : RuleSet
        Validated rules.
    threads : int, default 1
        Threads for the geometry work (results do not depend on it).

    Returns
    -------
    (DataFrame, dict, ndarray)
        Hits (site index ``s`` plus :data:`HIT_COLUMNS` data), touched
        (feature, site) pairs per layer with labels and measurements, and the
        worst verdict rank per site.
    """
    coded, touch, rank = screen_core(sites, prepared, rules, threads=threads)
    return expand_hits(coded, prepared, rules), touch, rank


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


def screen_core(
    sites: gpd.GeoDataFrame, prepared: PreparedZoning, rules: RuleSet, *, threads: int = 1
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], np.ndarray]:
    """Like :func:`screen_frame`, with hits coded as numbers (cheap to move and concatenate).

    Parameters
    ----------
    sites : GeoDataFrame
        Prepared sites in ``prepared.crs``.
    prepared : PreparedZoning
        Zoning arrays.
    rules : RuleSet
        Validated rules.
    threads : int, default 1
        Threads for the geometry work.

    Returns
    -------
    (DataFrame, dict, ndarray)
        Coded hits (``s`` site, ``k`` index into :func:`rule_table`, ``f``
        feature, ``v`` verdict rank, measurements, ``geometry``), touched
        pairs per layer, worst verdict rank per site; see :func:`expand_hits`.
    """
    sg = np.asarray(sites.geometry.values, dtype=object)
    n = len(sg)
    tree = shapely.STRtree(sg)
    if n:
        tree.query(sg[:1])  # build the tree here, before threads share it
    # Types coded once per chunk: each rule then looks its verdict up per distinct type.
    uniq, tcode = np.unique(sites["project_type"].to_numpy(dtype=str), return_inverse=True)
    layers = [name for name in prepared.geoms if name in REGISTRY and name != "boundary"]
    ranges = {layer: _ranges(prepared, layer, threads) for layer in layers}
    # Phase 1: touched pairs, per feature range (biggest layers first for load balance).
    tasks = [(_touch_pairs, tree, sg, prepared, layer, lo, hi) for layer in layers for lo, hi in ranges[layer]]
    order = sorted(range(len(tasks)), key=lambda i: -int(shapely.get_num_coordinates(prepared.geoms[tasks[i][4]][tasks[i][5] : tasks[i][6]]).sum()))
    done = dict(zip(order, _run([tasks[i] for i in order], threads), strict=True))
    touch: dict[str, pd.DataFrame] = {}
    i = 0
    for layer in layers:
        touch[layer] = _concat([done[j] for j in range(i, i + len(ranges[layer]))])
        i += len(ranges[layer])
    # Phase 2: the extra geometry some rules need (near / buffer distances, outside the boundary).
    # Jobs on the same feature range share one task: two rules on one layer must not query
    # the same prepared geometries from two threads at once.
    groups: dict[tuple[str, int, int], list[tuple[Any, ...]]] = {}
    for rule in rules:
        if not any(rule.type_verdicts.get(t) is not None for t in uniq):
            continue
        for layer in rule.layers:
            if layer not in prepared.geoms or not len(prepared.geoms[layer]):
                continue
            if rule.mode == "outside":
                groups.setdefault(("boundary", 0, 0), []).append(((rule.id, layer), _outside, prepared, sg))
            elif rule.mode == "near" or (rule.mode == "buffer" and layer != "corridor"):
                dist = float(rule.distance_m) if rule.mode == "near" else float(rule.buffer_m) + TOUCH_M
                away = None
                if rule.mode == "near" and layer in touch and len(touch[layer]):
                    away = np.ones(n, dtype=bool)
                    away[touch[layer]["s"].to_numpy()] = False
                for lo, hi in ranges.get(layer) or _ranges(prepared, layer, threads):
                    groups.setdefault((layer, lo, hi), []).append(((rule.id, layer), _distance_pairs, tree, sg, prepared, layer, lo, hi, dist, away))
    extra: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for jobs, frames in zip(groups.values(), _run([(_run_jobs, jobs) for jobs in groups.values()], threads), strict=True):
        for job, frame in zip(jobs, frames, strict=True):
            extra.setdefault(job[0], []).append(frame)
    rank = np.zeros(n, dtype=np.int8)
    hit_frames: list[pd.DataFrame] = []
    for k, (rule, layer) in enumerate(rule_table(rules)):
        pairs = _concat(extra[(rule.id, layer)]) if (rule.id, layer) in extra else touch.get(layer)
        frame = _apply_rule(rule, k, layer, prepared, pairs, (uniq, tcode))
        if frame is not None and len(frame):
            np.maximum.at(rank, frame["s"].to_numpy(), frame["v"].to_numpy())
            hit_frames.append(frame)
    hits = pd.concat(hit_frames, ignore_index=True) if hit_frames else _empty_coded()
    return hits, touch, rank


_CODED = {
    "s": np.int64, "k": np.int32, "f": np.int64, "v": np.int8, "overlap_m2": float, "overlap_pct": float, "length_m": float,
    "distance_m": float, "inside": bool,
}  # fmt: skip


def _empty_coded() -> pd.DataFrame:
    frame = pd.DataFrame({c: np.zeros(0, dtype=t) for c, t in _CODED.items()})
    frame["geometry"] = _obj(np.zeros(0, dtype=object))
    return frame


def _text(codes: np.ndarray, values: list[str]) -> pd.Series:
    """Return a str column from per-row codes into a small table of values."""
    return pd.Series(np.asarray(values, dtype=object)[codes], dtype="str")


def expand_hits(coded: pd.DataFrame, prepared: PreparedZoning, rules: RuleSet) -> pd.DataFrame:
    """Turn coded hits into the :data:`HIT_COLUMNS` table (site index ``s`` first, ``geometry`` last).

    Parameters
    ----------
    coded : DataFrame
        Output of :func:`screen_core`.
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
    for layer in dict.fromkeys(layer for _, layer in table):
        rows = np.flatnonzero(np.isin(k, [j for j, (_, lay) in enumerate(table) if lay == layer]))
        if not len(rows):
            continue
        attrs = prepared.attrs[layer]
        if "feature_id" in attrs:
            fid[rows] = attrs["feature_id"].to_numpy(dtype=object)[f[rows]]
        fname[rows] = prepared.labels[layer][f[rows]]
    out = pd.DataFrame({"s": coded["s"].to_numpy()})
    out["rule_id"] = _text(k, [r.id for r, _ in table])
    out["layer"] = _text(k, [lay for _, lay in table])
    out["feature_id"] = pd.Series(fid, dtype="str")
    out["feature_name"] = pd.Series(fname, dtype="str")
    out["verdict"] = _text(coded["v"].to_numpy(np.int64), list(VERDICTS))
    for c in ("overlap_m2", "overlap_pct", "length_m", "distance_m"):
        out[c] = coded[c].to_numpy()
    out["basis"] = _text(k, [r.basis for r, _ in table])
    out["message_zh"] = _text(k, [r.message_zh for r, _ in table])
    out["geometry"] = _obj(coded["geometry"].to_numpy())
    return out


def _where_mask(rule: Rule, layer: str, prepared: PreparedZoning) -> np.ndarray | None:
    """Per-feature mask of a rule's attribute condition (cached on ``prepared``)."""
    if not rule.where:
        return None
    key = (rule.id, layer, tuple(sorted(rule.where.items())))
    if key not in prepared._where:
        attrs = prepared.attrs[layer]
        keep = np.ones(len(attrs), dtype=bool)
        for fname, allowed in rule.where.items():
            col = attrs[fname] if fname in attrs else pd.Series([None] * len(attrs))
            keep &= col.astype("string").isin(allowed).fillna(False).to_numpy()
        prepared._where[key] = keep
    return prepared._where[key]


def _apply_rule(
    rule: Rule,
    k: int,
    layer: str,
    prepared: PreparedZoning,
    pairs: pd.DataFrame | None,
    types: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame | None:
    """Coded hits of one rule on one layer (``k``: its index in :func:`rule_table`).

    ``pairs`` are the candidate (feature, site) pairs for the rule's mode:
    touched pairs, or the near/buffer/outside pairs computed for it.
    """
    if layer not in prepared.geoms or not len(prepared.geoms[layer]) or pairs is None or not len(pairs):
        return None
    uniq, tcode = types
    # Verdict rank per distinct type (what Rule.verdicts_for gives; -1: n/a), looked up per pair.
    per_type = np.array([VERDICT_RANK[v] if (v := rule.type_verdicts.get(t)) is not None else -1 for t in uniq], dtype=np.int8)
    fidx = pairs["f"].to_numpy()
    sidx = pairs["s"].to_numpy()
    vrank = per_type[tcode[sidx]]
    keep = vrank >= 0
    where = _where_mask(rule, layer, prepared)
    if where is not None:
        keep &= where[fidx]
    if rule.mode == "unit_prohibited":
        keep &= _banned(prepared, uniq, fidx, tcode[sidx])
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
    out["geometry"] = _obj(pairs["geometry"].to_numpy()[sel] if "geometry" in pairs else np.full(m, None, dtype=object))
    return out


def _outside(prepared: PreparedZoning, sg: np.ndarray) -> pd.DataFrame:
    """Sites not inside the boundary: any part beyond TOUCH_M outside it."""
    shapely.prepare(prepared.boundary)
    # covers() with the prepared boundary first: covered_by(sites, boundary) would
    # test every site against the unprepared boundary (one full scan of its vertices each).
    cand = np.flatnonzero(~shapely.covers(prepared.boundary, sg))
    g = sg[cand]
    dist = shapely.distance(prepared.boundary, g)
    dim = shapely.get_dimensions(g)
    outside_part = shapely.difference(g[dim > 0], prepared.boundary)
    beyond = dist > TOUCH_M
    beyond[dim == 2] |= shapely.area(outside_part[dim[dim > 0] == 2]) > TOUCH_M**2
    beyond[dim == 1] |= shapely.length(outside_part[dim[dim > 0] == 1]) > TOUCH_M
    s = cand[beyond]
    pairs = pd.DataFrame({"f": np.zeros(len(s), dtype=np.intp), "s": s, "distance_m": dist[beyond]})
    pairs["label"] = _obj(np.full(len(s), prepared.labels["boundary"][0] if len(prepared.labels["boundary"]) else "", dtype=object))
    return pairs


def _banned(prepared: PreparedZoning, uniq: np.ndarray, f: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Whether each pair's unit bans the site's type (or an ancestor of it).

    ``uniq`` are the distinct site types and ``code`` each pair's index into them.
    """
    bans = prepared.unit_bans
    if not bans:
        return np.zeros(len(f), dtype=bool)
    vocab = prepared.types
    lineage = [set(vocab.lineage(t)) for t in uniq]
    matrix = np.array([[bool(ban & lin) for lin in lineage] for ban in bans], dtype=bool)  # units x distinct types
    return matrix[f, code]


def _summaries(
    sites: pd.DataFrame, rank: np.ndarray, hits: pd.DataFrame, touch: dict[str, pd.DataFrame], zoning: Zoning, rules: RuleSet
) -> np.ndarray:
    """One Chinese sentence per site: verdict, rules, 涉及 and 不涉及 layers.

    String work is done only on the sites concerned; the 不涉及 list depends
    only on which layers a site misses, so it comes from a small table.
    """
    n = len(sites)
    head = np.array([VERDICT_ZH[v] + "。" for v in VERDICTS], dtype=object)[rank]
    if len(hits):
        bad = hits["v"].to_numpy() > VERDICT_RANK["compatible"]
        ids = np.array([r.id for r, _ in rule_table(rules)], dtype=object)
        bad_rules = pd.DataFrame({"s": hits["s"].to_numpy()[bad], "rule_id": _obj(ids[hits["k"].to_numpy()[bad]])})
        joined = _features_per_site(bad_rules, n, "rule_id")
        idx = np.flatnonzero(joined != "")
        head[idx] = np.array([VERDICT_ZH[v] for v in VERDICTS], dtype=object)[rank[idx]] + "（" + joined[idx] + "）。"
    involved = np.full(n, None, dtype=object)
    missing = np.zeros(n, dtype=np.int64)
    labels: list[str] = []
    for layer in STATUS_LAYERS:
        if layer not in zoning or layer == "control_unit":
            continue
        feats = _features_per_site(touch.get(layer), n)
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
    units = _features_per_site(touch.get("control_unit"), n)
    idx = np.flatnonzero(units != "")
    units[idx] = "所在管控单元：" + units[idx] + "。"
    # One pass joining the four parts (each part was built only where it is not empty).
    return np.array(["".join(p) for p in zip(head, inv_text, table[inverse], units, strict=True)], dtype=object)


def screen(
    sites: gpd.GeoDataFrame | str | os.PathLike[str],
    zoning: Zoning | str | os.PathLike[str] | None = None,
    rules: RuleSet | str | os.PathLike[str] | None = None,
    *,
    project_type: str | None = None,
    id_field: str | None = None,
    type_field: str | None = None,
    sites_crs: str | None = None,
    xy_order: str | None = None,
    type_map: Mapping[str, str] | str | os.PathLike[str] | None = None,
    strict_types: bool = False,
    read_options: dict[str, Any] | None = None,
    prepared: PreparedZoning | None = None,
    chunk_size: int = 250_000,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> ScreeningResult:
    """Screen project sites against a zoning package.

    Parameters
    ----------
    sites : GeoDataFrame or path-like
        Sites (any CRS) or a file :func:`spatial.sites.read_sites` reads.
    zoning : Zoning or path-like, optional
        Loaded zoning or a package path; the bundled demo when omitted.
    rules : RuleSet or path-like, optional
        Rule catalogue; the shipped default when omitted.
    project_type : str, optional
        One project type for all sites.
    id_field, type_field : str, optional
        Site id / project-type columns.
    sites_crs : str, optional
        CRS of the sites (EPSG, cgcs2000, wgs84, gcj02, bd09).
    xy_order : {'survey', 'gis'}, optional
        Which of X/Y columns is the northing (default: decided from the numbers and the boundary).
    type_map : mapping or path-like, optional
        The bureau's own type names -> ecozone types (a dict, or a YAML/CSV file).
    strict_types : bool, default False
        Unknown project types are an error instead of ``other``.
    read_options : dict, optional
        More options for :func:`spatial.sites.read_sites` (``layer``,
        ``sheet``, ``coords``) when ``sites`` is a path.
    prepared : PreparedZoning, optional
        Reuse prepared zoning arrays (batch screening).
    chunk_size : int, default 250000
        Sites per chunk: bounds memory on very large inputs.
    progress : callable, optional
        Called with (done, total) after each chunk.
    threads : int, optional
        Threads for the geometry work (default :func:`default_threads`);
        results do not depend on it.

    Returns
    -------
    ScreeningResult
        Per-site verdicts and per-hit details.

    Examples
    --------
    >>> from spatial import screen
    >>> from spatial.zoning import demo_sites_path
    >>> result = screen(demo_sites_path())  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    started = datetime.now(UTC).astimezone()
    prep_sites, zoning, rules, sites_audit = prepare_inputs(
        sites, zoning, rules, project_type=project_type, id_field=id_field, type_field=type_field, sites_crs=sites_crs,
        xy_order=xy_order, type_map=type_map, strict_types=strict_types, read_options=read_options,
    )  # fmt: skip
    own_prepared = prepared is None or prepared.zoning is not zoning or prepared.types is not rules.types
    if own_prepared:
        prepared = prepare_zoning(zoning, rules.types)
    warn_unknown_bans(prepared)
    n = len(prep_sites)
    threads = default_threads() if threads is None else max(1, int(threads))
    hits_parts, rank_parts = [], []
    touch_parts: dict[str, list[pd.DataFrame]] = {}
    for start in range(0, max(n, 1), chunk_size):
        chunk = prep_sites.iloc[start : start + chunk_size]
        hits, touch, rank = screen_core(chunk, prepared, rules, threads=threads)
        hits["s"] = hits["s"].to_numpy(np.int64) + start
        hits_parts.append(hits)
        rank_parts.append(rank)
        for k, v in touch.items():
            v["s"] = v["s"].astype(np.int64) + start
            touch_parts.setdefault(k, []).append(v)
        if progress is not None:
            progress(min(start + chunk_size, n), n)
    if own_prepared:
        # GEOS keeps each prepared geometry's indexes (about 50 bytes per vertex) on
        # the zoning's own geometry objects; drop them before the report tables are built.
        release_prepared(prepared)
    hits = _concat(hits_parts)
    rank = np.concatenate(rank_parts) if rank_parts else np.zeros(0, dtype=np.int8)
    touch = {k: _concat(v) for k, v in touch_parts.items()}
    with _gc_paused():
        return assemble_result(prep_sites, hits, touch, rank, prepared, rules, sites_audit, t0=t0, started=started)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while millions of short-lived objects are made.

    Building the report tables creates a few objects per site; every
    700 allocations the collector would rescan them all (~20 % of the
    assembly time at 10^6 sites).  Nothing cyclic is created meanwhile.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def prepare_inputs(
    sites: gpd.GeoDataFrame | str | os.PathLike[str],
    zoning: Zoning | str | os.PathLike[str] | None,
    rules: RuleSet | str | os.PathLike[str] | None,
    *,
    project_type: str | None = None,
    id_field: str | None = None,
    type_field: str | None = None,
    sites_crs: str | None = None,
    xy_order: str | None = None,
    type_map: Mapping[str, str] | str | os.PathLike[str] | None = None,
    strict_types: bool = False,
    read_options: dict[str, Any] | None = None,
) -> tuple[gpd.GeoDataFrame, Zoning, RuleSet, dict[str, Any]]:
    """Load what a screening needs: sites prepared and reprojected, zoning, rules.

    Shared by every engine so they validate and reject inputs identically.

    Parameters
    ----------
    sites, zoning, rules, project_type, id_field, type_field, sites_crs, xy_order, type_map, strict_types, read_options
        As for :func:`screen`.

    Returns
    -------
    (GeoDataFrame, Zoning, RuleSet, dict)
        Prepared sites in the working CRS, the zoning, the rules and the
        sites' audit record.
    """
    zoning = zoning if isinstance(zoning, Zoning) else load_zoning(zoning)
    rules = rules if isinstance(rules, RuleSet) else load_rules(rules)
    if not rules.fixed:  # levels and local sources apply only where the package lies
        from spatial.jurisdiction import zoning_adcode

        rules = rules.for_adcode(*zoning_adcode(zoning))
    if isinstance(sites, (str, os.PathLike)):
        path = Path(sites)
        try:
            raw = read_sites_file(path, sites_crs=sites_crs, xy_order=xy_order, **(read_options or {}))
        except SitesCRSMissing as exc:
            raise explain_missing_crs(exc, zoning) from exc
        raw = fit_xy_to_boundary(raw, zoning, path.name)
        sites_audit = {"path": display_path(path), "sha256": input_sha256(path), "crs": describe_crs(raw.crs), "n_features": len(raw)}
        source = path.name
    else:
        raw = sites
        if raw.crs is None:
            from spatial.sites import _apply_crs

            raw = _apply_crs(raw, sites_crs, "sites")
        sites_audit = {"path": "(in memory)", "sha256": "", "crs": describe_crs(raw.crs), "n_features": len(raw)}
        source = ""
    types = site_types(rules.types, type_map)
    prep_sites = prepare_sites(
        raw, id_field=id_field, type_field=type_field, project_type=project_type, types=types, source=source, strict_types=strict_types
    )
    geoms = to_crs_geoms(np.asarray(prep_sites.geometry.values, dtype=object), CRS.from_user_input(prep_sites.crs), zoning.crs)
    prep_sites = prep_sites.set_geometry(gpd.GeoSeries(geoms, index=prep_sites.index, crs=zoning.crs), crs=zoning.crs)
    from spatial.sanity import check_sites_against_zoning, empty_layer_warnings

    check_sites_against_zoning(raw, prep_sites, zoning, source=source)
    sites_audit["zoning_warnings"] = empty_layer_warnings(zoning, [layer for rule in rules for layer in rule.layers])
    return prep_sites, zoning, rules, sites_audit


def warn_unknown_bans(prepared: PreparedZoning) -> None:
    """Warn about banned project types in control units that the vocabulary does not know.

    Parameters
    ----------
    prepared : PreparedZoning
        Prepared zoning (its ``unknown_bans``).
    """
    if prepared.unknown_bans:
        import warnings

        warnings.warn(
            f"环境管控单元禁止类中有无法识别的项目类型，未用于判定：{'、'.join(prepared.unknown_bans[:20])}；"
            "可在规则文件 project_types 中补充同义词。 / unrecognised banned types in control units were ignored",
            DataWarning,
            stacklevel=3,
        )


#: Suffixes read as GeoParquet (GDAL builds often lack the Parquet driver; pyarrow reads it directly).
PARQUET_SUFFIXES = (".parquet", ".geoparquet")


def read_sites_file(
    path: str | os.PathLike[str], *, sites_crs: str | None = None, xy_order: str | None = None, **options: Any
) -> gpd.GeoDataFrame:
    """Read a sites file: GeoParquet through pyarrow, anything else through :func:`read_sites`.

    Parameters
    ----------
    path : path-like
        Sites file.
    sites_crs : str, optional
        CRS override / fallback (see :func:`spatial.sites.read_sites`).
    xy_order : {'survey', 'gis'}, optional
        X/Y column order (see :func:`spatial.sites.read_sites`).
    **options
        ``layer``, ``sheet``, ``coords`` for :func:`spatial.sites.read_sites`.

    Returns
    -------
    GeoDataFrame
        Raw sites with a CRS.
    """
    path = Path(path)
    if path.suffix.lower() not in PARQUET_SUFFIXES:
        return read_sites(path, sites_crs=sites_crs, xy_order=xy_order, **options)
    from spatial.errors import FileFormatError, InputError
    from spatial.sites import _apply_crs

    if not path.exists():
        raise InputError(f"找不到地块文件：{path}", f"sites file not found: {path}")
    try:
        gdf = gpd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow/geopandas raise many types
        raise FileFormatError(
            f"无法读取 GeoParquet 文件 {path}：{exc}", f"cannot read GeoParquet {path}: {exc}"
        ) from exc
    return _apply_crs(gdf, sites_crs, path.name)


def _canonical_touch(pairs: pd.DataFrame) -> pd.DataFrame:
    """Touched pairs sorted by site, then feature (independent of chunking)."""
    order = np.lexsort((pairs["f"].to_numpy(), pairs["s"].to_numpy()))
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
        Coded hits (:func:`screen_core`) with the site index ``s`` (rows of
        one site in rule, then feature order).
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
    out.insert(5, "n_hits", counts[:n])
    if len(hits):
        # Site order (site ids are unique, so the site index orders them), stable within a site.
        s_idx = hits["s"].to_numpy(np.int64)
        if (s_idx[1:] < s_idx[:-1]).any():
            hits = hits.take(np.argsort(s_idx, kind="stable")).reset_index(drop=True)
    out.insert(6, "summary_zh", _summaries(out, rank, hits, touch, zoning, rules) if n else np.array([], dtype=object))
    dims = shapely.get_dimensions(np.asarray(out.geometry.values, dtype=object))
    out.insert(7, "area_m2", np.where(dims == 2, shapely.area(out.geometry.values), np.nan))
    out.insert(8, "length_m", np.where(dims == 1, shapely.length(out.geometry.values), np.nan))
    if len(hits):
        hits = expand_hits(hits, prepared, rules)
        hits.insert(0, "site_id", out["site_id"].to_numpy()[hits["s"].to_numpy()])
        hits = hits.drop(columns="s")
    else:
        hits = pd.DataFrame(columns=[*HIT_COLUMNS, "geometry"])
    audit = {
        "ecozone_version": __version__,
        "run_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 3),
        "rules": {"catalogue_id": rules.catalogue_id, "version": rules.version, "sha256": rules.sha256, "path": display_path(rules.path) if rules.path else ""},
        "zoning": [
            {"layer": s.layer, "path": display_path(s.path), "sha256": s.sha256, "crs": s.crs, "n_features": s.n_features}
            for s in zoning.sources
        ],
        "working_crs": describe_crs(zoning.crs),
        "sites": {k: v for k, v in sites_audit.items() if k != "zoning_warnings"},
        "warnings": list(sites_audit.get("zoning_warnings", [])),
    }
    if n == 0:
        audit["note"] = "无地块 / no sites"
    return ScreeningResult(sites=out, hits=hits, zoning=zoning, rules=rules, audit=audit, _touch=touch)

