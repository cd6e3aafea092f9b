"""Screening on Dask: sites partitioned spatially, zoning broadcast once per worker.

For audits that outgrow one machine (millions of sites, or many screenings
against one province), :func:`screen_sites_dask` runs the same engine core
(:func:`spatial.engine.evaluate.screen_core`) on a Dask cluster:

1. sites are read, validated and reprojected once on the client by the same
   readers as the local engine (``spatial.screen(..., engine="dask")``);
2. they are sorted along a Hilbert curve and cut into equal partitions (the
   partitioning ``dask_geopandas`` ``spatial_shuffle(by="hilbert")`` makes,
   computed where the sites already are), so each partition covers a compact
   area and meets few zoning features; partitions are scattered to workers;
3. the loaded zoning and rules are scattered to every worker once
   (``client.scatter(..., broadcast=True)``); each worker process prepares
   the geometries once and keeps them for all its partitions (GEOS prepared
   geometries cannot be pickled, so they are rebuilt where they are used);
4. each partition returns coded hits, touched pairs and verdict ranks keyed
   by the sites' original positions, and the client assembles the result with
   the same function as the local engine — same rows, same order.

Without a scheduler address a ``LocalCluster`` of ``workers`` processes (one
thread each) is started and shut down afterwards.  To use an existing
cluster pass its scheduler address (``--scheduler tcp://host:8786`` or
``$ECOZONE_DASK_SCHEDULER``); the workers need ecozone installed (same
version) but not the input files.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.engine.assemble import ScreeningResult, assemble_result
from spatial.engine.evaluate import screen_core
from spatial.engine.prepared import PreparedZoning, prepare_zoning, release_prepared, warn_unknown_bans
from spatial.rules import RuleSet
from spatial.zoning import Zoning

__all__ = ["screen_sites_dask", "dask_client", "SCHEDULER_ENV"]

#: Environment variable naming an existing scheduler (``tcp://host:8786``).
SCHEDULER_ENV = "ECOZONE_DASK_SCHEDULER"
#: Sites per partition when ``npartitions`` is not given.
PARTITION_SITES = 100_000

# Per worker process: prepared zoning by token, and a lock because GEOS
# prepared geometries must not be used by two threads at once.
# Payload: ("cache", token, (entry, key), rules) or ("object", token, zoning, rules).
_PREPARED: dict[str, PreparedZoning] = {}
_LOCK = threading.Lock()


def _token(zoning: Zoning, rules: RuleSet) -> str:
    return f"{zoning.content_hash}:{rules.sha256}"


def _worker_zoning(payload: tuple[Any, ...]) -> tuple[str, PreparedZoning, RuleSet]:
    """Return the prepared zoning for a payload, built once per worker process (call under ``_LOCK``)."""
    kind, token, source, rules = payload
    prepared = _PREPARED.get(token)
    if prepared is None:
        _PREPARED.clear()  # one zoning at a time per worker: bounded memory
        if kind == "cache":  # read the client's cache entry from the shared folder
            from spatial.cache import read_entry

            zoning = read_entry(*source)
            if _token(zoning, rules) != token:
                raise RuntimeError(f"zoning cache entry {source[0]} does not match the client's zoning")
        else:
            zoning = source
        prepared = _PREPARED[token] = prepare_zoning(zoning, rules.types)
    return token, prepared, rules


def _screen_partition(part: gpd.GeoDataFrame, payload: tuple[Any, ...], threads: int) -> dict[str, Any]:
    """Screen one partition on a worker (prepared zoning cached per process).

    Returns numbers only where possible: hit geometries that are the site
    itself and feature labels are restored on the client, so little travels back.
    """
    t0 = time.perf_counter()
    with _LOCK:
        _, prepared, rules = _worker_zoning(payload)
        pos = part["_pos"].to_numpy(np.int64)
        hits, touch, rank = screen_core(part.drop(columns="_pos"), prepared, rules, threads=threads)
    for frame in (hits, *touch.values()):
        frame["s"] = pos[frame["s"].to_numpy(np.int64)]
        if "inside" in frame and "geometry" in frame and len(frame):
            geoms = frame["geometry"].to_numpy(dtype=object).copy()
            geoms[frame["inside"].to_numpy(bool)] = None
            frame["geometry"] = pd.Series(geoms, index=frame.index, dtype=object)
    # labels travel back only as feature numbers; coverage pairs (``_outside``) carry none
    touch = {layer: pairs.drop(columns="label", errors="ignore") for layer, pairs in touch.items()}
    return {"pos": pos, "hits": hits, "touch": touch, "rank": rank, "seconds": time.perf_counter() - t0}


def _payload(cl: Any, zoning: Zoning, rules: RuleSet) -> tuple[Any, str]:
    """Return what the workers get: the cache entry's path when they can all read it, else the zoning itself."""
    from spatial.cache import cache_entry_of

    token = _token(zoning, rules)
    entry = cache_entry_of(zoning)
    if entry is not None:
        try:
            seen = cl.run(os.path.isdir, entry[0])
        except Exception:  # noqa: BLE001 - a worker that cannot answer cannot read it either
            seen = {}
        if seen and all(seen.values()):
            return cl.scatter(("cache", token, entry, rules), broadcast=True, hash=False), "cache"
    # hash=False: tokenising millions of vertices to name the data would take longer than sending it.
    return cl.scatter(("object", token, zoning, rules), broadcast=True, hash=False), "scatter"


