"""Suitability: the county partitioned into areas by the verdict a site there would get.

How the partition stays equal to ``screen`` by construction:

1. every boundary a rule for the project type can react to is collected:
   the edges of the polygon features of each layer a rule reads, and of
   those features buffered by each distance a rule uses (``buffer_m``,
   ``distance_m``, corridor widths), plus the county boundary and the steep
   slope cells of an optional DEM;
2. the boundaries are noded (``shapely.union_all``) and polygonised, tile by
   tile, into faces.  No rule condition is crossed inside a face, so a site
   anywhere in a face touches the same zones and distances as any other;
3. one interior point per face (``shapely.point_on_surface``) is screened by
   :func:`spatial.screen` — the engine ``ecozone screen`` runs — and
   the face takes that point's verdict and rules;
4. faces are dissolved by class and rules, and measured on the ellipsoid.

The partition is deliberately finer than the rules need (``where`` filters and
ban lists are not pre-applied): only the engine decides verdicts, so a new
rule mode or catalogue level changes the map with no change here.  Circular
buffer arcs are drawn with enough segments to stay within
:data:`ARC_TOLERANCE_M` of the true distance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.engine.parallel import default_threads, fork_is_safe
from spatial.errors import InputError
from spatial.measure import ellipsoidal_area, equal_area
from spatial.project_types import VERDICT_RANK, VERDICT_ZH, VERDICTS
from spatial.rules import RuleSet
from spatial.screening import PreparedZoning, prepare_zoning, screen
from spatial.terrain import SLOPE_RULE_ID, SLOPE_UNKNOWN_ID, SLOPE_UNKNOWN_ZH, Terrain, slope_label
from spatial.zoning import Zoning

__all__ = [
    "checked_inputs",
    "offset_buffer",
    "Suitability",
    "suitability",
    "partition",
    "screen_points",
    "screen_codes",
    "CLASSES",
    "class_zh",
    "ARC_TOLERANCE_M",
    "TOLERANCE_M",
    "partition_levels",
    "iter_levels",
    "BATCH_VERTICES",
    "vertex_tiles",
    "node_faces",
    "AREA_TOLERANCE",
    "resolve_rules",
    "effective_rules",
]

#: Largest gap (m) between a drawn buffer arc and the true distance circle.
ARC_TOLERANCE_M = 0.1
#: Grid the edges are snap-rounded to when noded (m).
NODING_GRID_M = 1e-3
#: Largest distance (m) stated between a drawn area edge and the true rule edge: arcs (10 cm), the
#: two-step buffer check (5 cm), the noding grid (1 mm) and GEOS's own buffer, which may fill
#: notches shallower than 1 % of the distance (0.63 m measured for 500 m; tests bound it by 1 m).
TOLERANCE_M = 1.0
#: Relative tolerance within which the class areas must add up to the county.
AREA_TOLERANCE = 1e-4
#: Suitability classes, mildest first; the raster code is the position + 1 (0 = outside the county).
CLASSES = ("compatible", "notice", "restricted_slope", "restricted", "prohibited", "slope_unknown")
_CLASS_ZH = {**VERDICT_ZH, "restricted_slope": "限制", "slope_unknown": f"关注（{SLOPE_UNKNOWN_ZH}）"}
#: Faces per engine call (bounds memory on a province).
_SCREEN_CHUNK = 200_000


def class_zh(cls: str, max_slope: float = 25.0) -> str:
    """Chinese label of a suitability class (``限制（坡度>25°）`` for the slope class).

    Parameters
    ----------
    cls : str
        One of :data:`CLASSES`.
    max_slope : float, default 25
        Slope threshold in degrees.

    Returns
    -------
    str
        Label.
    """
    return f"限制（{slope_label(max_slope)}）" if cls == "restricted_slope" else _CLASS_ZH[cls]


@dataclass
class Suitability:
    """Suitability partition for one project type.

    Attributes
    ----------
    project_type : str
        Canonical project type.
    project_type_input : str
        The type as the user wrote it.
    areas : GeoDataFrame
        Dissolved areas: ``class``, ``class_zh``, ``verdict``, ``verdict_zh``,
        ``rules`` (rule ids hit, 、-joined), ``cause`` (the rules giving the
        verdict), ``area_m2`` (ellipsoidal), geometry in the zoning CRS.
    table : DataFrame
        Per class: ``class``, ``class_zh``, ``code``, ``area_km2``, ``pct``.
    county_m2 : float
        Ellipsoidal area of the county (dissolved boundary).
    faces : int
        Faces screened before dissolving.
    max_slope : float or None
        Slope threshold when a DEM was used.
    notes : list of str
        Statements for the outputs (slope rule, DEM source, precision).
    tolerance_m : float
        Largest distance (m) between an area edge and the true rule edge
        (:data:`TOLERANCE_M`); only sites that close to an edge may differ.
    screened : int
        Interior points screened by the engine (all levels).
    """

    project_type: str
    project_type_input: str
    areas: gpd.GeoDataFrame
    table: pd.DataFrame
    county_m2: float
    faces: int
    max_slope: float | None = None
    notes: list[str] = field(default_factory=list)
    tolerance_m: float = field(default=0.0)
    screened: int = 0

    @property
    def crs(self) -> CRS:
        """CRS of :attr:`areas`."""
        return CRS.from_user_input(self.areas.crs)

    def allowed_region(self, worst: str = "compatible") -> shapely.Geometry:
        """Union of the areas whose class is no worse than ``worst``.

        Parameters
        ----------
        worst : str, default 'compatible'
            A verdict; the slope class counts as ``restricted``.

        Returns
        -------
        shapely.Geometry
            The region (possibly empty).
        """
        rank = self.areas["verdict"].map(VERDICT_RANK).to_numpy()
        ok = rank <= VERDICT_RANK[worst]
        return shapely.union_all(np.asarray(self.areas.geometry.values, dtype=object)[ok])


def resolve_rules(rules: RuleSet, zoning: Zoning) -> RuleSet:
    """Resolve a catalogue stack for the zoning's own jurisdiction, exactly as ``screen`` does.

    Parameters
    ----------
    rules : RuleSet
        Loaded catalogue (levels not yet fixed to a place, or fixed by ``--adcode``).
    zoning : Zoning
        The package whose boundary decides which provincial and local rules apply.

    Returns
    -------
    RuleSet
        The rules ``screen`` would apply there.
    """
    if getattr(rules, "fixed", True):
        return rules
    from spatial.jurisdiction import zoning_adcode

    return rules.for_adcode(*zoning_adcode(zoning))


def _arc_segments(distance: float) -> int:
    """Segments per quarter circle keeping the chord within ARC_TOLERANCE_M of the arc."""
    if distance <= ARC_TOLERANCE_M:
        return 1
    half = math.acos(1.0 - ARC_TOLERANCE_M / distance)
    return max(8, math.ceil((math.pi / 2) / (2 * half)))


def _rule_keys(zoning: Zoning, rule: Any) -> list[tuple[str, Any]]:
    """(layer, distance) edge sources one rule reacts to.

    Distance keys: None (the features themselves), 'width' (their reach), a number
    (``buffer_m``/``distance_m``), or ``("setback", field, ((class, metres), ...))``
    (the reach plus a setback by class).  An ``overlay`` rule also reacts to the
    features of the layers it looks into.
    """
    usable = [lay for lay in rule.layers if lay in zoning.layers and len(zoning.layers[lay]) and lay != "boundary"]
    params = getattr(rule, "params", None) or {}
    for lay, _where in params.get("areas", ()) if isinstance(params, dict) else ():
        if lay in zoning.layers and len(zoning.layers[lay]) and lay != "boundary" and lay not in usable:
            usable.append(lay)
    out: list[tuple[str, Any]] = []
    for layer in usable:
        keys: list[Any] = [None]
        if layer in rule.layers:
            for attr in ("buffer_m", "distance_m"):
                d = getattr(rule, attr, None)
                if d == "width":
                    keys.append("width")
                elif isinstance(d, (int, float)) and d > 0:
                    keys.append(float(d))
            if isinstance(params, dict) and isinstance(params.get("setback_m"), dict):
                keys.append(("setback", params["class_field"], tuple(sorted(params["setback_m"].items()))))
        if zoning.spec(layer).reach is not None:  # the engine's touch test is "within the feature's reach"
            keys.append("width")
        out += [(layer, k) for k in keys]
    return out


def _rule_sources(zoning: Zoning, rules: RuleSet, ptype: str) -> dict[str, set[Any]]:
    """Layer -> distances (None: the features themselves; 'width': corridor widths) the type's rules read."""
    out: dict[str, set[Any]] = {}
    for rule in rules:
        if rule.type_verdicts.get(ptype) is None:
            continue
        for layer, key in _rule_keys(zoning, rule):
            out.setdefault(layer, {None}).add(key)
    return out


