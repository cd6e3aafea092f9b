"""Red-line change audit: what an adjustment added and removed, and 面积不减少.

Both versions are dissolved (overlaps count once) and compared as areas:
``added = union(new) − union(old)``, ``removed = union(old) − union(new)``.
Every square metre counts: a reduction made of thin slivers or of thousands
of pinholes adds up like one big cut.  A piece is reported as *noise* only
when it is what a reprojection round trip produces: every vertex of it lies
within :data:`NOISE_DISTANCE_M` of both versions' outlines (the hair-thin
lenses left when the same layer is stored in another CRS).  Noise is reported
as a total area and a piece count; it stays in the totals, where round-trip
lenses on either side cancel out.  Areas are ellipsoidal (GRS80).

The 面积不减少 verdict
--------------------
``net = added − removed`` (all pieces) and
``area_not_reduced = max(net, net_planar) ≥ −tolerance``: the tolerance
(default 1 m²) applies to the total, never to each piece, where
``net_planar`` is the same net measured in the working Gauss-Kruger plane.
Checking the planar net too means a swap drawn equal-area in the plane the
plans are drawn in is not failed on the ~2×10⁻⁵ scale-factor difference
between its two halves on the ellipsoid (tens of m² per km² at 100 km from
the central meridian); a real reduction is negative in both measures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import REGISTRY, generic_spec, spec_for_layer_name
from spatial.crs import describe_crs, to_crs_geoms, working_crs_for
from spatial.errors import InputError, SchemaError
from spatial.geometry import clean_geometries, polygonal_part
from spatial.io import list_layers, read_vector
from spatial.measure import dissolve, ellipsoidal_area, geodesic_length
from spatial.zoning import Zoning, load_zoning

__all__ = ["DiffResult", "LineDiff", "diff_layers", "diff_lines", "load_layer", "NOISE_DISTANCE_M", "LINE_TOLERANCE_M"]

#: Two versions of a line closer than this (m) are the same line in :func:`diff_lines`.
LINE_TOLERANCE_M = 0.01

#: Largest vertex displacement a reprojection round trip produces (m).  pyproj
#: round trips between CGCS2000/WGS84 degrees and Gauss-Kruger metres agree to
#: about 1e-9 m and GeoJSON's 15 significant digits keep 1e-7 m: 1 µm leaves
#: a margin, while a 0.1 mm real shift of an outline is already a change.
NOISE_DISTANCE_M = 1e-6

_CHANGE_ZH = {"added": "新增/调入", "removed": "减少/调出"}


@dataclass
class DiffResult:
    """Outcome of :func:`diff_layers` (areas in m², ellipsoidal).

    Attributes
    ----------
    layer : str
        Layer compared (``redline``).
    crs : pyproj.CRS
        Working CRS of ``pieces``.
    old_m2, new_m2 : float
        Dissolved totals of each version.
    added_m2, removed_m2 : float
        Area gained and lost (every piece).
    net_m2 : float
        ``added_m2 − removed_m2``.
    net_planar_m2 : float
        The same net in the working Gauss-Kruger plane.
    tolerance_m2 : float
        Tolerance on the net total (m²).
    noise_distance_m : float
        Distance from both outlines within which a piece is round-trip noise.
    noise_count : int
        Pieces that are reprojection round-trip noise (kept in the totals).
    noise_m2 : float
        Their total area (added and removed together).
    pieces : GeoDataFrame
        ``piece_id``, ``change`` (added/removed), ``change_zh``, ``area_m2``,
        ``area_km2``, ``noise`` (bool), geometry in ``crs``.
    breakdown : DataFrame
        ``by`` (control_unit/town), ``code``, ``name``, ``added_km2``,
        ``removed_km2``, ``net_km2`` for every unit or town the change touches.
    old_path, new_path : str or None
        Sources.
    """

    layer: str
    crs: CRS
    old_m2: float
    new_m2: float
    added_m2: float
    removed_m2: float
    net_m2: float
    net_planar_m2: float
    tolerance_m2: float
    noise_distance_m: float
    noise_count: int
    noise_m2: float
    pieces: gpd.GeoDataFrame
    breakdown: pd.DataFrame
    old_path: str | None = None
    new_path: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def area_not_reduced(self) -> bool:
        """Verdict of 面积不减少: ``max(net, net_planar) ≥ −tolerance``."""
        return bool(max(self.net_m2, self.net_planar_m2) >= -self.tolerance_m2)

    @property
    def net_pct(self) -> float | None:
        """Net change as a percentage of the old total (None when the old total is 0)."""
        return None if self.old_m2 <= 0 else 100.0 * self.net_m2 / self.old_m2

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary (``diff.json``).

        Returns
        -------
        dict
            Keys ``added_km2``, ``removed_km2``, ``net_km2``, ``net_pct``,
            ``area_not_reduced``, ``tolerance_m2`` plus totals, noise, the
            planar net and the breakdown.
        """
        return {
            "layer": self.layer,
            "old": self.old_path,
            "new": self.new_path,
            "old_km2": self.old_m2 / 1e6,
            "new_km2": self.new_m2 / 1e6,
            "added_km2": self.added_m2 / 1e6,
            "removed_km2": self.removed_m2 / 1e6,
            "net_km2": self.net_m2 / 1e6,
            "net_pct": self.net_pct,
            "net_planar_km2": self.net_planar_m2 / 1e6,
            "area_not_reduced": self.area_not_reduced,
            "rule": "面积不减少: max(net, net_planar) >= -tolerance_m2",
            "tolerance_m2": self.tolerance_m2,
            "noise_distance_m": self.noise_distance_m,
            "noise_pieces": self.noise_count,
            "noise_m2": self.noise_m2,
            "added_pieces": int(((self.pieces["change"] == "added") & ~self.pieces["noise"]).sum()),
            "removed_pieces": int(((self.pieces["change"] == "removed") & ~self.pieces["noise"]).sum()),
            "crs": describe_crs(self.crs),
            "area_method": "ellipsoidal GRS80 (pyproj.Geod, CGCS2000)",
            "breakdown": self.breakdown.to_dict("records"),
            "notes": list(self.notes),
        }


