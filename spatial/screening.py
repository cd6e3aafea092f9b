"""Site screening: which zoning each site touches, which rules it breaks.

:func:`screen` is the convenience entry: it runs the readers (zoning,
rules, sites — each normalised and checked) and hands the loaded inputs
to the engine (:mod:`spatial.engine`), which never reads a file.

The engine is vectorised end to end: one STRtree over the sites queried
with each zoning layer; rule conditions as array lookups over candidate
(feature, site) pairs; the worst verdict per site with ``np.maximum.at``;
measurements only for pairs that hit.  There is no Python loop over sites
or features.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import geopandas as gpd
import numpy as np

from spatial.engine.assemble import HIT_COLUMNS, SITE_COLUMNS, ScreeningResult
from spatial.engine.chunks import screen_sites
from spatial.engine.coverage import with_coverage
from spatial.engine.prepared import PreparedZoning, prepare_zoning
from spatial.errors import InputError
from spatial.project_types import MAJOR_COLUMNS, major_project_values
from spatial.rules import RuleSet, load_rules
from spatial.sanity import empty_layer_warnings
from spatial.site_options import SiteOptions
from spatial.sites import SiteFile, load_sites
from spatial.zoning import Zoning, load_zoning

__all__ = ["screen", "screen_loaded", "RunOptions", "with_major_project", "prepare_inputs", "ENGINES", "ScreeningResult", "PreparedZoning", "prepare_zoning", "HIT_COLUMNS", "SITE_COLUMNS"]

#: Engines :func:`screen` can run on.
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class RunOptions:
    """How the engine runs (the engine-side twin of :class:`~spatial.site_options.SiteOptions`).

    Attributes
    ----------
    engine : {'local', 'dask'}
        Where the engine runs: here (chunks on threads) or on a Dask cluster
        (:func:`spatial.engine.dask.screen_sites_dask`); the result is the same.
    engine_options : mapping
        Dask: ``workers``, ``scheduler``, ``client``, ``npartitions``, ``processes``.
    prepared : PreparedZoning, optional
        Reuse prepared zoning arrays (batch screening; local engine).
    chunk_size : int
        Sites per chunk: bounds memory on very large inputs (local engine).
    threads : int, optional
        Threads for the geometry work (default: usable cores, at most 8;
        on Dask: per partition, default 1); results do not depend on it.
    as_of : date or str, optional
        Screening date (``YYYY-MM-DD``; default: the rules' date, today): the
        rules cite the law in force that day (法典第一千零五十七条 从旧兼从轻).
    major_project : {'yes', 'no', 'unknown'}, optional
        国家重大项目 status for sites whose ``major_project`` column is empty or
        absent (unknown is never read as yes; local engine only).
    """

    engine: str = "local"
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    prepared: PreparedZoning | None = None
    chunk_size: int = 250_000
    threads: int | None = None
    as_of: datetime.date | str | None = None
    major_project: str | None = None

    def __post_init__(self) -> None:
        """Refuse an unknown engine, and --major-project on Dask, before any work."""
        if self.engine not in ENGINES:
            raise InputError(f"未知的引擎 {self.engine}；可选：{', '.join(ENGINES)}。", f"unknown engine {self.engine}; one of {', '.join(ENGINES)}")
        if self.engine == "dask" and self.major_project is not None:
            raise InputError(
                "--major-project 目前只用于本地引擎；请在地块文件中加 major_project 列。", "--major-project works with the local engine only; add a major_project column"
            )


def with_major_project(sites: gpd.GeoDataFrame, status: str) -> gpd.GeoDataFrame:
    """Fill the sites' 国家重大项目 attribute where their own column does not say yes or no.

    Parameters
    ----------
    sites : GeoDataFrame
        Prepared sites.
    status : {'yes', 'no', 'unknown'}
        Run-wide status (是/否/不详 accepted).

    Returns
    -------
    GeoDataFrame
        A copy with a ``major_project`` column (yes/no/unknown).
    """
    fill = major_project_values([status])[0]
    column = next((c for c in MAJOR_COLUMNS if c in sites.columns), None)
    own = major_project_values(sites[column]) if column is not None else np.full(len(sites), "unknown", dtype=object)
    out = sites.copy()
    out["major_project"] = np.where(own == "unknown", fill, own)
    return out


def prepare_inputs(
    sites: gpd.GeoDataFrame | str | os.PathLike[str] | SiteFile,
    zoning: Zoning | str | os.PathLike[str] | None,
    rules: RuleSet | str | os.PathLike[str] | None,
    options: SiteOptions | None = None,
) -> tuple[gpd.GeoDataFrame, Zoning, RuleSet, dict[str, Any]]:
    """Run the readers: zoning, rules, then sites prepared and reprojected into the zoning's CRS.

    Shared by every engine so they validate and reject inputs identically.

    Parameters
    ----------
    sites, zoning, rules, options
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
    if "lists" not in rules.extra:  # access lists named by the zoning manifest (``lists:``)
        from spatial.list_rules import attach_manifest_lists

        rules = attach_manifest_lists(rules, zoning)
    rules = with_coverage(rules, zoning)  # missing layers, zones without loaded rules: 待核实, never silence
    prep_sites, audit = load_sites(sites, zoning, options, types=rules.types)
    audit["zoning_warnings"] = empty_layer_warnings(zoning, [layer for rule in rules for layer in rule.layers])
    return prep_sites, zoning, rules, audit


def screen(
    sites: gpd.GeoDataFrame | str | os.PathLike[str],
    zoning: Zoning | str | os.PathLike[str] | None = None,
    rules: RuleSet | str | os.PathLike[str] | None = None,
    options: SiteOptions | None = None,
    run: RunOptions | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    **keywords: Any,
) -> ScreeningResult:
    """Screen project sites against a zoning package.

    Parameters
    ----------
    sites : GeoDataFrame or path-like
        Sites (any CRS) or a file or folder :func:`spatial.sites.read_sites` reads.
    zoning : Zoning or path-like, optional
        Loaded zoning or a package path; the bundled demo when omitted.
    rules : RuleSet or path-like, optional
        Rule catalogue; the shipped default when omitted.
    options : SiteOptions, optional
        How to read the sites (:class:`spatial.site_options.SiteOptions`).
    run : RunOptions, optional
        How the engine runs (engine, threads, chunk size, screening date …).
    progress : callable, optional
        Called with (done, total) after each chunk (partition on Dask).
    **keywords
        Fields of :class:`~spatial.site_options.SiteOptions` or :class:`RunOptions`
        given directly (``project_type=``, ``type_field=``, ``threads=``, ``engine="dask"``, ``as_of=`` …).

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
    run_fields = {f.name for f in fields(RunOptions)}
    run = replace(run or RunOptions(), **{k: v for k, v in keywords.items() if k in run_fields})
    options = SiteOptions.of(options, **{k: v for k, v in keywords.items() if k not in run_fields})
    prep_sites, zoning, rules, audit = prepare_inputs(sites, zoning, rules, options)
    return screen_loaded(prep_sites, zoning, rules, audit, run, progress=progress, t0=t0)


def screen_loaded(
    sites: gpd.GeoDataFrame,
    zoning: Zoning,
    rules: RuleSet,
    audit: dict[str, Any],
    run: RunOptions | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    t0: float | None = None,
) -> ScreeningResult:
    """Run the chosen engine on inputs the readers gave (:func:`prepare_inputs`).

    Parameters
    ----------
    sites, zoning, rules, audit
        Output of :func:`prepare_inputs`.
    run : RunOptions, optional
        How the engine runs.
    progress : callable, optional
        Called with (done, total) after each chunk (partition on Dask).
    t0 : float, optional
        ``time.perf_counter()`` when reading started (the audit's duration includes it).

    Returns
    -------
    ScreeningResult
        Per-site verdicts and per-hit details.
    """
    t0 = time.perf_counter() if t0 is None else t0
    run = run or RunOptions()
    if run.as_of is not None:
        rules = rules.for_date(run.as_of)
    if run.engine == "dask":
        from spatial.engine.dask import screen_sites_dask

        more = {"threads": run.threads} if run.threads else {}
        return screen_sites_dask(sites, zoning, rules, audit, progress=progress, **more, **dict(run.engine_options or {}))
    if run.major_project is not None:
        sites = with_major_project(sites, run.major_project)
    result = screen_sites(sites, zoning, rules, sites_audit=audit, prepared=run.prepared, chunk_size=run.chunk_size, progress=progress, threads=run.threads)
    result.audit["duration_s"] = round(time.perf_counter() - t0, 3)  # reading included
    return result