def _distances(zoning: Zoning, layer: str, key: Any) -> np.ndarray:
    """Buffer distance per feature of ``layer`` for a distance key of :func:`_rule_keys`."""
    frame = zoning.layers[layer]
    if key is None:
        return np.zeros(len(frame))
    if key == "width":
        return np.asarray(zoning.spec(layer).reach(frame), dtype=float)
    if isinstance(key, tuple):
        _, field_name, table = key
        reach = np.asarray(zoning.spec(layer).reach(frame), dtype=float) if zoning.spec(layer).reach is not None else np.zeros(len(frame))
        cls = frame[field_name] if field_name in frame else pd.Series([None] * len(frame), index=frame.index)
        extra = cls.astype(object).map(dict(table)).to_numpy(dtype=float)
        return np.where(np.isfinite(extra), reach + np.nan_to_num(extra), np.nan)  # no setback for other classes
    return np.full(len(frame), float(key))


#: Distances above this are buffered in two steps (see :func:`offset_buffer`).
STAGE_ABOVE_M = 50.0
#: The first, small step.
STAGE_FIRST_M = 8.0
#: The intermediate steps after it (a step is taken only below the distance): each smooths
#: the outline further, so the next, larger step offsets fewer sharp turns (8 → 40 m → the
#: distance is ~2x faster than 8 m → the distance on wiggly red lines, measured).
STAGE_STEPS_M = (40.0,)
#: Largest outward error a two-step buffer may have before the feature is buffered directly.
STAGE_CHECK_M = 0.05