def _has_boundary(path: Path) -> bool:
    if path.is_dir() or path.suffix.lower() in (".yaml", ".yml"):
        return True  # a folder or manifest is a package: its errors are the user's to see
    try:
        names = list_layers(path)
    except Exception:  # noqa: BLE001 - unreadable: let load_zoning's message stand
        return True
    return any((spec_for_layer_name(n) or generic_spec(n)).name == "boundary" for n in names)


def _read_single(path: Path, layer: str, crs: CRS | None) -> gpd.GeoDataFrame:
    """Read a plain vector file holding just ``layer`` (no boundary)."""
    names = list_layers(path)
    std = [n for n in names if (spec_for_layer_name(n) or generic_spec(n)).name == layer]
    if std:
        source_layer: str | None = std[0]
    elif len(names) == 1:
        source_layer = names[0]
    else:
        raise SchemaError(
            f"{path}：有多个图层（{', '.join(names)}），找不到 {layer}；请给出只含该图层的文件或完整分区数据。",
            f"{path}: several layers ({', '.join(names)}) and none is {layer}; pass a file with just that layer "
            "or a zoning package",
        )
    raw = read_vector(path, source_layer)
    spec = REGISTRY.get(layer) or generic_spec(layer)
    label = f"{path.name}:{source_layer}"
    norm, _ = spec.normalise(raw, source=label)
    src_crs = CRS.from_user_input(raw.crs)
    if not len(norm):
        return norm.set_crs(crs or src_crs, allow_override=True)
    if crs is None:
        crs = working_crs_for(norm.geometry.values.to_numpy(), src_crs)
    norm = gpd.GeoDataFrame(
        norm.drop(columns=norm.geometry.name),
        geometry=to_crs_geoms(norm.geometry.values.to_numpy(), src_crs, crs),
        crs=crs,
    )
    return clean_geometries(norm, spec.geometry, label=f"{label}（{spec.label_zh}）")


