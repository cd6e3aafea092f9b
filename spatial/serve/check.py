"""Instant checks (``POST /api/check``): a few drawn sites answered in one request, no job, no files.

A warm server keeps, per process, the prepared zoning of each accepted
version it has answered for (:class:`CheckCache`, an LRU keyed by version id
and the package's content hash): the zoning, the rules resolved for its area
and the engine's prepared arrays.  A single site then costs the sites reader
and the engine on one geometry, never a reload.

Every check is kept for the audit trail as one JSON line in
``<data dir>/checks/checks.jsonl`` (:func:`record_check`): who, when, which
zoning version and rules, the geometries' hash, the verdicts.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.errors import InputError

__all__ = ["MAX_CHECK_SITES", "PreparedVersion", "CheckCache", "CACHE", "check_sites", "record_check", "checks_log"]

#: Sites one check may carry (more is a screening: submit it as a job).
MAX_CHECK_SITES = 20
#: Versions kept prepared per process.
CACHE_SIZE = 3

_LOG_LOCK = threading.Lock()


@dataclass(frozen=True)
class PreparedVersion:
    """One zoning version ready to answer checks.

    Attributes
    ----------
    key : tuple of str
        (version id, package sha256).
    zoning : Zoning
        The loaded package.
    rules : RuleSet
        The default catalogue resolved for the zoning's area, lists attached.
    prepared : PreparedZoning
        The engine's arrays for ``zoning`` and ``rules.types``.
    """

    key: tuple[str, str]
    zoning: Any
    rules: Any
    prepared: Any
    _facts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _facts_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def facts_index(self) -> Any:
        """Return the zoning's :class:`spatial.facts.FactsIndex`, made on the first check that asks for facts.

        Returns
        -------
        FactsIndex
            Names, trees and outlines of every layer (kept with the version).
        """
        from spatial.facts import FactsIndex

        with self._facts_lock:
            if "index" not in self._facts:
                self._facts["index"] = FactsIndex(self.zoning)
            return self._facts["index"]


def _prepare(key: tuple[str, str], path: Path) -> PreparedVersion:
    """Load and prepare one version (a few seconds; once per process and version)."""
    from spatial.engine.coverage import with_coverage
    from spatial.engine.prepared import prepare_zoning
    from spatial.job import ScreeningJob
    from spatial.jurisdiction import zoning_adcode
    from spatial.zoning import load_zoning

    zoning = load_zoning(path)
    rules = ScreeningJob(None, zoning).load_rules(zoning)  # the catalogue and the manifest's 准入清单
    if not rules.fixed:  # resolved for the package's area once, as the readers would on every call
        rules = rules.for_adcode(*zoning_adcode(zoning))
    rules = with_coverage(rules, zoning)  # the package's gaps (待核实 rows) once: the readers and the engine then reuse them
    return PreparedVersion(key, zoning, rules, prepare_zoning(zoning, rules.types))


class CheckCache:
    """LRU of :class:`PreparedVersion` per (version id, content hash), safe across threads.

    Parameters
    ----------
    size : int
        Versions kept.
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], PreparedVersion] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, version_id: str, sha256: str, path: Path) -> PreparedVersion:
        """Return the prepared version, loading it on first use.

        Parameters
        ----------
        version_id, sha256 : str
            The version and its package hash (a re-registered package with new content is a new entry).
        path : Path
            What :func:`spatial.load_zoning` opens.

        Returns
        -------
        PreparedVersion
            Ready for :func:`check_sites`.
        """
        key = (version_id, sha256)
        with self._lock:  # one loader at a time: two first requests never load the same package twice
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            item = _prepare(key, path)
            self.loads += 1
            self._items[key] = item
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return item

    def clear(self) -> None:
        """Forget every prepared version."""
        with self._lock:
            self._items.clear()


#: The process's cache (each uvicorn worker has its own).
CACHE = CheckCache()


def _sites_frame(geometries: list[dict[str, Any]], names: list[str], project_type: str) -> gpd.GeoDataFrame:
    """Read the request's GeoJSON geometries (or Features) as a sites table in WGS84 (checked like drawn shapes)."""
    from spatial.site_forms import drawn_collection

    if not geometries:
        raise InputError("没有提供任何图形。", "no geometry given")
    if len(geometries) > MAX_CHECK_SITES:
        raise InputError(
            f"即时核查一次最多 {MAX_CHECK_SITES} 个图形；更多地块请提交筛查。", f"at most {MAX_CHECK_SITES} geometries per check; submit a screening for more"
        )
    feats = []
    for i, g in enumerate(geometries):
        geom = g.get("geometry") if isinstance(g, dict) and g.get("type") == "Feature" else g
        props = dict(g.get("properties") or {}) if isinstance(g, dict) and g.get("type") == "Feature" else {}
        if i < len(names) and names[i]:
            props["name"] = names[i]
        feats.append({"type": "Feature", "geometry": geom, "properties": props})
    doc = drawn_collection(json.dumps({"type": "FeatureCollection", "features": feats}), project_type)
    frame = gpd.GeoDataFrame.from_features(doc["features"], crs=4326)
    return frame[["site_id", "name", "project_type", "geometry"]]


def _plain(value: Any) -> Any:
    """Return a JSON-ready scalar: None for missing values, Python numbers for NumPy ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows of ``frame`` (the ``columns`` it has) as plain dicts, column by column (no per-cell pandas work)."""
    keep = [c for c in columns if c in frame.columns]
    values = [[_plain(v) for v in frame[c].tolist()] for c in keep]
    return [dict(zip(keep, row, strict=True)) for row in zip(*values, strict=True)] if keep else []


