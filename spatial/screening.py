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
from typing import Any

import geopandas as gpd
import numpy as np

from spatial.engine.assemble import HIT_COLUMNS, SITE_COLUMNS, ScreeningResult
from spatial.engine.chunks import screen_sites
from spatial.engine.coverage import with_coverage
from spatial.engine.prepared import PreparedZoning, prepare_zoning
from spatial.project_types import MAJOR_COLUMNS, major_project_values
from spatial.rules import RuleSet, load_rules
from spatial.sanity import empty_layer_warnings
from spatial.sites import load_sites
from spatial.zoning import Zoning, load_zoning

__all__ = ["screen", "prepare_inputs", "ScreeningResult", "PreparedZoning", "prepare_zoning", "HIT_COLUMNS", "SITE_COLUMNS"]


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
    sites: gpd.GeoDataFrame | str | os.PathLike[str],
    zoning: Zoning | str | os.PathLike[str] | None,
    rules: RuleSet | str | os.PathLike[str] | None,
    *,
    project_type: str | None = None,
    id_field: str | None = None,
    type_field: str | None = None,
    sites_crs: str | None = None,
    layer: str | None = None,
    xy_order: str | None = None,
    type_map: Mapping[str, str] | str | os.PathLike[str] | None = None,
    strict_types: bool = False,
    read_options: Mapping[str, Any] | None = None,
) -> tuple[gpd.GeoDataFrame, Zoning, RuleSet, dict[str, Any]]:
    """Run the readers: zoning, rules, then sites prepared and reprojected into the zoning's CRS.

    Shared by every engine so they validate and reject inputs identically.

    Parameters
    ----------
    sites, zoning, rules, project_type, id_field, type_field, sites_crs, layer, xy_order, type_map, strict_types, read_options
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
    rules = with_coverage(rules, zoning)  # missing layers, zones without loaded rules: 待核实, never silence
    prep_sites, audit = load_sites(
        sites, zoning, types=rules.types, project_type=project_type, id_field=id_field, type_field=type_field, sites_crs=sites_crs,
        layer=layer, xy_order=xy_order, type_map=type_map, strict_types=strict_types, read_options=read_options,
    )  # fmt: skip
    audit["zoning_warnings"] = empty_layer_warnings(zoning, [layer for rule in rules for layer in rule.layers])
    return prep_sites, zoning, rules, audit


def screen(
    sites: gpd.GeoDataFrame | str | os.PathLike[str],
    zoning: Zoning | str | os.PathLike[str] | None = None,
    rules: RuleSet | str | os.PathLike[str] | None = None,
    *,
    project_type: str | None = None,
    id_field: str | None = None,
    type_field: str | None = None,
    sites_crs: str | None = None,
    layer: str | None = None,
    xy_order: str | None = None,
    type_map: Mapping[str, str] | str | os.PathLike[str] | None = None,
    strict_types: bool = False,
    read_options: Mapping[str, Any] | None = None,
    prepared: PreparedZoning | None = None,
    chunk_size: int = 250_000,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
    as_of: datetime.date | str | None = None,
    major_project: str | None = None,
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
    layer : str, optional
        Layer of a multi-layer sites file.
    xy_order : {'survey', 'gis'}, optional
        Which of X/Y columns is the northing (default: decided from the numbers and the boundary).
    type_map : mapping or path-like, optional
        The bureau's own type names -> ecozone types (a dict, or a YAML/CSV file).
    strict_types : bool, default False
        Unknown project types are an error instead of ``other``.
    read_options : mapping, optional
        More options for :func:`spatial.sites.read_sites` (``sheet``, ``coords``) when ``sites`` is a path.
    prepared : PreparedZoning, optional
        Reuse prepared zoning arrays (batch screening).
    chunk_size : int, default 250000
        Sites per chunk: bounds memory on very large inputs.
    progress : callable, optional
        Called with (done, total) after each chunk.
    threads : int, optional
        Threads for the geometry work (default: usable cores, at most 8);
        results do not depend on it.
    as_of : date or str, optional
        Screening date (``YYYY-MM-DD``; default: the rules' date, today): the
        rules cite the law in force that day (法典第一千零五十七条 从旧兼从轻).
    major_project : {'yes', 'no', 'unknown'}, optional
        国家重大项目 status for sites whose ``major_project`` column is empty or
        absent (unknown is never read as yes).

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
    prep_sites, zoning, rules, audit = prepare_inputs(
        sites, zoning, rules, project_type=project_type, id_field=id_field, type_field=type_field, sites_crs=sites_crs, layer=layer,
        xy_order=xy_order, type_map=type_map, strict_types=strict_types, read_options=read_options,
    )  # fmt: skip
    if as_of is not None:
        rules = rules.for_date(as_of)
    if major_project is not None:
        prep_sites = with_major_project(prep_sites, major_project)
    result = screen_sites(prep_sites, zoning, rules, sites_audit=audit, prepared=prepared, chunk_size=chunk_size, progress=progress, threads=threads)
    result.audit["duration_s"] = round(time.perf_counter() - t0, 3)  # reading included
    return result
