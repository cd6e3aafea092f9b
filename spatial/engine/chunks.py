"""The engine's entry point on loaded inputs: sites in chunks, geometry work on threads."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.engine.assemble import ScreeningResult, assemble_result
from spatial.engine.coverage import with_coverage
from spatial.engine.evaluate import concat, screen_core
from spatial.engine.parallel import default_threads
from spatial.engine.prepared import PreparedZoning, prepare_zoning, release_prepared, warn_unknown_bans
from spatial.rules import RuleSet
from spatial.zoning import Zoning

__all__ = ["screen_sites"]


def screen_sites(
    sites: gpd.GeoDataFrame,
    zoning: Zoning,
    rules: RuleSet,
    *,
    sites_audit: dict[str, Any] | None = None,
    prepared: PreparedZoning | None = None,
    chunk_size: int = 250_000,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> ScreeningResult:
    """Screen prepared sites (already in the zoning's working CRS) against loaded zoning and rules.

    Parameters
    ----------
    sites : GeoDataFrame
        Output of :func:`spatial.sites.load_sites`.
    zoning : Zoning
        Loaded zoning.
    rules : RuleSet
        Loaded rules.
    sites_audit : dict, optional
        Audit record of the sites input.
    prepared : PreparedZoning, optional
        Reuse prepared zoning arrays (batch screening).
    chunk_size : int, default 250000
        Sites per chunk: bounds memory on very large inputs.
    progress : callable, optional
        Called with (done, total) after each chunk.
    threads : int, optional
        Threads for the geometry work (default :func:`~spatial.engine.parallel.default_threads`);
        results do not depend on it.

    Returns
    -------
    ScreeningResult
        Per-site verdicts and per-hit details.
    """
    t0 = time.perf_counter()
    started = datetime.now(UTC).astimezone()
    rules = with_coverage(rules, zoning)  # what the package cannot tell becomes 待核实 rows
    own_prepared = prepared is None or prepared.zoning is not zoning or prepared.types is not rules.types
    if own_prepared:
        prepared = prepare_zoning(zoning, rules.types)
    warn_unknown_bans(prepared)
    n = len(sites)
    threads = default_threads() if threads is None else max(1, int(threads))
    hits_parts, rank_parts = [], []
    touch_parts: dict[str, list[pd.DataFrame]] = {}
    for start in range(0, max(n, 1), chunk_size):
        chunk = sites.iloc[start : start + chunk_size]
        hits, touch, rank = screen_core(chunk, prepared, rules, threads=threads)
        if start or hits["s"].dtype != np.int64:  # the first chunk's indexes are already the sites' (a single check pays nothing)
            hits["s"] = hits["s"].to_numpy(np.int64) + start
        hits_parts.append(hits)
        rank_parts.append(rank)
        for k, v in touch.items():
            if start or v["s"].dtype != np.int64:
                v["s"] = v["s"].astype(np.int64) + start
            touch_parts.setdefault(k, []).append(v)
        if progress is not None:
            progress(min(start + chunk_size, n), n)
    if own_prepared:
        # GEOS keeps each prepared geometry's indexes (about 50 bytes per vertex) on
        # the zoning's own geometry objects; drop them before the report tables are built.
        release_prepared(prepared)
    hits = concat(hits_parts)
    rank = np.concatenate(rank_parts) if rank_parts else np.zeros(0, dtype=np.int8)
    touch = {k: concat(v) for k, v in touch_parts.items()}
    with gc_paused():
        return assemble_result(sites, hits, touch, rank, prepared, rules, sites_audit or {}, t0=t0, started=started)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while millions of short-lived objects are made.

    Building the report tables creates a few objects per site; every
    700 allocations the collector would rescan them all (~20 % of the
    assembly time at 10^6 sites).  Nothing cyclic is created meanwhile.

    Yields
    ------
    None
        With the collector paused.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