def load_layer(
    source: Zoning | gpd.GeoDataFrame | str | os.PathLike[str], layer: str = "redline", *, crs: CRS | None = None
) -> tuple[gpd.GeoDataFrame, Zoning | None, str | None]:
    """Get one layer from a zoning package, a plain vector file or a GeoDataFrame.

    Parameters
    ----------
    source : Zoning, GeoDataFrame or path-like
        A loaded package, a layer, or a path: a zoning package (GeoPackage,
        manifest, folder) or a single vector file holding just the layer.
    layer : str, default 'redline'
        Standard layer name.
    crs : pyproj.CRS, optional
        Reproject to this CRS (else the package's working CRS).

    Returns
    -------
    (GeoDataFrame, Zoning or None, str or None)
        The layer in a metric CRS, the package when there was one, and the path.
    """
    zoning: Zoning | None = None
    path: str | None = None
    if isinstance(source, Zoning):
        zoning = source
    elif isinstance(source, gpd.GeoDataFrame):
        gdf = source
        if gdf.crs is None:
            raise InputError("图层没有坐标系。", "the layer has no CRS")
        if "feature_id" not in gdf:
            spec = REGISTRY.get(layer) or generic_spec(layer)
            gdf, _ = spec.normalise(gdf, source=layer)
        target = crs or (
            CRS.from_user_input(gdf.crs)
            if not CRS.from_user_input(gdf.crs).is_geographic
            else working_crs_for(gdf.geometry.values.to_numpy(), CRS.from_user_input(gdf.crs))
        )
        return gdf.to_crs(target), None, None
    else:
        p = Path(source)
        path = str(p)
        try:
            zoning = load_zoning(p)
        except SchemaError:
            if _has_boundary(p):
                raise
            return _read_single(p, layer, crs), None, path
    assert zoning is not None
    if layer not in zoning.layers:
        raise SchemaError(
            f"{zoning.path}：没有图层 {layer}；可用图层：{', '.join(zoning.layers)}。",
            f"{zoning.path}: no layer {layer}; layers: {', '.join(zoning.layers)}",
        )
    gdf = zoning[layer]
    if crs is not None and not CRS.from_user_input(gdf.crs).equals(crs):
        gdf = gdf.to_crs(crs)
    return gdf, zoning, path or (None if zoning.path is None else str(zoning.path))


def _round_trip_noise(pieces: np.ndarray, old: shapely.Geometry, new: shapely.Geometry, distance: float) -> np.ndarray:
    """Whether each piece lies, vertex by vertex, within ``distance`` of both outlines.

    The outlines are cut into their segments and indexed, so the test is one
    bulk tree query over all pieces' vertices.
    """
    if not len(pieces):
        return np.zeros(0, dtype=bool)
    pts, owner = shapely.get_coordinates(pieces, return_index=True)
    pts = shapely.points(pts)
    near = np.ones(len(pieces), dtype=bool)
    for outline in (old, new):
        segs = _segments(shapely.boundary(outline))
        if not len(segs):
            return np.zeros(len(pieces), dtype=bool)
        hit = np.zeros(len(pts), dtype=bool)
        hit[np.unique(shapely.STRtree(segs).query(pts, predicate="dwithin", distance=distance)[0])] = True
        near &= np.bincount(owner, weights=~hit, minlength=len(pieces)) == 0
    return near


def _segments(lines: shapely.Geometry) -> np.ndarray:
    """Return the two-point segments of a (multi)line."""
    coords, idx = shapely.get_coordinates(shapely.get_parts(lines), return_index=True)
    same = idx[1:] == idx[:-1]
    return shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))


def _pieces(geom: shapely.Geometry) -> np.ndarray:
    return shapely.get_parts(polygonal_part(np.array([geom], dtype=object)))


