"""Bulk spatial queries: (feature, site) pairs that touch or lie within a distance, measured.

One STRtree over the *sites*, queried with each zoning layer's (prepared)
geometries — the fast orientation for complex polygons.  Long zoning lines
are queried as short pieces so their bounding boxes do not sweep up every
site.  Every function returns a pair table with columns ``f`` (feature
index), ``s`` (site index) and the measurements its query produces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from spatial.engine.prepared import PreparedZoning, ensure_prepared

__all__ = [
    "TOUCH_M", "query_pairs", "layer_pairs", "measure", "touch_pairs", "distance_pairs", "outside_pairs", "outside_layer_pairs", "feature_ranges", "obj",
]  # fmt: skip

#: Sites closer than this (m) to a feature count as touching it: a point
#: digitised on a shared edge in WGS84 lands a few nanometres off after
#: reprojection, and must still hit both units.
TOUCH_M = 1e-3
#: Layers (feature ranges) with fewer features are queried whole: looking up the features
#: near the sites first pays only when there are many (:func:`layer_pairs`).
NEAR_FIRST_FEATURES = 64
#: The near-first lookup is used when at most this share of the features is near the sites.
NEAR_FIRST_SHARE = 0.5


def obj(values: np.ndarray) -> pd.Series:
    """Wrap values as an object-dtype column (pandas would otherwise convert strings to its str dtype on every frame).

    Parameters
    ----------
    values : ndarray
        Values.

    Returns
    -------
    Series
        Object-dtype series over the same values.
    """
    return pd.Series(values, dtype=object, copy=False)


def query_pairs(
    site_tree: shapely.STRtree,
    geoms: np.ndarray,
    distance: float | np.ndarray,
    pieces: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(feature, site) index pairs within ``distance``, in feature order.

    The zoning side is the (prepared) query geometry: the fast orientation.
    With ``pieces`` the layer's lines are queried piecewise and the hits
    mapped back to their features.

    Parameters
    ----------
    site_tree : shapely.STRtree
        Tree over the site geometries.
    geoms : ndarray
        Zoning geometries (the query side).
    distance : float or ndarray
        Distance, or one per feature.
    pieces : (ndarray, ndarray), optional
        Line pieces of ``geoms`` and their owner feature (:func:`~spatial.engine.prepared.split_lines`).

    Returns
    -------
    (ndarray, ndarray)
        Feature and site indexes.
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


def layer_pairs(
    tree: shapely.STRtree, sg: np.ndarray, prepared: PreparedZoning, layer: str, lo: int, hi: int, distance: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(feature, site) pairs of features ``lo:hi`` of ``layer`` within ``distance`` of a site (per feature, or one for all).

    Many sites query their own tree with the layer's (prepared) geometries
    (:func:`query_pairs`).  When the sites cover a small part of a large layer
    (a batch of suitability faces, a few drawn parcels, one site) only the
    features near them are looked at: the layer's own tree
    (:meth:`PreparedZoning.layer_tree`, made once) gives the features whose
    envelope, grown by the distance, meets the sites' extent (one site: its
    envelope).  The exact test is the same prepared ``dwithin``, and the pairs
    come out in the same order, so the answer is identical.

    Parameters
    ----------
    tree : shapely.STRtree
        Tree over ``sg``.
    sg : ndarray
        Site geometries.
    prepared : PreparedZoning
        Prepared zoning.
    layer : str
        Layer name.
    lo, hi : int
        Feature range.
    distance : float or ndarray
        Distance, or one per feature of ``lo:hi``.

    Returns
    -------
    (ndarray, ndarray)
        Feature indexes (into the whole layer) and site indexes.
    """
    geoms = prepared.geoms[layer]
    whole = (lo, hi) == (0, len(geoms))
    pieces = prepared.pieces.get(layer) if whole else None
    if not len(sg) or hi - lo < NEAR_FIRST_FEATURES:
        f, s = query_pairs(tree, geoms[lo:hi], distance, pieces)
        return f + lo, s
    qgeoms, owner = pieces if pieces is not None else (geoms, None)
    per = isinstance(distance, np.ndarray)
    reach = (float(np.nanmax(distance)) if len(distance) else 0.0) if per else float(distance)
    x0, y0, x1, y1 = shapely.total_bounds(sg)
    cand = np.sort(prepared.layer_tree(layer).query(shapely.box(x0 - reach, y0 - reach, x1 + reach, y1 + reach)))
    if owner is None:
        cand = cand[(cand >= lo) & (cand < hi)]
    if len(cand) > NEAR_FIRST_SHARE * (hi - lo if owner is None else len(qgeoms)):
        f, s = query_pairs(tree, geoms[lo:hi], distance, pieces)  # the sites spread over the layer: no saving
        return f + lo, s
    d = (distance[owner[cand]] if owner is not None else distance[cand - lo]) if per else distance
    if len(sg) == 1:  # one site: test the candidates against it directly
        hit = cand[shapely.dwithin(qgeoms[cand], sg[0], d)]
        f = np.unique(owner[hit]).astype(np.intp) if owner is not None else hit.astype(np.intp)
        return f, np.zeros(len(f), dtype=np.intp)
    if owner is not None:  # the candidate pieces, mapped back to their features as any piece query is
        return query_pairs(tree, geoms, distance, (qgeoms[cand], owner[cand]))
    f, s = query_pairs(tree, geoms[cand], d)
    return cand[f].astype(np.intp), s


