"""Load run for ``ecozone serve``: N concurrent screenings of the demo sites on loopback.

Starts a real server (uvicorn, worker processes as ``ecozone serve`` uses
them) on a free 127.0.0.1 port with a temporary data dir, then N client
threads each upload the 连州 demo sites and poll until their job is done.
Every job's verdicts must equal the engine's (the same call ``ecozone
screen`` makes), or the script exits 1.  Prints p50/p95 latency from submit
to done, the ratio to one warm screening job (the web worker's) run directly in the
same process (the baseline), and how fast a page answers while the pool is busy.  Only loopback traffic; bounded in count and time.

``--single`` measures the interactive path instead: 50 drawn parcels (200 m
squares at seeded random places inside the county boundary) sent one at a time
to ``POST /api/check`` on a warm server, p50/p95 from request to answer, against
the old path measured in the same run (the same parcel submitted as a screening
job through ``/api/screenings`` and polled until done, for ``--old`` parcels).

``--workers 1,2,4`` measures the durable queue instead: a throwaway
PostgreSQL (``tests/pg_server.py``; or ``--queue URL``), a ``--no-workers``
web tier taking ``--clients`` screenings of the demo sites, and 1, 2, 4
``ecozone worker`` processes (each its own process, as on separate
machines), warmed first (each has run one job).  Prints jobs/min per worker
count and the ratio to 1 worker measured in the same run; every job's
verdicts must equal the engine's.

Run from the repository root::

    python scripts/bench_serve.py            # 20 clients, 2 worker processes
    python scripts/bench_serve.py --clients 5 --jobs 1
    python scripts/bench_serve.py --workers 1,2,4          # queue throughput, tables only
    python scripts/bench_serve.py --workers 1,2 --products tables,map,report
    python scripts/bench_serve.py --single   # demo zoning
    python scripts/bench_serve.py --single --zoning /tmp/province/province_zoning.gpkg
    python scripts/bench_serve.py --single --province /tmp/province   # made by make_province.py if absent
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from spatial.job import ScreeningJob
from spatial.serve import ServeSettings, create_app
from spatial.zoning import demo_sites_path, load_zoning


@contextmanager
def serving(settings: ServeSettings) -> Iterator[str]:
    """Run the web app on a free local port in a thread; yield its base URL, stop it on exit.

    Parameters
    ----------
    settings : ServeSettings
        Settings of the app.

    Yields
    ------
    str
        ``http://127.0.0.1:PORT``.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def _p95(ordered: list[float]) -> float:
    """95th percentile of sorted latencies (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def baseline(tmp: Path) -> tuple[float, dict[str, str]]:
    """Screen the demo sites and write every output directly; return seconds and verdicts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zoning = load_zoning()
        for run in range(2):  # the first run pays for imports and caches, as a warm worker does not
            t0 = time.perf_counter()
            job = ScreeningJob(demo_sites_path(), zoning)
            result = job.screen()
            job.write(result, tmp / f"baseline{run}")
            seconds = time.perf_counter() - t0
    return seconds, dict(zip(result.sites["site_id"].astype(str), result.sites["verdict"], strict=True))


def one_client(base: str, body: bytes, deadline: float) -> tuple[float, dict[str, str], str]:
    """Submit the demo sites, poll until done; return latency, verdicts and status."""
    import httpx

    with httpx.Client(base_url=base, timeout=60) as c:
        t0 = time.perf_counter()
        r = c.post("/api/screenings", files={"files": ("lianzhou_sites.gpkg", body)})
        r.raise_for_status()
        job = r.json()["id"]
        while time.monotonic() < deadline:
            doc = c.get(f"/api/screenings/{job}").json()
            if doc["status"] in ("done", "failed"):
                verdicts = {s["site_id"]: s["verdict"] for s in doc["sites"] or []}
                return time.perf_counter() - t0, verdicts, doc["status"]
            time.sleep(0.1)
    return float("nan"), {}, "timeout"


