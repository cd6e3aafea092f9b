#!/usr/bin/env python
"""Suitability benchmark: time and peak memory, and the ratio to a plain ``geopandas.overlay``.

Targets (issues 17, 28): one project type on the generated province
(``make_province.py``, default size) in at most 2 minutes of wall time on 2
cores within 4 GiB, class areas adding up to the province within 1e-4; the
连州 demo in at most 10 s.

``--province`` runs only the province part of issue 28: the level method on
the whole generated province (wall, CPU, peak RSS), and, in the same run, the
old exhaustive method and the level method on a central ``--fraction`` of it
(``make_province.fraction_zoning``) for the ratio, plus the per-class area
differences old → new on the demo, and the ``--raster-only`` overview of the
whole province at ``--raster-res`` metres.

Every measurement runs in a fresh child process so its peak RSS is its own:

suitability
    ``spatial.suitability.suitability(zoning, rules, TYPE, method=...)``: edges, buffers,
    noding and polygonising (tiled on the province), one engine screening of
    every face, dissolve by class and rules, ellipsoidal class areas.
cli
    (demo only) ``ecozone suitability -t TYPE --out DIR`` end to end, with the
    GeoPackage, GeoTIFF, CSV and map.
overlay
    the baseline, in the same run: ``geopandas.overlay(how="union")`` of the
    boundary with, in turn, every polygon layer the type's rules read (the same
    layers, without buffers, distances or verdicts — strictly less work).  On
    the province it is stopped after ``--overlay-timeout`` seconds and the
    ratio is reported as a bound.

The machine load (``os.getloadavg``) is printed before and after, since a
shared machine slows every figure.

Usage::

    python scripts/bench_suitability.py [--data /tmp/province] [--type chemical] [--demo-only] [--overlay-timeout 900]
    python scripts/bench_suitability.py --province [--data /tmp/province] [--fraction 0.02] [--type chemical] [--raster-res 500]
    python scripts/bench_suitability.py --profile --data /tmp/province/fraction_0.05.gpkg   # per-stage wall, CPU, peak RSS
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (``/proc/PID/task/*/children``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return out


def _tree_memory() -> tuple[float, float]:
    """(PSS, RSS) in GiB summed over this process and its children (worker processes).

    PSS counts a page shared by k processes as 1/k in each, so the sum is the memory
    the whole tree holds; the RSS sum counts shared pages (the forked zoning) once
    per process and over-states it.
    """
    pss = rss = 0
    for p in _tree_pids(os.getpid()):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 2**20, rss / 2**20


class _PeakSampler:
    """Peak of :func:`_tree_memory` sampled every ``every`` seconds in a thread.

    A sample is not free: reading ``smaps_rollup`` makes the kernel walk every page
    table of the process tree, 50-100 ms of CPU for a 3 GiB province run.  Sampled
    every 0.25 s (before 2026-12-05) that took 20-40 % of a core from the two workers
    and inflated the province's wall time and CPU; every 2 s it costs 3-5 %, and a
    batch holds its memory for several seconds.  ``cpu`` is the sampler's own CPU
    time, printed with the results.
    """

    def __init__(self, every: float = 2.0) -> None:
        import threading

        self.pss = self.rss = 0.0
        self.cpu = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        c = time.thread_time()
        while not self._stop.is_set():
            pss, rss = _tree_memory()
            self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)
            self.samples += 1
            self.cpu = time.thread_time() - c
            self._stop.wait(self._every)

    def stop(self) -> tuple[float, float]:
        self._stop.set()
        self._thread.join()
        return self.pss, self.rss


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (forked workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _zoning(data: str) -> Any:
    from spatial.cache import load_zoning_cached

    if data == "demo":
        return load_zoning_cached(None)
    path = Path(data)
    return load_zoning_cached(path if path.suffix == ".gpkg" else path / "province_zoning.gpkg")


def child_suitability(data: str, ptype: str, method: str = "levels", processes: int | None = None) -> dict[str, Any]:
    """Load the zoning (cached), then time :func:`spatial.suitability.suitability` (wall, CPU and peak memory, workers included)."""
    import warnings

    from spatial.rules import load_rules
    from spatial.suitability import suitability

    warnings.simplefilter("ignore")  # the synthetic corridors run past the window's boundary on purpose
    t = time.perf_counter()
    zoning = _zoning(data)
    rules = load_rules()
    out: dict[str, Any] = {"method": method, "processes": processes, "load": time.perf_counter() - t, "rss_load": _rss_gib()}
    sampler = _PeakSampler()
    t, c = time.perf_counter(), _cpu()
    s = suitability(zoning, rules, ptype, method=method, processes=processes)
    out["cpu"] = _cpu() - c
    out["suitability"] = time.perf_counter() - t
    out["peak_pss_gib"], out["peak_rss_sum_gib"] = sampler.stop()
    out["sampler_cpu"], out["samples"] = sampler.cpu, sampler.samples  # included in ``cpu``
    out["faces"] = s.faces
    out["screened"] = s.screened
    out["areas"] = len(s.areas)
    total = float(s.table["area_km2"].sum() * 1e6)
    out["area_sum_rel_error"] = abs(total - s.county_m2) / s.county_m2
    out["county_km2"] = s.county_m2 / 1e6
    out["tolerance_m"] = s.tolerance_m
    out["table"] = s.table[["class", "area_km2", "pct"]].to_dict("records")
    out["rss_self"] = _rss_gib()
    # peak memory of the run: the PSS sum over the process and its workers (the parent's own peak RSS
    # when there are no workers and it is higher, since sampling may miss a short spike)
    out["rss"] = max(out["peak_pss_gib"], out["rss_self"])
    return out


def child_raster(data: str, ptype: str, res: float = 500.0) -> dict[str, Any]:
    """Time the ``--raster-only RES`` overview (:func:`spatial.suitability_raster.raster_suitability`)."""
    import warnings

    from spatial.rules import load_rules
    from spatial.suitability_raster import raster_suitability

    warnings.simplefilter("ignore")
    zoning = _zoning(data)
    rules = load_rules()
    t, c = time.perf_counter(), os.times()
    g = raster_suitability(zoning, rules, ptype, res)
    c2 = os.times()
    return {
        "suitability": time.perf_counter() - t, "cpu": (c2.user + c2.system) - (c.user + c.system), "cells": g.cells, "res": res,
        "cells_vs_county": g.cells_m2 / g.county_m2 - 1.0, "table": g.table[["class", "area_km2", "pct"]].to_dict("records"), "rss": _rss_gib(),
    }  # fmt: skip


#: Stages timed by ``--profile``: functions of :mod:`spatial.suitability` looked up by name at call time.
STAGES = ("_level_edges", "_run_tiles", "screen_codes", "_rule_sets", "_dissolve", "equal_area", "_class_table")


def child_stages(data: str, ptype: str) -> dict[str, Any]:
    """Wall, CPU and peak RSS (``/proc`` sampled every 0.1 s) per stage of one levels run (in one process)."""
    import threading
    import warnings
    from collections import defaultdict

    import spatial.suitability as S
    from spatial.rules import load_rules

    warnings.simplefilter("ignore")
    peak = [0.0]

    def rss() -> float:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 2**20

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], rss())
            time.sleep(0.1)

    threading.Thread(target=sample, daemon=True).start()
    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])

    def wrap(name: str, fn: Any) -> Any:
        def inner(*a: Any, **k: Any) -> Any:
            label = name + ("[refine]" if name == "_level_edges" and k.get("near") is not None else "")
            save, peak[0] = peak[0], rss()
            t, c = time.perf_counter(), sum(os.times()[:2])
            try:
                return fn(*a, **k)
            finally:
                st = stats[label]
                st[0] += 1
                st[1] += time.perf_counter() - t
                st[2] += sum(os.times()[:2]) - c
                st[3] = max(st[3], peak[0])
                peak[0] = max(save, peak[0])

        return inner

    for n in STAGES:
        setattr(S, n, wrap(n, getattr(S, n)))
    zoning = _zoning(data)
    rules = load_rules()
    t, c = time.perf_counter(), sum(os.times()[:2])
    s = S.suitability(zoning, rules, ptype, processes=1)  # one process: the stage timers live in it
    out = {"suitability": time.perf_counter() - t, "cpu": sum(os.times()[:2]) - c, "faces": s.faces, "screened": s.screened, "rss": _rss_gib()}
    out["stages"] = {k: {"calls": v[0], "wall": round(v[1], 1), "cpu": round(v[2], 1), "peak_rss_gib": round(v[3], 2)} for k, v in stats.items()}
    return out


def child_serial(data: str, ptype: str) -> dict[str, Any]:
    """Time the level method in one process (batches one after the other): the parallel speed-up's baseline."""
    return child_suitability(data, ptype, "levels", 1)