def measure(site_geoms: np.ndarray, feat_geoms: np.ndarray, f: np.ndarray, s: np.ndarray) -> pd.DataFrame:
    """Overlap area/%, length inside for (feature, site) pairs that intersect.

    Parameters
    ----------
    site_geoms, feat_geoms : ndarray
        Site and feature geometries (working CRS, metres).
    f, s : ndarray
        Feature and site index of each pair.

    Returns
    -------
    DataFrame
        ``overlap_m2``, ``overlap_pct``, ``length_m``, ``inside`` (the feature
        contains the site) and ``geometry`` (the part of the site inside).
    """
    cols = _measured(site_geoms, feat_geoms, f, s)
    out = pd.DataFrame({k: v for k, v in cols.items() if k != "geometry"})
    if "geometry" in cols:
        out["geometry"] = cols["geometry"]
    return out


def _measured(site_geoms: np.ndarray, feat_geoms: np.ndarray, f: np.ndarray, s: np.ndarray) -> dict[str, object]:
    """Return the columns of :func:`measure` (``geometry`` an object Series; absent when there are no pairs)."""
    n = len(f)
    area = np.full(n, np.nan)
    pct = np.full(n, np.nan)
    length = np.full(n, np.nan)
    if not n:
        return {"overlap_m2": area, "overlap_pct": pct, "length_m": length, "inside": np.zeros(0, dtype=bool)}
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
    return {"overlap_m2": area, "overlap_pct": pct, "length_m": length, "inside": inside, "geometry": obj(np.where(inside, sg, inter))}


