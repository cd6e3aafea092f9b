"""Site screening: which zoning each site touches, which rules it breaks.

The engine is vectorised end to end:

1. one STRtree over the *sites*, queried with each zoning layer's geometries
   (the zoning side is prepared once and reused for every site candidate —
   the fast orientation for complex polygons);
2. rule conditions, project-type exceptions and 准入清单 bans evaluated as
   array lookups over the candidate (feature, site) pairs;
3. worst verdict per site with ``np.maximum.at``;
4. measurements (overlap area, length inside, distance) only for pairs that
   hit, skipping the intersection when the feature contains the site.

There is no Python loop over sites or features.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
from spatial.errors import DataWarning
from spatial.io import file_sha256
from spatial.project_types import VERDICT_RANK, VERDICT_ZH, VERDICTS, ProjectTypes
from spatial.rules import Rule, RuleSet, load_rules
from spatial.sites import prepare_sites, read_sites
from spatial.zoning import Zoning, load_zoning

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
        for text in attrs["control_unit"]["prohibited"].fillna("").astype(str):
            terms = [t for t in pd.Series([text]).str.split(_SPLIT, regex=True)[0] if t]
            found = set()
            for t in terms:
                r = types.resolve(t)
                if r is None:
                    unknown.append(t)
                elif r in types.groups:
                    found.update(types.groups[r])
                else:
                    found.add(r)
            bans.append(found)
    return PreparedZoning(zoning, geoms, attrs, labels, widths, boundary, types, bans, sorted(set(unknown)))


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
            if layer not in self.zoning.layers:
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


def _features_per_site(pairs: pd.DataFrame | None, n: int) -> np.ndarray:
    """Comma-joined feature labels per site ('' where none)."""
    out = np.full(n, "", dtype=object)
    if pairs is None or not len(pairs):
        return out
    joined = pairs.groupby("s", sort=True)["label"].agg(lambda s: "、".join(dict.fromkeys(s)))
    out[joined.index.to_numpy()] = joined.to_numpy()
    return out


def _query(site_tree: shapely.STRtree, geoms: np.ndarray, distance: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(feature, site) index pairs within ``distance`` (vectorised, zoning side prepared)."""
    if not len(geoms):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    f, s = site_tree.query(geoms, predicate="dwithin", distance=distance)
    return f, s


def _measure(site_geoms: np.ndarray, feat_geoms: np.ndarray, f: np.ndarray, s: np.ndarray) -> pd.DataFrame:
    """Overlap area/%, length inside for (feature, site) pairs that intersect."""
    n = len(f)
    area = np.full(n, np.nan)
    pct = np.full(n, np.nan)
    length = np.full(n, np.nan)
    if not n:
        return pd.DataFrame({"overlap_m2": area, "overlap_pct": pct, "length_m": length})
    sg, fg = site_geoms[s], feat_geoms[f]
    dim = shapely.get_dimensions(sg)
    inside = shapely.contains_properly(fg, sg)  # prepared: cheap, and skips the costly intersection
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
    out = pd.DataFrame({"overlap_m2": area, "overlap_pct": pct, "length_m": length})
    out["geometry"] = np.where(inside, sg, inter)
    return out


def screen_frame(sites: gpd.GeoDataFrame, prepared: PreparedZoning, rules: RuleSet) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], np.ndarray]:
    """Screen prepared sites (already in the working CRS): the engine core.

    Parameters
    ----------
    sites : GeoDataFrame
        Output of :func:`spatial.sites.prepare_sites`, in ``prepared.crs``.
    prepared : PreparedZoning
        Zoning arrays.
    rules : RuleSet
        Validated rules.

    Returns
    -------
    (DataFrame, dict, ndarray)
        Hits (site index ``s`` plus :data:`HIT_COLUMNS` data), touched
        (feature, site) pairs per layer with labels and measurements, and the
        worst verdict rank per site.
    """
    sg = np.asarray(sites.geometry.values, dtype=object)
    n = len(sg)
    tree = shapely.STRtree(sg)
    types = sites["project_type"].to_numpy(dtype=str)
    touch: dict[str, pd.DataFrame] = {}
    measured: dict[str, pd.DataFrame] = {}
    for layer in prepared.geoms:
        if layer == "corridor":
            f, s = _query(tree, prepared.geoms[layer], prepared.widths + TOUCH_M)
        elif layer in REGISTRY and layer != "boundary":
            f, s = _query(tree, prepared.geoms[layer], TOUCH_M)
        else:
            continue
        pairs = pd.DataFrame({"f": f, "s": s})
        if layer == "corridor":
            pairs["distance_m"] = shapely.distance(prepared.geoms[layer][f], sg[s])
        else:
            pairs = pd.concat([pairs, _measure(sg, prepared.geoms[layer], f, s)], axis=1)
        pairs["label"] = prepared.labels[layer][f]
        touch[layer] = pairs
        measured[layer] = pairs
    rank = np.zeros(n, dtype=np.int8)
    hit_frames: list[pd.DataFrame] = []
    for rule in rules:
        for layer in rule.layers:
            frame = _apply_rule(rule, layer, prepared, measured, tree, sg, types)
            if frame is not None and len(frame):
                np.maximum.at(rank, frame["s"].to_numpy(), frame["verdict"].map(VERDICT_RANK).to_numpy(np.int8))
                hit_frames.append(frame)
    hits = pd.concat(hit_frames, ignore_index=True) if hit_frames else pd.DataFrame(columns=["s", *HIT_COLUMNS[1:], "geometry"])
    return hits, touch, rank