def random_parcels(zoning_path: Path | None, n: int, seed: int = 24, size_m: float = 200.0) -> list[dict]:
    """Return ``n`` GeoJSON squares (WGS84) at seeded random places inside the county boundary."""
    import numpy as np
    import shapely
    from pyproj import Transformer

    z = load_zoning(zoning_path) if zoning_path else load_zoning()
    county = shapely.union_all(z.layers["boundary"].geometry.values).buffer(-size_m)
    shapely.prepare(county)
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = county.bounds
    to_ll = Transformer.from_crs(z.crs, 4326, always_xy=True)
    out: list[dict] = []
    while len(out) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if not county.contains(shapely.Point(x, y)):
            continue
        h = size_m / 2
        ring = [to_ll.transform(px, py) for px, py in ((x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h), (x - h, y - h))]
        out.append({"type": "Polygon", "coordinates": [[list(p) for p in ring]]})
    return out


def _call(base: str, path: str, body: dict | None = None, form: dict | None = None) -> dict:
    """One loopback request with the standard library (JSON body, urlencoded form, or GET); the answer's JSON."""
    import json
    import urllib.parse
    import urllib.request

    data, headers = None, {"Accept": "application/json"}
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    req = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=600) as r:  # noqa: S310 - loopback only
        return json.loads(r.read())


def province_zoning(folder: Path) -> Path:
    """Return the generated province package in ``folder``, making it first (``make_province.py`` defaults, few sites)."""
    path = folder / "province_zoning.gpkg"
    if not path.is_file():
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from make_province import main as make

        make(["--out", str(folder), "--points", "10", "--polygons", "10", "--lines", "10"])
    return path


