"""Load time of a zoning package from PostGIS against the same package as GeoPackage.

Starts a throwaway PostgreSQL + PostGIS server (initdb into a temp dir, as
the tests do), publishes the bundled 连州 demo and a generated province
(``scripts/make_province.py``) with ``ecozone zoning publish``'s library
call (without validation), then times ``load_zoning`` (reading + normalising + reprojecting +
repairing: a prepared zoning, no disk cache) from each store, best of
``--repeat``.  Prints the ratio PostGIS / GPKG (the issue's target: ≤ 1.5)
and checks both loads give the same layers (exit 1 otherwise).

Run from the repository root::

    python scripts/bench_postgis.py                     # demo + a medium province
    python scripts/bench_postgis.py --units 2000 --redlines 20000 --protected 5000 --farmland 30000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway-server helper the tests use
sys.path.insert(0, str(ROOT / "scripts"))


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _same(a, b) -> bool:
    if list(a.layers) != list(b.layers):
        return False
    for n in a.layers:
        x, y = a.layers[n], b.layers[n]
        if len(x) != len(y) or not x.drop(columns="geometry").equals(y.drop(columns="geometry")):
            return False
        if not x.geometry.geom_equals_exact(y.geometry, 0).all():
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=400)
    ap.add_argument("--redlines", type=int, default=4000)
    ap.add_argument("--protected", type=int, default=1000)
    ap.add_argument("--farmland", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)

    from make_province import make_province
    from pg_server import POSTGIS_SKIP_REASON, start_postgres

    from spatial.pgpublish import publish_package
    from spatial.zoning import demo_zoning_path, load_zoning

    if POSTGIS_SKIP_REASON:
        print(f"cannot run: {POSTGIS_SKIP_REASON}")
        return 1
    ok = True
    with tempfile.TemporaryDirectory() as tmp, start_postgres(Path(tmp) / "pg") as url:
        info = make_province(
            Path(tmp) / "province", units=args.units, redlines=args.redlines, protected=args.protected, water=args.protected // 3,
            farmland=args.farmland, urban=50, corridors=200, points=10, polygons=10, lines=10, seed=1, quiet=True,
        )  # fmt: skip
        packages = {"demo 连州": demo_zoning_path(), f"province (units={args.units}, redlines={args.redlines})": Path(info["zoning"])}
        print(f"{'package':44s} {'features':>9s} {'publish s':>10s} {'GPKG s':>8s} {'PostGIS s':>10s} {'ratio':>6s}")
        for i, (name, path) in enumerate(packages.items()):
            t0 = time.perf_counter()
            v = publish_package(path, url, label=name, schema=f"bench_{i}", validate=False)
            t_pub = time.perf_counter() - t0
            t_file, zf = _best(lambda p=path: load_zoning(p), args.repeat)
            t_db, zd = _best(lambda u=v.url: load_zoning(u), args.repeat)
            same = _same(zf, zd)
            ok &= same
            n = sum(len(g) for g in zf.layers.values())
            print(f"{name:44s} {n:9d} {t_pub:10.2f} {t_file:8.2f} {t_db:10.2f} {t_db / t_file:6.2f}{'' if same else '  DIFFERENT LAYERS'}")
    print("ratio = PostGIS load / GPKG load (target ≤ 1.5); same layers from both stores:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
