#!/usr/bin/env python
"""Province-scale benchmark: sites/s, peak memory and the ratio to a bare ``geopandas.sjoin``.

Runs on a synthetic province from ``make_province.py`` (generated into
``--data`` when missing): 2 000 control units, 20 000 red-line polygons
(hundreds to thousands of vertices each), 5 000 protected-area zones, water
sources, 30 000 farmland patches, urban boundaries and 2 000 corridors —
about 21 million vertices.

Every measurement runs in a fresh child process, so peak RSS belongs to that
measurement only.  Per case (10⁴, 10⁵, 10⁶ point sites; 10⁵ polygon sites):

read
    ``geopandas.read_parquet`` of the sites file (same for both sides).
engine
    ``spatial.screen(sites, zoning, rules)``: all default rules,
    measurements, summaries and report tables (zoning from the warm cache).
write
    ``write_screening(..., fmt="parquet")``: sites/hits CSV and GeoParquet.
bare sjoin
    in the same process, after the engine: for every layer the engine queries
    (boundary, redline, protected_area, water_source, control_unit, farmland,
    urban_boundary, corridor) ``geopandas.sjoin(zoning[layer], sites,
    predicate="intersects")``, zoning on the left.  Reported in full and
    without the corridor lines (whose long bounding boxes make a plain sjoin
    slow; the engine queries lines in short pieces).

Then, end to end as a user runs it, for each ``--e2e-sizes`` point count
(200 000 and 10⁶ by default), each side in a fresh process, best of
``--repeat`` alternating runs, zoning cache warm for both:

``ecozone screen SITES -z ZONING --out DIR --no-map``
    default outputs: sites.csv, hits.csv, rules.csv and, above 100 000
    sites, sites/hits GeoParquet (also timed with ``--format gpkg``);
bare script
    read the sites, load the zoning through the same cache, ``sjoin`` every
    layer, write a hits CSV, a sites CSV and a sites GeoPackage
    (:func:`child_bare`).

The issue's targets: ``ecozone screen`` at most 1.5x the bare script at
200 000 points and 1.2x at 10⁶.  Optionally (``--dask``) the largest point
case on a 2-worker local Dask cluster.

Usage::

    python scripts/bench_scale.py --data /tmp/province [--sizes 10000,100000,1000000] [--polygons 100000] [--dask]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LAYERS = ("boundary", "redline", "protected_area", "water_source", "control_unit", "farmland", "urban_boundary", "corridor")


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _zoning(data: Path, cache: Path) -> Any:
    from spatial.cache import load_zoning_cached

    return load_zoning_cached(data / "province_zoning.gpkg", root=cache)


def child_zoning(data: Path, cache: Path) -> dict[str, Any]:
    """Cold (empty cache: load + write) then warm (cache hit) zoning load."""
    from spatial.cache import load_zoning_cached

    shutil.rmtree(cache, ignore_errors=True)
    out: dict[str, Any] = {}
    for name in ("cold", "warm"):
        info: dict[str, Any] = {}
        t = time.perf_counter()
        z = load_zoning_cached(data / "province_zoning.gpkg", root=cache, info=info)
        out[name] = time.perf_counter() - t
        out[name + "_status"] = info.get("status")
    import shapely

    out["features"] = {k: len(v) for k, v in z.layers.items()}
    out["vertices"] = int(sum(int(shapely.get_num_coordinates(v.geometry.values).sum()) for v in z.layers.values()))
    return out


def child_case(data: Path, cache: Path, sites_path: Path, threads: int | None) -> dict[str, Any]:
    """Engine, output writing and bare sjoin on one sites file, in this process."""
    import geopandas as gpd

    from spatial.engine.parallel import default_threads
    from spatial.output import write_screening
    from spatial.rules import load_rules
    from spatial.screening import screen

    zoning = _zoning(data, cache)
    rules = load_rules()
    out: dict[str, Any] = {"threads": threads or default_threads(), "rss_start": _rss_gib()}
    t = time.perf_counter()
    sites = gpd.read_parquet(sites_path)
    out["read"] = time.perf_counter() - t
    out["n"] = len(sites)
    t = time.perf_counter()
    result = screen(sites, zoning, rules, threads=threads)
    out["engine"] = time.perf_counter() - t
    out["rss_engine"] = _rss_gib()
    out["hits"] = len(result.hits)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_screening(result, Path(tmp), fmt="parquet")
        out["write"] = time.perf_counter() - t
    out["rss_write"] = _rss_gib()
    del result
    gc.collect()
    per: dict[str, float] = {}
    rows = 0
    for layer in LAYERS:
        t = time.perf_counter()
        rows += len(gpd.sjoin(zoning[layer], sites, predicate="intersects"))
        per[layer] = time.perf_counter() - t
    out["sjoin_layers"] = per
    out["sjoin"] = sum(per.values())
    out["sjoin_no_corridor"] = out["sjoin"] - per["corridor"]
    out["sjoin_rows"] = rows
    out["rss_all"] = _rss_gib()
    return out


def child_bare(data: Path, cache: Path, sites_path: Path, out_dir: Path) -> dict[str, Any]:
    """Run the bare expert script a GIS analyst would write, end to end in this process.

    Read the sites, load the zoning through the same cache ``ecozone screen``
    uses, ``geopandas.sjoin`` every layer (zoning on the left, the fast side),
    then write what a planner needs from it: a hits CSV (layer, feature, site),
    a sites CSV (site, name, type, number of hits) and the sites with their
    geometry as a GeoPackage.  No rules, no measurements, no text.
    """
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    t0 = time.perf_counter()
    zoning = _zoning(data, cache)
    sites = gpd.read_parquet(sites_path).to_crs(zoning.crs)
    t_io = time.perf_counter() - t0
    parts, per = [], {}
    right = sites[["site_id", "geometry"]]
    for layer in LAYERS:
        t = time.perf_counter()
        j = gpd.sjoin(zoning[layer][["feature_id", "geometry"]], right, predicate="intersects")
        parts.append(pd.DataFrame({"layer": layer, "feature_id": j["feature_id"].to_numpy(), "site_id": j["site_id"].to_numpy()}))
        per[layer] = time.perf_counter() - t
    hits = pd.concat(parts, ignore_index=True)
    t = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    hits.to_csv(out_dir / "hits.csv", index=False, encoding="utf-8-sig")
    counts = hits["site_id"].value_counts()
    sites["n_hits"] = sites["site_id"].map(counts).fillna(0).astype(int)
    pd.DataFrame(sites.drop(columns="geometry")).to_csv(out_dir / "sites.csv", index=False, encoding="utf-8-sig")
    pyogrio.write_dataframe(sites, out_dir / "sites.gpkg", layer="sites", driver="GPKG", use_arrow=True)
    t_write = time.perf_counter() - t
    return {"io": t_io, "sjoin_layers": per, "write": t_write, "wall": time.perf_counter() - t0, "hits": len(hits), "rss": _rss_gib()}


def child_dask(data: Path, cache: Path, sites_path: Path, workers: int) -> dict[str, Any]:
    """Time the largest point case on a local Dask cluster (workers = processes, 1 thread each)."""
    import geopandas as gpd

    from spatial.screening import screen

    zoning = _zoning(data, cache)
    sites = gpd.read_parquet(sites_path)
    t = time.perf_counter()
    result = screen(sites, zoning, engine="dask", engine_options={"workers": workers})
    return {"engine": time.perf_counter() - t, "n": len(sites), "hits": len(result.hits), "partitions": result.audit["engine"]["partitions"], "timings": result.audit["engine"]["timings_s"], "rss_client": _rss_gib()}


def _child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run this script in ``--child`` mode in a fresh process and return its JSON."""
    res = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env)
    if res.returncode:
        raise RuntimeError(f"child {args} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _timed_command(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time and peak RSS of an external command (via a wrapper process's RUSAGE_CHILDREN)."""
    code = (
        "import json,resource,subprocess,sys,time;t=time.perf_counter();"
        "r=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
        "print(json.dumps({'wall':time.perf_counter()-t,'rc':r.returncode,'rss':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/2**20,'err':r.stderr[-2000:]}))"
    )
    res = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, env=env)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out["rc"]:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out['err']}")
    return out


