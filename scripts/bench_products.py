#!/usr/bin/env python
"""Benchmark a large ``ecozone screen`` with the default products against the tables only.

Sites: ``--sites`` (default 15 000) random sites inside the bundled 连州 demo
boundary, four in five points and one in five noisy polygons (15 m - 500 m
across), random project types, from a fixed seed (the generator of
``scripts/bench_screen.py``), written once as a GeoPackage in WGS84.

Measured in the same run, each as a fresh ``ecozone screen`` process on the
demo zoning (zoning cache warmed first, so neither side pays for it):

tables only (baseline)
    ``--products tables,gpkg``: sites.csv, hits.csv, rules.csv, screening.gpkg.
default products
    no ``--products``: the tables, map.html and the report (HTML, DOCX, XLSX,
    PDF, 附图); above 200 sites the report is a summary (every site in the
    tables, a section per site that is not 符合).

Target (issue 24): default products ≤ 2× the tables-only wall time.  Wall
and CPU (the process and all its descendants: the bench is a child subreaper
on Linux, so the processes Chromium forks off its zygote are counted too)
are printed with the machine's load.

Usage::

    python scripts/bench_products.py [--sites 15000] [--seed 24] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "scripts"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_procs import reap, subreaper  # noqa: E402


def make_sites(n: int, seed: int, path: Path) -> dict[str, int]:
    """Write ``n`` random demo sites to ``path`` (GeoPackage, WGS84); return the point and polygon counts."""
    from bench_screen import demo_sites

    from spatial.zoning import demo_zoning_path, load_zoning

    z = load_zoning(demo_zoning_path())
    boundary = z.layers["boundary"].geometry.union_all()
    sites = demo_sites(boundary, z.crs, n - n // 5, n // 5, seed)
    sites.to_crs(4326).to_file(path)
    return {"points": n - n // 5, "polygons": n // 5}


def _screen(sites: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """Run ``ecozone screen`` in a fresh process; return (wall s, CPU s of it and all its descendants)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "spatial.cli", "screen", str(sites), "--zoning", "demo", "--out", str(out), "--force", *extra]
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - w0
    reap(wait=True)
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"ecozone screen failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return wall, (ch1.ru_utime - ch0.ru_utime) + (ch1.ru_stime - ch0.ru_stime)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sites", type=int, default=15_000)
    p.add_argument("--seed", type=int, default=24)
    p.add_argument("--target", type=float, default=2.0)
    p.add_argument("--keep", type=Path, default=None, help="keep the inputs and outputs here")
    args = p.parse_args(argv)

    import warnings

    warnings.simplefilter("ignore")
    tmp = Path(tempfile.mkdtemp(prefix="bench-products-")) if args.keep is None else args.keep
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        sites = tmp / f"sites_{args.sites}.gpkg"
        counts = make_sites(args.sites, args.seed, sites)
        print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (before)")
        print(f"{args.sites} sites ({counts['points']} points, {counts['polygons']} polygons), demo zoning\n")
        counted = subreaper()
        _screen(sites, tmp / "warm", ["--products", "tables"])  # warm the zoning cache for both sides
        rows = []
        for label, extra in (("tables only (--products tables,gpkg)", ["--products", "tables,gpkg"]), ("default products", [])):
            wall, cpu = _screen(sites, tmp / label.split()[0], extra)
            rows.append((label, wall, cpu))
            print(f"  {label}: {wall:.1f} s wall, {cpu:.1f} s CPU, load average {os.getloadavg()[0]:.2f}", flush=True)
        if not counted:
            print("note: not Linux or no prctl: the browser's forked processes are not counted in CPU")
        import pandas as pd

        verdicts = pd.read_csv(tmp / "default" / "sites.csv", encoding="utf-8-sig", usecols=["verdict"])["verdict"].value_counts()
        print(f"{'run':<40}{'wall s':>9}{'CPU s':>9}")
        for label, wall, cpu in rows:
            print(f"{label:<40}{wall:9.1f}{cpu:9.1f}")
        ratio = rows[1][1] / rows[0][1]
        print(
            f"\ndefault / tables only: ×{ratio:.2f} wall, ×{rows[1][2] / rows[0][2]:.2f} CPU; target ≤ ×{args.target:g}: {'met' if ratio <= args.target else 'NOT met'}"
        )
        print("verdicts: " + ", ".join(f"{k} {v}" for k, v in verdicts.items()))
        print("written: " + ", ".join(sorted(q.name for q in (tmp / "default").iterdir())))
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (after)")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