def _apply_rule(
    rule: Rule,
    layer: str,
    prepared: PreparedZoning,
    measured: dict[str, pd.DataFrame],
    tree: shapely.STRtree,
    sg: np.ndarray,
    types: np.ndarray,
) -> pd.DataFrame | None:
    """Hits of one rule on one layer as a frame (site index ``s``)."""
    if layer not in prepared.geoms or not len(prepared.geoms[layer]):
        return None
    attrs = prepared.attrs[layer]
    fgeoms = prepared.geoms[layer]
    if rule.mode == "outside":
        pairs = _outside(prepared, sg)
    elif rule.mode == "near":
        f, s = _query(tree, fgeoms, rule.distance_m)
        inside = measured.get(layer)
        pairs = pd.DataFrame({"f": f, "s": s})
        if inside is not None and len(inside):
            pairs = pairs[~pairs["s"].isin(inside["s"].to_numpy())]
        pairs = pairs.assign(distance_m=shapely.distance(fgeoms[pairs["f"].to_numpy()], sg[pairs["s"].to_numpy()]))
        pairs["label"] = prepared.labels[layer][pairs["f"].to_numpy()]
    elif rule.mode == "buffer" and layer != "corridor":
        f, s = _query(tree, fgeoms, float(rule.buffer_m) + TOUCH_M)
        pairs = pd.DataFrame({"f": f, "s": s, "distance_m": shapely.distance(fgeoms[f], sg[s])})
        pairs["label"] = prepared.labels[layer][f]
    else:
        pairs = measured.get(layer)
        if pairs is None:
            return None
    if not len(pairs):
        return None
    fidx = pairs["f"].to_numpy()
    keep = np.ones(len(pairs), dtype=bool)
    for fname, allowed in rule.where.items():
        col = attrs[fname] if fname in attrs else pd.Series([None] * len(attrs))
        keep &= col.astype("string").isin(allowed).fillna(False).to_numpy()[fidx]
    verdict = rule.verdicts_for(types[pairs["s"].to_numpy()])
    keep &= verdict != None  # noqa: E711 - elementwise on an object array
    if rule.mode == "unit_prohibited":
        keep &= _banned(prepared, types, fidx, pairs["s"].to_numpy())
    pairs = pairs[keep]
    if not len(pairs):
        return None
    fidx = pairs["f"].to_numpy()
    out = pd.DataFrame(
        {
            "s": pairs["s"].to_numpy(),
            "rule_id": rule.id,
            "layer": layer,
            "feature_id": attrs["feature_id"].to_numpy()[fidx] if "feature_id" in attrs else "",
            "feature_name": pairs["label"].to_numpy(),
            "verdict": verdict[keep],
            "overlap_m2": pairs["overlap_m2"].to_numpy() if "overlap_m2" in pairs else np.nan,
            "overlap_pct": pairs["overlap_pct"].to_numpy() if "overlap_pct" in pairs else np.nan,
            "length_m": pairs["length_m"].to_numpy() if "length_m" in pairs else np.nan,
            "distance_m": pairs["distance_m"].to_numpy() if "distance_m" in pairs else np.nan,
            "basis": rule.basis,
            "message_zh": rule.message_zh,
            "geometry": pairs["geometry"].to_numpy() if "geometry" in pairs else None,
        }
    )
    return out