_HIT_COLUMNS = ["site_id", "rule_id", "layer", "feature_id", "feature_name", "verdict", "verdict_eia", "overlap_m2", "overlap_pct", "distance_m", "length_m", "basis", "sources", "conditions_zh", "message_zh"]
_UNIT_COLUMNS = ["site_id", "code", "name", "category", "prohibited", "requirements", "spatial_layout", "emission_control", "risk_prevention", "resource_efficiency", "overlap_m2", "overlap_pct"]
_STATUS_COLUMNS = ["site_id", "layer", "label_zh", "involved", "features", "status_zh", "concern"]
_FACT_COLUMNS = ["site_id", "layer", "inside", "overlap_m2", "overlap_ha", "overlap_mu", "nearest_name", "nearest_distance_m", "nearest_direction_zh"]
_VERDICT_RANK = {"prohibited": 0, "restricted": 1, "notice": 2, "compatible": 3}


def check_sites(
    item: PreparedVersion, geometries: list[dict[str, Any]], project_type: str, names: list[str] | None = None, *, facts: bool = True
) -> dict[str, Any]:
    """Screen a few GeoJSON geometries against a prepared version: verdicts, findings, per-site facts.

    Parameters
    ----------
    item : PreparedVersion
        From :class:`CheckCache`.
    geometries : list of dict
        GeoJSON geometries (Point, LineString, Polygon) or Features in WGS84.
    project_type : str
        Project type of every site (中文或英文).
    names : list of str, optional
        Site names, in order (default: a Feature's ``name`` property, else 绘制图形N).
    facts : bool
        Measure the per-layer facts (about a third of the time; ``facts`` is empty without).

    Returns
    -------
    dict
        ``verdict``/``verdict_zh`` (the worst site's), ``sites`` (each with
        ``findings``, ``layers``, ``units``, ``facts``), ``rules_sha256``,
        ``warnings``, ``elapsed_ms``.
    """
    from spatial.facts import layer_facts
    from spatial.screening import RunOptions, prepare_inputs, screen_loaded
    from spatial.site_options import SiteOptions

    t0 = time.perf_counter()
    frame = _sites_frame(geometries, names or [], project_type)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sites, zoning, rules, audit = prepare_inputs(frame, item.zoning, item.rules, SiteOptions(project_type=project_type or None))
        result = screen_loaded(sites, zoning, rules, audit, RunOptions(prepared=item.prepared, threads=1), t0=t0)
        measured = layer_facts(result.sites, zoning, index=item.facts_index()) if facts else pd.DataFrame(columns=_FACT_COLUMNS)
    out_sites = _records(result.sites, ["site_id", "name", "project_type", "project_type_raw", "verdict", "verdict_zh", "n_hits", "summary_zh"])
    hits, units, status, fact_rows = (
        _records(pd.DataFrame(result.hits), _HIT_COLUMNS),
        _records(pd.DataFrame(result.units), _UNIT_COLUMNS),
        _records(pd.DataFrame(result.layer_status), _STATUS_COLUMNS),
        _records(measured, _FACT_COLUMNS),
    )
    for s in out_sites:
        sid = str(s["site_id"])
        s["site_id"] = sid
        s["n_hits"] = int(s.get("n_hits") or 0)
        s["findings"] = [h for h in hits if str(h["site_id"]) == sid]
        s["units"] = [u for u in units if str(u["site_id"]) == sid]
        s["layers"] = [r for r in status if str(r["site_id"]) == sid]
        s["facts"] = [f for f in fact_rows if str(f["site_id"]) == sid]
    worst = min(out_sites, key=lambda s: _VERDICT_RANK.get(str(s["verdict"]), 9)) if out_sites else None
    seen: list[str] = []
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, UserWarning) and text not in seen:
            seen.append(text)
    return {
        "verdict": worst["verdict"] if worst else "notice",
        "verdict_zh": worst["verdict_zh"] if worst else "待核实",
        "sites": out_sites,
        "rules_sha256": str(result.audit.get("rules", {}).get("sha256", "")),
        "warnings": seen[:20],
        "elapsed_ms": round(1000 * (time.perf_counter() - t0), 1),
    }


def checks_log(data_dir: Path) -> Path:
    """Return the audit log of checks under the data dir."""
    return Path(data_dir) / "checks" / "checks.jsonl"


def record_check(data_dir: Path, *, user: str, version_id: str, version_sha256: str, project_type: str, geometries: list[dict[str, Any]], answer: dict[str, Any]) -> str:
    """Append one check to the audit log (one JSON line, written whole under a lock) and return its id.

    Parameters
    ----------
    data_dir : Path
        The server's data dir.
    user : str
        Who asked.
    version_id, version_sha256 : str
        The zoning version answered against.
    project_type : str
        As given.
    geometries : list of dict
        As given (stored with their hash, so the check can be replayed).
    answer : dict
        :func:`check_sites`' answer.

    Returns
    -------
    str
        The check's id.
    """
    body = json.dumps(geometries, sort_keys=True, ensure_ascii=False, default=str)
    check_id = hashlib.sha256(f"{time.time_ns()}:{os.getpid()}:{threading.get_ident()}:{body}".encode()).hexdigest()[:24]
    record = {
        "id": check_id,
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "user": user,
        "zoning_version": version_id,
        "zoning_sha256": version_sha256,
        "rules_sha256": answer.get("rules_sha256", ""),
        "project_type": project_type,
        "geometries_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
        "geometries": geometries,
        "verdicts": [{"site_id": s["site_id"], "name": s.get("name"), "verdict": s["verdict"]} for s in answer["sites"]],
        "elapsed_ms": answer.get("elapsed_ms"),
    }
    path = checks_log(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
    with _LOG_LOCK, open(path, "a", encoding="utf-8") as fh:  # one write of one line: appends never interleave
        fh.write(line)
    return check_id