def feature_ranges(prepared: PreparedZoning, layer: str, threads: int) -> list[tuple[int, int]]:
    """Split a layer's features into contiguous ranges of similar vertex counts.

    GEOS prepared geometries are not thread-safe (their indexes are built
    lazily and carry state), so a feature range is only ever worked on by
    one thread at a time; ranges let big layers spread over threads.

    Parameters
    ----------
    prepared : PreparedZoning
        Prepared zoning.
    layer : str
        Layer name.
    threads : int
        Threads that will share the work.

    Returns
    -------
    list of (int, int)
        Half-open feature ranges covering the layer.
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


def touch_pairs(tree: shapely.STRtree, sg: np.ndarray, prepared: PreparedZoning, layer: str, lo: int, hi: int) -> pd.DataFrame:
    """Pairs of features ``lo:hi`` of ``layer`` touching a site (within TOUCH_M, or the feature's reach), measured.

    Parameters
    ----------
    tree : shapely.STRtree
        Tree over ``sg``.
    sg : ndarray
        Site geometries.
    prepared : PreparedZoning
        Prepared zoning.
    layer : str
        Layer name.
    lo, hi : int
        Feature range (one thread works on it).

    Returns
    -------
    DataFrame
        ``f``, ``s``, measurements (:func:`measure`; ``distance_m`` for
        layers with a reach) and ``label``.
    """
    geoms = prepared.geoms[layer]
    ensure_prepared(prepared, layer, lo, hi)
    # Only features lo:hi: another task owns the rest of the layer (a corridor layer of
    # polygons is split into ranges like any other, so it must not query all of it).
    if layer in prepared.reach:
        f, s = layer_pairs(tree, sg, prepared, layer, lo, hi, prepared.reach[layer][lo:hi] + TOUCH_M)
        cols: dict[str, object] = {"f": f, "s": s, "distance_m": shapely.distance(geoms[f], sg[s])}
    else:
        f, s = layer_pairs(tree, sg, prepared, layer, lo, hi, TOUCH_M)
        cols = {"f": f, "s": s, **_measured(sg, geoms, f, s)}
    cols["label"] = obj(prepared.labels[layer][f])
    return pd.DataFrame(cols)  # one frame built once: a check of one site pays this per layer


def distance_pairs(
    tree: shapely.STRtree, sg: np.ndarray, prepared: PreparedZoning, layer: str, lo: int, hi: int, distance: float, away: np.ndarray | None
) -> pd.DataFrame:
    """Pairs of features ``lo:hi`` within ``distance`` of a site, with the distance.

    Parameters
    ----------
    tree : shapely.STRtree
        Tree over ``sg``.
    sg : ndarray
        Site geometries.
    prepared : PreparedZoning
        Prepared zoning.
    layer : str
        Layer name.
    lo, hi : int
        Feature range.
    distance : float
        Metres.
    away : ndarray of bool or None
        Sites to keep (None: all), e.g. those not touching the layer.

    Returns
    -------
    DataFrame
        ``f``, ``s``, ``distance_m``, ``label``.
    """
    geoms = prepared.geoms[layer]
    ensure_prepared(prepared, layer, lo, hi)
    f, s = layer_pairs(tree, sg, prepared, layer, lo, hi, distance)
    if away is not None:
        keep = away[s]
        f, s = f[keep], s[keep]
    pairs = pd.DataFrame({"f": f, "s": s, "distance_m": shapely.distance(geoms[f], sg[s])})
    pairs["label"] = obj(prepared.labels[layer][f])
    return pairs


def outside_pairs(prepared: PreparedZoning, sg: np.ndarray) -> pd.DataFrame:
    """Sites not inside the boundary: any part beyond TOUCH_M outside it.

    Parameters
    ----------
    prepared : PreparedZoning
        Prepared zoning (its boundary).
    sg : ndarray
        Site geometries.

    Returns
    -------
    DataFrame
        ``f`` (0: the boundary), ``s``, ``distance_m``, ``label``.
    """
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
    pairs["label"] = obj(np.full(len(s), prepared.labels["boundary"][0] if len(prepared.labels["boundary"]) else "", dtype=object))
    return pairs


def outside_layer_pairs(
    prepared: PreparedZoning, sg: np.ndarray, layer: str, selected: np.ndarray | None, nearest: bool = True
) -> pd.DataFrame:
    """Sites with a part inside the planning boundary that no selected feature of ``layer`` covers.

    "Outside every industrial park", "outside the development boundary": only
    the part of a site inside the planning boundary is judged (beyond it the
    package says nothing; the ``outside`` rule on ``boundary`` covers that).
    Each pair names the nearest selected feature and the distance to it (0
    when the site is partly inside one).

    Parameters
    ----------
    prepared : PreparedZoning
        Prepared zoning.
    sg : ndarray
        Site geometries.
    layer : str
        Layer name (not ``boundary``).
    selected : ndarray of bool or None
        Features that count (a rule's ``where``); None: all.
    nearest : bool, default True
        Find the nearest selected feature and the distance to it (a nearest-neighbour
        search over whole polygons, the costliest part).  False when only the
        verdict is wanted: ``f`` is -1 and ``distance_m`` NaN.

    Returns
    -------
    DataFrame
        ``f`` (nearest selected feature; -1 when none is selected or ``nearest`` is False), ``s``,
        ``distance_m``, ``overlap_m2`` / ``overlap_pct`` (area of the site
        outside, polygons), ``length_m`` (length outside, lines), ``geometry``
        (that outside part; None for points) and ``label``.
    """
    geoms = prepared.geoms[layer]
    idx = np.flatnonzero(selected) if selected is not None else np.arange(len(geoms))
    cover = prepared.union_of(layer, idx)
    # Only sites not wholly covered are candidates; covers() on the prepared union is one fast pass.
    cand = np.flatnonzero(~shapely.covers(cover, sg)) if not shapely.is_empty(cover) else np.arange(len(sg))
    g = sg[cand]
    dim = shapely.get_dimensions(g)
    # The part inside the planning area; prepared covers() spares the overlay for most sites.
    in_area = shapely.covers(prepared.boundary, g)
    inside_b = g.copy()
    partial = ~in_area & (dim > 0)
    inside_b[partial] = shapely.intersection(g[partial], prepared.boundary)
    inside_b[~in_area & (dim == 0)] = shapely.Point()
    outside = np.full(len(g), None, dtype=object)
    outside[dim > 0] = shapely.difference(inside_b[dim > 0], cover)
    area = np.where(dim == 2, shapely.area(outside), np.nan)
    length = np.where(dim == 1, shapely.length(outside), np.nan)
    # A point on a feature's edge (within TOUCH_M) is inside it; with nothing selected every point is outside.
    point_out = (dim == 0) & in_area & ~shapely.dwithin(cover, g, TOUCH_M)
    keep = point_out | (area > TOUCH_M**2) | (length > TOUCH_M)
    s, g = cand[keep], g[keep]
    if len(idx) and nearest:
        near, dist = shapely.STRtree(geoms[idx]).query_nearest(g, return_distance=True, all_matches=False)
        order = np.argsort(near[0], kind="stable")  # query_nearest returns pairs sorted by feature
        f = np.empty(len(g), dtype=np.intp)
        d = np.empty(len(g))
        f[near[0][order]] = idx[near[1][order]]
        d[near[0][order]] = dist[order]
    else:
        f, d = np.full(len(g), -1, dtype=np.intp), np.full(len(g), np.nan)
    site_area = shapely.area(g)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(site_area > 0, 100.0 * area[keep] / site_area, np.nan)
    pairs = pd.DataFrame({"f": f, "s": s, "distance_m": d, "overlap_m2": area[keep], "overlap_pct": pct, "length_m": length[keep]})
    pairs["geometry"] = obj(outside[keep])  # the part outside, to highlight (None for points)
    labels = prepared.labels[layer]
    pairs["label"] = obj(np.where(f >= 0, labels[np.maximum(f, 0)] if len(labels) else "", ""))
    return pairs