def _breakdown(
    pieces: gpd.GeoDataFrame, zonings: list[Zoning | None], crs: CRS
) -> tuple[pd.DataFrame, list[str]]:
    """Added/removed area per control unit and per town (first package that has the layer)."""
    rows: list[pd.DataFrame] = []
    notes: list[str] = []
    kept = pieces[~pieces["noise"]]
    for by in ("control_unit", "town"):
        ref = next((z for z in zonings if z is not None and by in z), None)
        if ref is None:
            continue
        units = ref[by]
        if not CRS.from_user_input(units.crs).equals(crs):
            units = units.to_crs(crs)
        ug = np.asarray(units.geometry.values, dtype=object)
        if not len(kept):
            continue
        pg = np.asarray(kept.geometry.values, dtype=object)
        pi, ui = shapely.STRtree(ug).query(pg, predicate="intersects")
        inter = polygonal_part(shapely.intersection(pg[pi], ug[ui]))
        m2 = ellipsoidal_area(inter, crs) if len(inter) else np.zeros(0)
        change = kept["change"].to_numpy()[pi]
        code = units["code"] if "code" in units else units.get("id", units["feature_id"])
        name = units["name"] if "name" in units else pd.Series([""] * len(units))
        frame = pd.DataFrame(
            {
                "by": by,
                "feature_id": units["feature_id"].to_numpy()[ui],
                "code": code.astype("string").fillna("").to_numpy()[ui],
                "name": name.astype("string").fillna("").to_numpy()[ui],
                "added_km2": np.where(change == "added", m2, 0.0) / 1e6,
                "removed_km2": np.where(change == "removed", m2, 0.0) / 1e6,
            }
        )
        frame = frame.groupby(["by", "feature_id", "code", "name"], as_index=False, sort=False)[
            ["added_km2", "removed_km2"]
        ].sum()
        frame["net_km2"] = frame["added_km2"] - frame["removed_km2"]
        frame = frame[(frame["added_km2"] > 0) | (frame["removed_km2"] > 0)]
        rows.append(frame.sort_values("net_km2", kind="stable"))
        outside = kept.geometry.area.sum() - shapely.area(inter).sum() if len(inter) else kept.geometry.area.sum()
        if by == "town" and outside > 1.0:
            notes.append(
                f"有 {outside / 1e6:.4f} km²（平面）变化不在任何乡镇内。 / {outside / 1e6:.4f} km² (planar) of change lies in no town"
            )
    cols = ["by", "feature_id", "code", "name", "added_km2", "removed_km2", "net_km2"]
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    return frame[cols].reset_index(drop=True), notes


