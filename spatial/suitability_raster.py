"""Suitability overview on a grid (``ecozone suitability --raster-only RES``), approximate to one cell.

For an extent too large for the exact partition in the time at hand (issue 28, item 4):
the county is cut into square cells of ``RES`` metres and the centre of every cell
inside the county is screened by the same engine as ``ecozone screen``
(:func:`spatial.suitability.screen_codes`, chunked).  A cell takes its centre's
class.  Each chunk is screened first with only the rules of the type's worst verdict: a
centre they put at that verdict has it whatever the other rules say, and only the other
centres are screened again with every rule.  So every cell's verdict is exactly the engine's at its centre, and no rule
logic is re-implemented on rasters: rasterised layers and distance transforms would
have to redo the rules' ``where`` filters, modes, setbacks and unit bans outside the
engine, which the project does not allow ("only the engine decides verdicts").  The
price is screening one point per cell (the engine screens ~10⁶ points in ~16 s).

What is approximate: a cell is one class although its area may straddle an edge, so
class areas are right to about half a cell along every area edge, and the county's
outline is followed to a cell.  Class areas are ellipsoidal (each cell measured by
:func:`spatial.measure.equal_area`); their sum is the area of the cells whose centre is
in the county, which the table states next to the county's own area.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS

from spatial.errors import InputError
from spatial.measure import ellipsoidal_area, equal_area
from spatial.project_types import VERDICT_RANK, VERDICTS
from spatial.rules import RuleSet
from spatial.screening import PreparedZoning, prepare_zoning
from spatial.suitability import CLASSES, checked_inputs, class_zh, effective_rules, screen_codes
from spatial.terrain import Terrain, slope_label
from spatial.zoning import Zoning

__all__ = ["RasterSuitability", "raster_suitability", "CELLS_PER_CHUNK"]

#: Cells screened per engine call (bounds memory).
CELLS_PER_CHUNK = 200_000


@dataclass
class RasterSuitability:
    """Suitability classes on a grid for one project type.

    Attributes
    ----------
    project_type, project_type_input : str
        Canonical type and the type as written.
    codes : ndarray of uint8
        Class code per cell (:data:`~spatial.suitability.CLASSES` position + 1; 0 outside the county).
    transform : Affine
        Grid transform (north up), in the zoning CRS.
    crs : pyproj.CRS
        Zoning CRS.
    resolution : float
        Cell size (m).
    table : DataFrame
        Per class: ``class``, ``class_zh``, ``code``, ``area_km2``, ``pct`` (of the county).
    county_m2 : float
        Ellipsoidal area of the county (its outline, not the cells).
    cells_m2 : float
        Ellipsoidal area of the cells whose centre is in the county (what the classes add up to).
    cells : int
        Cells screened.
    max_slope : float or None
        Slope threshold when a DEM was used.
    notes : list of str
        Statements for the outputs (approximation, slope).
    """

    project_type: str
    project_type_input: str
    codes: np.ndarray
    transform: Affine
    crs: CRS
    resolution: float
    table: pd.DataFrame
    county_m2: float
    cells_m2: float
    cells: int
    max_slope: float | None = None
    notes: list[str] = field(default_factory=list)


def raster_suitability(
    zoning: Zoning,
    rules: RuleSet,
    project_type: str,
    resolution: float,
    *,
    terrain: Terrain | None = None,
    max_slope: float = 25.0,
    prepared: PreparedZoning | None = None,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RasterSuitability:
    """Screen the centre of every ``resolution``-metre cell of the county and classify the cell by it.

    Parameters
    ----------
    zoning : Zoning
        Loaded zoning (metric working CRS).
    rules : RuleSet
        Catalogue.
    project_type : str
        Project type, any name the vocabulary knows.
    resolution : float
        Cell size in metres.
    terrain : Terrain, optional
        Slope grid: cells whose centre is steeper than ``max_slope`` are at least 限制.
    max_slope : float, default 25
        Slope threshold in degrees.
    prepared : PreparedZoning, optional
        Reused zoning arrays.
    threads : int, optional
        Engine threads.
    progress : callable, optional
        Called with (chunks done, chunks).

    Returns
    -------
    RasterSuitability
        Codes, grid, class table.

    Raises
    ------
    InputError
        Unknown project type, no boundary layer, or a resolution that is not positive.
    """
    rules, canon = checked_inputs(zoning, rules, project_type)
    if not resolution > 0:
        raise InputError(f"--raster-only {resolution}：栅格大小须为正数（米）。", f"--raster-only {resolution}: the cell size must be positive (m)")
    if prepared is None or prepared.types is not rules.types:
        prepared = prepare_zoning(zoning, rules.types)
    county = shapely.union_all(np.asarray(zoning.layers["boundary"].geometry.values, dtype=object))
    shapely.prepare(county)
    xmin, ymin, xmax, ymax = county.bounds
    width, height = max(1, math.ceil((xmax - xmin) / resolution)), max(1, math.ceil((ymax - ymin) / resolution))
    transform = Affine(resolution, 0.0, xmin, 0.0, -resolution, ymax)
    steep = terrain.steep_polygons(max_slope, zoning.crs) if terrain is not None else np.zeros(0, dtype=object)
    steep_tree = shapely.STRtree(steep) if len(steep) else None
    # Two passes per chunk: the rules of the type's worst verdict first; a cell they put at that
    # verdict has it whatever the other rules say, and only the others are screened with every rule.
    eff = effective_rules(rules, zoning)
    worst = max((VERDICT_RANK[v] for r in eff if (v := r.type_verdicts.get(canon)) is not None), default=0)
    first_pass = replace(eff, rules=[r for r in eff if r.type_verdicts.get(canon) is not None and VERDICT_RANK[r.type_verdicts[canon]] == worst])
    codes = np.zeros((height, width), dtype=np.uint8)
    cls_m2 = np.zeros(len(CLASSES))
    rank = np.array([VERDICT_RANK[v] for v in VERDICTS])
    rows_per_chunk = max(1, CELLS_PER_CHUNK // width)
    chunks = math.ceil(height / rows_per_chunk)
    cells = 0
    for k, r0 in enumerate(range(0, height, rows_per_chunk)):
        r1 = min(height, r0 + rows_per_chunk)
        rr, cc = np.mgrid[r0:r1, 0:width]
        x = xmin + (cc.ravel() + 0.5) * resolution
        y = ymax - (rr.ravel() + 0.5) * resolution
        inside = shapely.contains_xy(county, x, y)
        if inside.any():
            x, y = x[inside], y[inside]
            pts = shapely.points(x, y)
            verdicts, _ = screen_codes(pts, zoning, first_pass, canon, prepared=prepared, threads=threads)
            rest = np.flatnonzero(np.array([VERDICT_RANK[v] for v in VERDICTS])[pd.Categorical(verdicts, categories=list(VERDICTS)).codes] < worst)
            if len(rest):
                verdicts[rest], _ = screen_codes(pts[rest], zoning, eff, canon, prepared=prepared, threads=threads)
            cls = verdicts.astype(object)
            if steep_tree is not None:
                steep_at = np.zeros(len(x), dtype=bool)
                steep_at[steep_tree.query(shapely.points(x, y), predicate="within")[0]] = True
                below = rank[pd.Categorical(verdicts, categories=list(VERDICTS)).codes] < VERDICT_RANK["restricted"]
                cls = np.where(steep_at & below, "restricted_slope", cls)
            code = pd.Categorical(cls, categories=list(CLASSES)).codes.astype(np.int64) + 1
            codes[rr.ravel()[inside], cc.ravel()[inside]] = code
            boxes = shapely.box(x - resolution / 2, y - resolution / 2, x + resolution / 2, y + resolution / 2)
            np.add.at(cls_m2, code - 1, equal_area(boxes, zoning.crs))
            cells += len(x)
        if progress is not None:
            progress(k + 1, chunks)
    county_m2 = float(ellipsoidal_area(np.array([county], dtype=object), zoning.crs)[0])
    present = [i for i in reversed(range(len(CLASSES))) if cls_m2[i] > 0]
    table = pd.DataFrame(
        {
            "class": [CLASSES[i] for i in present],
            "class_zh": [class_zh(CLASSES[i], max_slope) for i in present],
            "code": [i + 1 for i in present],
            "area_km2": cls_m2[present] / 1e6,
            "pct": 100.0 * cls_m2[present] / county_m2 if county_m2 > 0 else np.nan,
        }
    )
    cells_m2 = float(cls_m2.sum())
    notes = [
        f"栅格概览：{resolution:g} m 格网，每个格网中心点由筛查引擎判定，格网取其中心点的类别；类别面积精确到约半个格网宽的边界带，"
        f"各类合计为中心点在行政区内的格网面积（{cells_m2 / 1e6:.2f} km²，行政区 {county_m2 / 1e6:.2f} km²）。"
        f" / raster overview: {resolution:g} m cells, each classified by the engine's verdict at its centre; approximate to one cell "
        "(class areas to about half a cell along every edge; the classes add up to the cells whose centre is in the county)"
    ]
    if terrain is not None:
        notes.append(f"坡度：{slope_label(max_slope)} 的格网中心至少为“限制”。 / slope > {max_slope:g}° at the cell centre is at least restricted")
    return RasterSuitability(
        canon, project_type, codes, transform, CRS.from_user_input(zoning.crs), float(resolution), table, county_m2, cells_m2, cells,
        max_slope if terrain is not None else None, notes,
    )  # fmt: skip