def single(args: argparse.Namespace) -> int:
    """Interactive path: p50/p95 of ``POST /api/check`` per drawn parcel, against the old full-job path."""
    import json

    if args.province:
        args.zoning = str(province_zoning(Path(args.province)))
        args.target = args.target if args.target_given else 0.5
    zoning_path = Path(args.zoning) if args.zoning else None
    parcels = random_parcels(zoning_path, args.parcels)
    with tempfile.TemporaryDirectory(prefix="ecozone-bench-single-") as tmp, serving(ServeSettings(data_dir=Path(tmp) / "data", workers=1, zoning=zoning_path)) as base:
        lat: list[float] = []
        verdicts: dict[str, int] = {}
        t = time.perf_counter()
        _call(base, "/api/check", {"geometries": [parcels[0]], "project_type": args.type})  # warm: loads the version once
        cold = time.perf_counter() - t
        for g in parcels:
            t = time.perf_counter()
            v = _call(base, "/api/check", {"geometries": [g], "project_type": args.type, "facts": args.facts})["verdict"]
            lat.append(time.perf_counter() - t)
            verdicts[v] = verdicts.get(v, 0) + 1
        old: list[float] = []
        for i, g in enumerate(parcels[: args.old + 1] if args.old else []):  # the first old job warms the worker; not counted
            drawn = json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": g, "properties": {}}]})
            t = time.perf_counter()
            job = _call(base, "/api/screenings", form={"drawn": drawn, "project_type": args.type})["id"]
            while True:  # the old path: every file written before the verdict was shown
                doc = _call(base, f"/api/screenings/{job}")
                if doc["status"] == "failed" or (doc["status"] == "done" and doc.get("files_status") != "pending"):
                    break
                time.sleep(0.05)
            if i:
                old.append(time.perf_counter() - t)
    lat.sort()
    p50, p95 = statistics.median(lat), _p95(lat)
    old_p50 = statistics.median(old) if old else float("nan")
    print(f"zoning: {zoning_path or 'demo (连州)'}; parcels {len(lat)} (200 m squares, seeded random places), type {args.type}, facts {args.facts}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"verdicts: {verdicts}")
    print(f"POST /api/check: first (loads the version) {cold:.2f} s; warm p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    if old:
        print(f"old path (one-parcel screening job, submit→done, {len(old)} jobs): p50 {old_p50:.2f} s; ratio old p50 / check p50 = {old_p50 / p50:.0f}x")
    print(f"target p95 ≤ {args.target:.1f} s: {'met' if p95 <= args.target else 'NOT met'}")
    return 0


def _queue_run(url: str, tmp: Path, n_workers: int, clients: int, products: str, timeout: float, expected: dict[str, str]) -> dict[str, float]:
    """One row of the queue table: ``n_workers`` worker processes, ``clients`` jobs submitted at once."""
    import signal
    import subprocess

    from fastapi.testclient import TestClient

    data = tmp / f"data{n_workers}"
    app = create_app(ServeSettings(data_dir=data, db_url=url, no_workers=True, allowed_hosts=("testserver",)))
    store = app.state.store
    body = demo_sites_path().read_bytes()
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "spatial.cli", "worker", "--queue", url, "--data-dir", str(data), "--poll", "0.1", "--products", products]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with TestClient(app) as c:

        def submit() -> str:
            r = c.post("/api/screenings", files={"files": ("lianzhou_sites.gpkg", body)})
            r.raise_for_status()
            return str(r.json()["id"])

        def wait(ids: list[str], deadline: float) -> None:
            while any(store.job(j).status in ("queued", "running") for j in ids):
                if time.monotonic() > deadline:
                    raise SystemExit(f"queue bench: jobs unfinished after {timeout} s")
                time.sleep(0.1)

        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(n_workers)]
        try:
            warm: list[str] = []
            pids = {str(p.pid) for p in procs}
            while True:  # warm every worker: each has loaded the zoning and run one job
                warm += [submit() for _ in range(n_workers)]
                wait(warm, time.monotonic() + timeout)
                ran = {a.worker.rsplit(":", 1)[-1] for j in warm for a in store.job_attempts(j)}
                if pids <= ran or len(warm) > 6 * n_workers:
                    break
            t0 = time.perf_counter()
            ids = [submit() for _ in range(clients)]
            wait(ids, time.monotonic() + timeout)
            wall = time.perf_counter() - t0
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
        ok = 0
        for j in ids:
            job = store.job(j)
            got = {s.site_id: s.verdict for s in store.job_sites(j)}
            ok += int(job.status == "done" and got == expected)
    store.close()
    return {"workers": n_workers, "wall": wall, "per_min": clients / wall * 60, "ok": ok}