def offset_buffer(g: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Buffer each geometry by its own distance, arcs within ARC_TOLERANCE_M.

    A wiggly polygon buffered by hundreds of metres makes GEOS intersect
    every offset segment with its neighbours (~160 µs a vertex).  Dilation by
    a disk composes (``buffer(buffer(P, a), b) == buffer(P, a + b)``), and
    after a first 8 m step the outline is smooth, so the next step costs
    ~5x less; a 40 m step in between halves it again (:data:`STAGE_STEPS_M`).  GEOS may shave shallow notches of the intermediate outline,
    which can only make the result larger: every two-step result is checked
    at its vertices and edge midpoints against the exact distance
    (``dwithin`` on the prepared feature) and a feature more than
    :data:`STAGE_CHECK_M` off is buffered again in one step.

    Parameters
    ----------
    g : numpy.ndarray
        Geometries (projected, metres).
    d : numpy.ndarray
        Buffer distance of each, in metres.

    Returns
    -------
    numpy.ndarray
        The buffered geometries.
    """
    out = np.empty(len(g), dtype=object)
    big = d > STAGE_ABOVE_M
    if (~big).any():
        out[~big] = shapely.buffer(g[~big], d[~big], quad_segs=_arc_segments(float(d[~big].max())))
    if not big.any():
        return out
    gb, db = g[big], d[big]
    b = shapely.buffer(gb, STAGE_FIRST_M, quad_segs=_arc_segments(STAGE_FIRST_M))
    done = np.full(len(gb), STAGE_FIRST_M)
    for step in STAGE_STEPS_M:
        go = db > step + STAGE_FIRST_M
        if go.any():
            b[go] = shapely.buffer(b[go], step - done[go], quad_segs=_arc_segments(step))
            done[go] = step
    b = shapely.buffer(b, db - done, quad_segs=_arc_segments(float(db.max())))
    xy, own = shapely.get_coordinates(shapely.boundary(b), return_index=True)
    same = own[1:] == own[:-1]
    mid = (xy[1:][same] + xy[:-1][same]) / 2.0
    pts = shapely.points(np.concatenate([xy, mid]))
    owner = np.concatenate([own, own[1:][same]])
    shapely.prepare(gb)
    far = ~shapely.dwithin(gb[owner], pts, db[owner] + STAGE_CHECK_M)
    redo = np.unique(owner[far])
    if len(redo):
        b[redo] = shapely.buffer(gb[redo], db[redo], quad_segs=_arc_segments(float(db.max())))
    out[big] = b
    return out


def _buffered(g: np.ndarray, d: np.ndarray | float, threads: int) -> np.ndarray:
    """:func:`offset_buffer` split over threads (GEOS releases the GIL)."""
    dd = np.broadcast_to(np.asarray(d, dtype=float), (len(g),)).copy()
    if threads <= 1 or len(g) < 64:
        return offset_buffer(g, dd)
    from concurrent.futures import ThreadPoolExecutor

    # interleaved chunks: big features are not all in one thread's share
    cuts = [np.arange(k, len(g), threads * 4) for k in range(threads * 4)]
    out = np.empty(len(g), dtype=object)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for idx, part in zip(cuts, pool.map(lambda i: offset_buffer(g[i], dd[i]), cuts), strict=True):
            out[idx] = part
    return out


def _edges(zoning: Zoning, rules: RuleSet, ptype: str, extra: list[np.ndarray], threads: int) -> np.ndarray:
    """Collect every edge that may cut the partition.

    These are the polygon rings of the layers the type's rules read, the rings of
    their buffers at each rule distance, and those of ``extra`` polygons.  Buffers are not dissolved: features of one layer may differ in what rules see (a river
    and a road in one corridor layer), so every feature's own buffer edge must cut the faces.
    """
    out = []
    for layer, dists in _rule_sources(zoning, rules, ptype).items():
        frame = zoning.layers[layer]
        g = np.asarray(frame.geometry.values, dtype=object)
        ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
        g = g[ok]
        for d in dists:
            if d is None:
                out.append(shapely.boundary(g[shapely.get_dimensions(g) == 2]))
            else:
                dd = _distances(zoning, layer, d)[ok]
                out.append(shapely.boundary(_buffered(g[np.isfinite(dd)], dd[np.isfinite(dd)], threads)))
    out += [shapely.boundary(x) for x in extra if len(x)]
    edges = np.concatenate(out) if out else np.zeros(0, dtype=object)
    return edges[~shapely.is_empty(edges)]


def _tiles(county: shapely.Geometry, tile_m: float | None) -> list[shapely.Geometry]:
    xmin, ymin, xmax, ymax = county.bounds
    if not tile_m:
        return [shapely.box(xmin - 1, ymin - 1, xmax + 1, ymax + 1)]
    xs = np.arange(xmin - 1, xmax + 1, tile_m)
    ys = np.arange(ymin - 1, ymax + 1, tile_m)
    boxes = shapely.box(*np.meshgrid(xs, ys), *np.meshgrid(xs + tile_m, ys + tile_m)).ravel()
    return list(boxes[shapely.intersects(boxes, county)])


def _ranked_sources(zoning: Zoning, rules: RuleSet, ptype: str) -> dict[tuple[str, Any], int]:
    """(layer, distance) -> worst verdict rank of the type's rules that react to its edges.

    Distances are as in :func:`_rule_sources` (None: the features, 'width': their reach).
    Rules whose verdict for the type is 符合 are left out: a 符合 hit changes neither
    the class nor the rules listed.
    """
    out: dict[tuple[str, Any], int] = {}
    for rule in rules:
        verdict = rule.type_verdicts.get(ptype)
        if verdict is None or VERDICT_RANK[verdict] == 0:
            continue
        for key in _rule_keys(zoning, rule):
            out[key] = max(out.get(key, 0), VERDICT_RANK[verdict])
    return out


def _level_edges(
    zoning: Zoning, sources: list[tuple[str, Any]], threads: int, near: np.ndarray | None = None
) -> np.ndarray:
    """Edges of some sources; with ``near`` (undecided faces) only the features that can reach them.

    A feature's ring can only cut a face it meets, and its buffer ring one within
    the buffer distance: features whose envelope, grown by the distance, meets no
    undecided face's envelope are not buffered at all.
    """
    out = []
    tree = shapely.STRtree(near) if near is not None else None
    for layer, d in sources:
        g = np.asarray(zoning.layers[layer].geometry.values, dtype=object)
        dist = _distances(zoning, layer, d)
        ok = ~(shapely.is_missing(g) | shapely.is_empty(g)) & np.isfinite(dist)
        if d is None:
            ok &= shapely.get_dimensions(g) == 2
        window = None
        if tree is not None:
            idx = np.flatnonzero(ok)
            # envelope test only: exact distances to large faces cost more than the buffers they would save
            grown = shapely.box(*(shapely.bounds(g[idx]) + np.outer(dist[idx] + 1.0, [-1, -1, 1, 1])).T)
            fi, fj = tree.query(grown)
            hit = np.zeros(len(g), dtype=bool)
            hit[idx[fi]] = True
            # the envelope of the faces each feature may reach, grown by its distance + 1 m
            fb = shapely.bounds(near)[fj]
            win = np.full((len(g), 4), [np.inf, np.inf, -np.inf, -np.inf])
            np.minimum.at(win[:, 0], idx[fi], fb[:, 0])
            np.minimum.at(win[:, 1], idx[fi], fb[:, 1])
            np.maximum.at(win[:, 2], idx[fi], fb[:, 2])
            np.maximum.at(win[:, 3], idx[fi], fb[:, 3])
            ok &= hit
            window = win[ok] + np.outer(dist[ok] + 1.0, [-1, -1, 1, 1])
        g, dist = g[ok], dist[ok]
        if not len(g):
            continue
        if d is not None and window is not None:
            g = _clip_to_window(g, window)
            keep = ~shapely.is_empty(g)
            g, dist = g[keep], dist[keep]
        out.append(shapely.boundary(g if d is None else _buffered(g, dist, threads)))
    edges = np.concatenate(out) if out else np.zeros(0, dtype=object)
    return edges[~shapely.is_empty(edges)] if len(edges) else edges


def _clip_to_window(g: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Each feature cut to its window (xmin, ymin, xmax, ymax) before it is buffered.

    The window is the envelope of the faces the feature may reach, grown by the buffer
    distance + 1 m.  Within a face every point nearer than the distance to the feature
    has its nearest feature point inside the window, so the cut feature's buffer ring
    is the same there; the cut's own edges buffer to rings at least 1 m outside the
    faces' envelope.  A wiggly red line far larger than the open faces near it is
    buffered only where it matters.
    """
    fb = shapely.bounds(g)
    inside = (fb[:, 0] >= window[:, 0]) & (fb[:, 1] >= window[:, 1]) & (fb[:, 2] <= window[:, 2]) & (fb[:, 3] <= window[:, 3])
    out = g.copy()
    cut = np.flatnonzero(~inside)
    if len(cut):
        out[cut] = shapely.intersection(g[cut], shapely.box(*window[cut].T))
    return out


def node_faces(lines: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Faces of the arrangement of ``lines`` that lie inside one of the ``keep`` polygons.

    The unit of work of a tile, run locally or on a Dask worker: the lines are
    snap-rounded to a 1 mm grid (the engine's touch distance, so noding never drops a
    near-coincident edge), polygonised, and a face is kept when its interior point is
    covered by a ``keep`` polygon.  ``lines`` must include the boundaries of ``keep``.

    Parameters
    ----------
    lines : ndarray of LineString/MultiLineString
        Every edge crossing the tile, clipped to it.
    keep : ndarray of Polygon
        The area to partition (the county in the tile, or the faces being refined).

    Returns
    -------
    ndarray of Polygon
        Faces covering ``keep``.
    """
    lines = lines[~shapely.is_empty(lines)]
    if not len(lines):
        return np.zeros(0, dtype=object)
    f = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines, grid_size=NODING_GRID_M))))
    if not len(f):
        return f
    p, _ = shapely.STRtree(keep).query(shapely.point_on_surface(f), predicate="covered_by")
    return f[np.unique(p)]


#: Edge vertices per tile when tiles are sized by vertex count.
TILE_VERTICES = 150_000
#: Smallest tile side (m): below it a tile is not split further.
TILE_MIN_M = 2_000.0


def vertex_tiles(county: shapely.Geometry, edges: np.ndarray, max_vertices: int = TILE_VERTICES) -> list[shapely.Geometry]:
    """Boxes over the county holding at most ``max_vertices`` edge vertices each (quadtree split).

    Vertices are counted on a 1 km grid from each edge's envelope centre, so the
    split costs no pass over the coordinates; the noding work of a tile grows with
    its vertices, not its area.
    """
    xmin, ymin, xmax, ymax = county.bounds
    xmin, ymin, xmax, ymax = xmin - 1, ymin - 1, xmax + 1, ymax + 1
    n = shapely.get_num_coordinates(edges)
    if n.sum() <= max_vertices:
        return [shapely.box(xmin, ymin, xmax, ymax)]
    cell = 1000.0
    nx, ny = max(1, math.ceil((xmax - xmin) / cell)), max(1, math.ceil((ymax - ymin) / cell))
    b = shapely.bounds(edges)
    ix = np.clip(((b[:, 0] + b[:, 2]) / 2 - xmin) // cell, 0, nx - 1).astype(np.int64)
    iy = np.clip(((b[:, 1] + b[:, 3]) / 2 - ymin) // cell, 0, ny - 1).astype(np.int64)
    grid = np.zeros((ny + 1, nx + 1))
    np.add.at(grid, (iy + 1, ix + 1), n)
    sat = grid.cumsum(0).cumsum(1)  # summed-area table

    def count(i0: int, j0: int, i1: int, j1: int) -> float:
        return float(sat[j1, i1] - sat[j0, i1] - sat[j1, i0] + sat[j0, i0])

    out: list[tuple[int, int, int, int]] = []
    stack = [(0, 0, nx, ny)]
    while stack:  # a few hundred boxes at most
        i0, j0, i1, j1 = stack.pop()
        if count(i0, j0, i1, j1) <= max_vertices or (i1 - i0) * cell <= TILE_MIN_M and (j1 - j0) * cell <= TILE_MIN_M:
            out.append((i0, j0, i1, j1))
            continue
        im, jm = (i0 + i1) // 2, (j0 + j1) // 2
        for box in ((i0, j0, im, jm), (im, j0, i1, jm), (i0, jm, im, j1), (im, jm, i1, j1)):
            if box[0] < box[2] and box[1] < box[3]:
                stack.append(box)
    x = lambda i: min(xmin + i * cell, xmax)  # noqa: E731
    y = lambda j: min(ymin + j * cell, ymax)  # noqa: E731
    boxes = np.array([shapely.box(x(i0), y(j0), x(i1), y(j1)) for i0, j0, i1, j1 in sorted(out)], dtype=object)
    return list(boxes[shapely.intersects(boxes, county)])


def _run_tiles(make: Callable[[int], tuple[np.ndarray, np.ndarray]], n: int, threads: int, scheduler: str | None) -> list[np.ndarray]:
    """:func:`node_faces` for tiles ``0..n-1`` whose (lines, keep) ``make(i)`` builds: on Dask with a scheduler address, else in threads.

    Locally a tile's clipped lines exist only while it is noded, so peak memory holds
    a few tiles' copies of the edges, not all of them.
    """
    if not n:
        return []
    if scheduler:
        from spatial.engine.dask import dask_client

        with dask_client(scheduler=scheduler) as client:
            futures = []
            for i in range(n):  # one tile's lines at a time on the client
                lines, keep = make(i)
                futures.append(client.submit(node_faces, lines, keep, pure=False))
            return client.gather(futures)
    if threads > 1 and n > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(lambda i: node_faces(*make(i)), range(n)))
    return [node_faces(*make(i)) for i in range(n)]


@dataclass
class _Levels:
    """Faces decided level by level, with the engine's answer at each face's interior point."""

    faces: np.ndarray
    tile: np.ndarray
    verdicts: np.ndarray
    hits: pd.DataFrame
    cut_rank: np.ndarray
    levels: list[int]
    screened: int
    noded: np.ndarray | None = None  # which polygonisation each face came from (one exact coverage each)


#: Edge vertices per batch of tiles taken through every level together: a batch's faces,
#: points and hits are the only ones in memory, so peak memory does not grow with the province.
BATCH_VERTICES = 1_000_000
_HIT_COLUMNS = ["s", "rule_id", "verdict"]


def _slim(hits: pd.DataFrame) -> pd.DataFrame:
    """Only what the partition reads from the engine's hits (face, rule, verdict): a province has millions."""
    return hits[_HIT_COLUMNS].reset_index(drop=True) if len(hits) else pd.DataFrame(columns=_HIT_COLUMNS)


def effective_rules(rules: RuleSet, zoning: Zoning) -> RuleSet:
    """Return the rules ``screen`` applies to this zoning: its manifest's access lists and the coverage rules, added once."""
    from spatial.engine.coverage import with_coverage
    from spatial.list_rules import attach_manifest_lists

    if "lists" not in rules.extra:
        rules = attach_manifest_lists(rules, zoning)
    return with_coverage(rules, zoning)


def _tile_batches(tiles: list[shapely.Geometry], edges: np.ndarray, tree: shapely.STRtree, budget: int) -> list[list[int]]:
    """Consecutive tiles (the quadtree's order keeps them together) holding at most ``budget`` edge vertices each."""
    n = shapely.get_num_coordinates(edges)
    out: list[list[int]] = [[]]
    acc = 0
    for i, tile in enumerate(tiles):
        v = int(n[tree.query(tile)].sum())
        if out[-1] and acc + v > budget:
            out.append([])
            acc = 0
        out[-1].append(i)
        acc += v
    return out if out[-1] else out[:-1]


def partition_levels(
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    **kwargs: Any,
) -> _Levels:
    """All batches of :func:`iter_levels` as one partition (tests, small areas).

    Parameters
    ----------
    zoning, rules, project_type, **kwargs
        As for :func:`iter_levels`.

    Returns
    -------
    _Levels
        Final faces, their tiles, verdicts, hits (``s`` = face), and the rank down
        to which each face's edges were cut.
    """
    parts = list(iter_levels(zoning, rules, project_type, **kwargs))
    if len(parts) == 1:
        return parts[0]
    offset = np.cumsum([0] + [len(p.faces) for p in parts[:-1]])
    hits = [p.hits.assign(s=p.hits["s"].to_numpy(np.int64) + o) for p, o in zip(parts, offset, strict=True) if len(p.hits)]
    return _Levels(
        np.concatenate([p.faces for p in parts]),
        np.concatenate([p.tile for p in parts]),
        np.concatenate([p.verdicts for p in parts]),
        pd.concat(hits, ignore_index=True) if hits else pd.DataFrame(columns=_HIT_COLUMNS),
        np.concatenate([p.cut_rank for p in parts]),
        parts[0].levels,
        sum(p.screened for p in parts),
        np.concatenate([p.noded for p in parts]),
    )


def iter_levels(
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    *,
    extra: list[np.ndarray] | None = None,
    tile_m: float | None = None,
    clip: shapely.Geometry | None = None,
    prepared: PreparedZoning | None = None,
    threads: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_vertices: int = BATCH_VERTICES,
) -> Iterator[_Levels]:
    """Partition the county worst verdict first, cutting milder edges only where they can matter.

    Every edge source gets the worst verdict rank of the rules reading it.  Level 1
    cuts the county by the sources of the worst rank (and ``extra``, the steep
    cells) and screens one point per face with the engine.  A face whose point's
    verdict is at least that rank is final: every rule at or above it changes only
    across edges already cut, so every point of the face has the same verdict and
    the same rules giving it.  The other faces are refined by the next rank's edges
    (buffers only of features that can reach them), screened, and so on.  A NEAR
    ring inside a red line, or a 500 m buffer in an area already 限制, is never
    drawn.

    At each step the engine is given only the rules whose edges are all cut by then
    (and those that read no edge: coverage, access lists, ``outside``): a rule not yet
    cut is at most as severe as the step's rank, so it cannot change the verdict of
    a face decided there, and every face still open is screened again at the next
    step with the larger set (the last step has them all).  The tiles go through
    every level in batches of at most ``batch_vertices`` edge vertices, one batch
    yielded at a time, so a province never holds all its faces at once.

    Parameters
    ----------
    zoning, rules, project_type, extra, tile_m, clip, threads, progress
        As for :func:`partition`; ``tile_m`` None sizes tiles by edge vertices.
        ``progress`` is called with (batches done, batches).
    prepared : PreparedZoning, optional
        Reused zoning arrays for the engine.
    scheduler : str, optional
        Dask scheduler address: tiles are noded on its workers.
    batch_vertices : int
        Edge vertices per batch of tiles.

    Yields
    ------
    _Levels
        Per batch: final faces, their (global) tile numbers, verdicts, hits
        (``s``, ``rule_id``, ``verdict``; ``s`` = face in the batch) and the rank
        down to which each face's edges were cut.
    """
    plan = _plan_levels(
        zoning, rules, project_type, extra=extra, tile_m=tile_m, clip=clip, prepared=prepared, threads=threads, scheduler=scheduler,
        batch_vertices=batch_vertices,
    )
    for nb in range(plan.batches):
        lv = plan.run(nb, plan.threads)
        if progress is not None:
            progress(nb + 1, plan.batches)
        yield lv


@dataclass
class _Plan:
    """The batches of a level partition: ``run(nb, threads)`` takes batch ``nb`` through every level."""

    batches: int
    run: Callable[[int, int], _Levels]
    threads: int
    prepared: PreparedZoning | None = None

    def release(self) -> None:
        """Drop the GEOS indexes a batch built on the zoning's features, and hand the freed heap back.

        The engine builds an index on each feature it queries and keeps it; over a
        province's batches that holds about 50 bytes per zoning vertex (GiBs), once
        per worker.  The next batch re-prepares what it queries, with the same answers.
        """
        if self.prepared is None:
            return
        from spatial.engine.prepared import release_prepared

        release_prepared(self.prepared)
        shapely.prepare(self.prepared.boundary)  # queried by every batch: kept prepared


def _plan_levels(
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    *,
    extra: list[np.ndarray] | None,
    tile_m: float | None,
    clip: shapely.Geometry | None,
    prepared: PreparedZoning | None,
    threads: int | None,
    scheduler: str | None,
    batch_vertices: int,
) -> _Plan:
    """Everything the batches share (level-1 edges, tiles, batches, rules per step, prepared zoning), built once.

    The batches are independent of one another: each ``run(nb, threads)`` reads only
    this shared state, so batches may run in any order, in threads or in forked
    processes, with the same result.
    """
    county = shapely.union_all(np.asarray(zoning.layers["boundary"].geometry.values, dtype=object))
    if clip is not None:
        county = shapely.intersection(county, clip)
    threads = default_threads() if threads is None else max(1, int(threads))
    ranked = _ranked_sources(zoning, rules, project_type)
    extra_edges = [shapely.boundary(x) for x in (extra or []) if len(x)]
    levels = sorted(set(ranked.values()), reverse=True) or [VERDICT_RANK["prohibited"]]
    if county.is_empty:
        z = np.zeros(0, dtype=object)
        empty = _Levels(z, np.zeros(0, np.int64), z, pd.DataFrame(columns=_HIT_COLUMNS), np.zeros(0, np.int64), levels, 0, np.zeros(0, np.int64))
        return _Plan(1, lambda nb, threads: empty, threads)
    # Level 1 also cuts the milder ranks' own rings: they cost no buffer, and cutting them once
    # here spares re-noding the large undecided faces (the whole non-禁止 land) at their step.
    rings_first = [k for k, r in ranked.items() if r == levels[0] or k[1] is None]
    first = _level_edges(zoning, rings_first, threads)
    edges = np.concatenate([first, *extra_edges]) if extra_edges else first
    edges = edges[~shapely.is_empty(edges)] if len(edges) else edges
    del first, extra_edges
    tiles = _tiles(county, tile_m) if tile_m else vertex_tiles(county, edges)
    tile_boxes = np.array(tiles, dtype=object)
    shapely.prepare(county)
    tree = shapely.STRtree(edges)
    batches = _tile_batches(tiles, edges, tree, batch_vertices)
    if prepared is None or prepared.zoning is not zoning or prepared.types is not rules.types:
        prepared = prepare_zoning(zoning, rules.types)  # before any batch: forked workers share it
    from spatial.engine.prepared import warn_unknown_bans

    warn_unknown_bans(prepared)  # as ``screen`` does

    def first_tile(i: int) -> tuple[np.ndarray, np.ndarray]:
        tile = tiles[i]
        part = shapely.intersection(county, tile) if len(tiles) > 1 else county
        xmin, ymin, xmax, ymax = tile.bounds
        keep = shapely.get_parts(np.array([part], dtype=object))
        keep = keep[shapely.get_dimensions(keep) == 2]
        return np.concatenate([shapely.boundary(keep), shapely.clip_by_rect(edges[tree.query(tile)], xmin, ymin, xmax, ymax)]), keep

    # The steps: the worst rank, then each milder rank in two steps, the features' own rings
    # first (cheap), then the buffers, drawn only near faces no ring-cut rule has decided yet.
    steps: list[tuple[int, list[tuple[str, Any]]]] = [(levels[0], [k for k, r in ranked.items() if r == levels[0]])]
    for level in levels[1:]:
        srcs = [k for k, r in ranked.items() if r == level]
        rings = [k for k in srcs if k[1] is None]
        rest = [k for k in srcs if k[1] is not None]
        steps += [(level, rings), (level, rest)] if rings and rest else [(level, srcs)]
    # Rules whose every edge source has been cut by a step: they hold (or not) all over a face.
    keys_of = {rule.id: set(_rule_keys(zoning, rule)) for rule in rules if rule.type_verdicts.get(project_type) is not None}
    cut_keys: list[set[tuple[str, Any]]] = []
    for _, srcs in steps:
        cut_keys.append((cut_keys[-1] if cut_keys else set()) | set(srcs))
    effective = effective_rules(rules, zoning)
    step_rules = [
        replace(effective, rules=[r for r in effective if r.id not in keys_of or keys_of[r.id] <= keys]) for keys in cut_keys
    ]
    vrank = np.array([VERDICT_RANK[v] for v in VERDICTS], dtype=np.int64)

    def decided(verdicts: np.ndarray, hits: pd.DataFrame, level: int, keys: set[tuple[str, Any]]) -> np.ndarray:
        """Faces whose verdict is at least ``level`` and is given by a rule already cut everywhere."""
        out = np.zeros(len(verdicts), dtype=bool)
        if not len(hits):
            return out
        v = vrank[pd.Categorical(verdicts, categories=list(VERDICTS)).codes]
        ids = pd.unique(hits["rule_id"])
        full_ids = {rid for rid in ids if rid in keys_of and keys_of[rid] <= keys}
        full = hits["rule_id"].isin(full_ids).to_numpy()
        hs = hits["s"].to_numpy(np.int64)
        hr = hits["verdict"].map(VERDICT_RANK).to_numpy()
        ok = full & (hr == v[hs]) & (hr >= level)
        out[hs[ok]] = True
        return out

    def screen_some(geoms: np.ndarray, step: int, threads: int) -> tuple[np.ndarray, pd.DataFrame]:
        v, h = screen_codes(shapely.point_on_surface(geoms), zoning, step_rules[step], project_type, prepared=prepared, threads=threads)
        return v, _slim(h)

    def run(nb: int, threads: int) -> _Levels:
        """Batch ``nb`` through every level (``threads``: GEOS threads for its tiles and buffers)."""
        batch = batches[nb]
        next_noded = 0  # refinements numbered within the batch: a tile lies in one batch only
        parts = _run_tiles(lambda i, batch=batch: first_tile(batch[i]), len(batch), threads, scheduler)
        faces = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
        tile_of = np.repeat(np.asarray(batch, dtype=np.int64), [len(f) for f in parts])
        noded = tile_of.copy()  # a tile's level-1 faces come from one polygonisation
        del parts
        verdicts, hits = screen_some(faces, 0, threads)
        screened = len(faces)
        cut = np.full(len(faces), levels[0], dtype=np.int64)
        step_of = np.zeros(len(faces), dtype=np.int64)
        final = decided(verdicts, hits, levels[0], cut_keys[0])
        for st in range(1, len(steps)):
            level, srcs = steps[st]
            open_ = np.flatnonzero(~final)
            if not len(open_):
                break
            todo_srcs = [k for k in srcs if k not in rings_first]
            new = _level_edges(zoning, todo_srcs, threads, near=faces[open_]) if todo_srcs else np.zeros(0, dtype=object)
            gone = np.zeros(0, dtype=np.int64)
            born = np.zeros(0, dtype=object)
            born_tile = np.zeros(0, dtype=np.int64)
            born_noded = np.zeros(0, dtype=np.int64)
            if len(new):
                etree = shapely.STRtree(new)
                work, owners = [], []
                for t in np.unique(tile_of[open_]):
                    idx = open_[tile_of[open_] == t]
                    xmin, ymin, xmax, ymax = tile_boxes[t].bounds
                    e, f = etree.query(faces[idx], predicate="intersects")
                    if not len(e):
                        continue
                    hit = idx[np.unique(e)]
                    lines = np.concatenate([shapely.boundary(faces[hit]), shapely.clip_by_rect(new[np.unique(f)], xmin, ymin, xmax, ymax)])
                    work.append((lines, faces[hit]))
                    owners.append((t, hit))
                parts = _run_tiles(lambda i, work=work: work[i], len(work), threads, scheduler)
                if parts:
                    gone = np.concatenate([h for _, h in owners])
                    born = np.concatenate(parts)
                    born_tile = np.repeat([t for t, _ in owners], [len(p) for p in parts]).astype(np.int64)
                    born_noded = np.repeat(len(tiles) + next_noded + np.arange(len(parts)), [len(p) for p in parts]).astype(np.int64)
                    next_noded += len(parts)
            # every open face is screened again with this step's rules: a rule cut now may hold
            # in a face its edges do not cross (``outside`` a feature far away)
            stay = np.ones(len(faces), dtype=bool)
            stay[gone] = False
            again = np.flatnonzero(stay & ~final)
            stay[again] = False
            todo = np.concatenate([faces[again], born])
            v_new, h_new = screen_some(todo, st, threads)
            screened += len(todo)
            remap = np.full(len(faces), -1, dtype=np.int64)
            remap[stay] = np.arange(int(stay.sum()))
            hits = hits[stay[hits["s"].to_numpy(np.int64)]] if len(hits) else hits
            if len(hits):
                hits = hits.assign(s=remap[hits["s"].to_numpy(np.int64)])
            if len(h_new):
                h_new = h_new.assign(s=h_new["s"].to_numpy(np.int64) + int(stay.sum()))
                hits = pd.concat([hits, h_new], ignore_index=True) if len(hits) else h_new
            faces = np.concatenate([faces[stay], todo])
            tile_of = np.concatenate([tile_of[stay], tile_of[again], born_tile])
            noded = np.concatenate([noded[stay], noded[again], born_noded])
            verdicts = np.concatenate([verdicts[stay], v_new])
            cut = np.concatenate([cut[stay], np.full(len(todo), level, dtype=np.int64)])
            final = np.concatenate([final[stay], np.zeros(len(todo), dtype=bool)])
            step_of = np.concatenate([step_of[stay], np.full(len(todo), st, dtype=np.int64)])
            final |= decided(verdicts, hits, level, cut_keys[st])
        # A face lists only the rules whose edges were all cut in it (the others may hold in part of it).
        if len(hits):
            hs = hits["s"].to_numpy(np.int64)
            code, ids = pd.factorize(hits["rule_id"].astype(object))
            pair = code.astype(np.int64) * len(steps) + step_of[hs]
            uniq, inv = np.unique(pair, return_inverse=True)
            ok = np.array([ids[u // len(steps)] not in keys_of or keys_of[ids[u // len(steps)]] <= cut_keys[u % len(steps)] for u in uniq], dtype=bool)
            hits = hits[ok[inv.ravel()]]
        cut[:] = 0  # already filtered: the caller's rank filter passes everything left
        return _Levels(faces, tile_of, verdicts, hits if len(hits) else pd.DataFrame(columns=_HIT_COLUMNS), cut, levels, screened, noded)

    return _Plan(len(batches), run, threads, prepared)


def partition(
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    *,
    extra: list[np.ndarray] | None = None,
    tile_m: float | None = None,
    clip: shapely.Geometry | None = None,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    return_tiles: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Faces of the county cut by every boundary the type's rules can react to.

    Parameters
    ----------
    zoning : Zoning
        Loaded zoning (metric working CRS).
    rules : RuleSet
        Catalogue.
    project_type : str
        Canonical project type.
    extra : list of ndarray, optional
        More polygons whose edges cut the partition (steep-slope cells).
    tile_m : float, optional
        Work in square tiles of this size (bounds memory on a province).
    clip : shapely.Geometry, optional
        Only partition the county inside this area (alternative-site search).
    threads : int, optional
        Threads for buffers and tiles (default: usable cores).
    progress : callable, optional
        Called with (tiles done, tiles).
    return_tiles : bool, default False
        Also return each face's tile number (faces of one tile form an exact coverage).

    Returns
    -------
    ndarray of Polygon, or (ndarray, ndarray)
        Faces covering the county (or its part inside ``clip``), in the zoning CRS
        (and their tile numbers).
    """
    county = shapely.union_all(np.asarray(zoning.layers["boundary"].geometry.values, dtype=object))
    if clip is not None:
        county = shapely.intersection(county, clip)
    if county.is_empty:
        empty = np.zeros(0, dtype=object)
        return (empty, np.zeros(0, dtype=np.int64)) if return_tiles else empty
    shapely.prepare(county)
    threads = default_threads() if threads is None else max(1, int(threads))
    edges = _edges(zoning, rules, project_type, extra or [], threads)
    tree = shapely.STRtree(edges)
    tiles = _tiles(county, tile_m)

    def one(tile: shapely.Geometry) -> np.ndarray:
        part = shapely.intersection(county, tile) if len(tiles) > 1 else county
        xmin, ymin, xmax, ymax = tile.bounds
        lines = np.concatenate([shapely.boundary(np.array([part], dtype=object)), shapely.clip_by_rect(edges[tree.query(tile)], xmin, ymin, xmax, ymax)])
        lines = lines[~shapely.is_empty(lines)]
        # snap-rounded to a 1 mm grid (the engine's touch distance): noding never drops a near-coincident edge
        f = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines, grid_size=NODING_GRID_M))))
        return f[shapely.covers(part, shapely.point_on_surface(f))] if len(f) else f

    faces: list[np.ndarray] = []
    if threads > 1 and len(tiles) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            for i, f in enumerate(pool.map(one, tiles)):
                faces.append(f)
                if progress is not None:
                    progress(i + 1, len(tiles))
    else:
        for i, tile in enumerate(tiles):  # a handful of tiles, each fully vectorised
            faces.append(one(tile))
            if progress is not None:
                progress(i + 1, len(tiles))
    out = np.concatenate(faces) if faces else np.zeros(0, dtype=object)
    if return_tiles:
        return out, np.repeat(np.arange(len(faces)), [len(f) for f in faces]).astype(np.int64)
    return out


def screen_points(
    points: np.ndarray,
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    *,
    prepared: PreparedZoning | None = None,
    threads: int | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Screen sites of one type with the ``screen`` engine: verdict per site and the hits.

    Parameters
    ----------
    points : ndarray of geometries
        Sites in the zoning CRS (points or footprints).
    zoning : Zoning
        Zoning.
    rules : RuleSet
        Catalogue.
    project_type : str
        Project type (any name the vocabulary knows).
    prepared : PreparedZoning, optional
        Reused zoning arrays.
    threads : int, optional
        Engine threads.

    Returns
    -------
    (ndarray, DataFrame)
        Verdict per site, and the hits (``s`` site index, ``rule_id``,
        ``verdict``, ``feature_id``, ``feature_name``, ``layer``, ``distance_m``).
    """
    n = len(points)
    verdicts = np.empty(n, dtype=object)
    frames = []
    for start in range(0, max(n, 1), _SCREEN_CHUNK):
        chunk = points[start : start + _SCREEN_CHUNK]
        sites = gpd.GeoDataFrame({"site_id": np.arange(start, start + len(chunk)).astype(str)}, geometry=list(chunk), crs=zoning.crs)
        res = screen(sites, zoning, rules, project_type=project_type, prepared=prepared, threads=threads)
        verdicts[start : start + len(chunk)] = res.sites["verdict"].to_numpy(dtype=object)
        if len(res.hits):
            h = pd.DataFrame(res.hits[["site_id", "rule_id", "layer", "feature_id", "feature_name", "verdict", "distance_m"]])
            h.insert(0, "s", h.pop("site_id").astype(np.int64))
            frames.append(h)
    hits = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["s", "rule_id", "layer", "feature_id", "feature_name", "verdict", "distance_m"]
    )
    return verdicts, hits


def screen_codes(
    points: np.ndarray,
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    *,
    prepared: PreparedZoning | None = None,
    threads: int | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Verdict per point and the (point, rule, verdict) of each hit, from the engine's core.

    The same readers and engine as :func:`screen_points` (``prepare_inputs``, then
    ``screen_core``, as ``screen`` runs them), without building the report tables
    (summaries, messages, feature names), which the partition never reads: a
    province screens about a million interior points.

    Parameters
    ----------
    points : ndarray of geometries
        Sites in the zoning CRS.
    zoning, rules, project_type, prepared, threads
        As for :func:`screen_points`.

    Returns
    -------
    (ndarray, DataFrame)
        Verdict per point, and the hits (``s`` point index, ``rule_id``, ``verdict``).
    """
    from spatial.engine.chunks import screen_sites
    from spatial.engine.coverage import with_coverage
    from spatial.engine.evaluate import rule_table, screen_core
    from spatial.screening import prepare_inputs
    from spatial.site_options import SiteOptions

    n = len(points)
    verdicts = np.empty(n, dtype=object)
    frames = []
    names = np.array(list(VERDICTS), dtype=object)
    threads = default_threads() if threads is None else max(1, int(threads))
    for start in range(0, max(n, 1), _SCREEN_CHUNK):
        chunk = points[start : start + _SCREEN_CHUNK]
        sites = gpd.GeoDataFrame({"site_id": np.arange(start, start + len(chunk)).astype(str)}, geometry=list(chunk), crs=zoning.crs)
        prep, zoning_, run_rules, _ = prepare_inputs(sites, zoning, rules, SiteOptions.of(None, project_type=project_type))
        run_rules = with_coverage(run_rules, zoning_)
        if prepared is None or prepared.zoning is not zoning_ or prepared.types is not run_rules.types:
            res = screen_sites(prep, zoning_, run_rules, threads=threads)  # no reusable arrays: the full engine
            verdicts[start : start + len(chunk)] = res.sites["verdict"].to_numpy(dtype=object)
            if len(res.hits):
                frames.append(pd.DataFrame({"s": res.hits["site_id"].astype(np.int64).to_numpy(), "rule_id": res.hits["rule_id"].to_numpy(), "verdict": res.hits["verdict"].to_numpy()}))
            continue
        coded, _, rank = screen_core(prep, prepared, run_rules, threads=threads, nearest=False)  # verdicts only
        verdicts[start : start + len(chunk)] = names[rank]
        if len(coded):
            ids = np.array([r.id for r, _ in rule_table(run_rules)], dtype=object)
            frames.append(
                pd.DataFrame({"s": coded["s"].to_numpy(np.int64) + start, "rule_id": ids[coded["k"].to_numpy(np.int64)], "verdict": names[coded["v"].to_numpy(np.int64)]})
            )
    hits = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_HIT_COLUMNS)
    return verdicts, hits


def _rule_sets(n: int, hits: pd.DataFrame, verdicts: np.ndarray, order: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per site: rule ids hit (above 符合) and those giving the verdict, each 、-joined in catalogue order."""
    rules_txt = np.full(n, "", dtype=object)
    cause_txt = np.full(n, "", dtype=object)
    if not len(hits):
        return rules_txt, cause_txt
    rank = hits["verdict"].map(VERDICT_RANK).to_numpy()
    h = hits.loc[rank > 0, ["s", "rule_id", "verdict"]].drop_duplicates(["s", "rule_id"])
    if not len(h):
        return rules_txt, cause_txt
    present = set(h["rule_id"])
    ids = np.array([r for r in dict.fromkeys(order) if r in present] + sorted(present - set(order)), dtype=object)
    col = pd.Categorical(h["rule_id"], categories=ids).codes
    s = h["s"].to_numpy(np.int64)
    member = np.zeros((n, len(ids)), dtype=bool)
    member[s, col] = True
    cause = np.zeros((n, len(ids)), dtype=bool)
    top = h["verdict"].to_numpy(dtype=object) == verdicts[s]
    cause[s[top], col[top]] = True
    # one string per distinct combination, not per site
    for mat, out in ((member, rules_txt), (cause, cause_txt)):
        packed = np.ascontiguousarray(np.packbits(mat, axis=1))  # one short byte string per row: sorts fast
        _, first, inv = np.unique(packed.view(np.dtype((np.void, packed.shape[1]))).ravel(), return_index=True, return_inverse=True)
        combos = mat[first]
        text = np.array(["、".join(ids[row]) for row in combos], dtype=object)
        out[:] = text[inv.ravel()]
    return rules_txt, cause_txt



def checked_inputs(zoning: Zoning, rules: RuleSet | None, project_type: str) -> tuple[RuleSet, str]:
    """Resolve the rules and the project type of a suitability run, refusing what cannot be partitioned.

    Parameters
    ----------
    zoning : Zoning
        The zoning package.
    rules : RuleSet, optional
        Rules (default: the catalogue stack of the zoning's jurisdiction).
    project_type : str
        A project type (Chinese or English name, not a group).

    Returns
    -------
    tuple of (RuleSet, str)
        The rules and the canonical type name.

    Raises
    ------
    InputError
        Unknown project type (or a group), or no boundary layer.
    """
    rules = resolve_rules(rules, zoning)
    canon = rules.types.resolve(project_type)
    if canon is None or canon in rules.types.groups:
        raise InputError(
            f"--project-type {project_type}：未知的项目类型（或是分组）；可用：{', '.join(rules.types.names)}",
            f"--project-type {project_type}: unknown project type (or a group); valid: {', '.join(rules.types.names)}",
        )
    if "boundary" not in zoning.layers or not len(zoning.layers["boundary"]):
        raise InputError("分区数据缺少行政边界（boundary）图层，无法划分适宜性分区。", "the zoning has no boundary layer to partition")
    return rules, canon


def suitability(
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    *,
    terrain: Terrain | None = None,
    max_slope: float = 25.0,
    tile_m: float | None = None,
    prepared: PreparedZoning | None = None,
    threads: int | None = None,
    clip: shapely.Geometry | None = None,
    progress: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
    method: str = "levels",
    processes: int | None = None,
    batch_vertices: int = BATCH_VERTICES,
) -> Suitability:
    """Partition the county by the verdict a site of ``project_type`` would get.

    Parameters
    ----------
    zoning : Zoning
        Loaded zoning.
    rules : RuleSet
        Catalogue (stacked levels already resolved).
    project_type : str
        Project type, any name or synonym the vocabulary knows (化工, chemical).
    terrain : Terrain, optional
        Slope grid; cells steeper than ``max_slope`` become at least 限制.
    max_slope : float, default 25
        Slope threshold in degrees.
    tile_m : float, optional
        Tile size in metres (default: one tile for a county, 50 km tiles
        for anything larger than 200 km across).
    prepared : PreparedZoning, optional
        Zoning arrays reused across project types.
    threads : int, optional
        Engine threads.
    clip : shapely.Geometry, optional
        Only this part of the county (no area check then).
    progress : callable, optional
        Called with (steps done, steps): verdict levels, or tiles with ``method='exhaustive'``.
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``): tiles are noded on its workers;
        the result is the same as local.
    method : {'levels', 'exhaustive'}, default 'levels'
        ``levels`` (:func:`partition_levels`) cuts milder edges only where no worse
        verdict already holds; ``exhaustive`` (:func:`partition`, the method before
        issue 28) cuts every edge everywhere and is kept as the benchmark's baseline.
    processes : int, optional
        Worker processes for the batches of tiles (``levels`` without a scheduler):
        default one per usable core when there are several batches (a province),
        1 runs them here.  Workers are forked (they share the zoning and the
        level-1 edges), and each batch gives the same areas wherever it runs.
        They run only where a fork is safe (main thread of a top-level process,
        no other live thread but daemon ones); elsewhere the batches run here.
    batch_vertices : int
        Edge vertices per batch of tiles (:func:`iter_levels`).

    Returns
    -------
    Suitability
        Dissolved areas and the per-class table.  ``rules`` lists the rules hit at
        and above the area's verdict level (milder rules inside a worse area are not
        traced: their edges are not cut there).

    Raises
    ------
    InputError
        Unknown project type, or no boundary layer.
    """
    rules, canon = checked_inputs(zoning, rules, project_type)
    if method not in ("levels", "exhaustive"):
        raise ValueError(f"method must be 'levels' or 'exhaustive', got {method!r}")
    county = shapely.union_all(np.asarray(zoning.layers["boundary"].geometry.values, dtype=object))
    steep = terrain.steep_polygons(max_slope, zoning.crs) if terrain is not None else np.zeros(0, dtype=object)
    # where a checked DEM has no data the slope is unknown: its own class, never silently a lower one
    unknown = terrain.unknown_polygons(county, zoning.crs) if terrain is not None and terrain.coverage is not None else np.zeros(0, dtype=object)
    order = [rule.id for rule in rules]
    label = slope_label(max_slope)
    steep_tree = shapely.STRtree(steep) if len(steep) else None
    unknown_tree = shapely.STRtree(unknown) if len(unknown) else None

    def classify(
        faces: np.ndarray, tile_of: np.ndarray, noded: np.ndarray, verdicts: np.ndarray, rules_txt: np.ndarray, cause_txt: np.ndarray
    ) -> gpd.GeoDataFrame:
        """Slope classes on top of the engine's verdicts, then the faces dissolved per tile."""
        pts = shapely.point_on_surface(faces)
        cls = verdicts.astype(object).copy()
        if terrain is not None:
            is_steep = np.zeros(len(faces), dtype=bool)
            if steep_tree is not None:
                p, _ = steep_tree.query(pts, predicate="within")
                is_steep[p] = True
            below = np.array([VERDICT_RANK[v] for v in VERDICTS], dtype=np.int8)[
                pd.Categorical(verdicts, categories=list(VERDICTS)).codes
            ] < VERDICT_RANK["restricted"]
            cls[is_steep & below] = "restricted_slope"
            verdicts = np.where(is_steep & below, "restricted", verdicts)
            rules_txt[is_steep] = np.where(rules_txt[is_steep] == "", SLOPE_RULE_ID, rules_txt[is_steep] + "、" + SLOPE_RULE_ID)
            cause_txt[is_steep & below] = SLOPE_RULE_ID
            if unknown_tree is not None:
                is_unknown = np.zeros(len(faces), dtype=bool)
                p, _ = unknown_tree.query(pts, predicate="within")
                is_unknown[p] = True
                is_unknown &= ~is_steep & below
                cls[is_unknown] = "slope_unknown"
                verdicts = np.where(is_unknown & (verdicts == "compatible"), "notice", verdicts)
                rules_txt[is_unknown] = np.where(rules_txt[is_unknown] == "", SLOPE_UNKNOWN_ID, rules_txt[is_unknown] + "、" + SLOPE_UNKNOWN_ID)
                cause_txt[is_unknown] = SLOPE_UNKNOWN_ID
        frame = gpd.GeoDataFrame({"class": cls, "verdict": verdicts, "rules": rules_txt, "cause": cause_txt}, geometry=list(faces), crs=zoning.crs)
        return _dissolve(frame, tile_of, noded)

    pieces: list[gpd.GeoDataFrame] = []
    if method == "exhaustive":
        if prepared is None or prepared.types is not rules.types:
            prepared = prepare_zoning(zoning, rules.types)
        if tile_m is None:
            xmin, ymin, xmax, ymax = county.bounds
            tile_m = 50_000.0 if max(xmax - xmin, ymax - ymin) > 200_000 else None
        faces, tile_of = partition(zoning, rules, canon, extra=[steep, unknown], tile_m=tile_m, clip=clip, threads=threads, progress=progress, return_tiles=True)
        verdicts, hits = screen_points(shapely.point_on_surface(faces), zoning, rules, canon, prepared=prepared, threads=threads)
        rules_txt, cause_txt = _rule_sets(len(faces), hits, verdicts, order)
        pieces.append(classify(faces, tile_of, tile_of, verdicts, rules_txt, cause_txt))
        n_faces = screened = len(faces)
    else:
        n_faces = screened = 0
        plan = _plan_levels(
            zoning, rules, canon, extra=[steep, unknown], tile_m=tile_m, clip=clip, prepared=prepared, threads=threads, scheduler=scheduler,
            batch_vertices=batch_vertices,
        )

        def one(nb: int, threads: int) -> tuple[gpd.GeoDataFrame, int, int]:
            """Batch ``nb`` partitioned, classified and dissolved: only its areas leave it."""
            lv = plan.run(nb, threads)
            rules_txt, cause_txt = _rule_sets(len(lv.faces), lv.hits, lv.verdicts, order)
            out = classify(lv.faces, lv.tile, lv.noded, lv.verdicts, rules_txt, cause_txt), len(lv.faces), lv.screened
            del lv
            if plan.batches > 1:
                plan.release()  # a province: what one batch prepared is not kept for all the others
            return out

        workers = _workers(processes, plan.batches, scheduler)
        runs = _forked(one, plan.batches, workers) if workers > 1 else (one(nb, plan.threads) for nb in range(plan.batches))
        for nb, (piece, nf, ns) in enumerate(runs):  # batch order whatever ran them: the same result
            pieces.append(piece)
            n_faces += nf
            screened += ns
            if workers > 1:
                _trim_heap()  # the pickled areas each worker sent are freed here, between the kept ones

            if progress is not None:
                progress(nb + 1, plan.batches)
    notes: list[str] = []
    if terrain is not None:
        if len(unknown):
            notes.append(
                f"坡度未知：高程数据 {terrain.path} 覆盖行政区的 {terrain.coverage:.1%}，无数据处单列为“{class_zh('slope_unknown')}”，"
                f"不按坡度判为符合。 / the DEM covers {terrain.coverage:.1%} of the county; where it has no data the class is slope unknown"
            )
        notes.append(
            f"坡度：{label} 的区域（高程数据 {terrain.path}，Horn 法，{abs(terrain.transform.a):g} m 格网）至少为“限制”，"
            f"单列为“限制（{label}）”类。 / slope > {max_slope:g}° (DEM, Horn method) is at least restricted, "
            "shown as its own class"
        )
    areas = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
    rank = areas["class"].map({c: i for i, c in enumerate(CLASSES)})
    areas = gpd.GeoDataFrame(
        areas.assign(_r=-rank).sort_values(["_r", "area_m2"], ascending=[True, False], kind="stable").drop(columns="_r").reset_index(drop=True),
        geometry="geometry",
        crs=zoning.crs,
    )
    areas.insert(1, "class_zh", [class_zh(c, max_slope) for c in areas["class"]])
    areas.insert(3, "verdict_zh", areas["verdict"].map(VERDICT_ZH))
    table, county_m2 = _class_table(areas, county if clip is None else shapely.intersection(county, clip), zoning.crs, max_slope)
    notes.append(
        f"精度：区域边界与真实规则边界相差不超过 {TOLERANCE_M:g} m（缓冲圆弧 {ARC_TOLERANCE_M:g} m、两步缓冲校核 {STAGE_CHECK_M:g} m、GEOS 缓冲填平浅凹口、"
        f"结点网格 {NODING_GRID_M:g} m）；距边界超过该距离的任一点，结论与所在区域一致。 / precision: area edges lie within {TOLERANCE_M:g} m of the true rule "
        f"edges (buffer arcs {ARC_TOLERANCE_M:g} m, two-step buffer check {STAGE_CHECK_M:g} m, shallow notches GEOS fills, noding grid {NODING_GRID_M:g} m); "
        "a site anywhere farther inside an area gets its verdict"
    )
    out = Suitability(canon, project_type, areas, table, county_m2, n_faces, max_slope if terrain is not None else None, notes)
    out.screened = screened
    out.tolerance_m = TOLERANCE_M
    return out


def _workers(processes: int | None, batches: int, scheduler: str | None) -> int:
    """Worker processes for ``batches`` batches: none on Dask, or where forking is not safe."""
    if scheduler or batches < 2 or not fork_is_safe():
        return 1
    n = default_threads() if processes is None else max(1, int(processes))
    return min(n, batches)


#: The batch function a forked worker runs (set just before the workers are forked).
_FORK_TASK: list[Callable[[int, int], Any]] = []


def _run_forked(nb: int) -> Any:
    return _FORK_TASK[-1](nb, 1)  # one GEOS thread per worker: the workers use the cores


def _trim_heap() -> None:
    """Hand freed heap pages back to the system (glibc ``malloc_trim``; a no-op elsewhere)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _forked(task: Callable[[int, int], Any], n: int, workers: int) -> Iterator[Any]:
    """``task(nb, 1)`` for ``nb`` in ``0..n-1`` on ``workers`` forked processes, yielded in order.

    Fork, not spawn: the workers inherit the loaded zoning, the prepared arrays and
    the level-1 edges without copying or pickling them (pages are shared until
    written).  Only each batch's dissolved areas come back.  Batches go to
    whichever worker is free, in tile order, one at a time, so at most
    ``workers`` batches are in memory at once.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _FORK_TASK.append(task)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_run_forked, range(n))
    finally:
        _FORK_TASK.pop()



def _dissolve(frame: gpd.GeoDataFrame, tile_of: np.ndarray, noded: np.ndarray) -> gpd.GeoDataFrame:
    """Union the faces of each (class, rules) group within each tile, and measure them.

    Groups are merged per tile, never across the province: a province-wide union of a
    class costs more than everything else (issue 28), and a tile's faces do not overlap,
    so the class areas are sums.  Faces of one polygonisation (``noded``: a tile's
    level-1 faces, or one refinement) form an exact coverage, so ``coverage_union_all``
    merges them in linear time.  Where refined faces meet unrefined ones the vertices
    may not match: such a group is merged by ``coverage_union_all`` only if the result
    is valid, else by ``union_all``.  A group spanning several tiles is one row per tile.
    The areas are ellipsoidal, all rows in one vectorised call
    (:func:`spatial.measure.equal_area`).
    """
    key = frame["class"].astype(str) + "|" + frame["rules"].astype(str)
    codes, _ = pd.factorize(key)
    order = np.lexsort((codes, tile_of))
    c, t, n = codes[order], tile_of[order], np.asarray(noded)[order]
    g = np.asarray(frame.geometry.values, dtype=object)[order]
    cut = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (t[1:] != t[:-1]), True])
    first = order[cut[:-1]]

    def merge(a: int, b: int) -> shapely.Geometry:
        if b - a == 1:
            return g[a]
        one_coverage = n[a] == n[a:b].min() == n[a:b].max()
        try:
            one = shapely.coverage_union_all(g[a:b])
            if one_coverage or (shapely.get_type_id(one) in (3, 6) and shapely.is_valid(one)):
                return one
        except shapely.errors.GEOSException:  # borders noded apart: the safe way below
            pass
        return shapely.union_all(g[a:b])

    geoms = np.array([merge(a, b) for a, b in zip(cut[:-1], cut[1:], strict=True)], dtype=object)
    out = gpd.GeoDataFrame(frame.drop(columns="geometry").iloc[first].reset_index(drop=True), geometry=list(geoms), crs=frame.crs)
    out["area_m2"] = equal_area(geoms, frame.crs) if len(geoms) else np.zeros(0)
    return out


def _class_table(areas: gpd.GeoDataFrame, county: shapely.Geometry, crs: CRS, max_slope: float) -> tuple[pd.DataFrame, float]:
    """km² and % of the county per class.

    The areas are disjoint by construction (faces of one partition, dissolved by
    group), so a class's area is the sum of its areas' ellipsoidal areas: dissolving
    the class again would measure the same set.
    """
    county_m2 = float(ellipsoidal_area(np.array([county], dtype=object), crs)[0])
    present = [c for c in reversed(CLASSES) if (areas["class"] == c).any()]
    m2 = np.array([float(areas.loc[areas["class"] == c, "area_m2"].sum()) for c in present])
    table = pd.DataFrame(
        {
            "class": present,
            "class_zh": [class_zh(c, max_slope) for c in present],
            "code": [CLASSES.index(c) + 1 for c in present],
            "area_km2": m2 / 1e6,
            "pct": 100.0 * m2 / county_m2 if county_m2 > 0 else np.nan,
        }
    )
    return table, county_m2
