"""Facts a report states about each site, measured from geometry.

For every site and every zoning layer: whether the site lies in (touches) the
layer, the overlap area in m², 公顷 and 亩 (ellipsoidal, GRS80, dissolved per
site so overlapping features are not counted twice), and the nearest feature
with its distance (metres, in the zoning's projected working CRS), direction
(八方位, grid north of that CRS: within the 1-2° meridian convergence of true
north, far below the 45° sector width) and name/code.  Plus each site's
coordinates in CGCS2000 degrees-minutes-seconds (centroid; vertices of small
polygons) and in the Gauss-Kruger zone of the input when it had one.

Everything is computed with shapely 2 array functions and
``STRtree.query``/``query_nearest``; there is no Python loop over sites or
features.

>>> from spatial.facts import dms, direction_zh
>>> dms(112.5, "lon")
'东经112°30′00.00″'
>>> direction_zh(45.0)
'东北'
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import REGISTRY
from spatial.crs import CGCS2000, GEOD, to_crs_geoms
from spatial.frames import records
from spatial.indicators import ellipsoidal_area

__all__ = [
    "SiteFacts",
    "nearest_pieces",
    "site_facts",
    "layer_facts",
    "FactsIndex",
    "LayerIndex",
    "feature_facts",
    "where_facts",
    "unit_overlaps",
    "hit_directions",
    "where_mask",
    "directions",
    "nearest_columns",
    "site_coordinates",
    "dms",
    "direction_zh",
    "M2_PER_MU",
    "SKIP_LAYERS",
    "FACT_COLUMNS",
]

#: One 亩 in square metres (10000/15).
M2_PER_MU = 10_000 / 15
#: Layers with no per-site facts or nearest columns (`LayerSpec.nearest` False: the boundary, every site is inside it).
SKIP_LAYERS = frozenset(n for n, s in REGISTRY.items() if not s.nearest)
#: Polygons with at most this many distinct vertices get their vertices listed (界址点).
SMALL_POLYGON_VERTICES = 12
_DIRECTIONS = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
FACT_COLUMNS = [
    "site_id", "layer", "inside", "n_inside", "inside_names", "inside_codes", "overlap_m2", "overlap_ha", "overlap_mu",
    "overlap_pct", "overlap_length_m", "nearest_name", "nearest_code", "distance_m", "edge_distance_m", "bearing_deg",
    "direction_zh",
]  # fmt: skip


@dataclass
class SiteFacts:
    """Facts for a set of sites.

    Attributes
    ----------
    layers : DataFrame
        One row per site x layer (:data:`FACT_COLUMNS`).
    coords : DataFrame
        One row per site: ``site_id``, ``lon``, ``lat`` (CGCS2000 degrees of
        the centroid), ``centroid_dms``, ``vertices_dms`` (list of text pairs,
        empty unless a small polygon), ``gk_zone_zh``, ``gk_x``, ``gk_y``
        (northing, easting in the input's Gauss-Kruger zone, else NaN).
    units : DataFrame, optional
        The result's ``units`` (site x control unit touched), ``overlap_m2`` ellipsoidal (:func:`unit_overlaps`).
    hit_directions : list of str
        八方位 of each finding's feature seen from its site (:func:`hit_directions`), in the order of the hits.
    """

    layers: pd.DataFrame
    coords: pd.DataFrame
    units: pd.DataFrame | None = None
    hit_directions: list[str] = field(default_factory=list)

    def get(self, site_id: str, layer: str) -> dict[str, Any] | None:
        """Facts of one site for one layer (None when the layer is absent).

        Parameters
        ----------
        site_id : str
            Site id.
        layer : str
            Layer name.

        Returns
        -------
        dict or None
            A :data:`FACT_COLUMNS` record.
        """
        key = (str(site_id), layer)
        if not hasattr(self, "_index"):
            self._index = {(str(r["site_id"]), r["layer"]): r for r in self.layers.to_dict("records")}
        return self._index.get(key)


# --------------------------------------------------------------------------- formatting


def dms(value: float, axis: str) -> str:
    """Degrees as 度分秒 text with the hemisphere in Chinese.

    Parameters
    ----------
    value : float
        Decimal degrees.
    axis : {'lon', 'lat'}
        Longitude (东经/西经) or latitude (北纬/南纬).

    Returns
    -------
    str
        E.g. ``东经112°30′00.00″``; seconds to 0.01″ (about 0.3 m).
    """
    if value is None or not np.isfinite(value):
        return ""
    prefix = ("东经" if value >= 0 else "西经") if axis == "lon" else ("北纬" if value >= 0 else "南纬")
    cs = round(abs(float(value)) * 360_000)  # hundredths of a second, rounded once so 59.995″ carries
    d, rem = divmod(cs, 360_000)
    m, s = divmod(rem, 6_000)
    return f"{prefix}{d}°{m:02d}′{s // 100:02d}.{s % 100:02d}″"


def direction_zh(bearing: float) -> str:
    """八方位 of a bearing (degrees clockwise from north).

    Parameters
    ----------
    bearing : float
        Bearing in degrees.

    Returns
    -------
    str
        北, 东北, 东, 东南, 南, 西南, 西 or 西北 ('' for NaN).
    """
    if bearing is None or not np.isfinite(bearing):
        return ""
    return _DIRECTIONS[int(np.floor((float(bearing) % 360 + 22.5) / 45)) % 8]


# --------------------------------------------------------------------------- measurement


def _labels(frame: pd.DataFrame, spec: Any) -> tuple[np.ndarray, np.ndarray]:
    """Display name and code of every feature (name falls back to the code)."""
    fid = frame["feature_id"].astype("string") if "feature_id" in frame else pd.Series(np.arange(len(frame)).astype(str))
    code_col = "code" if "code" in frame else (spec.id_field if spec is not None and spec.id_field in frame else None)
    code = frame[code_col].astype("string").fillna(fid) if code_col else fid
    name_col = spec.name_field if spec is not None and spec.name_field and spec.name_field in frame else None
    name = frame[name_col].astype("string").fillna(code) if name_col else code
    return name.fillna("").astype(str).to_numpy(dtype=object), code.fillna("").astype(str).to_numpy(dtype=object)


def _bearing(lines: np.ndarray) -> np.ndarray:
    """Bearing (degrees from grid north) from the start to the end of each line."""
    start = shapely.get_point(lines, 0)
    end = shapely.get_point(lines, -1)
    dx = shapely.get_x(end) - shapely.get_x(start)
    dy = shapely.get_y(end) - shapely.get_y(start)
    return np.degrees(np.arctan2(dx, dy)) % 360


def _join_by_site(site: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Distinct values joined with '、' per site ('' where none); pairs sorted by site."""
    out = np.full(n, "", dtype=object)
    if not len(site):
        return out
    seen: dict[int, dict[Any, None]] = {}  # per site, its distinct values in order (a few each: plain Python beats a groupby)
    for k, v in zip(site.tolist(), values.tolist(), strict=True):
        seen.setdefault(k, {})[v] = None
    for k, vs in seen.items():
        out[k] = "、".join(vs)
    return out


#: Vertices per boundary piece in the nearest-feature index (short pieces: cheap exact distances).
PIECE_VERTICES = 16


def _pieces(geoms: np.ndarray, size: int = PIECE_VERTICES) -> tuple[np.ndarray, np.ndarray]:
    """Cut feature outlines into short lines (points stay points), with the feature each comes from.

    Outside a polygon the distance to it is the distance to its boundary, so
    the nearest feature is found among short boundary pieces: each exact
    distance then costs ``size`` vertices, not the whole outline.
    """
    dims = shapely.get_dimensions(geoms)
    outline = np.where(dims == 2, shapely.boundary(geoms), geoms)
    parts, owner = shapely.get_parts(outline, return_index=True)
    is_point = shapely.get_type_id(parts) == 0
    lines, line_owner = parts[~is_point], owner[~is_point]
    xy, part = shapely.get_coordinates(lines, return_index=True)
    if not len(xy):
        return parts[is_point], owner[is_point]
    start = np.r_[0, np.flatnonzero(np.diff(part)) + 1]
    count = np.diff(np.r_[start, len(xy)])
    pos = np.arange(len(xy)) - np.repeat(start, count)
    last = np.repeat(count - 1, count)
    step = size - 1
    # A vertex at a cut ends one piece and starts the next: repeat it.
    cut = (pos % step == 0) & (pos > 0) & (pos < last)
    rep = np.where(cut, 2, 1)
    xy2 = np.repeat(xy, rep, axis=0)
    pos2 = np.repeat(pos, rep)
    part2 = np.repeat(part, rep)
    second = np.zeros(len(xy2), dtype=bool)
    second[np.cumsum(rep)[cut] - 1] = True  # the repeated copy starts the next piece
    chunk = np.where(second, pos2 // step, np.maximum(pos2 - 1, 0) // step)
    key = part2.astype(np.int64) * (int(last.max()) // step + 2) + chunk
    _, piece_id = np.unique(key, return_inverse=True)
    pieces = shapely.linestrings(xy2, indices=piece_id)
    first = np.r_[0, np.flatnonzero(np.diff(piece_id)) + 1]
    piece_owner = line_owner[part2[first]]
    return np.concatenate([pieces, parts[is_point]]), np.concatenate([piece_owner, owner[is_point]])


def nearest_pieces(
    sg: np.ndarray, fg: np.ndarray, tree: shapely.STRtree | None = None, outline: tuple[np.ndarray, np.ndarray, shapely.STRtree] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest feature of every site: index (-1 when none), distance (0 inside) and a nearest piece (for bearings).

    Sites inside a feature are found with one predicate query (prepared);
    the others search the short boundary pieces of :func:`_pieces`.

    Parameters
    ----------
    sg : numpy.ndarray
        Site geometries (projected, metres).
    fg : numpy.ndarray
        Feature geometries in the same CRS.
    tree : shapely.STRtree, optional
        A tree over ``fg`` when the caller already has one.
    outline : (ndarray, ndarray, STRtree), optional
        The boundary pieces of ``fg``, the feature each comes from and their tree, made beforehand
        (:class:`LayerIndex`); cut here when absent.

    Returns
    -------
    tuple of numpy.ndarray
        Nearest feature index (-1 when there is none), distance in metres
        (0 inside) and the nearest boundary piece.
    """
    n = len(sg)
    nf = np.full(n, -1)
    dist = np.full(n, np.nan)
    piece = np.full(n, None, dtype=object)
    if not n or not len(fg):
        return nf, dist, piece
    tree = tree if tree is not None else shapely.STRtree(fg)
    s, f = tree.query(sg, predicate="intersects")
    first = np.unique(s, return_index=True)[1]
    nf[s[first]] = f[first]
    dist[s[first]] = 0.0
    out = np.flatnonzero(nf < 0)
    if len(out):
        pieces, owner, ptree = outline if outline is not None else (*_pieces(fg), None)
        ptree = ptree if ptree is not None else shapely.STRtree(pieces)
        idx, d = ptree.query_nearest(sg[out], all_matches=False, return_distance=True)
        nf[out[idx[0]]] = owner[idx[1]]
        dist[out[idx[0]]] = d
        piece[out[idx[0]]] = pieces[idx[1]]
    return nf, dist, piece


def _dissolved_overlap(site_geoms: np.ndarray, feat_geoms: np.ndarray, s: np.ndarray, f: np.ndarray, n: int) -> np.ndarray:
    """Per site, the union of its intersections with the given features (None where none)."""
    out = np.full(n, None, dtype=object)
    if not len(s):
        return out
    pieces = shapely.intersection(site_geoms[s], feat_geoms[f])
    single = np.bincount(s, minlength=n) == 1
    one = single[s]
    out[s[one]] = pieces[one]
    if (~one).any():
        # A site in several (possibly overlapping) features: clip the site by the union of those features.
        # (A union of the clipped pieces is not enough: pieces of one line cut by two polygons differ by
        # rounding, do not merge, and their lengths add up past the line's own length.)
        # The pairs are sorted by site, then feature: each site's features are one run (unioned in that order).
        ms, mg = s[~one], feat_geoms[f[~one]]
        idx, starts = np.unique(ms, return_index=True)
        ends = np.r_[starts[1:], len(ms)]
        # Each feature cut to a metre around its site's box first: the union then works on the few vertices near
        # the site, not on whole zones of thousands (the same shape inside the box, where the site lies).
        boxes = (shapely.bounds(site_geoms[idx]) + np.array([-1.0, -1.0, 1.0, 1.0])).tolist()
        unions = np.array(
            [shapely.union_all(shapely.clip_by_rect(mg[a:b], *box)) for a, b, box in zip(starts.tolist(), ends.tolist(), boxes, strict=True)],
            dtype=object,
        )
        out[idx] = shapely.intersection(site_geoms[idx], unions)
    return out


def _measure(
    sg: np.ndarray, ids: np.ndarray, dims: np.ndarray, site_area: np.ndarray, crs: CRS, name: str, layer: gpd.GeoDataFrame,
    spec: Any, ready: LayerIndex | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Facts of every site against the features of one layer (one vectorised pass; overlaps dissolved per site).

    ``ready`` holds the layer's geometries, labels and trees made beforehand (:class:`FactsIndex`).
    """
    n = len(sg)
    if ready is None:
        ready = LayerIndex.of(layer, spec, outline=False)
    fg, label, code, tree = ready.geoms, ready.label, ready.code, ready.tree
    s, f = tree.query(sg, predicate="intersects") if n else (np.zeros(0, int), np.zeros(0, int))
    order = np.lexsort((f, s))
    s, f = s[order], f[order]
    inside = np.bincount(s, minlength=n) > 0 if n else np.zeros(0, bool)
    overlap = _dissolved_overlap(sg, fg, s, f, n)
    has = np.array([g is not None for g in overlap], dtype=bool) if n else np.zeros(0, bool)
    m2 = np.zeros(n)
    length = np.zeros(n)
    poly = has & (dims == 2)
    if poly.any():
        m2[poly] = ellipsoidal_area(overlap[poly], crs)
    line = has & (dims == 1)
    if line.any():
        geo = to_crs_geoms(overlap[line], crs, CGCS2000)
        length[line] = [GEOD.geometry_length(g) for g in geo]  # noqa: C416 - pyproj measures one geometry per call
    nf, dist, piece = nearest_pieces(sg, fg, tree, ready.outline)
    ok = nf >= 0
    bearing = np.full(n, np.nan)
    edge = np.full(n, np.nan)
    if ok.any():
        within = ok & inside
        # How deep inside: distance to the containing feature's edge (0 for a site crossing it).
        edge[within] = shapely.distance(sg[within], shapely.boundary(fg[nf[within]]))
        out = ok & ~inside
        if out.any():
            bearing[out] = _bearing(shapely.shortest_line(sg[out], piece[out]))
    return pd.DataFrame(
        {
            "site_id": ids,
            "layer": name,
            "inside": inside,
            "n_inside": np.bincount(s, minlength=n)[:n] if n else np.zeros(0, int),
            "inside_names": _join_by_site(s, label[f], n),
            "inside_codes": _join_by_site(s, code[f], n),
            "overlap_m2": m2,
            "overlap_ha": m2 / 10_000,
            "overlap_mu": m2 / M2_PER_MU,
            "overlap_pct": np.where(site_area > 0, 100 * m2 / np.where(site_area > 0, site_area, 1), np.nan),
            "overlap_length_m": length,
            "nearest_name": np.where(ok, label[np.maximum(nf, 0)] if len(label) else "", ""),
            "nearest_code": np.where(ok, code[np.maximum(nf, 0)] if len(code) else "", ""),
            "distance_m": dist,
            "edge_distance_m": edge,
            "bearing_deg": bearing,
            "direction_zh": [direction_zh(b) for b in bearing],
        }
    )


@dataclass(frozen=True)
class LayerIndex:
    """One layer's arrays for :func:`layer_facts`: geometries, display names and codes, and search trees.

    Attributes
    ----------
    geoms : ndarray
        Feature geometries (working CRS).
    label, code : ndarray of str
        Display name and code per feature.
    tree : shapely.STRtree
        Tree over ``geoms``.
    outline : (ndarray, ndarray, STRtree) or None
        The features' short boundary pieces, the feature each comes from, and their tree
        (None: cut when first needed).
    """

    geoms: np.ndarray
    label: np.ndarray
    code: np.ndarray
    tree: shapely.STRtree
    outline: tuple[np.ndarray, np.ndarray, shapely.STRtree] | None

    @classmethod
    def of(cls, layer: gpd.GeoDataFrame, spec: Any, *, outline: bool = True) -> LayerIndex:
        """Build the arrays of one layer.

        Parameters
        ----------
        layer : GeoDataFrame
            The layer (working CRS).
        spec : LayerSpec or None
            Its spec (name and code fields).
        outline : bool, default True
            Cut the boundary pieces now (a server answering many checks) or leave them to the first use.

        Returns
        -------
        LayerIndex
            Ready for :func:`layer_facts`.
        """
        fg = np.asarray(layer.geometry.values, dtype=object)
        label, code = _labels(pd.DataFrame(layer.drop(columns=layer.geometry.name)), spec)
        cut = None
        if outline:
            pieces, owner = _pieces(fg) if len(fg) else (np.zeros(0, dtype=object), np.zeros(0, dtype=np.intp))
            cut = (pieces, owner, shapely.STRtree(pieces))
        return cls(fg, label, code, shapely.STRtree(fg), cut)


class FactsIndex:
    """The per-layer arrays :func:`layer_facts` needs, made once for a zoning and reused for every call.

    Answers are the same as without it; a warm server keeps one per zoning version so that
    the facts of one drawn site do not rebuild every layer's names, trees and outlines.

    Parameters
    ----------
    zoning : Zoning
        The zoning package.
    """

    def __init__(self, zoning: Any) -> None:
        self.zoning = zoning
        self.layers: dict[str, LayerIndex] = {
            name: LayerIndex.of(zoning.layers[name], zoning.spec(name) if hasattr(zoning, "spec") else None)
            for name in _fact_layers(zoning, None)
        }


def _fact_layers(zoning: Any, layers: list[str] | None) -> list[str]:
    """Layers with facts: the given (default all) non-empty ones but :data:`SKIP_LAYERS`."""
    return [k for k in (layers or list(zoning.layers)) if k not in SKIP_LAYERS and k in zoning.layers and len(zoning.layers[k])]


def layer_facts(sites: gpd.GeoDataFrame, zoning: Any, layers: list[str] | None = None, *, index: FactsIndex | None = None) -> pd.DataFrame:
    """Inside/overlap/nearest facts for every site x zoning layer.

    Parameters
    ----------
    sites : GeoDataFrame
        Sites with ``site_id``, in the zoning's (projected) working CRS.
    zoning : Zoning
        The zoning package.
    layers : list of str, optional
        Layers to measure (default: every non-empty layer but the boundary).
    index : FactsIndex, optional
        The layers' arrays made beforehand for this ``zoning`` (same answers, less work per call).

    Returns
    -------
    DataFrame
        :data:`FACT_COLUMNS`, sites in input order within each layer.
        ``overlap_*`` are ellipsoidal (GRS80) and 0 for point and line sites;
        ``overlap_length_m`` is the geodesic length of a line site inside;
        ``distance_m`` is 0 when inside; ``edge_distance_m`` is then the
        distance to that feature's edge.
    """
    at = _Sites.of(sites, zoning)
    names = _fact_layers(zoning, layers)
    ready = index.layers if index is not None and index.zoning is zoning else {}
    frames = [  # a handful of layers; each is one vectorised pass over all sites
        _measure(
            at.geoms, at.ids, at.dims, at.area, at.crs, name, zoning.layers[name], zoning.spec(name) if hasattr(zoning, "spec") else None,
            ready.get(name),
        )  # fmt: skip
        for name in names
    ]
    if not frames:
        return pd.DataFrame(columns=FACT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[FACT_COLUMNS]


def where_mask(layer: pd.DataFrame, where: Any) -> np.ndarray:
    """Features of a layer meeting a rule's attribute condition.

    Parameters
    ----------
    layer : DataFrame
        A normalised zoning layer.
    where : mapping of str to sequence of str, optional
        Field -> allowed canonical values (a rule's ``where``); empty: every feature.

    Returns
    -------
    ndarray of bool
        One flag per feature (a missing field keeps none).
    """
    keep = np.ones(len(layer), dtype=bool)
    for fname, allowed in dict(where or {}).items():
        if fname not in layer:
            return np.zeros(len(layer), dtype=bool)
        keep &= layer[fname].astype("string").isin([str(a) for a in allowed]).fillna(False).to_numpy(dtype=bool)
    return keep


@dataclass(frozen=True)
class _Sites:
    """The arrays every measurement of a set of sites reads: geometries, ids, dimensions, areas, CRS."""

    geoms: np.ndarray
    ids: np.ndarray
    dims: np.ndarray
    area: np.ndarray
    crs: CRS

    @classmethod
    def of(cls, sites: gpd.GeoDataFrame, zoning: Any) -> _Sites:
        n = len(sites)
        sg = np.asarray(sites.geometry.values, dtype=object)
        crs = CRS.from_user_input(zoning.crs)
        dims = shapely.get_dimensions(sg) if n else np.zeros(0, int)
        area = np.where(dims == 2, ellipsoidal_area(sg, crs), np.nan) if n else np.zeros(0)
        return cls(sg, sites["site_id"].astype(str).to_numpy(dtype=object), dims, area, crs)


def feature_facts(sites: gpd.GeoDataFrame, zoning: Any, layer: str, keep: np.ndarray | None = None) -> pd.DataFrame:
    """Inside/overlap/nearest facts of every site against a selection of one layer's features.

    The facts of one report row: the features its rules read (their ``where``),
    dissolved per site, so an overlap never exceeds the site's area and a
    crossing length never exceeds the site's length.

    Parameters
    ----------
    sites : GeoDataFrame
        Sites with ``site_id``, in the zoning's working CRS.
    zoning : Zoning
        The zoning package.
    layer : str
        Layer name.
    keep : ndarray of bool, optional
        Features to use (default: all).

    Returns
    -------
    DataFrame
        :data:`FACT_COLUMNS`, one row per site (empty selection: nothing inside, no nearest).
    """
    return _feature_facts(_Sites.of(sites, zoning), zoning, layer, keep)


def _feature_facts(
    at: _Sites, zoning: Any, layer: str, keep: np.ndarray | None = None, whole: LayerIndex | None = None
) -> pd.DataFrame:  # fmt: skip
    """:func:`feature_facts` of prepared sites; ``whole`` is the layer's index, whose arrays a selection takes from."""
    frame = zoning.layers[layer]
    ready = None
    if keep is not None:
        keep = np.asarray(keep, dtype=bool)
        frame = frame[keep]
        if whole is not None:  # the selection's names and codes are the whole layer's (features keep their ids)
            geoms = whole.geoms[keep]
            ready = LayerIndex(geoms, whole.label[keep], whole.code[keep], shapely.STRtree(geoms), None)
    spec = zoning.spec(layer) if hasattr(zoning, "spec") else None
    return _measure(at.geoms, at.ids, at.dims, at.area, at.crs, layer, frame, spec, ready)[FACT_COLUMNS]


def where_facts(
    sites: gpd.GeoDataFrame, zoning: Any, selections: Mapping[Hashable, tuple[str, Sequence[Mapping[str, Any]]]],
    known: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> dict[Hashable, dict[str, dict[str, Any]] | None]:
    """Facts of every site against several selections of features, each selection measured once.

    A selection is a layer and the ``where`` conditions of some rules (the
    features any of them reads; none: every feature).  Selections that pick
    the same features of a layer are measured once (:func:`feature_facts`).

    Parameters
    ----------
    sites : GeoDataFrame
        Sites with ``site_id``, in the zoning's working CRS.
    zoning : Zoning
        The zoning package.
    selections : mapping
        Key -> (layer name, sequence of ``where`` mappings).
    known : mapping, optional
        (site id, layer) -> facts against every feature of the layer, already measured
        (:func:`layer_facts` records): a selection of every feature takes them.

    Returns
    -------
    dict
        Key -> site id -> :data:`FACT_COLUMNS` record; None for a key whose layer is absent or empty.
    """
    measured: dict[tuple[str, bytes], dict[str, dict[str, Any]]] = {}
    out: dict[Hashable, dict[str, dict[str, Any]] | None] = {}
    at = _Sites.of(sites, zoning) if selections else None
    whole: dict[str, LayerIndex | None] = {}  # per layer, names and codes made once for all its selections
    for key, (layer, wheres) in selections.items():
        frame = zoning.layers.get(layer)
        if frame is None or not len(frame):
            out[key] = None
            continue
        keep = np.zeros(len(frame), dtype=bool)
        for w in wheres or ({},):
            keep |= where_mask(frame, w)
        picked = (layer, np.packbits(keep).tobytes() + len(keep).to_bytes(8, "little"))
        if picked not in measured and known is not None and keep.all():
            ids = sites["site_id"].astype(str).tolist()
            if all((i, layer) in known for i in ids):  # every feature: the layer's own facts, measured already
                measured[picked] = {i: dict(known[(i, layer)]) for i in ids}
        if picked not in measured:
            if layer not in whole:  # a layer without feature ids numbers a selection's features anew: made per selection
                spec = zoning.spec(layer) if hasattr(zoning, "spec") else None
                whole[layer] = LayerIndex.of(frame, spec, outline=False) if "feature_id" in frame else None
            assert at is not None
            ff = _feature_facts(at, zoning, layer, keep, whole[layer])
            measured[picked] = {str(r["site_id"]): r for r in records(ff)}
        out[key] = measured[picked]
    return out


def unit_overlaps(sites: gpd.GeoDataFrame, units: pd.DataFrame | None, zoning: Any) -> pd.DataFrame | None:
    """Ellipsoidal (GRS80) overlap of each site with each control unit it touches, as a report states areas.

    The engine's per-unit overlap is a plane area (fine for deciding, not for
    stating next to the ellipsoidal site area); it is measured again here.

    Parameters
    ----------
    sites : GeoDataFrame
        Sites with ``site_id``, in the zoning's working CRS.
    units : DataFrame, optional
        ``ScreeningResult.units``: ``site_id``, ``code``, ``overlap_m2`` ….
    zoning : Zoning
        The zoning package (its ``control_unit`` layer).

    Returns
    -------
    DataFrame or None
        ``units`` with ``overlap_m2`` ellipsoidal where the site is a polygon (``units`` itself when there is nothing to measure).
    """
    cu = zoning.layers.get("control_unit") if zoning is not None else None
    if units is None or not len(units) or cu is None or "code" not in cu:
        return units
    site_geom = pd.Series(sites.geometry.values, index=sites["site_id"].astype(str))
    unit_geom = pd.Series(cu.geometry.values, index=cu["code"].astype(str))
    unit_geom = unit_geom[~unit_geom.index.duplicated()]
    a = site_geom.reindex(units["site_id"].astype(str).to_numpy()).to_numpy(dtype=object)
    b = unit_geom.reindex(units["code"].astype(str).to_numpy()).to_numpy(dtype=object)
    ok = np.array([isinstance(x, shapely.Geometry) and isinstance(y, shapely.Geometry) for x, y in zip(a, b, strict=True)])
    ok &= np.array([isinstance(x, shapely.Geometry) and shapely.get_dimensions(x) == 2 for x in a])
    out = units.copy()
    if ok.any():
        m2 = np.full(len(units), np.nan)
        m2[ok] = ellipsoidal_area(shapely.intersection(a[ok], b[ok]), zoning.crs)
        out["overlap_m2"] = np.where(ok, m2, pd.to_numeric(units["overlap_m2"], errors="coerce"))
    return out


def directions(origins: np.ndarray, targets: np.ndarray) -> list[str]:
    """八方位 of each target seen from its origin (along the shortest line between them).

    Parameters
    ----------
    origins, targets : ndarray of shapely geometries
        Pairs in one projected CRS.

    Returns
    -------
    list of str
        '' where the two touch or either is missing.
    """
    o = np.asarray(origins, dtype=object)
    t = np.asarray(targets, dtype=object)
    out = [""] * len(o)
    ok = ~(shapely.is_missing(o) | shapely.is_missing(t))
    if ok.any():
        idx = np.flatnonzero(ok)
        lines = shapely.shortest_line(o[idx], t[idx])
        apart = shapely.length(lines) > 0
        bearings = _bearing(lines[apart])
        for i, b in zip(idx[apart], bearings, strict=True):
            out[i] = direction_zh(b)
    return out


def hit_directions(hits: pd.DataFrame | None, sites: gpd.GeoDataFrame, zoning: Any) -> list[str]:
    """八方位 of each finding's feature seen from its site.

    Parameters
    ----------
    hits : DataFrame, optional
        ``ScreeningResult.hits`` (``site_id``, ``layer``, ``feature_id``).
    sites : GeoDataFrame
        Sites with ``site_id``, in the zoning's working CRS.
    zoning : Zoning
        The zoning package.

    Returns
    -------
    list of str
        One per hit: 北 … 西北; '' when they touch or the feature is not found.
    """
    n = 0 if hits is None else len(hits)
    if not n or zoning is None:
        return [""] * n
    site_geom = dict(zip(sites["site_id"].astype(str), sites.geometry.values, strict=True))
    origins = np.array([site_geom.get(str(v)) for v in hits["site_id"]], dtype=object)
    targets = np.full(n, None, dtype=object)
    for layer in pd.unique(hits["layer"].astype(str)):  # a handful of layers; the lookup within each is vectorised
        frame = zoning.layers.get(layer)
        if frame is None or "feature_id" not in frame:
            continue
        geoms = pd.Series(frame.geometry.values, index=frame["feature_id"].astype(str))
        geoms = geoms[~geoms.index.duplicated()]
        rows = np.flatnonzero((hits["layer"].astype(str) == layer).to_numpy())
        targets[rows] = geoms.reindex(hits["feature_id"].astype(str).to_numpy()[rows]).to_numpy(dtype=object)
    targets = np.array([t if isinstance(t, shapely.Geometry) else None for t in targets], dtype=object)
    origins = np.array([o if isinstance(o, shapely.Geometry) else None for o in origins], dtype=object)
    return directions(origins, targets)


def nearest_columns(sites: gpd.GeoDataFrame, zoning: Any) -> pd.DataFrame:
    """Per layer, the distance (m, 0 inside) to the nearest feature and its name.

    The columns ``sites.csv`` gains: ``<layer>_distance_m`` and
    ``<layer>_nearest`` for every non-empty layer but the boundary.  One
    prepared ``intersects`` query and one ``query_nearest`` over short
    boundary pieces per layer (:func:`_nearest`).

    Parameters
    ----------
    sites : GeoDataFrame
        Sites in the zoning's working CRS.
    zoning : Zoning
        The zoning package.

    Returns
    -------
    DataFrame
        Aligned with ``sites`` (same index).
    """
    sg = np.asarray(sites.geometry.values, dtype=object)
    cols: dict[str, Any] = {}
    for name, layer in zoning.layers.items():
        if name in SKIP_LAYERS or not len(layer):
            continue
        fg = np.asarray(layer.geometry.values, dtype=object)
        label, _ = _labels(
            pd.DataFrame(layer.drop(columns=layer.geometry.name)), zoning.spec(name) if hasattr(zoning, "spec") else None
        )
        nf, d, _ = nearest_pieces(sg, fg)
        dist = np.round(d, 1)
        nearest = np.where(nf >= 0, label[np.maximum(nf, 0)], "").astype(object)
        cols[f"{name}_distance_m"] = dist
        cols[f"{name}_nearest"] = nearest
    return pd.DataFrame(cols, index=sites.index)


def _gk_zone(crs: CRS | None) -> str:
    """Chinese description of a Gauss-Kruger CRS ('' when the CRS is not one)."""
    if crs is None or not crs.is_projected:
        return ""
    name = crs.name or ""
    if "Gauss-Kruger" not in name and "Gauss Kruger" not in name:
        return ""
    m = re.search(r"(\d+)-degree Gauss-Kruger (?:zone (\d+)|CM (\d+)E)", name)
    width = m.group(1) if m else ""
    cm = ""
    for p in crs.coordinate_operation.params if crs.coordinate_operation else ():
        if "central meridian" in p.name.lower() or "natural origin" in p.name.lower() and "longitude" in p.name.lower():
            cm = f"{p.value:g}"
    datum = "CGCS2000" if "CGCS2000" in name else name.split("/")[0].strip()
    epsg = crs.to_epsg()
    parts = [datum, f"{width}度带" if width else "高斯-克吕格投影", f"中央经线{cm}°E" if cm else ""]
    return " ".join(p for p in parts if p) + (f"（EPSG:{epsg}）" if epsg else "")


def site_coordinates(sites: gpd.GeoDataFrame, input_crs: Any = None) -> pd.DataFrame:
    """Centroid (and small-polygon vertex) coordinates in CGCS2000 度分秒.

    Parameters
    ----------
    sites : GeoDataFrame
        Sites with ``site_id`` and a CRS.
    input_crs : CRS-like, optional
        The CRS the sites were delivered in; when it is a Gauss-Kruger zone,
        the centroid is also given there (X = northing, Y = easting, as in a
        坐标成果表).

    Returns
    -------
    DataFrame
        See :attr:`SiteFacts.coords`.
    """
    n = len(sites)
    crs = CRS.from_user_input(sites.crs)
    sg = np.asarray(sites.geometry.values, dtype=object)
    cen = shapely.centroid(sg)
    geo = to_crs_geoms(cen, crs, CGCS2000) if n else cen
    lon, lat = shapely.get_x(geo), shapely.get_y(geo)
    out = pd.DataFrame(
        {
            "site_id": sites["site_id"].astype(str).to_numpy(),
            "lon": lon,
            "lat": lat,
            "centroid_dms": [f"{dms(x, 'lon')}，{dms(y, 'lat')}" for x, y in zip(lon, lat, strict=True)],
        }
    )
    vertices: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    dims = shapely.get_dimensions(sg) if n else np.zeros(0, int)
    small = (dims == 2) & (shapely.get_num_geometries(sg) == 1) if n else np.zeros(0, bool)
    if small.any():
        rings = shapely.get_exterior_ring(shapely.get_geometry(sg[small], 0))
        counts = shapely.get_num_coordinates(rings) - 1
        keep = np.flatnonzero(small)[counts <= SMALL_POLYGON_VERTICES]
        rings = rings[counts <= SMALL_POLYGON_VERTICES]
        if len(rings):
            xy, owner = shapely.get_coordinates(to_crs_geoms(rings, crs, CGCS2000), return_index=True)
            last = np.r_[owner[1:] != owner[:-1], True]  # drop each ring's closing vertex
            xy, owner = xy[~last], owner[~last]
            text = [(dms(x, "lon"), dms(y, "lat")) for x, y in xy]
            for o, t in zip(owner, text, strict=True):  # output rows only; the maths above is vectorised
                vertices[keep[o]].append(t)
    out["vertices_dms"] = vertices
    gk = CRS.from_user_input(input_crs) if input_crs is not None else None
    zone = _gk_zone(gk)
    out["gk_zone_zh"] = zone
    if zone and n:
        p = to_crs_geoms(cen, crs, gk)
        out["gk_x"], out["gk_y"] = shapely.get_y(p), shapely.get_x(p)
    else:
        out["gk_x"], out["gk_y"] = np.nan, np.nan
    return out


def input_crs_of(audit: dict[str, Any] | None) -> CRS | None:
    """Find the sites' input CRS in a screening audit record (None when unknown).

    Parameters
    ----------
    audit : dict, optional
        ``ScreeningResult.audit``.

    Returns
    -------
    pyproj.CRS or None
        Parsed from the recorded ``EPSG:nnnn`` label.
    """
    text = str(((audit or {}).get("sites") or {}).get("crs") or "")
    m = re.match(r"\s*(EPSG:\d+)", text)
    if not m:
        return None
    try:
        return CRS.from_user_input(m.group(1))
    except Exception:  # noqa: BLE001 - pyproj raises CRSError and others for odd labels
        return None


def site_facts(result: Any) -> SiteFacts:
    """All facts for a screening result's sites.

    Parameters
    ----------
    result : ScreeningResult
        Screening output (sites in the zoning's working CRS).

    Returns
    -------
    SiteFacts
        Layer facts, coordinates and the control units' overlaps.

    Examples
    --------
    >>> from spatial import screen
    >>> from spatial.facts import site_facts
    >>> facts = site_facts(screen("sites.csv"))  # doctest: +SKIP
    """
    sites = result.sites
    return SiteFacts(
        layers=layer_facts(sites, result.zoning),
        coords=site_coordinates(sites, input_crs_of(getattr(result, "audit", None))),
        units=unit_overlaps(sites, getattr(result, "units", None), result.zoning),
        hit_directions=hit_directions(getattr(result, "hits", None), sites, result.zoning),
    )