def queue_scaling(args: argparse.Namespace) -> int:
    """Durable-queue throughput with 1, 2, 4 … worker processes; ratio to 1 worker from the same run."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the throwaway-server helper the tests use
    from contextlib import nullcontext

    from pg_server import PG_SKIP_REASON, fresh_database, start_postgres

    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    with tempfile.TemporaryDirectory(prefix="ecozone-bench-queue-") as tmp:
        tmp_path = Path(tmp)
        _, expected = baseline(tmp_path)
        if not args.queue and PG_SKIP_REASON:
            print(f"no PostgreSQL: {PG_SKIP_REASON}")
            return 2
        server = nullcontext(args.queue) if args.queue else start_postgres(tmp_path / "pg")
        rows = []
        with server as url:
            for n in counts:
                rows.append(_queue_run(fresh_database(url) if not args.queue else url, tmp_path, n, args.clients, args.products, args.timeout, expected))
                print(f"  {n} worker(s): {rows[-1]['wall']:.1f} s", file=sys.stderr)
    first = next((r for r in rows if r["workers"] == 1), rows[0])
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; jobs {args.clients} × demo sites ({len(expected)}), products {args.products}")
    print("| worker processes | jobs | wall s | jobs/min | ratio vs 1 worker | correct |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['workers']} | {args.clients} | {r['wall']:.1f} | {r['per_min']:.1f} | {r['per_min'] / first['per_min']:.2f} | {r['ok']}/{args.clients} |")
    return 0 if all(r["ok"] == args.clients for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit 1 if any job is wrong or unfinished."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (ecozone serve --jobs)")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--single", action="store_true", help="interactive path: POST /api/check per drawn parcel")
    ap.add_argument("--zoning", default="", help="--single: zoning package (default: the demo)")
    ap.add_argument("--parcels", type=int, default=50, help="--single: parcels checked")
    ap.add_argument("--province", default="", help="--single: folder of the generated province (make_province.py output; made if absent)")
    ap.add_argument("--old", type=int, default=None, help="--single: parcels also run through the old job path (default 5; 0 with --province)")
    ap.add_argument("--type", default="工业", help="--single: project type")
    ap.add_argument("--facts", action="store_true", help="--single: ask for the per-layer facts too (the live page does not)")
    ap.add_argument("--target", type=float, default=None, help="--single: p95 target in seconds (0.3; 0.5 with --province)")
    ap.add_argument("--workers", default="", help="queue throughput with these worker-process counts, e.g. 1,2,4")
    ap.add_argument("--queue", default="", help="--workers: an existing postgresql:// queue database (default: a throwaway server)")
    ap.add_argument("--products", default="tables", help="--workers: files each job writes (ecozone worker --products)")
    args = ap.parse_args(argv)
    args.target_given = args.target is not None
    args.target = 0.3 if args.target is None else args.target
    if args.old is None:
        args.old = 0 if args.province else 5
    if args.workers:
        return queue_scaling(args)
    if args.single:
        return single(args)
    with tempfile.TemporaryDirectory(prefix="ecozone-bench-serve-") as tmp:
        tmp_path = Path(tmp)
        base_s, expected = baseline(tmp_path)
        with serving(ServeSettings(data_dir=tmp_path / "data", workers=args.jobs)) as base:
            body = demo_sites_path().read_bytes()
            # Warm the worker processes (imports, zoning load) so the figures show steady state.
            one_client(base, body, time.monotonic() + args.timeout)
            t0 = time.perf_counter()
            deadline = time.monotonic() + args.timeout
            running = threading.Event()
            running.set()
            page_times: list[float] = []

            def watch() -> None:  # the pages must stay responsive while the pool is busy
                import httpx

                with httpx.Client(base_url=base, timeout=60) as c:
                    while running.is_set() and len(page_times) < 2000:
                        t = time.perf_counter()
                        c.get("/history").raise_for_status()
                        page_times.append(time.perf_counter() - t)
                        time.sleep(0.5)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            with ThreadPoolExecutor(args.clients) as ex:
                results = list(ex.map(lambda _: one_client(base, body, deadline), range(args.clients)))
            wall = time.perf_counter() - t0
            running.clear()
            watcher.join(timeout=60)
    lat = sorted(r[0] for r in results)
    ok = sum(1 for _, v, st in results if st == "done" and v == expected)
    p50 = statistics.median(lat)
    p95 = _p95(lat)
    print(f"clients {args.clients}, worker processes {args.jobs}, sites per job {len(expected)}")
    print(f"correct: {ok}/{args.clients} (verdicts identical to the engine's)")
    print(f"latency submit→done: p50 {p50:.2f} s, p95 {p95:.2f} s, max {lat[-1]:.2f} s; wall {wall:.2f} s")
    print(f"baseline (one screening + all outputs, in process): {base_s:.2f} s; p50/baseline {p50 / base_s:.1f}x, "
          f"throughput {args.clients / wall:.2f} jobs/s vs {1 / base_s:.2f} jobs/s sequential")
    pages = sorted(page_times)
    print(f"/history during the run: {len(pages)} requests, p50 {statistics.median(pages) * 1000:.0f} ms, max {pages[-1] * 1000:.0f} ms")
    return 0 if ok == args.clients else 1


if __name__ == "__main__":
    sys.exit(main())
