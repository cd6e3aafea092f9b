"""Alternative sites: where the same footprint would pass, nearest first.

The search starts from the suitability partition (:mod:`spatial.suitability`)
of the circle the footprint may move in: the allowed area is shrunk by the
footprint's size, candidate positions are laid on a grid inside it (plus the
allowed position nearest to the site), the footprint is translated (and
optionally rotated) to each, and the candidates wholly inside the allowed area
are re-screened *exactly* by the ``screen`` engine.  Only what the engine
passes is offered, ranked by distance, then by slope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.budget import MAX_FOOTPRINTS, check_count
from spatial.errors import InputError
from spatial.project_types import VERDICT_RANK, VERDICT_ZH
from spatial.rules import RuleSet
from spatial.screening import PreparedZoning, prepare_zoning
from spatial.suitability import resolve_rules, screen_points, suitability
from spatial.terrain import SLOPE_RULE_ID, SLOPE_UNKNOWN_ID, SLOPE_UNKNOWN_ZH, Terrain, slope_label
from spatial.zoning import Zoning

__all__ = ["AlternativeSearch", "find_alternatives", "CANDIDATE_COLUMNS"]

CANDIDATE_COLUMNS = [
    "site_id", "rank", "candidate_id", "dx_m", "dy_m", "rotation_deg", "distance_m", "verdict", "verdict_zh",
    "findings", "slope_deg", "kind",
]  # fmt: skip
#: Margin (m) kept from the edge of the allowed area, well above the engine's 1 mm touch distance.
EDGE_MARGIN_M = 1.0
#: Most candidate positions laid out per rotation.
MAX_GRID = 40_000
#: Up front (before the county is searched) positions × rotations may reach this many times the exact limit.
UPFRONT_FACTOR = 10


@dataclass
class AlternativeSearch:
    """Outcome of :func:`find_alternatives` for one site.

    Attributes
    ----------
    site_id : str
        The site.
    verdict : str
        Its own verdict.
    candidates : GeoDataFrame
        :data:`CANDIDATE_COLUMNS` plus geometry (zoning CRS), best first.
        ``kind`` is ``alternative``, or ``nearest_restricted`` when nothing
        qualified.
    found : bool
        Whether any candidate meets ``allow`` within the radius.
    message_zh : str
        One sentence for the user.
    """

    site_id: str
    verdict: str
    candidates: gpd.GeoDataFrame
    found: bool
    message_zh: str
    notes: list[str] = field(default_factory=list)


def check_search(
    site: shapely.Geometry, zoning: Zoning, site_id: str, max_distance_m: float, rotations: tuple[float, ...], spacing: float | None = None
) -> int:
    """Check a search before any work: the county within reach, and the footprints it would build bounded.

    Parameters
    ----------
    site : shapely.Geometry
        Footprint in the zoning CRS.
    zoning : Zoning
        Zoning (its boundary).
    site_id : str
        For messages.
    max_distance_m : float
        Search radius.
    rotations : tuple of float
        Angles tried at each position.
    spacing : float, optional
        Grid step (default as :func:`find_alternatives` chooses it).

    Returns
    -------
    int
        Estimated footprints (positions × rotations).

    Raises
    ------
    InputError
        The county lies beyond the radius (or the site has no geometry).
    WorkLimitError
        More than :data:`spatial.budget.MAX_FOOTPRINTS` footprints.
    """
    parts = shapely.get_coordinates(site)
    if not len(parts):
        raise InputError(f"地块 {site_id} 没有几何。", f"site {site_id} has no geometry")
    centre = shapely.centroid(site)
    r_out = float(np.max(np.hypot(parts[:, 0] - centre.x, parts[:, 1] - centre.y)))
    county = shapely.union_all(np.asarray(zoning.layers["boundary"].geometry.values, dtype=object))
    gap = float(shapely.distance(centre, county))
    if gap > max_distance_m + r_out:
        raise InputError(
            f"地块 {site_id} 距分区边界 {gap / 1000:.1f} km，超出搜索半径 {max_distance_m / 1000:g} km（--max-distance-km），"
            "半径内没有可搜索的区域。请检查地块坐标与坐标系（--sites-crs）是否正确，或确认 --zoning 是地块所在的行政区。",
            f"site {site_id} lies {gap / 1000:.1f} km from the zoning boundary, beyond the search radius "
            f"{max_distance_m / 1000:g} km (--max-distance-km); check the site's coordinates and CRS, or the --zoning",
        )
    if spacing is None:
        spacing = max(2 * r_out, np.sqrt(np.pi * max_distance_m**2 / MAX_GRID), 10.0)
    # grid positions inside the county part of the search disk (an upper bound of what _search builds)
    reach = shapely.area(shapely.intersection(county, shapely.buffer(centre, max_distance_m, quad_segs=16)))
    positions = min(reach / spacing**2 + 1, MAX_GRID * 1.3) + 1
    # most grid positions fall where the footprint does not fit, so up front only what no filter saves is refused
    _check_footprints(positions, len(rotations), MAX_FOOTPRINTS * UPFRONT_FACTOR)
    return int(positions * max(1, len(rotations)))


def _check_footprints(positions: float, n_angles: int, limit: float = MAX_FOOTPRINTS) -> None:
    """Refuse positions × rotations past ``limit``, naming a --rotate that fits."""
    n_angles = max(1, n_angles)
    fit = 180.0 / max(1, int(limit // max(positions, 1)))
    check_count(
        positions * n_angles, limit, "候选位置×旋转角度", "positions x rotations", f"--rotate {180.0 / n_angles:g}",
        f"请把 --rotate 设为 {fit:.2g}° 或更大，或减小 --max-distance-km。",
        f"use --rotate {fit:.2g} or larger, or a smaller --max-distance-km",
    )  # fmt: skip


def _footprints(geom: shapely.Geometry, centres: np.ndarray, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rotate the footprint by each angle about its centroid and move it to each centre (vectorised).

    Returns the geometries and, per geometry, the index of its centre and angle.
    """
    c = shapely.centroid(geom)
    cx, cy = c.x, c.y
    nc, na = len(centres), len(angles)
    ci = np.repeat(np.arange(nc), na)
    ai = np.tile(np.arange(na), nc)
    if not nc:
        return np.zeros(0, dtype=object), ci, ai
    base = shapely.transform(geom, lambda xy: xy - [cx, cy])
    rotated = np.array(
        [shapely.transform(base, lambda xy, a=a: xy @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])) for a in np.radians(angles)],
        dtype=object,
    )  # one per angle (a handful), not per candidate
    out = rotated[ai]
    offs = shapely.get_coordinates(centres)[ci]
    _, idx = shapely.get_coordinates(out, return_index=True)
    # transform() hands over every coordinate in get_coordinates order: shift each by its geometry's offset
    moved = shapely.transform(out, lambda xy: xy + offs[idx])
    return moved, ci, ai


