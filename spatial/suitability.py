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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.engine.parallel import default_threads
from spatial.errors import InputError
from spatial.measure import ellipsoidal_area
from spatial.project_types import VERDICT_RANK, VERDICT_ZH, VERDICTS
from spatial.rules import RuleSet
from spatial.screening import PreparedZoning, prepare_zoning, screen
from spatial.terrain import SLOPE_RULE_ID, SLOPE_UNKNOWN_ID, SLOPE_UNKNOWN_ZH, Terrain, slope_label
from spatial.zoning import Zoning

__all__ = [
    "Suitability",
    "suitability",
    "partition",
    "screen_points",
    "CLASSES",
    "class_zh",
    "ARC_TOLERANCE_M",
    "AREA_TOLERANCE",
    "resolve_rules",
]

#: Largest gap (m) between a drawn buffer arc and the true distance circle.
ARC_TOLERANCE_M = 0.02
#: Grid the edges are snap-rounded to when noded (m).
NODING_GRID_M = 1e-3
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
        Statements for the outputs (slope rule, DEM source).
    """

    project_type: str
    project_type_input: str
    areas: gpd.GeoDataFrame
    table: pd.DataFrame
    county_m2: float
    faces: int
    max_slope: float | None = None
    notes: list[str] = field(default_factory=list)

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


def _rule_sources(zoning: Zoning, rules: RuleSet, ptype: str) -> dict[str, set[Any]]:
    """Layer -> distances (None: the features themselves; 'width': corridor widths) the type's rules read."""
    out: dict[str, set[Any]] = {}
    for rule in rules:
        if rule.type_verdicts.get(ptype) is None:
            continue
        for layer in rule.layers:
            if layer not in zoning.layers or not len(zoning.layers[layer]) or layer == "boundary":
                continue
            dists = out.setdefault(layer, {None})
            for attr in ("buffer_m", "distance_m"):
                d = getattr(rule, attr, None)
                if d == "width":
                    dists.add("width")
                elif isinstance(d, (int, float)) and d > 0:
                    dists.add(float(d))
            if zoning.spec(layer).reach is not None:  # the engine's touch test is "within the feature's reach"
                dists.add("width")
    return out


#: Distances above this are buffered in two steps (see :func:`_offset`).
STAGE_ABOVE_M = 50.0
#: The first, small step.
STAGE_FIRST_M = 8.0
#: Largest outward error a two-step buffer may have before the feature is buffered directly.
STAGE_CHECK_M = 0.05