def _restore(frame: pd.DataFrame, site_geoms: np.ndarray) -> pd.DataFrame:
    """Put the site geometry back where a worker sent only the ``inside`` flag."""
    if "inside" in frame and "geometry" in frame and len(frame):
        inside = frame["inside"].to_numpy(bool)
        geoms = frame["geometry"].to_numpy(dtype=object).copy()
        geoms[inside] = site_geoms[frame["s"].to_numpy(np.int64)[inside]]
        frame["geometry"] = pd.Series(geoms, index=frame.index, dtype=object)
    return frame


@contextmanager
def dask_client(
    *, workers: int | None = None, scheduler: str | None = None, processes: bool = True, threads_per_worker: int = 1
) -> Iterator[Any]:
    """Yield a ``distributed.Client``: to ``scheduler`` or to a temporary local cluster.

    Parameters
    ----------
    workers : int, optional
        Local worker processes (default 2); ignored with ``scheduler``.
    scheduler : str, optional
        Address of an existing scheduler (default ``$ECOZONE_DASK_SCHEDULER``).
    processes : bool, default True
        Local workers as processes (False: threads in this process, for tests).
    threads_per_worker : int, default 1
        Threads per local worker.

    Yields
    ------
    distributed.Client
        Closed (and the local cluster shut down) on exit.
    """
    from distributed import Client, LocalCluster

    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or 2,
            threads_per_worker=threads_per_worker,
            processes=processes,
            dashboard_address=None,  # no dashboard ...
            scheduler_kwargs={"dashboard_address": ":0"},  # ... and its small HTTP server on a free port, not 8787
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def screen_sites_dask(
    prep_sites: gpd.GeoDataFrame,
    zoning: Zoning,
    rules: RuleSet,
    sites_audit: dict[str, Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    npartitions: int | None = None,
    client: Any = None,
    processes: bool = True,
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ScreeningResult:
    """Screen loaded sites on a Dask cluster; the result equals the local engine's.

    Chosen by ``spatial.screen(..., engine="dask")``, which runs the readers
    first; like the local engine this never reads a file.

    Parameters
    ----------
    prep_sites : GeoDataFrame
        Prepared sites in the zoning's working CRS.
    zoning : Zoning
        Loaded zoning.
    rules : RuleSet
        Rules for the zoning's area.
    sites_audit : dict
        The sites' audit record.
    workers : int, optional
        Worker processes of the local cluster (default 2).
    scheduler : str, optional
        Existing scheduler address (default ``$ECOZONE_DASK_SCHEDULER``; none:
        a local cluster is started and stopped).
    npartitions : int, optional
        Spatial partitions (default: one per 100 000 sites, at least one per worker).
    client : distributed.Client, optional
        Use this client (overrides ``workers``/``scheduler``; left open).
    processes : bool, default True
        Local cluster workers as processes.
    threads : int, default 1
        Threads inside each partition task.
    progress : callable, optional
        Called with (done, total) partitions.

    Returns
    -------
    ScreeningResult
        Identical to the local engine's (rows, order, values).
    """
    t0 = time.perf_counter()
    started = datetime.now(UTC).astimezone()
    prepared = prepare_zoning(zoning, rules.types)  # client side: labels and attributes for the report tables
    release_prepared(prepared)  # no queries here: drop the GEOS indexes straight away
    warn_unknown_bans(prepared)
    n = len(prep_sites)
    if n == 0:
        empty = prep_sites.iloc[:0]
        hits, touch, rank = screen_core(empty, prepared, rules)
        result = assemble_result(prep_sites, hits, touch, rank, prepared, rules, sites_audit, t0=t0, started=started)
        result.audit["engine"] = {"name": "dask", "partitions": 0}
        return result
    frame = gpd.GeoDataFrame(
        {"project_type": prep_sites["project_type"].to_numpy(), "_pos": np.arange(n, dtype=np.int64)},
        geometry=prep_sites.geometry.values,
        crs=prep_sites.crs,
    )
    # Hilbert partitioning (what dask-geopandas' spatial_shuffle(by="hilbert") does), computed here
    # because the sites are already in this process: shuffling an in-memory frame through the
    # scheduler ships every geometry several times (72 s + 31 s for 10^6 points when measured).
    hilbert = frame.geometry.hilbert_distance(total_bounds=frame.total_bounds, level=16).to_numpy()
    order = np.argsort(hilbert, kind="stable")

    timings: dict[str, float] = {"prepare": time.perf_counter() - t0}
    how: dict[str, str] = {}

    def run(cl: Any) -> list[dict[str, Any]]:
        from distributed import as_completed, wait

        t = time.perf_counter()
        nworkers = max(1, len(cl.scheduler_info().get("workers", {})))
        parts = min(n, npartitions or max(nworkers, -(-n // PARTITION_SITES)))
        pieces = [frame.iloc[idx] for idx in np.array_split(order, parts)]
        payload, how["zoning"] = _payload(cl, zoning, rules)
        wait(payload)
        timings["broadcast_zoning"] = time.perf_counter() - t
        t = time.perf_counter()
        futures = cl.map(_screen_partition, cl.scatter(pieces, hash=False), payload=payload, threads=threads, pure=False)
        done = 0
        for _ in as_completed(futures):
            done += 1
            if progress is not None:
                progress(done, len(futures))
        timings["screen"] = time.perf_counter() - t
        t = time.perf_counter()
        out = cl.gather(futures)
        timings["gather"] = time.perf_counter() - t
        return out

    if client is not None:
        results = run(client)
    else:
        with dask_client(workers=workers, scheduler=scheduler, processes=processes) as cl:
            results = run(cl)
    site_geoms = np.asarray(prep_sites.geometry.values, dtype=object)
    rank = np.zeros(n, dtype=np.int8)
    for r in results:
        rank[r["pos"]] = r["rank"]
    hits = _restore(pd.concat([r["hits"] for r in results], ignore_index=True), site_geoms)
    # Partitions come back in space order: put every site's hits back in input order, keeping
    # each site's own rows in their (rule, feature) order.
    hits = hits.take(np.argsort(hits["s"].to_numpy(np.int64), kind="stable")).reset_index(drop=True)
    touch: dict[str, pd.DataFrame] = {}
    for layer in dict.fromkeys(k for r in results for k in r["touch"]):
        pairs = _restore(pd.concat([r["touch"][layer] for r in results if layer in r["touch"]], ignore_index=True), site_geoms)
        if layer in prepared.labels:  # a zoning layer's pairs (not the coverage stage's ``_outside``)
            pairs["label"] = pd.Series(prepared.labels[layer][pairs["f"].to_numpy(np.int64)], index=pairs.index, dtype=object)
        touch[layer] = pairs
    t = time.perf_counter()
    result = assemble_result(prep_sites, hits, touch, rank, prepared, rules, sites_audit, t0=t0, started=started)
    timings["assemble"] = time.perf_counter() - t
    result.audit["engine"] = {
        "name": "dask",
        "partitions": len(results),
        "scheduler": scheduler or os.environ.get(SCHEDULER_ENV) or "local",
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "zoning_to_workers": how.get("zoning", ""),
        "partition_s": [round(r["seconds"], 2) for r in results],
    }
    return result
