#!/usr/bin/env python
"""Benchmark full rule evaluation against a bare ``geopandas.sjoin`` on the demo zoning.

Sites: ``--points`` (default 100 000) random points and ``--polygons``
(default 10 000) random noisy polygons (15 m - 1 km across) inside the bundled
连州 demo boundary, with random project types, from a fixed seed.  Both are
built in memory in the zoning's CRS, so neither side pays for file reading or
reprojection.

Measured in the same process, each ``--repeat`` times (best time reported):

engine
    ``spatial.screen(sites, zoning, rules)``: every default rule
    (touch, near 500 m, corridor buffers, outside-boundary, control-unit
    bans), measurements for the pairs that hit, the summary sentence per
    site and the report tables — the whole result.
bare sjoin
    for every zoning layer the engine queries (boundary and each standard
    layer): ``geopandas.sjoin(zoning[layer], sites, predicate="intersects")``
    with the zoning on the left (the fast orientation: each zoning polygon is
    prepared once and tested against the sites in its bounding box).  Only a
    join: no rules, distances, measurements or text.

The engine time is also split into its phases (best of ``--repeat`` each):
input checks (ids, project types, CRS sanity), rule evaluation (prepare the
zoning, query, measure, apply every rule: :func:`spatial.engine.evaluate.screen_core`)
and the report tables (summary sentence per site, hit table, canonical order).

Target (screening issue): engine within 2x of the bare join.

Usage::

    python scripts/bench_screen.py [--points 100000] [--polygons 10000] [--seed 7] [--repeat 3] [--threads N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.engine.assemble import assemble_result
from spatial.engine.evaluate import screen_core
from spatial.engine.parallel import default_threads
from spatial.engine.prepared import prepare_zoning, release_prepared
from spatial.project_types import DEFAULT_TYPES
from spatial.rules import load_rules
from spatial.screening import prepare_inputs, screen
from spatial.zoning import demo_zoning_path, load_zoning

__all__ = ["demo_sites", "bare_sjoin", "main"]


def _generator() -> Any:
    """Import the shape helpers of ``make_province.py`` (a script, not a package)."""
    path = Path(__file__).resolve().with_name("make_province.py")
    spec = importlib.util.spec_from_file_location("_ecozone_make_province", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def demo_sites(boundary: shapely.Geometry, crs: Any, points: int, polygons: int, seed: int) -> gpd.GeoDataFrame:
    """Random point and polygon sites inside ``boundary`` with random project types.

    Parameters
    ----------
    boundary : Geometry
        Planning boundary (working CRS, metres).
    crs : CRS
        Its CRS.
    points, polygons : int
        Numbers of sites.
    seed : int
        Seed.

    Returns
    -------
    GeoDataFrame
        ``site_id``, ``project_type`` (canonical names), geometry.
    """
    gen = _generator()
    rng = np.random.default_rng(seed)
    px, py = gen.random_inside(rng, boundary, points)
    cx, cy = gen.random_inside(rng, boundary, polygons)
    radius = np.clip(rng.lognormal(np.log(120.0), 0.7, polygons), 15.0, 500.0)
    rings = gen.noisy_rings(rng, cx, cy, radius, rng.integers(8, 65, polygons), amp=0.35, harmonics=(2, 3, 5)) if polygons else np.zeros(0, dtype=object)
    geoms = np.concatenate([shapely.points(px, py), shapely.polygons(rings) if polygons else rings])
    n = len(geoms)
    types = np.array(DEFAULT_TYPES.names)
    return gpd.GeoDataFrame(
        {"site_id": np.char.add("S", np.arange(1, n + 1).astype(str)), "project_type": rng.choice(types, n)}, geometry=geoms, crs=crs
    )


def bare_sjoin(zoning: Any, sites: gpd.GeoDataFrame, layers: Sequence[str]) -> int:
    """Run the baseline: one ``sjoin`` per layer, zoning on the left; returns the joined rows.

    Parameters
    ----------
    zoning : Zoning
        Loaded zoning.
    sites : GeoDataFrame
        Sites in the zoning CRS.
    layers : sequence of str
        Layers to join.

    Returns
    -------
    int
        Total joined rows (so the work cannot be optimised away).
    """
    return sum(len(gpd.sjoin(zoning[layer], sites, predicate="intersects")) for layer in layers)


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), times, out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the numbers.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments.

    Returns
    -------
    int
        0 when the 2x target is met, 1 otherwise.
    """
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--polygons", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="engine threads (default: usable cores)")
    p.add_argument("--target", type=float, default=2.0)
    a = p.parse_args(argv)
    warnings.simplefilter("ignore")  # data-quality notes of the demo are not the point here
    zoning = load_zoning(demo_zoning_path())
    rules = load_rules()
    boundary = shapely.union_all(zoning.boundary.geometry.values)
    sites = demo_sites(boundary, zoning.crs, a.points, a.polygons, a.seed)
    layers = [name for name in zoning.layers if name == "boundary" or name in {lay for r in rules for lay in r.layers} or name in ("urban_boundary",)]
    layers = [name for name in layers if name in __import__("layers").REGISTRY]
    threads = a.threads or default_threads()
    n = len(sites)
    print(f"demo zoning {demo_zoning_path().name}: {', '.join(f'{k} {len(v)}' for k, v in zoning.layers.items())}")
    print(f"sites: {a.points:,} points + {a.polygons:,} polygons (seed {a.seed}); engine threads {threads}; cores {os.cpu_count()}")
    t_engine, engine_runs, result = _best(lambda: screen(sites, zoning, rules, threads=threads), a.repeat)
    t_bare, bare_runs, rows = _best(lambda: bare_sjoin(zoning, sites, layers), a.repeat)
    t_engine1, engine1_runs, _ = _best(lambda: screen(sites, zoning, rules, threads=1), a.repeat) if threads > 1 else (t_engine, engine_runs, None)
    ratio = t_engine / t_bare
    t_in, _, (prep_sites, _, _, audit) = _best(lambda: prepare_inputs(sites, zoning, rules), a.repeat)

    def evaluate() -> tuple[Any, ...]:
        prepared = prepare_zoning(zoning, rules.types)
        out = screen_core(prep_sites, prepared, rules, threads=threads)
        release_prepared(prepared)
        return (*out, prepared)

    t_rules, _, (hits, touch, rank, prepared) = _best(evaluate, a.repeat)
    t_tables, _, _ = _best(lambda: assemble_result(prep_sites, hits.copy(), dict(touch), rank, prepared, rules, audit, t0=0.0, started=pd.Timestamp.now()), a.repeat)
    table = pd.DataFrame(
        [
            ["engine: screen() all rules, whole result", threads, t_engine, n / t_engine, len(result.hits), ratio],
            ["engine: screen() all rules, whole result", 1, t_engine1, n / t_engine1, len(result.hits), t_engine1 / t_bare],
            ["  phase: input checks", 1, t_in, n / t_in, n, t_in / t_bare],
            ["  phase: rule evaluation (screen_core)", threads, t_rules, n / t_rules, len(hits), t_rules / t_bare],
            ["  phase: report tables", 1, t_tables, n / t_tables, len(result.hits), t_tables / t_bare],
            [f"bare sjoin x {len(layers)} layers (zoning left)", 1, t_bare, n / t_bare, rows, 1.0],
        ],
        columns=["what", "threads", "best s", "sites/s", "rows", "ratio to sjoin"],
    )
    with pd.option_context("display.float_format", "{:,.2f}".format, "display.width", 160):
        print(table.to_string(index=False))
    print(f"runs (s): engine {[round(x, 2) for x in engine_runs]}, engine 1 thread {[round(x, 2) for x in engine1_runs]}, sjoin {[round(x, 2) for x in bare_runs]}")
    print(f"sjoin layers: {', '.join(layers)}")
    verdict = "met" if ratio <= a.target else "MISSED"
    print(f"target: engine within {a.target:g}x of the bare sjoin -> whole screen() {ratio:.2f}x ({verdict}); rule evaluation alone {t_rules / t_bare:.2f}x")
    return 0 if ratio <= a.target else 1


if __name__ == "__main__":
    raise SystemExit(main())