def _offset(g: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Buffer each geometry by its own distance, arcs within ARC_TOLERANCE_M.

    A wiggly polygon buffered by hundreds of metres makes GEOS intersect
    every offset segment with its neighbours (~160 µs a vertex).  Dilation by
    a disk composes (``buffer(buffer(P, a), b) == buffer(P, a + b)``), and
    after a first 8 m step the outline is smooth, so the second step costs
    ~5x less.  GEOS may shave shallow notches of the intermediate outline,
    which can only make the result larger: every two-step result is checked
    at its vertices and edge midpoints against the exact distance
    (``dwithin`` on the prepared feature) and a feature more than
    :data:`STAGE_CHECK_M` off is buffered again in one step.
    """
    out = np.empty(len(g), dtype=object)
    big = d > STAGE_ABOVE_M
    if (~big).any():
        out[~big] = shapely.buffer(g[~big], d[~big], quad_segs=_arc_segments(float(d[~big].max())))
    if not big.any():
        return out
    gb, db = g[big], d[big]
    first = shapely.buffer(gb, STAGE_FIRST_M, quad_segs=_arc_segments(STAGE_FIRST_M))
    b = shapely.buffer(first, db - STAGE_FIRST_M, quad_segs=_arc_segments(float(db.max())))
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
    """:func:`_offset` split over threads (GEOS releases the GIL)."""
    dd = np.broadcast_to(np.asarray(d, dtype=float), (len(g),)).copy()
    if threads <= 1 or len(g) < 64:
        return _offset(g, dd)
    from concurrent.futures import ThreadPoolExecutor

    # interleaved chunks: big features are not all in one thread's share
    cuts = [np.arange(k, len(g), threads * 4) for k in range(threads * 4)]
    out = np.empty(len(g), dtype=object)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for idx, part in zip(cuts, pool.map(lambda i: _offset(g[i], dd[i]), cuts), strict=True):
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
            elif d == "width":
                out.append(shapely.boundary(_buffered(g, np.asarray(zoning.spec(layer).reach(frame), dtype=float)[ok], threads)))
            else:
                out.append(shapely.boundary(_buffered(g, float(d), threads)))
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
        combos, inv = np.unique(mat, axis=0, return_inverse=True)
        text = np.array(["、".join(ids[row]) for row in combos], dtype=object)
        out[:] = text[inv.ravel()]
    return rules_txt, cause_txt


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
        Called with (tiles done, tiles).

    Returns
    -------
    Suitability
        Dissolved areas and the per-class table.

    Raises
    ------
    InputError
        Unknown project type, or no boundary layer.
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
    county = shapely.union_all(np.asarray(zoning.layers["boundary"].geometry.values, dtype=object))
    if tile_m is None:
        xmin, ymin, xmax, ymax = county.bounds
        tile_m = 50_000.0 if max(xmax - xmin, ymax - ymin) > 200_000 else None
    steep = terrain.steep_polygons(max_slope, zoning.crs) if terrain is not None else np.zeros(0, dtype=object)
    # where a checked DEM has no data the slope is unknown: its own class, never silently a lower one
    unknown = terrain.unknown_polygons(county, zoning.crs) if terrain is not None and terrain.coverage is not None else np.zeros(0, dtype=object)
    faces, tile_of = partition(zoning, rules, canon, extra=[steep, unknown], tile_m=tile_m, clip=clip, threads=threads, progress=progress, return_tiles=True)
    if prepared is None or prepared.types is not rules.types:
        prepared = prepare_zoning(zoning, rules.types)
    pts = shapely.point_on_surface(faces)
    verdicts, hits = screen_points(pts, zoning, rules, canon, prepared=prepared, threads=threads)
    rules_txt, cause_txt = _rule_sets(len(faces), hits, verdicts, [rule.id for rule in rules])
    cls = verdicts.astype(object).copy()
    notes: list[str] = []
    if terrain is not None:
        label = slope_label(max_slope)
        is_steep = np.zeros(len(faces), dtype=bool)
        if len(steep):
            tree = shapely.STRtree(steep)
            p, _ = tree.query(pts, predicate="within")
            is_steep[p] = True
        below = np.array([VERDICT_RANK[v] for v in VERDICTS], dtype=np.int8)[
            pd.Categorical(verdicts, categories=list(VERDICTS)).codes
        ] < VERDICT_RANK["restricted"]
        cls[is_steep & below] = "restricted_slope"
        verdicts = np.where(is_steep & below, "restricted", verdicts)
        add = np.where(rules_txt[is_steep] == "", SLOPE_RULE_ID, rules_txt[is_steep] + "、" + SLOPE_RULE_ID)
        rules_txt[is_steep] = add
        cause_txt[is_steep & below] = SLOPE_RULE_ID
        if len(unknown):
            is_unknown = np.zeros(len(faces), dtype=bool)
            p, _ = shapely.STRtree(unknown).query(pts, predicate="within")
            is_unknown[p] = True
            is_unknown &= ~is_steep & below
            cls[is_unknown] = "slope_unknown"
            verdicts = np.where(is_unknown & (verdicts == "compatible"), "notice", verdicts)
            rules_txt[is_unknown] = np.where(rules_txt[is_unknown] == "", SLOPE_UNKNOWN_ID, rules_txt[is_unknown] + "、" + SLOPE_UNKNOWN_ID)
            cause_txt[is_unknown] = SLOPE_UNKNOWN_ID
            notes.append(
                f"坡度未知：高程数据 {terrain.path} 覆盖行政区的 {terrain.coverage:.1%}，无数据处单列为“{class_zh('slope_unknown')}”，"
                f"不按坡度判为符合。 / the DEM covers {terrain.coverage:.1%} of the county; where it has no data the class is slope unknown"
            )
        notes.append(
            f"坡度：{label} 的区域（高程数据 {terrain.path}，Horn 法，{abs(terrain.transform.a):g} m 格网）至少为“限制”，"
            f"单列为“限制（{label}）”类。 / slope > {max_slope:g}° (DEM, Horn method) is at least restricted, "
            "shown as its own class"
        )
    frame = gpd.GeoDataFrame({"class": cls, "verdict": verdicts, "rules": rules_txt, "cause": cause_txt}, geometry=list(faces), crs=zoning.crs)
    areas = _dissolve(frame, tile_of)
    areas.insert(1, "class_zh", [class_zh(c, max_slope) for c in areas["class"]])
    areas.insert(3, "verdict_zh", areas["verdict"].map(VERDICT_ZH))
    table, county_m2 = _class_table(areas, county if clip is None else shapely.intersection(county, clip), zoning.crs, max_slope)
    return Suitability(canon, project_type, areas, table, county_m2, len(faces), max_slope if terrain is not None else None, notes)


def _dissolve(frame: gpd.GeoDataFrame, tile_of: np.ndarray) -> gpd.GeoDataFrame:
    """Union the faces of each (class, rules) group: per tile first, then across tiles.

    One tile's faces come from one polygonisation, an exact coverage, so
    ``coverage_union_all`` merges them in linear time; the few per-tile pieces
    of a group then go through a full ``union_all``.  One loop step per group
    and tile, not per face.
    """
    key = frame["class"].astype(str) + "|" + frame["rules"].astype(str)
    codes, uniq = pd.factorize(key)
    order = np.lexsort((tile_of, codes))
    c, t = codes[order], tile_of[order]
    cut = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (t[1:] != t[:-1]), True])
    g = np.asarray(frame.geometry.values, dtype=object)[order]
    pieces = np.array([shapely.coverage_union_all(g[a:b]) for a, b in zip(cut[:-1], cut[1:], strict=True)], dtype=object)
    piece_code = c[cut[:-1]]
    bounds = np.r_[0, np.cumsum(np.bincount(piece_code, minlength=len(uniq)))]
    first = order[cut[:-1]][bounds[:-1]]
    geoms = [
        pieces[bounds[i]] if bounds[i + 1] - bounds[i] == 1 else shapely.union_all(pieces[bounds[i] : bounds[i + 1]])
        for i in range(len(uniq))
    ]
    geoms = shapely.make_valid(np.array(geoms, dtype=object)) if geoms else np.zeros(0, dtype=object)
    out = gpd.GeoDataFrame(frame.drop(columns="geometry").iloc[first].reset_index(drop=True), geometry=list(geoms), crs=frame.crs)
    out["area_m2"] = ellipsoidal_area(np.asarray(out.geometry.values, dtype=object), out.crs) if len(out) else []
    rank = out["class"].map({c: i for i, c in enumerate(CLASSES)})
    return out.assign(_r=-rank).sort_values(["_r", "area_m2"], ascending=[True, False]).drop(columns="_r").reset_index(drop=True)


def _class_table(areas: gpd.GeoDataFrame, county: shapely.Geometry, crs: CRS, max_slope: float) -> tuple[pd.DataFrame, float]:
    """km² and % of the county per class, each class dissolved before it is measured."""
    county_m2 = float(ellipsoidal_area(np.array([county], dtype=object), crs)[0])
    g = np.asarray(areas.geometry.values, dtype=object)
    present = [c for c in reversed(CLASSES) if (areas["class"] == c).any()]
    merged = np.array([shapely.union_all(g[(areas["class"] == c).to_numpy()]) for c in present], dtype=object)
    m2 = ellipsoidal_area(merged, crs) if len(merged) else np.zeros(0)
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