def _findings(hits: pd.DataFrame, n: int) -> np.ndarray:
    """Per candidate, the findings left (rules above 符合, with the feature), 、-joined."""
    out = np.full(n, "", dtype=object)
    if not len(hits):
        return out
    h = hits[hits["verdict"].map(VERDICT_RANK) > 0]
    if not len(h):
        return out
    text = (h["rule_id"].astype(str) + np.where(h["feature_name"].astype(str) != "", "（" + h["feature_name"].astype(str) + "）", "")).to_numpy(dtype=object)
    frame = pd.DataFrame({"s": h["s"].to_numpy(), "t": text}).drop_duplicates()
    joined = frame.groupby("s", sort=True)["t"].agg("、".join)
    out[joined.index.to_numpy()] = joined.to_numpy(dtype=object)
    return out


def _search(
    geom: shapely.Geometry,
    zoning: Zoning,
    rules: RuleSet,
    ptype: str,
    allow: str,
    radius: float,
    angles: np.ndarray,
    spacing: float | None,
    terrain: Terrain | None,
    max_slope: float,
    prepared: PreparedZoning,
    n: int,
) -> gpd.GeoDataFrame:
    """Candidates within ``radius`` that the engine passes at ``allow``, best first (at most ``n``)."""
    centre = shapely.centroid(geom)
    parts = shapely.get_coordinates(geom)
    r_out = float(np.max(np.hypot(parts[:, 0] - centre.x, parts[:, 1] - centre.y))) if len(parts) else 0.0
    r_in = float(shapely.distance(centre, shapely.boundary(geom))) if shapely.get_dimensions(geom) == 2 and geom.contains(centre) else 0.0
    disk = shapely.buffer(centre, radius + r_out, quad_segs=64)
    suit = suitability(zoning, rules, ptype, terrain=terrain, max_slope=max_slope, prepared=prepared, clip=disk)
    allowed = suit.allowed_region(allow)
    if allowed.is_empty:
        return _empty(zoning)
    inner = shapely.buffer(allowed, -EDGE_MARGIN_M)
    shapely.prepare(inner)
    # positions: a grid where the footprint's inner disk fits, plus the fitting point nearest the site
    core = shapely.buffer(allowed, -(r_in + EDGE_MARGIN_M))
    if spacing is None:
        spacing = max(2 * r_out, np.sqrt(np.pi * radius**2 / MAX_GRID), 10.0)
    xs = np.arange(centre.x - radius, centre.x + radius + spacing, spacing)
    ys = np.arange(centre.y - radius, centre.y + radius + spacing, spacing)
    gx, gy = np.meshgrid(xs, ys)
    grid = shapely.points(gx.ravel(), gy.ravel())
    grid = grid[shapely.distance(centre, grid) <= radius]
    shapely.prepare(core)
    grid = grid[shapely.contains(core, grid)] if not core.is_empty else grid[:0]
    safe = shapely.buffer(allowed, -(r_out + 2 * EDGE_MARGIN_M))
    near = [shapely.shortest_line(centre, safe).coords[-1]] if not safe.is_empty else []
    near_pts = shapely.points(np.array(near).reshape(-1, 2))
    near_pts = near_pts[shapely.distance(centre, near_pts) <= radius]
    centres = np.concatenate([near_pts, grid])
    if not len(centres):
        return _empty(zoning)
    _check_footprints(len(centres), len(angles))  # the exact count, before the footprints are built
    feet, ci, ai = _footprints(geom, centres, angles)
    fits = shapely.contains(inner, feet)
    feet, ci, ai = feet[fits], ci[fits], ai[fits]
    dist = shapely.distance(centre, shapely.centroid(feet))
    order = np.lexsort((ai, dist))
    # exact re-screen of the nearest few; rotations of one position are alternatives to each other
    keep = order[: max(50 * n, 200)]
    feet, ci, ai, dist = feet[keep], ci[keep], ai[keep], dist[keep]
    verdicts, hits = screen_points(feet, zoning, rules, ptype, prepared=prepared)
    slope = np.full(len(feet), np.nan)
    if terrain is not None and len(feet):
        slope = terrain.slope_at(shapely.centroid(feet), zoning.crs)
        steep = terrain.steep_polygons(max_slope, zoning.crs)
        if len(steep):
            p, _ = shapely.STRtree(steep).query(feet, predicate="intersects")
            is_steep = np.zeros(len(feet), dtype=bool)
            is_steep[p] = True
            worse = is_steep & (np.array([VERDICT_RANK[v] for v in verdicts]) < VERDICT_RANK["restricted"])
            verdicts = np.where(worse, "restricted", verdicts)
            extra = pd.DataFrame({"s": np.flatnonzero(is_steep), "rule_id": SLOPE_RULE_ID, "feature_name": slope_label(max_slope), "verdict": "restricted"})
            hits = pd.concat([hits, extra], ignore_index=True)
        unknown = np.isnan(slope)  # no DEM data under the footprint's centre: never silently flat
        if unknown.any():
            verdicts = np.where(unknown & (verdicts == "compatible"), "notice", verdicts)
            extra = pd.DataFrame({"s": np.flatnonzero(unknown), "rule_id": SLOPE_UNKNOWN_ID, "feature_name": SLOPE_UNKNOWN_ZH, "verdict": "notice"})
            hits = pd.concat([hits, extra], ignore_index=True)
    ok = np.array([VERDICT_RANK[v] <= VERDICT_RANK[allow] for v in verdicts], dtype=bool)
    findings = _findings(hits, len(feet))
    c = shapely.centroid(feet)
    frame = gpd.GeoDataFrame(
        {
            "dx_m": shapely.get_x(c) - centre.x,
            "dy_m": shapely.get_y(c) - centre.y,
            "rotation_deg": angles[ai],
            "distance_m": dist,
            "verdict": verdicts,
            "findings": findings,
            "slope_deg": slope,
        },
        geometry=list(feet),
        crs=zoning.crs,
    )[ok]
    frame = frame.assign(_s=frame["slope_deg"].fillna(0.0)).sort_values(["distance_m", "_s"], kind="stable").drop(columns="_s")
    # offers at least a footprint plus a grid step apart, and spread over the circle
    return _spread(frame, max(2 * r_out + spacing, radius / 20.0, 1.0), n)