def child_exhaustive(data: str, ptype: str) -> dict[str, Any]:
    """Time the method before issue 28 (every edge cut everywhere): the baseline."""
    return child_suitability(data, ptype, "exhaustive")


def child_cli(data: str, ptype: str) -> dict[str, Any]:
    """``ecozone suitability`` end to end (all outputs)."""
    from click.testing import CliRunner

    from spatial.cli import cli

    with tempfile.TemporaryDirectory() as tmp:
        args = ["suitability", "-t", ptype, "--out", str(Path(tmp) / "out")]
        if data != "demo":
            args += ["--zoning", str(Path(data) / "province_zoning.gpkg"), "--resolution", "100", "--no-map"]
        t = time.perf_counter()
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
        dt = time.perf_counter() - t
    return {"cli": dt, "exit": res.exit_code, "rss": _rss_gib()}


def child_overlay(data: str, ptype: str) -> dict[str, Any]:
    """Plain geopandas.overlay (union) of the boundary with each polygon layer the type's rules read."""
    import geopandas as gpd

    from spatial.rules import load_rules
    from spatial.suitability import _rule_sources

    zoning = _zoning(data)
    rules = load_rules()
    canon = rules.types.resolve(ptype) or ptype
    layers = [lay for lay in _rule_sources(zoning, rules, canon) if lay in zoning.layers]
    t = time.perf_counter()
    acc = zoning.layers["boundary"][["geometry"]]
    for lay in layers:
        g = zoning.layers[lay]
        g = g[g.geom_type.isin(["Polygon", "MultiPolygon"])][["feature_id", "geometry"]].rename(columns={"feature_id": f"fid_{lay}"})
        if len(g):
            acc = gpd.overlay(acc, g, how="union", keep_geom_type=True)
    return {"overlay": time.perf_counter() - t, "layers": layers, "pieces": len(acc), "rss": _rss_gib()}