def diff_layers(
    old: Zoning | gpd.GeoDataFrame | str | os.PathLike[str],
    new: Zoning | gpd.GeoDataFrame | str | os.PathLike[str],
    layer: str = "redline",
    tolerance_m2: float = 1.0,
    by: list[Zoning] | None = None,
    noise_distance_m: float = NOISE_DISTANCE_M,
) -> DiffResult:
    """Audit the change of a layer (usually the red line) between two versions.

    Parameters
    ----------
    old, new : Zoning, GeoDataFrame or path-like
        The versions: zoning packages, single-layer vector files, or layers.
    layer : str, default 'redline'
        Standard layer to compare.
    tolerance_m2 : float, default 1.0
        The verdict allows a net of ``−tolerance_m2`` (m², ellipsoidal) in total.
    by : list of Zoning, optional
        Packages whose ``control_unit`` and ``town`` layers break the change
        down (default: the new package, then the old one).
    noise_distance_m : float, default :data:`NOISE_DISTANCE_M`
        A piece whose vertices all lie this close to both outlines is
        reported as reprojection noise (it still counts in the totals).

    Returns
    -------
    DiffResult
        Totals, pieces, breakdown and the 面积不减少 verdict.
    """
    if tolerance_m2 < 0:
        raise InputError("容差不能为负。", "the tolerance must not be negative")
    old_gdf, old_z, old_path = load_layer(old, layer)
    crs = CRS.from_user_input(old_gdf.crs)
    new_gdf, new_z, new_path = load_layer(new, layer, crs=crs)
    u_old = dissolve(np.asarray(old_gdf.geometry.values, dtype=object))
    u_new = dissolve(np.asarray(new_gdf.geometry.values, dtype=object))
    added = _pieces(shapely.difference(u_new, u_old))
    removed = _pieces(shapely.difference(u_old, u_new))
    geoms = np.concatenate([added, removed])
    change = np.array(["added"] * len(added) + ["removed"] * len(removed), dtype=object)
    m2 = ellipsoidal_area(geoms, crs) if len(geoms) else np.zeros(0)
    planar = shapely.area(geoms) if len(geoms) else np.zeros(0)
    noise = _round_trip_noise(geoms, u_old, u_new, noise_distance_m)
    pieces = gpd.GeoDataFrame(
        {
            "piece_id": [f"{c[0].upper()}{i + 1}" for i, c in enumerate(change)],
            "change": change,
            "change_zh": [_CHANGE_ZH[c] for c in change],
            "area_m2": m2,
            "area_km2": m2 / 1e6,
            "noise": noise,
        },
        geometry=gpd.GeoSeries(list(geoms), crs=crs) if len(geoms) else gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    is_add = change == "added"
    added_m2 = float(m2[is_add].sum())
    removed_m2 = float(m2[~is_add].sum())
    net_planar = float(planar[is_add].sum() - planar[~is_add].sum())
    old_m2, new_m2 = (float(v) for v in ellipsoidal_area(np.array([u_old, u_new], dtype=object), crs))
    breakdown, notes = _breakdown(pieces, by if by is not None else [new_z, old_z], crs)
    return DiffResult(
        layer=layer,
        crs=crs,
        old_m2=old_m2,
        new_m2=new_m2,
        added_m2=added_m2,
        removed_m2=removed_m2,
        net_m2=added_m2 - removed_m2,
        net_planar_m2=net_planar,
        tolerance_m2=float(tolerance_m2),
        noise_distance_m=float(noise_distance_m),
        noise_count=int(noise.sum()),
        noise_m2=float(m2[noise].sum()),
        pieces=pieces,
        breakdown=breakdown,
        old_path=old_path,
        new_path=new_path,
        notes=notes,
    )


@dataclass
class LineDiff:
    """Outcome of :func:`diff_lines`: a line layer's change per class (lengths geodesic, metres).

    Attributes
    ----------
    layer : str
        Layer compared (``coastline``).
    by : str
        Field whose classes are compared (``kind``).
    crs : pyproj.CRS
        Working CRS of ``pieces``.
    totals : DataFrame
        ``value``, ``old_m``, ``new_m``, ``lost_m``, ``gained_m``, ``net_m`` per class.
    pieces : GeoDataFrame
        ``piece_id``, ``value``, ``change`` (lost/gained), ``change_zh``, ``length_m``, geometry.
    old_path, new_path : str or None
        Sources.
    """

    layer: str
    by: str
    crs: CRS
    totals: pd.DataFrame
    pieces: gpd.GeoDataFrame
    old_path: str | None = None
    new_path: str | None = None

    def lost_m(self, value: str) -> float:
        """Length of class ``value`` (``natural``) in the old version and not in the new one (m)."""
        row = self.totals[self.totals["value"] == value]
        return float(row["lost_m"].iloc[0]) if len(row) else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary (``diff.json``): totals per class and the piece counts."""
        return {
            "layer": self.layer,
            "by": self.by,
            "old": self.old_path,
            "new": self.new_path,
            "totals": self.totals.to_dict("records"),
            "lost_pieces": int((self.pieces["change"] == "lost").sum()),
            "gained_pieces": int((self.pieces["change"] == "gained").sum()),
            "crs": describe_crs(self.crs),
            "length_method": "geodesic GRS80 (pyproj.Geod, CGCS2000)",
            "tolerance_m": LINE_TOLERANCE_M,
        }


def diff_lines(
    old: Zoning | gpd.GeoDataFrame | str | os.PathLike[str],
    new: Zoning | gpd.GeoDataFrame | str | os.PathLike[str],
    layer: str = "coastline",
) -> LineDiff:
    """Compare two versions of a line layer class by class (自然岸线 lost and gained).

    For every value of the layer's indicator field (``kind`` for the coastline) the old and new
    lines of that value are dissolved; ``lost = old − new`` and ``gained = new − old``, where a
    stretch wholly within :data:`LINE_TOLERANCE_M` of the other version counts as the same line.  A
    stretch reclassified from natural to artificial is natural length lost (and artificial gained).

    Parameters
    ----------
    old, new : Zoning, GeoDataFrame or path-like
        The versions: zoning packages, single-layer vector files, or layers.
    layer : str, default 'coastline'
        A standard layer measured by length (``IndicatorRole('length', by=...)``).

    Returns
    -------
    LineDiff
        Totals per class and the pieces lost and gained.

    Raises
    ------
    InputError
        The layer is not measured by length.
    """
    spec = REGISTRY.get(layer)
    role = spec.indicator if spec is not None else None
    if role is None or role.kind != "length" or role.by is None:
        raise InputError(
            f"图层 {layer} 不是按类别计长度的线图层，不能按长度比较；请用 --layer coastline 或 corridor。",
            f"layer {layer} is not a line layer measured by class; use --layer coastline or corridor",
        )
    old_gdf, _, old_path = load_layer(old, layer)
    crs = CRS.from_user_input(old_gdf.crs)
    new_gdf, _, new_path = load_layer(new, layer, crs=crs)
    rows, geoms, vals, changes = [], [], [], []
    for value in spec.field(role.by).values:
        u_old = dissolve(np.asarray(old_gdf.geometry.values[(old_gdf[role.by] == value).to_numpy()], dtype=object))
        u_new = dissolve(np.asarray(new_gdf.geometry.values[(new_gdf[role.by] == value).to_numpy()], dtype=object))
        lost = _line_pieces(shapely.difference(u_old, u_new), u_new)
        gained = _line_pieces(shapely.difference(u_new, u_old), u_old)
        lost_m = geodesic_length(lost, crs) if len(lost) else np.zeros(0)
        gained_m = geodesic_length(gained, crs) if len(gained) else np.zeros(0)
        old_m, new_m = (float(v) for v in geodesic_length(np.array([u_old, u_new], dtype=object), crs))
        rows.append({"value": value, "old_m": old_m, "new_m": new_m, "lost_m": float(np.sum(lost_m)), "gained_m": float(np.sum(gained_m)), "net_m": new_m - old_m})
        for piece, change in [(lost, "lost"), (gained, "gained")]:
            geoms.extend(piece)
            vals.extend([value] * len(piece))
            changes.extend([change] * len(piece))
    geoms_a = np.asarray(geoms, dtype=object)
    length = geodesic_length(geoms_a, crs) if len(geoms_a) else np.zeros(0)
    pieces = gpd.GeoDataFrame(
        {
            "piece_id": [f"{c[0].upper()}{i + 1}" for i, c in enumerate(changes)],
            "value": vals,
            "change": changes,
            "change_zh": ["减少" if c == "lost" else "新增" for c in changes],
            "length_m": length,
        },
        geometry=gpd.GeoSeries(list(geoms_a), crs=crs) if len(geoms_a) else gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    return LineDiff(layer, role.by, crs, pd.DataFrame(rows), pieces, old_path, new_path)


def _line_pieces(geom: shapely.Geometry, other: shapely.Geometry) -> np.ndarray:
    """Return the line parts of a difference, one per continuous stretch, without those lying along ``other``.

    A stretch wholly within :data:`LINE_TOLERANCE_M` of the other version is the same line
    stored differently (a reprojection round trip), not a change; a real stretch keeps its
    whole length.
    """
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), [1, 2, 5]) & ~shapely.is_empty(parts)]
    if not len(parts):
        return np.zeros(0, dtype=object)
    pieces = shapely.get_parts(shapely.line_merge(shapely.union_all(parts)))
    if shapely.is_empty(other):
        return pieces
    return pieces[~shapely.covered_by(pieces, shapely.buffer(other, LINE_TOLERANCE_M))]