def _spread(frame: gpd.GeoDataFrame, gap: float, n: int) -> gpd.GeoDataFrame:
    """Best candidates at least ``gap`` apart (so the offers do not overlap each other)."""
    if not len(frame):
        return frame
    c = shapely.centroid(np.asarray(frame.geometry.values, dtype=object))
    chosen: list[int] = []
    free = np.ones(len(frame), dtype=bool)
    while len(chosen) < n and free.any():  # one step per offer (n, a handful)
        i = int(np.flatnonzero(free)[0])
        chosen.append(i)
        free &= shapely.distance(c[i], c) >= gap
    return frame.iloc[chosen].reset_index(drop=True)


def _empty(zoning: Zoning) -> gpd.GeoDataFrame:
    cols = {"dx_m": [], "dy_m": [], "rotation_deg": [], "distance_m": [], "verdict": [], "findings": [], "slope_deg": []}
    return gpd.GeoDataFrame(cols, geometry=[], crs=zoning.crs)


def find_alternatives(
    site: shapely.Geometry,
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    *,
    site_id: str = "site",
    max_distance_m: float = 20_000.0,
    n: int = 5,
    allow: str = "compatible",
    rotations: tuple[float, ...] = (0.0,),
    spacing: float | None = None,
    terrain: Terrain | None = None,
    max_slope: float = 25.0,
    prepared: PreparedZoning | None = None,
) -> AlternativeSearch:
    """Search positions of the same footprint that pass, nearest first.

    Parameters
    ----------
    site : shapely.Geometry
        The site's footprint (point, line or polygon) in the zoning CRS.
    zoning : Zoning
        Zoning.
    rules : RuleSet
        Catalogue.
    project_type : str
        Project type.
    site_id : str, default 'site'
        Id for the outputs.
    max_distance_m : float, default 20000
        Largest move of the footprint's centroid (m).
    n : int, default 5
        Alternatives wanted.
    allow : {'compatible', 'notice', 'restricted'}
        Worst verdict accepted (``restricted``: 有条件符合 counts too).
    rotations : tuple of float, default (0,)
        Rotations (degrees) tried at every position.
    spacing : float, optional
        Grid step of candidate positions (default from the radius and footprint).
    terrain : Terrain, optional
        Slope: steep footprints are 限制, and ties are ranked by slope.
    max_slope : float, default 25
        Slope threshold (degrees).
    prepared : PreparedZoning, optional
        Reused zoning arrays.

    Returns
    -------
    AlternativeSearch
        Candidates and a message.
    """
    rules = resolve_rules(rules, zoning)
    canon = rules.types.resolve(project_type) or project_type
    check_search(site, zoning, site_id, max_distance_m, rotations, spacing)
    if prepared is None or prepared.types is not rules.types:
        prepared = prepare_zoning(zoning, rules.types)
    own_v, _ = screen_points(np.array([site], dtype=object), zoning, rules, canon, prepared=prepared)
    angles = np.asarray(rotations, dtype=float)
    cand = _search(site, zoning, rules, canon, allow, max_distance_m, angles, spacing, terrain, max_slope, prepared, n)
    allow_zh = "、".join(VERDICT_ZH[v] for v, r in VERDICT_RANK.items() if r <= VERDICT_RANK[allow])
    km = max_distance_m / 1000
    head = f"地块 {site_id}（{VERDICT_ZH[own_v[0]]}）："
    if VERDICT_RANK[own_v[0]] <= VERDICT_RANK[allow]:
        head += f"原址已为{VERDICT_ZH[own_v[0]]}，以下为同样可行的其他位置；"
    if len(cand):
        cand["kind"] = "alternative"
        msg = f"{head}{km:g} km 内找到 {len(cand)} 处结论为{allow_zh}的替代位置，最近 {cand['distance_m'].iloc[0]:.0f} m。"
        found = True
    else:
        found = False
        msg = f"{head}{km:g} km 内没有结论为{allow_zh}的位置。"
        if allow != "restricted":
            near = _search(site, zoning, rules, canon, "restricted", max_distance_m, angles, spacing, terrain, max_slope, prepared, 1)
            where = f"{km:g} km 内"
            if not len(near):
                bounds = zoning.layers["boundary"].total_bounds
                whole = float(np.hypot(bounds[2] - bounds[0], bounds[3] - bounds[1]))
                near = _search(site, zoning, rules, canon, "restricted", whole, angles, spacing, terrain, max_slope, prepared, 1)
                where = "全县范围内"
            if len(near):
                cand = near.assign(kind="nearest_restricted")
                v = cand["verdict"].iloc[0]
                msg += f"{where}最近的“{VERDICT_ZH[v]}”位置距原址 {cand['distance_m'].iloc[0]:.0f} m"
                msg += f"，须满足其限制条件：{cand['findings'].iloc[0]}。" if cand["findings"].iloc[0] else "。"
            else:
                msg += "全县也没有“限制”及以下的位置。"
    cand.insert(0, "candidate_id", [f"{site_id}-ALT{i + 1}" for i in range(len(cand))])
    cand.insert(0, "rank", np.arange(1, len(cand) + 1))
    cand.insert(0, "site_id", site_id)
    cand["verdict_zh"] = cand["verdict"].map(VERDICT_ZH)
    if "kind" not in cand:
        cand["kind"] = pd.Series(dtype=str)
    return AlternativeSearch(site_id, str(own_v[0]), gpd.GeoDataFrame(cand[[*CANDIDATE_COLUMNS, "geometry"]], geometry="geometry", crs=zoning.crs), found, msg)