CHILDREN = {
    "suitability": child_suitability, "serial": child_serial, "exhaustive": child_exhaustive, "cli": child_cli, "overlay": child_overlay, "raster": child_raster, "stages": child_stages,
}  # fmt: skip


def _spawn(kind: str, data: str, ptype: str, timeout: float | None, extra: Sequence[str] = ()) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--data", data, "--type", ptype, *extra]
    t = time.perf_counter()
    try:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(HERE.parent), os.environ.get("PYTHONPATH", "")) if p)}  # this checkout, installed or not
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "wall": time.perf_counter() - t}
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:], "wall": time.perf_counter() - t}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - t
    return out


def _ensure_province(data: Path) -> None:
    if (data / "province_zoning.gpkg").exists():
        return
    subprocess.run(
        [sys.executable, str(HERE / "make_province.py"), "--out", str(data), "--points", "1000", "--polygons", "100", "--lines", "100"], check=True  # default zoning size
    )


def _classes(r: dict[str, Any]) -> dict[str, float]:
    return {row["class"]: row["area_km2"] for row in r.get("table", [])}


def province(a: argparse.Namespace) -> dict[str, Any]:
    """Issue 28: the whole province with the level method; old vs new on a fraction and on the demo."""
    data = Path(a.data)
    _ensure_province(data)
    frac = data / f"fraction_{a.fraction:g}.gpkg"
    if not frac.exists():
        sys.path.insert(0, str(HERE))
        from make_province import fraction_zoning

        fraction_zoning(data / "province_zoning.gpkg", frac, a.fraction)
    report: dict[str, Any] = {"load_before": os.getloadavg(), "cores": len(os.sched_getaffinity(0)), "fraction": a.fraction}
    for d in (str(data), str(frac)):  # zoning cache warm-up, not timed
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_suitability as b; b._zoning({d!r})"], check=True)
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(a.repeat):  # interleaved, so a load spike hits old and new alike
        for key, kind, d in (("demo_old", "exhaustive", "demo"), ("demo_new", "suitability", "demo"),
                             ("fraction_old", "exhaustive", str(frac)), ("fraction_serial", "serial", str(frac)),
                             ("fraction_new", "suitability", str(frac)), ("province_new", "suitability", str(data))):  # fmt: skip
            runs.setdefault(key, []).append(_spawn(kind, d, a.type, None))
    if a.raster_res:
        runs["province_raster"] = [_spawn("raster", str(data), a.type, None, ["--raster-res", str(a.raster_res)])]
    for key, rs in runs.items():
        ok = [r for r in rs if "suitability" in r]
        if not ok:
            report[key] = rs[0]
            continue
        med = sorted(ok, key=lambda r: r["wall"])[len(ok) // 2]  # the median run by wall time
        med = dict(med, wall_all=[round(r["suitability"], 1) for r in ok], cpu_all=[round(r["cpu"], 1) for r in ok])
        report[key] = med
    fo, fn = report["fraction_old"], report["fraction_new"]
    if "suitability" in fo and "suitability" in fn:
        report["ratio_fraction_wall"] = fn["suitability"] / fo["suitability"]
        report["ratio_fraction_cpu"] = fn["cpu"] / fo["cpu"]
        report["old_province_extrapolated_s"] = fo["suitability"] / a.fraction
    fs = report["fraction_serial"]
    if "suitability" in fs and "suitability" in fn:
        report["parallel_speedup_wall"] = fs["suitability"] / fn["suitability"]
        report["parallel_cpu_ratio"] = fn["cpu"] / fs["cpu"]
        same = _classes(fs).keys() == _classes(fn).keys()
        report["parallel_same_classes"] = same and all(
            abs(_classes(fs)[c] - _classes(fn)[c]) <= 1e-9 * abs(_classes(fs)[c]) for c in _classes(fs)
        )
    do, dn = _classes(report["demo_old"]), _classes(report["demo_new"])
    report["demo_class_diff_m2"] = {c: (dn.get(c, 0.0) - do.get(c, 0.0)) * 1e6 for c in sorted(set(do) | set(dn))}
    report["load_after"] = os.getloadavg()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or one child measurement) and print a report.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments.

    Returns
    -------
    int
        Exit status.
    """
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="/tmp/province", help="province directory (generated when missing), or 'demo'")
    p.add_argument("--type", default="chemical", help="project type")
    p.add_argument("--demo-only", action="store_true")
    p.add_argument("--province", action="store_true", help="issue 28: whole province (level method) + old/new ratio on a fraction")
    p.add_argument("--fraction", type=float, default=0.02, help="share of the province for the old-method baseline (--province)")
    p.add_argument("--repeat", type=int, default=1, help="runs per measurement; the median is reported (--province)")
    p.add_argument("--overlay-timeout", type=float, default=900.0, help="seconds before the province overlay baseline is stopped")
    p.add_argument("--raster-res", type=float, default=500.0, help="cell size of the --raster-only overview on the whole province (--province; 0: skip)")
    p.add_argument("--profile", action="store_true", help="per-stage wall, CPU and peak RSS of one levels run on --data (a province, a fraction file, or demo)")
    p.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        args = (a.data, a.type, a.raster_res) if a.child == "raster" else (a.data, a.type)
        print(json.dumps(CHILDREN[a.child](*args), default=str))
        return 0
    if a.profile:
        r = _spawn("stages", a.data, a.type, None)
        r["load"] = os.getloadavg()
        print(json.dumps(r, indent=2, default=str))
        return 0
    if a.province:
        r = province(a)
        print(json.dumps(r, indent=2, ensure_ascii=False, default=str))
        pn, fo, fn = r["province_new"], r["fraction_old"], r["fraction_new"]
        if "suitability" in pn:
            print(
                f"province ({pn['county_km2']:.0f} km²): {pn['suitability']:.1f} s wall (target ≤ 120 s), {pn['cpu']:.1f} s CPU "
                f"(workers included), peak memory {pn['rss']:.2f} GiB (PSS summed over the process and its workers; target ≤ 4), "
                f"{pn['faces']} faces ({pn['screened']} screened), "
                f"class areas vs province {pn['area_sum_rel_error']:.1e} (≤ 1e-4), tolerance {pn['tolerance_m']:g} m; "
                f"memory sampler {pn.get('sampler_cpu', 0.0):.1f} s CPU over {pn.get('samples', 0)} samples (in the CPU figure); "
                f"load {r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} on {r['cores']} cores"
            )
        else:
            print(f"province: failed {pn}")
        if "ratio_fraction_wall" in r:
            print(
                f"fraction {r['fraction']:g}: old {fo['suitability']:.1f} s wall / {fo['cpu']:.1f} s CPU, new {fn['suitability']:.1f} s / {fn['cpu']:.1f} s; "
                f"ratio new/old {r['ratio_fraction_wall']:.3f} wall, {r['ratio_fraction_cpu']:.3f} CPU; "
                f"old method on the whole province ≈ {r['old_province_extrapolated_s']:.0f} s (linear extrapolation)"
            )
        if "parallel_speedup_wall" in r:
            fs = r["fraction_serial"]
            print(
                f"fraction {r['fraction']:g}, one process vs workers: {fs['suitability']:.1f} → {fn['suitability']:.1f} s wall "
                f"(×{r['parallel_speedup_wall']:.2f}), {fs['cpu']:.1f} → {fn['cpu']:.1f} s CPU, peak {fs['rss']:.2f} → {fn['rss']:.2f} GiB; "
                f"same class areas (1e-9): {r['parallel_same_classes']}"
            )
        pr = r.get("province_raster", {})
        if "suitability" in pr:
            print(
                f"province --raster-only {pr['res']:g}: {pr['suitability']:.1f} s wall, {pr['cpu']:.1f} s CPU, peak RSS {pr['rss']:.2f} GiB, "
                f"{pr['cells']} cells (cells vs province area {pr['cells_vs_county']:+.1e})"
            )
        print("demo class areas new − old (m²): " + ", ".join(f"{c} {d:+.3f}" for c, d in r["demo_class_diff_m2"].items()))
        return 0
    report: dict[str, Any] = {"load_before": os.getloadavg(), "cores": len(os.sched_getaffinity(0))}
    # warm the zoning cache first so every child times the same thing
    cases = [("demo", "demo")] + ([] if a.demo_only else [("province", a.data)])
    if not a.demo_only:
        _ensure_province(Path(a.data))
    for name, data in cases:
        _spawn("suitability", data, a.type, None)  # cache warm-up
        r: dict[str, Any] = {"suitability": _spawn("suitability", data, a.type, None)}
        if name == "demo":
            r["cli"] = _spawn("cli", data, a.type, None)
        r["overlay"] = _spawn("overlay", data, a.type, a.overlay_timeout if name == "province" else None)
        s, o = r["suitability"], r["overlay"]
        if "suitability" in s:
            if "overlay" in o:
                r["ratio"] = s["suitability"] / o["overlay"]
            elif o.get("timeout"):
                r["ratio"] = f"< {s['suitability'] / o['wall']:.3f} (overlay stopped after {o['wall']:.0f} s)"
        report[name] = r
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    for name, _ in cases:
        r = report[name]
        s = r["suitability"]
        target = 10.0 if name == "demo" else 120.0
        if "suitability" in s:
            print(
                f"{name}: suitability {s['suitability']:.1f} s (target ≤ {target:.0f} s), peak RSS {s['rss']:.2f} GiB, "
                f"{s['faces']} faces, area sum error {s['area_sum_rel_error']:.1e}; ratio to overlay: {r.get('ratio')}"
            )
        else:
            print(f"{name}: failed {s}")
        if "cli" in r:
            print(f"{name}: ecozone suitability end to end {r['cli'].get('cli', float('nan')):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