def _outside(prepared: PreparedZoning, sg: np.ndarray) -> pd.DataFrame:
    """Sites not inside the boundary: any part beyond TOUCH_M outside it."""
    cand = np.flatnonzero(~shapely.covered_by(sg, prepared.boundary))
    g = sg[cand]
    dist = shapely.distance(prepared.boundary, g)
    dim = shapely.get_dimensions(g)
    outside_part = shapely.difference(g[dim > 0], prepared.boundary)
    beyond = dist > TOUCH_M
    beyond[dim == 2] |= shapely.area(outside_part[dim[dim > 0] == 2]) > TOUCH_M**2
    beyond[dim == 1] |= shapely.length(outside_part[dim[dim > 0] == 1]) > TOUCH_M
    s = cand[beyond]
    pairs = pd.DataFrame({"f": np.zeros(len(s), dtype=np.intp), "s": s, "distance_m": dist[beyond]})
    pairs["label"] = prepared.labels["boundary"][0] if len(prepared.labels["boundary"]) else ""
    return pairs


def _banned(prepared: PreparedZoning, types: np.ndarray, f: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Whether each pair's unit bans the site's type (or an ancestor of it)."""
    bans = prepared.unit_bans
    if not bans:
        return np.zeros(len(f), dtype=bool)
    vocab = prepared.types
    uniq, inv = np.unique(types, return_inverse=True)
    lineage = [set(vocab.lineage(t)) for t in uniq]
    matrix = np.array([[bool(ban & lin) for lin in lineage] for ban in bans], dtype=bool)  # units x distinct types
    return matrix[f, inv[s]]


def _summaries(sites: pd.DataFrame, rank: np.ndarray, hits: pd.DataFrame, touch: dict[str, pd.DataFrame], zoning: Zoning) -> np.ndarray:
    """One Chinese sentence per site: verdict, rules, 涉及 and 不涉及 layers."""
    n = len(sites)
    verdict_zh = np.array([VERDICT_ZH[v] for v in VERDICTS], dtype=object)[rank]
    rules_per = np.full(n, "", dtype=object)
    if len(hits):
        bad = hits[hits["verdict"] != "compatible"]
        joined = bad.groupby("s")["rule_id"].agg(lambda r: "、".join(dict.fromkeys(r)))
        rules_per[joined.index.to_numpy()] = "（" + joined.to_numpy() + "）"
    involved = np.full(n, "", dtype=object)
    not_involved = np.full(n, "", dtype=object)
    for layer in STATUS_LAYERS:
        if layer not in zoning.layers or layer == "control_unit":
            continue
        feats = _features_per_site(touch.get(layer), n)
        label = REGISTRY[layer].label_zh
        has = feats != ""
        sep_i = np.where(involved == "", "", "；")
        involved = np.where(has, involved + sep_i + label + "（" + feats + "）", involved)
        sep_n = np.where(not_involved == "", "", "、")
        not_involved = np.where(has, not_involved, not_involved + sep_n + label)
    s = verdict_zh + rules_per + "。"
    s = s + np.where(involved != "", "涉及" + involved + "。", "")
    s = s + np.where(not_involved != "", "不涉及" + not_involved + "。", "")
    units = _features_per_site(touch.get("control_unit"), n)
    s = s + np.where(units != "", "所在管控单元：" + units + "。", "")
    return s


def screen(
    sites: gpd.GeoDataFrame | str | os.PathLike[str],
    zoning: Zoning | str | os.PathLike[str] | None = None,
    rules: RuleSet | str | os.PathLike[str] | None = None,
    *,
    project_type: str | None = None,
    id_field: str | None = None,
    type_field: str | None = None,
    sites_crs: str | None = None,
    prepared: PreparedZoning | None = None,
    chunk_size: int = 250_000,
    progress: Callable[[int, int], None] | None = None,
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
    prepared : PreparedZoning, optional
        Reuse prepared zoning arrays (batch screening).
    chunk_size : int, default 250000
        Sites per chunk: bounds memory on very large inputs.
    progress : callable, optional
        Called with (done, total) after each chunk.

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
    started = datetime.now(timezone.utc).astimezone()
    zoning = zoning if isinstance(zoning, Zoning) else load_zoning(zoning)
    rules = rules if isinstance(rules, RuleSet) else load_rules(rules)
    sites_audit: dict[str, Any] = {}
    if isinstance(sites, (str, os.PathLike)):
        path = Path(sites)
        raw = read_sites(path, sites_crs=sites_crs)
        sites_audit = {"path": str(path), "sha256": file_sha256(path), "crs": describe_crs(raw.crs), "n_features": len(raw)}
        source = path.name
    else:
        raw = sites
        if raw.crs is None:
            from spatial.sites import _apply_crs

            raw = _apply_crs(raw, sites_crs, "sites")
        sites_audit = {"path": "(in memory)", "sha256": "", "crs": describe_crs(raw.crs), "n_features": len(raw)}
        source = ""
    prep_sites = prepare_sites(raw, id_field=id_field, type_field=type_field, project_type=project_type, types=rules.types, source=source)
    geoms = to_crs_geoms(np.asarray(prep_sites.geometry.values, dtype=object), CRS.from_user_input(prep_sites.crs), zoning.crs)
    prep_sites = prep_sites.set_geometry(gpd.GeoSeries(geoms, index=prep_sites.index, crs=zoning.crs), crs=zoning.crs)
    from spatial.sanity import check_sites_against_zoning

    check_sites_against_zoning(raw, prep_sites, zoning, source=source)
    if prepared is None or prepared.zoning is not zoning or prepared.types is not rules.types:
        prepared = prepare_zoning(zoning, rules.types)
    if prepared.unknown_bans:
        import warnings

        warnings.warn(
            f"环境管控单元禁止类中有无法识别的项目类型，未用于判定：{'、'.join(prepared.unknown_bans[:20])}；"
            "可在规则文件 project_types 中补充同义词。 / unrecognised banned types in control units were ignored",
            DataWarning,
            stacklevel=2,
        )
    n = len(prep_sites)
    hits_parts, rank_parts = [], []
    touch_parts: dict[str, list[pd.DataFrame]] = {}
    for start in range(0, max(n, 1), chunk_size):
        chunk = prep_sites.iloc[start : start + chunk_size]
        hits, touch, rank = screen_frame(chunk, prepared, rules)
        hits["s"] = hits["s"].astype(np.int64) + start
        hits_parts.append(hits)
        rank_parts.append(rank)
        for k, v in touch.items():
            v = v.copy()
            v["s"] = v["s"] + start
            touch_parts.setdefault(k, []).append(v)
        if progress is not None:
            progress(min(start + chunk_size, n), n)
    hits = pd.concat(hits_parts, ignore_index=True) if hits_parts else pd.DataFrame()
    rank = np.concatenate(rank_parts) if rank_parts else np.zeros(0, dtype=np.int8)
    touch = {k: pd.concat(v, ignore_index=True) for k, v in touch_parts.items()}
    verdict = np.array(VERDICTS, dtype=object)[rank]
    counts = np.bincount(hits["s"].to_numpy(np.int64), minlength=n) if len(hits) else np.zeros(n, dtype=int)
    out = prep_sites.copy()
    out.insert(3, "verdict", verdict)
    out.insert(4, "verdict_zh", [VERDICT_ZH[v] for v in verdict])
    out.insert(5, "n_hits", counts[:n])
    out.insert(6, "summary_zh", _summaries(out, rank, hits, touch, zoning) if n else np.array([], dtype=object))
    dims = shapely.get_dimensions(np.asarray(out.geometry.values, dtype=object))
    out.insert(7, "area_m2", np.where(dims == 2, shapely.area(out.geometry.values), np.nan))
    out.insert(8, "length_m", np.where(dims == 1, shapely.length(out.geometry.values), np.nan))
    if len(hits):
        hits.insert(0, "site_id", out["site_id"].to_numpy()[hits["s"].to_numpy()])
        hits = hits.drop(columns="s")
        order = hits["site_id"].map(dict(zip(out["site_id"], range(n))))
        hits = hits.assign(_o=order).sort_values(["_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    else:
        hits = pd.DataFrame(columns=[*HIT_COLUMNS, "geometry"])
    audit = {
        "ecozone_version": __version__,
        "run_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 3),
        "rules": {"catalogue_id": rules.catalogue_id, "version": rules.version, "sha256": rules.sha256, "path": str(rules.path)},
        "zoning": [
            {"layer": s.layer, "path": s.path, "sha256": s.sha256, "crs": s.crs, "n_features": s.n_features} for s in zoning.sources
        ],
        "working_crs": describe_crs(zoning.crs),
        "sites": sites_audit,
    }
    if n == 0:
        audit["note"] = "无地块 / no sites"
    return ScreeningResult(sites=out, hits=hits, zoning=zoning, rules=rules, audit=audit, _touch=touch)