def _subset(src: Path, n: int, dest: Path) -> Path:
    """First ``n`` sites of ``src`` as their own GeoParquet file (so reading costs what it should)."""
    import geopandas as gpd

    if not dest.exists():
        gpd.read_parquet(src).iloc[:n].to_parquet(dest, row_group_size=100_000)
    return dest


def _sizes(folder: Path) -> dict[str, Any]:
    """Total size (MB) and names of the files a run wrote."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {"mb": sum(p.stat().st_size for p in files) / 1e6, "files": [p.name for p in files]}


def _fmt(x: float) -> str:
    return f"{x:,.1f}" if x >= 10 else f"{x:,.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments.

    Returns
    -------
    int
        Exit status.
    """
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "ecozone-province")
    p.add_argument("--sizes", default="10000,100000,1000000", help="point-site counts")
    p.add_argument("--polygons", type=int, default=100_000, help="polygon-site count (0: skip)")
    p.add_argument("--threads", type=int, default=None, help="engine threads (default: usable cores)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dask", action="store_true", help="also run the largest point case on a local Dask cluster")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-cli", action="store_true", help="skip the end-to-end `ecozone screen` timing")
    p.add_argument("--e2e-sizes", default="200000,1000000", help="point-site counts timed end to end against the bare script")
    p.add_argument("--repeat", type=int, default=2, help="end-to-end runs per side (best is reported)")
    p.add_argument("--json", type=Path, default=None, help="also write all numbers here")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        warnings.simplefilter("ignore")
        kind, *rest = a.child
        data, cache = Path(rest[0]), Path(rest[1])
        if kind == "zoning":
            out = child_zoning(data, cache)
        elif kind == "case":
            out = child_case(data, cache, Path(rest[2]), int(rest[3]) or None)
        elif kind == "bare":
            out = child_bare(data, cache, Path(rest[2]), Path(rest[3]))
        else:
            out = child_dask(data, cache, Path(rest[2]), int(rest[3]))
        print(json.dumps(out))
        return 0

    sizes = [int(s) for s in a.sizes.split(",") if s]
    data = a.data
    if not (data / "province_zoning.gpkg").exists() or not (data / "sites_points.parquet").exists():
        print(f"generating the synthetic province into {data} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(HERE / "make_province.py"), "--out", str(data), "--seed", str(a.seed), "--points", str(max(sizes + [int(x) for x in a.e2e_sizes.split(",") if x])),
             "--polygons", str(max(a.polygons, 1)), "--lines", "10000"],
            check=True,
        )  # fmt: skip
    cache = data / "bench-cache"
    report: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}}
    z = _child(["zoning", str(data), str(cache)])
    report["zoning"] = z
    print(
        f"zoning: {z['vertices']:,} vertices; {', '.join(f'{k} {v:,}' for k, v in z['features'].items())}\n"
        f"zoning load: cold {z['cold']:.1f} s (load + cache write), warm {z['warm']:.1f} s (cache hit) -> {z['cold'] / z['warm']:.1f}x",
        flush=True,
    )
    cases = [("points", n) for n in sizes] + ([("polygons", a.polygons)] if a.polygons else [])
    rows = []
    for kind, n in cases:
        src = data / f"sites_{kind}.parquet"
        path = _subset(src, n, data / f"bench_{kind}_{n}.parquet")
        r = _child(["case", str(data), str(cache), str(path), str(a.threads or 0)])
        r["kind"] = kind
        rows.append(r)
        print(
            f"{kind} {n:>9,}: read {r['read']:.2f} s, engine {r['engine']:.2f} s ({n / r['engine']:,.0f} sites/s, {r['threads']} threads), "
            f"write {r['write']:.2f} s, bare sjoin {r['sjoin']:.2f} s (without corridor {r['sjoin_no_corridor']:.2f} s), "
            f"peak RSS {r['rss_write']:.2f} GiB",
            flush=True,
        )
    report["cases"] = rows
    pts = [r for r in rows if r["kind"] == "points"]
    exps = [
        (f"{x['n']:,}→{y['n']:,}", math.log(y["engine"] / x["engine"]) / math.log(y["n"] / x["n"]))
        for x, y in zip(pts[:-1], pts[1:], strict=True)
    ]
    report["exponents"] = exps
    cli: dict[str, Any] = {}
    e2e = [int(x) for x in a.e2e_sizes.split(",") if x] if not a.no_cli else []
    if e2e:
        env = dict(os.environ, ECOZONE_CACHE_DIR=str(data / "cli-cache"))
        shutil.rmtree(data / "cli-cache", ignore_errors=True)
        cmd = [sys.executable, "-m", "spatial.cli"]  # this interpreter's ecozone (an `ecozone` on PATH may be another install)
        zpath = str(data / "province_zoning.gpkg")
        for n in e2e:
            path = _subset(data / "sites_points.parquet", n, data / f"bench_points_{n}.parquet")
            with tempfile.TemporaryDirectory() as tmp:  # fill the cache (first run: cold)
                first = _timed_command([*cmd, "screen", str(path), "-z", zpath, "--out", f"{tmp}/o", "--no-map"], env)
            runs: dict[str, list[dict[str, Any]]] = {"ecozone": [], "ecozone_gpkg": [], "bare": []}
            for _ in range(a.repeat):  # alternate the sides: the machine's load drifts
                with tempfile.TemporaryDirectory() as tmp:
                    runs["bare"].append(_timed_command([sys.executable, __file__, "--child", "bare", str(data), str(data / "cli-cache"), str(path), f"{tmp}/b"], env))
                    runs["bare"][-1].update(_sizes(Path(tmp) / "b"))
                    runs["ecozone"].append(_timed_command([*cmd, "screen", str(path), "-z", zpath, "--out", f"{tmp}/e", "--no-map"], env))
                    runs["ecozone"][-1].update(_sizes(Path(tmp) / "e"))
                    runs["ecozone_gpkg"].append(_timed_command([*cmd, "screen", str(path), "-z", zpath, "--out", f"{tmp}/g", "--no-map", "--format", "gpkg"], env))
                    runs["ecozone_gpkg"][-1].update(_sizes(Path(tmp) / "g"))
            best = {k: min(v, key=lambda r: r["wall"]) for k, v in runs.items()}
            cli[n] = {"cold": first, "runs": runs, "best": best}
            print(
                f"end to end, {n:,} points (best of {a.repeat}): `ecozone screen` {best['ecozone']['wall']:.1f} s, "
                f"with --format gpkg {best['ecozone_gpkg']['wall']:.1f} s; bare script {best['bare']['wall']:.1f} s "
                f"-> ratio {best['ecozone']['wall'] / best['bare']['wall']:.2f} ({best['ecozone_gpkg']['wall'] / best['bare']['wall']:.2f} with GeoPackage)",
                flush=True,
            )
        report["cli"] = {str(k): v for k, v in cli.items()}
    if a.dask and pts:
        big = data / f"bench_points_{pts[-1]['n']}.parquet"
        report["dask"] = _child(["dask", str(data), str(cache), str(big), str(a.workers)])

    # ---- the table
    print("\n| sites | read (s) | engine (s) | sites/s | write (s) | peak RSS (GiB) | bare sjoin, 8 layers (s) | ratio | bare sjoin w/o corridor (s) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']:,} {r['kind']} | {_fmt(r['read'])} | {_fmt(r['engine'])} | {r['n'] / r['engine']:,.0f} | {_fmt(r['write'])} | "
            f"{r['rss_write']:.2f} | {_fmt(r['sjoin'])} | {r['engine'] / r['sjoin']:.2f} | {_fmt(r['sjoin_no_corridor'])} | "
            f"{r['engine'] / r['sjoin_no_corridor']:.2f} |"
        )
    for label, e in exps:
        print(f"scaling exponent (engine time vs point sites) {label}: {e:.2f}")
    print(f"zoning cache: cold {z['cold']:.1f} s / warm {z['warm']:.1f} s = {z['cold'] / z['warm']:.1f}x")
    if cli:
        print("\n| points | `ecozone screen` (s) | its outputs (MB) | bare script (s) | its outputs (MB) | ratio | `ecozone screen --format gpkg` (s) | ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for n, c in cli.items():
            e, g, b = c["best"]["ecozone"], c["best"]["ecozone_gpkg"], c["best"]["bare"]
            print(
                f"| {n:,} | {e['wall']:.1f} | {e['mb']:.0f} | {b['wall']:.1f} | {b['mb']:.0f} | {e['wall'] / b['wall']:.2f} | "
                f"{g['wall']:.1f} | {g['wall'] / b['wall']:.2f} |"
            )
    if "dask" in report:
        d = report["dask"]
        print(
            f"dask, {a.workers} local workers: {d['n']:,} points in {d['engine']:.1f} s ({d['n'] / d['engine']:,.0f} sites/s, "
            f"{d['partitions']} partitions; phases {d['timings']})"
        )
    if a.json:
        a.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
